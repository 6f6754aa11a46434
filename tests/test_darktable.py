"""``skyseg mask --for darktable``: the matte for darktable's external raster masks module, in
the photo file's stored orientation (a RAW's sensor orientation), as a float RGB PFM named
after the photo, in the folder darktablerc names (tests/test_hosts_darktable.py: in darktable)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_landscape
from PIL import Image

from skyseg_core.cli import main
from skyseg_core.darktable import (
    RASTER_FOLDER_KEY,
    configured_folder,
    stored_orientation,
    write_raster_mask,
)
from skyseg_core.io import _orient, load_image, load_matte
from tests.dngmake import write_dng

METHOD = "color"


def marked_photo() -> np.ndarray:
    photo = synthetic_landscape(60, 90)[0].copy()
    photo[:12, :20] = (255, 0, 0)  # the stored top-left corner, to follow through the turns
    return photo


def read_raster_mask(path: Path) -> np.ndarray:
    """The mask as darktable's module reads a PFM: "PF" (RGB), width, height, a negative scale
    (little-endian), float rows from the bottom up; the largest channel."""
    magic, size, scale, data = path.read_bytes().split(b"\n", 3)
    width, height = map(int, size.split())
    assert magic == b"PF" and float(scale) == -1.0 and len(data) == width * height * 12
    pixels = np.frombuffer(data, "<f4").reshape(height, width, 3)[::-1]
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
    return pixels.max(axis=2)


def jpeg_with_orientation(path: Path, photo: np.ndarray, orientation: int) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=98, exif=exif.tobytes())
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("kind", ["dng", "jpg"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_mask_is_in_the_files_stored_orientation(kind, orientation, tmp_path):
    photo = marked_photo()
    if kind == "dng":
        path = write_dng(tmp_path / "a.dng", photo, orientation)
    else:
        path = jpeg_with_orientation(tmp_path / "a.jpg", photo, orientation)
    upright = load_image(path)
    assert upright.shape[:2] == _orient(photo, orientation).shape[:2]
    red = upright[..., 0].astype(np.float32) / np.iinfo(upright.dtype).max
    matte = ((red > 0.8) & (upright[..., 1] < upright[..., 0] // 4)).astype(np.float32)
    assert stored_orientation(path) == orientation
    written = read_raster_mask(write_raster_mask(tmp_path / "a.pfm", matte, orientation))
    assert written.shape == photo.shape[:2]  # stored size, not the upright one
    assert written[2:10, 2:18].mean() > 0.9 and written[20:, 30:].mean() < 0.05


def test_values_are_the_matte_as_floats(tmp_path):
    matte = np.linspace(0, 1, 7 * 9, dtype=np.float32).reshape(7, 9)
    matte[0, :] = 1.0  # the top row, to see the rows' order
    written = read_raster_mask(write_raster_mask(tmp_path / "m.pfm", matte))
    assert np.array_equal(written, matte)


def test_darktablerc_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DARKTABLE_CONFIGDIR", str(tmp_path))
    assert configured_folder() is None  # no darktablerc
    rc = tmp_path / "darktablerc"
    rc.write_text(f"plugins/darkroom/exposure/expanded=TRUE\n{RASTER_FOLDER_KEY}=\n")
    assert configured_folder() is None  # empty
    rc.write_text(f"a=b\n{RASTER_FOLDER_KEY}={tmp_path / 'masks'}\nui/theme=darktable\n")
    assert configured_folder() == tmp_path / "masks"


def test_mask_for_darktable_writes_into_the_configured_folder(tmp_path, monkeypatch, capfd):
    masks = tmp_path / "masks"
    masks.mkdir()
    monkeypatch.setenv("DARKTABLE_CONFIGDIR", str(tmp_path))
    (tmp_path / "darktablerc").write_text(f"{RASTER_FOLDER_KEY}={masks}\n")
    photo = synthetic_landscape(80, 120)[0]
    dng = write_dng(tmp_path / "IMG_1.dng", photo, orientation=6)
    jpg = jpeg_with_orientation(tmp_path / "IMG_1.jpg", photo, 8)
    args = ["--method", METHOD, "--quiet"]
    assert main(["mask", str(dng), str(jpg), "--for", "darktable", *args]) == 0
    assert sorted(p.name for p in masks.iterdir()) == ["IMG_1.dng.pfm", "IMG_1.jpg.pfm"]
    for path, orientation in ((dng, 6), (jpg, 8)):
        assert (
            main(["mask", str(path), "-o", str(tmp_path / "plain.png"), "--overwrite", *args]) == 0
        )
        plain = load_matte(tmp_path / "plain.png")  # the upright matte, 8 bits
        written = read_raster_mask(masks / f"{path.name}.pfm")
        assert written.shape == photo.shape[:2]
        back = _orient(plain, {6: 8, 8: 6}[orientation])
        assert np.abs(written - back).max() <= 1 / 255 + 1e-6
    # a second run refuses to overwrite, unless asked
    assert main(["mask", str(dng), "--for", "darktable", *args]) == 2
    assert main(["mask", str(dng), "--for", "darktable", "--overwrite", *args]) == 0
    capfd.readouterr()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--darktable-dir", "x"], "--darktable-dir goes with --for darktable"),
        (["--for", "darktable", "--darktable-dir", "x", "-o", "y.png"], "drop -o"),
        (["--for", "darktable", "--darktable-dir", "x", "--name", "{stem}.png"], "drop --name"),
        (["--for", "darktable"], "no raster masks folder"),
    ],
)
def test_usage_errors_are_one_line(options, message, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("DARKTABLE_CONFIGDIR", str(tmp_path))  # no darktablerc there
    photo = tmp_path / "a.dng"
    write_dng(photo, synthetic_landscape(40, 60)[0])
    assert main(["mask", str(photo), "--method", METHOD, *options]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dng"]
