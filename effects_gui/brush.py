"""Matte brushes: paint sky in or out, optionally following the photo's edges.

With *follow edges*, an add-sky stroke asks the detail stage (:mod:`skyseg_core.detail`) about
every pixel under it: the stroke's own probability is set to undecided, so the local sky and
foreground colour models come from the sure pixels around it, and each pixel is raised to the
alpha the classifier gives it. Over a canopy the sky-coloured gaps become sky and the leaves
stay. A remove stroke lowers the matte by the stroke's strength wherever it goes.

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

DETAIL_MARGIN = 4.0
"""Context around an edge-aware add stroke, in brush radii: the sure sky and foreground the
detail stage builds its local colour models from."""

DETAIL_LONG_SIDE = 2048
"""The detail decision is made with the photo at most this size (the editor's preview size),
so the preview and the full-resolution export decide alike; the export carries the decision
to its own resolution along the photo's edges."""

DETAIL_CROP = 1024
"""Longest side of the crop the detail stage looks at (a huge brush is looked at smaller)."""

DETAIL_SCALE = 50.0
"""The detail stage's radii are fractions of a photo's longer side; under a brush they are
fractions of at least this many brush radii (the near colour model then reaches 1.5 radii, the
far one 6), so the middle of a wide stroke still sees the sky beside it."""

DETAIL_PASSES = 2
"""Passes of the detail stage: after each, the stroke's pixels it is sure are sky feed the
sky colour model of the next (a wide stroke fills from its edges inward)."""


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
        Follow the photo: an add stroke raises each pixel to the detail stage's alpha (gaps in
        foliage become sky, the leaves stay; one rough stroke along a tree line follows it).
        Without the detail model, the edge-aware refinement is re-run under the stroke.
    flow : float
        0..1: the strength; each stroke moves the matte this far toward its target.
    """

    points: tuple[tuple[float, float], ...]
    radius: float
    hardness: float = 0.5
    add: bool = True
    edge_aware: bool = False
    flow: float = 1.0


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
    model = _detail_model() if stroke.edge_aware and stroke.add else None
    if not stroke.edge_aware or not stroke.add:
        margin = 0.0
    elif model is not None:
        margin = DETAIL_MARGIN * radius
    else:
        margin = 2.5 * radius
    found = footprint(matte.shape, points, radius, stroke.hardness, margin)
    if found is None:
        return None
    y0, x0, alpha = found
    h, w = alpha.shape
    before = matte[y0 : y0 + h, x0 : x0 + w].copy()
    guide = image[y0 : y0 + h, x0 : x0 + w]
    if not stroke.add:
        target = np.zeros_like(before)
    elif not stroke.edge_aware or min(h, w) < 3:
        target = np.ones_like(before)
    elif model is not None:
        full_long = max(matte.shape) / max(scale, 1e-9)
        work = min(1.0, DETAIL_LONG_SIDE / (full_long * scale), DETAIL_CROP / max(h, w))
        decided = _detail_target(guide, before, alpha, model, work, radius)
        target = np.maximum(before, decided)
    else:
        # The painted band becomes "unknown" (0.5, zero confidence); the confidence-weighted
        # guided filter fills it from the sure pixels around it along the photo's edges.
        unknown = before * (1.0 - alpha) + 0.5 * alpha
        filled = refine(
            guide,
            as_matte(unknown),
            radius=2.5 * radius / max(h, w),
            eps=1e-4,
            working_size=max(h, w),
        )
        target = np.maximum(before, filled)
    strength = alpha * float(np.clip(stroke.flow, 0.0, 1.0))
    after = as_matte(before + strength * (target - before))
    matte[y0 : y0 + h, x0 : x0 + w] = after
    return Patch(y0, x0, before, after)


def _detail_model():
    """The shipped detail model; None without one or with a damaged one (the guided filter then
    follows the edges: a stroke never fails for want of the model)."""
    from skyseg_core.detail import shipped_detail_model
    from skyseg_core.errors import ModelFileError

    try:
        return shipped_detail_model()
    except ModelFileError:
        return None


def _detail_target(
    guide: np.ndarray, before: np.ndarray, alpha: np.ndarray, model, work: float, radius: float
) -> np.ndarray:
    """The detail stage's alpha over a stroke's crop: the stroke's pixels undecided (0.5), so
    its leaves feed neither colour model; the pixels around it as the matte has them. ``work``
    scales the crop for the decision; the result is carried back along the photo's edges."""
    import cv2

    from skyseg_core.detail import SURE_SKY, detail_alpha

    h, w = before.shape
    under = alpha > 0
    coarse = np.where(under, np.float32(0.5), before).astype(np.float32)
    if work < 1.0:
        size = (max(3, round(w * work)), max(3, round(h * work)))
        image = cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(coarse, size, interpolation=cv2.INTER_AREA)
        under = cv2.resize(under.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        coarse[under] = 0.5
    else:
        image = guide
    long_side = max(max(coarse.shape), round(DETAIL_SCALE * radius * min(work, 1.0)))
    decided = coarse
    for done in range(DETAIL_PASSES):
        if done:
            coarse = np.where(under & (decided > SURE_SKY), np.float32(1.0), coarse)
        decided = detail_alpha(image, coarse, model, under, long_side)
    if work >= 1.0:
        return decided
    return refine(guide, decided, radius=1.5 / max(size), eps=1e-4, working_size=max(size))


def replay(matte: np.ndarray, image: np.ndarray, strokes, scale: float = 1.0) -> np.ndarray:
    """Apply ``strokes`` in order to a copy of ``matte`` (the export path)."""
    out = matte.copy()
    for stroke in strokes:
        apply_stroke(out, image, stroke, scale)
    return out


def edited_matte(image: np.ndarray, base: np.ndarray, strokes, close_gaps: float = 0.0):
    """The matte of an edit at full size: the method's matte ``base``, its gaps
    in foliage closed by ``close_gaps`` (:func:`skyseg_core.detail.close_gaps`), then the strokes
    (in full-image coordinates) on top."""
    if close_gaps > 0:
        from skyseg_core.detail import close_gaps as close

        base = close(image, base, close_gaps)
    return replay(base, image, strokes, 1.0)
