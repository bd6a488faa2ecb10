"""Retina asset sets: the files, their sizes and formats, srcset.html, manifest.json, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from enhance.cli import main
from enhance.errors import UsageError
from enhance.retina import RetinaOptions, parse_densities, parse_print_width

from .conftest import smooth_rgb


def _src(path: Path, h: int = 30, w: int = 40, **save: object) -> Path:
    Image.fromarray(smooth_rgb(h, w)).save(path, **save)
    return path


def test_a_set_per_input_with_srcset_and_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _src(tmp_path / "fig1.png")
    b = _src(tmp_path / "fig2.png", 20, 50)
    out = tmp_path / "web"
    assert main(["--retina", "--model=bicubic", "-o", str(out), str(a), str(b)]) == 0
    assert "enhance: 2 sets made, 0 failed" in capsys.readouterr().err
    for stem, (w, h) in (("fig1", (40, 30)), ("fig2", (50, 20))):
        for d in (1, 2, 3):
            for ext, fmt in ((".webp", "WEBP"), (".jpg", "JPEG")):
                f = out / f"{stem}{'' if d == 1 else f'@{d}x'}{ext}"
                with Image.open(f) as im:
                    assert im.size == (w * d, h * d) and im.format == fmt
    page = (out / "srcset.html").read_text()
    assert page.count("<picture>") == 2 and 'type="image/webp"' in page
    assert 'srcset="fig1.jpg 1x, fig1@2x.jpg 2x, fig1@3x.jpg 3x"' in page and 'width="40" height="30" alt=""' in page
    doc = json.loads((out / "manifest.json").read_text())
    assets = doc["images"][0]["assets"]
    assert len(assets) == 6 and {a["quality"] for a in assets} == {80}
    made = {a["density"]: a["made"] for a in assets}
    assert made[1] == "the source's pixels" and made[2] == "bicubic x2" and made[3] == "bicubic x3"
    assert all(a["bytes"] == (out / a["file"]).stat().st_size for a in assets)


def test_css_width_downscales_where_the_source_has_the_pixels(tmp_path: Path) -> None:
    src = _src(tmp_path / "wide.png", 60, 120)
    out = tmp_path / "o"
    assert main(["--retina", "--model=bicubic", "-q", "--css-width", "50", "--densities", "1,2,2.4",
                 "--formats", "jpeg", "-o", str(out), str(src)]) == 0
    made = {a["density"]: (a["width"], a["height"], a["made"])
            for a in json.loads((out / "manifest.json").read_text())["images"][0]["assets"]}
    assert made[1] == (50, 25, "Lanczos-3 from 120x60") and made[2] == (100, 50, "Lanczos-3 from 120x60")
    assert made[2.4] == (120, 60, "the source's pixels")  # exactly the source's width
    assert main(["--retina", "--model=bicubic", "-q", "--css-width", "50", "--densities", "3", "--formats", "jpeg",
                 "-o", str(out), str(src)]) == 0
    (asset,) = json.loads((out / "manifest.json").read_text())["images"][0]["assets"]
    assert (asset["width"], asset["made"]) == (150, "bicubic x2, then Lanczos-3 to 150x75")  # x1.25 by the x2 model


def test_print_width_uses_the_dpi(tmp_path: Path) -> None:
    src = _src(tmp_path / "p.png", dpi=(100, 100))
    out = tmp_path / "o"
    assert main(["--retina", "--model=bicubic", "-q", "--print-width", "0.2in", "--densities", "1", "--formats", "webp",
                 "-o", str(out), str(src)]) == 0
    assert Image.open(out / "p.webp").size == (20, 15)
    assert parse_print_width("2.54cm") == pytest.approx(1.0) and parse_print_width("25.4mm") == pytest.approx(1.0)
    nodpi = _src(tmp_path / "nodpi.png")
    assert main(["--retina", "--model=bicubic", "-q", "--print-width", "1in", "-o", str(out), str(nodpi)]) == 1


def test_a_density_beyond_x4_is_warned_or_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(tmp_path / "s.png", 8, 8)
    out = tmp_path / "o"
    assert main(["--retina", "--model=bicubic", "--densities", "5", "--formats", "jpeg", "-o", str(out), str(src)]) == 0
    assert "more than the models' x4: made with x4 and Lanczos" in capsys.readouterr().err
    assert Image.open(out / "s@5x.jpg").size == (40, 40)
    assert main(["--retina", "--model=bicubic", "--strict", "--densities", "5", "--formats", "jpeg", "-o",
                 str(tmp_path / "strict"), str(src)]) == 0
    assert "skipped (--strict)" in capsys.readouterr().err and not (tmp_path / "strict" / "s@5x.jpg").exists()


def test_bad_values_are_usage_errors_and_a_bad_file_fails_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(tmp_path / "ok.png")
    for flags in (["--densities", "0,2"], ["--densities", "two"], ["--css-width", "0"], ["--print-width", "4 miles"],
                  ["--formats", "gif"]):
        assert main(["--retina", "--model=bicubic", "-o", str(tmp_path / "x"), *flags, str(src)]) == 2, flags
    capsys.readouterr()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "o"
    assert main(["--retina", "--model=bicubic", "-q", "--formats", "jpeg", "-o", str(out), str(bad), str(src)]) == 1
    assert "bad.png" in capsys.readouterr().err
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["images"][0]["error"] and len(doc["images"][1]["assets"]) == 3
    assert parse_densities("3,1,2") == (1, 2, 3)
    with pytest.raises(UsageError):
        RetinaOptions(densities=())
    assert not [f for f in (out).iterdir() if ".tmp" in f.name]


def test_a_set_never_overwrites_an_input_or_another_inputs_set(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # -o . over a folder of JPEGs: the 1x asset of a.jpg is a.jpg itself
    a = _src(tmp_path / "a.jpg", quality=90)
    b, b2 = _src(tmp_path / "b.png"), _src(tmp_path / "b.bmp")  # both would make b.jpg, b@2x.jpg, ...
    before = {p: p.read_bytes() for p in (a, b, b2)}
    assert main(["--retina", "--model=bicubic", "-q", "--formats", "jpeg", "-o", str(tmp_path), str(a), str(b), str(b2)]) == 1
    err = capsys.readouterr().err
    assert "a.jpg is one of the inputs" in err and "would overwrite the output of" in err and "b.bmp" in err
    assert {p: p.read_bytes() for p in (a, b, b2)} == before
    doc = json.loads((tmp_path / "manifest.json").read_text())
    assert [(i["source"].split("/")[-1], len(i["assets"]), bool(i["error"])) for i in doc["images"]] == \
        [("a.jpg", 0, True), ("b.png", 3, False), ("b.bmp", 0, True)]


def test_keep_tree_gives_figures_of_one_name_in_two_chapters_their_own_folders(tmp_path: Path,
                                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A book's chapters each hold a fig1.png: gathered flat they clash (refused, with the way
    out), under --keep-tree each set goes into its chapter's folder, and srcset.html, the
    manifest and the report point into those folders."""
    import html
    import re
    import urllib.parse

    for ch in ("ch1", "ch2"):
        (tmp_path / "book" / ch).mkdir(parents=True)
        _src(tmp_path / "book" / ch / "fig1.png", 30, 40 if ch == "ch1" else 50)
    files = [str(tmp_path / "book" / ch / "fig1.png") for ch in ("ch1", "ch2")]
    assert main(["--retina", "--model=bicubic", "-q", "--formats", "jpeg", "-o", str(tmp_path / "flat"), *files]) == 1
    assert "add --keep-tree to mirror their folders" in capsys.readouterr().err
    out = tmp_path / "web"
    assert main(["--retina", "--keep-tree", "--model=bicubic", "--formats", "webp,jpeg", "-o", str(out),
                 "--report", str(tmp_path / "r.html"), *files]) == 0
    assert "ch2/fig1.png -> " + str(out / "ch2") in capsys.readouterr().err
    for ch, w in (("ch1", 40), ("ch2", 50)):
        with Image.open(out / ch / "fig1@2x.jpg") as im:
            assert im.size == (2 * w, 60)
    page = (out / "srcset.html").read_text()
    urls = [u for attr in re.findall(r'(?:src|srcset)="([^"]*)"', page)
            for u in (c.strip().split(" ")[0] for c in html.unescape(attr).split(","))]
    assert {u.split("/")[0] for u in urls} == {"ch1", "ch2"} and all((out / urllib.parse.unquote(u)).is_file() for u in urls)
    doc = json.loads((out / "manifest.json").read_text())
    assert [i["folder"] for i in doc["images"]] == ["ch1", "ch2"]
    assert "ch2/fig1@3x.jpg" in (tmp_path / "r.html").read_text()


def test_srcset_addresses_survive_spaces_and_hashes_in_file_names(tmp_path: Path) -> None:
    """A space splits a srcset candidate and ``#`` starts a fragment: the addresses are
    percent-encoded, and each decodes to the file written."""
    import re
    import urllib.parse

    src = _src(tmp_path / "Fig 1 #a été.png")
    out = tmp_path / "web"
    assert main(["--retina", "--model=bicubic", "-q", "--formats", "jpeg", "-o", str(out), str(src)]) == 0
    page = (out / "srcset.html").read_text()
    srcset = re.search(r'srcset="([^"]*)"', page)[1]  # type: ignore[index]
    cands = [c.strip().split(" ") for c in srcset.split(",")]
    assert [len(c) for c in cands] == [2, 2, 2] and [c[1] for c in cands] == ["1x", "2x", "3x"]
    assert all(" " not in c[0] and "#" not in c[0] for c in cands)
    assert [urllib.parse.unquote(c[0]) for c in cands] == ["Fig 1 #a été.jpg", "Fig 1 #a été@2x.jpg", "Fig 1 #a été@3x.jpg"]
    assert all((out / urllib.parse.unquote(c[0])).is_file() for c in cands)


def test_a_profile_of_another_colour_space_on_rgb_pixels_is_assumed_srgb(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import ImageCms

    # an RGB picture tagged with a Lab profile: the transform to sRGB cannot be built (it failed the set
    # with a traceback, "unexpected error" on the server)
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    src = _src(tmp_path / "tagged.png", icc_profile=lab)
    out = tmp_path / "o"
    assert main(["--retina", "--model=bicubic", "--formats", "jpeg", "-o", str(out), str(src)]) == 0
    err = capsys.readouterr().err
    assert "does not describe RGB pixels: assumed sRGB" in err and "enhance: 1 set made, 0 failed" in err
    assert Image.open(out / "tagged@2x.jpg").size == (80, 60)


def test_skip_existing_skips_a_whole_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(tmp_path / "a.png")
    out = tmp_path / "o"
    args = ["--retina", "--model=bicubic", "--formats", "jpeg", "-o", str(out), str(src)]
    assert main(args) == 0
    before = (out / "a@3x.jpg").stat().st_mtime_ns
    assert main([*args, "--skip-existing"]) == 0
    assert "its set exists" in capsys.readouterr().err and (out / "a@3x.jpg").stat().st_mtime_ns == before


def test_verdict_bands_and_scores() -> None:
    import numpy as np

    from enhance.quality import psnr, ssimulacra2, verdict

    assert [verdict(s) for s in (95, 90, 75, 55, 10)] == ["visually lossless", "visually lossless", "high", "medium", "low"]
    a = smooth_rgb(40, 48)
    assert psnr(a, a) == 99.0 and ssimulacra2(a, a) > 99.0
    noisy = np.clip(a.astype(int) + np.random.default_rng(0).integers(-40, 40, a.shape), 0, 255).astype(np.uint8)
    assert ssimulacra2(a, noisy) < 90.0 and psnr(a, noisy) < 30.0
    with pytest.raises(UsageError):
        ssimulacra2(a, a[:20])


def test_the_pipeline_check_scores_each_asset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from enhance.retina import check_pipeline, web_decode, web_encode

    src = _src(tmp_path / "f.png", 24, 32)
    out = tmp_path / "o"
    assert main(["--retina", "--model=bicubic", "--pipeline-check", "--densities", "1,2", "--formats", "webp,jpeg",
                 "-o", str(out), str(src)]) == 0
    err = capsys.readouterr().err
    assert "2x: " in err and "after WebP 80" in err and "after JPEG 80" in err
    for a in json.loads((out / "manifest.json").read_text())["images"][0]["assets"]:
        p = a["pipeline"]
        assert p["format"] == a["format"] and p["quality"] == 80 and 0 < p["ssimulacra2"] <= 100
        assert (p["vs_plain_before"] is None) == (a["density"] == 1)  # at 1x nothing was enhanced
        if p["verdict"] in ("high", "visually lossless"):  # 80 keeps it high: the smallest such is 80 or less
            assert p["smallest_high_quality"] is not None and p["smallest_high_quality"] <= 80
            assert p["smallest_high_bytes"] > 0
    master = web_decode(web_encode(smooth_rgb(24, 32), "webp", 100))
    check = check_pipeline(master, None, "jpeg", 95)
    assert check.verdict in ("visually lossless", "high") and not check.erased and check.vs_plain_after is None
    assert "1x: " in check.sentence(1)


def test_descreening_runs_once_for_every_density(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--type=print with densities 2 and 3: the descreener (x1) runs once, on the source."""
    import enhance.retina as retina

    calls: list[int] = []
    real = retina.upscale_pixels

    def counting(pixels, layout, model, *a, **kw):  # type: ignore[no-untyped-def]
        calls.append(model.scale)
        return real(pixels, layout, model, *a, **kw)

    monkeypatch.setattr(retina, "upscale_pixels", counting)
    src = _src(tmp_path / "scan.png", 48, 64)
    assert main(["--retina", "--model=bicubic", "--type=print", "-q", "--densities", "2,3", "--formats", "jpeg",
                 "-o", str(tmp_path / "o"), str(src)]) == 0
    assert sorted(calls) == [1, 2, 3]  # the descreener once, then each zoom's model


def test_a_large_master_streams_and_gives_the_same_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above STREAM_PIXELS the model's output goes to a raw TIFF, read back by libvips row by row:
    the same files (nearly: libvips reduces where the in-memory path does too), no temporary left."""
    import numpy as np

    import enhance.batch

    src = _src(tmp_path / "big.png", 30, 40)
    args = ["--retina", "--model=bicubic", "-q", "--densities", "1,2,2.5", "--formats", "webp,jpeg", str(src)]
    assert main([*args, "-o", str(tmp_path / "mem")]) == 0
    monkeypatch.setattr(enhance.batch, "STREAM_PIXELS", 100)  # treat this tiny image as huge
    assert main([*args, "-o", str(tmp_path / "stream")]) == 0
    for name in ("big@2x.jpg", "big@2.5x.webp", "big.jpg"):
        a = np.asarray(Image.open(tmp_path / "mem" / name).convert("RGB"), np.int16)
        b = np.asarray(Image.open(tmp_path / "stream" / name).convert("RGB"), np.int16)
        assert a.shape == b.shape and np.abs(a - b).mean() < 3.0, name
    assert not [f for f in (tmp_path / "stream").iterdir() if ".tmp" in f.name]


def test_a_reference_scores_the_assets_against_a_better_original(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    hr = smooth_rgb(48, 64, seed=2)
    Image.fromarray(hr).save(tmp_path / "original.png")
    Image.fromarray(hr).resize((32, 24), Image.Resampling.BICUBIC).save(tmp_path / "scan.png")  # the small copy we have
    out = tmp_path / "o"
    assert main(["--retina", "--model=bicubic", "--pipeline-check", "--reference", str(tmp_path / "original.png"),
                 "--densities", "2", "--formats", "jpeg", "-o", str(out), str(tmp_path / "scan.png")]) == 0
    assert "against the reference SSIMULACRA2" in capsys.readouterr().err
    (asset,) = json.loads((out / "manifest.json").read_text())["images"][0]["assets"]
    ref = asset["pipeline"]["reference"]
    assert set(ref) == {"enhanced_ssimulacra2", "lanczos_ssimulacra2", "enhanced_psnr", "lanczos_psnr"}
    assert all(np.isfinite(v) for v in ref.values())
    assert main(["--retina", "--model=bicubic", "--reference", str(tmp_path / "original.png"), "-o", str(out),
                 str(tmp_path / "scan.png")]) == 2  # without --pipeline-check: a usage error


def test_max_pixels_guards_the_retina_inputs_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(tmp_path / "a.png", 30, 40)
    assert main(["--retina", "--model=bicubic", "--max-pixels", "100", "-o", str(tmp_path / "o"), str(src)]) == 1
    assert "a.png" in capsys.readouterr().err and not list((tmp_path / "o").glob("a*.jpg"))
