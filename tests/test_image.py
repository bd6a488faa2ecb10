"""Reading and writing keeps what the file had: modes, bit depth, ICC, DPI, EXIF, orientation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from enhance.batch import BatchOptions, enhance_file, output_path
from enhance.errors import InputError, OutputError
from enhance.image import ImageMeta, open_image, save_image
from enhance.treatment import ModelRequest, Treatment

from .conftest import smooth_rgb


def _enhance(src: Path, fmt: str = "png", zoom: int = 2) -> tuple[Path, list[str]]:
    opts = BatchOptions(format=fmt)
    dst = output_path(src, zoom, opts)
    notes = enhance_file(src, dst, Treatment(ModelRequest("bicubic", zoom)), opts)
    return dst, notes


@pytest.mark.parametrize(
    "mode,expect_layout",
    [("1", "L"), ("L", "L"), ("LA", "LA"), ("P", "RGB"), ("RGB", "RGB"), ("RGBA", "RGBA")],
)
def test_8bit_modes_roundtrip(tmp_path: Path, mode: str, expect_layout: str) -> None:
    base = Image.fromarray(smooth_rgb(12, 10)).convert("RGBA")
    im = base.convert("RGB").convert("P") if mode == "P" else base.convert(mode)
    src = tmp_path / f"in_{mode}.png"
    im.save(src)
    dst, _ = _enhance(src)
    out, meta = open_image(dst)
    assert out.shape[:2] == (24, 20)
    assert meta.layout == expect_layout
    assert out.dtype == np.uint8


def test_alpha_is_upscaled_and_kept(tmp_path: Path) -> None:
    a = np.zeros((16, 16, 4), np.uint8)
    a[..., :3] = 200
    a[4:12, 4:12, 3] = 255
    src = tmp_path / "alpha.png"
    Image.fromarray(a, "RGBA").save(src)
    dst, _ = _enhance(src)
    out, meta = open_image(dst)
    assert meta.layout == "RGBA"
    assert out[16, 16, 3] == 255 and out[0, 0, 3] == 0


def test_16bit_gray_png_stays_16bit(tmp_path: Path) -> None:
    a = (np.linspace(0, 65535, 12 * 14).reshape(12, 14)).astype(np.uint16)
    src = tmp_path / "g16.png"
    Image.fromarray(a).save(src)
    dst, _ = _enhance(src)
    out, meta = open_image(dst)
    assert meta.bit_depth == 16 and out.dtype == np.uint16 and out.shape == (24, 28, 1)
    # values that 8-bit would have rounded away survive
    assert len(np.unique(out)) > 256


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_16bit_rgb_stays_16bit(tmp_path: Path, ext: str) -> None:
    import pyvips

    a = (np.random.default_rng(0).random((10, 12, 3)) * 65535).astype(np.uint16)
    src = tmp_path / f"rgb16.{ext}"
    if ext == "png":
        pyvips.Image.new_from_array(a).copy(interpretation="rgb16").write_to_file(str(src))
    else:
        tifffile.imwrite(src, a, photometric="rgb")
    pixels, meta = open_image(src)
    assert pixels.dtype == np.uint16 and np.array_equal(pixels, a)
    dst, _ = _enhance(src, fmt="png" if ext == "png" else "tiff")
    out, meta2 = open_image(dst)
    assert out.dtype == np.uint16 and out.shape == (20, 24, 3) and meta2.layout == "RGB"


@pytest.mark.parametrize("ext,streamed", [("png", False), ("tif", False), ("png", True)])
def test_16bit_colour_output_states_only_the_resolution_and_exif_its_source_had(
        tmp_path: Path, ext: str, streamed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import enhance.batch
    from enhance.image import made_by_enhance

    if streamed:
        monkeypatch.setattr(enhance.batch, "STREAM_PIXELS", 100)  # treat this tiny image as huge
    a = (np.random.default_rng(1).random((10, 12, 3)) * 65535).astype(np.uint16)
    bare, dense = tmp_path / f"bare.{ext}", tmp_path / f"dense.{ext}"
    tifffile.imwrite(tmp_path / "bare.tif", a, photometric="rgb")  # (1, 1) per no unit: not a DPI
    tifffile.imwrite(tmp_path / "dense.tif", a, photometric="rgb", resolution=(300, 300), resolutionunit="INCH")
    fmt = "png" if ext == "png" else "tiff"
    dst, _ = _enhance(tmp_path / "bare.tif", fmt=fmt)
    out, meta = open_image(dst)
    assert out.dtype == np.uint16 and out.shape == (20, 24, 3)
    # libvips on its own states 25.4 dpi and writes an EXIF block the source never had
    assert meta.dpi is None and meta.exif is None, (meta.dpi, meta.exif)
    assert made_by_enhance(dst)  # a later run over the folder knows its own output
    dst, _ = _enhance(tmp_path / "dense.tif", fmt=fmt)
    assert open_image(dst)[1].dpi == pytest.approx((600, 600), abs=0.01)


@pytest.mark.parametrize("channels", [1, 3])
def test_float_tiff_in_0_1_is_read_as_16bit(tmp_path: Path, channels: int) -> None:
    a = np.random.default_rng(1).random((10, 12, channels)).astype(np.float32)
    src = tmp_path / "float.tif"
    tifffile.imwrite(src, a[:, :, 0] if channels == 1 else a, photometric="minisblack" if channels == 1 else "rgb")
    pixels, meta = open_image(src)
    assert pixels.dtype == np.uint16 and pixels.shape == (10, 12, channels) and meta.bit_depth == 16
    assert np.abs(pixels / 65535.0 - a).max() < 1e-4
    assert any("floating-point" in n for n in meta.notes)
    dst, notes = _enhance(src, fmt="tiff")
    out, _ = open_image(dst)
    assert out.dtype == np.uint16 and out.shape == (20, 24, channels)


def test_float_tiff_out_of_range_is_refused_by_name(tmp_path: Path) -> None:
    src = tmp_path / "hdr.tif"
    tifffile.imwrite(src, np.full((8, 8, 3), 4.0, np.float32), photometric="rgb")
    with pytest.raises(InputError, match=r"hdr\.tif: floating-point samples run from 4 to 4"):
        open_image(src)


def test_32bit_unsigned_tiff_maps_its_range_onto_16_bits(tmp_path: Path) -> None:
    a = np.array([[0, 2**31, 2**32 - 1]], np.uint32).repeat(4, axis=0)
    src = tmp_path / "u32.tif"
    tifffile.imwrite(src, a)
    pixels, meta = open_image(src)
    assert pixels.dtype == np.uint16 and pixels[0, :, 0].tolist() == [0, 32767, 65535]
    assert any("32-bit integer" in n for n in meta.notes)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_signed_integer_tiff_with_negative_values_is_refused_by_name(tmp_path: Path, dtype: type) -> None:
    src = tmp_path / "signed.tif"
    tifffile.imwrite(src, np.full((8, 8), -5, dtype))
    with pytest.raises(InputError, match=r"signed\.tif: signed-integer samples \(int\d+\) with negative values"):
        open_image(src)


@pytest.mark.parametrize("dtype,depth", [(np.int8, 8), (np.int16, 16), (np.int32, 16)])
def test_non_negative_signed_tiff_is_read_as_unsigned(tmp_path: Path, dtype: type, depth: int) -> None:
    a = np.array([[0, 7, 100]], dtype).repeat(4, axis=0)
    src = tmp_path / "signed.tif"
    tifffile.imwrite(src, a)
    pixels, meta = open_image(src)
    assert pixels.dtype == (np.uint8 if depth == 8 else np.uint16) and meta.bit_depth == depth
    assert pixels[0, :, 0].tolist() == [0, 7, 100]
    assert any("signed" in n and "unsigned" in n for n in meta.notes)


def test_cmyk_kept_in_tiff_and_converted_for_png(tmp_path: Path) -> None:
    cmyk = Image.fromarray(smooth_rgb(10, 10)).convert("CMYK")
    src = tmp_path / "c.tif"
    cmyk.save(src)
    dst, notes = _enhance(src, fmt="tiff")
    out, meta = open_image(dst)
    assert meta.layout == "CMYK" and out.shape == (20, 20, 4)
    dst2, notes2 = _enhance(src, fmt="png")
    out2, meta2 = open_image(dst2)
    assert meta2.layout == "RGB"
    assert any("CMYK converted" in n for n in notes2)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("stream", [False, True])
def test_cmyk_with_alpha_keeps_its_inks_and_alpha(tmp_path: Path, dtype: type, stream: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Print-production TIFFs carry CMYK plus an alpha channel: the inks stay inks and the alpha
    stays alpha (not K read as alpha), in TIFF (streamed too), and become RGBA in PNG."""
    import enhance.batch

    if stream:
        monkeypatch.setattr(enhance.batch, "STREAM_PIXELS", 100)  # treat this tiny image as huge
    peak = np.iinfo(dtype).max
    inks = (smooth_rgb(12, 10, seed=3).astype(np.float64) / 255.0 * peak).astype(dtype)
    a = np.concatenate([inks, inks[:, :, :1] // 2, np.full((12, 10, 1), peak // 3, dtype)], axis=2)  # C M Y K A
    src = tmp_path / "cmyka.tif"
    tifffile.imwrite(src, a, photometric="separated", extrasamples=[2], resolution=(300, 300), resolutionunit="INCH")
    pixels, meta = open_image(src)
    assert meta.layout == "CMYKA" and pixels.dtype == dtype and np.array_equal(pixels, a)
    dst, _ = _enhance(src, fmt="tiff")
    with tifffile.TiffFile(dst) as tf:
        page = tf.pages[0]
        assert page.photometric == tifffile.PHOTOMETRIC.SEPARATED and len(page.extrasamples) == 1
        out = page.asarray()
    assert out.shape == (24, 20, 5) and out.dtype == dtype
    assert np.abs(out[:, :, 4].astype(np.int64) - peak // 3).max() <= 1  # a flat alpha stays flat
    assert abs(float(out[:, :, 3].mean()) - float(a[:, :, 3].mean())) < peak * 0.02  # K is still K
    assert open_image(dst)[1].dpi == (600.0, 600.0)
    if not stream:
        png, notes = _enhance(src, fmt="png")
        rgba, pmeta = open_image(png)
        assert pmeta.layout == "RGBA" and abs(int(rgba[:, :, 3].mean()) - 85) <= 1
        assert any("alpha is kept" in n for n in notes)
        jpg, jnotes = _enhance(src, fmt="jpeg")
        assert open_image(jpg)[1].layout == "CMYK" and any("alpha flattened" in n for n in jnotes)


def test_exif_orientation_applied_and_exif_kept(tmp_path: Path) -> None:
    im = Image.fromarray(smooth_rgb(10, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    exif[0x013B] = "Jane Scanner"  # Artist
    src = tmp_path / "o.jpg"
    im.save(src, exif=exif.tobytes(), quality=95)
    pixels, meta = open_image(src)
    assert pixels.shape[:2] == (20, 10)  # rotated on read
    dst, _ = _enhance(src)
    out = Image.open(dst)
    assert out.size == (20, 40)
    ex = out.getexif()
    assert ex.get(0x0112, 1) == 1
    assert ex.get(0x013B) == "Jane Scanner"


_XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6">'
        b'<dc:rights>(c) The Archive</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


def _xmp_of(path: Path) -> bytes | None:
    import pyvips

    im = pyvips.Image.new_from_file(str(path))
    return im.get("xmp-data") if "xmp-data" in im.get_fields() else None


@pytest.mark.parametrize("fmt", ["png", "tiff", "jpeg", "webp"])
def test_xmp_is_kept_with_its_orientation_reset(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rights and captions live in XMP: they reach every output format; the orientation it
    repeats is reset with the EXIF one, since the pixels are already turned."""
    src = tmp_path / "x.jpg"
    ex = Image.Exif()
    ex[0x0112] = 6
    Image.fromarray(smooth_rgb(10, 14)).save(src, exif=ex, xmp=_XMP)
    dst, _ = _enhance(src, fmt=fmt)
    xmp = _xmp_of(dst)
    assert xmp is not None and b"(c) The Archive" in xmp
    assert b'tiff:Orientation="1"' in xmp and b'tiff:Orientation="6"' not in xmp
    assert Image.open(dst).size == (20, 28)  # turned once, by the EXIF orientation


def test_xmp_survives_16_bit_and_streamed_tiff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyvips

    import enhance.batch

    deep = tmp_path / "deep.png"
    v = pyvips.Image.new_from_array((smooth_rgb(10, 12).astype(np.uint16) * 257)).copy(interpretation="rgb16")
    v.set_type(pyvips.GValue.blob_type, "xmp-data", _XMP)
    v.pngsave(str(deep))
    dst, _ = _enhance(deep, fmt="png")
    assert open_image(dst)[0].dtype == np.uint16 and b"(c) The Archive" in (_xmp_of(dst) or b"")
    monkeypatch.setattr(enhance.batch, "STREAM_PIXELS", 100)  # treat this tiny image as huge
    dst, _ = _enhance(deep, fmt="tiff")
    # no EXIF orientation was applied, so the XMP one is left as the file had it
    assert b"(c) The Archive" in (_xmp_of(dst) or b"") and b'tiff:Orientation="6"' in (_xmp_of(dst) or b"")


def test_icc_and_dpi(tmp_path: Path, srgb_icc: bytes) -> None:
    src = tmp_path / "icc.png"
    Image.fromarray(smooth_rgb(8, 8)).save(src, icc_profile=srgb_icc, dpi=(300, 300))
    for fmt in ("png", "tiff", "jpeg"):
        dst, _ = _enhance(src, fmt=fmt, zoom=3)
        out = Image.open(dst)
        assert out.info.get("icc_profile") == srgb_icc, fmt
        assert tuple(round(float(v)) for v in out.info["dpi"]) == (900, 900), fmt
    dst, _ = _enhance(src, fmt="webp")
    assert Image.open(dst).info.get("icc_profile") == srgb_icc


def test_animated_gif_first_frame(tmp_path: Path) -> None:
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (10, 200, 90)]
    src = tmp_path / "anim.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=50)
    dst, notes = _enhance(src)
    out, _ = open_image(dst)
    assert out.shape[:2] == (16, 16)
    assert abs(int(out[8, 8, 0]) - 10) <= 2  # the first frame
    assert any("first of 3 frames" in n for n in notes)


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"", "empty file"),
        (b"this is not an image at all\n" * 10, "not an image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not an image"),
    ],
)
def test_bad_bytes_raise_input_error(tmp_path: Path, content: bytes, needle: str) -> None:
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    with pytest.raises(InputError) as ei:
        open_image(p)
    msg = str(ei.value)
    assert str(p) in msg and needle in msg and "\n" not in msg


def test_truncated_file(tmp_path: Path, sample_png: Path) -> None:
    data = sample_png.read_bytes()
    p = tmp_path / "trunc.png"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="trunc.png"):
        open_image(p)


def test_pixel_limit(tmp_path: Path) -> None:
    p = tmp_path / "big.png"
    Image.new("L", (300, 200)).save(p)
    with pytest.raises(InputError, match="exceeds the limit"):
        open_image(p, max_pixels=50_000)
    assert open_image(p, max_pixels=60_000)[0].shape == (200, 300, 1)


def test_save_is_atomic_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    def full_disk(*a: object, **k: object) -> None:
        path = a[1] if len(a) > 1 else k.get("fp")
        Path(str(path)).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    target = tmp_path / "out.png"
    with pytest.raises(OutputError, match="disk full"):
        save_image(target, np.zeros((4, 4, 3), np.uint8), ImageMeta(layout="RGB"))
    assert list(tmp_path.iterdir()) == []


def test_decoder_surprises_become_input_errors(tmp_path: Path, sample_png: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow plugins raise NotImplementedError and others on odd variants (seen in Pillow's own test files)."""
    def boom(*a: object, **k: object) -> None:
        raise NotImplementedError("Unimplemented DXGI format 93")

    monkeypatch.setattr(Image, "open", boom)
    with pytest.raises(InputError, match="sample.png.*cannot read"):
        open_image(sample_png)


def test_absurd_dpi_is_ignored_not_fatal(tmp_path: Path) -> None:
    src = tmp_path / "dpi.png"
    Image.fromarray(smooth_rgb(8, 8)).save(src, dpi=(4_000_000, 4_000_000))
    pixels, meta = open_image(src)
    assert meta.dpi is None
    dst, _ = _enhance(src)
    assert Image.open(dst).size == (16, 16)


def test_heic_photos_are_read_or_the_missing_extra_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Phones save HEIC: read through pillow-heif (the heif extra), turned by its orientation;
    without the extra, one line says what to install."""
    import sys

    import pillow_heif

    import enhance.image

    src = tmp_path / "phone.heic"
    pillow_heif.from_pillow(Image.fromarray(smooth_rgb(12, 16))).save(src)
    monkeypatch.setattr(enhance.image, "_heif_ready", [])
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if the extra were not installed
    with pytest.raises(InputError, match=r"phone\.heic: HEIC/HEIF image: .*pip install 'enhance\[heif\]'"):
        open_image(src)
    monkeypatch.undo()
    monkeypatch.setattr(enhance.image, "_heif_ready", [])
    pixels, meta = open_image(src)
    assert pixels.shape == (12, 16, 3) and meta.format == "HEIF"
    assert np.abs(pixels.astype(int) - smooth_rgb(12, 16)).mean() < 12  # lossy, but the same picture
    dst, _ = _enhance(src)
    assert Image.open(dst).size == (32, 24)


@pytest.mark.parametrize("bits,codec", [(12, "jp2"), (16, "j2k")])
def test_deep_jpeg2000_keeps_its_depth(tmp_path: Path, bits: int, codec: str) -> None:
    """Pillow reads 12- and 16-bit colour JPEG 2000 as 8-bit; Enhance keeps the depth, scaled to 16 bits."""
    imagecodecs = pytest.importorskip("imagecodecs")
    peak = (1 << bits) - 1
    a = (smooth_rgb(24, 32).astype(np.float64) / 255 * peak).round().astype(np.uint16)
    a[0, 0] = (1, peak - 1, 0)  # values 8 bits could not hold
    src = tmp_path / f"deep.{codec}"
    src.write_bytes(imagecodecs.jpeg2k_encode(a, level=0, bitspersample=bits, codecformat=codec))
    pixels, meta = open_image(src)
    assert pixels.dtype == np.uint16 and meta.bit_depth == 16 and meta.layout == "RGB"
    want = np.round(a * (65535 / peak)).astype(np.uint16)
    assert np.array_equal(pixels, want)
    dst, _notes = _enhance(src)
    out, out_meta = open_image(dst)
    assert out.shape == (48, 64, 3) and out.dtype == np.uint16 and out_meta.bit_depth == 16


def test_deep_jpeg2000_without_imagecodecs_says_how_to_keep_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imagecodecs = pytest.importorskip("imagecodecs")
    src = tmp_path / "deep.jp2"
    src.write_bytes(imagecodecs.jpeg2k_encode(np.full((8, 8, 3), 40000, np.uint16), level=0, codecformat="jp2"))
    import sys

    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # as if the jp2 extra were not installed
    pixels, meta = open_image(src)
    assert pixels.dtype == np.uint8 and meta.bit_depth == 8
    assert any("16-bit samples are read as 8-bit" in n and "enhance[jp2]" in n for n in meta.notes)


def test_float64_tiff_libvips_refuses_is_read_through_tifffile(tmp_path: Path, srgb_icc: bytes) -> None:
    """libvips has no 64-bit float TIFF reader; such files (numpy, MATLAB) are read with tifffile,
    keeping their resolution and profile."""
    a = smooth_rgb(10, 12).astype(np.float64) / 255.0
    src = tmp_path / "f64.tif"
    tifffile.imwrite(src, np.moveaxis(a, -1, 0), photometric="rgb", planarconfig="separate", resolution=(150, 150),
                     resolutionunit="INCH", iccprofile=srgb_icc)
    pixels, meta = open_image(src)
    assert pixels.dtype == np.uint16 and pixels.shape == (10, 12, 3) and meta.layout == "RGB"
    assert np.abs(pixels.astype(np.float64) / 65535 - a).max() < 1e-4
    assert meta.dpi == (150.0, 150.0) and meta.icc_profile == srgb_icc
