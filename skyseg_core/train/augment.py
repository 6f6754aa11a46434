"""Augmentation: photometric and geometric changes (albumentations) and sky compositing.

Sky compositing pastes another sky into a photo's sky region, using the (soft) truth as alpha,
so the network learns sky by place and texture rather than by one colour. Sky sources:

* other training photos' sky regions (the rows above their horizon),
* sky photos from a folder (``../shared/data/skies``; used at training time only, never shipped),
* generated skies: :func:`skyseg_core.skygen.make_sky` when that module is present, else
  :func:`procedural_sky` (gradients and noise clouds).

Flips are horizontal only: the network should learn that sky is usually at the top.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..depth import to_codes, to_float

SKY_KINDS = ("photo", "folder", "generated")

_PALETTES = (  # (zenith, horizon) RGB
    ((40, 90, 190), (160, 200, 235)),  # clear day
    ((20, 60, 150), (120, 170, 220)),  # deep blue
    ((120, 125, 135), (190, 192, 196)),  # overcast
    ((200, 205, 210), (235, 236, 238)),  # bright haze
    ((60, 60, 110), (245, 150, 70)),  # sunset
    ((90, 70, 140), (240, 170, 150)),  # dusk pink
    ((10, 15, 40), (40, 50, 90)),  # night
    ((150, 170, 190), (220, 200, 170)),  # warm haze
)


def _noise(rng: np.random.Generator, h: int, w: int, octaves: int = 5) -> np.ndarray:
    """Fractal value noise in [0, 1] (upsampled random grids, halving amplitude per octave)."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 2 ** (o + 1)
        grid = rng.random((cells + 1, max(2, int(cells * w / max(h, 1)) + 1))).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.55
    out /= total
    return np.clip((out - out.min()) / max(float(np.ptp(out)), 1e-6), 0, 1)


def procedural_sky(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A random sky: vertical colour gradient, optional sun glow and noise clouds; uint8 RGB."""
    zenith, horizon = (np.array(c, np.float32) for c in _PALETTES[rng.integers(len(_PALETTES))])
    jitter = rng.normal(0, 12, 3).astype(np.float32)
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None] ** rng.uniform(0.5, 2.0)
    sky = (1 - t) * (zenith + jitter) + t * (horizon + jitter)
    sky = np.broadcast_to(sky, (height, width, 3)).copy()
    if rng.random() < 0.3:  # sun glow
        cy, cx = rng.uniform(0.2, 1.0) * height, rng.uniform(0, 1) * width
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        glow = np.exp(
            -((yy - cy) ** 2 + (xx - cx) ** 2)
            / (2 * (rng.uniform(0.1, 0.4) * max(height, width)) ** 2)
        )
        sky += glow[..., None] * rng.uniform(40, 120) * np.array([1.0, 0.9, 0.7], np.float32)
    if rng.random() < 0.75:  # clouds
        cover = rng.uniform(0.2, 0.8)
        n = _noise(rng, height, width)
        alpha = np.clip((n - (1 - cover)) / rng.uniform(0.05, 0.3), 0, 1)[..., None]
        shade = rng.uniform(150, 255)
        cloud = (
            shade
            * (0.8 + 0.2 * _noise(rng, height, width, 3))[..., None]
            * np.array([1.0, 1.0, 1.02], np.float32)
        )
        sky = (1 - alpha) * sky + alpha * cloud
    return np.clip(sky, 0, 255).astype(np.uint8)


def generated_sky(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A generated sky: the effects' :mod:`skyseg_core.skygen` presets when present, half the time."""
    try:
        from .. import skygen
    except ImportError:
        skygen = None  # type: ignore[assignment]  # a core without the effects' sky generator
    if skygen is not None and rng.random() < 0.5:
        try:
            preset = skygen.SKY_PRESETS[rng.integers(len(skygen.SKY_PRESETS))]
            sky = skygen.make_sky(preset, width, height, seed=int(rng.integers(1 << 30)))
            if sky.shape == (height, width, 3) and sky.dtype == np.uint8:
                return sky
        except Exception:  # noqa: BLE001 - a skygen change must not stop training; use our own
            pass
    return procedural_sky(height, width, rng)


def sky_strip(
    image: np.ndarray, target: np.ndarray, valid: np.ndarray, min_rows: float = 0.2
) -> np.ndarray | None:
    """The rows above a photo's horizon that are (almost) all sky, or None if too few."""
    row_sky = ((target > 200) & (valid > 0)).mean(axis=1)
    bad = np.flatnonzero(row_sky < 0.97)
    rows = bad[0] if bad.size else image.shape[0]
    if rows < max(8, min_rows * image.shape[0]):
        return None
    return image[:rows]


def fit_sky(sky: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop of ``sky`` with the target's aspect, resized to (height, width)."""
    sh, sw = sky.shape[:2]
    aspect = width / height
    frac = rng.uniform(0.5, 1.0)
    ch = max(2, int(min(sh, sw / aspect) * frac))
    cw = max(2, min(sw, int(ch * aspect)))
    y = rng.integers(0, sh - ch + 1)
    x = rng.integers(0, sw - cw + 1)
    crop = sky[y : y + ch, x : x + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=cv2.INTER_LINEAR)


def composite_sky(
    image: np.ndarray, target: np.ndarray, valid: np.ndarray, sky: np.ndarray, strength: float = 1.0
) -> np.ndarray:
    """Paste ``sky`` (same size) into ``image`` with the soft truth as alpha; ignore pixels kept."""
    alpha = to_float(target) * (valid > 0) * strength
    alpha = alpha[..., None]
    out = alpha * sky.astype(np.float32) + (1 - alpha) * image.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def load_sky_folder(folder: str | Path | None, long_side: int = 640) -> list[np.ndarray]:
    """Sky photos from ``folder`` (jpg/png), shrunk to ``long_side``; empty list if none."""
    from ..io import load_image
    from ..matte import to_uint8_rgb
    from ..methods._base import resize_long_side

    if not folder or not Path(folder).is_dir():
        return []
    return [
        resize_long_side(to_uint8_rgb(load_image(p)), long_side)
        for p in sorted(Path(folder).iterdir())
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    ]


DRAMATIC_TONES = ("storm", "sunset", "night")


def dramatic_sky(sky: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``sky`` toned as a storm (dark, grey, contrasty), a sunset (warm, dark at the top) or a
    night sky: the dark and dramatic clouds that ordinary training photos rarely show, so the
    network learns that a frame of dark cloud is still sky."""
    h = sky.shape[0]
    x = to_float(sky)
    tone = DRAMATIC_TONES[rng.integers(len(DRAMATIC_TONES))]
    if tone == "storm":
        grey = x.mean(axis=2, keepdims=True)
        x = grey + rng.uniform(0.0, 0.4) * (x - grey)
        x = np.clip((x - x.mean()) * rng.uniform(1.2, 2.0) + x.mean(), 0, 1) * rng.uniform(0.2, 0.6)
    elif tone == "sunset":
        rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        warm = np.array([1.0, rng.uniform(0.45, 0.7), rng.uniform(0.2, 0.45)], np.float32)
        gain = rng.uniform(0.25, 0.55) + rng.uniform(0.3, 0.6) * rows
        x = x.mean(axis=2, keepdims=True) * warm * gain
    else:
        x = x * np.array([0.5, 0.6, 1.0], np.float32) * rng.uniform(0.05, 0.2)
    return to_codes(x, np.uint8, rounding="half_up")


class SkyCompositor:
    """Replaces the sky of a training photo with probability ``p`` (choosing a sky source);
    a share ``dramatic_p`` of the pasted skies is toned dark (:func:`dramatic_sky`)."""

    def __init__(
        self,
        photo_strips: list[np.ndarray],
        folder_skies: list[np.ndarray],
        p: float = 0.5,
        weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
        dramatic_p: float = 0.0,
    ):
        self.strips, self.folder, self.p = photo_strips, folder_skies, p
        self.weights = np.array(weights, np.float64)
        self.dramatic_p = dramatic_p

    def __call__(
        self, image: np.ndarray, target: np.ndarray, valid: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        if rng.random() >= self.p or not (target > 0).any():
            return image
        h, w = image.shape[:2]
        weights = self.weights * np.array([bool(self.strips), bool(self.folder), True])
        kind = SKY_KINDS[rng.choice(3, p=weights / weights.sum())]
        if kind == "photo":
            sky = fit_sky(self.strips[rng.integers(len(self.strips))], h, w, rng)
        elif kind == "folder":
            sky = fit_sky(self.folder[rng.integers(len(self.folder))], h, w, rng)
        else:
            sky = generated_sky(h, w, rng)
        if rng.random() < self.dramatic_p:
            sky = dramatic_sky(sky, rng)
        return composite_sky(
            image, target, valid, sky, strength=1.0 if rng.random() < 0.8 else rng.uniform(0.5, 1.0)
        )


def build_transform(crop: int, strength: float = 1.0, min_scale: float = 0.25):
    """The albumentations pipeline for training crops of ``crop`` x ``crop`` pixels.

    Scale/crop and horizontal flip change geometry (truth follows); colour, exposure, blur,
    noise and JPEG artefacts change only the photo. ``strength`` scales the probabilities;
    ``min_scale`` is the smallest share of the photo's area a crop covers (closer views).
    """
    import albumentations as A

    s = strength
    return A.Compose(
        [
            A.RandomResizedCrop(size=(crop, crop), scale=(min_scale, 1.0), ratio=(0.6, 1.7), p=1.0),
            A.HorizontalFlip(p=0.5),
            A.Affine(rotate=(-8, 8), p=0.3 * s, fill=0, fill_mask=0),
            A.OneOf(
                [
                    A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.3),
                    A.RandomGamma(gamma_limit=(60, 160)),
                    A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.4, hue=0.05),
                ],
                p=0.8 * s,
            ),
            A.HueSaturationValue(
                hue_shift_limit=8, sat_shift_limit=25, val_shift_limit=15, p=0.3 * s
            ),
            A.ToGray(p=0.05 * s),
            A.OneOf(
                [A.GaussianBlur(blur_limit=(3, 7)), A.MotionBlur(blur_limit=(3, 7))], p=0.2 * s
            ),
            A.GaussNoise(std_range=(0.01, 0.06), p=0.25 * s),
            A.ImageCompression(quality_range=(35, 95), p=0.3 * s),
        ]
    )


WINDOW_BAR_COLOURS = ((245, 245, 240), (40, 35, 30), (120, 80, 45), (180, 180, 185))
"""White paint, dark metal, wood, aluminium: what window frames and glazing bars are made of."""


def paste_window_view(
    room: np.ndarray,
    room_target: np.ndarray,
    room_valid: np.ndarray,
    view: np.ndarray,
    view_target: np.ndarray,
    view_valid: np.ndarray,
    rng: np.random.Generator,
    overexposed_p: float = 0.5,
    max_gamma: float = 4.0,
    blown_p: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A window into ``room`` (a sky-free photo) showing the top of an outdoor ``view``.

    Sky seen through the windows and glass doors of a room is what an interior or estate
    photographer replaces, and a sky-free room with a bright rectangle of sky is rare in the
    training photos. The window is a rectangle in the upper part of the room, the view's sky and
    skyline inside it (its exposure often blown, as in an interior exposed for the room), crossed
    by a frame and glazing bars that are not sky. A share ``overexposed_p`` of the views is
    brightened (gamma up to ``max_gamma``); a share ``blown_p`` of the windows shows nothing but
    glare, which is not sky (no sky can be seen through it: what the photos' labels say of a
    blown-out window). Returns new (image, target, valid) arrays.
    """
    h, w = room.shape[:2]
    win_w = max(8, int(w * rng.uniform(0.15, 0.55)))
    win_h = max(8, int(h * rng.uniform(0.2, 0.6)))
    x0 = int(rng.integers(0, w - win_w + 1))
    y0 = int(rng.integers(0, max(1, int(0.55 * h) - win_h // 3)))
    win_h = min(win_h, h - y0)

    vh, vw = view.shape[:2]
    crop_h = max(4, int(vh * rng.uniform(0.4, 1.0)))
    crop_w = max(4, min(vw, int(crop_h * win_w / win_h)))
    crop_h = max(4, min(vh, int(crop_w * win_h / win_w)))
    vy = int(rng.integers(0, max(1, int(0.25 * vh) - crop_h // 4 + 1)))
    vy = min(vy, vh - crop_h)
    vx = int(rng.integers(0, vw - crop_w + 1))
    size = (win_w, win_h)
    window = (slice(vy, vy + crop_h), slice(vx, vx + crop_w))
    pane = cv2.resize(view[window], size, interpolation=cv2.INTER_AREA).astype(np.float32)
    pane_target = cv2.resize(view_target[window], size, interpolation=cv2.INTER_LINEAR)
    pane_valid = cv2.resize(view_valid[window], size, interpolation=cv2.INTER_NEAREST)
    if rng.random() < blown_p:
        glare = rng.uniform(235, 255) - rng.uniform(0, 25) * np.linspace(0, 1, win_h)[:, None]
        pane = np.repeat((glare + rng.normal(0, 2, (win_h, win_w)))[..., None], 3, axis=2)
        pane_target = np.zeros_like(pane_target)
        pane_valid = np.ones_like(pane_valid)
    elif rng.random() < overexposed_p:  # the room was exposed for its own light
        gamma = rng.uniform(1.2, max_gamma)
        pane = 255.0 * (1.0 - (1.0 - pane / 255.0) ** gamma)

    bars = np.zeros((win_h, win_w), bool)
    frame = max(1, int(min(win_w, win_h) * rng.uniform(0.02, 0.06)))
    bars[:frame], bars[-frame:], bars[:, :frame], bars[:, -frame:] = True, True, True, True
    thin = max(1, frame // 2 if rng.random() < 0.5 else frame)
    for n, along in ((int(rng.integers(0, 4)), 1), (int(rng.integers(0, 3)), 0)):
        for k in range(1, n + 1):
            at = int(k * (win_w if along else win_h) / (n + 1))
            if along:
                bars[:, max(0, at - thin // 2) : at + (thin + 1) // 2] = True
            else:
                bars[max(0, at - thin // 2) : at + (thin + 1) // 2] = True
    colour = np.array(WINDOW_BAR_COLOURS[rng.integers(len(WINDOW_BAR_COLOURS))], np.float32)
    pane[bars] = colour * rng.uniform(0.7, 1.1)

    image, target, valid = room.copy(), room_target.copy(), room_valid.copy()
    region = (slice(y0, y0 + win_h), slice(x0, x0 + win_w))
    image[region] = np.clip(pane + 0.5, 0, 255).astype(np.uint8)
    target[region] = np.where(bars, 0, pane_target)
    valid[region] = np.where(bars, 1, pane_valid)
    return image, target, valid
