"""Matte conditioning before compositing: no faint sky painted onto grass, snow or a white wall."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..errors import EXIT_NO_SKY, SkysegError
from ..matte import check_matte

MIN_SKY_SHARE = 0.002
"""Share of the frame that must be confident sky (cleaned matte >= 0.5) for replace and tint to
run; below it the photo has no sky to work on and :class:`NoSkyError` is raised."""


class NoSkyError(SkysegError):
    """Too little of the photo is confident sky for the effect to work on.

    ``share`` is the measured share of the frame. The command line reports it per photo, writes
    nothing for it and exits 3 (unless ``--keep-going``).
    """

    exit_code = EXIT_NO_SKY

    def __init__(self, share: float, path: object = None, action: str = "nothing changed"):
        self.share, self.path = share, None if path is None else str(path)
        where = f" in {self.path}" if self.path else ""
        super().__init__(
            f"no sky found{where} ({share:.2%} of the frame is sky, less than "
            f"{MIN_SKY_SHARE:.1%}); {action}"
        )


CONNECTIVITY_SIZE = 1024
"""Longer side (at most) at which :func:`clean_matte` decides which regions connect to sky."""


def _pad_to(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` padded with zeros to a multiple of ``k`` in both directions."""
    h, w = mask.shape
    return cv2.copyMakeBorder(mask, 0, (-h) % k, 0, (-w) % k, cv2.BORDER_CONSTANT, value=0)


def clean_matte(matte: np.ndarray, cleanup: float) -> np.ndarray:
    """The matte the effects composite with.

    Levels send values at or below ``cleanup`` to 0 and values at or above ``1 - cleanup`` to 1,
    linearly between (the soft edge band stays soft). Then sky is kept only in regions that
    connect to confident sky (a pixel at or above ``1 - cleanup``): a faint patch on grass or a
    wall, away from the sky, goes. For mattes larger than :data:`CONNECTIVITY_SIZE` the
    connection is decided on blocks, so a patch within a block or so of confident sky is kept.
    ``cleanup = 0`` returns the matte as it is.

    Returns float32 (H, W) in [0, 1]; a pixel whose matte was at or below ``cleanup`` is 0.
    """
    check_matte(matte)
    if cleanup <= 0:
        return matte
    scale = 1.0 / (1.0 - 2.0 * cleanup)
    alpha = cv2.addWeighted(
        matte, scale, matte, 0.0, -cleanup * scale
    )  # (m - c) / (1 - 2c), in OpenCV's threads
    cv2.threshold(alpha, 1.0, 1.0, cv2.THRESH_TRUNC, dst=alpha)
    cv2.threshold(alpha, 0.0, 0.0, cv2.THRESH_TOZERO, dst=alpha)
    some = cv2.compare(alpha, 0.0, cv2.CMP_GT)
    sure = cv2.compare(alpha, 1.0, cv2.CMP_GE)
    # Connectivity on blocks of k x k pixels (any sky in a block marks it), so a 12 MP matte
    # is labelled at about 1 MP; a faint island is dropped only if it is a whole block away
    # from confident sky, which keeps the decision on the safe side.
    k = max(1, math.ceil(max(alpha.shape) / CONNECTIVITY_SIZE))
    if k > 1:
        small = (
            alpha.shape[1] // k + (alpha.shape[1] % k > 0),
            alpha.shape[0] // k + (alpha.shape[0] % k > 0),
        )
        some_small = cv2.resize(_pad_to(some, k), small, interpolation=cv2.INTER_AREA)
        sure_small = cv2.resize(_pad_to(sure, k), small, interpolation=cv2.INTER_AREA)
    else:
        some_small, sure_small = some, sure
    count, labels = cv2.connectedComponents(
        cv2.compare(some_small, 0, cv2.CMP_GT), connectivity=8, ltype=cv2.CV_32S
    )
    if count <= 2:  # no sky, or one region (the usual case): kept if it holds confident sky
        if count == 2 and not cv2.countNonZero(sure):
            alpha[...] = 0.0
        return alpha
    confident = np.zeros(count, bool)
    confident[labels[sure_small > 0]] = True
    confident[0] = False  # the background is 0 already; kept regions grow into it below
    if confident[1:].all():
        return alpha
    keep = confident[labels].view(np.uint8)
    if k > 1:
        keep = cv2.dilate(keep, np.ones((3, 3), np.uint8))  # block edges: keep rather than cut
        keep = cv2.resize(
            keep, (keep.shape[1] * k, keep.shape[0] * k), interpolation=cv2.INTER_NEAREST
        )
        keep = np.ascontiguousarray(keep[: alpha.shape[0], : alpha.shape[1]])
    alpha[keep == 0] = 0.0
    return alpha


def sky_share(alpha: np.ndarray) -> float:
    """Share of the frame that is confident sky (cleaned matte at least 0.5)."""
    return float(np.count_nonzero(alpha >= 0.5)) / max(alpha.size, 1)


def require_sky(alpha: np.ndarray, action: str = "nothing changed") -> None:
    """Raise :class:`NoSkyError` when less than :data:`MIN_SKY_SHARE` of ``alpha`` is sky."""
    share = sky_share(alpha)
    if share < MIN_SKY_SHARE:
        raise NoSkyError(share, action=action)
