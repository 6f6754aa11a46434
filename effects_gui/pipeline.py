"""The editor's render and export jobs: the core pipeline (:mod:`skyseg_core.pipeline`) on the
preview or the full photo.

Nothing here implements a step: the effect chain comes from the edit
(:meth:`~effects_gui.model.EditState.steps`), :func:`skyseg_core.pipeline.render` applies it
(result, and layers on request) with the editor's own skies (preview-sized while editing, full
size on export), and the exports (result, layers, matte, cut-out) are written by
:func:`skyseg_core.pipeline.write_rendered`, as every command's files are.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def no_sky_message(steps: Sequence) -> str:
    """What the editor says when the chain's first effect found no sky to work on."""
    from skyseg_core.pipeline import nothing_done

    return f"No sky found in this photo; {nothing_done(steps)}"


def render_preview(job, proxy, matte, steps, skies):
    """``(result, QImage, None)``, or ``(None, None, message)`` when there is no sky to work on."""
    from skyseg_core.effects import NoSkyError
    from skyseg_core.pipeline import render

    from .qimage import rgb_to_qimage

    try:
        result = render(proxy, matte, steps, skies=skies.__getitem__).image
    except NoSkyError:
        return None, None, no_sky_message(steps)
    job.report(90, "")
    return result, rgb_to_qimage(result), None  # the QImage is made here, off the GUI thread


def _full_matte(job, image, base_matte, strokes, close_gaps: float = 0.0):
    """The edited matte at full size; says what it does (nothing when there is nothing to do)."""
    from . import brush

    if close_gaps > 0:
        job.report(5, "Closing the gaps at full size")
    elif strokes:
        job.report(5, "Applying the brush strokes at full size")
    else:
        return base_matte
    return brush.edited_matte(image, base_matte, strokes, close_gaps)


def _write(job, role: str, path: Path, image, base_matte, strokes, steps=(), skies=None, **kw):
    """The edit at full size written by :func:`skyseg_core.pipeline.write_rendered`, the
    writer every command uses: ``role`` is its output (``"output"``, ``"layers"`` or
    ``"matte"``); ``metadata``, ``quality`` and ``source`` as the command line gives them,
    ``close_gaps`` the edit's."""
    from skyseg_core.depth import convert_depth
    from skyseg_core.effects import NoSkyError
    from skyseg_core.errors import SkysegError
    from skyseg_core.pipeline import Photo, write_rendered

    path = Path(path)
    matte = _full_matte(job, image, base_matte, strokes, kw.get("close_gaps", 0.0))
    if role == "output" and path.suffix.lower() in (".tif", ".tiff") and image.dtype == np.uint8:
        image = convert_depth(image, np.uint16)  # blend at 16 bits, not 8 padded
    source = kw.get("source")
    photo = Photo(Path(source) if source else path, image, matte, "editor", kw.get("metadata"))
    try:
        write_rendered(
            photo,
            steps,
            {role: path},
            overwrite=True,
            skies=skies.__getitem__ if skies is not None else None,
            quality=kw.get("quality"),
            progress=lambda fraction, message: job.report(
                20 + round(79 * fraction), f"{message} at full size" if fraction == 0 else message
            ),
        )
    except NoSkyError:
        raise SkysegError(no_sky_message(steps)) from None
    return path


def export_result(
    job, path: Path, image, base_matte, strokes, steps, skies, metadata=None, quality=None,
    source=None, close_gaps=0.0,
):  # fmt: skip
    """The result at full size: the photo's EXIF, XMP and ICC profile kept (the skies brought
    into its profile), JPEG/WebP at ``quality``; TIFF blended at 16 bits."""
    return _write(
        job, "output", path, image, base_matte, strokes, steps, skies,
        metadata=metadata, quality=quality, source=source, close_gaps=close_gaps,
    )  # fmt: skip


def export_matte(job, path: Path, image, base_matte, strokes, close_gaps=0.0):
    """The edited matte at full size (PNG, white = sky)."""
    return _write(job, "matte", path, image, base_matte, strokes, close_gaps=close_gaps)


def export_layers(
    job, path: Path, image, base_matte, strokes, steps, skies, metadata=None, close_gaps=0.0
):
    """The layered file (.ora or .psd by suffix): photo, each effect's layers, hidden matte; the
    skies brought into the photo's profile, as in the flat export (a PSD carries the profile)."""
    return _write(
        job, "layers", path, image, base_matte, strokes, steps, skies,
        metadata=metadata, close_gaps=close_gaps,
    )  # fmt: skip


def export_cutout(
    job, path: Path, image, base_matte, strokes, steps, skies, metadata=None, source=None,
    close_gaps=0.0, cutout=None,
):  # fmt: skip
    """The photo at full size with its sky transparent (RGBA .png, .tif or .webp): the edit's
    effects applied as in the result, then ``cutout`` (the registered cut-out step's parameters)
    as the chain's last step, so the foreground is what the result shows and the sky is gone;
    the photo's EXIF, XMP and ICC profile kept; TIFF at 16 bits as the result's."""
    return _write(
        job, "output", path, image, base_matte, strokes, [*steps, cutout], skies,
        metadata=metadata, source=source, close_gaps=close_gaps,
    )  # fmt: skip


def apply_to_series(
    job, photos, folder: Path, method: str, steps, skies, close_gaps=0.0, quality=None
):  # fmt: skip
    """The edit's effects on a series of photos, as one batch (:func:`skyseg_core.batch.outcomes`,
    in this process): each photo's sky found by ``method`` (gaps closed by ``close_gaps``), the
    chain rendered with the edit's skies, each placed by that photo's own horizon, and written
    as ``folder/<stem>_sky.jpg`` with its metadata. A photo that fails costs itself only.
    Returns ``(paths written, error lines)``."""
    from skyseg_core.batch import outcomes
    from skyseg_core.outputs import Job as BatchJob
    from skyseg_core.outputs import plan_outputs
    from skyseg_core.pipeline import MatteSource, load_photo, write_rendered

    planned = plan_outputs(
        [BatchJob(Path(p), {"output": Path(folder) / f"{Path(p).stem}_sky.jpg"}) for p in photos]
    )
    total, done = len(planned), [0]

    def process(one) -> dict:
        job.report(round(100 * done[0] / total), f"Photo {done[0] + 1} of {total}")
        photo = load_photo(one.source, MatteSource(method=method), outputs=one.outputs.values())
        if close_gaps > 0:
            from skyseg_core.detail import close_gaps as close

            photo.matte = close(photo.image, photo.matte, close_gaps)
        # a photo without sky raises NoSkyError naming it: one line, the rest go on
        return write_rendered(photo, steps, one.outputs, skies=skies.__getitem__, quality=quality)

    def finished() -> None:
        done[0] += 1
        job.report(round(100 * done[0] / total), f"{done[0]} of {total} photos done")

    written, errors = [], []
    for one, outcome in zip(planned, outcomes(planned, process, finished=finished), strict=True):
        if outcome.ok:
            written.append(one.outputs["output"])
        errors += outcome.lines
    return written, errors
