"""The enhance command itself: usage errors, the model listing, help, the messages it prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.cli import main

from .conftest import smooth_rgb


def _img(path: Path, h: int = 12, w: int = 16, **save: object) -> Path:
    Image.fromarray(smooth_rgb(h, w)).save(path, **save)
    return path


@pytest.mark.parametrize("bad", ["0/3", "4/3", "2", "a/b"])
def test_bad_shard_is_a_usage_error(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    src = _img(tmp_path / "a.png")
    with pytest.raises(SystemExit) as exc:
        main(["--model=bicubic", f"--shard={bad}", str(src)])
    assert exc.value.code == 2 and "--shard" in capsys.readouterr().err
    assert not (tmp_path / "a_ne2x.png").exists()


def test_unwritable_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _img(tmp_path / "a.png")
    blocker = tmp_path / "file_not_dir"
    blocker.write_text("x")
    rc = main(["--model=bicubic", "-q", "--output", str(blocker), str(src)])
    assert rc != 0
    assert "file_not_dir" in capsys.readouterr().err


def test_unknown_model_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _img(tmp_path / "a.png")
    assert main(["--model=nosuch", str(src)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nosuch'" in err and "Traceback" not in err


def test_list_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-models"]) == 0
    out = capsys.readouterr().out
    assert "bicubic" in out and "lanczos" in out and "speed" in out
    default = next(line for line in out.splitlines() if line.startswith("default ") and " photo " in line)
    assert "x2 0.47" in default and "x3 0.24" in default and "s/MP" in default  # measured, not words
    raisr = next(line for line in out.splitlines() if line.startswith("raisr "))
    assert "7x7 then 5x5 at x2" in raisr and "faster than the CNN at x2 only" in raisr


def test_help_mentions_the_basics(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--zoom", "--model", "--output", "--skip-existing", "--rendering-tile", "--train", "examples"):
        assert flag in out


def test_list_models_puts_the_plain_variant_first(capsys: pytest.CaptureFixture[str]) -> None:
    """``default`` has a photo variant and a JPEG one: the plain one is listed first."""
    assert main(["--list-models"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    default_types = [r[2] for r in rows if r[0] == "default"]
    assert default_types[0] == "photo" and "jpeg" in default_types


def _jpeg(path: Path, quality: int, h: int = 24, w: int = 32) -> Path:
    rng = np.random.default_rng(quality)
    a = np.clip(smooth_rgb(h, w).astype(np.int16) + rng.integers(-40, 40, (h, w, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(a).save(path, quality=quality)
    return path


def test_command_repairs_a_damaged_jpeg_before_enlarging(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _jpeg(tmp_path / "bad.jpg", 30)
    good = _jpeg(tmp_path / "good.jpg", 95)
    assert main(["--zoom=2", "-o", str(tmp_path / "auto"), str(bad), str(good)]) == 0
    err = capsys.readouterr().err
    assert "bad.jpg" in err and "quality 30" in err and "quality 95" not in err
    assert main(["--zoom=2", "-q", "--repair", "never", "-o", str(tmp_path / "never"), str(bad), str(good)]) == 0
    auto_bad = np.asarray(Image.open(tmp_path / "auto" / "bad_ne2x.png"))
    never_bad = np.asarray(Image.open(tmp_path / "never" / "bad_ne2x.png"))
    assert auto_bad.shape == never_bad.shape == (48, 64, 3)
    assert np.abs(auto_bad.astype(int) - never_bad).mean() > 0.5  # the repair model ran first
    assert np.array_equal(np.asarray(Image.open(tmp_path / "auto" / "good_ne2x.png")),
                          np.asarray(Image.open(tmp_path / "never" / "good_ne2x.png")))  # q95 left as it is
    with pytest.raises(SystemExit) as exc:
        main(["--zoom=2", "--repair", "sometimes", str(bad)])
    assert exc.value.code == 2 and "--repair" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0", "-5", "many"])
def test_max_pixels_below_one_is_a_usage_error(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    src = _img(tmp_path / "a.png")
    with pytest.raises(SystemExit) as exc:
        main(["--model=bicubic", "--max-pixels", bad, str(src)])
    assert exc.value.code == 2 and "--max-pixels" in capsys.readouterr().err
    assert not (tmp_path / "a_ne2x.png").exists()


@pytest.mark.parametrize("flags", [["--rendering-tile", "0"], ["--rendering-tile", "8"], ["--rendering-overlap", "-1"],
                                   ["--rendering-tile", "16"], ["--retina", "--rendering-tile", "30"]])
def test_tiles_that_cannot_tile_well_are_a_usage_error(tmp_path: Path, flags: list[str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # a tile of 16 beside the default overlap of 16 advanced one pixel at a time: 800 tiles for 50 x 40
    src = _img(tmp_path / "a.png")
    try:
        rc = main(["--model=bicubic", *flags, "-o", str(tmp_path / "o"), str(src)])
    except SystemExit as exc:  # argparse's own refusal
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and ("rendering" in err or "overlap" in err), err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("flags,why", [(["--backend=torch"], "--backend torch"), (["--precision=bf16"], "--precision bf16"),
                                       (["--device=cuda"], "--device cuda")])
def test_a_torch_option_without_torch_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str],
                                                      why: str, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "enhance.models.torch_runtime", None)  # as if torch were not installed
    src = _img(tmp_path / "a.png")
    assert main(["--model=default", *flags, str(src)]) == 2
    err = capsys.readouterr().err
    assert why in err and "pip install 'enhance[torch]'" in err and len(err.strip().splitlines()) == 1, err


def test_an_unknown_type_is_a_usage_error_listing_the_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _img(tmp_path / "a.png")
    assert main(["--type=foo", str(src)]) == 2
    err = capsys.readouterr().err
    assert "unknown type 'foo'" in err and "photo" in err and "print" in err and "jpeg" in err
    assert not (tmp_path / "a_ne2x.png").exists()


def test_every_training_flag_has_help_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    from enhance.cli import _build_parser

    ap = _build_parser()
    group = next(g for g in ap._action_groups if g.title and g.title.startswith("training"))
    for action in group._group_actions:
        assert action.help, action.option_strings
        if action.default is not None:
            assert "default" in ap.formatter_class(prog="enhance")._get_help_string(action), action.option_strings
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "photo, print, jpeg or aliased" in out and "(default: 0)" in out


def test_a_plain_run_imports_no_scipy(tmp_path: Path) -> None:
    """A plain ``enhance --zoom=2`` (screen detection included) needs NumPy alone: SciPy's
    import took 0.6 s of a 2.9 s command on a Zen 3 EPYC, the difference between 0.65x and 0.44x
    of waifu2x cunet's time. Run in a fresh process, as a user runs it."""
    import subprocess
    import sys

    src = tmp_path / "a.png"
    Image.fromarray(smooth_rgb(48, 64)).save(src)
    code = ("import sys; from enhance.cli import main; "
            f"rc = main(['--zoom=2', '-q', '-o', {str(tmp_path / 'out')!r}, {str(src)!r}]); "
            "print(rc, sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] == 'scipy'}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.split("\n")[-2] == "0 []", r.stdout + r.stderr
    assert (tmp_path / "out" / "a_ne2x.png").is_file()
