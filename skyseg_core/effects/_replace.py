"""Sky replacement: place a new sky behind the foreground and blend it in linear light."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..depth import convert_depth
from ..matte import check_image, check_matte, to_float_rgb
from . import _color as C
from . import _geometry as G
from ._cleanup import clean_matte, require_sky
from ._common import STATS_SIZE, runs, steady_light
from ._common import mean_colour as _mean_colour
from ._haze import new_sky_share, show_own_sky
from ._relight import relight_engine

BLUR_SIZE = 800
"""Longer side at which the original sky's blur is estimated."""

HALO_RADIUS = 4.0
"""Reach of the edge light below the sky border, in percent of the longer side."""

HALO_GAIN = 0.6
"""Edge light at ``halo=1`` right at the border: this fraction of the sky's light is added."""

CHUNK_ROWS = 32
"""Rows blended at a time (the temporaries stay in the CPU cache)."""

FIELD_ROWS = 256
"""Rows of the smooth fields (old sky colour, edge light) upsampled at a time."""

_SHARP_BASELINE = 0.75
"""What :func:`estimate_blur` reports for a perfectly sharp edge (pixel size and Sobel blur)."""


@dataclass
class Replacement:
    """Everything a replacement produced: the result and the pieces the layered output needs."""

    image: np.ndarray
    """The result, same dtype and shape as the photo."""
    alpha: np.ndarray
    """The matte actually used (after shift, fade and the edge clean-up when the layers are
    asked for; after shift and fade otherwise), float32 (H, W)."""
    foreground: np.ndarray | None = None
    """The relit and colour-matched foreground (codes), when lighting or colour match is on."""
    lit_foreground: np.ndarray | None = None
    """The foreground with the edge light (codes, full frame) when the halo is on."""
    sky: np.ndarray | None = None
    """The placed new sky over the whole frame (codes), when asked for."""
    info: dict = field(default_factory=dict)
    """Measured quantities: sky border, estimated blur, colour-match gains."""


def replace(
    image: np.ndarray, matte: np.ndarray, sky: np.ndarray, p, full_sky: bool = False
) -> Replacement:
    """The engine behind :func:`skyseg_core.effects.replace_sky` (see there; ``p`` is validated)."""
    check_image(image)
    check_matte(matte, image.shape[:2])
    check_image(sky)
    matte = clean_matte(matte, p.cleanup)
    require_sky(matte, "nothing replaced")
    return _replace(image, matte, sky, p, full_sky)


def _replace(image, matte, sky, p, full_sky: bool) -> Replacement:
    if image.shape[1] == 1:  # OpenCV reads (H, 1, 3) arrays as scalars: run on two columns
        rep = _replace(np.repeat(image, 2, axis=1), np.repeat(matte, 2, axis=1), sky, p, full_sky)
        for name in ("image", "alpha", "foreground", "lit_foreground", "sky"):
            value = getattr(rep, name)
            if value is not None:
                setattr(rep, name, np.ascontiguousarray(value[:, :1]))
        return rep
    H, W = image.shape[:2]
    dtype = image.dtype
    info: dict = {}

    # 1. the matte: shift edge, then fade edge
    alpha = G.shift_edge(matte, G.percent_to_pixels(p.shift_edge, (H, W)))
    alpha = G.feather(alpha, G.percent_to_pixels(p.fade_edge, (H, W)))
    color_match, halo = p.color_match, p.halo

    # 2. small copies for statistics, placement and edge light
    small, k = G.shrink(image, STATS_SIZE)
    sh, sw = small.shape[:2]
    factor = 1.0 / k
    small_lin = C.to_linear(small)
    orig_small = G.shrink(matte, STATS_SIZE)[0]
    alpha_small = orig_small if alpha is matte else G.shrink(alpha, STATS_SIZE)[0]

    # 3. placement: the new sky's bottom edge on the photo's sky border
    border = G.sky_border(orig_small, sh)
    border = G.SkyBorder(border.top * k, min(float(H), border.horizon * k), border.has_sky)
    info["sky_border"] = {"top": round(border.top, 1), "horizon": round(border.horizon, 1)}
    sky_src = np.ascontiguousarray(sky[:, ::-1]) if p.flip else sky
    if p.sky_brightness or p.sky_temperature:
        sky_src = C.apply_channel_curves(
            sky_src, C.grade_curve(temperature_gains(p.sky_temperature), 2.0**p.sky_brightness)
        )
    place = G.place_sky(sky_src.shape[:2], (H, W), border, p.position, p.scale)

    # 4. sky defocus: blur the new sky to the original sky's estimated blur
    if p.defocus > 0 and border.has_sky:
        sigma = p.defocus * estimate_sky_blur(image, matte)
        info["defocus_sigma_px"] = round(sigma, 2)
        sigma_src = sigma / place.scale
        if sigma_src >= 0.3:
            sky_src = cv2.GaussianBlur(
                sky_src, (0, 0), sigma_src, borderType=cv2.BORDER_REFLECT_101
            )
    sky_small_lin = None
    if color_match > 0 or halo > 0:
        sky_small_lin = C.to_linear(G.warp_rows(sky_src, place, sw, sh, factor))

    # 5. foreground light: relit toward the new sky (strongest at the border), then colour
    # matched (a per-channel curve: exact and cheap at full size)
    foreground = image
    if p.lighting > 0:
        foreground, _, _, info["lighting"] = relight_engine(image, matte, sky_src, p.lighting)
    if color_match > 0:
        curve, gains = _color_match_curve(
            small_lin, orig_small, sky_small_lin, alpha_small, color_match
        )
        info["color_match"] = gains
        foreground = C.apply_channel_curves(foreground, curve)

    # 6. edge light, at small size: the new sky's light spreading over the border
    light_small = None
    if halo > 0 and sky_small_lin is not None:  # computed above whenever halo > 0
        light_small = _edge_light(sky_small_lin, alpha_small, halo)

    # 6b. the old sky's colour around the border, to take it out of semi-transparent edge
    # pixels (otherwise a bright old sky leaves a light rim around the foreground)
    old_sky_small = None
    if border.has_sky:
        fg_small = small_lin
        if color_match > 0:
            fg_small = curve(small_lin.reshape(-1, 3)).reshape(small_lin.shape)
        old_sky_small = _old_sky_colour(fg_small, orig_small)

    # 7. composite. Rows are sorted into all-sky (copy the new sky), all-foreground (keep) and
    # mixed; only mixed rows are blended, densely, in linear light.
    row_min, row_max = alpha.min(axis=1), alpha.max(axis=1)
    has_alpha = np.flatnonzero(row_max > 0)
    rows_alpha = int(has_alpha[-1]) + 1 if has_alpha.size else 0
    lit = np.zeros(H, bool)
    if light_small is not None:
        lit_small = light_small.max(axis=2).max(axis=1) > 1.0 / 4096
        lit_small = np.convolve(lit_small, np.ones(3), mode="same") > 0
        lit = lit_small[np.minimum(np.arange(H) // k, sh - 1)]
    sky_rows = row_min >= 1.0
    dense = ~sky_rows & ((row_max > 0) | lit)

    # a relit or colour-matched foreground is this function's own: without the layers nothing
    # reads it afterwards, so the result is written over it (float codes are restored from it)
    reuse = foreground is not image and not full_sky and dtype.kind != "f"
    out = foreground if reuse else foreground.copy()
    alpha_used = alpha.copy() if full_sky else alpha
    sky_codes = convert_depth(G.warp_rows(sky_src, place, W, H if full_sky else rows_alpha), dtype)
    share = new_sky_share(p.sky_opacity, p.horizon_haze, border.top, border.horizon, H)
    if share is not None:  # the photo's own sky shows through (opacity, horizon haze)
        show_own_sky(sky_codes, image, share)
    lit_foreground = foreground.copy() if light_small is not None and full_sky else None
    for r0, r1 in runs(sky_rows):
        out[r0:r1] = sky_codes[r0:r1]
    for r0, r1 in runs(dense):
        for b0 in range(r0, r1, FIELD_ROWS):  # smooth fields upsampled per block, used per chunk
            b1 = min(r1, b0 + FIELD_ROWS)
            ba = min(b1, rows_alpha)
            light_block = (
                None if light_small is None else G.upsample_block(light_small, k, (H, W), b0, b1)
            )
            old_block = None
            if old_sky_small is not None and ba > b0:
                old_block = tuple(G.upsample_block(x, k, (H, W), b0, ba) for x in old_sky_small)
            for c0 in range(b0, b1, CHUNK_ROWS):
                c1 = min(b1, c0 + CHUNK_ROWS)
                ca = min(c1, rows_alpha)
                light = None if light_block is None else light_block[c0 - b0 : c1 - b0]
                old = None
                if old_block is not None and ca > c0:
                    old = tuple(x[c0 - b0 : ca - b0] for x in old_block)
                out[c0:c1], lit_chunk, used = _blend_rows(
                    foreground[c0:c1],
                    sky_codes[c0:ca],
                    alpha[c0:ca],
                    light,
                    lit_foreground is not None,
                    old,
                    matte[c0:ca],
                )
                if full_sky and ca > c0 and used is not alpha_used[c0:ca]:
                    alpha_used[c0:ca] = used
                if lit_chunk is not None and lit_foreground is not None:
                    lit_foreground[c0:c1] = lit_chunk
    if dtype.kind == "f":  # float codes do not survive decode/encode bit-exactly: restore them
        keep = (alpha <= 0)[..., None]
        if light_small is None:
            np.copyto(out, foreground, where=keep)
    result = Replacement(image=out, alpha=alpha_used, info=info)
    if (color_match > 0 or p.lighting > 0) and not reuse:
        result.foreground = foreground
    if halo > 0:
        result.lit_foreground = lit_foreground
    if full_sky:
        result.sky = sky_codes
    return result


SKY_MATCH_TOLERANCE = 0.25
"""An edge pixel whose colour is within this fraction of the local old sky's brightness (plus a
floor) counts as sky: its alpha is raised toward 1 (a too-soft matte leaves no old-sky rim)."""

DECONTAMINATION_CAP = 0.9
"""Alpha above which edge pixels are not decontaminated further (the division grows noise)."""


def _blend_rows(
    fg: np.ndarray,
    sky: np.ndarray,
    alpha: np.ndarray,
    light: np.ndarray | None,
    want_lit: bool,
    old_sky: tuple[np.ndarray, ...] | None = None,
    soft: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Blend a block of rows in linear light.

    In the first ``len(sky)`` rows, edge pixels (0 < ``soft`` < 1, the given matte) whose colour
    matches the old sky
    around them get their alpha raised toward 1 (see :data:`SKY_MATCH_TOLERANCE`). They are then
    decontaminated: an edge pixel is
    ``alpha * old_sky + (1 - alpha) * F``, so its foreground colour is
    ``F = (I - a old_sky) / (1 - a)`` with ``a = min(alpha, DECONTAMINATION_CAP)``. Then ``fg`` is
    screened with ``light`` and mixed with ``sky`` by ``alpha``. Where alpha is 0, F is I exactly.
    Returns (codes, lit foreground codes, the alpha used).
    """
    dtype = fg.dtype
    fg_lin = C.to_linear(fg)
    n = sky.shape[0]
    if old_sky is not None and n and soft is not None and _has_soft(soft):
        old_colour, tolerance, confidence = old_sky
        head = fg_lin[:n]
        # edge pixels that look like the old sky are sky: raise their alpha toward 1
        distance = cv2.cvtColor(cv2.absdiff(head, old_colour), cv2.COLOR_RGB2GRAY)
        likeness = cv2.divide(distance, tolerance)
        np.subtract(np.float32(1.0), likeness, out=likeness)
        cv2.threshold(likeness, 0.0, 0.0, cv2.THRESH_TOZERO, dst=likeness)
        likeness *= confidence
        # only where the given matte is unsure (a fade or shift the user asked for is kept)
        likeness *= cv2.threshold(soft, 0.0, 1.0, cv2.THRESH_BINARY)[1]
        likeness *= cv2.threshold(soft, 1.0 - 1e-6, 1.0, cv2.THRESH_BINARY_INV)[1]
        likeness *= np.float32(1.0) - alpha
        alpha = alpha + likeness
        capped = cv2.min(alpha, DECONTAMINATION_CAP)
        gain = np.float32(1.0) / (np.float32(1.0) - capped)
        # F = gain I - capped gain B; blendLinear divides by the weights' sum, which is 1 here
        clean = cv2.blendLinear(head, old_colour, gain, -capped * gain).reshape(n, -1)
        cv2.threshold(clean, 1.0, 1.0, cv2.THRESH_TRUNC, dst=clean)
        cv2.threshold(clean, 0.0, 0.0, cv2.THRESH_TOZERO, dst=clean)
        head[...] = clean.reshape(head.shape)
    lit = None
    if light is not None:  # screen: adds light, never clips
        product = cv2.multiply(fg_lin, light)
        cv2.add(fg_lin, light, dst=fg_lin)
        cv2.subtract(fg_lin, product, dst=fg_lin)
        if want_lit:
            lit = C.from_linear(fg_lin, dtype, clip=False)
    if n:
        mixed = cv2.blendLinear(fg_lin[:n], C.to_linear(sky), np.float32(1.0) - alpha, alpha)
        if n == fg_lin.shape[0]:
            fg_lin = mixed
        else:
            fg_lin[:n] = mixed
    return C.from_linear(fg_lin, dtype, clip=dtype.kind == "f"), lit, alpha


def _has_soft(matte: np.ndarray) -> bool:
    """Whether any value is strictly between 0 and 1."""
    below_one = cv2.threshold(matte, 1.0 - 1e-6, 0.0, cv2.THRESH_TOZERO_INV)[
        1
    ]  # values near 1 -> 0
    return cv2.minMaxLoc(below_one)[1] > 0.0


def estimate_sky_blur(image: np.ndarray, matte: np.ndarray) -> float:
    """Estimated Gaussian blur (pixels at the photo's size) of the photo's sky and its border.

    Edges inside the sky and along its border are measured at a working size of
    :data:`BLUR_SIZE` (blur below about one working pixel reads as sharp). Returns 0 when the
    sky has no edges to measure (a clear sky) or no sky.
    """
    check_image(image)
    check_matte(matte, image.shape[:2])
    H, W = image.shape[:2]
    small, k = G.shrink(image, BLUR_SIZE)
    grey = cv2.cvtColor(to_float_rgb(small), cv2.COLOR_RGB2GRAY)
    m = G.shrink(matte, BLUR_SIZE)[0]
    sky = (m >= 0.5).astype(np.uint8)
    region = cv2.dilate(sky, np.ones((5, 5), np.uint8)) > 0
    region &= (
        cv2.erode(
            np.ones_like(sky),
            np.ones((7, 7), np.uint8),
            borderType=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        > 0
    )
    sigma = G.estimate_blur(grey, region)
    if sigma is None:
        return 0.0
    sigma = float(np.sqrt(max(sigma**2 - _SHARP_BASELINE**2, 0.0)))
    return sigma * k


def _color_match_curve(fg_lin, orig_matte, sky_lin, alpha, strength):
    """Per-channel gains and exposure that move the foreground's light toward the new sky's.

    The old sky's colour stands for the light the photo was taken in, the new sky's for the light
    it should have: the white balance changes by their chromaticity ratio and the exposure by the
    square root of their luminance ratio, both raised to ``strength``. Without an old sky the
    foreground's own average (grey world) is the reference.
    """
    old_sky, old_frac = _mean_colour(fg_lin, orig_matte)
    new_sky, new_frac = _mean_colour(sky_lin, alpha)
    if new_frac == 0.0:
        new_sky = sky_lin.reshape(-1, 3).mean(axis=0)
    fg_mean, _ = _mean_colour(fg_lin, 1.0 - orig_matte)
    reference = old_sky if old_frac >= 0.005 else fg_mean
    gains = (C.chromaticity(new_sky) / C.chromaticity(reference)) ** strength
    gains = gains / float(C.luminance(gains.astype(np.float32)))  # white balance keeps luminance
    gains = np.clip(gains, 1.0 / COLOR_MATCH_MAX_GAIN, COLOR_MATCH_MAX_GAIN)
    exposure = 1.0
    if old_frac >= 0.005:
        y_old, y_new = float(C.luminance(old_sky)), float(C.luminance(new_sky))
        exposure = float(
            np.clip(
                (max(y_new, 1e-4) / max(y_old, 1e-4)) ** (0.5 * strength),
                1.0 / COLOR_MATCH_MAX_EXPOSURE,
                COLOR_MATCH_MAX_EXPOSURE,
            )
        )
    light = steady_light("color_match", {"gains": gains, "exposure": exposure})
    gains, exposure = light["gains"], light["exposure"]
    info = {"gains": [round(float(g), 4) for g in gains], "exposure": round(exposure, 4)}
    return C.grade_curve(gains, exposure), info


COLOR_MATCH_MAX_GAIN = 1.12
"""Colour match moves no channel of the foreground by more than this factor (or its inverse),
so a deep orange sunset warms a brick wall but does not paint it orange."""

COLOR_MATCH_MAX_EXPOSURE = 1.3
"""Colour match brightens or darkens the foreground by at most this factor."""


def temperature_gains(mired_shift: float) -> np.ndarray:
    """Linear per-channel gains (luminance kept) that move a daylight (D65) colour by
    ``mired_shift`` mired: positive warmer (toward 4000 K at +100), negative cooler."""
    kelvin = 1e6 / max(1e6 / 6504.0 + float(mired_shift), 20.0)
    gains = C.kelvin_to_rgb(kelvin).astype(np.float32)
    return gains / float(C.luminance(gains))


def _old_sky_colour(
    lin: np.ndarray, matte: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The photo's own sky colour near each pixel (small size, linear; a blur weighted by
    confident sky), the colour distance within which a pixel counts as that sky
    (:data:`SKY_MATCH_TOLERANCE` of its brightness) and the confidence that there is sky near at
    all (0 far from it, where the colour is the pixel's own)."""
    sigma = max(2.0, G.percent_to_pixels(2.0, matte.shape))
    m = np.clip((matte - np.float32(0.8)) * np.float32(5.0), 0.0, 1.0)  # confident sky only
    num = cv2.GaussianBlur(lin * m[..., None], (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    den = cv2.GaussianBlur(m, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    colour = num / np.maximum(den, 1e-4)[..., None]
    far = den < 1e-3  # no sky nearby: no estimate, and decontamination leaves the pixel as it is
    colour[far] = lin[far]
    colour = np.clip(colour, 0.0, 1.0).astype(np.float32)
    confidence = np.clip(den / 0.01, 0.0, 1.0)  # is there sky near at all
    grey = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
    tolerance = np.float32(SKY_MATCH_TOLERANCE) * (grey + np.float32(0.05))
    return colour, tolerance.astype(np.float32), confidence.astype(np.float32)


def _edge_light(sky_lin: np.ndarray, alpha: np.ndarray, strength: float) -> np.ndarray:
    """Light (linear, small size) that the new sky spills over the foreground near the border."""
    sigma = G.percent_to_pixels(HALO_RADIUS, alpha.shape) / 2.0
    a = alpha.astype(np.float32)
    num = cv2.GaussianBlur(sky_lin * a[..., None], (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    den = cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    colour = num / np.maximum(den, 1e-4)[..., None]
    spill = np.clip(2.0 * den, 0.0, 1.0)  # 1 at the border (half the neighbourhood is sky)
    spill[den < 1e-3] = 0.0
    light = colour * (spill * np.float32(strength * HALO_GAIN))[..., None]
    return np.clip(light, 0.0, 1.0).astype(np.float32)
