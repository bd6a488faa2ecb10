"""The routing, stated in one place: which models a file goes through, for every
(zoom, model, type, repair, auto, JPEG quality, screened or not, model with or without a variant).

Each row builds one :class:`Treatment`, asks it for one file, and checks the chosen model by its
name and by what it computes: its output on a small tile must equal that of the model the row
names, loaded directly with :func:`load_model`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
from PIL import Image

import enhance
from enhance.cli import main
from enhance.descreen import detect_screen, screen_map
from enhance.errors import ModelError, UsageError
from enhance.image import ImageMeta
from enhance.models.chain import Chain
from enhance.models.classical import ClassicalUpscaler
from enhance.models.generator import Generator, GeneratorConfig, save_generator
from enhance.models.soften import SIGMA, Soften
from enhance.models.tone import at_period
from enhance.treatment import (JPEG_CHAIN, JPEG_LIGHT, JPEG_VARIANT, LIGHT_QUALITIES, REPAIR_AT_OR_BELOW,
                               VARIANT_AT_OR_BELOW, VARIANT_QUALITIES, ModelRequest, Treatment, load_model,
                               wants_repair)
from enhance.train.halftone import PrintSettings, print_and_scan

from .conftest import smooth_rgb


def _picture() -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(5)
    field = gaussian_filter(rng.standard_normal((192, 192, 3)), (12, 12, 0)) * 8
    field += gaussian_filter(rng.standard_normal((192, 192, 3)), (2, 2, 0)) * 0.6
    return np.clip(0.5 + field, 0.05, 0.95).astype(np.float32)


@pytest.fixture(scope="module")
def pictures() -> dict[bool, np.ndarray]:
    """A plain picture and the same picture printed with a 133 lpi screen and scanned at 400 dpi."""
    pic = _picture()
    scan = print_and_scan(pic, PrintSettings(133, 400, 45, colour=True), np.random.default_rng(2))
    return {False: (pic * 255).round().astype(np.uint8), True: (scan * 255).round().astype(np.uint8)}


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a user's model ``toy`` at x2, with a JPEG variant, and at x3 without one."""
    d = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    save_generator(str(d / "ne2x-photo-toy.safetensors"), Generator(GeneratorConfig(scale=2, blocks=1, filters=8)))
    save_generator(str(d / "ne2x-jpeg-toy.safetensors"), Generator(GeneratorConfig(scale=2, blocks=1, filters=8)))
    save_generator(str(d / "ne3x-photo-toy.safetensors"), Generator(GeneratorConfig(scale=3, blocks=1, filters=8)))
    return d


class Row(NamedTuple):
    zoom: int
    model: str | None          # --model (None: the zoom's default)
    type: str | None           # --type
    repair: str                # --repair
    auto: bool                 # --auto
    quality: int | None        # the file's JPEG quality (None: not a JPEG)
    screened: bool             # the file carries a halftone screen
    name: str                  # the chosen model's name
    same_as: tuple             # load_model(*same_as) computes the same
    note: str                  # a note that says why ("" when none is due)


R, X2, X3, X4, L = REPAIR_AT_OR_BELOW, VARIANT_QUALITIES[2], VARIANT_QUALITIES[3], VARIANT_QUALITIES[4], LIGHT_QUALITIES[2]
#: the highest quality the x2 JPEG variant serves: the light variant's band takes over above it
V = min(VARIANT_AT_OR_BELOW, L[0] - 1)
#: ``same_as`` of a row whose model is the repair model before the zoom's plain one
CHAIN = ("repair", "chain")
ROUTES = [
    # the zoom's default model, and the JPEG rule with a variant: within the zoom's band of
    # qualities, the repair chain below it; at x2 the variant for light compression over its band
    Row(2, None, None, "auto", False, None, False, "default", ("default", 2), ""),
    Row(2, None, None, "auto", False, X2[0] - 1, False, "repair+default", CHAIN, "repair model removes it first"),
    Row(2, None, None, "auto", False, X2[0], False, "default", ("default", 2, "jpeg"), "JPEG variant"),
    Row(2, None, None, "auto", False, V, False, "default", ("default", 2, "jpeg"), f"quality {V}"),
    Row(2, None, None, "auto", False, L[0], False, "default", ("default", 2, "jpeg-light"), "light JPEG compression"),
    Row(2, None, None, "auto", False, L[1], False, "default", ("default", 2, "jpeg-light"), f"quality {L[1]}"),
    Row(2, None, None, "auto", False, L[1] + 1, False, "default", ("default", 2), ""),
    Row(3, None, None, "auto", False, X3[0] - 1, False, "repair+default", CHAIN, "repair model removes it first"),
    Row(3, None, None, "auto", False, X3[0], False, "default", ("default", 3, "jpeg"), "JPEG variant"),
    Row(3, None, None, "auto", False, X3[1], False, "default", ("default", 3, "jpeg"), "JPEG variant"),
    Row(3, None, None, "auto", False, LIGHT_QUALITIES[3][0], False, "default", ("default", 3, "jpeg-light"), "light JPEG"),
    Row(3, None, None, "auto", False, LIGHT_QUALITIES[3][1] + 1, False, "default", ("default", 3), ""),
    Row(4, None, None, "auto", False, 20, False, "repair+default", CHAIN, "repair model"),
    Row(4, None, None, "auto", False, X4[0], False, "default", ("default", 4, "jpeg"), "JPEG variant"),
    Row(4, None, None, "auto", False, LIGHT_QUALITIES[4][0] - 1, False, "default", ("default", 4, "jpeg"), "JPEG variant"),
    Row(4, None, None, "auto", False, LIGHT_QUALITIES[4][0], False, "default", ("default", 4, "jpeg-light"), "light JPEG"),
    Row(4, None, None, "auto", False, LIGHT_QUALITIES[4][1], False, "default", ("default", 4, "jpeg-light"), "light JPEG"),
    Row(4, None, None, "auto", False, LIGHT_QUALITIES[4][1] + 1, False, "default", ("default", 4), ""),
    Row(2, None, None, "never", False, 10, False, "default", ("default", 2), ""),
    Row(2, None, None, "always", False, None, False, "default", ("default", 2, "jpeg"), "--repair always"),
    Row(3, None, None, "always", False, 95, False, "default", ("default", 3, "jpeg"), "--repair always"),
    Row(4, None, None, "always", False, 95, False, "default", ("default", 4, "jpeg"), "--repair always"),
    Row(4, "raisr", None, "always", False, 95, False, "repair+raisr", ("raisr", 4, "jpeg"), "--repair always"),
    # auto serves the default model only; always serves any model
    Row(2, "raisr", None, "auto", False, 20, False, "raisr", ("raisr", 2), ""),
    Row(2, "raisr", None, "always", False, None, False, "repair+raisr", ("raisr", 2, "jpeg"), "--repair always"),
    Row(2, "bicubic", None, "always", False, 40, False, "repair+bicubic", ("bicubic", 2, "jpeg"), "repair model"),
    # x1: repair by default, never repaired twice; descreen only with --type=print
    Row(1, None, None, "auto", False, 20, False, "repair", ("repair", 1), ""),
    Row(1, None, None, "always", False, 20, False, "repair", ("repair", 1), ""),
    Row(1, None, "print", "auto", False, 20, True, "descreen", ("default", 1, "print"), "descreening (--type=print)"),
    Row(1, None, "print", "auto", False, None, False, "descreen", ("default", 1, "print"), "no halftone screen detected"),
    # descreening: the descreener knows JPEG itself, so no JPEG treatment on top
    Row(2, None, "print", "auto", False, 30, True, "descreen+default", ("default", 2, "print"), "--type=print"),
    Row(2, None, "print", "always", False, 30, False, "descreen+default", ("default", 2, "print"), "descreening anyway"),
    # --auto: only the screened file is descreened
    Row(2, "bicubic", None, "auto", True, None, True, "descreen+bicubic", ("bicubic", 2, "print"), "descreening (--auto)"),
    Row(2, "bicubic", None, "auto", True, None, False, "bicubic", ("bicubic", 2), ""),
    Row(2, None, None, "auto", True, 30, True, "descreen+default", ("default", 2, "print"), "descreening (--auto)"),
    Row(2, None, None, "auto", True, 50, False, "default", ("default", 2, "jpeg"), "JPEG variant"),
    Row(1, None, None, "auto", True, None, True, "descreen", ("default", 1, "print"), "descreening (--auto)"),
    # without --auto a screened file is only told about it
    Row(2, "bicubic", None, "auto", False, None, True, "bicubic", ("bicubic", 2), "use --type=print (or --auto)"),
    # an explicit content type is the variant asked for: auto leaves its JPEGs alone, always does not
    Row(2, None, "photo", "auto", False, 30, False, "default", ("default", 2, "photo"), "left as it is under --type=photo"),
    Row(2, None, "photo", "always", False, 30, False, "default", ("default", 2, "jpeg"), "--repair always"),
    Row(3, None, "photo", "auto", False, 30, False, "default", ("default", 3), "left as it is"),
    # --type=jpeg is the JPEG treatment already: never a second one
    Row(2, None, "jpeg", "auto", False, 30, False, "default", ("default", 2, "jpeg"), ""),
    Row(3, None, "jpeg", "auto", False, 20, False, "default", ("default", 3, "jpeg"), ""),
    Row(4, None, "jpeg", "always", False, None, False, "default", ("default", 4, "jpeg"), ""),
    Row(4, "raisr", "jpeg", "auto", False, 20, False, "repair+raisr", ("raisr", 4, "jpeg"), ""),
    # --type=aliased: default's variants for it at x2, x3 and x4 (a light blur before the plain
    # model where a model has none: the toy test below); a type asked for, so auto leaves its JPEGs alone
    Row(2, None, "aliased", "auto", False, None, False, "default", ("default", 2, "aliased"), ""),
    Row(3, None, "aliased", "auto", False, None, False, "default", ("default", 3, "aliased"), ""),
    Row(4, None, "aliased", "auto", False, 40, False, "default", ("default", 4, "aliased"),
        "left as it is under --type=aliased"),
]


def _check(treatment: Treatment, row: Row, pixels: np.ndarray, search_dir: Path | str = ".") -> None:
    meta = ImageMeta(layout="RGB", jpeg_quality=row.quality, dpi=(400.0, 400.0) if row.screened else None)
    model, notes = treatment.for_file(pixels, meta)
    assert model.name == row.name and model.scale == row.zoom
    expect = (Chain(load_model("repair", 1), load_model(row.model or "default", row.zoom, search_dir=search_dir))
              if row.same_as == CHAIN else load_model(*row.same_as, search_dir=search_dir))
    if row.screened:  # a descreener keeps the tone over a fraction of the period the detector measured
        found = (screen_map(pixels, 400.0).report if row.auto and row.type != "print" else detect_screen(pixels, 400.0))
        expect = at_period(expect, found.period)
    x = np.random.default_rng(1).random((16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(model(x), expect(x), atol=1e-5)
    if row.note:
        assert any(row.note in n for n in notes), notes
    else:
        assert not [n for n in notes if "JPEG" in n or "descreen" in n], notes


@pytest.mark.parametrize("row", ROUTES, ids=lambda r: f"x{r.zoom}-{r.model}-{r.type}-{r.repair}-auto{int(r.auto)}-"
                                                      f"q{r.quality}-{'screen' if r.screened else 'plain'}")
def test_routing(row: Row, pictures: dict[bool, np.ndarray]) -> None:
    treatment = Treatment(ModelRequest(row.model, row.zoom, row.type), repair=row.repair, auto=row.auto)
    _check(treatment, row, pictures[row.screened])


TOY_ROUTES = [
    # a user's model with a JPEG variant at x2: --repair always gives it; auto serves default only
    Row(2, "toy", None, "always", False, None, False, "toy", ("toy", 2, "jpeg"), "JPEG variant"),
    Row(2, "toy", None, "auto", False, 20, False, "toy", ("toy", 2), ""),
    Row(2, "toy", "jpeg", "auto", False, 20, False, "toy", ("toy", 2, "jpeg"), ""),
    # and without one at x3: the repair model first
    Row(3, "toy", None, "always", False, None, False, "repair+toy", ("toy", 3, "jpeg"), "repair model removes it first"),
]


def test_type_aliased_softens_where_there_is_no_variant_and_keeps_its_model_under_jpeg_repair(
        toy_dir: Path, tmp_path: Path) -> None:
    """Without a variant for aliased input the model runs on the input softened by
    :data:`~enhance.models.soften.SIGMA`; with one (a user's ``ne2x-aliased-toy``) the variant
    runs alone; ``--repair always`` puts the repair model before it, never the model's JPEG
    variant, which would drop it; at x1 the type is refused, as nothing is enlarged."""
    x = np.random.default_rng(3).random((16, 16, 3)).astype(np.float32)
    soft = load_model("toy", 3, "aliased", search_dir=toy_dir)
    assert isinstance(soft, Chain) and isinstance(soft.first, Soften) and soft.first.sigma == SIGMA
    np.testing.assert_allclose(soft(x), load_model("toy", 3, search_dir=toy_dir)(Soften(SIGMA)(x)), atol=1e-6)
    for f in toy_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    torch.manual_seed(1)
    save_generator(str(tmp_path / "ne2x-aliased-toy.safetensors"), Generator(GeneratorConfig(scale=2, blocks=1, filters=8)))
    variant = load_model("toy", 2, "aliased", search_dir=tmp_path)
    assert not isinstance(variant, Chain)
    t = Treatment(ModelRequest("toy", 2, "aliased", model_dir=tmp_path), repair="always")
    m, notes = t.for_file(smooth_rgb(16, 16), ImageMeta(layout="RGB", jpeg_quality=30))
    assert isinstance(m, Chain) and m.name == "repair+toy" and any("--repair always" in n for n in notes)
    np.testing.assert_allclose(m(x), variant(np.clip(load_model("repair", 1)(x), 0, 1)), atol=1e-5)
    with pytest.raises(UsageError, match="zoom over 1"):
        Treatment(ModelRequest(None, 1, "aliased"))


def test_soften_takes_the_fold_of_a_point_sampled_ruling_and_keeps_the_tone() -> None:
    """The blur keeps a flat field and the mean, and takes a part of a checkerboard (the sharpest
    fold an aliased input holds: at sigma 0.4 the sampled kernel keeps 0.83 of it per axis) but
    almost nothing of a ruling of 8 px."""
    s = Soften(0.4)
    flat = np.full((20, 24, 3), 0.3, np.float32)
    np.testing.assert_allclose(s(flat), flat, atol=1e-6)
    yy, xx = np.mgrid[0:32, 0:32]
    fine = np.repeat(((xx + yy) % 2).astype(np.float32)[..., None], 3, axis=2)
    coarse = np.repeat((0.5 + 0.5 * np.cos(2 * np.pi * xx / 8)).astype(np.float32)[..., None], 3, axis=2)
    inner = (slice(4, -4), slice(4, -4))
    assert abs(float(s(fine).mean()) - float(fine.mean())) < 1e-3
    assert np.ptp(s(fine)[inner]) < 0.75 * np.ptp(fine[inner])
    assert np.ptp(s(coarse)[inner]) > 0.95 * np.ptp(coarse[inner])


@pytest.mark.parametrize("row", TOY_ROUTES, ids=lambda r: f"toy-x{r.zoom}-{r.type}-{r.repair}-q{r.quality}")
def test_routing_of_a_users_model(row: Row, toy_dir: Path, pictures: dict[bool, np.ndarray]) -> None:
    treatment = Treatment(ModelRequest(row.model, row.zoom, row.type, model_dir=toy_dir), repair=row.repair)
    _check(treatment, row, pictures[row.screened], toy_dir)


def test_the_jpeg_rule() -> None:
    q = REPAIR_AT_OR_BELOW
    assert wants_repair("auto", "default", 2, q) and not wants_repair("auto", "default", 2, q + 1)
    assert wants_repair("auto", "default", 2, VARIANT_AT_OR_BELOW, variant=True) == JPEG_VARIANT
    assert not wants_repair("auto", "default", 2, VARIANT_AT_OR_BELOW + 1, variant=True)
    # a zoom's band: the variant within it, the chain below it (as far as the chain goes), nothing above
    lo, hi = VARIANT_QUALITIES[3]
    assert wants_repair("auto", "default", 3, lo, variant=True) == wants_repair("auto", "default", 3, hi, variant=True) == JPEG_VARIANT
    assert wants_repair("auto", "default", 3, lo - 1, variant=True) == JPEG_CHAIN
    assert wants_repair("auto", "default", 3, hi + 1, variant=True) is None
    assert wants_repair("always", "default", 3, 95, variant=True) == JPEG_VARIANT
    assert wants_repair("always", "default", 3, 95) == JPEG_CHAIN
    assert not wants_repair("auto", "default", 2, None)  # not a JPEG
    assert not wants_repair("auto", "raisr", 2, 20)  # auto serves the default model only
    assert not wants_repair("auto", "default", 2, 20, descreening=True)  # the descreener knows JPEG itself
    assert wants_repair("always", "raisr", 3, None) and not wants_repair("always", "repair", 1, 20)
    assert not wants_repair("never", "default", 2, 10)
    assert not wants_repair("auto", "default", 2, 20, type_given=True) and wants_repair("always", "default", 2, 20, type_given=True)
    with pytest.raises(ValueError):
        wants_repair("sometimes", "default", 2, 10)
    with pytest.raises(ValueError):
        Treatment(ModelRequest("bicubic", 2), repair="sometimes")


def test_the_light_variant_takes_its_band_of_qualities() -> None:
    """Where the model has a variant for lightly compressed files, ``auto`` gives it the files
    of its band (over the JPEG variant's top where the bands meet), nothing above it, and the
    JPEG variant or the chain below it as before; ``always`` still gives the JPEG variant."""
    lo, hi = LIGHT_QUALITIES[2]
    assert lo <= VARIANT_AT_OR_BELOW + 1 and hi > VARIANT_AT_OR_BELOW
    for q in (lo, hi):
        assert wants_repair("auto", "default", 2, q, variant=True, light=True) == JPEG_LIGHT
    assert wants_repair("auto", "default", 2, hi + 1, variant=True, light=True) is None
    assert wants_repair("auto", "default", 2, lo - 1, variant=True, light=True) == JPEG_VARIANT
    assert wants_repair("auto", "default", 2, 50, variant=True, light=True) == JPEG_VARIANT
    assert wants_repair("auto", "default", 2, hi, variant=True) is None  # without one, as before
    assert wants_repair("auto", "default", 1, hi, light=True) is None  # no band at x1
    lo4, hi4 = LIGHT_QUALITIES[4]  # at x4 it takes the top of the JPEG variant's band (60-85)
    assert lo4 <= VARIANT_QUALITIES[4][1] < hi4
    assert wants_repair("auto", "default", 4, lo4, variant=True, light=True) == JPEG_LIGHT
    assert wants_repair("auto", "default", 4, lo4 - 1, variant=True, light=True) == JPEG_VARIANT
    assert wants_repair("auto", "default", 4, lo4, variant=True) == JPEG_VARIANT  # without one, as before
    assert wants_repair("always", "default", 2, hi, variant=True, light=True) == JPEG_VARIANT
    assert not wants_repair("auto", "default", 2, hi, light=True, type_given=True)
    assert not wants_repair("auto", "default", 2, hi, light=True, descreening=True)


def test_request_carries_the_zoom_and_a_model_must_match_it() -> None:
    assert ModelRequest(zoom=1).model == "repair" and ModelRequest(zoom=1, type="print").model == "default"
    assert ModelRequest(zoom=3).model == "default" and ModelRequest("raisr", 3).model == "raisr"
    with pytest.raises(ModelError, match="x2, but zoom 3"):
        Treatment(ModelRequest("bicubic", 3), model=ClassicalUpscaler("bicubic", 2))
    with pytest.raises(ModelError, match="unknown model"):
        Treatment(ModelRequest("nonesuch", 2))
    with pytest.raises(ModelError, match="no x1 version"):
        Treatment(ModelRequest("default", 1))
    with pytest.raises(ModelError):
        load_model("bicubic", 2, ensemble=3)


def test_models_load_once_per_treatment(monkeypatch: pytest.MonkeyPatch, pictures: dict[bool, np.ndarray]) -> None:
    """The main model when the treatment is built; the print and JPEG treatments on the first
    file that needs each, and never again."""
    import enhance.treatment as tr

    opened: list[tuple[str, int, str | None]] = []
    real = tr.open_model

    def counting(name: str, zoom: int, type: str | None = None, **kw: object) -> object:
        opened.append((name, zoom, type))
        return real(name, zoom, type, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(tr, "open_model", counting)
    t = Treatment(ModelRequest("bicubic", 2), repair="always", auto=True)
    assert opened == [("bicubic", 2, None)]
    for _ in range(3):
        t.for_file(pictures[True], ImageMeta(layout="RGB", dpi=(400.0, 400.0)))
        t.for_file(pictures[False], ImageMeta(layout="RGB", jpeg_quality=20))
    # the JPEG chain reuses the main model: only the print chain opens a second bicubic
    assert sorted(n for n, _, _ in opened) == ["bicubic", "bicubic", "descreen", "repair"]


def test_a_loaded_model_gets_the_repair_chain(tmp_path: Path) -> None:
    """upscale() with a loaded model: its name is what the JPEG rule sees, and the JPEG
    treatment is the repair model first (a loaded model has no variants to look up)."""
    base = load_model("default", 3)
    t = Treatment(ModelRequest(base.name, 3), model=base, detect_screens=False)
    m, notes = t.for_file(smooth_rgb(16, 16), ImageMeta(layout="RGB", jpeg_quality=30))
    assert isinstance(m, Chain) and m.then is base and m.name == "repair+default" and "repair model" in notes[0]
    m, _ = t.for_file(smooth_rgb(16, 16), ImageMeta(layout="RGB", jpeg_quality=90))
    assert m is base


def _jpeg(path: Path, quality: int, h: int = 24, w: int = 32) -> Path:
    rng = np.random.default_rng(quality)
    a = np.clip(smooth_rgb(h, w).astype(np.int16) + rng.integers(-40, 40, (h, w, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(a).save(path, quality=quality)
    return path


def test_library_repairs_a_pil_jpeg_in_auto_mode(tmp_path: Path) -> None:
    im = Image.open(_jpeg(tmp_path / "bad.jpg", 20))
    auto = np.asarray(enhance.upscale(im, 2))
    never = np.asarray(enhance.upscale(im, 2, repair="never"))
    assert auto.shape == never.shape == (48, 64, 3) and not np.array_equal(auto, never)
    arr = np.asarray(im.convert("RGB"))  # an array carries no JPEG tables: auto leaves it alone
    assert np.array_equal(np.asarray(enhance.upscale(arr, 2)), never)


def test_command_uses_a_variant_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A user's model with a JPEG variant in the working folder: the command gives a JPEG the
    variant (``--repair always``; auto serves ``default`` only)."""
    from enhance.image import open_image
    from enhance.upscaling import upscale_pixels

    torch.manual_seed(0)
    for kind in ("photo", "jpeg"):
        save_generator(str(tmp_path / f"ne2x-{kind}-toy.safetensors"), Generator(GeneratorConfig(scale=2, blocks=1, filters=8)))
    variant = load_model("toy", 2, "jpeg", search_dir=tmp_path)
    assert not isinstance(variant, Chain)
    monkeypatch.chdir(tmp_path)
    bad = _jpeg(tmp_path / "bad.jpg", 30)
    assert main(["--zoom=2", "--model=toy", "--repair=always", "-o", "out", str(bad)]) == 0
    assert "JPEG variant" in capsys.readouterr().err
    pixels, _ = open_image(bad)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "bad_ne2x.png")), upscale_pixels(pixels, "RGB", variant))


def test_type_jpeg_is_not_treated_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--type=jpeg already picks the JPEG treatment; --repair auto must not chain another repair."""
    calls: list[int] = []
    real_init = Chain.__init__

    def counting(self: Chain, first: object, then: object) -> None:
        calls.append(1)
        real_init(self, first, then)  # type: ignore[arg-type]

    monkeypatch.setattr(Chain, "__init__", counting)
    bad = _jpeg(tmp_path / "bad.jpg", 20)
    assert main(["--zoom=3", "--model=raisr", "-q", "--type=jpeg", "-o", str(tmp_path / "o"), str(bad)]) == 0
    assert len(calls) == 1  # one repair chain (raisr has no JPEG variant)
    calls.clear()
    enhance.upscale(Image.open(bad), 3, "raisr", type="jpeg")
    assert len(calls) == 1
    calls.clear()
    enhance.upscale(Image.open(bad), 3, type="jpeg")  # the x3 variant: no chain at all, even at quality 20
    assert not calls


MISUSE = {
    "4-D array": (lambda: enhance.upscale(np.zeros((2, 4, 4, 3), np.uint8), 2, "bicubic"), "image must be (H, W) or (H, W, C)"),
    "1-D array": (lambda: enhance.upscale(np.zeros(8, np.uint8), 2, "bicubic"), "image must be (H, W) or (H, W, C)"),
    "0-D array": (lambda: enhance.upscale(np.array(3, np.uint8), 2, "bicubic"), "image must be (H, W) or (H, W, C)"),
    "None": (lambda: enhance.upscale(None, 2, "bicubic"), "image must be a PIL image or a NumPy array"),  # type: ignore[arg-type]
    "empty": (lambda: enhance.upscale(np.zeros((0, 5, 3), np.uint8), 2, "default"), "image is empty"),
    "6 channels": (lambda: enhance.upscale(np.zeros((4, 4, 6), np.uint8), 2, "bicubic"), "has 6 channels"),
    "NaN": (lambda: enhance.upscale(np.full((4, 4, 3), np.nan, np.float32), 2, "bicubic"), "NaN or infinite"),
    "int64": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.int64), 2, "bicubic"), "uint8, uint16 or float"),
    # 0-255 floats came out white, clipped without a word
    "0-255 floats": (lambda: enhance.upscale(np.full((4, 4, 3), 200.0), 2, "bicubic"), "divide by 255"),
    "tile 16 overlap 8": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.uint8), 2, "bicubic", tile=16, overlap=8),
                          "under half the tile"),
    "model None": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.uint8), 2, None), "model must be"),  # type: ignore[arg-type]
    "bogus type": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.uint8), 2, "bicubic", type="bogus"), "unknown type 'bogus'"),
    "tpu": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.uint8), 2, "bicubic", device="tpu"), "device must be"),
    "zoom 17": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.uint8), 17, "bicubic"), "zoom must be a number from 1 to 16"),
    "tile 0": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.uint8), 2, "bicubic", tile=0), "tile must be"),
    "overlap -1": (lambda: enhance.upscale(np.zeros((4, 4, 3), np.uint8), 2, "bicubic", overlap=-1), "overlap must be"),
    "layout": (lambda: enhance.upscale_pixels(np.zeros((4, 4, 3), np.uint8), "RGBA", load_model("bicubic", 2)),
               "3 channels, layout RGBA has 4"),
    "bad layout": (lambda: enhance.upscale_pixels(np.zeros((4, 4, 3), np.uint8), "XYZ", load_model("bicubic", 2)),
                   "layout 'XYZ'"),
}


@pytest.mark.parametrize("case", MISUSE, ids=list(MISUSE))
def test_library_misuse_is_a_clear_value_error(case: str) -> None:
    call, message = MISUSE[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_float64_comes_back_float64() -> None:
    x = np.random.default_rng(0).random((6, 5, 3))
    out = enhance.upscale(x, 2, "bicubic")
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (12, 10, 3)
    gray = enhance.upscale(x[:, :, 0], 2, "bicubic")
    assert isinstance(gray, np.ndarray) and gray.dtype == np.float64 and gray.shape == (12, 10)


def test_zoom_plans() -> None:
    from enhance.treatment import zoom_plan

    assert [zoom_plan(z) for z in (1, 2, 3, 4)] == [(1,), (2,), (3,), (4,)]
    assert [zoom_plan(z) for z in (6, 8, 9, 12, 16)] == [(3, 2), (4, 2), (3, 3), (4, 3), (4, 4)]
    assert [zoom_plan(z) for z in (1.5, 2.5, 5, 7, 10)] == [(2,), (3,), (3, 2), (4, 2), (4, 3)]


def test_zoom_8_is_x4_then_x2_and_1_5_is_x2_brought_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = Treatment(ModelRequest("bicubic", 8))
    assert t.model.name == "bicubic+bicubic" and t.model.scale == 8 and t.exact and t.output_size(5, 7) == (40, 56)
    x = np.random.default_rng(0).random((6, 6, 3)).astype(np.float32)
    two = load_model("bicubic", 2)
    np.testing.assert_allclose(t.model(x), two(np.clip(load_model("bicubic", 4)(x), 0, 1)), atol=1e-6)
    src = tmp_path / "a.png"
    Image.fromarray(smooth_rgb(10, 14)).save(src, dpi=(100, 100))
    assert main(["--zoom=8", "--model=bicubic", "-q", str(src)]) == 0
    assert Image.open(tmp_path / "a_ne8x.png").size == (112, 80)
    assert main(["--zoom=1.5", "--model=bicubic", str(src)]) == 0
    out = Image.open(tmp_path / "a_ne1.5x.png")
    assert out.size == (21, 15) and round(out.info["dpi"][0]) == 150
    assert "then brought down to 21x15 with Lanczos" in capsys.readouterr().err
    small = enhance.upscale(np.zeros((10, 14, 3), np.uint8), 2.5, "bicubic")
    assert isinstance(small, np.ndarray) and small.shape == (25, 35, 3)
    with pytest.raises(SystemExit):
        main(["--zoom=17", str(src)])


def test_zoom_8_treats_a_jpeg_in_its_first_step(pictures: dict[bool, np.ndarray]) -> None:
    """The JPEG rule is the first model's (x4: the repair chain below its variant's band, the
    variant within it, the variant for light compression above it), then x2."""
    t = Treatment(ModelRequest(None, 8), detect_screens=False)
    m, notes = t.for_file(pictures[False][:32, :32], ImageMeta(layout="RGB", jpeg_quality=40))
    assert m.name == "repair+default+default" and m.scale == 8 and "repair model removes it first" in notes[0]
    m, notes = t.for_file(pictures[False][:32, :32], ImageMeta(layout="RGB", jpeg_quality=80))
    assert m is not t.model and m.name == "default+default" and m.scale == 8 and "JPEG variant" in notes[0]
    m, notes = t.for_file(pictures[False][:32, :32], ImageMeta(layout="RGB", jpeg_quality=90))
    assert m is not t.model and m.scale == 8 and "light JPEG" in notes[0]
    m, notes = t.for_file(pictures[False][:32, :32], ImageMeta(layout="RGB", jpeg_quality=95))
    assert m is t.model and not notes


def test_a_line_screen_is_blurred_across_its_lines_with_print_or_auto_and_only_told_of_otherwise() -> None:
    from enhance.descreen import detect_line_screen
    from enhance.models.lineblur import LineScreenBlur

    from .test_descreen import _line_print

    scan, _ = _line_print()
    line = detect_line_screen(scan)
    assert line is not None
    meta = ImageMeta(layout="RGB", jpeg_quality=30)
    x = np.random.default_rng(1).random((40, 40, 3)).astype(np.float32)
    blur = LineScreenBlur(line.period, line.angle)
    for zoom, name, type_, auto, then in [(1, None, "print", False, None), (1, None, None, True, None),
                                          (2, None, "print", False, ("default", 2)), (2, "bicubic", None, True, ("bicubic", 2))]:
        model, notes = Treatment(ModelRequest(name, zoom, type_), auto=auto).for_file(scan, meta)
        expect = blur if then is None else Chain(blur, load_model(*then))
        assert model.scale == zoom and model.context >= blur.context
        np.testing.assert_allclose(model(x), expect(x), atol=1e-5)
        assert any("line screen detected: period 4.51 px" in n and "blur across its lines" in n for n in notes), notes
        assert not any("JPEG" in n for n in notes), notes  # the blur takes the JPEG damage too
    # without --type=print or --auto the file is only told about
    model, notes = Treatment(ModelRequest("bicubic", 2)).for_file(scan, ImageMeta(layout="RGB"))
    np.testing.assert_allclose(model(x), load_model("bicubic", 2)(x), atol=1e-6)
    assert any("line screen detected" in n and "use --type=print" in n for n in notes), notes


def test_type_print_finds_the_screen_of_a_photo_off_the_pages_centre() -> None:
    """``--type=print`` on a page whose centre is type: the detector's centre square finds no
    screen there, so the screen map finds the photo's, and the descreener runs at its period
    (enlarged, its tone kept over it) rather than blind."""
    from enhance.train.textpage import text_page

    from .test_descreen import _picture

    page = text_page(1024, 1024, np.random.default_rng(12), ())
    pic = np.concatenate([np.concatenate([_picture()] * 2, 1)] * 2, 0)[:300, :400]
    photo = print_and_scan(pic, PrintSettings(133, 400, 30, colour=True), np.random.default_rng(5))
    page[20:320, 20:420] = (photo * 255).round().astype(np.uint8)
    assert not detect_screen(page, 400.0, tint=True).found  # the centre square is all type
    found = screen_map(page, 400.0).report
    assert found.found and found.period == pytest.approx(400 / 133, rel=0.05)
    model, notes = Treatment(ModelRequest(None, 1, "print")).for_file(page, ImageMeta("RGB", dpi=(400.0, 400.0)))
    assert any("halftone screen detected" in n and "--type=print" in n for n in notes), notes
    x = np.random.default_rng(1).random((40, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(model(x), at_period(load_model("default", 1, "print"), found.period)(x), atol=1e-5)
