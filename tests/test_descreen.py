"""The halftone simulator and the FFT screen detector: finds screens, and only screens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.descreen import detect_screen
from enhance.train.halftone import PrintSettings, print_and_scan

from .conftest import BENCH


def _picture() -> np.ndarray:
    """A continuous-tone, non-periodic picture: smoothed noise at two scales, with an edge."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(5)
    field = gaussian_filter(rng.standard_normal((256, 256, 3)), (12, 12, 0)) * 8
    field += gaussian_filter(rng.standard_normal((256, 256, 3)), (2, 2, 0)) * 0.6
    field[:, 128:] += 0.2
    return np.clip(0.5 + field, 0.05, 0.95).astype(np.float32)


@pytest.mark.parametrize("settings", [PrintSettings(150, 600, 45), PrintSettings(85, 300, 30),
                                      PrintSettings(133, 400, 45, colour=True)])
def test_detects_simulated_screens(settings: PrintSettings) -> None:
    scan = print_and_scan(_picture(), settings, np.random.default_rng(0))
    r = detect_screen(scan, settings.dpi)
    assert r.found
    assert r.period is not None and abs(r.period - settings.period) / settings.period < 0.05
    assert r.lpi is not None and abs(r.lpi - settings.lpi) / settings.lpi < 0.05
    if not settings.colour:
        assert r.angle is not None and min(abs(r.angle - settings.angle % 90), 90 - abs(r.angle - settings.angle % 90)) < 3


def test_continuous_tone_has_no_screen() -> None:
    assert not detect_screen(_picture()).found


@pytest.mark.skipif(not (BENCH / "huckfinn_scan.png").exists(), reason="the shared bench set is not beside the checkout")
@pytest.mark.parametrize("name", ["huckfinn_scan", "page", "sailboat_lineart", "brick"])
def test_engraving_and_text_are_not_halftones(name: str) -> None:
    a = np.asarray(Image.open(BENCH / f"{name}.png").convert("RGB"))
    assert not detect_screen(a).found


def test_command_says_when_it_meets_a_screen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from enhance.cli import main

    scan = print_and_scan(_picture(), PrintSettings(150, 600, 45), np.random.default_rng(1))
    src = tmp_path / "halftone.png"
    Image.fromarray((scan * 255).round().astype(np.uint8)).save(src, dpi=(600, 600))
    assert main(["--model=bicubic", str(src)]) == 0
    err = capsys.readouterr().err
    import re

    m = re.search(r"halftone screen detected.*about (\d+) lpi", err)
    assert m and abs(int(m.group(1)) - 150) <= 5
