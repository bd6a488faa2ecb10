"""The ``enhance`` command: a thin layer that parses, sets up logging and progress, and calls the library.

Exit status: 0 when every file was done (or skipped), 1 when any file failed, 2 for a usage
error (bad option, unknown model). Problems with a file are one line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .version import __version__
from .errors import EnhanceError
from .models.ensemble import PASSES
from .treatment import REPAIR_MODES, auto_jpeg_limit

if TYPE_CHECKING:
    from .batch import BatchOptions, Inputs
    from .manifest import Manifest
    from .ray_engine import RayOptions
    from .report import ReportEntry
    from .retina import RetinaMaker
    from .treatment import Treatment

log = logging.getLogger("enhance")

EPILOG = """\
examples:
  enhance --zoom=2 "images/*.jpg"            upscale every JPEG 2x -> images/NAME_ne2x.png
  enhance --zoom=1 --model=repair broken.jpg  remove JPEG damage at the same size
  enhance --zoom=4 --model=raisr --format tiff scan.tif   fast learned filters, 16-bit kept
  enhance --retina --pipeline-check --report r.html "figs/*.tif"
                                              1x/2x/3x web assets, srcset.html, what survives the pipeline
  enhance --list-models                       what models exist, their scales and speed
  enhance --train "data/*.png" --model mybook --arch raisr --scales=2
                                              learn filters from your own scans (minutes)

Outputs are exactly zoom x the input size and keep ICC profile, DPI (multiplied by the zoom,
so the print size stays), EXIF, alpha and 16-bit depth. Quote globs so enhance expands them.
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The epilog as written, and every option's default after its help (when it has one to show)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        d = action.default
        shown = d is not None and d is not False and d is not argparse.SUPPRESS
        if shown and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def _shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N), for ``--shard`` (the range rule is :func:`~enhance.batch.select_shard`'s)."""
    from .batch import select_shard

    k, sep, n = text.partition("/")
    try:
        if not sep:
            raise ValueError
        ki, ni = int(k), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N (e.g. 2/4)") from None
    try:
        select_shard([], ki, ni)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return ki, ni


def _in_range(text: str, lo: float, hi: float, whole: bool) -> float:
    """``text`` as a number from ``lo`` to ``hi`` (a whole number when ``whole``), else argparse's error."""
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole number' if whole else 'number'}") from None
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"{text} is outside {lo:g}..{hi:g}")
    return value


def _zoom(text: str) -> float:
    """``--zoom``: a whole number stays an int (``2``), else a float (``1.5``); 1 to 16."""
    value = _in_range(text, 1, 16, whole=False)
    return int(value) if value.is_integer() else value


def _quality(text: str) -> int:
    """``--quality`` and ``--pipeline-quality``: an encoder quality, 1 to 100."""
    return int(_in_range(text, 1, 100, whole=True))


def _at_least(text: str, low: int) -> int:
    """``text`` as a whole number of at least ``low``, else argparse's error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{value} is below {low}")
    return value


def _positive(text: str) -> int:
    """An integer of at least 1 (``--max-pixels``)."""
    return _at_least(text, 1)


def _tile_side(text: str) -> int:
    """A tile side of at least 16 input pixels (``--rendering-tile``): below that a tile is
    mostly its overlap, and a picture of a few hundred pixels takes hundreds of them."""
    return _at_least(text, 16)


def _not_negative(text: str) -> int:
    """An integer of at least 0 (``--rendering-overlap``)."""
    return _at_least(text, 0)


def _positive_float(text: str) -> float:
    """A number above 0 (``--max-memory``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not above 0")
    return value


def _build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="enhance",
        usage="enhance [--zoom=2] [--model=NAME] [--output DIR] [options] FILE_OR_GLOB ...\n"
              "       enhance --retina [--densities 1,2,3] [--pipeline-check] [--report FILE.html] FILES\n"
              "       enhance --train GLOB --model NAME [--arch raisr] [--scales=2] [training options]\n"
              "       enhance --list-models\n"
              "       enhance serve [--host 127.0.0.1] [--port 8080] [--workers 1]   (a web page: enhance serve --help)",
        description="Faithful 2x, 3x and 4x enlargements (and x1 repair) of scans and small images.",
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    ap.add_argument("files", nargs="*", help="image files, folders (the images in them) or quoted globs (\"images/*.jpg\", \"**/*.png\")")
    ap.add_argument("--zoom", type=_zoom, default=2,
                    help="enlargement, 1 to 16: 2, 3, 4 by one model; 6, 8, 9, 12, 16 by two in turn (8 = x4 then x2); "
                         "any other (1.5, 2.5, 5) by the next such zoom brought down with Lanczos; 1 = repair only")
    ap.add_argument("--model", default=None,
                    help="model name: default, repair, raisr, bicubic, lanczos, or one you trained (default: "
                         "'default', or 'repair' at --zoom=1)")
    ap.add_argument("--type", default=None, metavar="TYPE",
                    help="photo, print, jpeg or aliased (or a type of your own models): the model variant trained for it; "
                    "print: remove the halftone screen of a scanned print first; jpeg: the input was saved as JPEG (the "
                    "model's JPEG variant, or the repair model first); aliased: a low-dpi scan or a nearest-neighbour "
                    "resize whose fine lines and hatching zigzag (the model's variant for it, or a light blur first)")
    ap.add_argument("--auto", action="store_true", help="descreen (as --type=print) only the files in which a halftone screen is detected")
    ap.add_argument("--repair", default="auto", choices=REPAIR_MODES,
                    help="treat JPEG damage as --type=jpeg does: auto = JPEG files compressed hard enough for it "
                         "to help, with the default model (quality "
                         + ", ".join(f"{auto_jpeg_limit(z)} or below at x{z}" for z in (2, 3, 4))
                         + ") (default); always = every file; never")
    ap.add_argument("--output", "-o", type=Path, default=None, metavar="DIR",
                    help="write outputs into DIR instead of beside the inputs (with one input, a name such as "
                         "result.png names the output file and its format)")
    ap.add_argument("--recursive", "-r", action="store_true",
                    help="a folder argument means its whole tree (outputs mirror it under --output)")
    ap.add_argument("--format", default=None, choices=("png", "tiff", "jpeg", "webp"), help="output format (default png)")
    ap.add_argument("--quality", type=_quality, default=None,
                    help="JPEG/WebP quality 1-100 (WebP 100 = lossless; default 95, and for --retina the web "
                         "pipelines' 80 for JPEG and WebP, 50 for AVIF)")
    ap.add_argument("--report", type=Path, default=None, metavar="FILE.html",
                    help="write one self-contained HTML page: each result beside the input enlarged by Lanczos "
                         "(a slider at 100 %%, crops of its busiest regions), what was found and done, the verdicts")
    ap.add_argument("--skip-existing", action="store_true", help="skip inputs whose output already exists (resume a batch)")
    ap.add_argument("--shard", type=_shard, default=None, metavar="K/N",
                    help="take only the K-th of N shares of the files (1/4 .. 4/4 on four machines sharing the folders)")
    ap.add_argument("--from-list", type=Path, default=None, metavar="FILE",
                    help="also take the inputs FILE names: one path a line, or a .csv / .jsonl with a 'path' column")
    ap.add_argument("--keep-tree", action="store_true",
                    help="under --output (and --retina's folder), mirror the inputs' folders (below the deepest "
                         "folder holding them all)")
    ap.add_argument("--manifest", type=Path, default=None, metavar="RUN.jsonl",
                    help="append one JSON line per file as it finishes (input, output, settings, notes, seconds, bytes, "
                         "status); with --skip-existing, what it records is redone only where the settings changed")
    ap.add_argument("--engine", default="local", choices=("local", "ray"),
                    help="local (this process) or ray (a Ray cluster, Ray Data: the ray extra)")
    ap.add_argument("--ray-address", default=None, metavar="auto|ADDR",
                    help="join an existing Ray cluster (default: start a local one for the run)")
    ap.add_argument("--num-gpus-per-worker", type=float, default=0.0, metavar="G",
                    help="GPUs each Ray actor reserves (with --device cuda)")
    ap.add_argument("--ray-workers", type=int, default=None, metavar="N",
                    help="actors in the Ray pool (default: one per CPU but one, or per GPU share)")
    ap.add_argument("--list-models", action="store_true", help="list the models with their scales, type, size and speed")
    ap.add_argument("--rendering-tile", type=_tile_side, default=512, metavar="PX",
                    help="tile side in input pixels, 16 or more (memory vs speed; default 512)")
    ap.add_argument("--rendering-overlap", type=_not_negative, default=16, metavar="PX", help="blended overlap between tiles (default 16)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda when a GPU is present (neural models)")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                    help="neural inference precision (auto: fp32 on a CPU, bf16 on CUDA; bf16 on a CPU runs PyTorch)")
    ap.add_argument("--backend", default="auto", choices=("auto", "onnxruntime", "torch"),
                    help="neural inference engine (auto: ONNX Runtime on a CPU, PyTorch for CUDA and --precision bf16)")
    ap.add_argument("--ensemble", type=int, default=1, choices=PASSES, metavar="N",
                    help="run the model on N flipped/rotated copies of the image and average them (1, 2, 4 or 8): "
                    "a little more fidelity for N times the model's time (default 1)")
    ap.add_argument("--max-pixels", type=_positive, default=None, metavar="N",
                    help="refuse inputs with more than N pixels (decompression bombs; default 400000000)")
    ap.add_argument("--max-memory", type=_positive_float, default=None, metavar="GB",
                    help="refuse, before computing, an output that would need more memory than this "
                         "(default: three quarters of this machine's RAM; big TIFF, PNG and JPEG outputs stream)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress display, errors only")
    ap.add_argument("-v", "--verbose", action="store_true", help="log details (notes on conversions, timings)")
    ap.add_argument("--version", action="version", version=f"enhance {__version__}")
    _add_retina_flags(ap)
    _add_training_flags(ap)
    return ap


def _add_retina_flags(ap: argparse.ArgumentParser) -> None:
    """``--retina`` and its options (:class:`~enhance.retina.RetinaOptions`)."""
    rt = ap.add_argument_group("retina sets (enhance --retina FILES: NAME.EXT, NAME@2x.EXT, ... and srcset.html)")
    rt.add_argument("--retina", action="store_true", help="write a retina asset set per input, a srcset.html and a "
                    "manifest.json into --output (default: the folder retina/)")
    rt.add_argument("--densities", default="1,2,3", help="pixel densities, e.g. 1,2,3 or 1,1.5,2")
    rt.add_argument("--css-width", type=int, default=None, metavar="PX",
                    help="the 1x width in pixels (default: the input's width)")
    rt.add_argument("--print-width", default=None, metavar="LENGTH",
                    help="the 1x width as a length (4in, 10cm, 100mm) at the file's DPI, instead of --css-width")
    rt.add_argument("--formats", default="webp,jpeg", help="web formats: webp, jpeg, avif")
    rt.add_argument("--keep-metadata", action="store_true", help="keep all EXIF and XMP (default: rights only)")
    rt.add_argument("--pipeline-check", action="store_true",
                    help="score what survives a web pipeline after each asset (SSIMULACRA2; the quality extra)")
    rt.add_argument("--pipeline-quality", type=_quality, default=None, metavar="Q",
                    help="the pipeline's encoder quality (default: JPEG 80, WebP 80, AVIF 50)")
    rt.add_argument("--reference", type=Path, default=None, metavar="HR_FILE",
                    help="with --pipeline-check and one input: a better original to score the assets against")
    rt.add_argument("--strict", action="store_true", help="skip a density that needs more than x4, rather than "
                    "making it with x4 and Lanczos")


def _add_training_flags(ap: argparse.ArgumentParser) -> None:
    """``--train`` and Neural Enhance's training flags (their dests are :class:`~enhance.train.custom.TrainingOptions`' fields)."""
    tr = ap.add_argument_group("training (enhance --train \"data/*.jpg\" --model NAME ...)")
    tr.add_argument("--train", action="append", default=None, metavar="GLOB", help="train a model on these images")
    tr.add_argument("--arch", choices=("generator", "raisr"), help="what to train (default generator)")
    tr.add_argument("--scales", type=int, choices=(1, 2, 3, 4), help="the zoom the model is trained for")
    tr.add_argument("--epochs", type=int, help="passes over --epoch-size iterations")
    tr.add_argument("--epoch-size", type=int, help="iterations per epoch")
    tr.add_argument("--batch-size", type=int, help="patches per iteration")
    tr.add_argument("--batch-shape", type=int, help="HR patch side in pixels")
    tr.add_argument("--learning-rate", type=float, help="Adam learning rate")
    tr.add_argument("--learning-period", type=int, help="epochs between learning-rate decays")
    tr.add_argument("--learning-decay", type=float, help="factor applied every --learning-period epochs")
    tr.add_argument("--pixel-weight", type=float, help="weight of the L1 pixel loss (default 1, which keeps a GAN faithful in colour; "
                    "0 trains on the other losses alone, as Neural Enhance did)")
    tr.add_argument("--perceptual-layer", help="EfficientNet-Lite0 feature layer for the perceptual loss (conv1_2 .. conv5_4; see docs)")
    tr.add_argument("--perceptual-weight", type=float, help="weight of the perceptual loss (default 1 when a layer is given explicitly)")
    tr.add_argument("--smoothness-weight", type=float, help="weight of the total-variation term")
    tr.add_argument("--adversary-weight", type=float, help="weight of the adversarial term (0 = no GAN)")
    tr.add_argument("--generator-start", type=int, help="epoch the generator starts training")
    tr.add_argument("--discriminator-start", type=int, help="epoch the discriminator starts training")
    tr.add_argument("--adversarial-start", type=int, help="epoch the adversarial term starts counting")
    tr.add_argument("--discriminator-size", type=int, help="discriminator feature channels")
    tr.add_argument("--generator-blocks", type=int, help="residual blocks (more than an existing model has grows it)")
    tr.add_argument("--generator-filters", type=int, help="feature channels")
    tr.add_argument("--generator-upscale", type=int, help="same as --scales (Neural Enhance name)")
    tr.add_argument("--generator-downscale", type=int, help="stride-2 stages after the head (2 for a descreener)")
    tr.add_argument("--generator-residual", type=int, help="1: add a bilinear upsample of the input (default)")
    tr.add_argument("--train-blur", type=float, help="Gaussian blur sigma added to the LR (half the patches)")
    tr.add_argument("--train-noise", type=float, help="Gaussian noise sigma added to the LR (below 1: a fraction of 255)")
    tr.add_argument("--train-jpeg", type=int, help="lowest JPEG quality the LR is saved at (up to 95)")
    tr.add_argument("--train-scales", type=int, help="halve the training images this many times first")
    tr.add_argument("--train-degradation", help="degradation preset (default: print for --type=print, repair at --scales=1, else bicubic): "
                    "bicubic, faithful, repair, print and their -text and -jpeg forms")
    tr.add_argument("--save-every", type=int, help="epochs between checkpoints")
    tr.add_argument("--seed", type=int, help="random seed (runs are reproducible)")
    # the defaults are TrainingOptions' own: one place for them
    from dataclasses import MISSING, fields

    from .train.custom import TrainingOptions

    defaults = {f.name: f.default for f in fields(TrainingOptions) if f.default is not MISSING}
    for action in tr._group_actions:
        if action.dest in defaults:
            action.default = defaults[action.dest]


def _setup_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # other libraries' chatter stays out even with -v
    logging.getLogger("enhance").setLevel(level)


def _print_models() -> int:
    from .models.registry import list_models

    rows = []
    for e in list_models("."):
        size = f"{e.size_bytes / 1024:.0f} KB" if e.size_bytes else "-"
        rows.append((e.name, ",".join(f"x{s}" for s in e.scales), e.type, e.arch, size, e.speed, e.description))
    head = ("model", "scales", "type", "arch", "size", "speed", "description")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
    out = ["  ".join(str(head[i]).ljust(widths[i]) for i in range(6)) + "  " + head[6]]
    for r in rows:
        out.append("  ".join(str(r[i]).ljust(widths[i]) for i in range(6)) + "  " + r[6])
    out.append("speed: the model call, seconds per output megapixel, as measured for BENCHMARKS.md "
               "(AMD EPYC, 2 cores); the whole command adds reading, writing and start-up")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _clobbers_an_input(args: argparse.Namespace, files: list[Path]) -> str | None:
    """Why ``--report`` or ``--manifest`` would write over one of the inputs (``--report scan.jpg``
    wrote the page over the scan; the manifest appends to its file), or None."""
    inputs = {os.path.realpath(f) for f in files}
    for flag, path in (("--report", args.report), ("--manifest", getattr(args, "manifest", None))):
        if path is not None and os.path.realpath(path) in inputs:
            return f"{flag} {path} is one of the inputs; refusing to write over it"
    if args.report is not None and args.report.suffix.lower() not in (".html", ".htm"):
        return f"--report {args.report}: the report is an HTML page; name it FILE.html"
    return None


def _run(args: argparse.Namespace) -> int:
    from .batch import BatchOptions, collect_inputs, select_shard
    from .image import DEFAULT_MAX_PIXELS, EXTENSION_FORMATS, format_for_path
    from .treatment import ModelRequest, Treatment

    patterns = list(args.files)
    if args.from_list is not None:
        from .batch import read_list

        try:
            patterns += read_list(args.from_list)
        except EnhanceError as exc:
            print(f"enhance: error: {exc}", file=sys.stderr)
            return 2
    got = collect_inputs(patterns, recursive=args.recursive)
    for r in got.missing:
        print(f"enhance: error: {r.message}", file=sys.stderr)
    if got.outputs_left_out and not args.quiet:
        n = len(got.outputs_left_out)
        print(f"enhance: left out {n} file{'s' if n > 1 else ''} that {'are' if n > 1 else 'is an'} Enhance "
              f"output{'s' if n > 1 else ''} (e.g. {got.outputs_left_out[0]}); name one to enhance it again", file=sys.stderr)
    files = got.files
    if not files:
        return 1 if got.missing else 2
    if (why := _clobbers_an_input(args, files)) is not None:
        print(f"enhance: error: {why}", file=sys.stderr)
        return 2
    if args.keep_tree:
        if args.output is None:
            print("enhance: error: --keep-tree mirrors the inputs' folders under --output: give one", file=sys.stderr)
            return 2
        _keep_tree(got)
    out_dir, out_file, fmt = args.output, None, args.format or "png"
    if out_dir is not None and out_dir.suffix.lower() in EXTENSION_FORMATS and not out_dir.is_dir():
        if len(files) != 1 or len(args.files) != 1 or got.roots:
            print(f"enhance: error: -o {out_dir} names one output file, but the arguments name {len(files)} inputs; "
                  "give a folder for several", file=sys.stderr)
            return 2
        out_file, out_dir = out_dir, None
        fmt = format_for_path(out_file)
        if args.format and args.format != fmt:
            print(f"enhance: error: -o {out_file} is {fmt}, but --format {args.format} was asked for", file=sys.stderr)
            return 2
    folder = out_dir if out_dir is not None else (out_file.parent if out_file is not None else None)
    if folder is not None and str(folder) and not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"enhance: error: cannot create output folder {folder} ({exc.strerror or exc})", file=sys.stderr)
            return 2
    try:
        request = ModelRequest(name=args.model, zoom=args.zoom, type=args.type, device=args.device,
                               precision=args.precision, backend=args.backend, ensemble=args.ensemble)
    except EnhanceError as exc:
        print(f"enhance: error: {exc}", file=sys.stderr)
        return 2
    opts = BatchOptions(
        output_dir=out_dir, output_file=out_file, format=fmt, quality=args.quality if args.quality is not None else 95,
        skip_existing=args.skip_existing, tile=args.rendering_tile, overlap=args.rendering_overlap,
        max_pixels=args.max_pixels or DEFAULT_MAX_PIXELS,
        max_memory=int(args.max_memory * 2**30) if args.max_memory else None,
    )
    if args.shard:
        total = len(files)
        files = select_shard(files, *args.shard)
        if not args.quiet:
            print(f"enhance: shard {args.shard[0]}/{args.shard[1]}: {len(files)} of {total} files", file=sys.stderr)
        if not files:
            return 1 if got.missing else 0
    try:
        treatment = Treatment(request, repair=args.repair, auto=args.auto)
    except EnhanceError as exc:
        print(f"enhance: error: {exc}", file=sys.stderr)
        return 2
    manifest = None
    if args.manifest is not None:
        from .manifest import Manifest

        manifest = Manifest(args.manifest, {"model": args.model, "zoom": args.zoom, "type": args.type,
                                            "repair": args.repair, "auto": args.auto, "format": fmt,
                                            "quality": opts.quality, "ensemble": args.ensemble})
    engine = None
    if args.engine == "ray":
        from .ray_engine import RayOptions

        engine = RayOptions(args.ray_address, args.num_gpus_per_worker, args.ray_workers)
    return _run_batch(files, treatment, opts, len(got.missing), args.quiet, got.roots, args.report,
                      [r.message for r in got.missing], manifest, engine)


def _run_batch(files: list[Path], treatment: "Treatment", opts: "BatchOptions", failed: int, quiet: bool,
               roots: dict[Path, Path], report: Path | None = None, missing: list[str] | None = None,
               manifest: "Manifest | None" = None, engine: "RayOptions | None" = None) -> int:
    """Run the batch with progress on a terminal and one line per file; returns the exit status."""
    from .batch import BatchEvent, run_batch

    t0 = time.perf_counter()
    show = not quiet and sys.stderr.isatty()
    renderer = _Progress(len(files)) if show else None

    def on_event(ev: BatchEvent) -> None:
        if renderer:
            renderer.update(ev)
        if ev.kind == "done" and ev.result is not None:
            r = ev.result
            if r.status == "failed":
                msg = f"enhance: error: {r.message}"
                (renderer.print_err(msg) if renderer else print(msg, file=sys.stderr))
            elif not quiet:
                line = f"{r.source} -> {r.output} ({r.seconds:.1f} s)" if r.status == "done" else r.message
                (renderer.print_out(line) if renderer else print(line, file=sys.stderr))
                for note in r.notes:
                    (renderer.print_out(f"  note: {note}") if renderer else print(f"  note: {note}", file=sys.stderr))

    try:
        if renderer:
            renderer.start()
        if engine is not None:
            from .ray_engine import run_batch_ray

            results = run_batch_ray(files, treatment, opts, engine, on_event, roots, manifest)
        else:
            results = run_batch(files, treatment, opts, on_event, roots, manifest)
    finally:
        if renderer:
            renderer.stop()
    failed += sum(r.status == "failed" for r in results)
    done = sum(r.status == "done" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    if not quiet:
        print(f"enhance: {done} done, {skipped} skipped, {failed} failed in {time.perf_counter() - t0:.1f} s "
              f"(model {treatment.model.name} x{treatment.zoom:g})", file=sys.stderr)
    if report is not None:
        from .report import ReportEntry, entry_for_output

        entries = [ReportEntry(m, error=m) for m in missing or []]
        for r in results:
            if r.status == "done" and r.output is not None:
                entries.append(entry_for_output(r.source, r.output, f"x{treatment.zoom:g}, {treatment.model.name}",
                                                r.notes, r.seconds, regions=r.regions))
            elif r.status == "failed":
                entries.append(ReportEntry(str(r.source), error=r.message))
        if not _write_report(entries, report, quiet):
            return 1
    return 1 if failed else 0


def _write_report(entries: list["ReportEntry"], path: Path, quiet: bool) -> bool:
    from .report import write_report

    try:
        write_report(entries, path)
    except EnhanceError as exc:
        print(f"enhance: error: {exc}", file=sys.stderr)
        return False
    if not quiet:
        print(f"enhance: report {path}", file=sys.stderr)
    return True


def _train(args: argparse.Namespace) -> int:
    """``enhance --train``: the flags into :class:`~enhance.train.custom.TrainingOptions`, events rendered here."""
    from dataclasses import fields

    from .errors import InputError
    from .train.custom import TrainingEvent, TrainingOptions, train_model

    given = {f.name: getattr(args, f.name) for f in fields(TrainingOptions) if hasattr(args, f.name)}
    options = TrainingOptions(**{**given, "train": tuple(args.train), "model": args.model or ""})
    show_bar = not args.quiet and sys.stderr.isatty()
    bar: dict[str, object] = {}

    label = f"training {options.arch} x{options.scales}"

    def on_event(ev: TrainingEvent) -> None:
        if ev.kind == "skipped":
            print(f"enhance: error: {ev.message}", file=sys.stderr)
        elif ev.kind in ("step", "epoch"):
            losses = " ".join(f"{k}={v:.5f}" for k, v in (ev.losses or {}).items())
            _render_step(bar, ev.done, ev.total, label, losses, args.quiet, show_bar)
            if ev.kind == "epoch" and not args.quiet and not show_bar:
                print(f"epoch {ev.epoch}/{ev.epochs}  {losses}  lr={ev.learning_rate:.2e}  ({ev.seconds:.0f} s)",
                      file=sys.stderr)
        elif not args.quiet:  # start, note, done
            if "progress" in bar:
                bar["progress"].console.print(ev.message, markup=False, highlight=False)  # type: ignore[attr-defined]
            else:
                print(ev.message, file=sys.stderr)

    try:
        result = train_model(options, on_event)
    except InputError as exc:
        print(f"enhance: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if "progress" in bar:
            bar["progress"].stop()  # type: ignore[attr-defined]
    return 1 if result.output is None or result.skipped else 0


def _render_step(bar: dict[str, object], done: int, total: int, label: str, losses: str, quiet: bool,
                 rich_bar: bool) -> None:
    """Training progress: on a terminal a rich bar with the running losses and the time left;
    otherwise a line every 10 % (a generator's epochs print their own lines too)."""
    if quiet:
        return
    if rich_bar:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        if "progress" not in bar:
            prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[losses]}"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True)
            bar["task"] = prog.add_task(label, total=total, losses="")
            prog.start()
            bar["progress"] = prog
        bar["progress"].update(bar["task"], completed=done, total=total, losses=losses)  # type: ignore[attr-defined]
        return
    if not losses:  # RAISR: no epochs to print
        pct = int(100 * done / max(1, total))
        if pct // 10 != bar.get("last", -1):
            bar["last"] = pct // 10
            print(f"{label}: {pct}%", file=sys.stderr)


def _retina_maker(args: argparse.Namespace) -> "RetinaMaker":
    """The flags as a :class:`~enhance.retina.RetinaMaker` (its x2 treatment loaded, so an unknown model fails first).

    Raises:
        EnhanceError: a bad value (exit 2).
    """
    from .errors import UsageError
    from .retina import RetinaMaker, RetinaOptions, parse_densities, parse_print_width
    from .treatment import ModelRequest

    options = RetinaOptions(densities=parse_densities(args.densities), css_width=args.css_width,
                            print_width=parse_print_width(args.print_width) if args.print_width else None,
                            formats=tuple(f.strip() for f in args.formats.split(",") if f.strip()),
                            quality=args.quality, keep_metadata=args.keep_metadata, strict=args.strict,
                            pipeline_check=args.pipeline_check, pipeline_quality=args.pipeline_quality,
                            reference=args.reference)
    if args.reference is not None and (not args.pipeline_check or len(args.files) != 1):
        raise UsageError("--reference needs --pipeline-check and one input file")
    request = ModelRequest(name=args.model, zoom=2, type=args.type, device=args.device, precision=args.precision,
                           backend=args.backend, ensemble=args.ensemble)
    maker = RetinaMaker(request, options, repair=args.repair, auto=args.auto, tile=args.rendering_tile,
                        overlap=args.rendering_overlap, max_pixels=args.max_pixels)
    maker.treatment(2)
    return maker


def _keep_tree(got: "Inputs") -> None:
    """``--keep-tree``: the files not found in a folder argument mirror, under the output folder,
    their folders below the deepest one that holds them all (``got.roots``)."""
    from .batch import common_root

    top = common_root([f for f in got.files if f not in got.roots])
    if top is not None:
        for f in got.files:
            got.roots.setdefault(f, top)


def _retina(args: argparse.Namespace) -> int:
    """``enhance --retina``: a set per input, then srcset.html and manifest.json; a failing file is one line."""
    from .batch import collect_inputs, mirrored_folder
    from .outfile import remove_stale_temporaries
    from .retina import AssetSet, expected_names, refusals, temporary_names, write_manifest, write_srcset

    try:
        maker = _retina_maker(args)
    except EnhanceError as exc:
        print(f"enhance: error: {exc}", file=sys.stderr)
        return 2
    options = maker.options
    out = args.output or Path("retina")
    got = collect_inputs(args.files, recursive=args.recursive)
    for r in got.missing:
        print(f"enhance: error: {r.message}", file=sys.stderr)
    if (why := _clobbers_an_input(args, got.files)) is not None:
        print(f"enhance: error: {why}", file=sys.stderr)
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"enhance: error: cannot create output folder {out} ({exc.strerror or exc})", file=sys.stderr)
        return 2
    if args.keep_tree:
        _keep_tree(got)
    # a folder argument, or --keep-tree, mirrors the inputs' folders under the output folder
    folders = {f: mirrored_folder(f, out, got.roots.get(f)) for f in got.files}
    ours = set().union(*(temporary_names(f, options) for f in got.files)) if got.files else set()
    inputs, names = {str(f.resolve()) for f in got.files}, ours | {"srcset.html", "manifest.json"}
    stale = [p for folder in dict.fromkeys([out, *folders.values()]) if folder.is_dir()
             for p in remove_stale_temporaries(folder, inputs, names)]
    if stale and not args.quiet:
        print(f"enhance: removed {len(stale)} temporary file(s) left in {out} by an interrupted run", file=sys.stderr)
    sets = []
    t0 = time.perf_counter()
    refused = refusals(got.files, folders, options)
    for src in got.files:
        if src in refused:
            sets.append(AssetSet(str(src), error=refused[src]))
            print(f"enhance: error: {refused[src]}", file=sys.stderr)
            continue
        if args.skip_existing and all((folders[src] / n).exists() for n in expected_names(src, options)):
            if not args.quiet:
                print(f"{src}: its set exists in {folders[src]}, skipped", file=sys.stderr)
            continue
        t1 = time.perf_counter()
        s = maker.make(src, out, folders[src].relative_to(out).as_posix() if folders[src] != out else "")
        sets.append(s)
        if s.error:
            print(f"enhance: error: {s.error}", file=sys.stderr)
        elif not args.quiet:
            dens = ", ".join(dict.fromkeys(f"{a.density:g}x {a.width}x{a.height} ({a.made})" for a in s.assets))
            print(f"{src} -> {folders[src]}: {len(s.assets)} files; {dens} ({time.perf_counter() - t1:.1f} s)", file=sys.stderr)
            for note in s.notes:
                print(f"  note: {note}", file=sys.stderr)
    write_srcset(sets, out / "srcset.html")
    write_manifest(sets, out / "manifest.json", options)
    if args.report is not None:
        from .report import ReportEntry
        from .retina import report_entries

        entries = [ReportEntry(r.message, error=r.message) for r in got.missing] + report_entries(sets, out)
        if not _write_report(entries, args.report, args.quiet):
            return 1
    failed = len(got.missing) + sum(1 for s in sets if s.error)
    if not args.quiet:
        made = len(sets) - failed + len(got.missing)
        print(f"enhance: {made} {'set' if made == 1 else 'sets'} made, {failed} failed in {time.perf_counter() - t0:.1f} s; "
              f"{out / 'srcset.html'}, {out / 'manifest.json'}", file=sys.stderr)
    return 1 if failed else 0


class _Progress:
    """Renders batch progress with rich: one bar for files, one for the tiles of the current file."""

    def __init__(self, n_files: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=self.console, transient=True)
        self.files = self.progress.add_task("files", total=n_files)
        self.tiles = self.progress.add_task("tiles", total=1, visible=False)

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def update(self, ev: object) -> None:
        kind = getattr(ev, "kind")
        if kind == "file":
            self.progress.update(self.files, description=f"{getattr(ev, 'path').name}")
            self.progress.update(self.tiles, completed=0, total=1, visible=False)
        elif kind == "tile":
            self.progress.update(self.tiles, completed=getattr(ev, "done"), total=getattr(ev, "total"), visible=getattr(ev, "total") > 1)
        elif kind == "done":
            self.progress.advance(self.files)

    def print_err(self, msg: str) -> None:
        self.console.print(msg, style="red", markup=False, highlight=False)

    def print_out(self, msg: str) -> None:
        self.console.print(msg, markup=False, highlight=False)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so it cleans up as Ctrl-C does."""


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``enhance`` command; returns the exit status."""
    import signal
    import threading

    in_main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        return _main(argv)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, old)


def _serve(argv: list[str]) -> int:
    """``enhance serve``: the local web page and API (a file named ``serve`` is ``./serve``)."""
    ap = argparse.ArgumentParser(prog="enhance serve", description="A local web page and JSON API: drop scans in, "
                                 "see before/after, take the results away. Open http://HOST:PORT/ in a browser.")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--workers", type=int, default=1, help="jobs computed at once, each with its own models")
    ap.add_argument("--max-upload-mb", type=float, default=200.0, help="largest request (default 200 MB)")
    ap.add_argument("--max-pixels", type=int, default=None, help="largest input in pixels (as the command's)")
    ap.add_argument("--keep-minutes", type=float, default=60.0, help="finished jobs' files are removed after this")
    ap.add_argument("--max-disk-gb", type=float, default=10.0, help="refuse new jobs beyond this much job data")
    ap.add_argument("--max-queued", type=int, default=20, help="refuse new jobs beyond this many waiting")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    _setup_logging(args.quiet, args.verbose)
    for name in ("workers", "max_queued"):
        if getattr(args, name) < 1:
            print(f"enhance serve: error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if not 0 < args.port < 65536:
        print(f"enhance serve: error: --port must be 1 to 65535, not {args.port}", file=sys.stderr)
        return 2
    try:
        from .server import ServeOptions, serve
    except ImportError as exc:
        print(f"enhance serve: error: the server needs the serve extra ({exc.name} is missing): "
              "pip install 'enhance[serve]'", file=sys.stderr)
        return 2
    opts = ServeOptions(args.host, args.port, args.workers, args.max_upload_mb, args.max_pixels, args.keep_minutes,
                        args.max_disk_gb, args.max_queued)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    if not args.quiet:
        print(f"enhance serve: open http://{shown}:{args.port}/ (Ctrl-C stops it and removes every job's files)",
              file=sys.stderr)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"enhance serve: listening on {args.host}: other machines on this network can reach it and "
                  "upload to it", file=sys.stderr)
    try:
        serve(opts)
    except OSError as exc:
        print(f"enhance serve: error: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # uvicorn stops cleanly, then passes Ctrl-C (or SIGTERM) on: a normal stop
        pass
    if not args.quiet:
        print("enhance serve: stopped; every job's files removed", file=sys.stderr)
    return 0


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    ap = _build_parser()
    args = ap.parse_args(argv)
    _setup_logging(args.quiet, args.verbose)
    try:
        if args.list_models:
            return _print_models()
        if args.train:
            return _train(args)
        if args.retina:
            if not args.files:
                print("enhance: error: --retina needs input files", file=sys.stderr)
                return 2
            return _retina(args)
        if not args.files and args.from_list is None:
            ap.print_usage(sys.stderr)
            print("enhance: error: no input files (try enhance --help)", file=sys.stderr)
            return 2
        return _run(args)
    except EnhanceError as exc:
        print(f"enhance: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("enhance: interrupted (finished outputs are kept; rerun with --skip-existing to resume)", file=sys.stderr)
        return 143 if isinstance(exc, _Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
