"""What happens to this file: which models run on it, and in what order. Decided here, once.

The command, :func:`upscale`, the benchmarks' tracks (and the web server and cluster workers
built on them) each make one :class:`Treatment` from a :class:`ModelRequest` and ask it, file
by file, :meth:`Treatment.for_file`. Every rule lives in this module and nowhere else:

* the model for a zoom: ``default``, or ``repair`` at ``--zoom=1`` (unless descreening);
* descreening (``type="print"``): the ``descreen`` model (x1) before the named model, unless
  that model has a print variant of its own; at x1 with ``default`` it descreens only;
* ``auto``: only the files in which a halftone screen is found are descreened (the print
  treatment, loaded on the first such file); the detector runs over the page in tiles
  (:func:`~enhance.descreen.screen_map`), and on a page where only some regions carry a screen
  (a photo among type) only those are descreened, feathered into the rest, which the plain path
  makes (:class:`~enhance.upscaling.Regional`);
* an aliased input (``type="aliased"``): the model's variant for it where it has one at the
  zoom, else a light blur (:class:`~enhance.models.soften.Soften`) before the plain model;
  never at x1, where nothing is enlarged;
* the JPEG treatment (``repair``): the model's JPEG variant where it has one at this zoom, else
  the ``repair`` model (x1) first; ``"auto"`` gives it to JPEG files when enlarging with
  ``default``: with a variant, to those whose quality lies in the zoom's band of
  :data:`VARIANT_QUALITIES` (below the band the chain, up to :data:`REPAIR_AT_OR_BELOW`), and
  with a variant for light compression (``type="jpeg-light"``, x2, x3 and x4) to those in its band of
  :data:`LIGHT_QUALITIES`, which takes over the top of the JPEG variant's,
  without one the chain to those at :data:`REPAIR_AT_OR_BELOW` or below; ``"always"`` gives
  every file the variant (or the chain); ``"never"`` none.
  A descreened file never gets it (the descreener was trained on JPEG'd scans itself), nor does
  ``type="jpeg"``, whose model is the JPEG treatment already. An explicit content type
  (``type="photo"``) is the variant the user asked for: ``"auto"`` leaves its JPEGs alone
  (saying so), ``"always"`` still treats them.

Thresholds, measured on the public bench (``python -m benchmarks jpeg``, x2, PSNR-Y against the
HR): the repair chain against the model alone, +0.92 dB at quality 30, +0.64 at 50, +0.44 at 60,
+0.14 at 70, -0.07 at 75, -0.34 at 80, -1.2 at 90 (the repair model, trained on quality 10-60,
smooths detail the file still has); the x2 JPEG variant against the x2 model alone, +0.39 dB at
80, +0.07 at 85, -0.39 at 90, -1.02 at 95. At x3 (``python -m benchmarks jpeg --scale 3`` and
qualities 40, 60, 80 measured alike; PSNR-Y / SSIMULACRA2) the x3 variant against the chain:
-0.12 / -2.9 at 30, -0.02 / -0.7 at 40, +0.07 / +1.1 at 50, +0.16 / +2.6 at 60, +0.31 / +4.7 at
70; against the model alone, +0.49 / +0.5 at 80, +0.31 / -1.8 at 85, -0.27 / -9.1 at 95. At x4
the x4 variant against the chain: -0.13 / -3.8 at 30, -0.07 / -2.4 at 40, +0.01 / -0.8 at 50,
+0.07 / +1.1 at 60, +0.18 / +3.4 at 70; against the model alone, +0.32 / +3.5 at 80, +0.17 / +0.4
at 85, -0.31 / -10.7 at 95. The x2 variant for light compression (session 22; bench and the
unseen track's 15 images saved small as JPEG, PSNR-Y / SSIMULACRA2) against what the command did
before it: against the JPEG variant -0.10 / +1.4 at 80 (bench; unseen -0.29 / -0.2), +0.10 / +2.7
at 85 (unseen +0.06 / +1.5); against the model alone +0.48 / +0.7 at 88 (unseen +1.07 / +1.9),
+0.40 / +0.2 at 90 (+0.99 / +1.5), +0.22 / -0.8 at 93 (+0.79 / +0.8), +0.06 / -1.6 at 95
(+0.60 / +0.1). The x3 one against the plain x3: +0.35 / +1.7 at 83 (unseen +0.68 / +2.6), +0.32
/ +1.4 at 85, +0.23 / +0.2 at 90, +0.14 / -0.8 at 93 (+0.46 / +0.2); at 80 the x3 JPEG variant
leads it by 0.12 dB. The x4 one (session 23) against the x4 JPEG variant: -0.06 / +0.0 at 80
(unseen -0.02 / -0.3), +0.01 / +1.4 at 83 (+0.09 / +0.9), +0.05 / +2.3 at 85 (+0.17 / +1.9);
against the plain x4: +0.22 / +2.5 at 88 (+0.60 / +4.0), +0.18 / +1.6 at 90, +0.11 / +0.1 at 93
(+0.44 / +1.6), +0.04 / -1.6 at 95 (+0.33 / -0.1). At x2, since the repair model's second
18-block cycle (session 26), the chain against the x2 JPEG variant (bench, then the unseen
track): +0.19 / +3.7 at 20 (+0.37 / +4.2), +0.03 / +1.6 at 30 (+0.12 / +1.3), -0.04 / +0.8 at
34 (+0.04 / +0.7), -0.08 / +0.3 at 37 (-0.07 / -0.1), -0.13 / -0.2 at 40 (-0.11 / -0.7): the x2
band starts at 34.
"""

from __future__ import annotations

import builtins
import logging
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PIL import Image

from .errors import ModelError, UsageError
from .image import ImageMeta, from_pil, layout_for_channels, to_pil
from .models.base import Upscaler
from .models.chain import Chain
from .models.ensemble import PASSES, Ensemble
from .models.registry import has_variant, list_models, open_model
from .models.tone import ToneKept, at_period, is_bilevel
from .upscaling import DEFAULT_OVERLAP, DEFAULT_TILE, Regional, check_pixels, resize_to, upscale_pixels

if TYPE_CHECKING:
    from .descreen import LineScreen

log = logging.getLogger(__name__)

__all__ = ["ModelRequest", "Treatment", "auto_jpeg_limit", "load_model", "upscale", "wants_repair", "zoom_plan", "REPAIR_MODES",
           "REPAIR_AT_OR_BELOW", "VARIANT_AT_OR_BELOW", "VARIANT_QUALITIES", "LIGHT_QUALITIES", "JPEG_VARIANT", "JPEG_LIGHT",
           "JPEG_CHAIN", "DESCREEN",
           "REPAIR"]

#: The x1 model that removes halftone screens (``type="print"``).
DESCREEN = "descreen"
#: The x1 model that removes JPEG damage, run first where a model has no JPEG variant.
REPAIR = "repair"
#: ``auto`` gives the repair chain to JPEG sources whose estimated quality is at most this
REPAIR_AT_OR_BELOW = 70
#: ``auto`` gives the model's JPEG variant, where it has one, to JPEG sources up to this quality
#: (at a zoom :data:`VARIANT_QUALITIES` does not list)
VARIANT_AT_OR_BELOW = 85
#: per zoom, the qualities (lowest, highest) of the JPEG files ``auto`` gives the variant to;
#: below the lowest the repair chain does better (module docstring: measured on the JPEG track)
VARIANT_QUALITIES: dict[int, tuple[int, int]] = {2: (34, VARIANT_AT_OR_BELOW), 3: (50, 80), 4: (60, 85)}
#: per zoom, the qualities (lowest, highest) of the JPEG files ``auto`` gives the model's variant
#: for lightly compressed files (``type="jpeg-light"``, trained on quality 75-97) to, where it has
#: one; it takes precedence over the JPEG variant's band where the two meet (module docstring)
LIGHT_QUALITIES: dict[int, tuple[int, int]] = {2: (85, 93), 3: (81, 93), 4: (83, 93)}
#: :func:`wants_repair`'s answers: the model's JPEG variant, its variant for light compression,
#: or the repair model first
JPEG_VARIANT, JPEG_LIGHT, JPEG_CHAIN = "variant", "light", "chain"
#: the model type each variant answer loads
_VARIANT_TYPES = {JPEG_VARIANT: "jpeg", JPEG_LIGHT: "jpeg-light"}
#: an aliased low-resolution input (a scanner that samples points, a nearest-neighbour resize):
#: the model's variant trained on aliased reductions where it has one at the zoom, else the
#: plain model after a light blur (:class:`~enhance.models.soften.Soften`)
ALIASED = "aliased"
#: the types that are treatments rather than variants: the descreen chain, the JPEG treatment,
#: the aliased-input treatment
TREATMENT_TYPES = ("print", "jpeg", ALIASED)
#: the types whose treatment covers a JPEG's damage itself (the descreener was trained on JPEG'd
#: scans; ``jpeg`` is the JPEG treatment)
_JPEG_COVERED = ("print", "jpeg")
#: ``auto``: JPEG sources compressed hard enough, with the ``default`` model; ``always``: every
#: file, before any model; ``never``
REPAIR_MODES = ("auto", "always", "never")


#: the zooms the models have; larger ones are products of these, run one after the other
MODEL_ZOOMS = (1, 2, 3, 4)
#: the largest zoom asked for
MAX_ZOOM = 16


def zoom_plan(zoom: float) -> tuple[int, ...]:
    """The model zooms that make ``zoom``, largest first: 1-4 as they are; 6, 8, 9, 12, 16 as
    products (8 is x4 then x2); any other zoom as the plan of the next such integer above it,
    whose output is then brought down to the exact size with Lanczos (1.5 is x2 then down).

    Example:
        >>> zoom_plan(8), zoom_plan(2.5), zoom_plan(5)
        ((4, 2), (3,), (3, 2))
    """
    n = max(1, math.ceil(zoom - 1e-9))
    while True:
        if n in MODEL_ZOOMS:
            return (n,)
        for a in (4, 3, 2):
            if n % a == 0 and (n // a) in MODEL_ZOOMS[1:]:
                return (a, n // a)
        n += 1


@dataclass(frozen=True)
class ModelRequest:
    """The models a user asked for: everything needed to load them, and nothing else.

    Attributes:
        name: registry name; None for the zoom's default (:attr:`model`).
        zoom: the enlargement, 1 (repair, descreen) to 16, not necessarily whole (1.5); the one
            carrier of the zoom (:func:`zoom_plan` says which models make it).
        type: content type ("photo", "print", "jpeg", ...; None for the model's plain variant).
        device: "cpu" or "cuda" (neural models).
        precision: "auto", "fp32" or "bf16" (neural models).
        backend: "auto", "onnxruntime" or "torch" (neural models).
        ensemble: orientations averaged per tile: 1, 2, 4 or 8.
        model_dir: folder searched for a user's ``ne{zoom}x-{type}-{name}.safetensors``.
    """

    name: str | None = None
    zoom: int = 2
    type: str | None = None
    device: str = "cpu"
    precision: str = "auto"
    backend: str = "auto"
    ensemble: int = 1
    model_dir: Path = field(default_factory=lambda: Path("."))

    def __post_init__(self) -> None:
        if self.name is not None and not isinstance(self.name, str):
            raise UsageError(f"model must be a registry name or a loaded model, not {type(self.name).__name__}")
        if not isinstance(self.zoom, (int, float)) or isinstance(self.zoom, bool) or not 1 <= self.zoom <= MAX_ZOOM:
            raise UsageError(f"zoom must be a number from 1 to {MAX_ZOOM}, not {self.zoom!r}")
        if self.type is not None and (not isinstance(self.type, str) or not self.type):
            raise UsageError(f"type must be a content type name, not {self.type!r}")
        if self.type == ALIASED and self.zoom == 1:
            raise UsageError(f"type {ALIASED!r} is for enlarging (zoom over 1): at x1 nothing is enlarged")
        if not isinstance(self.device, str) or not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise UsageError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'), not {self.device!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise UsageError(f"precision must be 'auto', 'fp32' or 'bf16', not {self.precision!r}")
        if self.backend not in ("auto", "onnxruntime", "torch"):
            raise UsageError(f"backend must be 'auto', 'onnxruntime' or 'torch', not {self.backend!r}")

    @property
    def model(self) -> str:
        """The model's name: :attr:`name`, or ``repair`` at x1 (``default`` when descreening), else ``default``."""
        if self.name:
            return self.name
        return REPAIR if self.zoom == 1 and self.type != "print" else "default"


def _descreens_only(name: str, zoom: int) -> bool:
    """Whether a print treatment is the descreening alone: at x1 with ``default`` (or ``repair``,
    the x1 model a plain run would get), nothing is enlarged after it."""
    return zoom == 1 and name in ("default", REPAIR)


def build_model(request: ModelRequest) -> Upscaler:
    """The model (or two-model chain) that ``request`` names, ensembled as it asks.

    ``type="print"`` descreens first unless the model has a print variant of its own
    (``default`` at x1 descreens only), keeping the scan's tone (:class:`~enhance.models.tone.ToneKept`); ``type="jpeg"`` picks the model's JPEG variant, or runs
    the ``repair`` model first where it has none; ``type="aliased"`` picks the model's variant
    for aliased input, or softens it (:class:`~enhance.models.soften.Soften`) before the plain model.

    Raises:
        ModelError: unknown model, zoom or ensemble; missing or corrupt weights.
    """
    if request.ensemble not in PASSES:
        raise ModelError(f"ensemble must be one of {', '.join(map(str, PASSES))}, not {request.ensemble}")
    name, zoom, typ = request.model, request.zoom, request.type
    if zoom not in MODEL_ZOOMS:
        raise ModelError(f"a model is x1 to x4, not x{zoom:g}: larger and fractional zooms are a Treatment's plan "
                         "(zoom_plan)")
    if typ is not None and typ not in TREATMENT_TYPES:
        known = sorted(set(TREATMENT_TYPES) | {e.type for e in list_models(request.model_dir) if e.type != "any"})
        if typ not in known:
            raise UsageError(f"unknown type {typ!r} (choose {', '.join(known)})")

    def one(n: str, z: int, t: str | None) -> Upscaler:
        return open_model(n, z, t, device=request.device, precision=request.precision, backend=request.backend,
                          search_dir=request.model_dir)

    if typ == "print" and name != DESCREEN and not has_variant(name, zoom, "print", request.model_dir):
        # the print seen without its screen: the scan's own tone over a few screen periods
        descreen = ToneKept(one(DESCREEN, 1, "print"))
        m: Upscaler = descreen if _descreens_only(name, zoom) else Chain(descreen, one(name, zoom, None))
    elif typ == "jpeg" and name != REPAIR and not has_variant(name, zoom, "jpeg", request.model_dir):
        m = Chain(one(REPAIR, 1, None), one(name, zoom, None))
    elif typ == ALIASED and not has_variant(name, zoom, ALIASED, request.model_dir):
        from .models.soften import SIGMA, Soften

        m = Chain(Soften(SIGMA), one(name, zoom, None))
    else:
        m = one(name, zoom, typ)
    return m if request.ensemble == 1 else Ensemble(m, request.ensemble)


def load_model(
    name: str,
    zoom: int,
    type: str | None = None,
    *,
    device: str = "cpu",
    precision: str = "auto",
    search_dir: str | Path = ".",
    backend: str = "auto",
    ensemble: int = 1,
) -> Upscaler:
    """Load a model ready to upscale by ``zoom`` (:func:`build_model` of a :class:`ModelRequest`).

    Args:
        name: registry name ("bicubic", "lanczos", "default", "repair", "raisr", or your own).
        zoom: 1 to 4.
        type: content type preference ("photo", "print", "jpeg", ...). ``"print"`` descreens
            first, so ``load_model("default", 2, "print")`` descreens and doubles and
            ``load_model("default", 1, "print")`` only descreens; ``"jpeg"`` picks the model's
            JPEG variant, or runs the ``repair`` model first.
        device, precision, backend: see :class:`ModelRequest`.
        search_dir: folder searched for user-trained models.
        ensemble: orientations per tile, 1, 2, 4 or 8 (see :class:`~enhance.models.ensemble.Ensemble`).

    Raises:
        ModelError: unknown name, missing zoom, missing file or checksum mismatch.

    Example:
        >>> load_model("bicubic", 2).scale
        2
    """
    return build_model(ModelRequest(name, zoom, type, device, precision, backend, ensemble, Path(search_dir)))


def _variant_band(zoom: int) -> tuple[int, int]:
    """The (lowest, highest) JPEG quality a JPEG variant serves at ``zoom`` under ``auto``."""
    return VARIANT_QUALITIES.get(zoom, (1, VARIANT_AT_OR_BELOW))


def wants_repair(mode: str, model: str, zoom: int, jpeg_quality: int | None, descreening: bool = False,
                 variant: bool = False, type_given: bool = False, light: bool = False) -> str | None:
    """The JPEG rule: whether a file gets the JPEG treatment, and which (module docstring).

    Args:
        mode: one of :data:`REPAIR_MODES`.
        model: the model the file goes through (a registry name).
        zoom: the enlargement.
        jpeg_quality: :func:`~enhance.jpegdamage.estimate_quality` of the source, None when it is not a JPEG.
        descreening: the file goes through the descreener.
        variant: ``model`` has a JPEG variant at ``zoom`` (then files in the zoom's band of
            :data:`VARIANT_QUALITIES` get it; the repair chain stops at :data:`REPAIR_AT_OR_BELOW`).
        type_given: a content type was asked for explicitly (``--type=photo``): the variant
            asked for wins over ``auto`` (``always`` still treats the file).
        light: ``model`` has a variant for lightly compressed JPEGs at ``zoom`` (then files in the
            zoom's band of :data:`LIGHT_QUALITIES` get it under ``auto``).

    Returns:
        :data:`JPEG_VARIANT` (the model's JPEG variant), :data:`JPEG_LIGHT` (its variant for
        light compression), :data:`JPEG_CHAIN` (the repair model first), or None: no JPEG treatment.

    Raises:
        ValueError: ``mode`` is not one of :data:`REPAIR_MODES`.
    """
    if mode not in REPAIR_MODES:
        raise ValueError(f"repair mode {mode!r}: choose one of {', '.join(REPAIR_MODES)}")
    if mode == "never" or descreening or model == REPAIR:
        return None
    if mode == "always":
        return JPEG_VARIANT if variant else JPEG_CHAIN
    if type_given or model != "default" or zoom <= 1 or jpeg_quality is None:
        return None
    if light:
        lowest, highest = LIGHT_QUALITIES.get(zoom, (101, 100))
        if lowest <= jpeg_quality <= highest:
            return JPEG_LIGHT
    if variant:
        lowest, highest = _variant_band(zoom)
        if lowest <= jpeg_quality <= highest:
            return JPEG_VARIANT
        if jpeg_quality > highest:
            return None
    return JPEG_CHAIN if jpeg_quality <= REPAIR_AT_OR_BELOW else None


def _has_light(model: str, zoom: int, search_dir: str | Path) -> bool:
    """Whether ``model`` has a variant for light compression at ``zoom`` that ``auto`` serves
    (the zoom has a band in :data:`LIGHT_QUALITIES`)."""
    return zoom in LIGHT_QUALITIES and has_variant(model, zoom, _VARIANT_TYPES[JPEG_LIGHT], search_dir)


def auto_jpeg_limit(zoom: int, model: str = "default", search_dir: str | Path = ".") -> int:
    """The highest JPEG quality that ``--repair auto`` treats when ``model`` enlarges by ``zoom``
    (1-4): the top of the light variant's band or of the variant's, where the model has one at
    that zoom, else :data:`REPAIR_AT_OR_BELOW` (the repair chain's)."""
    if _has_light(model, zoom, search_dir):
        return max(LIGHT_QUALITIES[zoom][1], _variant_band(zoom)[1])
    if has_variant(model, zoom, "jpeg", search_dir):
        return _variant_band(zoom)[1]
    return REPAIR_AT_OR_BELOW


class Treatment:
    """Which models run on each file, decided once per process and asked per file.

    ``steps`` is the zoom's plan (:func:`zoom_plan`); the JPEG and print rules apply to its first
    model, the later ones follow it in a :class:`~enhance.models.chain.Chain`.

    The main model is loaded when the treatment is built (so an unknown model fails before any
    file is read); the print and JPEG treatments are loaded on the first file that needs them,
    once. A treatment holds no per-file state: one can serve a whole batch, a web server or a
    cluster worker.

    Args:
        request: the models asked for.
        repair: one of :data:`REPAIR_MODES` (the JPEG treatment).
        auto: descreen only the files in which a halftone screen is detected.
        detect_screens: look for a halftone screen in every file and say so in the notes
            (always done with ``auto``).
        model: an already loaded main model to use instead of loading ``request``'s (its name is
            then what the JPEG rule sees, and its JPEG treatment is the repair model first).

    Raises:
        ModelError: the model cannot be loaded, or a given model's scale is not the zoom's plan.
        ValueError: unknown ``repair`` mode.
    """

    def __init__(self, request: ModelRequest, repair: str = "auto", auto: bool = False, detect_screens: bool = True,
                 model: Upscaler | None = None) -> None:
        if repair not in REPAIR_MODES:
            raise ValueError(f"repair mode {repair!r}: choose one of {', '.join(REPAIR_MODES)}")
        self.request = request
        self.repair = repair
        self.auto = auto
        self.detect_screens = detect_screens
        self._given = model is not None
        self._later: list[Upscaler] | None = None
        self.steps = zoom_plan(request.zoom)
        first = replace(request, zoom=self.steps[0])
        self._first = first
        self.model: Upscaler = model if model is not None else self._compose(build_model(first))
        if self.model.scale != math.prod(self.steps):
            raise ModelError(f"model {self.model.name!r} is x{self.model.scale}, but zoom {request.zoom:g} was asked for")
        #: the name the JPEG rule sees
        self._rule_name = self.model.name if self._given else request.model
        # a treatment type keeps its own model (an aliased input's JPEG treatment is the repair
        # model before it; print and jpeg take none)
        own = not self._given and repair != "never" and request.type not in TREATMENT_TYPES
        self._variant = own and has_variant(request.model, first.zoom, "jpeg", request.model_dir)
        self._light = own and _has_light(request.model, first.zoom, request.model_dir)
        self._loaded: dict[str, Upscaler] = {}

    def _compose(self, first: Upscaler) -> Upscaler:
        """``first`` followed by the plan's later enlargements (``--zoom=8``: x4, then x2)."""
        if len(self.steps) == 1:
            return first
        if self._later is None:
            req = self.request
            self._later = [build_model(replace(req, name=req.model, zoom=z, type=None)) for z in self.steps[1:]]
        m = first
        for later in self._later:
            m = Chain(m, later)
        return m

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The output's ``(height, width)`` for an input of that size: exactly the zoom, rounded."""
        z = self.request.zoom
        return (height * z, width * z) if isinstance(z, int) else (round(height * z), round(width * z))

    @property
    def exact(self) -> bool:
        """Whether the models' own scale is the zoom (else their output is resized to it)."""
        return math.prod(self.steps) == self.request.zoom

    @property
    def zoom(self) -> float:
        """The enlargement every file gets (an int when it is whole)."""
        return self.request.zoom

    def _print_model(self) -> Upscaler:
        if "print" not in self._loaded:  # loaded on the first screened file only
            req = self._first
            name = "default" if _descreens_only(req.model, req.zoom) else req.model
            self._loaded["print"] = self._compose(build_model(replace(req, name=name, type="print")))
        return self._loaded["print"]

    def _line_model(self, line: "LineScreen") -> Upscaler:
        """A line screen removed by a blur across its lines (:class:`~enhance.models.lineblur.LineScreenBlur`),
        then the zoom's plain model (at x1 with ``default`` or ``repair``, the blur only)."""
        from .models.lineblur import LineScreenBlur

        blur = LineScreenBlur(line.period, line.angle)
        req = self._first
        if _descreens_only(req.model, req.zoom):
            return blur
        if "plain" not in self._loaded:  # the model without the descreener, loaded once
            self._loaded["plain"] = self.model if req.type is None or self._given else \
                self._compose(build_model(replace(req, type=None)))
        return Chain(blur, self._loaded["plain"])

    def _jpeg_model(self, kind: str) -> Upscaler:
        """The JPEG treatment of :func:`wants_repair`'s ``kind``: the variant, or the repair model
        before the main model (the one already loaded)."""
        if kind not in self._loaded:  # loaded on the first JPEG that needs it only
            req = self._first
            if kind in _VARIANT_TYPES and not self._given:
                self._loaded[kind] = self._compose(build_model(replace(req, name=req.model, type=_VARIANT_TYPES[kind])))
            else:
                self._loaded[kind] = Chain(build_model(replace(req, name=REPAIR, zoom=1, type=None)), self.model)
        return self._loaded[kind]

    def for_file(self, pixels: np.ndarray, meta: ImageMeta) -> tuple[Upscaler, list[str]]:
        """The model this file goes through, and notes for the user on why.

        Args:
            pixels: the file's ``(H, W, C)`` pixels, as :func:`~enhance.image.open_image` gives them.
            meta: its metadata (``dpi`` for the screen detector, ``jpeg_quality`` for the JPEG rule).

        Returns:
            An :class:`~enhance.models.base.Upscaler` of the plan's scale (:attr:`zoom` when it is
            whole; else larger, its output then resized to :meth:`output_size`), and notes.
        """
        req = self._first
        model = self.model
        notes: list[str] = []
        descreening = req.type == "print"
        if self.detect_screens or self.auto:
            from .descreen import MAX_TRAINED_PERIOD, detect_line_screen, detect_screen, screen_map

            dpi = meta.dpi[0] if meta.dpi else None
            smap = screen_map(pixels, dpi) if self.auto and req.type != "print" else None
            # the user who says the file is a print has a flat tint descreened too
            report = smap.report if smap is not None else detect_screen(pixels, dpi, tint=req.type == "print")
            if req.type == "print" and not report.found:
                # the user says the file is a print: where the centre square holds type (a page
                # whose photo is off its centre), the screen map finds the screen's period
                report = screen_map(pixels, dpi).report
            if report.found:
                # the descreened output keeps the scan's tone over a fraction of this screen's
                # period; a 1-bit scan's tone is its threshold's, so there the descreener's own
                # (looked at only where the file is descreened: a screen merely reported costs nothing)
                keep = not (req.type == "print" or self.auto) or not is_bilevel(pixels)
                if req.type == "print":
                    model = at_period(model, report.period, keep)
                    notes.append(report.describe() + "; descreening (--type=print)")
                elif smap is not None and smap.fraction < 1.0:  # a page: the screened regions only
                    mask = smap.region_mask(pixels)
                    regions = smap.regions_of(mask)
                    model = Regional(at_period(self._print_model(), report.period, keep), model, mask,
                                     [box for box, _ in regions])
                    descreening = True
                    notes.append(report.describe() + f" in {int(smap.grid.sum())} of {smap.grid.size} regions of "
                                 f"{smap.tile} px; descreening those (--auto), the rest as the plain path makes it")
                    notes.append(smap.describe_regions(regions))
                elif self.auto:
                    model = at_period(self._print_model(), report.period, keep)
                    descreening = True
                    notes.append(report.describe() + "; descreening (--auto)")
                else:
                    notes.append(report.describe() + "; the dots will be enlarged as they are: "
                                 "use --type=print (or --auto) to descreen")
                if not keep and descreening:
                    notes.append("a 1-bit scan: the descreened tone is the model's own, not the scan's local mean "
                                 "(where its threshold fell)")
                if report.period is not None and report.period > MAX_TRAINED_PERIOD and (req.type == "print" or self.auto):
                    notes.append(f"the screen period ({report.period:.1f} px) is coarser than the descreen model "
                                 f"was trained for (up to {MAX_TRAINED_PERIOD:.0f} px): dots may remain; "
                                 "a lower-dpi scan descreens better")
            elif (line := detect_line_screen(pixels, dpi, most=24 if req.type == "print" or self.auto else 4)) \
                    is not None and (req.type == "print" or self.auto):
                # a line screen (one ruling, no lattice): a blur across its lines removes it,
                # where the descreener keeps much of it as it keeps an engraving's hatching
                model = self._line_model(line)
                descreening = True
                how = "--type=print" if req.type == "print" else "--auto"
                notes.append(f"{line.describe()}; removing it by a blur across its lines ({how})")
            elif line is not None:
                notes.append(f"{line.describe()}; the lines will be enlarged as they are: use --type=print "
                             "(or --auto) to remove them")
            elif req.type == "print":
                notes.append("no halftone screen detected; descreening anyway (--type=print), which softens "
                             "engravings and line art: --auto leaves files without a screen alone")
        # --type=jpeg: the model is the JPEG treatment already
        typed = req.type is not None
        if typed and req.type not in _JPEG_COVERED and self.repair == "auto" and \
                wants_repair("auto", self._rule_name, req.zoom, meta.jpeg_quality, descreening, self._variant,
                             light=self._light):
            notes.append(f"JPEG compressed at quality {meta.jpeg_quality}: left as it is under --type={req.type} "
                         "(--repair always would remove the damage first)")
        kind = wants_repair(self.repair, self._rule_name, req.zoom, meta.jpeg_quality, descreening, self._variant,
                            typed, self._light)
        if req.type != "jpeg" and kind:
            model = self._jpeg_model(kind)
            how = (f"the {req.model} model's JPEG variant removes it as it enlarges" if kind == JPEG_VARIANT
                   else f"the {req.model} model's variant for light JPEG compression removes it as it enlarges"
                   if kind == JPEG_LIGHT else "the repair model removes it first")
            if self.repair == "always":
                notes.append(f"JPEG damage: {how} (--repair always)")
            else:
                notes.append(f"JPEG compressed at quality {meta.jpeg_quality}: {how} (--repair never keeps the damage)")
        return model, notes


def upscale(
    image: Image.Image | np.ndarray,
    zoom: int = 2,
    model: str | Upscaler = "default",
    type: str | None = None,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    ensemble: int = 1,
    repair: str = "auto",
) -> Image.Image | np.ndarray:
    """Upscale a PIL image or a NumPy array by ``zoom``: a one-picture :class:`Treatment`.

    Args:
        image: a PIL image (any mode; the ICC profile and DPI in ``image.info`` are carried,
            DPI multiplied by ``zoom``), or an array ``(H, W)`` / ``(H, W, C)`` with C = 1 (gray),
            2 (gray+alpha), 3 (RGB) or 4 (RGBA), uint8, uint16 or float32 in [0, 1].
        zoom: 1 (repair models) to 16, whole or not (:func:`zoom_plan`: 8 is x4 then x2, 1.5 is
            x2 brought down with Lanczos).
        model: a registry name or a loaded model (whose scale must then be the zoom).
        type: content type preference when picking a named model.
        tile: tile side in input pixels; overlap: blended overlap.
        device: "cpu" or "cuda" for neural models.
        progress: ``progress(done_tiles, total_tiles)``.
        ensemble: orientations averaged per tile (1, 2, 4 or 8); see
            :class:`~enhance.models.ensemble.Ensemble`.
        repair: JPEG treatment (:data:`REPAIR_MODES`): "auto" for a PIL image read from a JPEG
            file compressed hard enough, enlarged with ``default``; "always"; "never".
            (No screen detection here: pass ``type="print"`` to descreen.)

    Returns:
        The same kind of object: a PIL image, or an array of the input's dtype, of ``zoom``
        times the input size (rounded to whole pixels).

    Example:
        >>> import numpy as np
        >>> upscale(np.zeros((8, 10, 3), np.uint8), 2, model="bicubic").shape
        (16, 20, 3)
    """
    if isinstance(model, str):
        treatment = Treatment(ModelRequest(model, zoom, type, device, ensemble=ensemble), repair, detect_screens=False)
    else:
        if not callable(model) or not all(hasattr(model, a) for a in ("name", "scale", "context", "multiple_of")):
            raise UsageError(f"model must be a registry name or a loaded model, not {builtins.type(model).__name__}")
        if ensemble not in PASSES:
            raise ModelError(f"ensemble must be one of {', '.join(map(str, PASSES))}, not {ensemble}")
        base = model if ensemble == 1 else Ensemble(model, ensemble)
        treatment = Treatment(ModelRequest(base.name, zoom, type, device, ensemble=ensemble), repair,
                              detect_screens=False, model=base)
    pil = isinstance(image, Image.Image)
    pixels, meta = _image_pixels(image)
    m, notes = treatment.for_file(pixels, meta)
    for note in notes:
        log.debug("%s", note)
    out = upscale_pixels(pixels, meta.layout, m, tile, overlap, progress=progress)
    assert out is not None
    if not treatment.exact:
        out = resize_to(out, *treatment.output_size(*pixels.shape[:2]))
    if pil:
        return to_pil(out, meta.scaled(zoom))
    out = out.astype(image.dtype, copy=False)  # float64 in, float64 out
    return out[:, :, 0] if image.ndim == 2 else out


def _image_pixels(image: object) -> tuple[np.ndarray, ImageMeta]:
    """:func:`upscale`'s input as ``(H, W, C)`` pixels and metadata, or a UsageError naming it."""
    if isinstance(image, Image.Image):
        return from_pil(image)
    if not isinstance(image, np.ndarray):
        raise UsageError(f"image must be a PIL image or a NumPy array, not {builtins.type(image).__name__}")
    pixels = check_pixels(image, name="image")
    if pixels.shape[2] > 4:
        raise UsageError(f"image has {pixels.shape[2]} channels; arrays take 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)")
    return pixels, ImageMeta(layout=layout_for_channels(pixels.shape[2]))
