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
    assert "same.jpg" in err and "would overwrite" in err and "rename one of them" in err
    assert "--keep-tree" not in err  # one folder: only a new name helps
    assert Image.open(tmp_path / "same_ne2x.png").size == (32, 24)  # the first one's output
    # one name in two folders gathered into one output folder: --keep-tree keeps them apart
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        _img(tmp_path / d / "page.png")
    rc = main(["--model=bicubic", "-q", "-o", str(tmp_path / "out"), str(tmp_path / "a" / "page.png"),
               str(tmp_path / "b" / "page.png")])
    assert rc == 1 and "--keep-tree" in capsys.readouterr().err
    assert main(["--model=bicubic", "-q", "--keep-tree", "-o", str(tmp_path / "kept"), str(tmp_path / "a" / "page.png"),
                 str(tmp_path / "b" / "page.png")]) == 0
    assert sorted(p.parent.name for p in (tmp_path / "kept").rglob("page_ne2x.png")) == ["a", "b"]


@pytest.mark.parametrize("quality", ["0", "101", "high"])
def test_quality_outside_1_to_100_is_refused_not_clamped(tmp_path: Path, quality: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _img(tmp_path / "a.png")
    with pytest.raises(SystemExit) as exc:
        main(["--model=bicubic", "--format=jpeg", f"--quality={quality}", str(tmp_path / "a.png")])
    assert exc.value.code == 2 and "argument --quality" in capsys.readouterr().err
    assert not (tmp_path / "a_ne2x.jpg").exists()


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
    assert main(["--model=bicubic", "-q", "--format", "tiff", "--rendering-tile", "16", "--rendering-overlap", "4", str(src)]) == 0
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


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MB tmpfs to write into (root only: CI runs as root; elsewhere the test says why it skips)."""
    import subprocess

    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or 'not root'})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_streamed_tiff_on_a_full_disk_is_an_error_and_the_batch_goes_on(tmp_path: Path, small_disk: Path) -> None:
    """An output over 64 MP streams into a memory-mapped TIFF; on a full disk that must be the
    one-line "disk full" error (not SIGBUS), with no temporary left and the next file done."""
    import subprocess
    import sys

    big = tmp_path / "big.png"
    Image.new("RGB", (4100, 4000), (90, 140, 200)).save(big)  # x2: 65.6 MP, ~197 MB uncompressed
    small = _img(tmp_path / "small.png", 8, 8)
    r = subprocess.run([sys.executable, "-m", "enhance.cli", "--model=bicubic", "--format=tiff", "-q",
                        "-o", str(small_disk), str(big), str(small)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "big.png" in r.stderr and "disk full" in r.stderr and "Traceback" not in r.stderr
    assert sorted(os.listdir(small_disk)) == ["small_ne2x.tif"]


def test_sigterm_cleans_up_as_ctrl_c_does(tmp_path: Path) -> None:
    """SIGTERM mid-file: exit 143, the one-line message, no output and no temporary left."""
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (1500, 1500, 3), dtype=np.uint8)).save(src)
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.Popen([sys.executable, "-m", "enhance.cli", "--zoom=4", "--model=raisr", "-q", "-o", str(out), str(src)],
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not [f for f in os.listdir(out) if ".tmp" in f] and time.time() < deadline and p.poll() is None:
        time.sleep(0.02)  # the file is claimed when its turn starts
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143 and "interrupted" in err and "Traceback" not in err, (p.returncode, err)
    assert os.listdir(out) == []


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is no longer a process
    src = _img(tmp_path / "a.png")
    stale = tmp_path / f".a_ne2x.png.tmp{dead.pid}"
    stale.write_bytes(b"half a file")
    live = tmp_path / ".other_ne2x.png.tmp1"  # pid 1 lives: a run in progress, not touched
    live.write_bytes(b"being written")
    foreign = tmp_path / f".notes.txt.tmp{dead.pid}"  # another program's temporary: not ours to remove
    foreign.write_bytes(b"someone else's")
    assert main(["--model=bicubic", str(src)]) == 0
    assert not stale.exists() and live.exists() and foreign.exists() and (tmp_path / "a_ne2x.png").exists()
    assert "removed 1 temporary file" in capsys.readouterr().err


@pytest.mark.parametrize("planted", ["empty", "truncated", "other size", "whole"])
def test_skip_existing_checks_the_output_is_whole(tmp_path: Path, planted: str) -> None:
    src = _img(tmp_path / "a.png", 12, 16)
    out = tmp_path / "a_ne2x.png"
    assert main(["--model=bicubic", "-q", str(src)]) == 0
    whole = out.read_bytes()
    if planted == "empty":
        out.write_bytes(b"")
    elif planted == "truncated":
        out.write_bytes(whole[: len(whole) // 2])
    elif planted == "other size":
        Image.fromarray(smooth_rgb(5, 5)).save(out)
    before = out.read_bytes()
    assert main(["--model=bicubic", "-q", "--skip-existing", str(src)]) == 0
    assert out.read_bytes() == whole  # made again where it was not whole, kept where it was
    assert (before == whole) == (planted == "whole")


def test_skip_existing_leaves_a_file_to_the_run_writing_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _img(tmp_path / "a.png")
    (tmp_path / ".a_ne2x.png.tmp1").write_bytes(b"")  # another live run (pid 1) has claimed it
    assert main(["--model=bicubic", "--skip-existing", str(src)]) == 0
    assert "being written by another run (pid 1)" in capsys.readouterr().err
    assert not (tmp_path / "a_ne2x.png").exists()


@pytest.mark.parametrize("fmt,deep", [("png", False), ("png", True), ("jpeg", False)])
def test_big_png_and_jpeg_stream_with_the_same_pixels_and_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 srgb_icc: bytes, fmt: str, deep: bool) -> None:
    """Outputs over STREAM_PIXELS go through a raw TIFF and are re-encoded row by row: the same
    pixels as the in-memory path (PNG; JPEG decodes to nearly the same), ICC and DPI kept."""
    import enhance.batch
    from enhance.image import open_image

    src = tmp_path / "in.png"
    if deep:
        import pyvips

        v = pyvips.Image.new_from_array(smooth_rgb(30, 40).astype(np.uint16) * 257).copy(interpretation="rgb16")
        v.pngsave(str(src))
    else:
        _img(src, 30, 40, dpi=(200, 200), icc_profile=srgb_icc)
    ext = {"png": "png", "jpeg": "jpg"}[fmt]
    assert main(["--model=bicubic", "-q", f"--format={fmt}", "-o", str(tmp_path / "mem"), str(src)]) == 0
    monkeypatch.setattr(enhance.batch, "STREAM_PIXELS", 100)  # treat this tiny image as huge
    assert main(["--model=bicubic", "-q", f"--format={fmt}", "-o", str(tmp_path / "stream"), str(src)]) == 0
    a, ma = open_image(tmp_path / "mem" / f"in_ne2x.{ext}")
    b, mb = open_image(tmp_path / "stream" / f"in_ne2x.{ext}")
    assert a.shape == b.shape == (60, 80, 3) and a.dtype == b.dtype == (np.uint16 if deep and fmt == "png" else np.uint8)
    if fmt == "png":
        assert np.array_equal(a, b)
    else:
        assert np.abs(a.astype(int) - b).mean() < 2.0
    if not deep:
        assert mb.icc_profile == srgb_icc and mb.dpi is not None and round(mb.dpi[0]) == 400
    assert not [f for f in os.listdir(tmp_path / "stream") if ".tmp" in f]


def test_an_output_over_the_memory_budget_is_refused_before_it_is_computed(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = _img(tmp_path / "a.png", 40, 40)
    small = _img(tmp_path / "b.png", 4, 4)
    assert main(["--model=bicubic", "--max-memory", "0.00002", str(src), str(small)]) == 1  # about 20 KB
    err = capsys.readouterr().err
    assert "a.png" in err and "--max-memory" in err and "TIFF" in err
    assert not (tmp_path / "a_ne2x.png").exists() and (tmp_path / "b_ne2x.png").exists()
    with pytest.raises(SystemExit):
        main(["--model=bicubic", "--max-memory", "0", str(src)])


def test_webp_larger_than_it_holds_is_refused_before_computing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "wide.png"
    Image.new("RGB", (9000, 4), (10, 20, 30)).save(src)
    assert main(["--model=bicubic", "-q", "--format=webp", str(src)]) == 1
    assert "16383 px a side" in capsys.readouterr().err and not (tmp_path / "wide_ne2x.webp").exists()


def test_a_rerun_never_enlarges_an_output_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Globs and folders leave Enhance's outputs out, by name and by the mark in the file (a
    renamed output too); naming an output explicitly still enlarges it."""
    _img(tmp_path / "a.png")
    assert main(["--model=bicubic", "-q", str(tmp_path / "*.png")]) == 0
    (tmp_path / "a_ne2x.png").rename(tmp_path / "renamed.png")  # only its Software mark says what it is
    _img(tmp_path / "b.png")
    assert main(["--model=bicubic", str(tmp_path / "*.png")]) == 0
    err = capsys.readouterr().err
    assert "left out 1 file that is an Enhance output" in err
    assert not (tmp_path / "renamed_ne2x.png").exists() and (tmp_path / "b_ne2x.png").exists()
    assert main(["--model=bicubic", "-q", str(tmp_path)]) == 0  # a folder: the same rule
    assert not [f for f in os.listdir(tmp_path) if "_ne2x_ne2x" in f or f == "renamed_ne2x.png"]
    assert main(["--model=bicubic", "-q", str(tmp_path / "renamed.png")]) == 0  # named: done
    assert Image.open(tmp_path / "renamed_ne2x.png").size == (64, 48)


def test_a_folder_means_its_images_and_recursive_mirrors_the_tree(tmp_path: Path) -> None:
    src = tmp_path / "scans"
    (src / "ch1" / "deep").mkdir(parents=True)
    _img(src / "top.png")
    _img(src / "ch1" / "one.png")
    _img(src / "ch1" / "deep" / "two.png")
    (src / "notes.txt").write_text("not an image")
    assert main(["--model=bicubic", "-q", "-o", str(tmp_path / "flat"), str(src)]) == 0
    assert os.listdir(tmp_path / "flat") == ["top_ne2x.png"]
    assert main(["--model=bicubic", "-q", "-r", "-o", str(tmp_path / "tree"), str(src)]) == 0
    found = sorted(str(p.relative_to(tmp_path / "tree")) for p in (tmp_path / "tree").rglob("*.png"))
    assert found == ["ch1/deep/two_ne2x.png", "ch1/one_ne2x.png", "top_ne2x.png"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--model=bicubic", "-q", str(empty)]) == 1


def test_o_with_an_image_name_names_the_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _img(tmp_path / "a.png")
    b = _img(tmp_path / "b.png")
    assert main(["--model=bicubic", "-q", "-o", str(tmp_path / "out" / "result.jpg"), str(a)]) == 0
    assert Image.open(tmp_path / "out" / "result.jpg").format == "JPEG" and not (tmp_path / "out" / "result.jpg").is_dir()
    assert main(["--model=bicubic", "-q", "-o", str(tmp_path / "result.png"), str(a), str(b)]) == 2
    assert "names one output file" in capsys.readouterr().err and not (tmp_path / "result.png").exists()
    assert main(["--model=bicubic", "-q", "--format=png", "-o", str(tmp_path / "r.tif"), str(a)]) == 2


def test_what_a_file_holds_is_reported_as_soon_as_it_is_read(tmp_path: Path) -> None:
    """The "read" event carries the notes before any tile is computed (the server shows them at once)."""
    from PIL import Image

    from enhance.batch import BatchOptions, run_batch
    from enhance.treatment import ModelRequest, Treatment

    src = tmp_path / "small.jpg"
    Image.fromarray(np.full((40, 48, 3), 120, np.uint8)).save(src, quality=40)
    events: list[object] = []
    (tmp_path / "out").mkdir()
    (r,) = run_batch([src], Treatment(ModelRequest("default", 2)), BatchOptions(output_dir=tmp_path / "out"),
                     events.append)
    kinds = [getattr(e, "kind") for e in events]
    assert kinds.index("file") < kinds.index("read") < kinds.index("done")
    read = next(e for e in events if getattr(e, "kind") == "read")
    assert any("quality 40" in n for n in getattr(read, "notes")) and r.status == "done"
