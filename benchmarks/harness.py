"""What benchmark modules use: the :func:`case` decorator and shared inputs.

A case is a *setup* function decorated with :func:`case`; it builds its inputs (not timed) and
returns a zero-argument callable, the work that is timed. Each case runs in its own process, so
its peak memory is its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PHOTO = ROOT / "assets" / "samples" / "rocket.jpg"
SIZE_12MP = (4000, 3000)
"""(width, height) of the standard 12-megapixel photo."""


@dataclass(frozen=True)
class Case:
    id: str
    """``module:function``, how the runner finds it again in a child process."""
    name: str
    setup: Callable[[], Callable[[], object]]
    baseline: bool = False
    repeat: int | None = None


_CASES: list[Case] = []


def case(name: str, *, baseline: bool = False, repeat: int | None = None):
    """Register a benchmark case.

    Parameters
    ----------
    name : str
        Row label in the results table.
    baseline : bool
        This case is the reference that the others are divided by (one per run; the first wins).
    repeat : int, optional
        Timed runs for this case (default: the runner's ``--repeat``); use 1-2 for slow cases.
    """

    def decorate(setup: Callable[[], Callable[[], object]]):
        _CASES.append(Case(f"{setup.__module__.rsplit('.', 1)[-1]}:{setup.__name__}", name, setup, baseline, repeat))
        return setup

    return decorate


def registered_cases() -> list[Case]:
    return list(_CASES)


@functools.lru_cache(maxsize=4)
def photo(width: int = SIZE_12MP[0], height: int = SIZE_12MP[1], dtype: str = "uint8") -> np.ndarray:
    """The bundled sample photo upscaled (bicubic) to ``width`` x ``height``, RGB.

    ``dtype`` ``"uint16"`` gives a 16-bit version. Cached: do not modify the returned array.
    """
    import cv2

    from skyseg_core.io import load_image

    image = cv2.resize(load_image(SAMPLE_PHOTO), (width, height), interpolation=cv2.INTER_CUBIC)
    if dtype == "uint16":
        image = image.astype(np.uint16) * 257
    image.setflags(write=False)
    return image


@functools.lru_cache(maxsize=4)
def coarse_matte(long_side: int = 512) -> np.ndarray:
    """A fixed soft coarse sky matte of the sample photo at ``long_side`` (for refinement alone).

    Sky is where blue dominates red and the pixel is not bright (the rocket, the lights and the
    towers are not), blurred so the uncertain band is a few pixels wide: many edges to refine.
    """
    import cv2

    from skyseg_core.io import load_image
    from skyseg_core.matte import to_float_rgb

    image = to_float_rgb(load_image(SAMPLE_PHOTO))
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    sky = ((small[..., 2] > small[..., 0] + 0.08) & (small.max(axis=2) < 0.8)).astype(np.float32)
    matte = np.clip(cv2.GaussianBlur(sky, (0, 0), 2.0), 0, 1).astype(np.float32)
    matte.setflags(write=False)
    return matte
