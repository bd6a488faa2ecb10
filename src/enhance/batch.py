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
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from .errors import EnhanceError, InputError, OutputError
from .image import (DEFAULT_MAX_PIXELS, FORMATS, ImageMeta, TiffSink, check_output_folder, convert_streamed, made_by_enhance,
                    open_image, prepare_for_format, save_image)
from .outfile import (OUTPUT_STEM, TargetClaims, atomic_output, claim, dimensions, is_complete, release,
                      remove_stale_temporaries, writer_of)
from .treatment import Treatment
from .models.base import Upscaler
from .upscaling import DEFAULT_OVERLAP, DEFAULT_TILE, Regional, check_tiles, resize_to, streamable, upscale_pixels

if TYPE_CHECKING:
    from .manifest import Manifest

log = logging.getLogger(__name__)

__all__ = ["BatchOptions", "FileResult", "BatchEvent", "Inputs", "collect_inputs", "is_enhance_output", "expand_inputs",
           "select_shard", "output_path", "enhance_file", "run_batch", "plan_batch", "PlannedFile", "compute_file",
           "finish", "read_list", "common_root", "clean_output_folders", "mirrored_folder"]

#: Outputs larger than this many pixels, written as TIFF, PNG or JPEG, stream to disk instead of memory.
STREAM_PIXELS = 64_000_000


@dataclass(frozen=True)
class BatchOptions:
    """Where and how each output is written (the ``enhance`` command's output options).

    Which models run on a file is the :class:`~enhance.treatment.Treatment`'s decision, and the
    zoom is its request's; these say only what is read and written.

    Attributes:
        output_dir: folder for the outputs (None: beside each input).
        output_file: the output of a single input, named in full (``-o result.png``).
        format: "png", "tiff", "jpeg" or "webp".
        quality: JPEG/WebP quality, 1-100.
        skip_existing: skip inputs whose output exists (resume a batch).
        tile, overlap: tile side and blended overlap, in input pixels.
        max_pixels: inputs with more pixels are refused (decompression bombs).
        max_memory: bytes an output may need in memory; larger ones are refused before they are
            computed (None: :func:`memory_budget`). Outputs over :data:`STREAM_PIXELS` in TIFF,
            PNG or JPEG stream to disk and need little.
    """

    output_dir: Path | None = None
    output_file: Path | None = None
    format: str = "png"
    quality: int = 95
    skip_existing: bool = False
    tile: int = DEFAULT_TILE
    overlap: int = DEFAULT_OVERLAP
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_memory: int | None = None

    def __post_init__(self) -> None:
        check_tiles(self.tile, self.overlap)


@dataclass
class FileResult:
    """The outcome for one input: status "done", "skipped" or "failed"."""

    source: Path
    output: Path | None
    status: str
    message: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: the regions descreened by themselves on a page, ``(top, left, height, width)`` in input pixels
    regions: list[tuple[int, int, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class BatchEvent:
    """A progress report: ``kind`` is "file" (a file started), "read" (it was read and its
    treatment chosen: ``notes`` says what was found, the screen, the JPEG quality; ``regions``
    the page regions descreened by themselves), "tile" or "done" (a file ended)."""

    kind: str
    file_index: int
    file_count: int
    path: Path
    done: int = 0
    total: int = 0
    result: FileResult | None = None
    notes: tuple[str, ...] = ()
    regions: tuple[tuple[int, int, int, int], ...] = ()


@dataclass
class Inputs:
    """What the command's arguments name (:func:`collect_inputs`).

    Attributes:
        files: the files, in order, without duplicates.
        missing: a failed :class:`FileResult` for each argument that named nothing.
        roots: for a file found in a folder argument, that folder (outputs under ``--output``
            mirror the tree below it).
        outputs_left_out: files a glob or folder matched that are Enhance's own outputs
            (named ``*_ne{zoom}x.*`` or carrying its Software mark), left out so that a rerun
            never enlarges an output again; naming one explicitly still works.
    """

    files: list[Path] = field(default_factory=list)
    missing: list[FileResult] = field(default_factory=list)
    roots: dict[Path, Path] = field(default_factory=dict)
    outputs_left_out: list[Path] = field(default_factory=list)




def is_enhance_output(path: Path) -> bool:
    """Whether ``path`` is one of Enhance's outputs: by its name, or by the mark in its header."""
    return bool(OUTPUT_STEM.search(path.stem)) or made_by_enhance(path)


def _image_extensions() -> frozenset[str]:
    from PIL import Image

    return frozenset(Image.registered_extensions()) | {".heic", ".heif", ".avif", ".jp2", ".j2k", ".jpx", ".pfm"}


def _folder_files(folder: Path, recursive: bool) -> list[Path]:
    """The image files in ``folder`` (by extension; hidden files left out), sorted, the tree with ``recursive``."""
    exts = _image_extensions()
    found = []
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for d, subdirs, names in walker:
        subdirs[:] = sorted(n for n in subdirs if not n.startswith("."))
        for n in names:
            p = Path(d) / n
            if not n.startswith(".") and p.suffix.lower() in exts and p.is_file():
                found.append(p)
    return sorted(found)


def collect_inputs(patterns: list[str], recursive: bool = False) -> Inputs:
    """Expand files, folders and quoted globs (``"images/*.jpg"``, ``**`` recursive) in order,
    without duplicates.

    An argument that names an existing file is that file, even when it holds glob characters
    (``[a].png``) or is an Enhance output; only an argument that names nothing is expanded as a
    glob. A folder means the images in it (its whole tree with ``recursive``). What a glob or a
    folder matches leaves Enhance's own outputs out (:func:`is_enhance_output`).
    """
    got = Inputs()
    seen: set[str] = set()
    for pat in patterns:
        root: Path | None = None
        if os.path.isdir(pat):
            root = Path(pat)
            matches = [str(p) for p in _folder_files(root, recursive)]
            expanded = True
            if not matches:
                got.missing.append(FileResult(Path(pat), None, "failed", f"{pat}: a folder with no images in it"))
        elif glob.has_magic(pat) and not os.path.lexists(pat):  # "[a].png" that exists is that file
            matches = sorted(m for m in glob.glob(pat, recursive=True) if os.path.isfile(m))
            expanded = True
            if not matches:
                got.missing.append(FileResult(Path(pat), None, "failed", f"{pat}: no files match"))
        else:
            matches, expanded = [pat], False
        for m in matches:
            key = os.path.realpath(m)
            if key in seen:
                continue
            if expanded and is_enhance_output(Path(m)):
                got.outputs_left_out.append(Path(m))
                continue
            seen.add(key)
            got.files.append(Path(m))
            if root is not None:
                got.roots[Path(m)] = root
    return got


def expand_inputs(patterns: list[str]) -> tuple[list[Path], list[FileResult]]:
    """:func:`collect_inputs` as ``(files, missing)``: the files, and a failed
    :class:`FileResult` for each argument that named nothing."""
    got = collect_inputs(patterns)
    return got.files, got.missing


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


def output_path(source: Path, zoom: float, opts: BatchOptions, root: Path | None = None) -> Path:
    """``opts.output_file``, or ``{stem}_ne{zoom}x{ext}`` beside the input or in ``opts.output_dir``
    (below it, the input's folder relative to ``root``, the folder argument it was found in)."""
    if opts.output_file is not None:
        return opts.output_file
    folder = source.parent if opts.output_dir is None else mirrored_folder(source, opts.output_dir, root)
    return folder / f"{source.stem}_ne{zoom:g}x{FORMATS[opts.format]}"


def mirrored_folder(source: Path, output_dir: Path, root: Path | None) -> Path:
    """Where ``source``'s outputs go in ``output_dir``: below it, the input's folder relative to
    ``root`` (the folder argument it was found in, or the common folder of ``--keep-tree``);
    ``output_dir`` itself without a root."""
    if root is None:
        return output_dir
    return output_dir / Path(os.path.abspath(source.parent)).relative_to(os.path.abspath(root))


def enhance_file(
    source: Path,
    target: Path,
    treatment: Treatment,
    opts: BatchOptions,
    tile_progress: Callable[[int, int], None] | None = None,
    on_read: Callable[[list[str], list[tuple[int, int, int, int]]], None] | None = None,
) -> list[str]:
    """Enhance one file into ``target`` (atomically), through the model ``treatment`` picks for it;
    ``on_read`` hears what was found as soon as the file is read, before the long part.

    Returns:
        Notes for the user (what the file held, what was done to it and why).

    Raises:
        InputError, OutputError: the one-line problem with this file.
    """
    pixels, meta = open_image(source, max_pixels=opts.max_pixels)
    model, how = treatment.for_file(pixels, meta)
    notes = list(meta.notes) + how
    if on_read is not None:
        on_read(list(notes), list(getattr(model, "regions", [])))
    zoom = treatment.zoom
    check_output_folder(target)
    h, w = pixels.shape[:2]
    out_h, out_w = treatment.output_size(h, w)
    streamed = out_h * out_w > STREAM_PIXELS and opts.format != "webp"
    if streamed:
        model, why = streamable(model)
        notes += [why] if why else []
    if streamed and not treatment.exact:
        raise OutputError(f"{target}: a zoom of {zoom:g} makes {out_w}x{out_h}, too large to resize in memory; "
                          f"use a whole zoom ({', '.join(map(str, (2, 3, 4, 6, 8)))}, ...) for outputs over "
                          f"{STREAM_PIXELS // 1_000_000} MP")
    _check_budget(target, pixels, model, (out_h, out_w), opts, streamed)
    # convert once: before upscaling what PNG and WebP cannot hold (cheaper than after), and
    # anything streamed; after it for JPEG (16 to 8 bits, alpha flattened) and TIFF (which holds everything)
    early = opts.format in ("png", "webp") or (streamed and opts.format == "jpeg")
    if early:
        pixels, meta, conv = prepare_for_format(pixels, meta, opts.format)
        notes += conv
    out_meta = meta.scaled(zoom)
    s = model.scale
    if streamed:
        _write_streamed(target, pixels, meta.layout, model, out_meta, opts, tile_progress)
        if meta.exif and opts.format == "tiff":
            notes.append("EXIF not written to a streamed TIFF")
        return notes
    out = upscale_pixels(pixels, meta.layout, model, opts.tile, opts.overlap, progress=tile_progress)
    assert isinstance(out, np.ndarray)
    if not treatment.exact:
        out = resize_to(out, out_h, out_w)
        notes.append(f"x{zoom:g}: enlarged x{s} by {model.name}, then brought down to {out_w}x{out_h} with Lanczos")
    if not early:
        out, out_meta, conv = prepare_for_format(out, out_meta, opts.format)
        notes += conv
    notes += save_image(target, out, out_meta, opts.format, opts.quality, prepared=True)
    return notes


def _write_streamed(target: Path, pixels: np.ndarray, layout: str, model: Upscaler, out_meta: ImageMeta,
                    opts: BatchOptions, tile_progress: Callable[[int, int], None] | None) -> None:
    """Rows into the TIFF itself, or into an uncompressed TIFF beside a PNG or JPEG that is then
    re-encoded from it row by row: memory bounded by the tile rows, whatever the output's size."""
    h, w, c = pixels.shape
    shape = (h * model.scale, w * model.scale, c)
    with atomic_output(target) as tmp:
        if opts.format == "tiff":
            sink = TiffSink(tmp, shape, pixels.dtype, out_meta)
            upscale_pixels(pixels, layout, model, opts.tile, opts.overlap, sink=sink, progress=tile_progress)
            sink.close()
            return
        raw = tmp.with_name(tmp.name.replace(".tmp", ".raw.tmp"))
        try:
            sink = TiffSink(raw, shape, pixels.dtype, out_meta)
            upscale_pixels(pixels, layout, model, opts.tile, opts.overlap, sink=sink, progress=tile_progress)
            sink.close()
            convert_streamed(raw, tmp, out_meta, opts.format, opts.quality)
        finally:
            raw.unlink(missing_ok=True)


#: WebP's largest side
WEBP_MAX_SIDE = 16383


def memory_budget() -> int:
    """The default ``max_memory``: three quarters of this machine's physical memory, in bytes."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.75)
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _check_budget(target: Path, pixels: np.ndarray, model: Upscaler, out_hw: tuple[int, int], opts: BatchOptions,
                  streamed: bool) -> None:
    """Refuse, before computing, an output that WebP cannot hold or whose memory would exceed the budget."""
    h, w, c = pixels.shape
    out_h, out_w = out_hw
    if opts.format == "webp" and max(out_h, out_w) > WEBP_MAX_SIDE:
        raise OutputError(f"{target}: {out_w}x{out_h} is more than WebP holds ({WEBP_MAX_SIDE} px a side); "
                          "write PNG, JPEG or TIFF")
    item = pixels.dtype.itemsize
    s = model.scale
    need = h * w * c * item
    if streamed:  # the band of tile rows being blended, in float32 with its weights
        rows = (min(h, opts.tile) + 2 * int(model.context)) * s
        need += w * s * rows * c * 4 * 2
    else:  # the models' output, the encoder's copy of it (and the resized one)
        need += 2 * h * s * w * s * c * max(item, 1) + out_h * out_w * c * item
        if isinstance(model, Regional):  # a second output, their float blend and its mask
            need += h * s * w * s * (c * (item + 4) + 4)
    budget = opts.max_memory or memory_budget()
    if need > budget:
        raise OutputError(f"{target}: needs about {need / 2**30:.1f} GB of memory, more than the "
                          f"{budget / 2**30:.1f} GB allowed (--max-memory): write TIFF (--format tiff streams "
                          "any size) or use smaller --rendering-tile")


def clean_output_folders(files: list[Path], zoom: float, opts: BatchOptions, inputs: set[str],
                          roots: dict[Path, Path]) -> None:
    """Remove the temporaries that killed runs left in the batch's output folders (said once each)."""
    targets = [output_path(f, zoom, opts, roots.get(f)) for f in files]
    names = {t.name for t in targets}
    for folder in sorted({t.parent for t in targets}, key=str):
        removed = remove_stale_temporaries(folder if str(folder) else Path("."), inputs, names)
        if removed:
            log.info("removed %d temporary file%s left in %s by an interrupted run", len(removed),
                     "" if len(removed) == 1 else "s", folder)


def _why_skip(src: Path, target: Path, treatment: Treatment, notes: list[str]) -> str:
    """For ``--skip-existing``: why ``src`` is skipped ("" to do it): its output is there and
    whole, or another live run is writing it now. Checked just before the file's turn."""
    pid = writer_of(target)
    if pid is not None:
        return f"{src}: {target} is being written by another run (pid {pid}), skipped"
    if not target.exists():
        return ""
    w_h = _input_size(src)
    if w_h is None:
        sizes: tuple[tuple[int, int], ...] = ()
    else:
        (oh, ow), (rh, rw) = treatment.output_size(w_h[1], w_h[0]), treatment.output_size(w_h[0], w_h[1])
        sizes = ((ow, oh), (rw, rh))  # as (width, height), either way up (EXIF orientation)
    if is_complete(target, sizes):
        return f"{src}: {target} exists, skipped"
    notes.append(f"{target} was there but incomplete or not this input's output; made again")
    return ""


def _input_size(src: Path) -> tuple[int, int] | None:
    """The input's width and height from its header, or None when that cannot be read cheaply."""
    try:
        return dimensions(src)
    except Exception:
        return None


def _one_file(src: Path, target: Path, treatment: Treatment, opts: BatchOptions, i: int, n: int,
              progress: Callable[[BatchEvent], None] | None) -> FileResult:
    """One file, claimed while it is computed; its failure becomes its result's one line."""
    try:
        claim(target)
        tile_cb = (lambda d, t: progress(BatchEvent("tile", i, n, src, d, t))) if progress else None
        regions: list[tuple[int, int, int, int]] = []

        def read_cb(found: list[str], boxes: list[tuple[int, int, int, int]]) -> None:
            regions[:] = boxes
            if progress:
                progress(BatchEvent("read", i, n, src, notes=tuple(found), regions=tuple(boxes)))

        notes = enhance_file(src, target, treatment, opts, tile_cb, read_cb)
        return FileResult(src, target, "done", "", notes, regions=regions)
    except InputError as exc:
        return FileResult(src, target, "failed", str(exc))
    except OutputError as exc:
        return FileResult(src, target, "failed", f"{src}: {exc}")
    except EnhanceError as exc:
        return FileResult(src, target, "failed", f"{src}: {exc}")
    except MemoryError:
        return FileResult(src, target, "failed", f"{src}: out of memory (try a smaller --rendering-tile)")
    except Exception as exc:  # a bug must not sink the batch; the details go to the debug log
        log.debug("unexpected failure on %s", src, exc_info=True)
        return FileResult(src, target, "failed", f"{src}: unexpected error ({type(exc).__name__}: {exc}); "
                          "rerun with -v for details")
    finally:
        release(target)


@dataclass
class PlannedFile:
    """One input of a batch, before it is computed: its target and, when it is settled
    already (skipped, or refused before computing), its result."""

    index: int
    source: Path
    target: Path
    result: FileResult | None = None
    notes: list[str] = field(default_factory=list)


def plan_batch(files: list[Path], treatment: Treatment, opts: BatchOptions, roots: dict[Path, Path] | None = None,
               manifest: "Manifest | None" = None) -> Iterator[PlannedFile]:
    """Every file's target, in order, with the refusals and skips decided (each just before its
    turn, so a resumed run sees what a parallel one finished meanwhile). The engines (this
    process, or Ray) compute the rest the same way.

    With ``skip_existing`` and a ``manifest``, an output that the manifest says was made with
    other settings is made again."""
    claims = TargetClaims(files)
    input_keys = {os.path.realpath(f) for f in files}
    roots = roots or {}
    clean_output_folders(files, treatment.zoom, opts, input_keys, roots)
    before = manifest.read() if manifest is not None and opts.skip_existing else {}
    for i, src in enumerate(files):
        target = output_path(src, treatment.zoom, opts, roots.get(src))
        if src in roots and opts.output_dir is not None and not target.parent.is_dir():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # said by the output-folder check
        p = PlannedFile(i, src, target)
        hit = claims.clash([target])
        if hit is not None and hit[1] is not None:
            p.result = FileResult(src, target, "failed", f"{src}: output {target} would overwrite the output of "
                                  f"{hit[1]}; {TargetClaims.hint(src, hit[1], opts.output_dir is not None)}")
        elif hit is not None:
            p.result = FileResult(src, target, "failed", f"{src}: output {target} is one of the inputs; refusing to "
                                  "overwrite it")
        else:
            claims.claim(src, [target])
            prev = before.get(os.path.realpath(src))
            if prev is not None and prev.get("status") == "done" and manifest is not None and \
                    prev.get("settings") != manifest.settings:
                p.notes.append(f"{target} was made with other settings ({manifest.path}); made again")
            elif opts.skip_existing and (skip := _why_skip(src, target, treatment, p.notes)):
                p.result = FileResult(src, target, "skipped", skip)
        yield p


def run_batch(
    files: list[Path],
    treatment: Treatment,
    opts: BatchOptions = BatchOptions(),
    progress: Callable[[BatchEvent], None] | None = None,
    roots: dict[Path, Path] | None = None,
    manifest: "Manifest | None" = None,
) -> list[FileResult]:
    """Enhance every file; a failing file is recorded and the batch goes on.

    Args:
        files: inputs (see :func:`collect_inputs`).
        treatment: which models run on each file (built once, for the whole batch).
        opts: where and how outputs are written.
        progress: receives :class:`BatchEvent` reports.
        roots: the folder argument each file was found in (:attr:`Inputs.roots`): below
            ``opts.output_dir``, outputs mirror the tree under it (its folders made as needed).
        manifest: where each file's line goes as it finishes (and, with ``skip_existing``, what
            an earlier run recorded).

    Returns:
        One :class:`FileResult` per input, in order.
    """
    results: list[FileResult] = []
    n = len(files)
    for p in plan_batch(files, treatment, opts, roots, manifest):
        if progress:
            progress(BatchEvent("file", p.index, n, p.source))
        t0 = time.perf_counter()
        res = p.result or compute_file(p, treatment, opts, n, progress)
        res.seconds = time.perf_counter() - t0
        finish(res, manifest)
        results.append(res)
        if progress:
            progress(BatchEvent("done", p.index, n, p.source, result=res))
    return results


def compute_file(p: PlannedFile, treatment: Treatment, opts: BatchOptions, n: int = 1,
                 progress: Callable[[BatchEvent], None] | None = None) -> FileResult:
    """Compute one planned file (any engine's worker calls this): its result, never an exception."""
    res = _one_file(p.source, p.target, treatment, opts, p.index, n, progress)
    res.notes[:0] = p.notes
    return res


def finish(res: FileResult, manifest: "Manifest | None") -> None:
    """A file's result recorded: its notes to the debug log, its line to the manifest."""
    for note in res.notes:
        log.debug("%s: %s", res.source, note)
    if manifest is not None:
        manifest.append(res.source, res.output, res.status, res.message, res.notes, res.seconds)


def read_list(path: Path) -> list[str]:
    """The inputs a list file names (``--from-list``): one path a line (blank lines and lines
    starting with ``#`` left out), or a CSV (``.csv``) or JSON Lines (``.jsonl``) file with a
    ``path`` column. Paths are as on a command line (relative ones to the current folder).

    Raises:
        InputError: the list cannot be read or has no ``path`` column.
    """
    import csv
    import json

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the list ({getattr(exc, 'strerror', None) or exc})") from None
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if rows and "path" not in rows[0]:
            raise InputError(f"{path}: a CSV list needs a 'path' column (it has {', '.join(rows[0])})")
        return [r["path"] for r in rows if r.get("path")]
    if suffix in (".jsonl", ".ndjson"):
        out = []
        for k, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(str(json.loads(line)["path"]))
            except (ValueError, KeyError, TypeError):
                raise InputError(f"{path}: line {k} is not a JSON object with a 'path'") from None
        return out
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def common_root(files: list[Path]) -> Path | None:
    """The deepest folder that holds every one of ``files`` (for ``--keep-tree``), or None."""
    if not files:
        return None
    try:
        return Path(os.path.commonpath([os.path.abspath(f.parent) for f in files]))
    except ValueError:  # different drives
        return None
