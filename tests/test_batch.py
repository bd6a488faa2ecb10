"""Many files through the command: naming, globs, formats, resume, shards, collisions, bad
input and full disks in a batch, big TIFFs streamed (enhance.batch, through the command)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.cli import main

from .conftest import sha, smooth_rgb


def _img(path: Path, h: int = 12, w: int = 16, **save: object) -> Path:
    Image.fromarray(smooth_rgb(h, w)).save(path, **save)
    return path


def test_glob_and_naming(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _img(tmp_path / "a.jpg")
    _img(tmp_path / "b.jpg")
    rc = main(["--zoom=2", "--model=bicubic", str(tmp_path / "*.jpg")])
    assert rc == 0
    for stem in ("a", "b"):
        out = Image.open(tmp_path / f"{stem}_ne2x.png")
        assert out.size == (32, 24)


@pytest.mark.parametrize("zoom", [1, 3, 4])
def test_exact_size_no_cropping(tmp_path: Path, zoom: int) -> None:
    src = _img(tmp_path / "odd.png", 13, 17)
    assert main([f"--zoom={zoom}", "--model=lanczos", "-q", str(src)]) == 0
    assert Image.open(tmp_path / f"odd_ne{zoom}x.png").size == (17 * zoom, 13 * zoom)


@pytest.mark.parametrize("fmt,ext", [("tiff", ".tif"), ("jpeg", ".jpg"), ("webp", ".webp"), ("png", ".png")])
def test_formats_and_output_dir(tmp_path: Path, fmt: str, ext: str) -> None:
    src = _img(tmp_path / "x.png")
    out_dir = tmp_path / "out"
    assert main(["--model=bicubic", "-q", "--format", fmt, "--quality", "90", "--output", str(out_dir), str(src)]) == 0
    out = out_dir / f"x_ne2x{ext}"
    assert Image.open(out).size == (32, 24)


def test_skip_existing_resumes(tmp_path: Path) -> None:
    a = _img(tmp_path / "a.png")
    b = _img(tmp_path / "b.png")
    assert main(["--model=bicubic", "-q", str(a)]) == 0
    done = tmp_path / "a_ne2x.png"
    stamp = done.stat().st_mtime_ns
    assert main(["--model=bicubic", "-q", "--skip-existing", str(a), str(b)]) == 0
    assert done.stat().st_mtime_ns == stamp
    assert (tmp_path / "b_ne2x.png").exists()


def test_shards_split_a_batch_between_machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from enhance.batch import select_shard

    monkeypatch.chdir(tmp_path)
    names = [f"p{i:02d}.png" for i in range(12)]
    for n in names:
        _img(tmp_path / n, 6, 8)
    made: list[set[str]] = []
    for k in (1, 2, 3):
        before = {p.name for p in tmp_path.glob("*_ne2x.png")}
        assert main(["--model=bicubic", f"--shard={k}/3", "p??.png"]) == 0
        made.append({p.name for p in tmp_path.glob("*_ne2x.png")} - before)
        assert f"shard {k}/3: {len(made[-1])} of 12 files" in capsys.readouterr().err
    # every file done by exactly one shard, and not all by one
    assert sorted(set.union(*made)) == sorted(n.replace(".png", "_ne2x.png") for n in names)
    assert sum(len(m) for m in made) == 12 and max(len(m) for m in made) < 12
    # adding files never moves a file to another shard
    files = [Path(n) for n in names]
    more = files + [Path(f"q{i}.png") for i in range(30)]
    for k in (1, 2, 3):
        assert set(select_shard(files, k, 3)) == set(select_shard(more, k, 3)) & set(files)


def test_collision_is_an_error_not_an_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _img(tmp_path / "same.png")
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "same.jpg")
    rc = main(["--model=bicubic", "-q", str(tmp_path / "same.png"), str(tmp_path / "same.jpg")])
    err = capsys.readouterr().err
    assert rc == 1
    assert "same.jpg" in err and "would overwrite" in err
    assert Image.open(tmp_path / "same_ne2x.png").size == (32, 24)  # the first one's output


BAD_INPUTS = {
    "empty.png": b"",
    "text.jpg": b"hello, not an image\n",
    "trunc.png": None,  # filled in below
    "data.bin": bytes(range(256)) * 4,
}


def test_bad_inputs_in_a_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good1 = _img(tmp_path / "good1.png")
    good2 = _img(tmp_path / "good2.png")
    full = (tmp_path / "good1.png").read_bytes()
    bad = []
    for name, data in BAD_INPUTS.items():
        p = tmp_path / name
        p.write_bytes(full[: len(full) // 2] if data is None else data)
        bad.append(p)
    big = tmp_path / "bomb.png"
    Image.new("L", (400, 300)).save(big)
    bad.append(big)
    before = {p: sha(p) for p in bad + [good1, good2]}
    rc = main(["--model=bicubic", "-q", "--max-pixels", "100000", str(good1), *map(str, bad), str(good2),
               str(tmp_path / "missing.png"), str(tmp_path / "nomatch*.png")])
    err = capsys.readouterr().err
    assert rc == 1
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err
    for p in bad + [tmp_path / "missing.png"]:
        assert sum(p.name in ln for ln in lines) == 1, (p.name, lines)
    assert any("nomatch" in ln for ln in lines)
    assert (tmp_path / "good1_ne2x.png").exists() and (tmp_path / "good2_ne2x.png").exists()
    for p, h in before.items():
        assert sha(p) == h  # inputs untouched
    for p in bad:
        assert not (tmp_path / f"{p.stem}_ne2x.png").exists()
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_full_disk_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    a = _img(tmp_path / "a.png")
    b = _img(tmp_path / "b.png")
    real_save = Image.Image.save
    calls = {"n": 0}

    def flaky_save(self: Image.Image, fp: object, *args: object, **kw: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            Path(str(fp)).write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(self, fp, *args, **kw)

    monkeypatch.setattr(Image.Image, "save", flaky_save)
    rc = main(["--model=bicubic", "-q", str(a), str(b)])
    err = capsys.readouterr().err
    assert rc == 1 and "disk full" in err and "a.png" in err
    assert not (tmp_path / "a_ne2x.png").exists()
    assert (tmp_path / "b_ne2x.png").exists()
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_big_tiff_streams_with_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, srgb_icc: bytes) -> None:
    import tifffile

    import enhance.batch

    monkeypatch.setattr(enhance.batch, "STREAM_PIXELS", 100)  # treat this tiny image as huge
    src = _img(tmp_path / "big.png", 30, 40, dpi=(200, 200), icc_profile=srgb_icc)
    assert main(["--model=bicubic", "-q", "--format", "tiff", "--rendering-tile", "16", str(src)]) == 0
    out = tmp_path / "big_ne2x.tif"
    with tifffile.TiffFile(out) as tf:
        assert tf.pages[0].shape == (60, 80, 3)
    im = Image.open(out)
    assert tuple(round(float(v)) for v in im.info["dpi"]) == (400, 400)
    assert im.info.get("icc_profile") == srgb_icc
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_a_name_with_brackets_is_that_file(tmp_path: Path) -> None:
    """``[a].png`` exists: it is that file, not the glob that matches ``a.png``."""
    literal = _img(tmp_path / "[a].png", 10, 10)
    other = _img(tmp_path / "a.png", 6, 6)
    assert main(["--model=bicubic", "-q", str(literal)]) == 0
    assert Image.open(tmp_path / "[a]_ne2x.png").size == (20, 20)
    assert not (tmp_path / "a_ne2x.png").exists() and other.exists()
    assert main(["--model=bicubic", "-q", str(tmp_path / "[b].png")]) == 1  # names nothing: a glob, which matches nothing
