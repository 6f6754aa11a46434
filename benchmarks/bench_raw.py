"""Camera RAW photos: reading and developing them (LibRaw through rawpy), against loading a
16-bit TIFF of the same developed 12 MP scene, and the real Canon CRW of ../shared/data/raw."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from .harness import ROOT, SIZE_12MP, case, photo

CRW = ROOT.parent / "shared" / "data" / "raw" / "canon_eos_d30.crw"


def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="skyseg-bench-raw-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _dng_12mp() -> Path:
    """A 12 MP Bayer DNG (RGGB, 16 bits, uncompressed) of the sample photo (tests/dngmake.py)."""
    from tests.dngmake import write_dng

    return write_dng(_folder() / "scene.dng", photo(*SIZE_12MP))


@case("raw: load_image of a 12 MP Bayer DNG (decode + develop: camera WB, sRGB, 16 bits)", repeat=3)
def raw_dng_12mp():
    from skyseg_core.io import load_image

    path = _dng_12mp()
    return lambda: load_image(path)


@case("raw: load_image of the same scene developed and saved as a 16-bit TIFF", repeat=3)
def raw_developed_tiff_12mp():
    from skyseg_core.io import load_image, save_image

    developed = load_image(_dng_12mp())
    path = save_image(_folder() / "scene.tif", developed)
    return lambda: load_image(path)


@case("raw: load_image of a real Canon CRW (EOS D30, 3 MP)", repeat=3)
def raw_crw_3mp():
    from skyseg_core.io import load_image

    return lambda: load_image(CRW)
