"""Many files in, one output each: globbing, naming, resuming, and per-file error isolation.

A bad file never stops the batch: its problem is recorded as a one-line message on its
:class:`FileResult`, and the rest go on. Outputs are written under a temporary name in the
target folder and renamed, so an interrupted run leaves either a complete file or none, and
``skip_existing`` resumes it.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import EnhanceError, InputError, OutputError
from .image import DEFAULT_MAX_PIXELS, FORMATS, ImageMeta, atomic_output, open_image, prepare_for_format, save_image
from .jpegdamage import wants_repair
from .models.base import Upscaler
from .models.registry import has_variant, load_model
from .pipeline import DEFAULT_OVERLAP, DEFAULT_TILE, upscale_pixels
from .tiles import TiffSink

log = logging.getLogger(__name__)

__all__ = ["BatchOptions", "FileResult", "BatchEvent", "expand_inputs", "select_shard", "output_path", "enhance_file",
           "run_batch"]

#: Outputs larger than this many pixels, written as TIFF, stream to disk instead of memory.
STREAM_PIXELS = 64_000_000


@dataclass(frozen=True)
class BatchOptions:
    """What to do with each file (the ``enhance`` command's options).

    ``device``, ``precision``, ``backend`` and ``ensemble`` go to :func:`~enhance.models.registry.load_model`
    (neural models). ``type="print"`` descreens every file before the zoom; ``auto`` descreens only the files in
    which :func:`~enhance.descreen.detect_screen` finds a halftone screen. ``repair`` (one of
    :data:`~enhance.jpegdamage.REPAIR_MODES`) treats JPEG damage: the model's JPEG variant where
    it has one, else the ``repair`` model first (``load_model(..., type="jpeg")``): "auto" on
    JPEG sources compressed hard enough when enlarging with ``default``, "always" on every file,
    "never" on none (see :func:`~enhance.jpegdamage.wants_repair`).
    """

    zoom: int = 2
    model: str = "default"
    type: str | None = None
    output_dir: Path | None = None
    format: str = "png"
    quality: int = 95
    skip_existing: bool = False
    tile: int = DEFAULT_TILE
    overlap: int = DEFAULT_OVERLAP
    device: str = "cpu"
    precision: str = "auto"
    backend: str = "auto"
    max_pixels: int = DEFAULT_MAX_PIXELS
    model_dir: Path = Path(".")
    detect_screens: bool = True
    auto: bool = False
    ensemble: int = 1
    repair: str = "auto"


@dataclass
class FileResult:
    """The outcome for one input: status "done", "skipped" or "failed"."""

    source: Path
    output: Path | None
    status: str
    message: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class BatchEvent:
    """A progress report: ``kind`` is "file" (a file started), "tile" or "done" (a file ended)."""

    kind: str
    file_index: int
    file_count: int
    path: Path
    done: int = 0
    total: int = 0
    result: FileResult | None = None


def expand_inputs(patterns: list[str]) -> tuple[list[Path], list[FileResult]]:
    """Expand files and quoted globs (``"images/*.jpg"``, ``**`` recursive) in order, without duplicates.

    Returns:
        The files, and a failed :class:`FileResult` for each pattern that matched nothing.
    """
    files: list[Path] = []
    missing: list[FileResult] = []
    seen: set[str] = set()
    for pat in patterns:
        if glob.has_magic(pat):
            matches = sorted(m for m in glob.glob(pat, recursive=True) if os.path.isfile(m))
            if not matches:
                missing.append(FileResult(Path(pat), None, "failed", f"{pat}: no files match"))
        else:
            matches = [pat]
        for m in matches:
            key = os.path.realpath(m)
            if key not in seen:
                seen.add(key)
                files.append(Path(m))
    return files, missing


def select_shard(files: list[Path], index: int, count: int) -> list[Path]:
    """The files that shard ``index`` of ``count`` (1-based) takes, for splitting a backlist across machines.

    Each file goes to the shard given by a hash of its path as written (``scans/a.tif``), so
    machines that run the same patterns from the same folder split the files between them with
    no coordinator, every file in exactly one shard; adding files later never moves the others
    to another shard. Order is kept.

    Raises:
        ValueError: ``index`` is not in 1..count.
    """
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"shard {index}/{count}: need 1 <= K <= N")
    if count == 1:
        return list(files)

    def home(f: Path) -> int:
        digest = hashlib.blake2b(f.as_posix().encode("utf-8", "surrogateescape"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % count

    return [f for f in files if home(f) == index - 1]


def output_path(source: Path, opts: BatchOptions) -> Path:
    """``{stem}_ne{zoom}x{ext}`` beside the input, or in ``opts.output_dir``."""
    folder = opts.output_dir if opts.output_dir is not None else source.parent
    return folder / f"{source.stem}_ne{opts.zoom}x{FORMATS[opts.format]}"


def _tiff_kwargs(meta: ImageMeta) -> dict[str, object]:
    kw: dict[str, object] = {
        "photometric": {"L": "minisblack", "LA": "minisblack", "RGB": "rgb", "RGBA": "rgb", "CMYK": "separated",
                       "CMYKA": "separated"}[meta.layout],
    }
    if meta.layout in ("LA", "RGBA", "CMYKA"):
        kw["extrasamples"] = ("unassalpha",)
    if meta.dpi:
        kw["resolution"] = (float(meta.dpi[0]), float(meta.dpi[1]))
        kw["resolutionunit"] = "INCH"
    if meta.icc_profile:
        kw["iccprofile"] = meta.icc_profile
    if meta.xmp:
        kw["extratags"] = [(700, 1, len(meta.xmp), meta.xmp, True)]  # XMP, as BYTEs
    return kw


def enhance_file(
    source: Path,
    target: Path,
    model: Upscaler,
    opts: BatchOptions,
    tile_progress: Callable[[int, int], None] | None = None,
    print_model: Callable[[], Upscaler] | None = None,
    jpeg_model: Callable[[], Upscaler] | None = None,
    jpeg_variant: bool = False,
) -> list[str]:
    """Enhance one file into ``target`` (atomically). Returns notes for the user.

    With ``opts.auto``, a file that carries a halftone screen goes through ``print_model()``
    (the descreening chain) instead of ``model``. A file that :func:`~enhance.jpegdamage.wants_repair`
    (``opts.repair``) goes through ``jpeg_model()``, the JPEG treatment of ``opts.model``:
    its JPEG variant when ``jpeg_variant`` says it has one, else the repair model first.

    Raises:
        InputError, OutputError: the one-line problem with this file.
    """
    pixels, meta = open_image(source, max_pixels=opts.max_pixels)
    notes = list(meta.notes)
    descreening = opts.type == "print"
    if opts.detect_screens or opts.auto:
        from .descreen import MAX_TRAINED_PERIOD, detect_screen

        report = detect_screen(pixels, meta.dpi[0] if meta.dpi else None)
        if report.found:
            if opts.type == "print":
                notes.append(report.describe() + "; descreening (--type=print)")
            elif opts.auto and print_model is not None:
                model = print_model()
                descreening = True
                notes.append(report.describe() + "; descreening (--auto)")
            else:
                notes.append(report.describe() + "; the dots will be enlarged as they are: "
                             "use --type=print (or --auto) to descreen")
            if report.period is not None and report.period > MAX_TRAINED_PERIOD and (opts.type == "print" or opts.auto):
                notes.append(f"the screen period ({report.period:.1f} px) is coarser than the descreen model "
                             f"was trained for (up to {MAX_TRAINED_PERIOD:.0f} px): dots may remain; "
                             "a lower-dpi scan descreens better")
        elif opts.type == "print":
            notes.append("no halftone screen detected; descreening anyway (--type=print), which softens "
                         "engravings and line art: --auto leaves files without a screen alone")
    if jpeg_model is not None and not descreening and opts.type != "jpeg":  # --type=jpeg: the model is treated already
        if wants_repair(opts.repair, opts.model, opts.zoom, meta.jpeg_quality, descreening, jpeg_variant):
            model = jpeg_model()
            how = (f"the {opts.model} model's JPEG variant removes it as it enlarges" if jpeg_variant
                   else "the repair model removes it first")
            if opts.repair == "always":
                notes.append(f"JPEG damage: {how} (--repair always)")
            else:
                notes.append(f"JPEG compressed at quality {meta.jpeg_quality}: {how} (--repair never keeps the damage)")
    # convert before upscaling what the output format cannot hold (cheaper than after)
    pixels, meta, conv_notes = prepare_for_format(pixels, meta, opts.format) if opts.format in ("png", "webp") else (pixels, meta, [])
    notes += conv_notes
    out_meta = meta.scaled(opts.zoom)
    h, w = pixels.shape[:2]
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{target}: output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{target}: output folder {folder} is not writable")
    if opts.format == "tiff" and h * w * opts.zoom**2 > STREAM_PIXELS:
        with atomic_output(target) as tmp:
            sink = TiffSink(str(tmp), (h * opts.zoom, w * opts.zoom, pixels.shape[2]), pixels.dtype, **_tiff_kwargs(out_meta))
            upscale_pixels(pixels, meta.layout, model, opts.tile, opts.overlap, sink=sink, progress=tile_progress)
            sink.close()
        if meta.exif:
            notes.append("EXIF not written to a streamed TIFF")
        return notes
    out = upscale_pixels(pixels, meta.layout, model, opts.tile, opts.overlap, progress=tile_progress)
    assert isinstance(out, np.ndarray)
    notes += save_image(target, out, out_meta, opts.format, opts.quality)
    return notes


def run_batch(
    files: list[Path],
    opts: BatchOptions,
    progress: Callable[[BatchEvent], None] | None = None,
    model: Upscaler | None = None,
) -> list[FileResult]:
    """Enhance every file; a failing file is recorded and the batch goes on.

    Args:
        files: inputs (see :func:`expand_inputs`).
        opts: options.
        progress: receives :class:`BatchEvent` reports.
        model: an already loaded model (default: load ``opts.model`` once for the batch).

    Returns:
        One :class:`FileResult` per input, in order.

    Raises:
        ModelError: the model cannot be loaded (nothing could be done).
    """
    if model is None:
        model = load_model(opts.model, opts.zoom, opts.type, opts.device, opts.precision, opts.model_dir, opts.backend,
                           opts.ensemble)
    cache: list[Upscaler] = []
    jpeg_cache: list[Upscaler] = []
    jpeg_variant = opts.repair != "never" and has_variant(opts.model, opts.zoom, "jpeg", opts.model_dir)

    def jpeg_model() -> Upscaler:  # loaded on the first file that needs it only
        if not jpeg_cache:
            jpeg_cache.append(load_model(opts.model, opts.zoom, "jpeg", opts.device, opts.precision, opts.model_dir,
                                         opts.backend, opts.ensemble))
        return jpeg_cache[0]

    def print_model() -> Upscaler:  # loaded on the first screened file only
        if not cache:
            name = "default" if opts.zoom == 1 and opts.model == "repair" else opts.model
            cache.append(load_model(name, opts.zoom, "print", opts.device, opts.precision, opts.model_dir, opts.backend,
                                    opts.ensemble))
        return cache[0]

    results: list[FileResult] = []
    claimed: dict[str, Path] = {}
    input_keys = {os.path.realpath(f) for f in files}
    n = len(files)
    for i, src in enumerate(files):
        target = output_path(src, opts)
        key = os.path.realpath(target)
        if progress:
            progress(BatchEvent("file", i, n, src))
        t0 = time.perf_counter()
        if key in claimed:
            res = FileResult(src, target, "failed", f"{src}: output {target} would overwrite the output of {claimed[key]}; "
                             "rename one of them or use --output")
        elif key in input_keys:
            res = FileResult(src, target, "failed", f"{src}: output {target} is one of the inputs; refusing to overwrite it")
        elif opts.skip_existing and target.exists():
            claimed[key] = src
            res = FileResult(src, target, "skipped", f"{src}: {target} exists, skipped")
        else:
            claimed[key] = src
            try:
                tile_cb = (lambda d, t, i=i, src=src: progress(BatchEvent("tile", i, n, src, d, t))) if progress else None
                notes = enhance_file(src, target, model, opts, tile_cb, print_model if opts.auto else None,
                                     jpeg_model if opts.repair != "never" else None, jpeg_variant)
                res = FileResult(src, target, "done", "", notes)
            except InputError as exc:
                res = FileResult(src, target, "failed", str(exc))
            except OutputError as exc:
                res = FileResult(src, target, "failed", f"{src}: {exc}")
            except EnhanceError as exc:
                res = FileResult(src, target, "failed", f"{src}: {exc}")
            except MemoryError:
                res = FileResult(src, target, "failed", f"{src}: out of memory (try a smaller --rendering-tile)")
            except Exception as exc:  # a bug must not sink the batch; the details go to the debug log
                log.debug("unexpected failure on %s", src, exc_info=True)
                res = FileResult(src, target, "failed", f"{src}: unexpected error ({type(exc).__name__}: {exc}); "
                                 "rerun with -v for details")
        res.seconds = time.perf_counter() - t0
        for note in res.notes:
            log.debug("%s: %s", src, note)
        results.append(res)
        if progress:
            progress(BatchEvent("done", i, n, src, result=res))
    return results

