"""Matte conditioning before compositing: no faint sky painted onto grass, snow or a white wall."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import SkysegError
from ..matte import check_matte
from .params import MIN_SKY_SHARE


class NoSkyError(SkysegError):
    """Too little of the photo is confident sky for the effect to work on.

    ``share`` is the measured share of the frame. The command line reports it per photo, writes
    nothing for it and exits 3 (unless ``--keep-going``).
    """

    exit_code = 3

    def __init__(self, share: float, path: object = None, action: str = "nothing changed"):
        self.share, self.path = share, None if path is None else str(path)
        where = f" in {self.path}" if self.path else ""
        super().__init__(f"no sky found{where} ({share:.2%} of the frame is sky, less than "
                         f"{MIN_SKY_SHARE:.1%}); {action}")


def clean_matte(matte: np.ndarray, cleanup: float) -> np.ndarray:
    """The matte the effects composite with.

    Levels send values at or below ``cleanup`` to 0 and values at or above ``1 - cleanup`` to 1,
    linearly between (the soft edge band stays soft). Then sky is kept only in regions that
    connect to confident sky (a pixel at or above ``1 - cleanup``): a faint patch on grass or a
    wall, away from the sky, goes. ``cleanup = 0`` returns the matte as it is.

    Returns float32 (H, W) in [0, 1]; a pixel whose matte was at or below ``cleanup`` is 0.
    """
    check_matte(matte)
    if cleanup <= 0:
        return matte
    scale = 1.0 / (1.0 - 2.0 * cleanup)
    alpha = cv2.addWeighted(matte, scale, matte, 0.0, -cleanup * scale)  # (m - c) / (1 - 2c), in OpenCV's threads
    cv2.threshold(alpha, 1.0, 1.0, cv2.THRESH_TRUNC, dst=alpha)
    cv2.threshold(alpha, 0.0, 0.0, cv2.THRESH_TOZERO, dst=alpha)
    some = cv2.compare(alpha, 0.0, cv2.CMP_GT)
    count, labels = cv2.connectedComponents(some, connectivity=8, ltype=cv2.CV_32S)
    if count <= 2:  # no sky, or one region (the usual case): kept if it holds confident sky
        if count == 2 and cv2.minMaxLoc(alpha)[1] < 1.0:
            alpha[...] = 0.0
        return alpha
    confident = np.zeros(count, bool)
    confident[labels[cv2.compare(alpha, 1.0, cv2.CMP_GE) > 0]] = True
    confident[0] = True  # the background is 0 already
    if not confident.all():
        alpha[~confident[labels]] = 0.0
    return alpha


def sky_share(alpha: np.ndarray) -> float:
    """Share of the frame that is confident sky (cleaned matte at least 0.5)."""
    return float(np.count_nonzero(alpha >= 0.5)) / max(alpha.size, 1)


def require_sky(alpha: np.ndarray, action: str = "nothing changed") -> None:
    """Raise :class:`NoSkyError` when less than :data:`MIN_SKY_SHARE` of ``alpha`` is sky."""
    share = sky_share(alpha)
    if share < MIN_SKY_SHARE:
        raise NoSkyError(share, action=action)
