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
        _CASES.append(
            Case(
                f"{setup.__module__.rsplit('.', 1)[-1]}:{setup.__name__}",
                name,
                setup,
                baseline,
                repeat,
            )
        )
        return setup

    return decorate


def registered_cases() -> list[Case]:
    return list(_CASES)


@functools.lru_cache(maxsize=4)
def photo(
    width: int = SIZE_12MP[0], height: int = SIZE_12MP[1], dtype: str = "uint8"
) -> np.ndarray:
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


@functools.lru_cache(maxsize=2)
def landscape(
    width: int = SIZE_12MP[0], height: int = SIZE_12MP[1]
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic photo with a plain horizon (sky gradient over wavy hills, mild noise) and its
    coarse soft matte at 512 px: the common case, where few pixels lie near a matte edge."""
    import cv2

    rng = np.random.default_rng(0)
    x = np.arange(width, dtype=np.float32)
    horizon = height * (
        0.55 + 0.06 * np.sin(x / width * 2 * np.pi * 1.5) + 0.02 * np.sin(x / width * 40)
    )
    t = (np.arange(height, dtype=np.float32) / height)[:, None]
    sky = np.arange(height)[:, None] < horizon[None, :]
    image = np.empty((height, width, 3), np.uint8)
    for channel, (top, bottom, ground) in enumerate(
        ((90, 170, 40), (140, 200, 80), (235, 240, 30))
    ):
        image[..., channel] = np.where(
            sky, top + (bottom - top) * t, ground * (1.2 - 0.4 * t)
        ).astype(np.uint8)
    noise = rng.integers(-3, 4, size=(height, width, 1), dtype=np.int16)
    image = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    scale = 512 / max(width, height)
    small = cv2.resize(
        sky.astype(np.float32),
        (round(width * scale), round(height * scale)),
        interpolation=cv2.INTER_AREA,
    )
    matte = np.clip(cv2.GaussianBlur(small, (0, 0), 2.0), 0, 1).astype(np.float32)
    image.setflags(write=False)
    matte.setflags(write=False)
    return image, matte
