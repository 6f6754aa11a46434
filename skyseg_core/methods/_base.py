"""The base class every sky method derives from."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ..matte import as_matte, check_image, check_matte, resize_matte, to_float_rgb


def resize_long_side(image: np.ndarray, long_side: int, enlarge: bool = False) -> np.ndarray:
    """Shrink ``image`` (area interpolation) so its longer side is at most ``long_side``; with
    ``enlarge``, a smaller image is enlarged (bilinear) so its longer side is ``long_side``."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale == 1.0 or (scale > 1.0 and not enlarge):
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(
        image, size, interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    )


class SkyMethod:
    """A registered sky method: stores parameters and calls the algorithm.

    Subclasses set ``name``, ``description`` and either ``algorithm`` (a function
    ``f(image, **params) -> matte``; keyword arguments given to the method are passed on) or
    their own :meth:`predict`. ``predict`` receives a float32 RGB image in [0, 1] already shrunk
    to ``working_size`` (longer side) and returns a matte of the same height and width. Calling
    the method returns a matte at the input's size.
    """

    name: str = ""
    description: str = ""
    working_size: int = 512
    algorithm: Callable[..., np.ndarray] | None = None
    detail_stage: bool = False
    """Whether :func:`skyseg_core.segment` runs the detail stage on this method's coarse matte
    by default (the networks whose output the detail model was trained on)."""

    def __init__(self, **params):
        self.params = params

    @classmethod
    def available(cls) -> bool:
        """Whether the method can run here (its model file is present, for example)."""
        return True

    def predict(self, image: np.ndarray) -> np.ndarray:
        if self.algorithm is None:  # pragma: no cover - a subclass without either
            raise NotImplementedError(f"{type(self).__name__} sets neither algorithm nor predict")
        return self.algorithm(image, **self.params)

    def coarse(self, image: np.ndarray) -> np.ndarray:
        """The method's matte at its working size (for refinement to upsample)."""
        check_image(image)
        # shrink first (in the stored dtype), then convert: a 12 MP photo never becomes float32
        small = to_float_rgb(resize_long_side(image, self.working_size))
        matte = as_matte(self.predict(small))
        return check_matte(matte, small.shape[:2])

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Raw matte at the input's full size: float32 (H, W) in [0, 1], 1 = sky."""
        return resize_matte(self.coarse(image), image.shape[:2])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
