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


@pytest.mark.parametrize("lpi, colour", [(150, False), (175, False), (150, True)])
def test_finds_a_fine_screen_of_a_300_dpi_scan_at_its_own_period(lpi: float, colour: bool) -> None:
    """A 300 dpi scan of a magazine print: the screen (2 px at 150 lpi, 1.7 px at 175) is finer
    than two pixels along its direction but inside the sampled spectrum. It is found at its own
    period, not at its harmonics folded back past the Nyquist frequency (about 3.4 px at
    0 degrees, which the detector reported before it looked this fine)."""
    s = PrintSettings(lpi, 300, 45, colour=colour, scan_blur=0.5)
    scan = print_and_scan(_picture(), s, np.random.default_rng(2))
    r = detect_screen(scan, s.dpi)
    assert r.found and r.period is not None and abs(r.period - s.period) / s.period < 0.05
    assert r.lpi is not None and abs(r.lpi - lpi) / lpi < 0.05


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


def test_gray_print_makes_a_gray_target_and_colour_print_keeps_colour() -> None:
    from dataclasses import replace

    from enhance.train.degrade import PRESETS, degrade_pair

    hr = (_picture()[:96, :96] * 255).round().astype(np.uint8)
    deg = replace(PRESETS["print"], halftone=1.0, noise_prob=0.0, jpeg_prob=0.0)
    kinds = set()
    for seed in range(12):
        lr, target = degrade_pair(hr, 1, deg, np.random.default_rng(seed))
        assert lr.shape == hr.shape and target.shape == hr.shape
        gray = bool((target[..., 0] == target[..., 1]).all() and (target[..., 1] == target[..., 2]).all())
        kinds.add(gray)
        if gray:  # the target is the original's luma, and the scan is gray as well (but for sensor noise)
            assert np.abs(lr[..., 0].astype(int) - lr[..., 2]).mean() < 6
            y = hr.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
            assert np.abs(target[..., 0] - y).max() <= 0.5 + 1e-9
        else:
            assert (target == hr).all()
    assert kinds == {True, False}  # both kinds of print are drawn


def test_stochastic_screen_keeps_tone_and_has_no_lattice() -> None:
    from enhance.train.halftone import screen_fm

    ink = np.full((128, 128), 0.3, dtype=np.float32)
    cov = screen_fm(ink, 0.8, np.random.default_rng(0))
    assert abs(float(cov.mean()) - 0.3) < 0.02  # tone is kept
    assert cov.std() > 0.05  # it is dots, not a flat tint
    assert not detect_screen(1.0 - cov).found  # and not a periodic screen


def test_chain_runs_first_then_second_and_adds_contexts() -> None:
    from enhance.models.chain import Chain
    from enhance.models.classical import ClassicalUpscaler

    class Halve:
        name, scale, context, multiple_of = "halve", 1, 3, 4

        def __call__(self, x: np.ndarray) -> np.ndarray:
            return x * 0.5 + 0.8  # leaves [0, 1]: the chain must clip before the next model

    up = ClassicalUpscaler("bicubic", 2)
    c = Chain(Halve(), up)
    assert (c.scale, c.context, c.multiple_of) == (2, 3 + up.context, 4)
    x = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(c(x), up(np.clip(x * 0.5 + 0.8, 0, 1)), atol=1e-6)
    twice = Chain(up, up)  # one enlargement after another (--zoom=4 from two x2 models)
    assert (twice.scale, twice.context) == (4, up.context + -(-up.context // 2))
    np.testing.assert_allclose(twice(x), up(np.clip(up(x), 0, 1)), atol=1e-6)


def _screened_png(tmp_path: Path, name: str = "halftone.png") -> tuple[Path, np.ndarray]:
    pic = _picture()
    scan = print_and_scan(pic, PrintSettings(133, 400, 45, colour=True), np.random.default_rng(2))
    src = tmp_path / name
    Image.fromarray((scan * 255).round().astype(np.uint8)).save(src, dpi=(400, 400))
    return src, (pic * 255).round().astype(np.uint8)


def test_print_type_descreens_and_beats_the_scan(tmp_path: Path) -> None:
    """The shipped descreen model brings a simulated scan closer to its original."""
    from enhance.treatment import load_model
    from enhance.upscaling import upscale_pixels

    from benchmarks.metrics import psnr_y

    src, original = _screened_png(tmp_path)
    scan = np.asarray(Image.open(src))
    model = load_model("default", 1, "print")
    assert model.scale == 1
    out = upscale_pixels(scan, "RGB", model)
    assert out is not None and out.shape == scan.shape
    assert psnr_y(out, original, 4) > psnr_y(scan, original, 4) + 3.0
    tiled = upscale_pixels(scan, "RGB", model, tile=72, overlap=8)  # seams would show here
    assert tiled is not None and np.abs(tiled.astype(int) - out).max() <= 2


def test_auto_descreens_only_screened_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from enhance.cli import main

    screened, _ = _screened_png(tmp_path)
    plain = tmp_path / "plain.png"
    Image.fromarray((_picture() * 255).round().astype(np.uint8)).save(plain)
    assert main(["--auto", "--zoom=2", "--model=bicubic", str(screened), str(plain)]) == 0
    err = capsys.readouterr().err
    assert "descreening (--auto)" in err and err.count("descreening") == 1
    bicubic_only = tmp_path / "ref"
    bicubic_only.mkdir()
    assert main(["--zoom=2", "--model=bicubic", "-o", str(bicubic_only), str(screened), str(plain)]) == 0
    a = np.asarray(Image.open(tmp_path / "halftone_ne2x.png")).astype(int)
    b = np.asarray(Image.open(bicubic_only / "halftone_ne2x.png")).astype(int)
    assert np.abs(a - b).mean() > 5  # the screened file went through the descreener
    c = np.asarray(Image.open(tmp_path / "plain_ne2x.png"))
    d = np.asarray(Image.open(bicubic_only / "plain_ne2x.png"))
    assert (c == d).all()  # the plain one did not


def _mixed_page(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 1024 x 768 page: type (the text-page generator's, seeded, in Pillow's own font) across the top and left, a
    halftoned photo (512 x 512) at the bottom right. Returns the file and the photo's mask."""
    from enhance.train.textpage import text_page

    rng = np.random.default_rng(7)
    arr = np.concatenate([text_page(256, 1024, rng, ()), np.concatenate([text_page(512, 512, rng, ()),
                                                                     np.zeros((512, 512, 3), np.uint8)], 1)], 0)
    pic = _picture()
    photo = print_and_scan(np.concatenate([np.concatenate([pic, pic], 1)] * 2, 0)[:512, :512],
                           PrintSettings(133, 400, 45, colour=True), np.random.default_rng(3))
    arr[256:768, 512:1024] = (photo * 255).round().astype(np.uint8)
    src = tmp_path / "page.png"
    Image.fromarray(arr).save(src, dpi=(400, 400))
    inside = np.zeros((768, 1024), bool)
    inside[256:768, 512:1024] = True
    return src, inside


def test_auto_descreens_only_the_screened_regions_of_a_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A page that mixes type and a halftone photo: --auto descreens the photo's tiles only; the
    type, away from the feathered edge, comes out exactly as the plain path makes it."""
    from scipy.ndimage import binary_dilation

    from enhance.cli import main
    from enhance.descreen import screen_map

    src, inside = _mixed_page(tmp_path)
    smap = screen_map(np.asarray(Image.open(src)), 400)
    assert 0 < smap.fraction < 1 and smap.grid[-1, -1] and not smap.grid[0, 0]
    (box, rep), = smap.regions(768, 1024)  # one region, the photo's tiles, with its screen
    assert box == (256, 512, 512, 512) and rep.period is not None and abs(rep.period - 400 / 133) < 0.2
    assert main(["--auto", "--zoom=2", "--model=bicubic", "-o", str(tmp_path / "auto"), str(src)]) == 0
    err = capsys.readouterr().err
    import re

    assert "descreening those (--auto)" in err
    # the region descreened is the photo's, to within its grown and feathered edge
    m = re.search(r"screened regions: x (\d+)-(\d+), y (\d+)-(\d+) \(period 3\.0 px", err)
    assert m is not None, err
    x0, x1, y0, y1 = map(int, m.groups())
    assert 480 <= x0 <= 512 and 1012 <= x1 <= 1024 and 224 <= y0 <= 256 and 756 <= y1 <= 768
    # the report draws it on a view of the whole page (1024 x 768 drawn at 480 x 360)
    assert main(["--auto", "--zoom=2", "--model=bicubic", "-q", "-o", str(tmp_path / "again"), "--report",
                 str(tmp_path / "r.html"), str(src)]) == 0
    html = (tmp_path / "r.html").read_text()
    rect = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/>', html)
    assert rect is not None and "1 screened region," in html
    drawn = [int(v) / 0.46875 for v in rect.groups()]
    assert np.allclose(drawn, [x0, y0, x1 - x0, y1 - y0], atol=2.5)  # to within the view's pixel
    assert main(["--zoom=2", "--model=bicubic", "-q", "-o", str(tmp_path / "plain"), str(src)]) == 0
    a = np.asarray(Image.open(tmp_path / "auto" / "page_ne2x.png")).astype(int)
    p = np.asarray(Image.open(tmp_path / "plain" / "page_ne2x.png")).astype(int)
    near = binary_dilation(inside, iterations=64).repeat(2, 0).repeat(2, 1)  # the photo and the feather beyond it
    assert (a[~near] == p[~near]).all()  # the type is untouched
    photo = inside.repeat(2, 0).repeat(2, 1)
    assert np.abs(a[photo] - p[photo]).mean() > 5  # the photo went through the descreener


def test_a_lattice_no_press_prints_at_that_dpi_is_not_a_screen() -> None:
    """Graph paper and woven textures are dot lattices too: with the file's DPI, a ruling outside
    what presses print (50-300 lpi) is not taken for a screen."""
    y, x = np.mgrid[0:512, 0:512].astype(np.float32)
    period = 12.0  # at 300 dpi: 25 lpi, no press's ruling; at 2400 dpi it would be 200 lpi
    tone = 0.3 + 0.4 * x / 512  # a picture in it: a ramp, as a halftone's dots grow with the ink
    dots = tone + 0.25 * np.cos(2 * np.pi * x / period) * np.cos(2 * np.pi * y / period)
    lattice = np.repeat(dots[:, :, None], 3, axis=2)
    assert detect_screen(lattice, 2400).found
    assert not detect_screen(lattice, 300).found
    assert detect_screen(lattice).found  # without the DPI it cannot tell


def test_a_lattice_no_picture_modulates_is_a_texture_unless_the_user_says_print() -> None:
    """A weave or a dot ruling is inked evenly across the square; a halftone's dots grow and
    shrink with the picture. The same lattice is a screen once a picture modulates it, and a flat
    tint is a screen when the user has said the file is a print (``tint``)."""
    from enhance.descreen import MIN_TONE_STD, _modulation

    y, x = np.mgrid[0:512, 0:512].astype(np.float32)
    period = 5.0
    cells = np.cos(2 * np.pi * x / period) * np.cos(2 * np.pi * y / period)
    flat = np.repeat((0.5 + 0.3 * cells)[:, :, None], 3, axis=2)
    assert _modulation(flat, period, 45.0)[0] < MIN_TONE_STD / 10
    assert not detect_screen(flat).found
    r = detect_screen(flat, tint=True)
    # cos x cos y: its peaks sit on the diagonals, a lattice of period / sqrt 2 at 45 degrees
    assert r.found and r.period is not None and abs(r.period - period / np.sqrt(2)) < 0.1 and r.angle == 45.0
    pic = _picture()  # 256 px: the picture tiled to the square, its tone now varies
    tone = np.concatenate([np.concatenate([pic.mean(axis=2)] * 2, 0)] * 2, 1)
    printed = np.repeat(np.clip(tone + 0.2 * cells, 0, 1)[:, :, None], 3, axis=2)
    assert _modulation(printed, period, 45.0)[0] > MIN_TONE_STD
    assert detect_screen(printed).found



def test_a_texture_under_uneven_light_is_not_a_screen() -> None:
    """A weave photographed under a lamp: its tone varies, but its lattice's strength follows
    the light (a fixed share of the tone). A print of a picture under the same light is found."""
    from benchmarks.detector import synthetic_textures

    y, x = np.mgrid[0:512, 0:512].astype(np.float32) / 512
    light = (1.0 - 0.3 * (0.6 * x + 0.4 * y))[:, :, None]
    textures = [(name, t) for name, t in synthetic_textures(10, seed=7) if not name.startswith("fibre")]
    found_flat = [name for name, t in textures if detect_screen(t, tint=True).found]
    assert found_flat  # some of them look like screens to the lattice tests alone
    lit = {name: np.clip(t * light, 0, 255).astype(np.uint8) for name, t in textures}
    assert not any(detect_screen(lit[name]).found for name in found_flat)
    pic = np.concatenate([np.concatenate([_picture()] * 2, 0)] * 2, 1)
    scan = print_and_scan(pic, PrintSettings(150, 600, 45), np.random.default_rng(1))
    assert detect_screen(np.clip(scan * light, 0, 1)).found


def test_descreened_scan_keeps_the_scan_tone_on_a_press_it_never_saw() -> None:
    """Tone-faithful by design: on the held-out press (other dots, inks, paper), the command's
    descreened output has the scan's low-pass, not the trained press's idea of the original,
    and it is closer to the print seen without its screen than the scan is."""
    from scipy.ndimage import gaussian_filter

    from enhance.models.registry import open_model
    from enhance.treatment import load_model
    from enhance.upscaling import upscale_pixels

    from benchmarks.metrics import psnr_y
    from benchmarks.pressb import SETTINGS, print_and_scan_b

    pic8 = (_picture() * 255).round().astype(np.uint8)
    scan, clean = print_and_scan_b(pic8, SETTINGS["B-chain-150lpi-600dpi"][1], np.random.default_rng(3))
    out = upscale_pixels(scan, "RGB", load_model("default", 1, "print"))
    raw = upscale_pixels(scan, "RGB", open_model("descreen", 1, "print"))
    assert out is not None and raw is not None

    def tone_gap(a: np.ndarray) -> float:
        lp = [gaussian_filter(x.astype(np.float64), (8, 8, 0), mode="reflect")[16:-16, 16:-16] for x in (a, scan)]
        return float(np.abs(lp[0] - lp[1]).mean())

    assert tone_gap(out) < 0.75  # levels of 255: the scan's tone and colour, kept
    assert tone_gap(raw) > 2 * tone_gap(out)  # the trained press's tone, which this one is not
    assert psnr_y(out, clean, 16) > psnr_y(scan, clean, 16) + 3.0


def test_descreened_tone_follows_the_screen_period_the_detector_measured() -> None:
    """The command keeps the scan's tone over 0.6 of the measured screen period, not over the
    fixed 6 px of an unknown screen: on the trained press and two held-out ones the output is
    closer to the print seen without its screen, and the loaded treatment is left as it was."""
    from enhance.image import ImageMeta
    from enhance.models.tone import SIGMA, ToneKept
    from enhance.models.enlarged import Enlarged
    from enhance.treatment import ModelRequest, Treatment
    from enhance.upscaling import upscale_pixels

    from benchmarks.metrics import psnr_y
    from benchmarks.pressb import SETTINGS, print_and_scan_b, to8

    pic = _picture()
    pic8 = (pic * 255).round().astype(np.uint8)
    scan_a, clean_a = print_and_scan(pic, PrintSettings(133, 400, 45, colour=True), np.random.default_rng(4),
                                     screenless=True)
    cases = [(to8(scan_a), to8(clean_a), 3.01)]
    for key, period in (("B-chain-150lpi-600dpi", 4.0), ("B-square-100lpi-300dpi", 3.0)):
        cases.append((*print_and_scan_b(pic8, SETTINGS[key][1], np.random.default_rng(3)), period))
    treatment = Treatment(ModelRequest("default", 1, "print"))
    for scan, clean, period in cases:
        model, _ = treatment.for_file(scan, ImageMeta("RGB"))
        # screens of up to 4.25 px are descreened at twice their size: the tone over the doubled period
        assert isinstance(model, Enlarged) and model.factor == 2.0
        assert isinstance(model.model, ToneKept) and abs(model.model.sigma - 0.6 * 2 * period) < 0.2
        out = upscale_pixels(scan, "RGB", model)
        fixed = upscale_pixels(scan, "RGB", treatment.model)
        assert out is not None and fixed is not None
        assert psnr_y(out, clean, 16) > psnr_y(fixed, clean, 16) + 1.0
    assert isinstance(treatment.model, ToneKept) and treatment.model.sigma == SIGMA  # one treatment, many files


def test_a_one_bit_scan_is_descreened_on_the_models_own_tone() -> None:
    """A 1-bit scan's local mean is where its threshold fell, not the print's tone: the command
    leaves the tone to the descreener there, at the same enlargement, and says so; a gray scan
    keeps its tone as before. (Nearer the print on the mean of 12 pictures in 10 of 11 1-bit
    settings, not on every picture: the press track measures it, BENCHMARKS.md.)"""
    from enhance.image import ImageMeta
    from enhance.models.enlarged import Enlarged
    from enhance.models.tone import ToneKept, at_period, is_bilevel
    from enhance.treatment import ModelRequest, Treatment
    from enhance.upscaling import upscale_pixels

    from benchmarks.metrics import psnr_y
    from benchmarks.pressb import to8

    pic = _picture()
    scan, clean = print_and_scan(pic, PrintSettings(85, 600, 45, bilevel=True, bilevel_at=0.6),
                                 np.random.default_rng(5), screenless=True)
    scan8, clean8 = to8(scan), to8(clean)
    assert is_bilevel(scan8) and not is_bilevel(to8(pic))
    treatment = Treatment(ModelRequest("default", 1, "print"))
    model, notes = treatment.for_file(scan8, ImageMeta("RGB"))
    assert isinstance(model, Enlarged) and not isinstance(model.model, ToneKept)
    assert any("1-bit scan" in n for n in notes)
    kept = at_period(treatment.model, 7.06)
    assert isinstance(kept, Enlarged) and kept.factor == model.factor and isinstance(kept.model, ToneKept)
    own = upscale_pixels(scan8, "RGB", model)
    assert own is not None and psnr_y(own, clean8, 16) > psnr_y(scan8, clean8, 16) + 3.0  # the dots went
    gray, _ = print_and_scan(pic, PrintSettings(85, 600, 45), np.random.default_rng(5), screenless=True)
    model, notes = treatment.for_file(to8(gray), ImageMeta("RGB"))
    assert isinstance(model, Enlarged) and isinstance(model.model, ToneKept)
    assert not any("1-bit" in n for n in notes)


def test_tone_at_a_period_reaches_through_chains_and_ensembles() -> None:
    """at_period re-wraps the ToneKept stage wherever the treatment put it, sharing its network,
    at most SIGMA; with no period measured the model is returned as it is."""
    from enhance.models.chain import Chain
    from enhance.models.classical import ClassicalUpscaler
    from enhance.models.ensemble import Ensemble
    from enhance.models.tone import SIGMA, ToneKept, at_period
    from enhance.models.enlarged import Enlarged

    net = ClassicalUpscaler("bicubic", 1)
    kept = ToneKept(net)
    up = ClassicalUpscaler("bicubic", 2)
    chain = at_period(Ensemble(Chain(kept, up), 2), 9.0)
    assert isinstance(chain, Ensemble) and chain.passes == 2
    first = chain.model.first
    assert isinstance(first, ToneKept) and abs(first.sigma - 5.4) < 1e-9 and first.model is net
    assert chain.model.then is up
    assert kept.sigma == SIGMA  # the original is not changed
    coarse = at_period(kept, 40.0)
    assert isinstance(coarse, ToneKept) and coarse.sigma == SIGMA
    assert at_period(kept, None) is kept and at_period(up, 3.0) is up
    # a fine screen runs at twice its size, the tone over the doubled period
    doubled = at_period(Chain(kept, up), 3.0)
    assert isinstance(doubled.first, Enlarged) and doubled.first.factor == 2.0 and doubled.first.model.model is net
    assert abs(doubled.first.model.sigma - 3.6) < 1e-9
    finest = at_period(kept, 1.8)
    assert isinstance(finest, Enlarged) and abs(finest.model.sigma - 2.16) < 1e-9
    # a coarser one enlarged until it is about 8.5 px, in quarters: 7 px by 1.25, the tone over 8.75 px
    newsprint = at_period(kept, 7.0)
    assert isinstance(newsprint, Enlarged) and newsprint.factor == 1.25 and abs(newsprint.model.sigma - 5.25) < 1e-9
    again = at_period(at_period(kept, 3.0), 9.0)  # re-measured: unwrapped, not enlarged twice
    assert isinstance(again, ToneKept) and abs(again.sigma - 5.4) < 1e-9 and again.model is net


def test_the_enlargement_brings_a_screen_near_the_size_the_descreener_handles_best() -> None:
    from enhance.models.tone import TARGET_PERIOD, enlargement

    assert [enlargement(p) for p in (1.7, 3.0, 4.25, 5.0, 5.45, 6.0, 7.06, 8.0, 12.0)] == \
        [2.0, 2.0, 2.0, 1.75, 1.5, 1.5, 1.25, 1.0, 1.0]
    for p in (4.5, 5.0, 6.0, 7.06):  # the enlarged screen within an eighth of the target
        assert abs(enlargement(p) * p - TARGET_PERIOD) <= TARGET_PERIOD / 8


@pytest.mark.parametrize("factor", [2.0, 1.25, 1.75])
def test_enlarged_runs_the_model_on_the_enlarged_picture_and_tiles_agree(factor: float) -> None:
    """Enlarged enlarges, runs its x1 model, reduces: an identity model gives back the picture
    (the two bicubic resamplings, nothing else), the model sees the enlarged pixels, and a tiled
    run matches the whole picture (its context covers the model's and the resamplings', and its
    crops start on the whole picture's enlarged grid)."""
    from enhance.models.classical import ClassicalUpscaler
    from enhance.models.tone import ToneKept
    from enhance.models.enlarged import Enlarged
    from enhance.upscaling import upscale_pixels

    seen: list[tuple[int, ...]] = []

    class Probe:
        name, scale, context, multiple_of = "probe", 1, 0, 1

        def __call__(self, x: np.ndarray) -> np.ndarray:
            seen.append(x.shape)
            return x

    pic = _picture()[:96, :80]
    out = Enlarged(Probe(), factor)(pic)
    assert seen == [(round(96 * factor), round(80 * factor), 3)] and out.shape == pic.shape and out.dtype == np.float32
    assert np.abs(out - pic)[8:-8, 8:-8].mean() < 0.01
    with pytest.raises(ValueError):
        Enlarged(ClassicalUpscaler("bicubic", 2))
    with pytest.raises(ValueError):
        Enlarged(Probe(), 1.3)  # not a whole number of quarters
    model = Enlarged(ToneKept(ClassicalUpscaler("bicubic", 1), 2.0), factor)
    pic8 = (_picture() * 255).round().astype(np.uint8)
    whole = upscale_pixels(pic8, "RGB", model, tile=512)
    tiled = upscale_pixels(pic8, "RGB", model, tile=64)
    assert whole is not None and tiled is not None
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_screenless_print_is_the_scan_without_its_screen() -> None:
    """The simulator's tone target: the same inks and dot gain as continuous coverage, so its
    low-pass is the scan's (and not the pre-press original's, which dot gain darkens)."""
    from scipy.ndimage import gaussian_filter

    from enhance.train.halftone import tone_curve

    s = PrintSettings(100, 400, 45, colour=True, dot_gain=0.3, scan_noise=0.0)
    pic = _picture()
    scan, clean = print_and_scan(pic, s, np.random.default_rng(4), screenless=True)
    lp = [gaussian_filter(x.astype(np.float64), (8, 8, 0), mode="reflect")[16:-16, 16:-16] for x in (scan, clean, pic)]
    assert np.abs(lp[0] - lp[1]).mean() < 0.01
    assert np.abs(lp[0] - lp[2]).mean() > 2 * np.abs(lp[0] - lp[1]).mean()
    asked, got = tone_curve(s, 45.0)
    assert got[0] == 0.0 and got[-1] == 1.0 and (np.diff(got) >= 0).all() and got[8] > asked[8] + 0.02


def test_tone_kept_wraps_only_x1_models_and_widens_the_context() -> None:
    from enhance.models.classical import ClassicalUpscaler
    from enhance.models.tone import SIGMA, ToneKept

    with pytest.raises(ValueError):
        ToneKept(ClassicalUpscaler("bicubic", 2))

    class Bright:
        name, scale, context, multiple_of = "bright", 1, 2, 1

        def __call__(self, x: np.ndarray) -> np.ndarray:
            return x + 0.3  # a tone shift and nothing else: ToneKept undoes it exactly

    k = ToneKept(Bright())
    assert k.context == 2 + int(np.ceil(3 * SIGMA))
    Bright.multiple_of = 4  # rounded up to the model's multiple (its stride phase)
    assert ToneKept(Bright()).context % 4 == 0 and ToneKept(Bright()).context >= 2 + 3 * SIGMA
    x = np.random.default_rng(0).random((40, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(k(x), x, atol=1e-5)


def test_region_mask_follows_the_photo_inside_a_tile() -> None:
    """A photo that fills only part of its tiles: the pixel mask covers the photo and leaves the
    type beside it in the same tiles alone (the tile grid alone would descreen it)."""
    from enhance.descreen import lattice_purity, screen_map
    from enhance.train.textpage import text_page

    rng = np.random.default_rng(11)
    page = text_page(768, 768, rng, ())
    pic = _picture()
    photo = print_and_scan(np.concatenate([np.concatenate([pic, pic], 1)] * 2, 0)[:300, :400],
                           PrintSettings(133, 400, 30, colour=True), np.random.default_rng(5))
    page[240:540, 40:440] = (photo * 255).round().astype(np.uint8)  # across six tiles, none full
    smap = screen_map(page, 400)
    assert smap.grid.tolist() == [[False] * 3, [True, True, False], [False] * 3]
    m = smap.region_mask(page)
    coarse = smap.mask(768, 768, feather=0)
    assert m[270:510, 70:410].min() > 0.99  # the photo, inside its edge
    type_in_tiles = coarse.astype(bool).copy()
    type_in_tiles[240 - 48:540 + 48, :440 + 48] = False
    assert type_in_tiles.sum() > 5_000  # there is type in the screened tiles ...
    assert m[type_in_tiles].max() == 0.0  # ... and the mask leaves all of it alone
    pur = lattice_purity(page[..., 1].astype(np.float32) / 255, smap.report.period, smap.report.angle)
    assert np.median(pur[270:510, 70:410]) > 2.5 * np.percentile(pur[type_in_tiles], 99)


@pytest.mark.parametrize("step", [1, 3])
def test_lattice_purity_from_one_fft_is_the_lock_in(step: int) -> None:
    """The purity read from one FFT (each carrier's band on a small grid, interpolated) equals
    the lock-in done the long way: every pixel of the high-passed picture times its carrier,
    each product low-passed over 1.5 periods, read at each block's centre."""
    from scipy.ndimage import gaussian_filter

    from enhance.descreen import _ROSETTE, lattice_purity

    gray = print_and_scan(_picture()[:100, :121], PrintSettings(133, 400, 30), np.random.default_rng(2))[..., 1]
    gray[:, 70:] = np.random.default_rng(3).random((100, 51))  # and broadband detail beside the screen
    period, angle = 3.0, 30.0
    got = lattice_purity(gray, period, angle, step=step)
    assert got[:, : 50 // step].min() > 0.3 and got[:, -40 // step:].max() < 0.2
    g = gray.astype(np.float64) - gaussian_filter(gray.astype(np.float64), period, mode="reflect", truncate=6.0)
    h, w = g.shape
    hb, wb = -(-h // step), -(-w // step)
    yy, xx = np.mgrid[0:h, 0:w]
    s, k, best = 1.5 * period, 2 * np.pi / period, np.zeros((h, w))
    for d in _ROSETTE:
        a = np.deg2rad(angle + d)
        amps = []
        for fx, fy in ((np.cos(a), np.sin(a)), (-np.sin(a), np.cos(a))):
            z = g * np.exp(-1j * k * (fx * xx + fy * yy))
            amps.append(np.hypot(gaussian_filter(z.real, s, truncate=6.0), gaussian_filter(z.imag, s, truncate=6.0)))
        best = np.maximum(best, np.minimum(*amps))
    c = (step - 1) // 2
    best = np.pad(best, ((0, hb * step - h), (0, wb * step - w)), mode="edge")[c::step, c::step]
    energy = np.pad(g * g, ((0, hb * step - h), (0, wb * step - w)), mode="edge").reshape(hb, step, wb, step)
    want = best / (np.sqrt(gaussian_filter(energy.mean(axis=(1, 3)), s / step, truncate=3.0)) + 1e-4)
    assert got.shape == (hb, wb)
    e = -(-9 // step)  # two low-pass sigmas: the edges, where the two read the picture's outside differently
    assert np.corrcoef(got[e:-e, e:-e].ravel(), want[e:-e, e:-e].ravel())[0, 1] > 0.999
    np.testing.assert_allclose(got[e:-e, e:-e], want[e:-e, e:-e], atol=0.03)  # the interpolation
    np.testing.assert_allclose(got, want, atol=0.05)


@pytest.mark.parametrize("spot", ["round", "ellipse", "square", "line"])
def test_every_spot_shape_prints_its_tone_and_a_line_screen_has_one_direction(spot: str) -> None:
    """Each spot shape lays down more ink for more ink asked, and a flat tint's spectrum shows
    its lattice: two orthogonal peaks for dots, one direction only for a line screen."""
    from enhance.train.halftone import screen_gray

    shape = {"ellipse": 0.65, "square": 4.0}.get(spot, 0.5)
    cov = [screen_gray(np.full((96, 96), a, np.float32), 6.0, 0.0, 3, 0.0, spot, shape).mean() for a in (0.2, 0.5, 0.8)]
    assert cov[0] < cov[1] < cov[2] and 0.05 < cov[0] and cov[2] < 0.97
    tint = screen_gray(np.full((96, 96), 0.4, np.float32), 6.0, 0.0, 3, 0.0, spot, shape)
    spec = np.abs(np.fft.fft2(tint - tint.mean()))
    along_x, along_y = spec[0, 16], spec[16, 0]  # the 6 px period at angle 0: bin 96 / 6
    if spot == "line":
        assert along_x > 20 * along_y
    else:
        assert min(along_x, along_y) > 0.2 * max(along_x, along_y)


def test_the_wide_press_model_keeps_the_draws_of_the_first_and_its_target_is_the_screenless_print() -> None:
    """``wide`` adds presses without moving the first model's draws; every drawn press gives a
    scan whose low-pass its screenless target shares (tone and paper included), and a 1-bit
    scan is black and white."""
    from scipy.ndimage import gaussian_filter

    from enhance.train.halftone import random_settings

    for seed in range(6):
        a, b = random_settings(np.random.default_rng(seed)), random_settings(np.random.default_rng(seed), wide=True)
        assert (a.lpi, a.dpi, a.angle, a.colour, a.screen) == (b.lpi, b.dpi, b.angle, b.colour, b.screen)
    rng = np.random.default_rng(11)
    drawn = [random_settings(rng, wide=True) for _ in range(400)]
    assert {s.spot for s in drawn} == {"round", "ellipse", "square", "line"}
    assert any(s.bilevel for s in drawn) and any(s.inks for s in drawn) and any(s.angles for s in drawn)
    pic = _picture()[:128, :128]
    picks = [s for s in drawn if s.screen == "am" and not s.bilevel][:6] + [next(s for s in drawn if s.bilevel)]
    for s in picks:
        scan, clean = print_and_scan(pic, s, np.random.default_rng(1), screenless=True)
        assert scan.shape == clean.shape == pic.shape
        if s.bilevel:
            assert set(np.unique(scan)) <= {0.0, 1.0}
            continue
        lp = [gaussian_filter(x.astype(np.float64), (6, 6, 0), mode="reflect")[12:-12, 12:-12] for x in (scan, clean)]
        assert np.abs(lp[0] - lp[1]).mean() < 0.02, s


def test_screenless_preset_trains_towards_the_print_not_the_original() -> None:
    from dataclasses import replace

    from enhance.train.degrade import PRESETS, degrade_pair

    hr = (_picture()[:96, :96] * 255).round().astype(np.uint8)
    deg = replace(PRESETS["print-wide"], halftone=1.0, noise_prob=0.0, jpeg_prob=0.0, engraving=0.0, text=0.0)
    moved = 0
    for seed in range(6):
        lr, target = degrade_pair(hr, 1, deg, np.random.default_rng(seed))
        assert lr.shape == target.shape == hr.shape and target.dtype == np.uint8
        moved += int(np.abs(target.astype(int) - hr).mean() > 2)  # the press's tone, not the original's
    assert moved >= 3
    with pytest.raises(ValueError, match="x1"):
        degrade_pair(np.zeros((96, 96, 3), np.uint8), 2, deg, np.random.default_rng(0))


def test_a_drawings_radial_edges_are_not_a_screen() -> None:
    """A dartboard's sharp radial sectors draw streaks through the spectrum's centre; two of
    them, 90 degrees apart, carry peaks at one radius that read as a lattice. A screen's peaks
    are points: the streak rule drops the drawing and keeps a print with sharp edges in it."""
    from enhance.descreen import screen_map

    dart = np.asarray(Image.open(Path(__file__).parent / "data" / "dartboard-centre.png").convert("RGB"))
    assert not detect_screen(dart).found
    assert not screen_map(dart).report.found
    picture = _picture()
    picture[:, 40:44] = 0.0  # a sharp rule through the photo: its own streak
    scan = print_and_scan(picture, PrintSettings(120, 400, 15), np.random.default_rng(2))
    assert detect_screen(scan).found


def test_grids_weaves_and_graph_paper_are_not_screens_without_a_dpi() -> None:
    """Without the file's DPI only the lattice itself can tell: a texture repeats on a coarser
    lattice too (the ruled lines of graph paper, a weave's over-under, a tiling), a screen never.
    (A weave finer than about 5 px puts its over-under near the Nyquist frequency, where a fine
    rosette's harmonics fold back: there the detector does not look.)"""
    from benchmarks.detector import synthetic_textures

    textures = [x for name, x in synthetic_textures(10, seed=7)
                if not name.startswith("fibre") and float(name.split("-")[-1][:-2]) >= 5.0]
    assert len(textures) == 5
    assert not any(detect_screen(x).found for x in textures)
    scan = print_and_scan(_picture(), PrintSettings(150, 600, 45), np.random.default_rng(1))
    assert detect_screen(scan).found  # and the screen is still found


def test_retina_sets_of_a_page_carry_its_screened_regions(tmp_path: Path) -> None:
    """``--retina --auto`` on a mixed page: the manifest names the photo's region and the report
    outlines it on the view of the page, as the single-output report does."""
    import json
    import re

    from enhance.cli import main

    src, _inside = _mixed_page(tmp_path)
    out = tmp_path / "sets"
    assert main(["--retina", "--auto", "--model=bicubic", "-q", "--densities", "1,2", "--formats", "jpeg",
                 "--report", str(tmp_path / "r.html"), "-o", str(out), str(src)]) == 0
    (entry,) = json.loads((out / "manifest.json").read_text())["images"]
    (top, left, h, w), = entry["regions"]
    assert 224 <= top <= 256 and 480 <= left <= 512 and top + h >= 756 and left + w >= 1012
    rect = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/>', (tmp_path / "r.html").read_text())
    assert rect is not None
    assert np.allclose([int(v) / 0.46875 for v in rect.groups()], [left, top, w, h], atol=2.5)


def _line_print(period_lpi: float = 133.0, dpi: float = 600.0, angle: float = 75.0, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``_picture`` tiled to 512 px and printed with a gray line screen: the 8-bit scan and the
    print without its screen."""
    from dataclasses import replace

    pic = np.concatenate([np.concatenate([_picture()] * 2, 0)] * 2, 1)
    s = replace(PrintSettings(period_lpi, dpi, angle), spot="line")
    scan, clean = print_and_scan(pic, s, np.random.default_rng(seed), screenless=True)
    return (scan * 255).round().astype(np.uint8), (clean * 255).round().astype(np.uint8)


@pytest.mark.parametrize("lpi, dpi, angle", [(133.0, 600.0, 75.0), (100.0, 300.0, 20.0), (85.0, 600.0, 140.0)])
def test_detects_a_line_screen_with_its_period_and_direction(lpi: float, dpi: float, angle: float) -> None:
    from enhance.descreen import detect_line_screen

    scan, _ = _line_print(lpi, dpi, angle)
    r = detect_line_screen(scan, dpi)
    assert r is not None and r.tiles == r.of == 4
    assert abs(r.period - dpi / lpi) / (dpi / lpi) < 0.01
    assert min(abs(r.angle - angle % 180), 180 - abs(r.angle - angle % 180)) < 1.0
    assert r.lpi is not None and abs(r.lpi - lpi) < 2
    # a line screen is no dot lattice: the dot detector leaves it alone
    assert not detect_screen(scan, dpi).found


def test_dots_crossed_lines_pictures_and_impossible_rulings_are_not_line_screens() -> None:
    from dataclasses import replace

    from enhance.descreen import detect_line_screen

    pic = np.concatenate([np.concatenate([_picture()] * 2, 0)] * 2, 1)
    dots = print_and_scan(pic, PrintSettings(133, 600, 45), np.random.default_rng(0))
    assert detect_line_screen((dots * 255).round().astype(np.uint8)) is None
    assert detect_line_screen((pic * 255).round().astype(np.uint8)) is None
    # cross-hatching: two rulings of one period at 60 degrees
    a, _ = _line_print(133, 600, 30.0)
    b, _ = _line_print(133, 600, 90.0)
    assert detect_line_screen(np.minimum(a, b)) is None
    # the same ruling at 300 dpi would be 1.8 px, at 2400 dpi 532 lpi: no press prints either
    scan, _ = _line_print(133, 600, 75.0)
    assert detect_line_screen(scan, 2400.0) is None
    # a ruling in one corner of a page of paper is not a screen across the file
    page = np.full((768, 768, 3), 235, np.uint8)
    page[:256, :256] = scan[:256, :256]
    page[300:700, 300:700] = (pic[:400, :400] * 255).round().astype(np.uint8)
    assert detect_line_screen(page) is None
    # a screen finer than 2.5 px (pixel art's stripes) is not looked for
    fine = replace(PrintSettings(260, 600, 30), spot="line")
    assert detect_line_screen((print_and_scan(pic, fine, np.random.default_rng(1)) * 255).round().astype(np.uint8)) is None


def test_the_line_screen_blur_removes_the_ruling_and_keeps_the_tone() -> None:
    from scipy.ndimage import gaussian_filter

    from enhance.descreen import detect_line_screen
    from enhance.models.lineblur import LineScreenBlur
    from enhance.upscaling import upscale_pixels

    scan, clean = _line_print()
    r = detect_line_screen(scan)
    assert r is not None
    blur = LineScreenBlur(r.period, r.angle)
    out = upscale_pixels(scan, "RGB", blur, tile=128)  # tiled: its context makes the tiles agree
    assert out is not None
    whole = np.clip(np.round(blur(scan.astype(np.float32) / 255) * 255), 0, 255)
    assert np.abs(out.astype(np.float32) - whole)[8:-8, 8:-8].max() <= 1


    def carrier(x: np.ndarray) -> float:  # the ruling's fundamental, its magnitude in the spectrum
        g = x.astype(np.float64).mean(axis=2)
        spec = np.abs(np.fft.fft2(g - g.mean()))
        fy, fx = np.sin(np.deg2rad(r.angle)) / r.period, np.cos(np.deg2rad(r.angle)) / r.period
        iy, ix = int(round(fy * g.shape[0])) % g.shape[0], int(round(fx * g.shape[1])) % g.shape[1]
        return float(spec[iy - 2:iy + 3, ix - 2:ix + 3].max())

    assert carrier(out) < 0.02 * carrier(scan)

    def psnr(x: np.ndarray) -> float:
        return float(10 * np.log10(255 ** 2 / np.mean((x.astype(np.float64) - clean) ** 2)))

    # closer to the print without its screen than the scan, and than the same blur across the
    # ruling's direction turned by 90 degrees
    turned = upscale_pixels(scan, "RGB", LineScreenBlur(r.period, r.angle + 90), tile=128)
    assert psnr(out) > psnr(scan) + 10 and psnr(out) > psnr(turned) + 3
    lo = lambda x: gaussian_filter(x.astype(np.float64), (6, 6, 0))  # noqa: E731
    assert np.abs(lo(out) - lo(scan))[16:-16, 16:-16].mean() < 1.0  # the tone kept, in 8-bit levels
    with pytest.raises(ValueError, match="period"):
        LineScreenBlur(0.5, 0.0)


def test_print_type_removes_a_line_screen_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from enhance.cli import main

    scan, clean = _line_print(100.0, 300.0, 20.0)
    src = tmp_path / "lines.png"
    Image.fromarray(scan).save(src, dpi=(300, 300))
    before = src.read_bytes()
    assert main(["--type=print", "--zoom=1", "-v", "--output", str(tmp_path / "out"), str(src)]) == 0
    assert "line screen detected: period 3.00 px, lines at 110 degrees, about 100 lpi" in capsys.readouterr().err
    out = np.asarray(Image.open(tmp_path / "out" / "lines_ne1x.png").convert("RGB")).astype(np.float64)
    assert src.read_bytes() == before

    def psnr(x: np.ndarray) -> float:
        return float(10 * np.log10(255 ** 2 / np.mean((x - clean.astype(np.float64)) ** 2)))

    assert psnr(out) > psnr(scan.astype(np.float64)) + 10 and psnr(out) > 30


def test_region_mask_takes_in_solid_ink_at_the_photo_edge_and_leaves_the_paper() -> None:
    """A printed photo's solid shadow reaches its edge: no dots there and no hole to fill, yet it
    is the photo's (its box holds it), so the mask covers it; the blank paper and the type
    around the photo, which run on outside the box, stay out."""
    from enhance.descreen import _flat_within_box, screen_map
    from enhance.train.textpage import text_page

    rng = np.random.default_rng(11)
    page = text_page(768, 768, rng, ())
    pic = np.concatenate([np.concatenate([_picture()] * 2, 1)] * 2, 0)[:300, :400].copy()
    pic[:90, :160] = 0.0  # a solid black shadow in the photo's top left corner
    photo = print_and_scan(pic, PrintSettings(133, 400, 30, colour=True), np.random.default_rng(5))
    page[240:540, 40:440] = (photo * 255).round().astype(np.uint8)
    smap = screen_map(page, 400)
    m = smap.region_mask(page)
    assert m[270:320, 70:190].min() > 0.99  # the solid, 30 px inside the photo's edge
    assert m[270:510, 70:410].min() > 0.99  # and the rest of the photo
    outside = np.ones((768, 768), bool)
    outside[240 - 48:540 + 48, :440 + 48] = False
    assert m[outside].max() == 0.0  # the paper and type around it untouched
    # the rule alone: a flat patch mostly inside the box joins, the paper running past it does not
    parts = np.zeros((40, 40), int)
    parts[10:30, 12:30] = 1
    parts[10:18, 12:22] = 0  # the part's solid corner, not screened
    flat = np.ones((40, 40), bool)  # the paper
    flat[9:31, 11:31] = False  # the dots, and the edge round them (detail, not flat)
    flat[10:18, 12:22] = True  # the solid
    got = _flat_within_box(parts, flat)
    assert got[12:16, 14:20].all()  # the solid
    assert not got[:8].any() and not got[:, :10].any() and not got[:, 32:].any()  # the paper


def test_picture_parts_keeps_a_photo_and_its_pieces_and_drops_specks_of_type() -> None:
    """The mask's parts: a printed picture in a screened tile is kept with a piece of it cut off
    in the next tile; a few letters far from it (in an unscreened tile, or a speck in a screened
    one) are dropped, as 300 dpi type beside a 2 px screen left them on a page."""
    from enhance.descreen import NEAR_PERIODS, _picture_parts

    grid = np.zeros((3, 3), bool)
    grid[0, 0] = grid[2, 0] = True  # tiles of 32 px
    parts = np.zeros((96, 96), int)
    parts[0:40, 0:40] = 1  # the picture: 40 x 40 px, 20 periods of 2 px across
    parts[5:15, 44:54] = 2  # a piece of it, 4 px from its box, in an unscreened tile
    parts[80:88, 80:88] = 3  # letters far away, unscreened tile
    parts[70:76, 5:11] = 4  # a speck in a screened tile, 30 px (15 periods) from the picture
    assert 30 / 2 > NEAR_PERIODS
    kept = _picture_parts(parts, grid, 32, 1, (0, 0), 2.0)
    assert set(np.unique(kept)) == {0, 1, 2}
    assert (kept[parts == 1] == 1).all() and (kept[parts == 2] == 2).all()
    # with no picture big enough, the parts in the screened tiles stay (nothing else to go by)
    alone = np.where(parts == 4, 4, 0)
    assert (_picture_parts(alone, grid, 32, 1, (0, 0), 2.0) == alone).all()
    # on a coarser grid (b px a cell, the first cell at an offset) the tiles and sizes scale
    coarse = _picture_parts(parts[::2, ::2], np.pad(grid, ((1, 0), (1, 0))), 32, 2, (32, 32), 2.0)
    assert set(np.unique(coarse)) == {0, 1, 2}


def test_region_mask_leaves_the_type_between_two_photos_in_touching_tiles() -> None:
    """Two photos side by side, their tiles touching, a column of type between them: each photo
    is its own rectangle, so the paper between the lines of type is never taken for a photo's
    blank highlight, and the type stays as it was."""
    from enhance.descreen import screen_map
    from enhance.train.textpage import text_page

    page = text_page(768, 1024, np.random.default_rng(12), ())
    pic = np.concatenate([np.concatenate([_picture()] * 2, 1)] * 2, 0)[:300, :380]
    photo = (print_and_scan(pic, PrintSettings(133, 400, 30, colour=True), np.random.default_rng(5)) * 255).round()
    page[240:540, 20:400] = photo.astype(np.uint8)
    page[240:540, 560:940] = photo.astype(np.uint8)
    smap = screen_map(page, 400)
    assert smap.grid[1].all()  # one row of screened tiles, the type's among them
    m = smap.region_mask(page)
    assert m[270:510, 50:370].min() > 0.99 and m[270:510, 590:910].min() > 0.99
    assert m[:, 440:520].max() == 0.0  # the type between them


def test_a_photos_flat_sky_is_screened_with_the_rest_of_it_and_an_even_ruling_is_not() -> None:
    """The screen map keeps a region of screened tiles when a picture modulates the lattice in
    one of them: tiles of a printed photo's sky (a gentle gradient, no picture of its own) that
    the detector alone would call a tint go with the ground below them; a page of an evenly
    inked dot ruling has no modulated tile and is dropped."""
    from scipy.ndimage import gaussian_filter

    from enhance.descreen import screen_map

    rng = np.random.default_rng(0)
    h, w = 1280, 512
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    pic = np.array([0.55, 0.7, 0.9], np.float32) * (0.97 + 0.06 * yy) * np.ones((h, w, 3), np.float32)
    ground = np.clip(0.4 + gaussian_filter(rng.standard_normal((h - 900, w, 3)), (6, 6, 0)) * 6, 0.05, 0.95)
    pic[900:] = ground
    scan = print_and_scan(pic, PrintSettings(133, 600, 45, colour=True), rng)
    scan8 = (np.clip(scan, 0, 1) * 255).round().astype(np.uint8)
    smap = screen_map(scan8)
    sky = [(i, j) for i in range(3) for j in range(2) if smap.grid[i, j]]
    assert sky  # some of the sky's tiles are in the map
    for i, j in sky:  # ... that the detector alone takes for a tint, not a print
        tile = scan8[i * 256:(i + 1) * 256, j * 256:(j + 1) * 256]
        assert detect_screen(tile, tint=True).found and not detect_screen(tile).found
    assert smap.grid[4:].all()  # the ground
    y, x = np.mgrid[0:1024, 0:1024].astype(np.float32)
    cells = 0.5 + 0.3 * np.cos(2 * np.pi * x / 5.0) * np.cos(2 * np.pi * y / 5.0)  # an even dot ruling
    page = np.repeat(cells[:, :, None], 3, axis=2)
    assert detect_screen(page[:256, :256], tint=True).found  # each tile alone looks like a screen
    assert not screen_map(page).grid.any()


def test_descreened_enlargement_leaves_no_dots_along_the_right_and_bottom_edges() -> None:
    """Tiles padded to the descreener's multiple: replicated edge pixels drew stripes that the
    descreener kept, a fringe of dots along the right and bottom edges of every x2 output whose
    size was not a multiple; mirrored, the screen goes on and is removed there too."""
    from enhance.image import ImageMeta
    from enhance.treatment import ModelRequest, Treatment
    from enhance.upscaling import upscale_pixels

    from benchmarks.pressb import to8

    pic = _picture()[:, :203]  # sides that are no multiple of the model's 16 px
    scan = to8(print_and_scan(pic, PrintSettings(85, 600, 45), np.random.default_rng(2)))
    model, _ = Treatment(ModelRequest(None, 2), auto=True).for_file(scan, ImageMeta("RGB", dpi=(600, 600)))
    out = upscale_pixels(scan, "RGB", model, tile=96)
    assert out is not None and out.shape == (512, 406, 3)
    g = out.astype(np.float64).mean(axis=2)

    def roughness(a: np.ndarray, axis: int) -> float:
        return float(np.abs(np.diff(a, axis=axis)).mean())

    inner = roughness(g[:, -40:-34], 1)
    assert roughness(g[:, -6:], 1) < 2 * inner + 1 and roughness(g[-6:, :], 0) < 2 * inner + 1
