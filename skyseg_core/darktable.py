"""Sky mattes for darktable's "external raster masks" module (darktable 5.4, ``rasterfile``).

The module reads a PFM or PNG file from one root folder (darktablerc's
:data:`RASTER_FOLDER_KEY`) and uses it as a raster mask early in darktable's pipeline: on the
picture as the file stores it, before darktable's own crop and rotation, scaled (bilinear) to
that stage's size. So the matte is written in the file's stored orientation (a RAW's sensor
orientation: the turn LibRaw applied undone; a JPEG's before its EXIF orientation), as a
PFM (32-bit float RGB; the module takes the largest of the channels it is set to read, so grey
is written to all three), named after the photo so the module's file list shows which it is.

PFM, not PNG: darktable 5.4.1 (Debian unstable) cannot read any PNG raster mask, 8 or 16 bits
("can't read raster mask file", and the mask is lost downstream), while it reads PFM
(tests/test_hosts_darktable.py develops a RAW with ``darktable-cli`` through the mask).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = [
    "RASTER_FOLDER_KEY",
    "configured_folder",
    "darktablerc",
    "pfm_bytes",
    "raster_mask_name",
    "stored_orientation",
    "to_stored",
    "write_raster_mask",
]

RASTER_FOLDER_KEY = "plugins/darkroom/segments/def_path"
"""The darktablerc key of the raster masks' root folder (the module's file chooser opens it)."""

_UNDO = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
"""The EXIF orientation that undoes each one (a quarter turn one way, the other way back)."""

_LIBRAW_FLIP_TO_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}
"""LibRaw's ``flip`` as the EXIF orientation it applies (dcraw maps EXIF 1-8 to "50132467")."""


def darktablerc() -> Path:
    """Where darktable keeps its settings: ``$DARKTABLE_CONFIGDIR`` or the XDG config folder."""
    folder = os.environ.get("DARKTABLE_CONFIGDIR")
    if folder:
        return Path(folder) / "darktablerc"
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "darktable" / "darktablerc"


def configured_folder(rc: str | os.PathLike | None = None) -> Path | None:
    """The raster masks' root folder darktable is configured with, None when it has none (no
    darktablerc, no such key, or an empty value)."""
    path = Path(rc) if rc is not None else darktablerc()
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == RASTER_FOLDER_KEY and value.strip():
            return Path(value.strip()).expanduser()
    return None


def raster_mask_name(photo: str | os.PathLike) -> str:
    """The raster mask's file name for ``photo``: its whole name plus ``.pfm``
    (``IMG_0412.CR3.pfm``), so masks of ``a.CR3`` and its ``a.JPG`` twin stay apart."""
    return f"{Path(photo).name}.pfm"


def stored_orientation(path: str | os.PathLike) -> int:
    """The EXIF orientation (1-8) :func:`skyseg_core.io.load_image` applied to ``path``: LibRaw's
    flip for a RAW, else the file's EXIF orientation (1 when it has none or it cannot be read)."""
    from .raw import raw_flip

    flip = raw_flip(path)
    if flip is not None:
        return _LIBRAW_FLIP_TO_ORIENTATION.get(flip, 1)
    from PIL import Image

    try:
        with Image.open(path) as img:
            value = img.getexif().get(0x0112, 1)
    except Exception:  # not a file Pillow opens: nothing was turned
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def to_stored(matte: np.ndarray, orientation: int) -> np.ndarray:
    """A matte of the upright photo turned back to the file's stored orientation."""
    from .io import _orient

    return _orient(matte, _UNDO.get(orientation, 1))


def pfm_bytes(matte: np.ndarray) -> bytes:
    """A grey ``matte`` as a colour PFM: ``PF``, width and height, ``-1.0`` (little-endian),
    then 32-bit floats, R = G = B, rows from the bottom up as the format has them."""
    height, width = matte.shape
    rows = np.repeat(matte.astype("<f4")[::-1, :, None], 3, axis=2)
    return f"PF\n{width} {height}\n-1.0\n".encode("ascii") + np.ascontiguousarray(rows).tobytes()


def write_raster_mask(
    path: str | os.PathLike,
    matte: np.ndarray,
    orientation: int = 1,
    overwrite: bool = False,
    source: str | os.PathLike | None = None,
) -> Path:
    """Write ``matte`` (of the upright photo) where and how darktable's raster masks module
    reads it: turned back to the stored ``orientation``, :func:`pfm_bytes`, 1.0 = sky.

    Atomic, never over ``source``; an existing file only with ``overwrite``.
    """
    from .io import write_bytes_atomic
    from .matte import check_matte

    check_matte(matte)
    data = pfm_bytes(to_stored(matte, orientation))

    def write(fh) -> None:
        fh.write(data)

    return write_bytes_atomic(Path(path), write, overwrite, source=source)
