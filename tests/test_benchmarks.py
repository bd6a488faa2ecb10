"""The benchmark harness: MATLAB imresize, metrics, and a quick end-to-end run on tiny images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.metrics import psnr_y, rgb_to_y, ssim_y
from benchmarks.protocol import BENCH_DIR, load_bench, make_lr, score_sr, summarize
from enhance.resize import imresize

from .conftest import smooth_rgb


def test_constant_stays_constant() -> None:
    x = np.full((24, 36, 3), 117.0)
    for s in (0.5, 1 / 3, 0.25, 2.0):
        assert np.abs(imresize(x, s) - 117.0).max() < 1e-9


def test_edges_symmetric() -> None:
    x = np.random.default_rng(0).random((30, 42))
    a = imresize(x[:, ::-1], 0.5)
    b = imresize(x, 0.5)[:, ::-1]
    assert np.allclose(a, b)
    assert np.allclose(imresize(x[::-1], 1 / 3), imresize(x, 1 / 3)[::-1])


def test_matlab_known_values() -> None:
    # a ramp shrinks to the ramp sampled at the new pixel centres (interior, antialiased cubic)
    x = np.arange(16, dtype=np.float64)[None, :].repeat(4, 0)
    y = imresize(x, output_shape=(4, 8))
    assert np.allclose(y[0, 2:6], [4.5, 6.5, 8.5, 10.5])


def test_metrics_sane() -> None:
    a = smooth_rgb(40, 40)
    assert psnr_y(a, a, 2) == float("inf")
    assert abs(ssim_y(a, a, 2) - 1.0) < 1e-12
    assert np.isclose(rgb_to_y(np.array([[[255, 255, 255]]]))[0, 0], 235.0)
    b = np.clip(a.astype(int) + 5, 0, 255).astype(np.uint8)
    assert 20 < psnr_y(b, a, 2) < 40


@pytest.mark.skipif(not BENCH_DIR.exists(), reason="the shared bench set is not beside the checkout")
def test_reproduces_bench_md_reference_figures() -> None:
    from benchmarks.methods import pillow

    images = load_bench()
    assert len(images) == 12
    assert abs(summarize(score_sr(pillow("bicubic"), images, 2))["mean"] - 29.38) < 0.02
    assert abs(summarize(score_sr(pillow("lanczos"), images, 2))["mean"] - 29.79) < 0.02


def test_quick_run_writes_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    bench = tmp_path / "bench"
    bench.mkdir()
    manifest = []
    for i, cat in enumerate(["photo", "line art", "scanned text page"]):
        Image.fromarray(smooth_rgb(24, 36, seed=i)).save(bench / f"im{i}.png")
        manifest.append({"name": f"im{i}", "file": f"im{i}.png", "category": cat})
    (bench / "MANIFEST.json").write_text(json.dumps(manifest))
    import benchmarks.protocol as protocol

    monkeypatch.setattr(protocol, "BENCH_DIR", bench)
    monkeypatch.setattr("benchmarks.__main__.load_bench", lambda names=None: protocol.load_bench(bench, names))
    from benchmarks.__main__ import main

    out, md, plot = tmp_path / "r.json", tmp_path / "B.md", tmp_path / "p.png"
    rc = main(["run", "--models", "bicubic,lanczos,pil-bicubic", "--scales", "2", "3", "--tracks", "sr", "--no-speed",
               "--out", str(out), "--markdown", str(md), "--plot", str(plot)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert set(res["sr"]) == {"bicubic", "lanczos", "pil-bicubic"}
    assert res["sr"]["lanczos"]["x2"]["psnr"]["mean"] > 20
    assert "line art" in res["sr"]["bicubic"]["x2"]["psnr"]
    text = md.read_text()
    assert "x3 super-resolution" in text and "lanczos" in text
    lr = make_lr(smooth_rgb(24, 36), 3)
    assert lr.shape == (8, 12, 3) and lr.dtype == np.uint8


def test_print_track_scores_baselines_on_a_tiny_bench() -> None:
    """The print track runs end to end on tiny images; the scores mean what they say: blurring
    a screened scan beats the raw scan, and removes energy at the screen frequency."""
    from scipy.ndimage import gaussian_filter

    from benchmarks.printtrack import (GAUSS_SIGMAS, PRINT_SETTINGS, best_of, gaussian, notch, score,
                                       screen_energy, simulate)
    from benchmarks.protocol import BenchImage

    rng = np.random.default_rng(3)
    pics = [np.clip(127 + gaussian_filter(rng.standard_normal((96, 96, 3)), (6, 6, 0)) * 900, 0, 255).astype(np.uint8)
            for _ in range(2)]
    images = [BenchImage(f"t{i}", "photo", p) for i, p in enumerate(pics)]
    case = PRINT_SETTINGS[0]
    scan, truth = simulate(images[0], case, 0)
    assert scan.shape == truth.shape == pics[0].shape
    raw = score(lambda s: s, images, case)
    sigma, blurred = best_of(gaussian, GAUSS_SIGMAS, images, case)
    assert sigma in GAUSS_SIGMAS
    assert np.mean([r["psnr"] for r in blurred]) > np.mean([r["psnr"] for r in raw]) + 3
    assert blurred[0]["screen_db"] < raw[0]["screen_db"] - 6
    notched = score(notch, images, case)
    assert notched[0]["screen_db"] < raw[0]["screen_db"]
    assert screen_energy(truth, truth, case) < -100  # no error, no energy
    fm = next(c for c in PRINT_SETTINGS if c.settings.screen == "fm")
    assert screen_energy(scan, truth, fm) is None


def test_jpeg_track_runs_the_command_rule_on_a_tiny_bench(tmp_path: Path) -> None:
    """The JPEG track reads each quality back from the encoded file and, for the auto row,
    applies the command's rule: the JPEG treatment at quality 30 (the chain, below the x2
    variant's band), the x2 model alone at 95."""
    from benchmarks.jpegtrack import QUALITIES, run_track
    from benchmarks.protocol import BenchImage
    from benchmarks.report import jpeg_tables

    images = [BenchImage("t", "photo", smooth_rgb(48, 40, seed=2))]
    track = run_track(images, with_peers=False)
    assert list(track) == [f"q{q}" for q in QUALITIES]
    assert track["q30"]["estimated_quality"] == [30] and track["q95"]["estimated_quality"] == [95]

    def mean(q: int, name: str) -> float:
        return float(np.mean([r["psnr"] for r in track[f"q{q}"]["methods"][name]]))

    from enhance.treatment import VARIANT_QUALITIES

    # the variant within its band of qualities, the repair chain below it (and without a variant)
    in_band = "default jpeg variant" in track["q30"]["methods"] and VARIANT_QUALITIES[2][0] <= 30
    treated = "default jpeg variant" if in_band else "repair + default"
    assert mean(30, "default, --repair auto") == mean(30, treated)
    assert mean(95, "default, --repair auto") == mean(95, "default")
    assert mean(30, "default, --repair auto") != mean(30, "default")
    lines = jpeg_tables({"jpeg": track})
    assert any(ln.startswith("| default, --repair auto |") for ln in lines)


def test_jpeg_track_at_x3_scores_psnr_and_ssimulacra2_and_draws_its_own_table(tmp_path: Path) -> None:
    """At x3 the track reduces by three, scores the enlargements at the HR's size with a 3 px
    border and SSIMULACRA2 beside PSNR, runs the x3 command rule (the repair chain at quality 30,
    below the x3 JPEG variant's band; the variant at 70; the model alone at 95), and the report draws
    a table of its own whose cells carry both scores; the strokes sheet has a panel per method."""
    from PIL import Image

    from benchmarks.jpegtrack import run_track
    from benchmarks.protocol import BenchImage
    from benchmarks.report import jpeg_tables
    from enhance.models.registry import has_variant

    images = [BenchImage("t", "photo", smooth_rgb(72, 66, seed=4)),
              BenchImage("huckfinn_scan", "scan/text", smooth_rgb(600, 300, seed=1))]
    track = run_track(images, with_peers=True, scale=3, sheets=str(tmp_path))
    methods = track["q30"]["methods"]
    assert not any(n.startswith("waifu2x") for n in methods)  # waifu2x has no x3
    row = methods["default"][0]
    assert isinstance(row["ssimulacra2"], float) and row["ssimulacra2"] < 100
    # the command's x3 rule: below the variant's band the chain, within it the variant
    assert methods["default, --repair auto"][0]["psnr"] == methods["repair + default"][0]["psnr"]
    assert methods["default, --repair auto"][0]["psnr"] != methods["default"][0]["psnr"]
    assert has_variant("default", 3, "jpeg")
    in_band = track["q70"]["methods"]
    assert in_band["default, --repair auto"][0]["psnr"] == in_band["default jpeg variant"][0]["psnr"]
    assert track["q95"]["methods"]["default, --repair auto"][0]["psnr"] == track["q95"]["methods"]["default"][0]["psnr"]
    lines = jpeg_tables({"jpeg_x3": track}, "jpeg_x3")
    assert lines[0].startswith("### JPEG track: small JPEGs enlarged x3")
    auto = next(ln for ln in lines if ln.startswith("| default, --repair auto |"))
    assert auto.count(" / ") == len(track)  # PSNR / SSIMULACRA2 in every quality's cell
    sheet = Image.open(tmp_path / "jpeg_x3_huckfinn_scan.png")
    assert sheet.width == (2 + len(methods)) * (2 * 200 + 4)  # the original, the JPEG and each method


def test_aliased_track_reduces_four_ways_and_scores_each_method(tmp_path: Path) -> None:
    """The aliased track's LRs: the protocol's, a box mean, point samples (which keep a pattern
    at the LR's Nyquist at full contrast) and the held-out scanner (which softens it, but far
    less than the box); every method is scored on each at x2 and x3, the sheet drawn, and the
    report's table has a row per method, a typed model under its --type."""
    from PIL import Image

    from benchmarks.aliasedtrack import KERNELS, methods, reduce, run_track
    from benchmarks.protocol import BenchImage
    from benchmarks.report import aliased_table

    hr = smooth_rgb(72, 48, seed=3)
    for scale in (2, 3):
        assert {reduce(hr, k, scale).shape for k in KERNELS} == {(72 // scale, 48 // scale, 3)}
    stripes = np.zeros((16, 16, 3), np.uint8)
    stripes[:, 1::4] = stripes[:, 2::4] = 255
    point, box, scan = (float(reduce(stripes, k)[..., 0].std()) for k in ("point", "box", "scanner"))
    assert point > 100 and box < 1 and 10 < scan < point
    images = [BenchImage("huckfinn_scan", "scan/text", smooth_rgb(600, 300, seed=1)), BenchImage("t", "photo", hr)]
    track = run_track(images, methods([]), str(tmp_path))
    assert list(track) == list(KERNELS)
    for k in KERNELS:
        assert set(track[k]) == {"pil-bicubic", "pil-lanczos"} and len(track[k]["pil-bicubic"]) == 2
    # the same method, other LRs: other scores
    assert track["point"]["pil-bicubic"][1]["psnr"] != track["matlab"]["pil-bicubic"][1]["psnr"]
    sheet = Image.open(tmp_path / "aliased_huckfinn_scan.png")
    assert sheet.width == 4 * (2 * 200 + 4)  # original, the LR and two methods
    lines = aliased_table({"aliased": track})
    assert any(ln.startswith("| pil-lanczos |") for ln in lines)
    x3 = run_track(images[1:], methods(["bicubic:aliased"], scale=3), None, scale=3)
    assert set(x3["scanner"]) == {"pil-bicubic", "pil-lanczos", "bicubic --type=aliased"}
    lines = aliased_table({"aliased_x3": x3}, "aliased_x3")
    assert lines[0] == "### Aliased track: x3 from LR that was never antialiased"
    assert any(ln.startswith("| bicubic --type=aliased |") for ln in lines)


def test_passthrough_sheet_shows_the_engraving_crop(tmp_path: Path) -> None:
    from PIL import Image

    from benchmarks.printtrack import passthrough_sheet
    from benchmarks.protocol import BenchImage

    images = [BenchImage("huckfinn_scan", "scan/text", smooth_rgb(600, 300, seed=1))]
    out = tmp_path / "sheet.png"
    passthrough_sheet(images, {"same": lambda x: x, "dark": lambda x: x // 2}, str(out))
    sheet = Image.open(out)
    assert sheet.height == 2 * 160 + 18 and sheet.width == 3 * (2 * 200 + 4)  # input + two methods, 2x
    passthrough_sheet([], {"same": lambda x: x}, str(tmp_path / "none.png"))
    assert not (tmp_path / "none.png").exists()


def test_fault_injection_finds_no_partial_output_and_no_leak(tmp_path: Path) -> None:
    """A few runs killed at random moments and resumed: no output under its final name is
    partial, no temporary survives the resume, and the resumed outputs are the reference's."""
    from benchmarks.faults import kill_and_resume

    r = kill_and_resume(tmp_path / "kill", trials=4, files=3, model="bicubic", seed=1)
    assert r["partial_outputs"] == 0 and r["leaks_after_resume"] == 0 and r["resume_complete"] is True


def test_retina_track_scores_both_before_and_after_each_encoder() -> None:
    from benchmarks.protocol import BenchImage
    from benchmarks.retinatrack import PIPELINE, run_track

    track = run_track([BenchImage("t", "photo", smooth_rgb(48, 60, seed=4))], scales=(2,))
    (row,) = track["x2"]  # type: ignore[index]
    assert set(row) == {"image", "class", "none"} | {f"{f}{q}" for f, q in PIPELINE}
    for key in ("none", "jpeg80"):
        s = row[key]
        assert all(np.isfinite(v) for v in s.values()) and s["enhance_psnr"] > 20 and 0 < s["lanczos_ssimulacra2"] <= 100


def test_unseen_track_reads_its_wheels_images_and_scores_each_scale(tmp_path: Path) -> None:
    """The unseen track takes its images out of the cached wheels (nothing downloaded when they
    are there), composites alpha over white, cuts sides to a multiple of 12 and scores each
    method at the scales it offers."""
    import zipfile

    from PIL import Image

    from benchmarks import unseen
    from benchmarks.methods import pillow

    rng = np.random.default_rng(3)
    for spec in unseen.WHEELS:  # one fake wheel per pinned package, named as pip names them
        name, version = spec.split("==")
        with zipfile.ZipFile(tmp_path / f"{name.replace('-', '_')}-{version}-py3-none-any.whl", "w") as z:
            for member, _n, _k in unseen.IMAGES:
                if member.split("/")[0] != {"scikit-image": "skimage", "matplotlib": "matplotlib",
                                            "scikit-learn": "sklearn"}[name]:
                    continue
                rgba = rng.integers(0, 256, (50, 61, 4), dtype=np.uint8)
                rgba[..., 3] = 0  # fully transparent: white once composited
                rgba[:10, :, 3] = 255
                buf = tmp_path / "x.png"
                Image.fromarray(rgba).save(buf)
                z.write(buf, member)
    folder = unseen.fetch(tmp_path)
    images = unseen.load_unseen(folder)
    assert [im.name for im in images] == [n for _m, n, _k in unseen.IMAGES]
    for im in images:
        assert im.hr.shape == (48, 60, 3) and im.hr.dtype == np.uint8
        assert (im.hr[12:] == 255).all()  # the transparent part is white
    track = unseen.run_track(images[:3], {"bicubic": pillow("bicubic")}, (1, 2, 4))
    assert set(track["bicubic"]) == {"x1", "x2", "x4"}
    assert np.isfinite(track["bicubic"]["x2"]["psnr"]["mean"])
    # x1 is the repair track: a method that hands back the damaged file gains nothing
    assert all(abs(g["mean"]) < 1e-9 for g in track["bicubic"]["x1"]["gain"].values())


def test_fine_track_finds_300_dpi_screens_at_their_period_and_the_command_beats_the_scan() -> None:
    """The fine-screen track on two small pictures: every setting is a 300 dpi scan of a
    133-175 lpi print; the detector's record and each way's score are there, and what the
    command does comes closer to the print without its screen than the scan itself."""
    from scipy.ndimage import gaussian_filter

    from benchmarks import finetrack
    from benchmarks.metrics import psnr_y
    from benchmarks.protocol import BenchImage

    rng = np.random.default_rng(4)
    pics = [np.clip(127 + gaussian_filter(rng.standard_normal((128, 128, 3)), (6, 6, 0)) * 900, 0, 255).astype(np.uint8)
            for _ in range(2)]
    images = [BenchImage(f"t{i}", "photo", p) for i, p in enumerate(pics)]
    track = finetrack.run_track(images)
    assert set(track) == set(finetrack.SETTINGS)
    for key, row in track.items():
        assert all(s.period < 2.5 for *_x, s in [finetrack.SETTINGS[key]])
        assert row["of"] == 2 and 0 <= row["at_its_period"] <= row["found"] <= 2
        methods = row["methods"]
        assert {"the command (--type=print)", "the command (--auto)"} <= set(methods)
        scan, clean = finetrack.simulate(key, images[0], 0)
        raw = np.mean([psnr_y(finetrack.simulate(key, im, i)[0], finetrack.simulate(key, im, i)[1], 4)
                       for i, im in enumerate(images)])
        assert scan.shape == clean.shape == pics[0].shape
        assert methods["the command (--type=print)"]["psnr"] > raw
