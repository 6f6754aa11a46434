"""Steady mattes for video and timelapse: the previous matte, aligned to the current frame by
the motion between them, blended with the current one where it can be trusted.

Per-frame mattes flicker: a pixel near a soft edge or in a thin cloud is decided anew in every
frame. :class:`TemporalStage` carries the decision over. For each frame it

1. estimates the camera's motion from the previous frame to this one (feature tracks and
   RANSAC, :func:`skyseg_core.motion.estimate_motion`, on copies of ``flow_size``) and moves
   the previous matte by it (a global model: a flat sky has nothing for dense optical flow to
   follow, and dense flow there made the previous matte's holes wander);
2. trusts the warped matte only where the warped previous frame looks like the current one
   (photometric error below ``tolerance``): a bird, a car or a person that moved across the
   sky, which the camera's motion does not explain, fails the check and keeps its own per-frame matte, so
   moving foreground is never smeared into the sky; a scene cut resets the stage;
3. blends the current and the aligned previous mattes, each weighted by its confidence
   (distance from 0.5), the previous one also by the trust and by how many frames it has been
   carried over (up to ``memory``): a steady pixel is a running average of up to 8 frames.

Everything is NumPy and OpenCV; it adds a fixed cost per frame (see benchmarks/video.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .depth import to_codes, to_float
from .matte import check_matte


def _grey_small(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The frame as 8-bit grey at ``size`` (width, height), for motion estimation."""
    image = as_uint8(image)
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def as_uint8(image: np.ndarray) -> np.ndarray:
    """An 8-bit copy of a uint8, uint16 or float [0, 1] image (for motion estimation only)."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    return to_codes(image, np.uint8, rounding="half_up")


def flow_size(shape: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) of the working copy whose longer side is at most ``long_side``."""
    h, w = shape
    k = min(1.0, long_side / max(h, w))
    return max(8, round(w * k)), max(8, round(h * k))


TEMPORAL_CUT = 0.12
"""Median photometric error (grey levels / 255) after undoing the camera's motion above which a
frame starts a new shot."""


@dataclass
class TemporalStage:
    """Blend each frame's matte with the previous result, aligned by the camera's motion.

    Parameters
    ----------
    memory : float
        The most frames the history counts for: at a pixel the aligned previous matte weighs
        as many frames as it has been carried over (trusted) so far, up to ``memory``, so a
        steady pixel is a running average of up to that many frames (0 turns the stage off).
    tolerance : float
        Photometric error (grey levels / 255) between the current frame and the warped previous
        one at which the previous matte is no longer trusted at a pixel (the trust falls
        linearly from 1 at no error).
    cut : float
        Median photometric error above which the frame is taken as a new shot (the stage resets).
    flow_size : int
        Longer side of the copies the motion is estimated on.
    """

    memory: float = 8.0
    tolerance: float = 0.08
    cut: float = TEMPORAL_CUT
    flow_size: int = 384
    _prev_grey: np.ndarray | None = field(default=None, repr=False)
    _prev_matte: np.ndarray | None = field(default=None, repr=False)
    _age: np.ndarray | None = field(default=None, repr=False)

    def reset(self) -> None:
        """Forget the previous frame (the next one starts a new shot)."""
        self._prev_grey = self._prev_matte = self._age = None

    def __call__(self, image: np.ndarray, matte: np.ndarray) -> np.ndarray:
        """The steadied matte of ``image`` (float32 (H, W) in [0, 1]) given its per-frame
        ``matte``; frames must come in order."""
        H, W = matte.shape
        size = flow_size((H, W), self.flow_size)
        grey = _grey_small(image, size)
        prev_grey, prev_matte, age = self._prev_grey, self._prev_matte, self._age
        if prev_grey is None or prev_matte is None or age is None or age.shape != matte.shape:
            self._start(grey, matte)
            return matte
        moved = self.align(grey, prev_grey, prev_matte, age)
        if moved is None:  # a cut
            self._start(grey, matte)
            return matte
        aligned, aligned_age, trust = moved
        out = self.combine(matte, aligned, trust, np.minimum(aligned_age, self.memory))
        self._prev_grey, self._prev_matte = grey, out
        self._age = trust * aligned_age + 1.0
        return check_matte(out, (H, W))

    def combine(
        self, matte: np.ndarray, aligned: np.ndarray, trust: np.ndarray, weight: np.ndarray
    ) -> np.ndarray:
        """This frame's matte from its own and the aligned previous one (:func:`blend`; the
        alternatives measured in benchmarks/bench_video_alternatives.py replace this)."""
        return blend(matte, aligned, trust, weight)

    def _start(self, grey: np.ndarray, matte: np.ndarray) -> None:
        self._prev_grey, self._prev_matte = grey, matte
        self._age = np.ones(matte.shape, np.float32)

    def align(
        self, grey: np.ndarray, prev_grey: np.ndarray, prev_matte: np.ndarray, age: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The previous matte and its age (frames carried over) moved onto the current frame by
        the camera's motion, and the trust in them (0..1 per pixel); all full size, the age 0
        where the previous frame did not reach. None when the frames do not match (a cut)."""
        from .motion import estimate_motion, scaled

        h, w = grey.shape
        H, W = prev_matte.shape
        motion = estimate_motion(prev_grey, grey, model="similarity").matrix
        err = photometric_error(prev_grey, grey, motion)
        if float(np.median(err)) > self.cut:
            return None
        trust = np.clip(1.0 - err / self.tolerance, 0.0, 1.0)
        full = scaled(motion, w / W)
        aligned = cv2.warpPerspective(
            prev_matte, full, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        aligned_age = cv2.warpPerspective(
            age,
            full,
            (W, H),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        trust_full = cv2.resize(trust, (W, H), interpolation=cv2.INTER_LINEAR)
        return aligned, aligned_age, trust_full


def photometric_error(prev_grey: np.ndarray, grey: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """Per pixel, how much ``grey`` differs from ``prev_grey`` moved by ``motion`` (grey levels
    / 255, 3x3 mean): where the camera's motion does not explain the change."""
    h, w = grey.shape
    warped = cv2.warpPerspective(
        prev_grey, motion, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    err = to_float(cv2.absdiff(grey, warped))
    return cv2.blur(err, (3, 3))


@dataclass
class CutDetector:
    """Whether each frame starts a new shot: the median :func:`photometric_error` from the
    previous frame, moved by the camera's motion, above ``cut`` (as in :class:`TemporalStage`).

    ``size``: longer side of the grey copies compared (a cut changes most of the frame, so a
    small copy is enough)."""

    cut: float = TEMPORAL_CUT
    size: int = 192
    _prev: np.ndarray | None = field(default=None, repr=False)

    def __call__(self, image: np.ndarray) -> bool:
        """Take the next frame; True when it starts a new shot (the first frame does not)."""
        from .motion import estimate_motion

        grey = _grey_small(image, flow_size(image.shape[:2], self.size))
        prev, self._prev = self._prev, grey
        if prev is None or prev.shape != grey.shape:
            return False
        motion = estimate_motion(prev, grey, model="similarity").matrix
        return float(np.median(photometric_error(prev, grey, motion))) > self.cut


@dataclass
class LightSmoother:
    """The foreground light of a clip smoothed over time: an exponential moving average of each
    light estimate (gains, exposure, contrast; in log space, as they multiply), so the relit,
    colour-matched foreground does not pulse with each frame's statistics.

    Called as ``smoother(kind, values)`` (the effects' :data:`~skyseg_core.effects._common.
    LIGHT_FILTER`); :meth:`reset` at a cut, so a new shot starts from its own light.

    Parameters
    ----------
    weight : float
        Share of the current frame's estimate in the average (1: no smoothing; 0.2: a memory
        of about 5 frames, 0.2 s at 25 frames/s).
    """

    weight: float = 0.2
    trace: list | None = None
    """When a list, each call appends ``(kind, values, smoothed)`` (for measuring)."""
    _state: dict = field(default_factory=dict, repr=False)

    def reset(self) -> None:
        self._state.clear()

    def __call__(self, kind: str, values: dict) -> dict:
        out = {}
        for key, value in values.items():
            logged = np.log(np.maximum(np.asarray(value, np.float64), 1e-6))
            previous = self._state.get((kind, key))
            if previous is not None and previous.shape == logged.shape:
                logged = previous + self.weight * (logged - previous)
            self._state[(kind, key)] = logged
            smooth = np.exp(logged)
            out[key] = float(smooth) if np.ndim(value) == 0 else smooth
        if self.trace is not None:
            self.trace.append((kind, values, out))
        return out


def blend(
    matte: np.ndarray, aligned: np.ndarray, trust: np.ndarray, weight: np.ndarray | float = 1.0
) -> np.ndarray:
    """Confidence-weighted blend of the current ``matte`` and the ``aligned`` previous one.

    Each is weighted by its confidence ``0.25 + |2 m - 1|`` (a matte near 0.5 says little); the
    previous one also by ``weight * trust`` (``weight``: how many frames it stands for).
    Returns float32 (H, W) in [0, 1].
    """
    c_cur = 0.25 + np.abs(2.0 * matte - 1.0)
    c_prev = (0.25 + np.abs(2.0 * aligned - 1.0)) * (weight * trust)
    out = (c_cur * matte + c_prev * aligned) / (c_cur + c_prev)
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


__all__ = [
    "TEMPORAL_CUT",
    "CutDetector",
    "LightSmoother",
    "TemporalStage",
    "as_uint8",
    "blend",
    "flow_size",
    "photometric_error",
]
