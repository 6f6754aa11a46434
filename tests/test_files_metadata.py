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


# -- hostile colour profiles and metadata too large for a format (issue 22) -------------------


def _tag_span(icc: bytes, sig: bytes) -> tuple[int, int]:
    (count,) = struct.unpack_from(">I", icc, 128)
    for i in range(count):
        name, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        if name == sig:
            return offset, size
    raise KeyError(sig)


def _with_tag(icc: bytes, sig: bytes, body: bytes) -> bytes:
    offset, size = _tag_span(icc, sig)
    return icc[:offset] + body.ljust(size, b"\x00")[:size] + icc[offset + size :]


def _negative_gamma(icc: bytes) -> bytes:
    curve = b"para\x00\x00\x00\x00" + struct.pack(">HHi", 0, 0, round(-2.2 * 65536))
    for sig in (b"rTRC", b"gTRC", b"bTRC"):
        icc = _with_tag(icc, sig, curve)
    return icc


def _singular(icc: bytes) -> bytes:
    offset, size = _tag_span(icc, b"rXYZ")
    return _with_tag(icc, b"gXYZ", icc[offset : offset + size])  # green = red: no inverse


HOSTILE_PROFILES = {
    "garbage": (b"not an ICC profile, whatever the segment says " * 6, False),
    "lab": (ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes(), True),
    "cmyk": (ADOBE_RGB[:16] + b"CMYK" + ADOBE_RGB[20:], True),
    "gamma0": (make_profile("zero", ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), gamma=0.0), True),
    "negative-gamma": (_negative_gamma(ADOBE_RGB), True),
    "singular": (_singular(ADOBE_RGB), True),
}


@pytest.mark.parametrize("command", ["replace", "relight"])
@pytest.mark.parametrize("kind", HOSTILE_PROFILES)
def test_a_profile_that_cannot_be_used_costs_a_note_not_the_photo(kind, command, tmp_path, capfd):
    from skyseg_core.cli import main
    from skyseg_core.io import save_matte

    icc, valid = HOSTILE_PROFILES[kind]
    image = np.zeros((60, 80, 3), np.uint8)
    image[:25], image[25:] = (120, 160, 220), (40, 80, 30)
    Image.fromarray(image).save(tmp_path / "p.jpg", quality=92, icc_profile=icc)
    Image.fromarray(image).save(tmp_path / "plain.jpg", quality=92)
    matte = np.zeros((60, 80), np.float32)
    matte[:25] = 1.0
    save_matte(tmp_path / "m.png", matte)

    def run(name, output, *extra):
        argv = [command, str(tmp_path / name), "--matte", str(tmp_path / "m.png")]
        return main([*argv, "--sky", "sunset", "-o", str(tmp_path / output), *extra])

    assert run("plain.jpg", "plain_out.jpg") == 0
    capfd.readouterr()
    code = run("p.jpg", "out.jpg")
    err = capfd.readouterr().err
    assert code == 0, err
    (line,) = err.splitlines()
    assert line.startswith("skyseg: note: ") and "p.jpg" in line and "colour profile" in line
    # the photo's colours as they are, the sky unconverted: as if it had no profile
    np.testing.assert_array_equal(
        load_image(tmp_path / "out.jpg"), load_image(tmp_path / "plain_out.jpg")
    )
    if valid:  # kept, and said again when the output is read
        with pytest.warns(UserWarning, match="colour profile"):
            assert read_metadata(tmp_path / "out.jpg").icc_profile == icc
    else:
        assert read_metadata(tmp_path / "out.jpg").icc_profile == b""
    assert run("p.jpg", "quiet.jpg", "--quiet") == 0
    assert capfd.readouterr().err == "", "--quiet: no notes"


def test_unusable_profiles_convert_nothing_and_say_why():
    from skyseg_core.metadata import is_valid_profile, profile_problem

    pixels = np.array([[[10, 128, 250]]], np.uint8)
    reasons = {kind: profile_problem(icc) for kind, (icc, _) in HOSTILE_PROFILES.items()}
    assert reasons == {
        "garbage": "is not a valid ICC profile",
        "lab": "describes Lab colours, not RGB",
        "cmyk": "describes CMYK colours, not RGB",
        "gamma0": "has a tone curve of gamma 0",
        "negative-gamma": "has a tone curve that cannot be used (parameters -2.2)",
        "singular": "has a colour matrix that cannot be inverted",
    }
    for kind, (icc, valid) in HOSTILE_PROFILES.items():
        assert is_valid_profile(icc) is valid, kind
        np.testing.assert_array_equal(to_profile(pixels, icc), pixels)
        np.testing.assert_array_equal(to_srgb(pixels, icc), pixels)
    assert profile_problem(ADOBE_RGB) is None and profile_problem(DISPLAY_P3) is None
    assert profile_problem(b"") is None


def _big_exif() -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    exif.get_ifd(EXIF_IFD)[0x9286] = b"ASCII\x00\x00\x00" + b"edit history " * 6000  # UserComment
    return clean_exif(exif)


def test_metadata_too_large_for_a_jpeg_costs_that_block_with_a_note(tmp_path):
    big_xmp = XMP.replace(b"A. Photographer", b"A. Photographer" + b" and an edit" * 7000)
    metadata = PhotoMetadata(exif=_big_exif(), xmp=big_xmp, icc_profile=ADOBE_RGB)
    assert len(metadata.exif) > 65533 and len(metadata.xmp) > 65504
    image = np.full((24, 32, 3), 90, np.uint8)
    with pytest.warns(UserWarning) as notes:
        save_image(tmp_path / "a.jpg", image, metadata=metadata)
    assert sorted(str(n.message).split(": the ")[1].split(" (")[0] for n in notes) == [
        "EXIF block",
        "XMP packet",
    ]
    assert all(str(tmp_path / "a.jpg") in str(n.message) for n in notes)
    written = read_metadata(tmp_path / "a.jpg")
    assert (written.exif, written.xmp, written.icc_profile) == (b"", b"", ADOBE_RGB)
    # formats that hold any size keep every block
    for suffix in (".png", ".tif", ".webp"):
        save_image(tmp_path / f"a{suffix}", image, metadata=metadata)
        again = read_metadata(tmp_path / f"a{suffix}")
        assert len(again.exif) > 65533 and again.xmp == big_xmp, suffix


def _padded(icc: bytes, extra: int) -> bytes:
    """``icc`` with a private tag of ``extra`` bytes: a valid profile of any size."""
    (count,) = struct.unpack_from(">I", icc, 128)
    tags = [struct.unpack_from(">4sII", icc, 132 + 12 * i) for i in range(count)]
    bodies = [(sig, icc[offset : offset + size]) for sig, offset, size in tags]
    noise = np.random.default_rng(0).integers(0, 256, extra, np.uint8).tobytes()
    bodies.append((b"zpad", b"data\x00\x00\x00\x00\x00\x00\x00\x01" + noise))
    start = 128 + 4 + 12 * len(bodies)
    table, data = [struct.pack(">I", len(bodies))], b""
    for sig, body in bodies:
        body += b"\x00" * (-len(body) % 4)
        table.append(struct.pack(">4sII", sig, start + len(data), len(body)))
        data += body
    return struct.pack(">I", start + len(data)) + icc[4:128] + b"".join(table) + data


def test_a_two_megabyte_profile_in_a_png_is_read(tmp_path):
    from skyseg_core.metadata import MAX_PROFILE_BYTES, profile_problem

    icc = _padded(ADOBE_RGB, 2 << 20)
    assert 2 << 20 < len(icc) < MAX_PROFILE_BYTES and profile_problem(icc) is None
    image = np.full((24, 32, 3), 90, np.uint8)
    save_image(tmp_path / "big.png", image, metadata=PhotoMetadata(icc_profile=icc))
    np.testing.assert_array_equal(load_image(tmp_path / "big.png"), image)
    assert read_metadata(tmp_path / "big.png").icc_profile == icc


def test_the_worker_replies_with_its_notes(tmp_path):
    """A note is part of the reply (a plug-in can show it), not a failure of the request."""
    import json

    from skyseg_core.worker import Worker, serve

    icc, _ = HOSTILE_PROFILES["lab"]
    image = np.zeros((60, 80, 3), np.uint8)
    image[:25], image[25:] = (120, 160, 220), (40, 80, 30)
    Image.fromarray(image).save(tmp_path / "p.jpg", quality=92, icc_profile=icc)
    request = {"id": 1, "op": "mask", "input": str(tmp_path / "p.jpg")}
    request |= {"output": str(tmp_path / "m.png"), "params": {"method": "color"}}
    out = io.StringIO()
    serve(io.StringIO(json.dumps(request) + "\n"), out, Worker(), log=io.StringIO())
    (reply,) = [r for r in map(json.loads, out.getvalue().splitlines()) if r.get("id") == 1]
    assert reply["ok"], reply
    (note,) = reply["notes"]
    assert "p.jpg" in note and "describes Lab colours" in note
