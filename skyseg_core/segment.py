"""The one entry point from a photo to a sky matte."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .detail import DetailModel, detail_image, detail_matte, shipped_detail_model
from .errors import ModelFileError
from .matte import check_image, check_matte
from .methods import get_method
from .refine import refine as refine_matte


def segment(
    image: np.ndarray,
    method: str = "auto",
    refine: bool = True,
    progress: Callable[[float, str], None] | None = None,
    detail: bool | None = None,
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
    detail : bool, optional
        Run the detail stage (:mod:`skyseg_core.detail`: each pixel near and inside the sky
        decided from the photo, gaps in foliage included) before refinement. ``None`` (the
        default) runs it for the methods whose output it was trained on (``detail_stage``) when
        the model file is there; ``True`` asks for it with any method (an error if the model is
        missing). Only with ``refine``.
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
        model = _detail_model(detail, sky_method.detail_stage)
        if model is None:
            coarse = sky_method.coarse(image)
        else:
            # the detail stage's copy of the photo is shrunk on another core while the network
            # runs (OpenCV's area shrink by a fractional factor uses one core)
            with ThreadPoolExecutor(1) as pool:
                small = pool.submit(detail_image, image, model)
                coarse = sky_method.coarse(image)
                report(0.5, "Finding the sky's detail")
                coarse = detail_matte(image, coarse, model, small.result())
            refine_params.setdefault("working_size", model.working_size)
        if model is not None and coarse.shape == image.shape[:2]:
            matte = coarse  # decided at full size already: a guided filter would only blur it
        else:
            report(0.6, "Refining the edges")
            matte = refine_matte(image, coarse, **refine_params)
    report(1.0, "")
    return check_matte(matte, image.shape[:2])


def _detail_model(asked: bool | None, method_default: bool) -> DetailModel | None:
    if asked is False or (asked is None and not method_default):
        return None
    model = shipped_detail_model()
    if model is None and asked:
        raise ModelFileError("the detail stage's model file (sky_detail.onnx) is missing")
    return model
