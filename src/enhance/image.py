"""Reading and writing images with their metadata: ICC profile, DPI, EXIF, bit depth, alpha.

Pixels travel as NumPy arrays ``(H, W, C)`` of uint8 or uint16, with a *layout* that names the
channels: ``"L"`` (gray), ``"LA"``, ``"RGB"``, ``"RGBA"``, ``"CMYK"`` or ``"CMYKA"`` (CMYK with an
alpha channel, as print-production TIFFs carry it). :class:`ImageMeta`
carries everything else a file had, so that :func:`save_image` can write it back:

* EXIF orientation is applied on read and reset to 1 in the EXIF that is written back;
* the XMP packet (rights, captions, keywords: what archives catalogue by) is kept, its
  ``tiff:Orientation`` reset to 1 too when the EXIF orientation was applied;
* the ICC profile is kept (CMYK written to a format that cannot hold CMYK is converted to sRGB
  through its profile, and :func:`save_image` reports that in its notes);
* DPI is kept (the pipeline multiplies it by the zoom);
* 16-bit files stay 16-bit: Pillow would silently read 16-bit RGB as 8-bit, so deep PNG and
  TIFF files are read and written through libvips (pyvips) instead.

Every problem with a file raises :class:`~enhance.errors.InputError` or
:class:`~enhance.errors.OutputError` with a one-line message naming it. Writes go to a
temporary name in the target folder and are renamed into place, so no half-written output
is ever left behind.
"""

from __future__ import annotations

import errno
import io
import logging
import mmap
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import InputError, OutputError
from .outfile import atomic_output, temp_path
from .version import __version__
from .jpegdamage import estimate_quality

log = logging.getLogger(__name__)

__all__ = [
    "ImageMeta",
    "DEFAULT_MAX_PIXELS",
    "FORMATS",
    "open_image",
    "save_image",
    "from_pil",
    "to_pil",
    "layout_for_channels",
    "prepare_for_format",
    "to_display_rgb8",
    "check_output_folder",
    "TiffSink",
]

#: Default limit on input pixels (width x height); larger files are refused as decompression bombs.
DEFAULT_MAX_PIXELS = 400_000_000

#: Output formats and their file extensions.
FORMATS = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg", "webp": ".webp"}
#: file extensions of the output formats
EXTENSION_FORMATS = {".png": "png", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
_LAYOUT_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4, "CMYKA": 5}


@dataclass(frozen=True)
class ImageMeta:
    """What a file carried besides its pixels.

    Attributes:
        layout: channel layout of the pixel array: "L", "LA", "RGB", "RGBA", "CMYK" or "CMYKA".
        bit_depth: 8 or 16 (the array's dtype is uint8 or uint16 accordingly).
        source_mode: the file's own mode as Pillow or libvips names it ("1", "P", "I;16", "rgb16", ...).
        icc_profile: the embedded ICC profile, or None.
        dpi: (x, y) dots per inch, or None when the file states none.
        exif: EXIF block with orientation reset to 1, or None.
        format: the source format ("PNG", "JPEG", ...), or None for in-memory images.
        frames: number of frames in the source (only the first is read).
        notes: what reading changed, for the user (e.g. "first of 12 frames").
        jpeg_quality: for a JPEG source, the IJG quality (1-100) its quantization tables
            correspond to (:func:`enhance.jpegdamage.estimate_quality`); None otherwise.
        xmp: the XMP packet (UTF-8 XML) with its orientation reset to 1, or None.
    """

    layout: str
    bit_depth: int = 8
    source_mode: str = ""
    icc_profile: bytes | None = None
    dpi: tuple[float, float] | None = None
    exif: bytes | None = None
    format: str | None = None
    frames: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)
    jpeg_quality: int | None = None
    xmp: bytes | None = None

    def scaled(self, zoom: int) -> "ImageMeta":
        """The metadata of this image enlarged by ``zoom``: DPI multiplied, so print size stays."""
        dpi = (self.dpi[0] * zoom, self.dpi[1] * zoom) if self.dpi else None
        return replace(self, dpi=dpi)


def layout_for_channels(channels: int) -> str:
    """Default layout for an array with ``channels`` channels (1 L, 2 LA, 3 RGB, 4 RGBA)."""
    try:
        return {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
    except KeyError:
        raise ValueError(f"unsupported channel count {channels} (expected 1 to 4)") from None


# ----------------------------------------------------------------------------- reading


#: ISO-BMFF brands of HEIF/HEIC files (phones' photos), which Pillow reads only through pillow-heif
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_heif_ready: list[bool] = []


def _is_heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS and b"avif" not in head[8:32]


def _ensure_heif(path: Path) -> None:
    """Register pillow-heif's opener once (the optional ``heif`` extra), or say how to get it."""
    if _heif_ready:
        return
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        raise InputError(f"{path}: HEIC/HEIF image: reading it needs pillow-heif "
                         "(pip install 'enhance[heif]')") from None
    register_heif_opener()
    _heif_ready.append(True)


_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"


def _jpeg2000_bits(path: Path) -> int:
    """The deepest component's bits per sample of a JPEG 2000 file (JP2 or raw codestream), 0 if
    the header does not say. Read from the JP2 ``ihdr``/``bpcc`` boxes or the codestream's SIZ."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return 0
    at = head.find(_J2K_SOC_SIZ)
    if head.startswith(_JP2_SIGNATURE):
        i = head.find(b"ihdr")
        if i >= 0 and len(head) >= i + 19:
            bpc = head[i + 14]
            if bpc != 255:
                return (bpc & 0x7F) + 1
            j, nc = head.find(b"bpcc"), int.from_bytes(head[i + 12:i + 14], "big")
            if j >= 0 and len(head) >= j + 4 + nc:
                return max((b & 0x7F) + 1 for b in head[j + 4:j + 4 + nc])
    if at >= 0 and len(head) >= at + 42:  # SIZ: ..., Csiz at +40, then Ssiz per component
        nc = int.from_bytes(head[at + 40:at + 42], "big")
        sizes = head[at + 42:at + 42 + 3 * nc:3]
        if sizes:
            return max((b & 0x7F) + 1 for b in sizes)
    return 0


def _jpeg2000_deep(path: Path, bits: int, channels: int) -> np.ndarray | None:
    """A JPEG 2000 file of more than 8 bits per sample as uint16 ``(H, W, C)`` scaled to the full
    16-bit range, through imagecodecs (the optional ``jp2`` extra; Pillow reads such colour files
    as 8-bit); None when imagecodecs is not installed or gives another shape."""
    try:
        import imagecodecs
    except ImportError:
        return None
    a = np.asarray(imagecodecs.jpeg2k_decode(path.read_bytes()))
    if a.ndim == 2:
        a = a[:, :, None]
    if a.dtype.kind not in "ui" or a.shape[2] != channels:
        return None
    peak = (1 << bits) - 1
    return np.clip(np.round(a.astype(np.float64) * (65535.0 / peak)), 0, 65535).astype(np.uint16)


def _needs_vips(path: Path, head: bytes) -> bool:
    """True for 16-bit PNG/TIFF files, which Pillow would read as 8-bit (or not at all), for
    CMYK TIFFs with extra (alpha) samples, which Pillow cannot open, and for signed-integer TIFFs."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 26 and head[12:16] == b"IHDR":
        depth, colour = head[24], head[25]
        return depth == 16 and colour in (2, 4, 6)  # RGB, LA, RGBA (16-bit L is fine in Pillow)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        try:
            import tifffile

            with tifffile.TiffFile(path) as tf:
                page = tf.pages[0]
                cmyk_extra = int(page.photometric) == 5 and int(page.samplesperpixel) > 4  # SEPARATED
                signed = int(page.sampleformat) == 2  # Pillow reads signed 8-bit as unsigned, -7 as 249
                return int(page.bitspersample) > 8 or cmyk_extra or signed
        except Exception:
            return False  # let Pillow report the problem
    return False


#: how far float samples may stray outside 0..1 (rounding in the tool that wrote them) and still be read
_FLOAT_SLACK = 1.0 / 512


def _float_to_uint16(arr: np.ndarray, path: Path | str) -> tuple[np.ndarray, str]:
    """Floating-point samples in 0..1 -> uint16, with a note for the user.

    Float TIFFs from scanning and retouching software hold display-referred values in 0..1;
    16 bits keep more precision than any print or scan carries. NaNs read as 0. Values beyond
    0..1 mean HDR or measurement data, which Enhance does not tone-map: those files are refused.
    """
    a = np.nan_to_num(np.asarray(arr, dtype=np.float32), nan=0.0, posinf=np.inf, neginf=-np.inf)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if lo < -_FLOAT_SLACK or hi > 1.0 + _FLOAT_SLACK:
        raise InputError(f"{path}: floating-point samples run from {lo:.4g} to {hi:.4g}; only 0..1 "
                         "(display-referred) float images are supported")
    out = np.rint(np.clip(a, 0.0, 1.0) * 65535.0).astype(np.uint16)
    return out, "floating-point input is enhanced and written as 16-bit"


def _check_pixels(path: Path, w: int, h: int, max_pixels: int) -> None:
    if w * h > max_pixels:
        raise InputError(
            f"{path}: {w}x{h} pixels exceeds the limit of {max_pixels:,} (raise it with --max-pixels if intended)"
        )


def _plausible_dpi(info: object) -> tuple[float, float] | None:
    """A file's ``(x, y)`` resolution in dpi, or None when it is missing, 1 or 0 ("not stated")
    or absurd. Values a hair from a whole number (PNG stores pixels per metre: 150 dpi reads back
    as 149.9994) are snapped to it."""
    try:
        dx, dy = float(info[0]), float(info[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    if not (1 < dx < 100_000 and 1 < dy < 100_000):
        return None
    return tuple(float(round(v)) if abs(v - round(v)) < 0.01 else v for v in (dx, dy))  # type: ignore[return-value]


def _tiff_by_tifffile(
    path: Path, max_pixels: int
) -> tuple[np.ndarray, bytes | None, tuple[float, float] | None, str, bytes | None] | None:
    """The first page of a TIFF that libvips refuses (64-bit float samples, for one) through
    tifffile: ``(pixels (H, W, C), ICC, dpi, interpretation, XMP)``, or None if tifffile cannot
    read it either (or it is not a plain gray/RGB/CMYK page)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tf:
            page = tf.pages[0]
            _check_pixels(path, int(page.imagewidth), int(page.imagelength), max_pixels)
            photometric = int(page.photometric)
            if photometric not in (0, 1, 2, 5):  # white/black-is-zero, RGB, separated (CMYK)
                return None
            arr = page.asarray()
            if arr.ndim == 3 and int(page.planarconfig) == 2 and int(page.samplesperpixel) > 1:
                arr = np.moveaxis(arr, 0, -1)  # planes -> interleaved
            if photometric == 0 and arr.ndim == 2:  # white is zero: invert to black-is-zero
                arr = 1.0 - arr if arr.dtype.kind == "f" else np.iinfo(arr.dtype).max - arr
            tags = page.tags
            icc = bytes(tags[34675].value) if 34675 in tags else None
            xmp = _xmp_bytes(tags[700].value) if 700 in tags else None
            dpi = None
            unit = int(getattr(tags.get(296), "value", 2))  # ResolutionUnit: 2 inch, 3 centimetre
            if 282 in tags and 283 in tags and unit in (2, 3):
                per_unit = [float(v[0]) / float(v[1]) if float(v[1]) else 0.0 for v in (tags[282].value, tags[283].value)]
                dpi = _plausible_dpi([r * (2.54 if unit == 3 else 1.0) for r in per_unit])
    except InputError:
        raise
    except Exception:
        return None
    return arr, icc, dpi, ("cmyk" if photometric == 5 else "srgb"), xmp


def _png_dpi(path: Path) -> tuple[float, float] | None:
    """The DPI a PNG's ``pHYs`` chunk states (None without one, or with an implausible one)."""
    try:
        with Image.open(path) as im:
            dpi = im.info.get("dpi")
    except Exception:
        return None
    return _plausible_dpi(dpi)


def _open_vips(path: Path, max_pixels: int) -> tuple[np.ndarray, ImageMeta]:
    import pyvips

    try:
        im = pyvips.Image.new_from_file(str(path))
        _check_pixels(path, im.width, im.height, max_pixels)
        fields = set(im.get_fields())
        icc = im.get("icc-profile-data") if "icc-profile-data" in fields else None
        exif = im.get("exif-data") if "exif-data" in fields else None
        xmp = _xmp_bytes(im.get("xmp-data")) if "xmp-data" in fields else None
        dpi = None
        # libvips gives every image an xres (72 dpi for a PNG without pHYs, 25.4 for a TIFF
        # without a resolution); a resolution unit says that the file stated one, and a PNG's
        # pHYs (which sets none) is read from its header by Pillow
        if str(im.get("vips-loader")).startswith("png"):
            dpi = _png_dpi(path)
        elif "resolution-unit" in fields:
            xres, yres = float(im.get("xres")), float(im.get("yres"))
            if 1.0 < xres < 4000 and 1.0 < yres < 4000:  # 1 px/mm (25.4 dpi) is libvips's "not stated"
                dpi = (round(xres * 25.4, 3), round(yres * 25.4, 3))
        orientation = int(im.get("orientation")) if "orientation" in fields else 1
        interp = str(im.interpretation)
        if orientation != 1:
            im = im.autorot()
            xmp = _reset_xmp_orientation(xmp)
        arr = im.numpy()
    except InputError:
        raise
    except pyvips.Error as exc:
        plain = _tiff_by_tifffile(path, max_pixels)
        if plain is None:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
            raise InputError(f"{path}: cannot read this high-bit-depth image ({msg})") from None
        arr, icc, dpi, interp, xmp, exif = *plain, None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    notes: tuple[str, ...] = ()
    if arr.dtype.kind == "i":
        # signed samples that are all non-negative (common in scientific and some scanner TIFFs)
        # are the same numbers as unsigned ones; negative ones have no place in an image file
        if arr.size and int(arr.min()) < 0:
            raise InputError(f"{path}: signed-integer samples ({arr.dtype}) with negative values are not supported")
        arr = arr.astype(arr.dtype.str.replace("i", "u"))
        if arr.dtype.itemsize > 2 and (not arr.size or int(arr.max()) <= 65535):
            arr = arr.astype(np.uint16)  # the values fit 16 bits as they are
        notes = (f"signed {arr.dtype.itemsize * 8}-bit samples (none negative) are written as unsigned",)
    depth = 8 if arr.dtype == np.uint8 else 16
    if arr.dtype not in (np.uint8, np.uint16):
        if arr.dtype.kind == "f":
            arr, note = _float_to_uint16(arr, path)
            notes = (note,)
        elif arr.dtype.itemsize > 2:  # 32-bit unsigned: its full range onto 16 bits
            notes += (f"{arr.dtype.itemsize * 8}-bit integer input is enhanced and written as 16-bit",)
            arr = (arr.astype(np.uint64) * 65535 // np.iinfo(arr.dtype).max).astype(np.uint16)
        else:
            arr = arr.astype(np.uint16)
    c = arr.shape[2]
    if interp == "cmyk" and c >= 4:
        layout = "CMYK" if c == 4 else "CMYKA"
    else:
        layout = layout_for_channels(min(c, 4))
    keep = _LAYOUT_CHANNELS[layout]
    if c > keep:
        notes += (f"{c - keep} extra channel{'s' * (c - keep > 1)} beyond {layout} dropped",)
        arr = arr[:, :, :keep]
    if exif is not None:
        exif = _reset_orientation(exif)
    meta = ImageMeta(layout=layout, bit_depth=depth, source_mode=interp, icc_profile=icc, dpi=dpi, exif=exif,
                     format=path.suffix.lstrip(".").upper() or None, notes=notes, xmp=xmp)
    return np.ascontiguousarray(arr), meta


#: Base-IFD tags carried over; structural tags (sizes, strips, compression) never are.
_EXIF_BASE_TAGS = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)
_EXIF_SUB_IFDS = (0x8769, 0x8825)  # Exif and GPS


def _clean_exif(ex: Image.Exif) -> bytes | None:
    """Descriptive EXIF (camera, dates, artist, copyright, GPS) without orientation or layout tags.

    A TIFF's own header tags look like EXIF to Pillow; copying them would describe the wrong
    image, so only a whitelist of descriptive tags and the Exif/GPS sub-IFDs are kept.
    """
    out = Image.Exif()
    for tag in _EXIF_BASE_TAGS:
        if tag in ex:
            out[tag] = ex[tag]
    for ifd in _EXIF_SUB_IFDS:
        try:
            sub = ex.get_ifd(ifd)
        except Exception:
            sub = {}
        if sub:
            out.get_ifd(ifd).update({k: v for k, v in sub.items() if k not in (0xA002, 0xA003)})
    if not len(out) and not any(out.get_ifd(i) for i in _EXIF_SUB_IFDS):
        return None
    try:
        return out.tobytes()
    except Exception:
        return None  # unencodable EXIF is dropped rather than copied blindly


def _reset_orientation(exif_bytes: bytes) -> bytes | None:
    try:
        ex = Image.Exif()
        ex.load(exif_bytes)
        return _clean_exif(ex)
    except Exception:
        return None


#: ``tiff:Orientation="6"`` (attribute) or ``<tiff:Orientation>6</...>`` (element): group 1 is all before the digits
_XMP_ORIENTATION = re.compile(rb"(tiff:Orientation(?:\s*=\s*[\"']|>)\s*)\d+")


def _xmp_bytes(xmp: object) -> bytes | None:
    """An XMP packet as Pillow or libvips gives it (bytes or str) -> bytes, or None if empty."""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    if not isinstance(xmp, (bytes, bytearray)) or not xmp.strip():
        return None
    return bytes(xmp)


def _reset_xmp_orientation(xmp: bytes | None) -> bytes | None:
    """``xmp`` with ``tiff:Orientation`` set to 1: once the pixels are turned as the EXIF
    orientation says, a stale XMP orientation would have viewers turn them again."""
    if xmp is None:
        return None
    return _XMP_ORIENTATION.sub(rb"\g<1>1", xmp)


def _pil_to_array(im: Image.Image, path: Path | str) -> tuple[np.ndarray, str, int, tuple[str, ...]]:
    """Pillow image -> (array, layout, bit depth, notes)."""
    mode = im.mode
    notes: list[str] = []
    if mode == "1":
        notes.append("1-bit input is upscaled as 8-bit gray")
        return np.asarray(im.convert("L"))[:, :, None], "L", 8, tuple(notes)
    if mode == "L":
        return np.asarray(im)[:, :, None], "L", 8, ()
    if mode in ("LA", "La"):
        return np.asarray(im.convert("LA")), "LA", 8, ()
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        notes.append("palette input is written as " + ("RGBA" if has_alpha else "RGB"))
        target = "RGBA" if has_alpha else "RGB"
        return np.asarray(im.convert(target)), target, 8, tuple(notes)
    if mode in ("RGB", "RGBX"):
        return np.asarray(im.convert("RGB")), "RGB", 8, ()
    if mode in ("RGBA", "RGBa"):
        return np.asarray(im.convert("RGBA")), "RGBA", 8, ()
    if mode == "CMYK":
        return np.asarray(im), "CMYK", 8, ()
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(im)
        if mode == "I" and (a.min() < 0 or a.max() > 65535):
            raise InputError(f"{path}: 32-bit integer images are not supported")
        return a.astype(np.uint16)[:, :, None], "L", 16, ()
    if mode == "F":
        a, note = _float_to_uint16(np.asarray(im), path)
        return a[:, :, None], "L", 16, (note,)
    notes.append(f"{mode} input converted to RGB")
    return np.asarray(im.convert("RGB")), "RGB", 8, tuple(notes)


def open_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, ImageMeta]:
    """Read an image file with its metadata.

    Args:
        path: the file.
        max_pixels: refuse images with more pixels than this (decompression bombs).

    Returns:
        ``(pixels, meta)``: pixels is ``(H, W, C)`` uint8 or uint16 with C = 1 to 5, laid out
        as ``meta.layout`` says, with EXIF orientation already applied. Floating-point files
        with samples in 0..1 come back as uint16 (with a note). Animated files give
        their first frame (``meta.frames`` tells how many there were).

    Raises:
        InputError: missing, empty, truncated or corrupt file, not an image, too many pixels,
            floating-point samples outside 0..1.

    Example:
        >>> pixels, meta = open_image("scan.png")  # doctest: +SKIP
        >>> pixels.shape, meta.layout, meta.dpi    # doctest: +SKIP
        ((1200, 800, 3), 'RGB', (300.0, 300.0))
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not an image")
    try:
        with open(p, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise InputError(f"{p}: cannot open ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{p}: empty file")
    if _needs_vips(p, head):
        return _open_vips(p, max_pixels)
    if _is_heif(head):
        _ensure_heif(p)
    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = max_pixels
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # we enforce our own pixel limit
            with Image.open(p) as im:
                _check_pixels(p, im.size[0], im.size[1], max_pixels)
                frames = int(getattr(im, "n_frames", 1) or 1)
                fmt = im.format
                im.seek(0)
                im.load()
                icc = im.info.get("icc_profile") or None
                dpi_info = im.info.get("dpi")
                exif = im.getexif()
                has_orientation = exif.get(0x0112, 1) not in (None, 1)
                im2 = ImageOps.exif_transpose(im) if has_orientation else im
                arr, layout, depth, notes = _pil_to_array(im2, p)
                if fmt == "JPEG2000" and depth == 8 and not has_orientation and (bits := _jpeg2000_bits(p)) > 8:
                    deep = _jpeg2000_deep(p, bits, arr.shape[2])
                    if deep is not None and deep.shape[:2] == arr.shape[:2]:
                        arr, depth = deep, 16
                        if bits < 16:
                            notes = (*notes, f"{bits}-bit samples are enhanced and written as 16-bit")
                    else:
                        notes = (*notes, f"its {bits}-bit samples are read as 8-bit; pip install 'enhance[jp2]' "
                                         "to keep their depth")
                exif_bytes = _clean_exif(exif) if len(exif) else None
                jpeg_quality = estimate_quality(getattr(im, "quantization", None)) if fmt == "JPEG" else None
                xmp = _xmp_bytes(im.info.get("xmp"))
                if has_orientation:
                    xmp = _reset_xmp_orientation(xmp)
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(f"{p}: too many pixels (limit {max_pixels:,}; raise it with --max-pixels if intended)") from None
    except UnidentifiedImageError:
        raise InputError(f"{p}: not an image, or a format Enhance cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct_error, MemoryError, IndexError) as exc:
        raise InputError(f"{p}: corrupt or truncated image ({_one_line(exc)})") from None
    except NotImplementedError as exc:
        raise InputError(f"{p}: a variant of {_fmt_hint(p)} that Enhance cannot read ({_one_line(exc)})") from None
    except Exception as exc:  # any other decoder failure is still this file's problem
        raise InputError(f"{p}: cannot decode ({type(exc).__name__}: {_one_line(exc)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit
    dpi = _plausible_dpi(dpi_info)
    notes = tuple(notes)
    if frames > 1:
        notes += (f"animated or multi-page file: only the first of {frames} frames is enhanced",)
    meta = ImageMeta(layout=layout, bit_depth=depth, source_mode=im.mode, icc_profile=icc, dpi=dpi,
                     exif=exif_bytes, format=fmt, frames=frames, notes=notes, jpeg_quality=jpeg_quality, xmp=xmp)
    return np.ascontiguousarray(arr), meta


try:  # struct.error is raised by some Pillow plugins on corrupt headers
    from struct import error as struct_error
except ImportError:  # pragma: no cover
    struct_error = OSError  # type: ignore[misc,assignment]


def _fmt_hint(p: Path) -> str:
    """A human name for a file's format, from its extension."""
    return (p.suffix.lstrip(".").upper() or "this format") + " file"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ----------------------------------------------------------------------------- conversions


def from_pil(im: Image.Image) -> tuple[np.ndarray, ImageMeta]:
    """Convert a PIL image to ``(pixels, meta)`` as :func:`open_image` would give."""
    arr, layout, depth, notes = _pil_to_array(im, "<image>")
    dpi = im.info.get("dpi")
    quality = estimate_quality(getattr(im, "quantization", None)) if im.format == "JPEG" else None
    return np.ascontiguousarray(arr), ImageMeta(layout=layout, bit_depth=depth, source_mode=im.mode,
                                                icc_profile=im.info.get("icc_profile"),
                                                dpi=(float(dpi[0]), float(dpi[1])) if dpi else None, notes=notes,
                                                jpeg_quality=quality, xmp=_xmp_bytes(im.info.get("xmp")))


def to_pil(pixels: np.ndarray, meta: ImageMeta) -> Image.Image:
    """Convert ``(pixels, meta)`` to a PIL image (16-bit colour becomes 8-bit: PIL cannot hold it)."""
    a = pixels
    if a.dtype == np.uint16 and meta.layout != "L":
        a = _to8(a)
    im = _array_to_pil(a, meta.layout)
    if meta.icc_profile:
        im.info["icc_profile"] = meta.icc_profile
    if meta.dpi:
        im.info["dpi"] = meta.dpi
    if meta.xmp:
        im.info["xmp"] = meta.xmp
    return im


def _array_to_pil(a: np.ndarray, layout: str) -> Image.Image:
    """``(H, W, C)`` uint8 (or uint16 gray) array -> PIL image of ``layout``."""
    a = np.ascontiguousarray(a)
    if layout == "L":
        return Image.fromarray(a[:, :, 0])  # uint8 -> "L", uint16 -> "I;16"
    if layout == "CMYK":
        return Image.frombuffer("CMYK", (a.shape[1], a.shape[0]), a.tobytes(), "raw", "CMYK", 0, 1)
    if layout == "CMYKA":
        raise ValueError("CMYK with alpha has no PIL mode: write it with save_image, or convert it first")
    return Image.fromarray(a)  # (H, W, 2) LA, 3 RGB, 4 RGBA


def _to8(a: np.ndarray) -> np.ndarray:
    return ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _cmyk_to_rgb(pixels: np.ndarray, meta: ImageMeta) -> tuple[np.ndarray, ImageMeta, str]:
    """CMYK -> sRGB through the embedded profile (or Pillow's naive formula without one)."""
    a = _to8(pixels) if pixels.dtype == np.uint16 else pixels
    im = _array_to_pil(a, "CMYK")
    if meta.icc_profile:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(meta.icc_profile))
            dst = ImageCms.createProfile("sRGB")
            rgb = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
            srgb_bytes = ImageCms.ImageCmsProfile(dst).tobytes()
            note = "CMYK converted to sRGB through its embedded ICC profile (this format cannot hold CMYK)"
            return np.asarray(rgb), replace(meta, layout="RGB", bit_depth=8, icc_profile=srgb_bytes), note
        except Exception:
            pass
    note = "CMYK converted to RGB without colour management (no usable ICC profile; this format cannot hold CMYK)"
    return np.asarray(im.convert("RGB")), replace(meta, layout="RGB", bit_depth=8, icc_profile=None), note


def to_display_rgb8(pixels: np.ndarray, meta: ImageMeta) -> np.ndarray:
    """Any layout and depth as a screen shows it: ``(H, W, 3)`` uint8 RGB (CMYK through its
    profile, 16 bits to 8, alpha onto white, gray repeated)."""
    pixels, meta, _ = prepare_for_format(pixels, meta, "png")  # CMYK -> sRGB
    pixels, meta, _ = prepare_for_format(pixels, meta, "jpeg")  # 16 -> 8 bit, alpha onto white
    if meta.layout == "L":
        pixels = np.repeat(pixels[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(pixels)


def prepare_for_format(pixels: np.ndarray, meta: ImageMeta, fmt: str) -> tuple[np.ndarray, ImageMeta, list[str]]:
    """Convert pixels to what ``fmt`` can hold; return the notes that say what changed."""
    notes: list[str] = []
    if meta.layout == "CMYKA" and fmt in ("png", "webp"):
        alpha = _to8(pixels[:, :, 4:]) if pixels.dtype == np.uint16 else pixels[:, :, 4:]
        rgb, meta, note = _cmyk_to_rgb(pixels[:, :, :4], meta)
        pixels, meta = np.concatenate([rgb, alpha], axis=2), replace(meta, layout="RGBA")
        notes.append(note + "; its alpha is kept")
    if meta.layout == "CMYKA" and fmt == "jpeg":
        a = pixels.astype(np.float32)
        peak = 65535.0 if pixels.dtype == np.uint16 else 255.0
        flat = a[:, :, :4] * (a[:, :, 4:] / peak)  # no ink where transparent: the paper shows
        pixels = np.clip(np.round(flat), 0, peak).astype(pixels.dtype)
        meta = replace(meta, layout="CMYK")
        notes.append("alpha flattened onto the paper (JPEG has no alpha)")
    if meta.layout == "CMYK" and fmt in ("png", "webp"):
        pixels, meta, note = _cmyk_to_rgb(pixels, meta)
        notes.append(note)
    if fmt in ("jpeg", "webp") and pixels.dtype == np.uint16:
        pixels = _to8(pixels)
        meta = replace(meta, bit_depth=8)
        notes.append(f"16-bit reduced to 8-bit ({fmt.upper()} holds 8 bits)")
    if fmt == "jpeg" and meta.layout in ("LA", "RGBA"):
        a = pixels.astype(np.float32)
        alpha = a[:, :, -1:] / 255.0
        flat = a[:, :, :-1] * alpha + 255.0 * (1.0 - alpha)
        pixels = np.clip(np.round(flat), 0, 255).astype(np.uint8)
        meta = replace(meta, layout=meta.layout[:-1])
        notes.append("alpha flattened onto white (JPEG has no alpha)")
    return pixels, meta, notes


# ----------------------------------------------------------------------------- writing


def format_for_path(path: str | os.PathLike[str]) -> str:
    """The output format named by ``path``'s extension (png when unknown)."""
    return EXTENSION_FORMATS.get(Path(path).suffix.lower(), "png")


#: zlib level for PNG output: level 3 writes a 1 MP picture in half the time of zlib's default
#: (6) for files about 3 % larger (measured on the bench pictures); PNG stays lossless.
PNG_COMPRESSION = 3


#: the mark every output carries (PNG ``Software`` text, TIFF ``Software`` tag, and the EXIF
#: ``Software`` tag of a JPEG or WebP that has no EXIF of its own), so a later run can tell its
#: outputs from its inputs (:func:`made_by_enhance`)
SOFTWARE = f"Enhance {__version__}"


def made_by_enhance(path: str | os.PathLike[str]) -> bool:
    """Whether the file carries Enhance's :data:`SOFTWARE` mark (read from its header only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                sw = im.info.get("Software")
                if sw is None and hasattr(im, "tag_v2"):
                    sw = im.tag_v2.get(305)
                if sw is None:
                    sw = im.getexif().get(0x0131)
    except Exception:
        return False
    return isinstance(sw, str) and sw.startswith("Enhance ")


def _mark_exif() -> bytes:
    """A minimal EXIF block that carries only the :data:`SOFTWARE` mark."""
    mark = Image.Exif()
    mark[0x0131] = SOFTWARE
    return mark.tobytes()


def _write_pillow(tmp: Path, pixels: np.ndarray, meta: ImageMeta, fmt: str, quality: int) -> None:
    im = _array_to_pil(pixels, meta.layout)
    kw: dict[str, object] = {}
    if meta.icc_profile:
        kw["icc_profile"] = meta.icc_profile
    if meta.exif and fmt in ("png", "jpeg", "webp", "tiff"):
        kw["exif"] = meta.exif
    elif fmt in ("jpeg", "webp"):  # a source's own EXIF is kept as it was; else a minimal one with the mark
        kw["exif"] = _mark_exif()
    if meta.dpi and fmt in ("png", "jpeg", "tiff"):
        kw["dpi"] = tuple(float(v) for v in meta.dpi) if fmt != "jpeg" else tuple(int(round(v)) for v in meta.dpi)
    if meta.xmp and fmt in ("jpeg", "webp"):
        kw["xmp"] = meta.xmp
    if fmt == "png":
        from PIL import PngImagePlugin

        kw["compress_level"] = PNG_COMPRESSION
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", SOFTWARE)
        if meta.xmp:
            info.add_itxt("XML:com.adobe.xmp", meta.xmp.decode("utf-8", "replace"), zip=False)
        kw["pnginfo"] = info
        im.save(tmp, format="PNG", **kw)
    elif fmt == "jpeg":
        kw["quality"] = int(quality)
        kw["subsampling"] = 0 if quality >= 90 else 2
        im.save(tmp, format="JPEG", **kw)
    elif fmt == "webp":
        kw["quality"] = int(quality)
        kw["lossless"] = quality >= 100
        im.save(tmp, format="WEBP", **kw)
    elif fmt == "tiff":
        from PIL import TiffImagePlugin, TiffTags

        kw["compression"] = "tiff_adobe_deflate"
        ifd = TiffImagePlugin.ImageFileDirectory_v2()
        ifd[305] = SOFTWARE
        if meta.xmp:
            ifd[700] = meta.xmp
            ifd.tagtype[700] = TiffTags.BYTE
        kw["tiffinfo"] = ifd
        im.save(tmp, format="TIFF", **kw)
    else:
        raise OutputError(f"{tmp}: unknown format {fmt!r}")


def _vips_meta(im: "pyvips.Image", meta: ImageMeta) -> "pyvips.Image":  # type: ignore[name-defined]  # noqa: F821
    """``im`` carrying ``meta``'s ICC profile, EXIF, XMP and resolution."""
    import pyvips

    im = im.copy()
    if meta.icc_profile:
        im.set_type(pyvips.GValue.blob_type, "icc-profile-data", meta.icc_profile)
    if meta.exif:
        im.set_type(pyvips.GValue.blob_type, "exif-data", meta.exif)
    if meta.xmp:
        im.set_type(pyvips.GValue.blob_type, "xmp-data", meta.xmp)
    if meta.dpi:
        im = im.copy(xres=meta.dpi[0] / 25.4, yres=meta.dpi[1] / 25.4)
    im.set_type(pyvips.GValue.gstr_type, "png-comment-0-Software", SOFTWARE)
    return im


def _vips_keep(meta: ImageMeta) -> int:
    """libvips's ``keep`` flags for the metadata ``meta`` has: libvips otherwise writes an EXIF
    block of its own into a file whose source had none."""
    import pyvips

    keep = pyvips.enums.ForeignKeep
    flags = keep.OTHER  # the PNG comment that carries the SOFTWARE mark
    for present, flag in ((meta.exif, keep.EXIF), (meta.xmp, keep.XMP), (meta.icc_profile, keep.ICC)):
        if present:
            flags |= flag
    return int(flags)


def _drop_png_chunk(path: Path, kind: bytes) -> None:
    """Remove the chunks of type ``kind`` (four bytes) that come before the image data of the
    PNG at ``path`` (``pHYs`` must), in place; the rest is copied in blocks, so a streamed
    output of gigabytes is not read into memory.

    libvips writes a ``pHYs`` chunk whatever the image says (1 px/mm, 25.4 dpi, when nothing
    does); a source without a resolution must not get one. Chunks carry their own CRC, so the
    others stay valid as they are.
    """
    part = temp_path(path)  # a temporary of the temporary: a stale one is cleaned up as the others are
    with open(path, "rb") as src, open(part, "wb") as dst:
        dst.write(src.read(8))
        while True:
            head = src.read(8)
            if len(head) < 8:
                dst.write(head)
                break
            n = int.from_bytes(head[:4], "big")
            if head[4:8] == b"IDAT":  # the header chunks are behind us: the rest as it is
                dst.write(head)
                shutil.copyfileobj(src, dst, 1 << 20)
                break
            body = src.read(n + 4)  # data and CRC
            if head[4:8] != kind:
                dst.write(head + body)
    os.replace(part, path)


def _write_vips(tmp: Path, pixels: np.ndarray, meta: ImageMeta, fmt: str) -> None:
    """A 16-bit or CMYK picture: PNG through libvips (Pillow writes no 16-bit colour PNG), TIFF
    through tifffile (libvips's TIFF writer leaves out the Software mark and states 25.4 dpi for a
    source that stated none)."""
    if fmt != "png":
        import tifffile

        tifffile.imwrite(str(tmp), np.ascontiguousarray(pixels if pixels.shape[2] > 1 else pixels[:, :, 0]),
                         compression="zlib", **_tiff_tags(meta))
        return
    import pyvips

    im = pyvips.Image.new_from_array(np.ascontiguousarray(pixels))
    interp = {"L": "grey16", "LA": "grey16", "RGB": "rgb16", "RGBA": "rgb16", "CMYK": "cmyk", "CMYKA": "cmyk"}[meta.layout]
    im = _vips_meta(im.copy(interpretation=interp), meta)
    im.pngsave(str(tmp), bitdepth=16, compression=PNG_COMPRESSION, keep=_vips_keep(meta))
    if not meta.dpi:
        _drop_png_chunk(tmp, b"pHYs")


def convert_streamed(tiff: Path, tmp: Path, meta: ImageMeta, fmt: str, quality: int) -> None:
    """Re-encode an uncompressed TIFF written by :class:`TiffSink` as ``fmt`` into ``tmp``, row
    by row (libvips reads it sequentially, so memory stays bounded), with ``meta``'s ICC, EXIF,
    XMP and resolution. For outputs too large to hold in memory in PNG or JPEG.

    Raises:
        OutputError: ``fmt`` cannot be streamed (WebP needs the whole picture).
    """
    import pyvips

    if fmt not in ("png", "jpeg"):
        raise OutputError(f"{tmp}: {fmt} output cannot be streamed")
    if fmt == "jpeg" and meta.dpi and not meta.exif:
        # libvips states a JPEG's resolution in EXIF only: a block with the mark carries it
        meta = replace(meta, exif=_mark_exif())
    im = _vips_meta(pyvips.Image.new_from_file(str(tiff), access="sequential"), meta)
    deep = im.format == "ushort"
    if fmt == "png":
        im.pngsave(str(tmp), bitdepth=16 if deep else 8, compression=PNG_COMPRESSION, keep=_vips_keep(meta))
        if not meta.dpi:
            _drop_png_chunk(tmp, b"pHYs")
    else:
        im.jpegsave(str(tmp), Q=int(quality), subsample_mode="off" if quality >= 90 else "on", keep=_vips_keep(meta))


def check_output_folder(target: Path) -> None:
    """Refuse early a ``target`` whose folder does not exist or cannot be written.

    Raises:
        OutputError: naming ``target`` and its folder.
    """
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{target}: output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{target}: output folder {folder} is not writable")


def save_image(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    meta: ImageMeta,
    fmt: str | None = None,
    quality: int = 95,
    prepared: bool = False,
) -> list[str]:
    """Write ``pixels`` with ``meta`` to ``path``, atomically.

    The file is written under a temporary name in the target folder and renamed into place;
    on any failure the temporary file is removed and nothing else is touched.

    Args:
        path: the output file.
        pixels: ``(H, W, C)`` uint8 or uint16, laid out as ``meta.layout``.
        meta: metadata to write (ICC, DPI, EXIF).
        fmt: "png", "tiff", "jpeg" or "webp"; default from the extension.
        quality: JPEG/WebP quality, 1-100 (WebP 100 is lossless).
        prepared: the pixels were already converted for ``fmt`` (:func:`prepare_for_format`)
            and the folder checked (:func:`check_output_folder`); neither is done again.

    Returns:
        Notes on what had to change for the format (e.g. CMYK converted to sRGB for PNG).

    Raises:
        OutputError: unwritable folder, full disk, or any other write failure.
    """
    target = Path(path)
    fmt = fmt or format_for_path(target)
    if fmt not in FORMATS:
        raise OutputError(f"{target}: unknown output format {fmt!r} (choose {', '.join(FORMATS)})")
    if pixels.ndim != 3 or pixels.shape[2] != _LAYOUT_CHANNELS[meta.layout]:
        raise ValueError(f"pixels of shape {pixels.shape} do not match layout {meta.layout}")
    notes: list[str] = []
    if not prepared:
        pixels, meta, notes = prepare_for_format(pixels, meta, fmt)
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise OutputError(f"{target}: output folder {folder} does not exist")
    with atomic_output(target) as tmp:
        deep_colour = pixels.dtype == np.uint16 and meta.layout != "L"
        if deep_colour or (pixels.dtype == np.uint16 and fmt == "tiff") or meta.layout == "CMYKA":
            _write_vips(tmp, pixels, meta, fmt)
        else:
            try:
                _write_pillow(tmp, pixels, meta, fmt, quality)
            except Exception as exc:
                if not meta.exif or isinstance(exc, OSError):
                    raise
                # an EXIF block Pillow can read but not re-encode: write the image without it
                _write_pillow(tmp, pixels, replace(meta, exif=None), fmt, quality)
                notes.append(f"EXIF dropped: it could not be re-encoded ({_one_line(exc)})")
    return notes


# ----------------------------------------------------------------------------- streamed TIFF


def _tiff_tags(meta: ImageMeta) -> dict[str, object]:
    """tifffile's keywords for ``meta``: photometric, alpha, resolution, ICC profile, XMP."""
    kw: dict[str, object] = {
        "software": SOFTWARE,
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


class TiffSink:
    """Streams output rows into an uncompressed TIFF on disk (memory-mapped, via tifffile).

    For outputs too large to hold in memory (a :class:`~enhance.tiles.Sink`). The file's whole
    size is reserved on disk before the first row is written, so a full disk is an ``OSError``
    here (which :func:`atomic_output` reports as "disk full") rather than a ``SIGBUS`` when a
    mapped page cannot be backed later.

    Args:
        path: the file to write (a temporary name, see :func:`atomic_output`).
        shape: ``(H, W, C)`` of the output.
        dtype: its sample type (uint8, uint16 or float32).
        meta: what to record in its tags (layout, DPI, ICC profile, XMP); EXIF is not written.
    """

    def __init__(self, path: str | os.PathLike[str], shape: tuple[int, int, int], dtype: np.dtype,
                 meta: ImageMeta) -> None:
        import tifffile

        shp = shape if shape[2] > 1 else shape[:2]
        self._mm = tifffile.memmap(str(path), shape=shp, dtype=dtype, **_tiff_tags(meta))
        self._gray = shape[2] == 1
        try:
            _reserve(Path(path))
        except OSError:
            del self._mm
            raise

    def write(self, y0: int, rows: np.ndarray) -> None:
        """Store ``rows`` ``(n, W, C)`` at output rows ``y0 .. y0+n`` and drop them from memory."""
        if self._gray:
            self._mm[y0:y0 + rows.shape[0]] = rows[:, :, 0]
        else:
            self._mm[y0:y0 + rows.shape[0]] = rows
        # write the rows out and drop them from this process's memory: RSS stays bounded
        self._mm.flush()
        mm = getattr(self._mm, "_mmap", None)
        if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            try:
                mm.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):
                pass

    def close(self) -> None:
        """Flush to disk and release the mapping."""
        self._mm.flush()
        del self._mm


def _reserve(path: Path) -> None:
    """Allocate every block of ``path`` now (a sparse file would fail only when a mapped page is written)."""
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
    finally:
        os.close(fd)
