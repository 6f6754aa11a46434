"""The one entry point from a photo to a sky matte."""

from __future__ import annotations

import numpy as np

from .matte import check_image, check_matte
from .methods import get_method
from .refine import refine as refine_matte


def segment(image: np.ndarray, method: str = "auto", refine: bool = True, **refine_params) -> np.ndarray:
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
    **refine_params
        Passed to :func:`skyseg_core.refine`.

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
        1 = sky.
    """
    check_image(image)
    sky_method = get_method(method)
    if not refine:
        return check_matte(sky_method(image), image.shape[:2])
    return check_matte(refine_matte(image, sky_method.coarse(image), **refine_params), image.shape[:2])
