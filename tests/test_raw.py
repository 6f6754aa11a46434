"""Camera RAW photos through LibRaw: Bayer DNGs built from real sky photos (tests/dngmake.py),
and a real Canon CRW (../shared/data/raw/canon_eos_d30.crw)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rawpy
from conftest import SHARED_DATA, require_shared_data
from PIL import Image

from skyseg_core.cli import main
from skyseg_core.errors import ImageTooLargeError, InputError
from skyseg_core.io import _orient, load_image, read_metadata
from skyseg_core.raw import DEVELOPMENT, is_raw
from skyseg_core.segment import segment
from tests.dngmake import (
    ARTIST,
    COPYRIGHT,
    DATE_ORIGINAL,
    EXIF_IFD,
    EXPOSURE,
    F_NUMBER,
    GPS_IFD,
    ISO,
    LENS_MODEL,
    MAKE,
    MODEL,
    with_declared_size,
    write_dng,
)

CRW = SHARED_DATA / "raw" / "canon_eos_d30.crw"
SKY_PHOTOS = [
    SHARED_DATA / "skyseg" / name
    for name in (
        "skyfinder_subset_yuennyao/images/623_20120901_131148.jpg",
        "skyfinder_subset_yuennyao/images/623_20121015_151151.jpg",
        "ade20k_skyopt_cvprw2020/images/ADE_train_00000004.jpg",
    )
]
"""Photos with a good share of sky that the shipped method finds."""
METHOD = "auto"


def sky_photo(index: int = 0) -> np.ndarray:
    require_shared_data()
    return np.asarray(Image.open(SKY_PHOTOS[index]).convert("RGB"))


def developed_as_tiff(raw_path: Path, tiff_path: Path) -> Path:
    """The scene of ``raw_path`` developed by rawpy directly and saved as a 16-bit TIFF."""
    import cv2

    with rawpy.imread(str(raw_path)) as raw:
        rgb = raw.postprocess(**DEVELOPMENT.options())
    assert rgb.dtype == np.uint16
    assert cv2.imwrite(str(tiff_path), np.ascontiguousarray(rgb[..., ::-1]))
    return tiff_path


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a >= 0.5, b >= 0.5
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


@pytest.mark.parametrize(
    "index, linear", [(0, False), (1, False), (2, False), (0, True)], ids=["0", "1", "2", "linear"]
)
def test_dng_matte_equals_the_developed_tiffs(index, linear, tmp_path):
    dng = write_dng(tmp_path / "sky.dng", sky_photo(index), linear=linear)
    image = load_image(dng)
    reference = load_image(developed_as_tiff(dng, tmp_path / "sky.tif"))
    assert image.dtype == np.uint16 and image.shape == reference.shape
    matte = segment(image, METHOD)
    assert iou(matte, segment(reference, METHOD)) >= 0.98
    # and developed, the mosaic is the photo it was made from: the same sky
    photo = sky_photo(index)[: image.shape[0], : image.shape[1]]
    assert iou(matte, segment(photo, METHOD)) >= 0.9
    assert 0.05 < (matte >= 0.5).mean() < 0.95  # a real sky, not an empty or full matte


def test_real_crw_matte_equals_the_developed_tiffs(tmp_path):
    image = load_image(CRW)
    assert image.shape == (1448, 2176, 3) and image.dtype == np.uint16
    reference = load_image(developed_as_tiff(CRW, tmp_path / "crw.tif"))
    assert np.array_equal(image, reference)
    assert iou(segment(image, METHOD), segment(reference, METHOD)) >= 0.98


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_eight_orientations(orientation, tmp_path):
    photo = sky_photo()[:120, :160].copy()
    photo[:20, :30] = (255, 0, 0)  # a red corner marks where the stored top left goes
    upright = load_image(write_dng(tmp_path / "1.dng", photo, 1))
    turned = load_image(write_dng(tmp_path / f"{orientation}.dng", photo, orientation))
    expected = _orient(upright, orientation)
    assert turned.shape == expected.shape
    assert turned.shape[:2] == ((160, 120) if orientation >= 5 else (120, 160))
    assert np.array_equal(turned, expected)


def test_detected_by_content_not_name(tmp_path):
    dng = write_dng(tmp_path / "photo.jpg", sky_photo())  # a DNG named like a JPEG
    assert is_raw(dng.read_bytes())
    assert load_image(dng).dtype == np.uint16
    crw_named_png = tmp_path / "canon.png"
    crw_named_png.write_bytes(CRW.read_bytes())
    assert load_image(crw_named_png).shape == (1448, 2176, 3)
    plain = tmp_path / "plain.tif"
    developed_as_tiff(CRW, plain)
    assert not is_raw(plain.read_bytes())  # a developed 16-bit TIFF is a TIFF, not a RAW


def test_pixel_limit_from_the_raw_header(tmp_path):
    height, width = sky_photo().shape[:2]
    dng = write_dng(tmp_path / "sky.dng", sky_photo(), orientation=8)
    assert load_image(dng, max_pixels=width * height).shape == (width, height, 3)
    with pytest.raises(ImageTooLargeError, match=f"image is {height}x{width} ="):
        load_image(dng, max_pixels=width * height - 1)
    with pytest.raises(ImageTooLargeError, match="image is 2176x1448 ="):
        load_image(CRW, max_pixels=2_000_000)


def test_replace_keeps_the_cameras_exif_in_a_16_bit_tiff(tmp_path):
    dng = write_dng(tmp_path / "sky.dng", sky_photo(), orientation=6)
    assert main(["replace", str(dng), "--sky", "sunset", "--method", METHOD]) == 0
    out = tmp_path / "sky_replaced.tif"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sky.dng", out.name]
    result = load_image(out)
    height, width = sky_photo().shape[:2]
    assert result.dtype == np.uint16 and result.shape == (width, height, 3)  # orientation 6
    with Image.open(out) as img:
        exif = img.getexif()
        assert (exif[MAKE], exif[MODEL]) == ("Canon", "Canon EOS R5")
        assert exif[COPYRIGHT] == "(c) A. Photographer" and exif[ARTIST] == "A. Photographer"
        assert exif.get(274, 1) == 1  # the pixels are upright
        sub, gps = exif.get_ifd(EXIF_IFD), exif.get_ifd(GPS_IFD)
        assert sub[DATE_ORIGINAL] == "2024:05:01 18:42:07" and sub[ISO] == 200
        assert float(sub[EXPOSURE]) == pytest.approx(1 / 250)
        assert sub[LENS_MODEL] == "RF24-70mm F2.8"
        assert gps[1] == "N" and float(gps[2][2]) == pytest.approx(12.5)
        assert 50721 not in exif  # DNG colour calibration stays in the RAW


def test_other_formats_on_request(tmp_path):
    dng = write_dng(tmp_path / "sky.dng", sky_photo())
    assert main(["tint", str(dng), "--format", "jpg", "--method", METHOD]) == 0
    with Image.open(tmp_path / "sky_tinted.jpg") as img:
        assert img.getexif()[MODEL] == "Canon EOS R5"


def test_crw_exif_from_its_ciff_heap_and_libraw():
    exif = Image.Exif()
    exif.load(read_metadata(CRW).exif)
    assert (exif[MAKE], exif[MODEL]) == ("Canon", "Canon EOS D30")
    assert exif[ARTIST] == "Peter Wemmert/Kameratrollet"
    sub = exif.get_ifd(EXIF_IFD)
    assert sub[ISO] == 100 and sub[DATE_ORIGINAL] == "2018:01:01 13:03:32"
    assert float(sub[F_NUMBER]) == pytest.approx(5.6, abs=0.01)


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _scrambled(data: bytes) -> bytes:
    rng = np.random.default_rng(7)
    middle = len(data) // 2
    return (
        data[:middle] + rng.integers(0, 256, 200_000, np.uint8).tobytes() + data[middle + 200_000 :]
    )


@pytest.mark.parametrize(
    "source, damage",
    [
        ("crw", _cut),
        ("crw", _scrambled),
        ("dng", _cut),
        ("dng", lambda d: d[:2000]),
        ("dng", lambda d: with_declared_size(d, 14000, 14000)),
        ("dng", lambda d: with_declared_size(d, 100_000, 100_000)),
    ],
    ids=[
        "crw-truncated",
        "crw-corrupt",
        "dng-truncated",
        "dng-header-only",
        "dng-forged-196mp",
        "dng-forged-10gp",
    ],
)
def test_broken_raws_are_refused_cleanly(source, damage, tmp_path, capfd):
    original = (
        CRW.read_bytes()
        if source == "crw"
        else write_dng(tmp_path / "a.dng", sky_photo()).read_bytes()
    )
    broken = tmp_path / f"broken.{source}"
    broken.write_bytes(damage(original))
    with pytest.raises(InputError):
        load_image(broken)
    capfd.readouterr()
    for command in (["mask"], ["replace", "--sky", "sunset"]):
        assert main([command[0], str(broken), *command[1:], "--method", METHOD]) == 2
        err = capfd.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert str(broken) in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "a.dng") == [broken.name]
