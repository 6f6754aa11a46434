"""From photo, matte and edit settings to the result, the same at preview and full size.

The editor only chains the effects API (:mod:`._effects`); it implements no effect itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _effects


def _tint_kwargs(tint) -> dict:
    stops = tuple((float(p), "#{:02x}{:02x}{:02x}".format(*rgb)) for p, rgb in tint.stops)
    return {"stops": stops, "angle": float(tint.angle), "mode": tint.mode, "strength": float(tint.strength)}


def _relight_target(relight, sky):
    return sky if (relight.use_sky and sky is not None) else float(relight.kelvin)


def render(image: np.ndarray, matte: np.ndarray, sky: np.ndarray | None, edit) -> np.ndarray:
    """Apply the replacement sky, the tint and the relight of ``edit`` (an ``EditState``).

    Returns an image of ``image``'s shape and dtype; ``image`` itself when nothing is on.
    """
    out = image
    if sky is not None:
        out = _effects.replace_sky(out, matte, sky, **edit.sky_params)
    if edit.tint.enabled and len(edit.tint.stops) >= 2:
        out = _effects.tint_sky(out, matte, **_tint_kwargs(edit.tint))
    if edit.relight.enabled:
        out = _effects.relight(out, matte, _relight_target(edit.relight, sky),
                               strength=float(edit.relight.strength))
    return out


def render_layers(image: np.ndarray, matte: np.ndarray, sky: np.ndarray | None, edit):
    """:func:`render`, also as OpenRaster layers (bottom to top): the original photo, the
    replacement's layers (adjusted foreground, edge light, new sky with the matte as alpha),
    the tint, the relight, and the matte (hidden). Returns ``(result, layers)``."""
    from skyseg_core.io import matte_to_uint8

    out = image
    stack = [_effects.ora_layer("original photo", image)]
    if sky is not None:
        out, layers = _effects.replace_sky_layers(out, matte, sky, **edit.sky_params)
        stack += layers[1:-1]  # without the photo (already there) and the hidden matte (added last)
    if edit.tint.enabled and len(edit.tint.stops) >= 2:
        out, layers = _effects.tint_sky_layers(out, matte, **_tint_kwargs(edit.tint))
        stack += layers[1:-1]
    if edit.relight.enabled:
        out, layers = _effects.relight_layers(out, matte, _relight_target(edit.relight, sky),
                                              strength=float(edit.relight.strength))
        stack += layers[1:-1]
    grey = matte_to_uint8(matte)
    if image.dtype == np.uint16:
        grey = grey.astype(np.uint16) * np.uint16(257)
    stack.append(_effects.ora_layer("sky matte", np.repeat(grey[..., None], 3, axis=2), visible=False))
    return out, stack


def render_preview(job, proxy, matte, sky_preview, edit):
    from .qimage import rgb_to_qimage

    result = render(proxy, matte, sky_preview, edit)
    job.report(90, "")
    return result, rgb_to_qimage(result)  # the QImage is made here, off the GUI thread


def _full_matte_and_result(job, image, base_matte, strokes, sky_full, edit, sixteen_bit: bool):
    from . import brush

    job.report(5, "Applying the brush strokes at full size")
    matte = brush.replay(base_matte, image, strokes, 1.0)
    if sixteen_bit and image.dtype == np.uint8:
        image = image.astype(np.uint16) * np.uint16(257)  # blend at 16 bits, not 8 padded
    job.report(30, "Rendering at full size")
    return matte, render(image, matte, sky_full, edit)


def export_result(job, path: Path, image, base_matte, strokes, sky_full, edit):
    from skyseg_core.io import save_image

    path = Path(path)
    sixteen = path.suffix.lower() in (".tif", ".tiff")
    _, result = _full_matte_and_result(job, image, base_matte, strokes, sky_full, edit, sixteen)
    job.report(85, f"Writing {path.name}")
    return save_image(path, result, overwrite=True)


def export_matte(job, path: Path, image, base_matte, strokes):
    from skyseg_core.io import save_matte

    from . import brush

    job.report(10, "Applying the brush strokes at full size")
    matte = brush.replay(base_matte, image, strokes, 1.0)
    job.report(80, f"Writing {Path(path).name}")
    return save_matte(path, matte, overwrite=True)


def export_layers(job, path: Path, image, base_matte, strokes, sky_full, edit):
    """The layered OpenRaster file: photo, new sky masked by the matte, adjustments, matte."""
    from . import brush

    path = Path(path)
    job.report(5, "Applying the brush strokes at full size")
    matte = brush.replay(base_matte, image, strokes, 1.0)
    job.report(30, "Rendering the layers at full size")
    result, layers = render_layers(image, matte, sky_full, edit)
    job.report(70, f"Writing {path.name}")
    _effects.write_ora(path, layers, (image.shape[1], image.shape[0]), overwrite=True, merged=result)
    return path
