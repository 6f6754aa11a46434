"""A new sky that moves with the camera (SkyAR's motion estimation, made robust).

In a photo the new sky is placed once (:func:`skyseg_core.effects._geometry.place_sky`: scaled
to cover the sky region, its horizon on the sky border). In a clip, placing it anew in every
frame would glue it to the frame: it would not move when the camera pans, and it would jump
when the sky border moves. :class:`SkyMotion` places it on the first frame as in a photo, then
moves it by the camera's motion: each frame's motion is estimated from the background near the
horizon (feature tracks on the non-sky band just below the sky border, RANSAC similarity:
pan, tilt, roll and zoom; :func:`skyseg_core.motion.estimate_motion`), accumulated from the
first frame. A still camera gives a still sky (motions under ``still_px`` count as none, so
noise does not add up to a drift); where the moved sky does not cover the frame it is mirrored.

The replacement itself stays :func:`skyseg_core.effects.replace_sky`: each frame gets the sky
already moved, drawn at the frame's size, with the placement controls set so that the engine
puts it exactly where it was drawn (scale 1, its rows shifted by a whole number of pixels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from .effects.params import EffectParams

FRAME_SKY = "skyseg:frame-sky"
"""The name the moved sky of the current frame goes by in the chain's ``skies`` (plain text: the
parameter check refuses NUL; a frame's lookup serves the skies it drew before any other name)."""


def _grey(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from .temporal import as_uint8

    small = cv2.resize(as_uint8(image), size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def horizon_band(matte: np.ndarray, above: float = 0.05, below: float = 0.3) -> np.ndarray:
    """Where the background near the horizon is: not sky (matte < 0.5, kept 2 px off the sky),
    from ``above`` of the height over the sky border to ``below`` of it under."""
    from .effects import _geometry as G

    h = matte.shape[0]
    border = G.sky_border(matte, h)
    ground = (matte < 0.5).astype(np.uint8)
    ground = cv2.erode(ground, np.ones((5, 5), np.uint8)).astype(bool)
    rows = np.arange(h)[:, None]
    near = (rows >= border.horizon - above * h) & (rows <= border.horizon + below * h)
    return ground & near


@dataclass
class SkyMotion:
    """Per clip: the camera's motion so far and the new sky's placement on the first frame.

    Parameters
    ----------
    work_size : int
        Longer side of the copies the motion is estimated on.
    still_px : float
        A frame-to-frame motion that moves no corner of the frame more than this (in pixels of
        the working copy) is taken as none.
    room : float
        Extra zoom of the new sky on the first frame (about its horizon's centre), so the camera
        can pan some way before the sky runs out and is mirrored.
    drift : tuple of float
        The new sky's own motion (drifting clouds), in pixels of the first frame per frame
        (x right, y down), on top of the camera's.
    """

    work_size: int = 640
    still_px: float = 0.1
    room: float = 1.25
    drift: tuple[float, float] = (0.0, 0.0)
    camera: np.ndarray = field(default_factory=lambda: np.eye(3))
    """Frame 0 -> the current frame (full-size pixels)."""
    anchors: dict = field(default_factory=dict)
    _prev_grey: np.ndarray | None = None
    _prev_band: np.ndarray | None = None
    frames: int = 0
    """Frames taken so far."""
    motions: list = field(default_factory=list)
    """Each frame's estimated motion from the one before (3x3, full-size pixels)."""

    def update(self, frame: np.ndarray, matte: np.ndarray) -> np.ndarray:
        """Take the next frame: its motion from the previous one joins :attr:`camera`."""
        from .motion import estimate_motion, scaled
        from .temporal import flow_size

        H, W = matte.shape
        size = flow_size((H, W), self.work_size)
        grey = _grey(frame, size)
        small_matte = cv2.resize(matte, size, interpolation=cv2.INTER_AREA)
        if self._prev_grey is not None and self._prev_grey.shape == grey.shape:
            motion = estimate_motion(
                self._prev_grey, grey, self._prev_band, "similarity", still_px=self.still_px
            )
            step = scaled(motion.matrix, size[0] / W)
            self.motions.append(step)
            self.camera = step @ self.camera
        self._prev_grey, self._prev_band = grey, horizon_band(small_matte)
        self.frames += 1
        return self.camera

    def frame_steps(
        self,
        frame: np.ndarray,
        matte: np.ndarray,
        steps: Sequence[EffectParams],
        skies: Callable[[str], np.ndarray],
    ) -> tuple[list[EffectParams], Callable[[str], np.ndarray]]:
        """The chain for this frame: each ``replace`` step given its sky moved by the camera."""
        self.update(frame, matte)
        drawn: dict[str, np.ndarray] = {}
        out = []
        for index, step in enumerate(steps):
            if step.effect != "replace":
                out.append(step)
                continue
            name = f"{FRAME_SKY} {index}"
            sky = skies(str(getattr(step, "sky", "")))
            drawn[name], step = self._draw(frame, matte, sky, step, index)
            out.append(step.replace(sky=name))

        def frame_skies(name: str) -> np.ndarray:
            return drawn[name] if name in drawn else skies(name)

        return out, frame_skies

    def _draw(self, frame, matte, sky, step, index):
        """The sky moved to this frame, at the frame's size, and the controls that make the
        replace engine put it there unchanged."""
        from .effects import _geometry as G
        from .effects._cleanup import clean_matte
        from .effects._common import STATS_SIZE

        H, W = matte.shape
        if step.flip:
            sky = np.ascontiguousarray(sky[:, ::-1])
        cleaned = clean_matte(matte, step.cleanup)
        small, k = G.shrink(frame, STATS_SIZE)
        border = G.sky_border(G.shrink(cleaned, STATS_SIZE)[0], small.shape[0])
        border = G.SkyBorder(border.top * k, min(float(H), border.horizon * k), border.has_sky)
        if index not in self.anchors:  # the first frame: placed as in a photo
            zoom = step.scale * self.room
            place = G.place_sky(sky.shape[:2], (H, W), border, step.position, zoom)
            self.anchors[index] = np.vstack([place.matrix(1.0), [0.0, 0.0, 1.0]])
        t = self.frames - 1
        drift = np.array(
            [[1.0, 0.0, self.drift[0] * t], [0.0, 1.0, self.drift[1] * t], [0, 0, 1.0]]
        )
        to_frame = self.camera @ drift @ self.anchors[index]
        # a canvas of the frame's size is placed at scale 1, x 0, its rows shifted by
        # ty = horizon - H + (y - 0.5) * region: y is chosen so that ty is a whole number
        region = max(border.horizon - border.top, 1.0)
        ty0 = border.horizon - H
        y = 0.5 + (round(ty0) - ty0) / region
        ty = round(ty0)
        shift = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -ty], [0.0, 0.0, 1.0]])
        canvas = cv2.warpPerspective(
            sky,
            shift @ to_frame,
            (W, H),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
        controls = step.replace(position=(step.position[0], float(np.clip(y, 0.0, 1.0))))
        return canvas, controls.replace(scale=1.0, flip=False)


__all__ = ["FRAME_SKY", "SkyMotion", "horizon_band"]
