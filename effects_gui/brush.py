"""Matte brushes: paint sky in or out, optionally snapping to the photo's edges.

Pure numpy/OpenCV, so the same stroke is applied to the screen-sized preview matte while the
user paints and replayed on the full-resolution matte at export. A stroke is stored in
full-image pixel coordinates; ``scale`` maps it onto a matte of another size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from skyseg_core.matte import as_matte, check_matte
from skyseg_core.refine import refine


@dataclass(frozen=True)
class Stroke:
    """One brush stroke.

    Attributes
    ----------
    points : tuple of (x, y)
        The path, in full-image pixel coordinates.
    radius : float
        Brush radius in full-image pixels.
    hardness : float
        0..1: the fraction of the radius painted at full strength; the rest fades out.
    add : bool
        True paints sky in, False paints it out.
    edge_aware : bool
        Re-run the edge-aware refinement under the stroke, so the painted band takes its
        shape from the photo's edges (one rough stroke along a tree line follows it).
    """

    points: tuple[tuple[float, float], ...]
    radius: float
    hardness: float = 0.5
    add: bool = True
    edge_aware: bool = False


@dataclass
class Patch:
    """The rectangle of a matte a stroke changed, with its values before and after."""

    y0: int
    x0: int
    before: np.ndarray
    after: np.ndarray

    def restore(self, matte: np.ndarray, after: bool) -> None:
        values = self.after if after else self.before
        matte[self.y0 : self.y0 + values.shape[0], self.x0 : self.x0 + values.shape[1]] = values


def footprint(
    shape: tuple[int, int], points: np.ndarray, radius: float, hardness: float, margin: float = 0.0
) -> tuple[int, int, np.ndarray] | None:
    """The brush's coverage (float32 in [0, 1]) in the stroke's bounding box plus ``margin``.

    Returns ``(y0, x0, alpha)`` or ``None`` when the stroke misses the matte.
    """
    height, width = shape
    reach = radius + margin + 2
    x0 = max(0, int(np.floor(points[:, 0].min() - reach)))
    y0 = max(0, int(np.floor(points[:, 1].min() - reach)))
    x1 = min(width, int(np.ceil(points[:, 0].max() + reach)) + 1)
    y1 = min(height, int(np.ceil(points[:, 1].max() + reach)) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    centre = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    local = np.round((points - (x0, y0)) * 16).astype(np.int32)  # 4 bits of sub-pixel precision
    if len(local) == 1:
        cv2.circle(centre, tuple(int(v) for v in local[0]), 0, 0, 1, cv2.LINE_8, shift=4)
    else:
        cv2.polylines(centre, [local.reshape(-1, 1, 2)], False, 0, 1, cv2.LINE_8, shift=4)
    distance = cv2.distanceTransform(centre, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    inner = radius * float(np.clip(hardness, 0.0, 1.0))
    alpha = np.clip((radius - distance) / max(radius - inner, 1.0), 0.0, 1.0)
    alpha = alpha * alpha * (3.0 - 2.0 * alpha)  # smoothstep: no visible ring at the fade's ends
    return y0, x0, alpha.astype(np.float32)


def apply_stroke(
    matte: np.ndarray, image: np.ndarray, stroke: Stroke, scale: float = 1.0
) -> Patch | None:
    """Paint ``stroke`` into ``matte`` in place and return the changed patch (for undo).

    Parameters
    ----------
    matte : ndarray, shape (H, W), float32 in [0, 1]
        Modified in place.
    image : ndarray, shape (H, W, 3)
        The photo at the matte's size; the guide of the edge-aware mode.
    stroke : Stroke
        In full-image coordinates.
    scale : float
        Size of ``matte`` relative to the full image (the preview's scale).
    """
    check_matte(matte)
    points = np.asarray(stroke.points, np.float64).reshape(-1, 2) * scale
    radius = max(0.75, stroke.radius * scale)
    margin = 2.5 * radius if stroke.edge_aware else 0.0
    found = footprint(matte.shape, points, radius, stroke.hardness, margin)
    if found is None:
        return None
    y0, x0, alpha = found
    h, w = alpha.shape
    before = matte[y0 : y0 + h, x0 : x0 + w].copy()
    if stroke.edge_aware and min(h, w) >= 3:
        # The painted band becomes "unknown" (0.5, zero confidence); the confidence-weighted
        # guided filter fills it from the sure pixels around it along the photo's edges.
        unknown = before * (1.0 - alpha) + 0.5 * alpha
        guide = image[y0 : y0 + h, x0 : x0 + w]
        filled = refine(
            guide,
            as_matte(unknown),
            radius=2.5 * radius / max(h, w),
            eps=1e-4,
            working_size=max(h, w),
        )
        target = np.maximum(before, filled) if stroke.add else np.minimum(before, filled)
    else:
        target = np.ones_like(before) if stroke.add else np.zeros_like(before)
    after = as_matte(before + alpha * (target - before))
    matte[y0 : y0 + h, x0 : x0 + w] = after
    return Patch(y0, x0, before, after)


def replay(matte: np.ndarray, image: np.ndarray, strokes, scale: float = 1.0) -> np.ndarray:
    """Apply ``strokes`` in order to a copy of ``matte`` (the export path)."""
    out = matte.copy()
    for stroke in strokes:
        apply_stroke(out, image, stroke, scale)
    return out
