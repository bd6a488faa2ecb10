"""The training command: a tiny run writes a model that enhance uses at once; resume and fine-tune."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.cli import main
from enhance.train.degrade import PRESETS, degrade

from .conftest import smooth_rgb


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for i in range(3):
        Image.fromarray(np.roll(smooth_rgb(64, 72, seed=i), i * 5, axis=1)).save(d / f"t{i}.png")
    (d / "broken.jpg").write_bytes(b"not a jpeg")
    return d


def test_degrade_shapes_and_determinism() -> None:
    hr = smooth_rgb(48, 48)
    a = degrade(hr, 2, PRESETS["faithful"], np.random.default_rng(3), margin=2)
    b = degrade(hr, 2, PRESETS["faithful"], np.random.default_rng(3), margin=2)
    assert a.shape == (20, 20, 3) and np.array_equal(a, b)
    r = degrade(hr, 1, PRESETS["repair"], np.random.default_rng(0))
    assert r.shape == hr.shape and not np.array_equal(r, hr)


def test_training_jpeg_grid_lands_at_the_drawn_phase() -> None:
    """The training JPEG's block grid starts where it was asked to, not always at the crop's
    corner (crops of real JPEGs start anywhere on the grid)."""
    from enhance.models.raisr import _grid_phase
    from enhance.train.degrade import _jpeg

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:160, 0:160].astype(np.float32)
    img = 128 + 60 * np.sin(x / 4 + y / 5) * (((x + y) // 9) % 2) + rng.normal(0, 3, (160, 160))
    rgb = np.repeat(np.clip(img, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    assert _grid_phase(_jpeg(rgb, 20)[:, :, 0].astype(np.float32)) == (0, 0)
    out = _jpeg(rgb, 20, (3, 5))
    assert out.shape == rgb.shape
    # the grid starts 3 rows above and 5 columns left of the crop: same lattice as cropping (3, 5) off
    assert _grid_phase(out[:, :, 0].astype(np.float32)) == (3, 5)


def test_train_generator_then_use_it(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["--train", str(data / "*.*"), "--model", "tiny", "--scales=2", "--epochs=2", "--epoch-size=2",
            "--batch-size=2", "--batch-shape=32", "--generator-blocks=1", "--generator-filters=8", "-q"]
    rc = main(args)
    assert rc == 1  # broken.jpg was reported, the rest trained
    assert "broken.jpg" in capsys.readouterr().err
    model = tmp_path / "ne2x-photo-tiny.safetensors"
    assert model.exists()
    src = tmp_path / "in.png"
    Image.fromarray(smooth_rgb(10, 14)).save(src)
    assert main(["--zoom=2", "--model=tiny", "-q", str(src)]) == 0
    assert Image.open(tmp_path / "in_ne2x.png").size == (28, 20)
    # a second command with the same name fine-tunes the first model (adversarial path included)
    stamp = model.stat().st_mtime_ns
    rc = main(args[:-1] + ["--epochs=2", "--adversary-weight=1e3", "--smoothness-weight=2e4", "--generator-start=0",
                           "--discriminator-start=0", "--adversarial-start=1", "--discriminator-size=8", "-q"])
    assert rc == 1 and model.stat().st_mtime_ns != stamp
    assert (tmp_path / ".enhance-runs" / "ne2x-photo-tiny" / "checkpoint.safetensors").exists()
    # more --generator-blocks grows the model; other changed settings are refused by name
    from enhance.models.generator import load_generator

    capsys.readouterr()
    assert main([a.replace("--generator-blocks=1", "--generator-blocks=2") for a in args[:-1]]) == 1
    assert "growing" in capsys.readouterr().err
    assert load_generator(str(model))[0].config.blocks == 2
    assert main([a.replace("--generator-filters=8", "--generator-filters=16").replace("blocks=1", "blocks=2")
                 for a in args]) == 2
    assert "ne2x-photo-tiny.safetensors exists with other --generator-* settings" in capsys.readouterr().err


def test_train_raisr_then_use_it(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.remove(data / "broken.jpg")
    assert main(["--train", str(data / "*.png"), "--model", "book", "--arch", "raisr", "--scales=2", "-q"]) == 0
    src = tmp_path / "in.png"
    Image.fromarray(smooth_rgb(10, 14)).save(src)
    assert main(["--zoom=2", "--model=book", "-q", str(src)]) == 0
    assert Image.open(tmp_path / "in_ne2x.png").size == (28, 20)


def test_train_own_descreener_then_use_it(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--type=print trains on simulated prints; --type=print --model=NAME then runs that model
    alone (no shipped descreener in front of it), at x1 and chained before a zoom."""
    monkeypatch.chdir(tmp_path)
    os.remove(data / "broken.jpg")
    assert main(["--train", str(data / "*.png"), "--model", "book", "--type=print", "--scales=1", "--epochs=1",
                 "--epoch-size=2", "--batch-size=2", "--batch-shape=32", "--generator-blocks=1",
                 "--generator-filters=8", "--generator-downscale=2", "--generator-residual=0", "-q"]) == 0
    assert (tmp_path / "ne1x-print-book.safetensors").exists()
    from enhance.treatment import load_model

    m = load_model("book", 1, "print", search_dir=tmp_path)
    assert m.name == "book" and m.multiple_of == 4
    src = tmp_path / "in.png"
    Image.fromarray(smooth_rgb(10, 14)).save(src)
    assert main(["--zoom=1", "--type=print", "--model=book", "-q", str(src)]) == 0
    assert Image.open(tmp_path / "in_ne1x.png").size == (14, 10)


def test_train_needs_a_name(tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--train", str(data / "*.png")]) == 2
    assert "--model NAME" in capsys.readouterr().err


def test_perceptual_features_are_pretrained_and_differentiable() -> None:
    import torch

    from enhance.train.features import FeatureNet

    f = FeatureNet("conv2_2")
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    y = f(x)
    assert y.shape == (1, 16, 16, 16)
    y.mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_corpus_limits_read_only_the_first_images_of_a_kind(tmp_path: Path) -> None:
    import json

    from recipes.corpus import load_corpus, load_raisr_set

    entries = []
    for i, kind in enumerate(["clipart", "photo", "clipart", "art", "clipart"]):
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(tmp_path / f"{i}.png")
        entries.append({"file": f"{i}.png", "kind": kind, "size": [8, 8]})
    (tmp_path / "corpus.json").write_text(json.dumps({"images": entries}))
    (tmp_path / "4.png").write_bytes(b"")  # beyond the limit: must not even be read
    images, kinds = load_corpus(tmp_path, limits={"clipart": 2})
    assert kinds == ["clipart", "photo", "clipart", "art"]
    assert [int(a[0, 0, 0]) for a in images] == [0, 1, 2, 3]
    assert [int(a[0, 0, 0]) for a in load_raisr_set(tmp_path, clipart=1)] == [1, 3, 0]  # paintings/photos first


def test_a_deepened_generator_starts_as_the_smaller_one() -> None:
    """Growing a model (more residual blocks, initialised from a shallower one) starts from
    exactly the smaller model's output, so fine-tuning only has to improve on it."""
    import torch

    from enhance.models.generator import Generator, GeneratorConfig
    from enhance.train.loop import _init_generator

    torch.manual_seed(0)
    small = Generator(GeneratorConfig(scale=2, blocks=2, filters=8))
    deep = Generator(GeneratorConfig(scale=2, blocks=5, filters=8))
    _init_generator(deep, small.state_dict(), "small")
    x = torch.rand(1, 3, 12, 10)
    with torch.no_grad():
        assert torch.allclose(deep(x), small(x), atol=1e-6)
    # the new blocks still learn: their second convolution gets a gradient
    deep(x).square().mean().backward()
    assert deep.body[4].conv2.weight.grad is not None and deep.body[4].conv2.weight.grad.abs().sum() > 0


def test_engraving_crops_are_unscreened_line_work() -> None:
    """The print-hatch preset swaps some crops for synthetic engravings: hatched lines whose
    target is themselves (no screen), so the descreener learns to keep such work."""
    from enhance.train.degrade import Degradation, degrade_pair
    from enhance.train.halftone import engraving

    a = engraving(96, 96, np.random.default_rng(4))
    assert a.shape == (96, 96, 3) and a.dtype == np.uint8
    assert np.array_equal(a, engraving(96, 96, np.random.default_rng(4)))
    # line work: strong contrast between ink and paper
    y = a.astype(np.float32).mean(axis=2)
    assert y.max() - y.min() > 120
    hr = np.full((64, 64, 3), 128, np.uint8)
    deg = Degradation(halftone=1.0, engraving=1.0)
    lr, target = degrade_pair(hr, 1, deg, np.random.default_rng(0))
    assert not np.array_equal(target, hr) and target.shape == hr.shape
    assert np.array_equal(lr, target)  # no screen, no noise or JPEG in this preset: input is the target


def test_text_crops_are_typeset_pages_degraded_like_any_crop() -> None:
    """The bicubic-text preset swaps some crops for synthetic pages of type, which are then
    downscaled (never screened) like the rest; without any font file the built-in font serves."""
    from enhance.resize import imresize
    from enhance.train.degrade import Degradation, degrade_pair
    from enhance.train.textpage import text_page

    a = text_page(96, 80, np.random.default_rng(5))
    assert a.shape == (96, 80, 3) and a.dtype == np.uint8
    assert np.array_equal(a, text_page(96, 80, np.random.default_rng(5)))
    assert not np.array_equal(a, text_page(96, 80, np.random.default_rng(6)))
    y = a.astype(np.float32).mean(axis=2)
    assert y.max() - y.min() > 60 and y.std() > 5  # letters stand out of the paper
    b = text_page(64, 64, np.random.default_rng(1), fonts=())
    assert b.shape == (64, 64, 3) and b.astype(np.float32).std() > 3
    hr = np.full((64, 64, 3), 128, np.uint8)
    lr, target = degrade_pair(hr, 2, Degradation(text=1.0, halftone=1.0), np.random.default_rng(0))
    assert not np.array_equal(target, hr) and lr.shape == (32, 32, 3)
    np.testing.assert_allclose(lr, np.clip(np.round(imresize(target.astype(np.float64), output_shape=(32, 32))), 0, 255),
                               atol=1)  # the protocol's bicubic, no halftone applied
    # a preset with no text draws as before: the share is off by default
    assert PRESETS["bicubic"].text == 0 and PRESETS["bicubic-text"].text > 0


def test_text_presets_add_pages_to_their_base_damage() -> None:
    """The ``-text`` presets are their base preset plus a share of pages of type, nothing else."""
    from dataclasses import replace

    for base in ("bicubic", "bicubic-jpeg", "repair"):
        texted = PRESETS[f"{base}-text"]
        assert texted.text > 0 and replace(texted, text=0.0) == replace(PRESETS[base], text=0.0)


def test_point_kernel_is_aliased_lr_and_the_aliased_preset_draws_it() -> None:
    """The ``point`` kernel takes the pixel nearest each LR pixel's centre (as Pillow's NEAREST),
    with no filter: a fine stripe pattern at the LR's Nyquist survives at full contrast, where
    the protocol's antialiased bicubic all but removes it. ``bicubic-aliased-text`` is
    ``bicubic-text`` with a share of box and point LR."""
    from dataclasses import replace

    from enhance.train.degrade import Degradation, degrade_pair

    stripes = np.zeros((48, 48, 3), np.uint8)
    stripes[:, 1::4] = 255  # one bright column in four: period 4 HR px, 2 LR px at x2
    stripes[:, 2::4] = 255
    rng = np.random.default_rng(0)
    point, _ = degrade_pair(stripes, 2, Degradation(kernels=("point",)), rng)
    want = np.asarray(Image.fromarray(stripes).resize((24, 24), Image.NEAREST))
    assert np.array_equal(point, want)
    bic, _ = degrade_pair(stripes, 2, Degradation(), rng)
    assert point[..., 0].std() > 100 and bic[..., 0].std() < 0.5 * point[..., 0].std()
    aliased = PRESETS["bicubic-aliased-text"]
    assert "point" in aliased.kernels and aliased.kernels[0] == "matlab"
    assert replace(aliased, kernels=("matlab",), kernel_weights=(1.0,)) == PRESETS["bicubic-text"]


def test_training_reports_iterations_with_losses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library reports steps (done of total, running losses) and epochs through the callback;
    the command renders them as a bar (a terminal) or epoch lines (a pipe)."""
    from enhance.train.custom import TrainingOptions, train_model

    data = tmp_path / "d"
    data.mkdir()
    for i in range(2):
        Image.fromarray((np.random.default_rng(i).random((48, 48, 3)) * 255).astype(np.uint8)).save(data / f"{i}.png")
    events = []
    opts = TrainingOptions(train=(str(data / "*.png"),), model="tinybar", epochs=2, epoch_size=10, batch_size=2,
                           batch_shape=24, generator_blocks=1, generator_filters=8, output_dir=tmp_path)
    result = train_model(opts, events.append)
    steps = [e for e in events if e.kind == "step"]
    epochs = [e for e in events if e.kind == "epoch"]
    assert result.output is not None and result.output.exists() and len(epochs) == 2
    assert steps and all(e.total == 20 and 0 < e.done <= 20 and e.losses for e in steps)
    assert [e.kind for e in events][0] == "start" and events[-1].kind == "done"


def test_tone_kept_loss_matches_the_wrapper_the_command_runs() -> None:
    """The training loss's ``out - G(out) + G(x)`` is what :class:`ToneKept` computes at
    inference, so the model is trained as it is run."""
    import torch

    from enhance.models.tone import low_pass
    from enhance.train.loop import _tone_kept

    rng = np.random.default_rng(0)
    x, y = rng.random((2, 48, 40, 3)).astype(np.float32)
    want = y - low_pass(y, 3.0) + low_pass(x, 3.0)
    tx, ty = (torch.from_numpy(a).permute(2, 0, 1)[None] for a in (x, y))
    got = _tone_kept(ty, tx, 3.0)[0].permute(1, 2, 0).numpy()
    assert np.abs(got - want).max() < 1e-5


def test_tone_kept_loss_takes_each_images_sigma_from_its_screen_period() -> None:
    """With ``tone_at_period`` each crop's loss keeps tone as the command will for its screen:
    a list of sigmas gives each image of the batch its own low-pass, and the sigma is the
    command's rule (:func:`~enhance.models.tone.sigma_for`)."""
    import torch

    from enhance.models.tone import SIGMA, low_pass, sigma_for
    from enhance.train.loop import _tone_kept

    rng = np.random.default_rng(1)
    x, y = rng.random((2, 2, 40, 40, 3)).astype(np.float32)
    tx, ty = (torch.from_numpy(a).permute(0, 3, 1, 2) for a in (x, y))
    sigmas = [sigma_for(3.0), sigma_for(None)]
    assert sigmas == [pytest.approx(1.8), SIGMA] and sigma_for(20.0) == SIGMA
    got = _tone_kept(ty, tx, sigmas).permute(0, 2, 3, 1).numpy()
    for i, sg in enumerate(sigmas):
        want = y[i] - low_pass(y[i], sg) + low_pass(x[i], sg)
        assert np.abs(got[i] - want).max() < 1e-5
    assert np.abs(got[0] - got[1]).max() > 1e-3  # the two images did not share one sigma
    with pytest.raises(ValueError):
        _tone_kept(ty, tx, [2.0])


def test_sampler_reports_the_period_of_each_lattice_screen_it_printed() -> None:
    """The print simulator tells the loss which screen each crop got: a lattice's period in
    pixels, ``None`` for unscreened crops; the draws themselves are unchanged by asking."""
    from enhance.train.data import PairSampler
    from enhance.train.degrade import PRESETS

    img = np.random.default_rng(2).integers(0, 256, size=(160, 160, 3), dtype=np.uint8)
    a = PairSampler([img], 1, 64, PRESETS["print-wide"], seed=5)
    b = PairSampler([img], 1, 64, PRESETS["print-wide"], seed=5)
    periods: list[float | None] = []
    lr_a, hr_a = a.batch(24, periods)
    lr_b, hr_b = b.batch(24)
    assert np.array_equal(lr_a, lr_b) and np.array_equal(hr_a, hr_b)
    assert len(periods) == 24
    known = [p for p in periods if p is not None]
    assert known and len(known) < 24  # some crops are screened, some not (FM, line, unprinted)
    assert all(2.5 - 1e-9 <= p <= 10.0 + 1e-9 for p in known)


def test_enlarged_preset_shows_the_descreener_screens_as_the_command_enlarges_them() -> None:
    """``print-wide-line-enlarged`` draws the same prints as ``print-wide-line``; a crop with a
    lattice screen comes enlarged by the command's factor (input and target alike, the centre
    kept), so its reported period is the enlarged one, and a crop without one is as before."""
    from enhance.models.tone import enlargement
    from enhance.train.degrade import degrade_pair

    img = smooth_rgb(96, 96, seed=4)
    seen = {"screened": 0, "plain": 0}
    for seed in range(12):
        info: dict[str, float | None] = {}
        lr, hr = degrade_pair(img, 1, PRESETS["print-wide-line"], np.random.default_rng(seed), info=info)
        info_big: dict[str, float | None] = {}
        lr_big, hr_big = degrade_pair(img, 1, PRESETS["print-wide-line-enlarged"], np.random.default_rng(seed),
                                      info=info_big)
        assert lr_big.shape == lr.shape and hr_big.shape == hr.shape
        period = info["period"]
        if period is None or enlargement(period) == 1.0:
            assert np.array_equal(lr_big, lr) and np.array_equal(hr_big, hr)
            assert info_big["period"] == period
            seen["plain"] += 1
            continue
        f = enlargement(period)
        assert info_big["period"] == pytest.approx(period * f)
        # the enlarged target's centre is the target's centre enlarged: its detail spread f times
        c = 48
        small = hr.astype(np.float32)[c - 8:c + 8, c - 8:c + 8]
        big = hr_big.astype(np.float32)[c - round(8 * f):c + round(8 * f), c - round(8 * f):c + round(8 * f)]
        assert abs(small.mean() - big.mean()) < 6.0
        assert np.abs(np.diff(hr_big.astype(np.float32), axis=1)).mean() < np.abs(np.diff(hr.astype(np.float32), axis=1)).mean()
        seen["screened"] += 1
    assert seen["screened"] and seen["plain"]
    with pytest.raises(ValueError):
        degrade_pair(np.zeros((64, 64, 3), np.uint8), 2, PRESETS["print-wide-line-enlarged"], np.random.default_rng(0))


def test_print_settings_reach_the_finest_period_asked_for() -> None:
    """``min_period`` widens the training draw to 300 dpi scans of magazines (1.7 px screens);
    the default draw stays at 2.5 px and up."""
    from enhance.train.halftone import random_settings

    rng = np.random.default_rng(3)
    default = [random_settings(rng).period for _ in range(300)]
    fine = [random_settings(rng, min_period=1.7).period for _ in range(300)]
    assert min(default) >= 2.5 - 1e-9 and max(default) <= 10 + 1e-9
    assert min(fine) >= 1.7 - 1e-9 and sum(p < 2.5 for p in fine) > 30
    assert PRESETS["print-wide-line-enlarged-fine"].min_period == 1.7


def test_bf16_training_learns_and_writes_fp32_weights(tmp_path: Path) -> None:
    """``precision="bf16"`` runs the forward pass under bf16 autocast (about twice as fast on CPUs
    with AVX512-BF16): the loss still falls, and the model file holds fp32 weights, as the
    shipped ones are; an unknown precision is refused before anything is trained."""
    import json
    import struct
    from dataclasses import replace

    from enhance.models.generator_config import GeneratorConfig
    from enhance.train.loop import TrainConfig, train

    from .conftest import smooth_rgb

    images = [smooth_rgb(64, 64, seed=i) for i in range(3)]
    cfg = TrainConfig(scale=2, epochs=3, epoch_size=12, batch_size=4, batch_shape=32, learning_rate=2e-3,
                      schedule="cosine", precision="bf16", seed=3, generator=GeneratorConfig(scale=2, blocks=1, filters=8))
    losses: list[float] = []
    out = train(images, cfg, tmp_path / "run", tmp_path / "m.safetensors",
                progress=lambda p: losses.append(p.losses["pixel"]) if p.epoch_done else None)
    assert len(losses) == 3 and losses[-1] < losses[0]
    raw = Path(out).read_bytes()
    header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F32"}
    with pytest.raises(ValueError, match="precision"):
        train(images, replace(cfg, precision="fp16"), tmp_path / "run2", tmp_path / "m2.safetensors")
    assert not (tmp_path / "m2.safetensors").exists()


def test_a_checkpoint_resumes_on_other_threads_but_not_with_other_settings(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A run stopped after its first epoch goes on from its checkpoint when started again with
    another thread count (how it runs, not what it learns); with another learning rate it is a
    different run: it starts anew and the log names the setting."""
    import logging
    from dataclasses import replace

    from enhance.models.generator_config import GeneratorConfig
    from enhance.train.loop import TrainConfig, train

    from .conftest import smooth_rgb

    images = [smooth_rgb(48, 48, seed=i) for i in range(2)]
    cfg = TrainConfig(scale=2, epochs=3, epoch_size=3, batch_size=2, batch_shape=24, learning_rate=1e-3,
                      save_every=1, seed=5, threads=1, generator=GeneratorConfig(scale=2, blocks=1, filters=8))
    run, out = tmp_path / "run", tmp_path / "m.safetensors"
    seen: list[int] = []
    train(images, cfg, run, out, should_stop=lambda: len(seen) >= 1,
          progress=lambda p: seen.append(p.epoch) if p.epoch_done else None)
    assert seen == [1]
    epochs: list[int] = []
    with caplog.at_level(logging.INFO, logger="enhance.train.loop"):
        train(images, replace(cfg, threads=2), run, out,
              progress=lambda p: epochs.append(p.epoch) if p.epoch_done else None)
    assert epochs == [2, 3] and "resuming" in caplog.text
    caplog.clear()
    seen.clear()
    train(images, replace(cfg, learning_rate=5e-4), run, out, should_stop=lambda: len(seen) >= 1,
          progress=lambda p: seen.append(p.epoch) if p.epoch_done else None)
    assert seen == [1] and "learning_rate differ" in caplog.text


def test_batches_from_worker_processes_are_deterministic() -> None:
    """``workers=0`` gives the one sampler's sequence every CPU run has used; worker processes
    (what a GPU run needs to be fed) give their own sequence, the same on every run of a seed."""
    from enhance.train.data import PairSampler, batches

    from .conftest import smooth_rgb

    images = [smooth_rgb(80, 96, seed=i) for i in range(3)]
    deg = PRESETS["bicubic-jpeg"]
    ref = PairSampler(images, 2, 32, deg, seed=7)
    inline = batches(images, 2, 32, deg, 4, seed=7)
    for _ in range(2):
        lr, hr, periods = next(inline)
        rlr, rhr = ref.batch(4)
        assert np.array_equal(lr, rlr) and np.array_equal(hr, rhr) and periods == [None] * 4
    runs = []
    for _ in range(2):
        stream = batches(images, 2, 32, deg, 4, seed=7, workers=2)
        runs.append([next(stream) for _ in range(4)])
        del stream
    for (a_lr, a_hr, _), (b_lr, b_hr, _) in zip(*runs):
        assert a_lr.dtype == np.uint8 and a_lr.shape == (4, 16, 16, 3) and a_hr.shape == (4, 32, 32, 3)
        assert np.array_equal(a_lr, b_lr) and np.array_equal(a_hr, b_hr)
    assert not np.array_equal(runs[0][0][1], runs[0][1][1])  # the two workers draw different crops


def test_packed_corpus_travels_with_its_fonts_and_reads_as_a_corpus(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``recipes/pack_corpus.py`` makes the small corpus a lent GPU machine gets: lossless crops,
    in the kinds' shares, within the byte budget, the same for a seed, read back by
    ``load_corpus``; and the fonts for its pages of type, which ``ENHANCE_FONT_DIRS`` points to."""
    import json

    from enhance.train.textpage import font_files
    from recipes.corpus import load_corpus
    from recipes.pack_corpus import pack

    from .conftest import smooth_rgb

    src = tmp_path / "corpus"
    src.mkdir()
    entries = []
    for i, kind in enumerate(["photo", "photo", "art", "clipart"]):
        im = smooth_rgb(160, 200, seed=i)
        Image.fromarray(im).save(src / f"{i}.png")
        entries.append({"file": f"{i}.png", "kind": kind, "size": [200, 160]})
    (src / "corpus.json").write_text(json.dumps({"images": entries}))
    fonts = tmp_path / "installed-fonts"
    fonts.mkdir()
    (fonts / "Small.ttf").write_bytes(b"\0" * 1000)
    (fonts / "Large.otf").write_bytes(b"\0" * 5000)
    monkeypatch.setenv("ENHANCE_FONT_DIRS", str(fonts))
    font_files.cache_clear()
    try:
        counts = [pack(src, tmp_path / f"out{k}", mib=0.05, crop=64, font_mib=3000 / 2**20, seed=1) for k in range(2)]
        packed = tmp_path / "out0"
        monkeypatch.setenv("ENHANCE_FONT_DIRS", str(packed / "fonts"))
        font_files.cache_clear()
        assert [Path(f).name for f in font_files()] == ["Small.ttf"]  # the smallest, within the budget
    finally:
        font_files.cache_clear()
    assert counts[0] == counts[1] and counts[0]["photo"] > 0
    images, kinds = load_corpus(packed / "corpus")
    assert len(images) == sum(counts[0].values()) and all(a.shape == (64, 64, 3) for a in images)
    assert sorted(set(kinds)) <= ["art", "clipart", "photo"]
    total = sum(f.stat().st_size for f in (packed / "corpus").glob("*.webp"))
    assert 0.05 * 2**20 <= total < 0.05 * 2**20 + 64 * 64 * 3 * 2  # stops once the budget is spent
    manifest = json.loads((packed / "corpus" / "corpus.json").read_text())
    first = manifest["images"][0]
    y0, y1, x0, x1 = (int(v) for v in first["source"].split("[")[1].rstrip("]").replace(":", ",").split(","))
    original = np.asarray(Image.open(src / first["source"].split("[")[0]).convert("RGB"))
    assert np.array_equal(images[0], original[y0:y1, x0:x1])  # lossless, and the box it names
    assert [(tmp_path / "out1" / "corpus" / e["file"]).read_bytes() for e in manifest["images"][:3]] == \
        [(packed / "corpus" / e["file"]).read_bytes() for e in manifest["images"][:3]]


def test_a_bf16_stage_trains_in_fp32_where_the_cpu_has_no_bf16_units(monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """A recipe stage's bf16 is a preference: on a CPU without bf16 units autocast emulates it
    (40 times slower than fp32 on a Zen 3 EPYC), so the stage runs in fp32 and says so; a CPU
    with them, a GPU, and an fp32 stage keep the stage's precision."""
    import recipes.train_neural as tn

    monkeypatch.setattr(tn, "bf16_supported", lambda: False)
    with caplog.at_level(logging.WARNING):
        assert tn._stage_precision("default-x4-grow", "bf16", "cpu") == "fp32"
    assert "no bf16 units" in caplog.text and "default-x4-grow" in caplog.text
    assert tn._stage_precision("s", "bf16", "cuda") == "bf16"
    assert tn._stage_precision("s", "fp32", "cpu") == "fp32"
    monkeypatch.setattr(tn, "bf16_supported", lambda: True)
    assert tn._stage_precision("s", "bf16", "cpu") == "bf16"
