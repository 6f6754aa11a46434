"""The editor's render and export jobs: the core pipeline (:mod:`skyseg_core.pipeline`) on the
preview or the full photo.

Nothing here implements a step: the effect chain comes from the edit
(:meth:`~effects_gui.model.EditState.steps`), :func:`skyseg_core.pipeline.render` applies it
(result, and layers on request) with the editor's own skies (preview-sized while editing, full
size on export), and the files are written by :mod:`skyseg_core.io` and
:mod:`skyseg_core.layered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def no_sky_message(steps: Sequence) -> str:
    """What the editor says when the chain's first effect found no sky to work on."""
    from skyseg_core.pipeline import nothing_done

    return f"No sky found in this photo; {nothing_done(steps)}"


def render(
    image: np.ndarray,
    matte: np.ndarray,
    steps: Sequence,
    skies: dict,
    layers: bool = False,
    icc: bytes = b"",
):
    """:func:`skyseg_core.pipeline.render` with the skies the editor loaded (source -> image),
    brought into the colour space of ``icc`` (the photo's profile) when given."""
    from skyseg_core.pipeline import render as core_render
    from skyseg_core.pipeline import skies_in_profile

    return core_render(
        image, matte, steps, skies=skies_in_profile(skies.__getitem__, icc), layers=layers
    )


def render_preview(job, proxy, matte, steps, skies):
    """``(result, QImage, None)``, or ``(None, None, message)`` when there is no sky to work on."""
    from skyseg_core.effects import NoSkyError

    from .qimage import rgb_to_qimage

    try:
        result = render(proxy, matte, steps, skies).image
    except NoSkyError:
        return None, None, no_sky_message(steps)
    job.report(90, "")
    return result, rgb_to_qimage(result), None  # the QImage is made here, off the GUI thread


def _full_matte(job, image, base_matte, strokes):
    from . import brush

    job.report(5, "Applying the brush strokes at full size")
    return brush.replay(base_matte, image, strokes, 1.0)


def _rendered(job, image, matte, steps, skies, layers: bool = False, icc: bytes = b""):
    from skyseg_core.effects import NoSkyError
    from skyseg_core.errors import SkysegError

    job.report(30, "Rendering the layers at full size" if layers else "Rendering at full size")
    try:
        return render(image, matte, steps, skies, layers=layers, icc=icc)
    except NoSkyError:
        raise SkysegError(no_sky_message(steps)) from None


def export_result(
    job,
    path: Path,
    image,
    base_matte,
    strokes,
    steps,
    skies,
    metadata=None,
    quality=None,
    source=None,
):
    """The result at full size by :func:`skyseg_core.pipeline.write_rendered`: the photo's EXIF,
    XMP and ICC profile kept (the skies brought into its profile), JPEG/WebP at ``quality``."""
    from skyseg_core.effects import NoSkyError
    from skyseg_core.errors import SkysegError
    from skyseg_core.pipeline import Photo, write_rendered

    path = Path(path)
    matte = _full_matte(job, image, base_matte, strokes)
    if path.suffix.lower() in (".tif", ".tiff") and image.dtype == np.uint8:
        image = image.astype(np.uint16) * np.uint16(257)  # blend at 16 bits, not 8 padded
    job.report(30, "Rendering at full size")
    photo = Photo(Path(source) if source else path, image, matte, "editor", metadata)
    try:
        write_rendered(
            photo, steps, {"output": path}, overwrite=True, skies=skies.__getitem__, quality=quality
        )
    except NoSkyError:
        raise SkysegError(no_sky_message(steps)) from None
    return path


def export_matte(job, path: Path, image, base_matte, strokes):
    from skyseg_core.io import save_matte

    matte = _full_matte(job, image, base_matte, strokes)
    job.report(80, f"Writing {Path(path).name}")
    return save_matte(path, matte, overwrite=True)


def export_layers(job, path: Path, image, base_matte, strokes, steps, skies, metadata=None):
    """The layered file (.ora or .psd by suffix): photo, each effect's layers, hidden matte; the
    skies brought into the photo's profile, as in the flat export (a PSD carries the profile)."""
    from skyseg_core.layered import write_layers

    path = Path(path)
    icc = getattr(metadata, "icc_profile", b"") or b""
    matte = _full_matte(job, image, base_matte, strokes)
    rendered = _rendered(job, image, matte, steps, skies, layers=True, icc=icc)
    job.report(70, f"Writing {path.name}")
    return write_layers(
        path,
        rendered.layers,
        (image.shape[1], image.shape[0]),
        overwrite=True,
        merged=rendered.image,
        icc_profile=icc,
    )
