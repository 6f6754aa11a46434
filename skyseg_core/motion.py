"""The camera's motion between two frames: feature tracks and RANSAC (OpenCV).

Corners are found in the earlier frame (optionally only where ``mask`` allows: the ground near
the horizon, never the sky's clouds, which drift on their own), tracked into the later frame
with pyramidal Lucas-Kanade, checked by tracking back, and a model is fitted with RANSAC: a
similarity (pan, tilt, roll, zoom; what a camera turning on a tripod or a drone's slow move
gives) or a homography. Tracks on moving foreground (a car, a walker) are outliers.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Motion:
    """A 3x3 matrix that maps points of the earlier frame to the later one, and its support."""

    matrix: np.ndarray
    inliers: int
    tracks: int

    @property
    def found(self) -> bool:
        return self.inliers > 0


IDENTITY = Motion(np.eye(3), 0, 0)


def scaled(matrix: np.ndarray, factor: float) -> np.ndarray:
    """``matrix``, found between copies ``factor`` times the frames' size (``small / full``),
    as a matrix between the frames themselves (pixel centres kept)."""
    f = float(factor)
    to_small = np.array([[f, 0, 0.5 * f - 0.5], [0, f, 0.5 * f - 0.5], [0, 0, 1.0]])
    return np.linalg.inv(to_small) @ matrix @ to_small


def estimate_motion(
    earlier: np.ndarray,
    later: np.ndarray,
    mask: np.ndarray | None = None,
    model: str = "similarity",
    max_corners: int = 400,
    min_inliers: int = 8,
    ransac_px: float = 1.0,
    still_px: float = 0.2,
) -> Motion:
    """The motion from ``earlier`` to ``later`` (8-bit grey, same size).

    Parameters
    ----------
    mask : ndarray of bool, optional
        Where corners may be taken in ``earlier``; when it gives fewer than ``min_inliers``
        tracks, the whole frame is used.
    model : {"similarity", "homography"}
        What is fitted.
    min_inliers : int
        Fewer RANSAC inliers than this: no motion found (:data:`IDENTITY` with ``inliers`` 0).
    ransac_px : float
        RANSAC's reprojection threshold in pixels.
    still_px : float
        A fitted motion that moves no corner of the frame by more than this is taken as a still
        camera (the identity), so sub-pixel noise never accumulates into a drift.

    Returns
    -------
    Motion
    """
    h, w = earlier.shape
    for use in (mask, None) if mask is not None else (None,):
        m8 = None if use is None else use.astype(np.uint8) * 255
        points = cv2.goodFeaturesToTrack(
            earlier, max_corners, 0.01, max(3.0, min(h, w) / 40), mask=m8, blockSize=5
        )
        if points is not None and len(points) >= min_inliers:
            break
    else:
        return IDENTITY
    if points is None or len(points) < min_inliers:
        return IDENTITY
    ahead, ok, _ = cv2.calcOpticalFlowPyrLK(
        earlier, later, points, None, winSize=(21, 21), maxLevel=3
    )
    back, ok_back, _ = cv2.calcOpticalFlowPyrLK(
        later, earlier, ahead, None, winSize=(21, 21), maxLevel=3
    )
    good = (ok.ravel() == 1) & (ok_back.ravel() == 1)
    good &= np.linalg.norm((back - points).reshape(-1, 2), axis=1) < 0.5
    src, dst = points.reshape(-1, 2)[good], ahead.reshape(-1, 2)[good]
    if len(src) < min_inliers:
        return Motion(np.eye(3), 0, int(len(src)))
    if model == "homography":
        matrix, inl = cv2.findHomography(src, dst, cv2.RANSAC, ransac_px)
    else:
        affine, inl = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=ransac_px, refineIters=20
        )
        matrix = None if affine is None else np.vstack([affine, [0.0, 0.0, 1.0]])
    inliers = 0 if inl is None else int(inl.sum())
    if matrix is None or inliers < min_inliers:
        return Motion(np.eye(3), 0, int(len(src)))
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], float).T
    moved = matrix @ corners
    moved = moved[:2] / moved[2]
    if np.abs(moved - corners[:2]).max() <= still_px:
        matrix = np.eye(3)
    return Motion(matrix, inliers, int(len(src)))


__all__ = ["IDENTITY", "Motion", "estimate_motion", "scaled"]
