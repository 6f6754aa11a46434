"""Sky opacity and horizon haze: how much of the new sky shows, row by row.

Both mix the placed new sky with the photo's own pixels (in linear light) before it is blended
in with the matte, so the layered output's ``new sky`` layer holds what the flat result shows.
"""

from __future__ import annotations

import numpy as np

from . import _color as C
from ._common import runs

HAZE_REACH = 0.5
"""The horizon haze reaches this fraction of the sky's height above the sky border: the photo's
own sky shows by ``horizon_haze`` at the border, fading linearly to none at that height."""

MIX_ROWS = 64
"""Rows mixed at a time."""


def new_sky_share(opacity: float, haze: float, top: float, horizon: float, rows: int):
    """The new sky's share of each row, float32 (rows,) in [0, 1]; None when it is 1 everywhere.

    ``opacity`` scales every row; ``haze`` takes up to that fraction away at the sky border
    (``horizon``, the row where the new sky's horizon is placed) and below it, less above it,
    none :data:`HAZE_REACH` of the sky's height (``horizon - top``) above it.
    """
    if opacity >= 1.0 and haze <= 0.0:
        return None
    share = np.full(rows, opacity, np.float32)
    if haze > 0.0:
        band = HAZE_REACH * max(horizon - top, 1.0)
        y = np.arange(rows, dtype=np.float32) + np.float32(0.5)
        ramp = np.clip(1.0 - (horizon - y) / np.float32(band), 0.0, 1.0)
        share *= np.float32(1.0) - np.float32(haze) * ramp
    return share


def show_own_sky(sky_codes: np.ndarray, image: np.ndarray, share: np.ndarray) -> None:
    """Mix ``sky_codes`` (the placed new sky, rows 0..n of the frame) in place with the photo's
    own pixels, row ``r`` by ``share[r]`` new sky. A row whose share is 0 becomes the photo's
    codes exactly; a share of 1 leaves the new sky as it is."""
    n = sky_codes.shape[0]
    share = share[:n]
    for r0, r1 in runs(share <= 0.0):
        sky_codes[r0:r1] = image[r0:r1]
    for r0, r1 in runs((share > 0.0) & (share < 1.0)):
        for c0 in range(r0, r1, MIX_ROWS):
            c1 = min(r1, c0 + MIX_ROWS)
            own = C.to_linear(image[c0:c1])
            new = C.to_linear(sky_codes[c0:c1])
            new -= own
            new *= share[c0:c1, None, None]
            new += own
            sky_codes[c0:c1] = C.from_linear(new, sky_codes.dtype)
