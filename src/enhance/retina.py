"""Retina asset sets: ``NAME.EXT`` (1x), ``NAME@2x.EXT``, ``NAME@3x.EXT`` per web format, a
``srcset.html`` and a ``manifest.json`` for the batch.

Each density takes the faithful path: where the source has the pixels, a libvips Lanczos-3
downscale; where it does not, the model at the smallest zoom that reaches the width (the
command's own :class:`~enhance.treatment.Treatment` for that zoom: descreening, the JPEG rule and
``--model`` as in a plain run; an x1 first stage, the descreener or the repair model, runs once on
the source for all densities), then Lanczos down to the exact width. The web encoders default
to what web pipelines use (sharp: JPEG 80 4:2:0, WebP 80, AVIF 50); colour goes to sRGB through
the file's profile, and metadata is stripped but for the rights (EXIF Copyright and Artist) and
Enhance's mark.
"""

from __future__ import annotations

import html
import json
import logging
import os
import posixpath
import re
import urllib.parse
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import EnhanceError, UsageError
from .image import SOFTWARE, ImageMeta, open_image, prepare_for_format, to_display_rgb8
from .outfile import TargetClaims, atomic_output
from .models.chain import Chain
from .treatment import ModelRequest, Treatment
from .upscaling import check_tiles, resize_to, streamable, upscale_pixels

log = logging.getLogger(__name__)

__all__ = ["RetinaOptions", "Asset", "AssetSet", "PipelineCheck", "RetinaMaker", "check_pipeline", "web_encode",
           "web_decode", "parse_densities", "parse_print_width",
           "WEB_QUALITY", "write_srcset", "write_manifest", "expected_names", "temporary_names", "refusals",
           "report_entries"]

#: the encoders' qualities when none is asked for: sharp's defaults, what web pipelines apply
WEB_QUALITY = {"jpeg": 80, "webp": 80, "avif": 50}
_EXT = {"jpeg": ".jpg", "webp": ".webp", "avif": ".avif"}
_MIME = {"jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}
#: the zooms the models make in one step
_MODEL_ZOOMS = (2, 3, 4)


@dataclass(frozen=True)
class RetinaOptions:
    """What set to make.

    Attributes:
        densities: the pixel densities wanted (1, 2, 3; 1.5 allowed), each ``NAME@{d}x``.
        css_width: the 1x width in pixels (None: the input's width, or ``print_width`` at its DPI).
        print_width: the 1x width in inches, made pixels with the file's DPI.
        formats: web formats, each a file per density ("webp", "jpeg", "avif").
        quality: one quality for every format (None: :data:`WEB_QUALITY`).
        keep_metadata: keep all EXIF and XMP (default: rights only).
        strict: skip a density that needs more than x4 instead of making it with x4 plus Lanczos.
        pipeline_check: score what survives a web pipeline after each asset (:func:`check_pipeline`).
        pipeline_quality: the pipeline's encoder quality (None: :data:`WEB_QUALITY`).
        reference: a better original of the (one) input: the check then also scores the delivered
            enhanced and plain assets against it, through the same pipeline.
    """

    densities: tuple[float, ...] = (1, 2, 3)
    css_width: int | None = None
    print_width: float | None = None
    formats: tuple[str, ...] = ("webp", "jpeg")
    quality: int | None = None
    keep_metadata: bool = False
    strict: bool = False
    pipeline_check: bool = False
    pipeline_quality: int | None = None
    reference: Path | None = None

    def __post_init__(self) -> None:
        if not self.densities or any(not 0 < d <= 8 for d in self.densities):
            raise UsageError(f"densities must be numbers above 0 and at most 8, not {self.densities!r}")
        if self.css_width is not None and not 1 <= self.css_width <= 65535:
            raise UsageError(f"css width must be 1 to 65535 pixels, not {self.css_width!r}")
        if self.print_width is not None and not self.print_width > 0:
            raise UsageError(f"print width must be above 0, not {self.print_width!r}")
        bad = [f for f in self.formats if f not in _EXT]
        if bad or not self.formats:
            raise UsageError(f"formats must be among {', '.join(_EXT)}, not {', '.join(bad) or 'none'}")
        for name in ("quality", "pipeline_quality"):
            q = getattr(self, name)
            if q is not None and not 1 <= q <= 100:
                raise UsageError(f"{name.replace('_', ' ')} must be 1 to 100, not {q!r}")


def parse_densities(text: str) -> tuple[float, ...]:
    """``"1,2,3"`` -> (1, 2, 3); whole numbers stay ints.

    Raises:
        UsageError: not a comma-separated list of numbers above 0 and at most 8.
    """
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"densities {text!r}: give numbers separated by commas (1,2,3)") from None
    if not values or any(not 0 < v <= 8 for v in values):
        raise UsageError(f"densities {text!r}: each must be above 0 and at most 8")
    return tuple(int(v) if v.is_integer() else v for v in sorted(set(values)))


def parse_print_width(text: str) -> float:
    """``"4in"``, ``"10cm"``, ``"100mm"`` -> inches.

    Raises:
        UsageError: not a positive number with in, cm or mm.
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(in|cm|mm)\s*", text)
    if not m or float(m[1]) <= 0:
        raise UsageError(f"print width {text!r}: give a length such as 4in, 10cm or 100mm")
    return float(m[1]) / {"in": 1.0, "cm": 2.54, "mm": 25.4}[m[2]]


@dataclass
class Asset:
    """One file of a set: its name, density, pixel size, format, quality, bytes and how it was made."""

    file: str
    density: float
    width: int
    height: int
    format: str
    quality: int
    bytes: int
    made: str
    pipeline: "PipelineCheck | None" = None


@dataclass
class PipelineCheck:
    """What survives a web pipeline after one asset (libvips Lanczos-3 to the display width, here
    the asset's own, then the format's encoder at ``quality``).

    Attributes:
        ssimulacra2, psnr: the delivered file against the enhanced master at that size.
        verdict: the SSIMULACRA2 band ("visually lossless", "high", "medium", "low").
        vs_plain_before, vs_plain_after: SSIMULACRA2 of the enhanced against a plain Lanczos
            enlargement, before the pipeline and after it (None at a size the source had: nothing
            was enhanced); 100 means no difference.
        erased: the pipeline makes the two look the same (after >= 90) though they were not.
        smallest_high_quality, smallest_high_bytes: the lowest encoder quality that keeps the
            delivered file "high" (SSIMULACRA2 >= 70), and its size; None when none does.
        reference: with a reference (a better original, resized to the asset's size and put through
            the same pipeline): SSIMULACRA2 and PSNR of the delivered enhanced and plain assets
            against it (``enhanced_ssimulacra2``, ``lanczos_ssimulacra2``, ``enhanced_psnr``, ``lanczos_psnr``).
    """

    format: str
    quality: int
    ssimulacra2: float
    psnr: float
    verdict: str
    vs_plain_before: float | None
    vs_plain_after: float | None
    erased: bool
    smallest_high_quality: int | None
    smallest_high_bytes: int | None
    reference: dict[str, float] | None = None

    def sentence(self, density: float) -> str:
        """In the words a publisher reads: "2x: high after WebP 80" (and what the pipeline erased)."""
        name = {"jpeg": "JPEG", "webp": "WebP", "avif": "AVIF"}[self.format]
        text = f"{density:g}x: {self.verdict} after {name} {self.quality} (SSIMULACRA2 {self.ssimulacra2:.0f})"
        if self.erased:
            text += f"; enhancement not visible after {name} {self.quality}"
        if self.reference:
            r = self.reference
            text += (f"; against the reference SSIMULACRA2 {r['enhanced_ssimulacra2']:.0f} "
                     f"(Lanczos {r['lanczos_ssimulacra2']:.0f})")
        return text


#: the encoder qualities the smallest-"high" search tries
_SEARCH = (30, 40, 50, 60, 70, 80, 90, 95)


def check_pipeline(master: np.ndarray, plain: np.ndarray | None, fmt: str, quality: int,
                   reference: np.ndarray | None = None, before: float | None = None) -> PipelineCheck:
    """Run the web pipeline on ``master`` (and on ``plain``, a Lanczos enlargement of the source to
    the same size, when given) and score what is delivered; see :class:`PipelineCheck`.
    ``reference``, at the same size, is a better original to score against as well; ``before``,
    the SSIMULACRA2 of ``master`` against ``plain``, when the caller has it (it does not depend
    on the format)."""
    from .quality import psnr, ssimulacra2, verdict

    encoded: dict[int, tuple[bytes, np.ndarray, float]] = {}

    def through(q: int) -> tuple[bytes, np.ndarray, float]:  # each quality encoded and scored once
        if q not in encoded:
            data = web_encode(master, fmt, q)
            out = web_decode(data)
            encoded[q] = (data, out, ssimulacra2(master, out))
        return encoded[q]

    _data, delivered, score = through(quality)
    after = lanczos = None
    if plain is not None:
        if before is None:
            before = ssimulacra2(master, plain)
        lanczos = web_decode(web_encode(plain, fmt, quality))
        after = ssimulacra2(delivered, lanczos)
    else:
        before = None
    lo, hi, best = 0, len(_SEARCH) - 1, None
    while lo <= hi:  # the lowest quality still "high", by bisection (scores rise with quality)
        mid = (lo + hi) // 2
        data, _out, s = through(_SEARCH[mid])
        if s >= 70.0:
            best, hi = (_SEARCH[mid], len(data)), mid - 1
        else:
            lo = mid + 1
    ref = None
    if reference is not None:
        truth = web_decode(web_encode(reference, fmt, quality))
        plain_delivered = delivered if lanczos is None else lanczos
        ref = {"enhanced_ssimulacra2": round(ssimulacra2(truth, delivered), 2),
               "lanczos_ssimulacra2": round(ssimulacra2(truth, plain_delivered), 2),
               "enhanced_psnr": round(psnr(truth, delivered), 2), "lanczos_psnr": round(psnr(truth, plain_delivered), 2)}
    return PipelineCheck(fmt, quality, round(score, 2), round(psnr(master, delivered), 2), verdict(score),
                         None if before is None else round(before, 2), None if after is None else round(after, 2),
                         bool(before is not None and after is not None and before < 90.0 <= after),
                         best[0] if best else None, best[1] if best else None, ref)


@dataclass
class AssetSet:
    """The assets of one input, or the one-line error that stopped it; ``regions`` are the
    page regions descreened by themselves (``--auto`` on a page that mixes type and a halftone
    photo), ``(top, left, height, width)`` in input pixels."""

    source: str
    css_width: int = 0
    css_height: int = 0
    assets: list[Asset] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    regions: list[tuple[int, int, int, int]] = field(default_factory=list)
    folder: str = ""

    def url(self, asset: Asset) -> str:
        """``asset``'s address relative to the output folder: its set's ``folder`` (``--keep-tree``
        mirrors the inputs' folders) and name, percent-encoded, so a space or ``#`` in a file name
        cannot split a ``srcset`` candidate or start a fragment."""
        return urllib.parse.quote(posixpath.join(self.folder, asset.file) if self.folder else asset.file, safe="/@")


def _sizes(w: int, h: int, meta: ImageMeta, opts: RetinaOptions, source: Path) -> tuple[int, int]:
    if opts.css_width is not None:
        cw = opts.css_width
    elif opts.print_width is not None:
        if not meta.dpi:
            raise UsageError(f"{source}: --print-width needs the file's DPI, which it does not say; give --css-width")
        cw = max(1, round(opts.print_width * meta.dpi[0]))
    else:
        cw = w
    return cw, max(1, round(h * cw / w))


def _model_zoom(ratio: float) -> int:
    """The smallest model zoom that reaches ``ratio`` (4 beyond it)."""
    return next((z for z in _MODEL_ZOOMS if z >= ratio - 1e-9), 4)


class RetinaMaker:
    """Makes asset sets, one input at a time, with one :class:`Treatment` per model zoom (built
    on first use and kept: a batch, a server or a worker loads each model once).

    Args:
        request: the models asked for (``--model``, ``--type``, device ...); its zoom is ignored.
        repair, auto: as for :class:`~enhance.treatment.Treatment`.
        options: the set to make.
        tile, overlap: the tiler's settings.
        max_pixels: inputs with more pixels are refused (decompression bombs).
    """

    def __init__(self, request: ModelRequest, options: RetinaOptions, repair: str = "auto", auto: bool = False,
                 tile: int = 512, overlap: int = 16, max_pixels: int | None = None) -> None:
        from .image import DEFAULT_MAX_PIXELS

        self.request, self.options, self.repair, self.auto = request, options, repair, auto
        check_tiles(tile, overlap)
        self.tile, self.overlap = tile, overlap
        self.max_pixels = max_pixels or DEFAULT_MAX_PIXELS
        self._treatments: dict[int, Treatment] = {}
        self._reference: np.ndarray | None = None
        if options.reference is not None:

            ref_px, ref_meta = open_image(options.reference)
            web_ref, web_ref_meta, _ = _to_web(ref_px, ref_meta)
            self._reference = to_display_rgb8(web_ref, web_ref_meta)

    def treatment(self, zoom: int) -> Treatment:
        """The command's treatment at ``zoom`` (2, 3 or 4)."""
        if zoom not in self._treatments:
            self._treatments[zoom] = Treatment(replace(self.request, zoom=zoom), repair=self.repair, auto=self.auto)
        return self._treatments[zoom]

    def make(self, source: Path, out_dir: Path, folder: str = "") -> AssetSet:
        """Write ``source``'s set into ``out_dir``, or into its subfolder ``folder`` (a relative
        POSIX path, made as needed: ``--keep-tree``); a problem with the file is the set's ``error``."""
        import time

        result = AssetSet(str(source), folder=folder)
        t0 = time.perf_counter()
        try:
            set_dir = out_dir / folder if folder else out_dir
            if folder:
                try:
                    set_dir.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise EnhanceError(f"cannot create output folder {set_dir} ({exc.strerror or exc})") from None
            self._make(source, set_dir, result)
        except EnhanceError as exc:  # unreadable, unwritable, no DPI for --print-width: one line
            result.error = str(exc) if str(source) in str(exc) else f"{source}: {exc}"
        result.seconds = round(time.perf_counter() - t0, 2)
        return result

    def _make(self, source: Path, out_dir: Path, result: AssetSet) -> None:
        opts = self.options
        pixels, meta = open_image(source, max_pixels=self.max_pixels)
        result.notes += meta.notes
        h, w = pixels.shape[:2]
        cw, ch = _sizes(w, h, meta, opts, source)
        result.css_width, result.css_height = cw, ch
        srgb, web_meta, conv = _to_web(pixels, meta)  # enlarged in web colour: what the assets hold
        result.notes += conv
        masters: dict[int, _Master] = {}  # zoom -> the model's output, in memory or streamed to a raw TIFF
        cleaned: dict[str, np.ndarray] = {}  # an x1 first stage's output (descreened, repaired), made once
        # largest first: the largest master is the peak of memory, best met before smaller work has left
        # libvips' and the allocator's buffers behind (measured on a 20 MP scan: it makes the set's peak
        # a plain run's)
        order = sorted(opts.densities, reverse=True)
        try:
            for i, d in enumerate(order):
                self._density(d, source, out_dir, pixels, meta, srgb, web_meta, (cw, ch), masters, cleaned, result)
                # a model's output no later density needs is let go
                later = {_model_zoom(round(cw * e) / w) for e in order[i + 1:] if round(cw * e) / w > 1 + 1e-9}
                for z in [z for z in masters if z not in later]:
                    masters.pop(z).close()
        finally:
            for m in masters.values():
                m.close()
        rank = {f: i for i, f in enumerate(opts.formats)}
        result.assets.sort(key=lambda a: (a.density, rank[a.format]))  # the manifest and srcset read ascending

    def _density(self, d: float, source: Path, out_dir: Path, pixels: np.ndarray, meta: ImageMeta, srgb: np.ndarray,
                 web_meta: ImageMeta, css: tuple[int, int], masters: dict[int, "_Master"],
                 cleaned: dict[str, np.ndarray], result: AssetSet) -> None:
        """One density's files (one per format), from the source's pixels or the model's master."""
        opts = self.options
        h, w = srgb.shape[:2]
        tw, th = max(1, round(css[0] * d)), max(1, round(css[1] * d))
        ratio = tw / w
        master: _Master | None = None
        if ratio <= 1 + 1e-9:
            made = "the source's pixels" if (tw, th) == (w, h) else f"Lanczos-3 from {w}x{h}"
        else:
            zoom = _model_zoom(ratio)
            if ratio > 4:
                if opts.strict:
                    result.notes.append(f"{d:g}x needs x{ratio:.2f}, more than the models' x4: skipped (--strict)")
                    return
                result.notes.append(f"{d:g}x needs x{ratio:.2f}, more than the models' x4: made with x4 and "
                                    "Lanczos, softer than a real scan at that size would be")
            if zoom not in masters:
                masters[zoom] = self._master(zoom, source, out_dir, pixels, meta, srgb, web_meta, cleaned, result)
            master = masters[zoom]
            made = f"{master.name} x{zoom}" + ("" if master.size == (th, tw) else f", then Lanczos-3 to {tw}x{th}")
        img = resize_to(srgb, th, tw) if master is None else (master.pixels(th, tw) if master.array is not None else None)
        checking = opts.pipeline_check and img is not None and th * tw <= CHECK_PIXELS
        if checking:  # what does not depend on the format, once per density
            from .quality import ssimulacra2

            shown = to_display_rgb8(img, web_meta)
            plain = None if ratio <= 1 + 1e-9 else to_display_rgb8(resize_to(srgb, th, tw), web_meta)
            ref = None if self._reference is None else resize_to(self._reference, th, tw)
            before = None if plain is None else ssimulacra2(shown, plain)
        for fmt in opts.formats:
            name = f"{source.stem}{'' if d == 1 else f'@{d:g}x'}{_EXT[fmt]}"
            q = opts.quality or WEB_QUALITY[fmt]
            target = out_dir / name
            source_image = img if img is not None else master.vips(th, tw)  # type: ignore[union-attr]
            _encode(source_image, web_meta, target, fmt, q, opts.keep_metadata)
            asset = Asset(name, d, tw, th, fmt, q, target.stat().st_size, made)
            if checking:
                asset.pipeline = check_pipeline(shown, plain, fmt, opts.pipeline_quality or WEB_QUALITY[fmt], ref, before)
                result.notes.append(asset.pipeline.sentence(d))
            elif opts.pipeline_check:
                result.notes.append(f"{d:g}x {fmt}: no pipeline check above {CHECK_PIXELS // 1_000_000} MP")
            result.assets.append(asset)

    def _master(self, zoom: int, source: Path, out_dir: Path, pixels: np.ndarray, meta: ImageMeta, srgb: np.ndarray,
                web_meta: ImageMeta, cleaned: dict[str, np.ndarray], result: AssetSet) -> "_Master":
        """The model's output at ``zoom``: in memory, or streamed into a raw TIFF when it is large."""
        from .batch import STREAM_PIXELS
        from .image import TiffSink

        model, how = self.treatment(zoom).for_file(pixels, meta)
        result.notes += [n for n in how if n not in result.notes]
        if not result.regions:
            result.regions = [tuple(b) for b in getattr(model, "regions", [])]  # type: ignore[misc]
        src_px, then = srgb, model
        if isinstance(model, Chain) and model.first.scale == 1:  # descreen or repair: once, on the source
            if model.first.name not in cleaned:
                once = upscale_pixels(srgb, web_meta.layout, model.first, self.tile, self.overlap)
                assert once is not None
                cleaned[model.first.name] = once
            src_px, then = cleaned[model.first.name], model.then
        h, w, c = src_px.shape
        size = (h * then.scale, w * then.scale)
        if size[0] * size[1] <= STREAM_PIXELS:
            out = upscale_pixels(src_px, web_meta.layout, then, self.tile, self.overlap)
            assert out is not None
            return _Master(model.name, size, array=out)
        then, why = streamable(then)
        if why:
            result.notes.append(f"x{zoom}: {why}")
        raw = out_dir / f".{source.stem}@x{zoom}.master.tif.tmp{os.getpid()}"
        sink = TiffSink(raw, (size[0], size[1], c), src_px.dtype, web_meta)
        try:
            upscale_pixels(src_px, web_meta.layout, then, self.tile, self.overlap, sink=sink)
            sink.close()
        except BaseException:
            raw.unlink(missing_ok=True)
            raise
        return _Master(model.name, size, path=raw)


#: assets larger than this (pixels) are not put through the pipeline check (SSIMULACRA2 is slow)
CHECK_PIXELS = 16_000_000


@dataclass
class _Master:
    """A model's output: ``array`` in memory, or ``path``, a raw TIFF read back by libvips row by row."""

    name: str
    size: tuple[int, int]
    array: np.ndarray | None = None
    path: Path | None = None

    def pixels(self, height: int, width: int) -> np.ndarray:
        assert self.array is not None
        return resize_to(self.array, height, width)

    def vips(self, height: int, width: int) -> "pyvips.Image":  # type: ignore[name-defined]  # noqa: F821
        import pyvips

        im = pyvips.Image.new_from_file(str(self.path), access="sequential")
        if (im.height, im.width) != (height, width):  # a reduction: libvips Lanczos-3, streamed
            im = im.resize(width / im.width, vscale=height / im.height, kernel="lanczos3")
            im = im.crop(0, 0, min(width, im.width), min(height, im.height))
        return im

    def close(self) -> None:
        self.array = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _to_web(pixels: np.ndarray, meta: ImageMeta) -> tuple[np.ndarray, ImageMeta, list[str]]:
    """8-bit sRGB (or gray), alpha kept: what the web formats hold, through the file's profile."""
    notes: list[str] = []
    px, m, conv = prepare_for_format(pixels, meta, "webp")  # CMYK to sRGB, 16 bits to 8
    notes += conv
    if m.icc_profile and m.layout in ("RGB", "RGBA"):
        px, m, note = _icc_to_srgb(px, m)
        if note:
            notes.append(note)
    return px, m, notes


def _icc_to_srgb(pixels: np.ndarray, meta: ImageMeta) -> tuple[np.ndarray, ImageMeta, str]:
    from PIL import Image, ImageCms

    import io

    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(meta.icc_profile or b""))
        desc = ImageCms.getProfileDescription(src).strip()
    except Exception:
        return pixels, replace(meta, icc_profile=None), "its ICC profile could not be read: assumed sRGB"
    if "srgb" in desc.lower().replace(" ", ""):
        return pixels, meta, ""
    dst = ImageCms.createProfile("sRGB")
    rgb = Image.fromarray(np.ascontiguousarray(pixels[:, :, :3]))
    try:
        out = np.asarray(ImageCms.profileToProfile(rgb, src, dst, outputMode="RGB"))
    except ImageCms.PyCMSError:  # a profile of another colour space (Lab, gray, CMYK) on RGB pixels
        return pixels, replace(meta, icc_profile=None), f"its ICC profile ({desc}) does not describe RGB pixels: " \
                                                         "assumed sRGB"
    if pixels.shape[2] == 4:
        out = np.concatenate([out, pixels[:, :, 3:]], axis=2)
    srgb = ImageCms.ImageCmsProfile(dst).tobytes()
    return out, replace(meta, icc_profile=srgb), f"converted from {desc} to sRGB for the web"


def _rights_exif(meta: ImageMeta) -> bytes:
    """A minimal EXIF: the source's Copyright and Artist, and Enhance's mark."""
    from PIL import Image

    keep = Image.Exif()
    if meta.exif:
        src = Image.Exif()
        try:
            src.load(meta.exif)
            for tag in (0x8298, 0x013B):  # Copyright, Artist
                if tag in src:
                    keep[tag] = src[tag]
        except Exception:
            pass
    keep[0x0131] = SOFTWARE
    return keep.tobytes()


def _vips(pixels: "np.ndarray | pyvips.Image", meta: ImageMeta | None,  # type: ignore[name-defined]  # noqa: F821
          keep_metadata: bool = False) -> "pyvips.Image":  # type: ignore[name-defined]  # noqa: F821
    import pyvips

    if isinstance(pixels, np.ndarray):
        im = pyvips.Image.new_from_array(np.ascontiguousarray(pixels))
    else:
        im = pixels
    im = im.copy(interpretation="b-w" if im.bands <= 2 else "srgb")
    if meta is not None:
        if meta.icc_profile:
            im.set_type(pyvips.GValue.blob_type, "icc-profile-data", meta.icc_profile)
        exif = meta.exif if keep_metadata and meta.exif else _rights_exif(meta)
        im.set_type(pyvips.GValue.blob_type, "exif-data", exif)
        if keep_metadata and meta.xmp:
            im.set_type(pyvips.GValue.blob_type, "xmp-data", meta.xmp)
    return im


def _save(im: "pyvips.Image", fmt: str, quality: int, path: Path | None = None) -> bytes:  # type: ignore[name-defined]  # noqa: F821
    """Encode ``im`` with sharp's settings into ``path`` (streamed), or return the bytes."""
    if fmt == "jpeg":
        if im.bands in (2, 4):  # no alpha in JPEG: flattened onto white
            im = im.flatten(background=[255] * (im.bands - 1))
        kw = {"Q": quality, "subsample_mode": "on" if quality < 90 else "off", "optimize_coding": True}
        return im.jpegsave(str(path), **kw) or b"" if path else bytes(im.jpegsave_buffer(**kw))
    if fmt == "webp":
        return im.webpsave(str(path), Q=quality) or b"" if path else bytes(im.webpsave_buffer(Q=quality))
    if fmt == "avif":
        kw2 = {"Q": quality, "compression": "av1"}
        return im.heifsave(str(path), **kw2) or b"" if path else bytes(im.heifsave_buffer(**kw2))
    raise UsageError(f"format {fmt!r} is not one of {', '.join(_EXT)}")


def web_encode(pixels: np.ndarray, fmt: str, quality: int, meta: ImageMeta | None = None,
               keep_metadata: bool = False) -> bytes:
    """``pixels`` ``(H, W, C)`` uint8 encoded as web pipelines do (libvips with sharp's settings:
    JPEG 4:2:0 below quality 90, alpha flattened onto white; WebP; AVIF through AV1)."""
    return _save(_vips(pixels, meta, keep_metadata), fmt, quality)


def web_decode(data: bytes) -> np.ndarray:
    """Decoded pixels ``(H, W, 3)`` uint8 RGB of a web file (alpha flattened onto white)."""
    import pyvips

    im = pyvips.Image.new_from_buffer(data, "")
    if im.hasalpha():
        im = im.flatten(background=[255] * (im.bands - 1))
    if im.bands == 1:
        im = im.colourspace("srgb") if im.interpretation != "b-w" else im.bandjoin([im, im])
    a = np.ndarray(buffer=im.cast("uchar").write_to_memory(), dtype=np.uint8, shape=(im.height, im.width, im.bands))
    return a[:, :, :3] if a.shape[2] >= 3 else np.repeat(a[:, :, :1], 3, axis=2)


def _encode(pixels: "np.ndarray | pyvips.Image", meta: ImageMeta, target: Path, fmt: str,  # type: ignore[name-defined]  # noqa: F821
            quality: int, keep_metadata: bool) -> None:
    """Encode into ``target``, atomically (a libvips image from a raw TIFF streams to the file)."""
    with atomic_output(target) as tmp:
        _save(_vips(pixels, meta, keep_metadata), fmt, quality, tmp)


def write_srcset(sets: list[AssetSet], path: Path) -> None:
    """``srcset.html``: a ``<picture>`` per image, a ``<source>`` per format but the fallback
    (JPEG when made), an ``<img>`` with the 1x file, density descriptors, the 1x size and ``alt=""``."""
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8"><title>Retina assets</title></head><body>']
    for s in sets:
        if s.error or not s.assets:
            continue
        formats = list(dict.fromkeys(a.format for a in s.assets))
        fallback = "jpeg" if "jpeg" in formats else formats[-1]
        parts.append("<picture>")
        for fmt in formats:
            descr = ", ".join(f"{html.escape(s.url(a))} {a.density:g}x" for a in s.assets if a.format == fmt)
            if fmt != fallback:
                parts.append(f'  <source type="{_MIME[fmt]}" srcset="{descr}">')
        own = [a for a in s.assets if a.format == fallback]
        base = min(own, key=lambda a: abs(a.density - 1))
        descr = ", ".join(f"{html.escape(s.url(a))} {a.density:g}x" for a in own)
        parts.append(f'  <img src="{html.escape(s.url(base))}" srcset="{descr}" width="{s.css_width}" '
                     f'height="{s.css_height}" alt="">')
        parts.append("</picture>")
    parts.append("</body></html>")
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(parts) + "\n")


def write_manifest(sets: list[AssetSet], path: Path, options: RetinaOptions) -> None:
    """``manifest.json``: the options, and per input its assets (or its error) and notes."""
    doc = {"made_by": SOFTWARE, "options": asdict(options), "images": [asdict(s) for s in sets]}
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, default=str) + "\n")


def expected_names(source: Path, options: RetinaOptions) -> list[str]:
    """The file names of ``source``'s set (for ``--skip-existing``)."""
    return [f"{source.stem}{'' if d == 1 else f'@{d:g}x'}{_EXT[f]}" for d in options.densities for f in options.formats]


def refusals(sources: list[Path], folders: dict[Path, Path], options: RetinaOptions) -> dict[Path, str]:
    """The sources whose set cannot be written into its folder (``folders``: each source's), each
    with its one-line reason: a file of its set would be one of the inputs (``-o .`` over ``a.jpg``
    makes ``a.jpg``), or a file of an earlier source's set (``a.png`` and ``a.jpg`` both make
    ``a@2x.webp``, and so do ``x/a.png`` and ``y/a.png`` gathered into one folder without
    ``--keep-tree``). The batch's rule for plain outputs (:func:`~enhance.batch.plan_batch`), for sets."""
    claims = TargetClaims(sources)
    refused: dict[Path, str] = {}
    for src in sources:
        targets = [folders[src] / n for n in expected_names(src, options)]
        hit = claims.clash(targets)
        if hit is None:
            claims.claim(src, targets)
        elif hit[1] is None:
            refused[src] = f"{src}: output {hit[0]} is one of the inputs; refusing to overwrite it"
        else:
            refused[src] = (f"{src}: output {hit[0]} would overwrite the output of {hit[1]}; "
                            f"{TargetClaims.hint(src, hit[1], gathered=True)}")
    return refused


def temporary_names(source: Path, options: RetinaOptions) -> set[str]:
    """The names whose temporaries a run over ``source`` may leave (its files and its streamed masters)."""
    return set(expected_names(source, options)) | {f"{source.stem}@x{z}.master.tif" for z in _MODEL_ZOOMS}


def report_entries(sets: list[AssetSet], out_dir: Path) -> list["ReportEntry"]:  # type: ignore[name-defined]  # noqa: F821
    """The report's entries for ``sets``: each input beside its largest asset (JPEG where made),
    with its notes and the pipeline verdicts; a failed input with its error."""
    from .report import ReportEntry, entry_for_output

    entries = []
    for s in sets:
        if s.error or not s.assets:
            entries.append(ReportEntry(s.source, error=s.error or f"{s.source}: no assets made"))
            continue
        top = max(s.assets, key=lambda a: (a.density, a.format == "jpeg"))
        verdicts = [a.pipeline.sentence(a.density) for a in s.assets if a.pipeline is not None]
        notes = [n for n in s.notes if n not in verdicts]
        entries.append(entry_for_output(Path(s.source), out_dir / s.folder / top.file,
                                        f"{top.density:g}x asset {posixpath.join(s.folder, top.file)} "
                                        f"({top.made})", notes, s.seconds, verdicts, regions=s.regions))
    return entries
