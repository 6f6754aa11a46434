"""The one entry point from a photo to a sky matte."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .matte import check_image, check_matte
from .methods import get_method
from .refine import refine as refine_matte


def segment(
    image: np.ndarray,
    method: str = "auto",
    refine: bool = True,
    progress: Callable[[float, str], None] | None = None,
    **refine_params,
) -> np.ndarray:
    """Find the sky in a photo.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8, uint16 or float in [0, 1]
        RGB photo, as returned by :func:`skyseg_core.load_image`.
    method : str
        A name from :func:`skyseg_core.list_methods`; ``"auto"`` is the best shipped method.
    refine : bool
        Refine the method's matte so its edges follow the photo (see :func:`skyseg_core.refine`);
        ``False`` gives the method's raw output, upsampled.
    progress : callable, optional
        ``progress(fraction, message)`` before each stage (for a progress bar or status line).
    **refine_params
        Passed to :func:`skyseg_core.refine`.

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
        1 = sky.
    """
    check_image(image)
    report = progress or (lambda fraction, message: None)
    report(0.0, "Loading the method")
    sky_method = get_method(method)
    report(0.1, f"Finding the sky ({sky_method.name})")
    if not refine:
        matte = sky_method(image)
    else:
        coarse = sky_method.coarse(image)
        report(0.6, "Refining the edges")
        matte = refine_matte(image, coarse, **refine_params)
    report(1.0, "")
    return check_matte(matte, image.shape[:2])
