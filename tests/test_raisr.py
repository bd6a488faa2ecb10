"""RAISR: hashing symmetry, learning that beats its cheap upscale, persistence, no torch import."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from enhance.models.raisr import RaisrConfig, RaisrModel, RaisrUpscaler, _grid_phase, rgb_to_ycbcr, ycbcr_to_rgb
from enhance.train.raisr import RaisrTrainer, _bucket_permutation, _tap_permutation, train_pairs_from_hr

from .conftest import smooth_rgb


def _luma_img(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = 0.5 + 0.3 * np.sin(x / (3 + seed) + y / 5.0) * (((x + y) // 9) % 2)
    return np.clip(img + 0.02 * rng.standard_normal((h, w)), 0, 1).astype(np.float32)


def test_ycbcr_roundtrip() -> None:
    x = smooth_rgb(9, 7).astype(np.float32) / 255.0
    assert np.abs(ycbcr_to_rgb(rgb_to_ycbcr(x)) - x).max() < 1e-4


@pytest.mark.parametrize("cfg", [RaisrConfig(scale=2, patch=5), RaisrConfig(scale=1, patch=5, grid=8)],
                         ids=["x2", "x1-grid8"])
def test_rotation_permutation_matches_rotated_image(cfg: RaisrConfig) -> None:
    def stats(img: np.ndarray) -> RaisrTrainer:
        t = RaisrTrainer(cfg)
        t.strength_thr, t.coherence_thr = np.array([0.02, 0.06]), np.array([0.3, 0.6])
        t.add(*train_pairs_from_hr(img, cfg.scale))
        return t

    img = _luma_img(64, 64, 1)
    base, rot = stats(img), stats(np.ascontiguousarray(np.rot90(img, 1)))
    bp, tp = _bucket_permutation(cfg, 1, False), _tap_permutation(cfg.patch, 1, False)
    moved = np.zeros_like(base.counts)
    np.add.at(moved, bp, base.counts)
    assert np.abs(moved - rot.counts).sum() <= 0.01 * rot.counts.sum()
    b = int(np.argmax(rot.counts))
    pred = sum(base.atb[s][tp] for s in np.flatnonzero(bp == b))
    assert np.allclose(pred, rot.atb[b], rtol=1e-3, atol=1e-3)


def test_learned_filters_beat_cheap_upscale(tmp_path: Path) -> None:
    cfg = RaisrConfig(scale=2, patch=5, angles=8)
    tr = RaisrTrainer(cfg)
    train = [_luma_img(96, 96, s) for s in range(4)]
    tr.fit_thresholds([train_pairs_from_hr(t, 2)[0] for t in train])
    for t in train:
        tr.add(*train_pairs_from_hr(t, 2))
    tr.symmetrise()
    model = tr.solve()
    test = _luma_img(96, 96, 7)
    cheap, target = train_pairs_from_hr(test, 2)
    out = model.filter_luma(cheap)
    err = lambda a: float(np.mean((a[4:-4, 4:-4] - target[4:-4, 4:-4]) ** 2))  # noqa: E731
    assert err(out) < 0.8 * err(cheap)
    path = tmp_path / "ne2x-photo-t.safetensors"
    model.save(str(path))
    again = RaisrModel.load(str(path))
    assert np.array_equal(again.filters, model.filters)
    up = RaisrUpscaler(again)
    assert up(smooth_rgb(10, 12).astype(np.float32)[:, :, :] / 255.0).shape == (20, 24, 3)
    assert up(np.zeros((10, 12, 1), np.float32)).shape == (20, 24, 1)


def _jpeg(y: np.ndarray, quality: int) -> np.ndarray:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.round(y * 255).astype(np.uint8)).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf), np.float32) / 255.0


def test_grid_phase_finds_the_jpeg_lattice_of_a_cropped_image() -> None:
    damaged = _jpeg(_luma_img(160, 160, 2), 20)
    assert _grid_phase(damaged) == (0, 0)
    # cropped at (3, 5): the crop's pixel (5, 3) starts a block, and (5 + 3) % 8 == (3 + 5) % 8 == 0
    assert _grid_phase(damaged[3:, 5:]) == (3, 5)
    assert _grid_phase(damaged[8:, 14:]) == (0, 6)
    assert _grid_phase(_luma_img(160, 160, 2)[3:, 5:]) == (0, 0)  # no lattice: the corner


def test_refining_cascade_trains_saves_and_helps(tmp_path: Path) -> None:
    from enhance.train.raisr import train_filters

    train = [np.repeat((255 * _luma_img(96, 96, s))[..., None], 3, axis=2).astype(np.uint8) for s in range(4)]
    one = train_filters(train, RaisrConfig(scale=2, patch=5, angles=8))
    two = train_filters(train, RaisrConfig(scale=2, patch=5, angles=8, refine_patch=3))
    assert two.refine is not None and two.refine.cfg.patch == 3 and np.array_equal(one.filters, two.filters)
    cheap, target = train_pairs_from_hr(_luma_img(96, 96, 7), 2)
    err = lambda a: float(np.mean((a[8:-8, 8:-8] - target[8:-8, 8:-8]) ** 2))  # noqa: E731
    path = tmp_path / "cascade.safetensors"
    two.save(str(path))
    again = RaisrModel.load(str(path))
    assert again.refine is not None and np.array_equal(again.refine.filters, two.refine.filters)
    out1, out2 = one.filter_luma(cheap), again._stages(cheap, (0, 0))
    assert err(out2) < err(out1)  # the second pass removes part of what the first leaves
    assert RaisrUpscaler(again).context == again.cfg.reach > RaisrUpscaler(one).context


@pytest.mark.parametrize("cfg", [RaisrConfig(scale=2, patch=5, angles=8), RaisrConfig(scale=1, patch=5, angles=8, grid=8),
                                 RaisrConfig(scale=2, patch=5, angles=8, refine_patch=5),
                                 RaisrConfig(scale=4, patch=9, angles=8, sigma=4.0, refine_patch=7)],
                         ids=["x2", "x1-grid8", "x2-cascade", "x4-wide-window"])
def test_band_threads_match_single_pass(cfg: RaisrConfig) -> None:
    rng = np.random.default_rng(0)

    def random_set(c: RaisrConfig) -> RaisrModel:
        return RaisrModel(c, rng.random((c.buckets, c.patch ** 2)).astype(np.float32) / c.patch ** 2, np.array([0.02, 0.05]), np.array([0.3, 0.6]))

    refine = random_set(cfg.refine_config()) if cfg.refine_patch else None
    first = random_set(replace(cfg, refine_patch=0))
    model = RaisrModel(cfg, first.filters, first.strength_thr, first.coherence_thr, refine)
    y = _luma_img(300, 40, 3)
    if cfg.scale == 1:
        y = _jpeg(y, 30)[5:]  # a lattice off the corner: every band must use the same phase
    assert np.allclose(model.upscale_luma(y, threads=1), model.upscale_luma(y, threads=2), atol=1e-5)


def test_raisr_path_never_imports_torch() -> None:
    code = ("import sys, numpy as np; from enhance.models.raisr import RaisrModel, RaisrConfig; "
            "import enhance; enhance.upscale(np.zeros((8, 8, 3), np.uint8), 2, model='bicubic'); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_shipped_raisr_loads_when_present() -> None:
    from enhance.models.registry import list_models
    from enhance.treatment import load_model

    entry = [e for e in list_models() if e.name == "raisr"]
    if not entry:
        pytest.fail("the raisr model is not in the zoo")
    for s in entry[0].scales:
        m = load_model("raisr", s)
        assert m.scale == s


def test_saved_model_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    """safetensors writes owner-only files; a saved model follows the umask like any other file."""
    import os

    cfg = RaisrConfig(scale=2, patch=3, angles=4)
    model = RaisrModel(cfg, np.zeros((cfg.buckets, 9), np.float32), np.array([0.1, 0.2]), np.array([0.3, 0.6]))
    old = os.umask(0o022)
    try:
        model.save(str(tmp_path / "m.safetensors"))
    finally:
        os.umask(old)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o644
