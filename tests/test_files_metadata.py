"""EXIF, XMP and ICC profiles from real camera-like files through read_metadata and save_image.

The photos are JPEGs in Adobe RGB (1998) and Display P3 with camera EXIF (make, model, lens,
exposure, date, copyright, GPS, orientation 6, a thumbnail), an XMP packet, and a 16-bit TIFF
with a profile; profiles are built by tests/iccmake.py and read by LittleCMS (Pillow's
ImageCms), the colour engine the tests check skyseg against.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms

from skyseg_core.io import encode_image, load_image, read_metadata, save_image
from skyseg_core.metadata import PhotoMetadata, clean_exif, profile_name, to_profile, to_srgb
from tests.iccmake import ADOBE_RGB, DISPLAY_P3, make_profile

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>A. Photographer</rdf:li>'
    b'</rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
MAKE, MODEL, LENS, COPYRIGHT = 0x010F, 0x0110, 0xA434, 0x8298
ORIENTATION, EXIF_IFD, GPS_IFD = 0x0112, 0x8769, 0x8825
EXPOSURE, FNUMBER, DATE_ORIGINAL = 0x829A, 0x829D, 0x9003


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[COPYRIGHT], exif[ORIENTATION] = (
        "Canon",
        "Canon EOS R5",
        "(c) A. Photographer",
        orientation,
    )
    sub = exif.get_ifd(EXIF_IFD)
    sub[EXPOSURE], sub[FNUMBER], sub[DATE_ORIGINAL], sub[LENS] = (
        (1, 250),
        (8, 1),
        "2024:05:01 18:42:07",
        "RF24-70mm F2.8",
    )
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (46.0, 33.0, 12.5), "E", (7.0, 58.0, 3.25)
    return exif


def with_thumbnail(exif_bytes: bytes) -> bytes:
    """Append an IFD1 with a JPEG thumbnail to a Pillow-written EXIF block, as cameras do."""
    tiff = bytearray(exif_bytes.removeprefix(b"Exif\x00\x00"))
    order = "<" if tiff[:2] == b"II" else ">"
    thumb = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 10, 10)).save(thumb, "JPEG")
    (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, ifd0)
    next_at = ifd0 + 2 + 12 * count
    ifd1 = len(tiff) + len(tiff) % 2
    tiff += b"\x00" * (ifd1 - len(tiff))
    data_at = ifd1 + 2 + 2 * 12 + 4
    tiff += struct.pack(order + "H", 2)
    tiff += struct.pack(order + "HHII", 513, 4, 1, data_at) + struct.pack(
        order + "HHII", 514, 4, 1, len(thumb.getvalue())
    )
    tiff += struct.pack(order + "I", 0) + thumb.getvalue()
    struct.pack_into(order + "I", tiff, next_at, ifd1)
    return b"Exif\x00\x00" + bytes(tiff), thumb.getvalue()


def photo(height=48, width=64, seed=0) -> np.ndarray:
    """Smooth saturated colours (where Adobe RGB and sRGB differ most) over a gradient."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.uint8)
    coarse = rng.integers(0, 256, (3, 4, 3)).astype(np.float32)
    image[: height // 2] = np.clip(
        cv2.resize(coarse, (width, height // 2), interpolation=cv2.INTER_CUBIC), 0, 255
    )
    ramp = np.linspace(20, 235, width).astype(np.uint8)
    image[height // 2 :] = np.stack([ramp, ramp[::-1], np.full_like(ramp, 180)], axis=1)[None]
    return image


@pytest.fixture(params=[("adobe", ADOBE_RGB), ("p3", DISPLAY_P3)], ids=["adobe_rgb", "display_p3"])
def camera_jpeg(request, tmp_path):
    name, icc = request.param
    exif, thumb = with_thumbnail(camera_exif().tobytes())
    path = tmp_path / f"{name}.jpg"
    Image.fromarray(photo()).save(path, "JPEG", quality=97, exif=exif, icc_profile=icc, xmp=XMP)
    return path, icc, thumb


def pil_open(path) -> Image.Image:
    """Open with Pillow from memory (no file left open for the ResourceWarning check)."""
    return Image.open(io.BytesIO(path.read_bytes()))


def lab(image: np.ndarray, icc: bytes) -> np.ndarray:
    """CIELAB (D50) of 8-bit RGB pixels interpreted through ``icc`` by LittleCMS."""
    transform = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("LAB"), "RGB", "LAB"
    )
    out = np.asarray(ImageCms.applyTransform(Image.fromarray(image, "RGB"), transform)).astype(
        np.float64
    )
    return np.stack([out[..., 0] * 100 / 255, out[..., 1] - 128, out[..., 2] - 128], axis=-1)


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a - b) ** 2).sum(axis=-1))


def test_read_metadata_of_a_camera_jpeg(camera_jpeg):
    path, icc, thumb = camera_jpeg
    meta = read_metadata(path)
    assert meta.icc_profile == icc and meta.xmp == XMP
    exif = Image.Exif()
    exif.load(meta.exif)
    assert exif[ORIENTATION] == 1, "pixels are stored upright, so the orientation must be reset"
    assert (exif[MAKE], exif[MODEL], exif[COPYRIGHT]) == (
        "Canon",
        "Canon EOS R5",
        "(c) A. Photographer",
    )
    sub = exif.get_ifd(EXIF_IFD)
    assert (sub[EXPOSURE], sub[FNUMBER], sub[DATE_ORIGINAL], sub[LENS]) == (
        (1, 250),
        (8, 1),
        "2024:05:01 18:42:07",
        "RF24-70mm F2.8",
    )
    assert exif.get_ifd(GPS_IFD)[2] == (46.0, 33.0, 12.5)
    original = pil_open(path).getexif()
    assert original[ORIENTATION] == 6 and original.get_ifd(ExifTags.IFD.IFD1), (
        "the input has a thumbnail"
    )
    assert thumb not in meta.exif and not exif.get_ifd(ExifTags.IFD.IFD1), (
        "the thumbnail (IFD1) is dropped"
    )


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_metadata_survives_every_format(camera_jpeg, tmp_path, suffix):
    path, icc, _ = camera_jpeg
    image, meta = load_image(path), read_metadata(path)
    assert image.shape == (64, 48, 3)  # orientation 6 applied
    out = save_image(tmp_path / f"out{suffix}", image, metadata=meta)
    again = read_metadata(out)
    assert again == meta, "EXIF, XMP and profile bytes come back identical"
    written = pil_open(out)
    exif = written.getexif()
    assert exif[ORIENTATION] == 1 and exif[MAKE] == "Canon"
    assert exif.get_ifd(EXIF_IFD)[LENS] == "RF24-70mm F2.8" and exif.get_ifd(GPS_IFD)[4] == (
        7.0,
        58.0,
        3.25,
    )
    assert written.info["icc_profile"] == icc
    assert load_image(out).shape == (64, 48, 3), "an output read back is not turned a second time"


def test_untouched_pixels_keep_their_colour(camera_jpeg, tmp_path):
    """ΔE (CIELAB, LittleCMS) of the pixels between input and output, each read through its own
    profile: lossless outputs are exact; a lossy one differs only by its codec (the same ΔE as
    encoding without metadata, read through the right profile); the same pixels read as sRGB
    (what dropping the profile did) are far off."""
    path, icc, _ = camera_jpeg
    image, meta = load_image(path), read_metadata(path)
    reference = lab(image, icc)
    for suffix in (".png", ".tif", ".webp", ".jpg"):
        out = save_image(tmp_path / f"o{suffix}", image, metadata=meta, quality=95)
        back = load_image(out)
        de = delta_e(lab(back, read_metadata(out).icc_profile), reference)
        if suffix in (".png", ".tif"):
            assert de.max() < 1e-6
        else:
            codec_only = save_image(tmp_path / f"plain{suffix}", image, quality=95)
            assert (
                abs(de.mean() - delta_e(lab(load_image(codec_only), icc), reference).mean()) < 0.5
            )
            assert de.mean() < 10.0, (
                suffix,
                de.mean(),
            )  # WebP 4:2:0 on this tiny saturated picture: 8
    as_srgb = delta_e(
        lab(image, ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()), reference
    )
    assert as_srgb.mean() > 3.0, as_srgb.mean()


def test_sixteen_bit_tiff_with_profile_stays_sixteen_bit(tmp_path):
    rng = np.random.default_rng(3)
    deep = rng.integers(0, 65536, (40, 56, 3), dtype=np.uint16)
    meta = PhotoMetadata(clean_exif(camera_exif(orientation=1)), XMP, ADOBE_RGB)
    source = save_image(tmp_path / "scan.tif", deep, metadata=meta)
    assert read_metadata(source) == meta
    loaded = load_image(source)
    assert loaded.dtype == np.uint16 and np.array_equal(loaded, deep)
    for suffix in (".tif", ".png"):
        out = save_image(tmp_path / f"copy{suffix}", loaded, metadata=read_metadata(source))
        back = load_image(out)
        assert back.dtype == np.uint16 and np.array_equal(back, deep), suffix
        assert read_metadata(out) == meta
        assert pil_open(out).getexif().get_ifd(EXIF_IFD)[LENS] == "RF24-70mm F2.8"


def test_tiff_reads_photo_tags_not_layout_tags(tmp_path):
    path = tmp_path / "pil.tif"
    tags = camera_exif(orientation=1)
    tags[700] = XMP
    Image.fromarray(photo()).save(path, "TIFF", exif=tags, icc_profile=DISPLAY_P3)
    meta = read_metadata(path)
    exif = Image.Exif()
    exif.load(meta.exif)
    assert exif[MAKE] == "Canon" and 256 not in exif and 273 not in exif and 34675 not in exif
    assert meta.icc_profile == DISPLAY_P3 and meta.xmp == XMP


def test_files_without_metadata_and_broken_exif(tmp_path):
    plain = save_image(tmp_path / "plain.png", photo())
    assert read_metadata(plain) == PhotoMetadata() and not read_metadata(plain)
    Image.fromarray(photo()).save(tmp_path / "p.bmp")
    assert read_metadata(tmp_path / "p.bmp") == PhotoMetadata()
    broken = tmp_path / "broken.jpg"
    Image.fromarray(photo()).save(
        broken, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\xff garbage", icc_profile=ADOBE_RGB
    )
    meta = read_metadata(broken)
    assert meta.exif == b"" and meta.icc_profile == ADOBE_RGB  # a broken EXIF costs the EXIF only
    assert load_image(broken).shape == (48, 64, 3)


def test_quality_changes_jpeg_and_webp_and_is_checked(camera_jpeg):
    path, _, _ = camera_jpeg
    image, meta = load_image(path), read_metadata(path)
    for fmt in ("JPEG", "WEBP"):
        low, high = (len(encode_image(image, fmt, quality=q, metadata=meta)) for q in (20, 98))
        assert low < high
        assert len(encode_image(image, fmt, quality=20)) < len(encode_image(image, fmt, quality=98))
    for bad in (0, 101, 2.5, True):
        with pytest.raises(Exception, match="quality must be"):
            encode_image(image, "JPEG", quality=bad)


def test_rgba_outputs_and_jpeg_refuses_alpha(tmp_path):
    rgba = np.dstack([photo(), np.linspace(0, 255, 64).astype(np.uint8)[None].repeat(48, 0)])
    for suffix in (".png", ".tif", ".webp"):
        back = np.asarray(
            pil_open(
                save_image(
                    tmp_path / f"a{suffix}", rgba, metadata=PhotoMetadata(icc_profile=ADOBE_RGB)
                )
            )
        )
        assert back.shape == (48, 64, 4)
        if suffix != ".webp":
            assert np.array_equal(back, rgba)
    with pytest.raises(Exception, match="JPEG cannot store transparency"):
        save_image(tmp_path / "a.jpg", rgba)


@pytest.mark.parametrize("icc", [ADOBE_RGB, DISPLAY_P3], ids=["adobe_rgb", "display_p3"])
def test_to_profile_matches_littlecms(icc):
    """A replacement sky in sRGB brought into the photo's space: within 1 code value of LittleCMS
    at 8 bits, and exact to float precision for 16-bit and float input (round trip)."""
    assert profile_name(icc) in ("Adobe RGB (1998)", "Display P3")
    rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    transform = ImageCms.buildTransform(
        srgb, ImageCms.ImageCmsProfile(io.BytesIO(icc)), "RGB", "RGB"
    )
    reference = np.asarray(ImageCms.applyTransform(Image.fromarray(rgb), transform)).astype(int)
    mine = to_profile(rgb, icc)
    assert mine.dtype == np.uint8 and np.abs(mine.astype(int) - reference).max() <= 1
    deep = rgb.astype(np.uint16) * 257
    assert (
        np.abs(to_srgb(to_profile(deep, icc), icc).astype(int) - deep).max() <= 40
    )  # < 0.001 of full scale
    # the converted codes, read through the photo's profile, are the sRGB colours (ΔE within
    # what 8-bit codes and ImageCms's 8-bit Lab allow); unconverted they are not
    target = lab(rgb, srgb.tobytes())
    assert delta_e(lab(mine, icc), target).mean() < 2.0
    assert delta_e(lab(rgb, icc), target).mean() > 4.0
    assert np.array_equal(to_profile(rgb, b""), rgb)


def test_an_embedded_srgb_profile_is_srgb():
    """The sRGB profile a camera or editor embeds is not byte-equal to LittleCMS's own, but it is
    the same space: the sky is left as it is (LittleCMS agrees to within rounding)."""
    embedded = make_profile(
        "sRGB IEC61966-2.1", ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), srgb_curve=True
    )
    rgb = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    transform = ImageCms.buildTransform(
        srgb, ImageCms.ImageCmsProfile(io.BytesIO(embedded)), "RGB", "RGB"
    )
    assert (
        np.abs(
            np.asarray(ImageCms.applyTransform(Image.fromarray(rgb), transform)).astype(int) - rgb
        ).max()
        <= 1
    )
    assert np.array_equal(to_profile(rgb, embedded), rgb)
    assert not np.array_equal(
        to_profile(rgb, DISPLAY_P3), rgb
    )  # same curve, other primaries: converted
