"""The detail stage: each pixel's sky alpha decided from the photo itself, near and inside the
region the network calls sky (one module of about 560 lines: the stage, the editor's brush and
its gap closing all read the same feature maps and model).

The network says *where* sky is, at a few hundred pixels; a gap between leaves is one to five of
those pixels, so it averages gaps and leaves into a grey canopy. This stage looks at every pixel
of a detail-sized copy of the photo (longer side ``working_size``, 640 by default) and asks how
much it looks like the sky *around it* rather than like the foreground around it: local colour
models (Ruzon & Tomasi 2000; Levin et al. 2008 use the same two-colour assumption) built from
the pixels the network is sure of, at two radii, give per pixel the colour differences to the
local sky and foreground means, the two-colour alpha estimate and how much sure sky and
foreground there is nearby. A small learned classifier (a per-pixel MLP, ``sky_detail.onnx``,
trained by ``scripts/train_detail.py`` in minutes on the CPU) turns those features and the
network's own probability into alpha. It runs only in the band where the decision is open: not
deep inside sure sky, not far from any sky. Guided refinement (:mod:`skyseg_core.refine`) then
carries the result to the photo's full resolution along its edges (He & Sun 2015; Wu et al.
2018, Deep Guided Filter, use the same split of low-resolution decision and guided upsampling).

Everything here is plain array code; the model is a self-describing ONNX file pinned by SHA-256
like the other shipped models.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ._threads import compute_threads
from .declare import Declared, control
from .errors import ModelFileError
from .matte import check_image, check_matte, to_float_rgb
from .models import checked_model_file, onnx_session, resolve_model_file

FEATURE_VERSION = 5
"""Bumped whenever :func:`detail_features` changes; the model file records the version it was
trained with and is refused when it differs."""

RADII = (0.03, 0.12)
"""Radii of the local colour models, as fractions of the longer side (a leaf-gap scale and a
canopy scale): each model's window is a Gaussian with the spread of a box of that radius
(:func:`_window`)."""

REFINED_SHRINK = 2
"""The ``refined`` feature's guided filter solves at the working size divided by this (a fast
guided filter: the coefficients at half size, applied at the working size)."""

TEXTURE_RADIUS = 0.008
"""Radius of the local luma deviation, as a fraction of the longer side: leaves are textured at
this scale, sky is smooth."""

SURE_SKY = 0.85
SURE_GROUND = 0.15
"""Network probabilities above / below which a pixel feeds the local sky / foreground model."""

BAND_SKY = 0.985
BAND_SKY_AROUND = 0.96
BAND_FAR = 0.02
BAND_SKY_COLOUR = 0.12
"""The band left to the classifier excludes pixels the network calls sky above ``BAND_SKY`` with
a sure-sky density above ``BAND_SKY_AROUND`` in the smaller window (the inside of an open sky),
and pixels with a sure-sky density under ``BAND_FAR`` in the larger one (far from any sky)
unless their colour is within ``BAND_SKY_COLOUR`` (per channel, RMS) of the photo's own sure
sky: a gap deep inside a canopy. The two densities are those of a straight sky edge about one
radius away (the band as wide as with the box windows of feature version 4)."""

MODEL_NAME = "sky_detail.onnx"
MODEL_ENV = "SKYSEG_DETAIL_MODEL"

_PRIOR_WEIGHT = 1e-3
"""Weight of the image-wide colour in a local mean: where no sure pixel is near, the local model
falls back to the photo's own sky (or foreground) colour instead of dividing by zero."""


def _box(planes: np.ndarray, radius: int) -> np.ndarray:
    size = 2 * radius + 1
    return cv2.boxFilter(planes, -1, (size, size), borderType=cv2.BORDER_REFLECT)


WINDOW_PIXELS_PER_SIGMA = 4
"""A window's Gaussian is blurred on a copy shrunk so its sigma spans about this many pixels."""


def _window(planes: np.ndarray, radius: int) -> np.ndarray:
    """Gaussian-weighted local means of ``planes`` (h, w[, c]) with the spread of a box of
    ``radius`` (sigma = radius / sqrt(3)). A box window ends on a straight edge, and where that
    edge crossed a canopy the local sky density fell to 0 along a straight line, which showed as
    a seam in the matte; a Gaussian fades. Blurred on a copy shrunk by an integer factor and
    enlarged bilinearly: the field is smooth at that scale, and at the canopy radius it costs
    less than the box."""
    sigma = radius / np.sqrt(3.0)
    factor = max(1, int(sigma // WINDOW_PIXELS_PER_SIGMA))
    h, w = planes.shape[:2]
    small = planes
    if factor > 1:
        size = (max(1, round(w / factor)), max(1, round(h / factor)))
        small = cv2.resize(planes, size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    if factor == 1:
        return small
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _local_std(plane: np.ndarray, radius: int) -> np.ndarray:
    mean = _box(plane, radius)
    return np.sqrt(np.maximum(_box(plane * plane, radius) - mean * mean, 0.0))


def _weighted(image: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(h, w, 4): ``image * weight`` and ``weight``, the planes of a local colour model (one
    four-channel window then gives its colour sums and its density)."""
    out = np.empty((*weight.shape, 4), np.float32)
    np.multiply(image, weight[..., None], out=out[..., :3])
    out[..., 3] = weight
    return out


def _global_mean(
    planes: Sequence[np.ndarray], mask: np.ndarray, default: tuple[float, float, float]
):
    """The mean colour of the image (its three planes) where ``mask``, ``default`` where the mask
    is empty. The sums are float32 and sequential (as NumPy sums the rows of an (N, 3) array):
    the two-colour alpha divides by small differences of these means, so their rounding shows."""
    count = int(np.count_nonzero(mask))
    if count < 1:
        return np.array(default, np.float32)
    sums = np.array([np.cumsum(plane[mask])[-1] for plane in planes], np.float32)
    return sums / np.float32(count)


FEATURE_NAMES = (
    "coarse",
    "refined",
    "r",
    "g",
    "b",
    "luma_contrast",
    "texture",
    "row",
    "to_photo_sky_r",
    "to_photo_sky_g",
    "to_photo_sky_b",
    "photo_sky_share",
    *(
        f"{name}_{scale}"
        for scale in ("near", "far")
        for name in (
            "to_sky_r",
            "to_sky_g",
            "to_sky_b",
            "to_ground_r",
            "to_ground_g",
            "to_ground_b",
            "sky_density",
            "ground_density",
            "two_colour_alpha",
            "coarse_mean",
        )
    ),
)


class _Maps:
    """The whole-photo quantities the features are made of (windows run once per photo);
    the per-pixel arithmetic is left to :meth:`rows`, so it runs only where it is needed.

    Each quantity is one contiguous plane: :meth:`rows` gathers the band's pixels of each into a
    contiguous vector and does the arithmetic on those vectors (NumPy on (N, 3) blocks loops
    three values at a time, which cost more than the arithmetic).
    """

    def __init__(self, image: np.ndarray, coarse: np.ndarray, long_side: int | None = None):
        from .refine import refine

        h, w = coarse.shape
        self.shape = (h, w)
        scale = max(h, w) if long_side is None else long_side
        sky_mask, ground_mask = coarse > SURE_SKY, coarse < SURE_GROUND
        self.colours = cv2.split(image)
        self.sky_colour = _global_mean(self.colours, sky_mask, (0.55, 0.7, 0.9))
        self.ground_colour = _global_mean(self.colours, ground_mask, (0.3, 0.3, 0.25))
        self.sky_share = np.float32(np.count_nonzero(sky_mask)) / np.float32(max(1, h * w))
        luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        kernel = np.ones((3, 3), np.uint8)
        self.image = image
        self.coarse = coarse
        self.refined = refine(image, coarse, working_size=-(-max(h, w) // REFINED_SHRINK))
        self.luma_contrast = cv2.dilate(luma, kernel) - cv2.erode(luma, kernel)
        self.texture = _local_std(luma, max(1, round(TEXTURE_RADIUS * scale)))
        sky = _weighted(image, sky_mask.astype(np.float32))
        ground = _weighted(image, ground_mask.astype(np.float32))
        # per radius: sky sums r, g, b, sky density, ground sums r, g, b, ground density, mean
        self.sums: list[list[np.ndarray]] = []
        for fraction in RADII:
            radius = max(1, round(fraction * scale))
            self.sums.append(
                [
                    *cv2.split(_window(sky, radius)),
                    *cv2.split(_window(ground, radius)),
                    _window(coarse, radius),
                ]
            )

    def band(self) -> np.ndarray:
        """(h, w) bool: :func:`detail_band` from the maps, without the per-pixel features."""
        sky_near, sky_far = self.sums[0][3], self.sums[-1][3]
        inside_open_sky = (self.coarse > BAND_SKY) & (sky_near > BAND_SKY_AROUND)
        band = ~inside_open_sky & (sky_far >= BAND_FAR)
        if self.sky_share > 0:  # the sky-coloured test, only where it can still add a pixel
            open_ = np.flatnonzero(~inside_open_sky & ~band)
            to_sky = self.image.reshape(-1, 3)[open_] - self.sky_colour
            band.reshape(-1)[open_] = (to_sky * to_sky).mean(axis=1) < BAND_SKY_COLOUR**2
        return band

    def rows(self, index: np.ndarray | None = None) -> np.ndarray:
        """(N, F) feature rows of the pixels at flat ``index`` (all pixels when None)."""
        h, w = self.shape

        def at(plane: np.ndarray) -> np.ndarray:
            flat = plane.reshape(-1)
            return flat if index is None else np.take(flat, index)

        n = h * w if index is None else len(index)
        # one contiguous row per feature (writing columns of (N, F) strides through memory),
        # turned into (N, F) by one blocked transpose at the end
        out = np.empty((len(FEATURE_NAMES), n), np.float32)
        pixel = [at(plane) for plane in self.colours]
        for feature, plane in enumerate(
            [at(self.coarse), at(self.refined), *pixel, at(self.luma_contrast), at(self.texture)]
        ):
            out[feature] = plane
        row = np.arange(h, dtype=np.float32) / max(1, h - 1)
        out[7] = np.repeat(row, w) if index is None else row[index // w]
        for channel in range(3):
            np.subtract(pixel[channel], self.sky_colour[channel], out=out[8 + channel])
        out[11] = self.sky_share
        sky_prior = _PRIOR_WEIGHT * self.sky_colour
        ground_prior = _PRIOR_WEIGHT * self.ground_colour
        for scale, sums in enumerate(self.sums):
            f = 12 + 10 * scale  # this radius's features
            sky_d, ground_d = at(sums[3]), at(sums[7])
            sky_weight, ground_weight = sky_d + _PRIOR_WEIGHT, ground_d + _PRIOR_WEIGHT
            dot = np.zeros(n, np.float32)  # (pixel - ground mean) . (sky mean - ground mean)
            norm = np.zeros(n, np.float32)  # |sky mean - ground mean|^2
            for channel in range(3):
                sky_mean = np.add(at(sums[channel]), sky_prior[channel])
                sky_mean /= sky_weight
                ground_mean = np.add(at(sums[4 + channel]), ground_prior[channel])
                ground_mean /= ground_weight
                np.subtract(pixel[channel], sky_mean, out=out[f + channel])
                to_ground = np.subtract(pixel[channel], ground_mean, out=out[f + 3 + channel])
                axis = np.subtract(sky_mean, ground_mean, out=sky_mean)
                dot += to_ground * axis
                norm += np.square(axis, out=ground_mean)
            out[f + 6] = sky_d
            out[f + 7] = ground_d
            norm += np.float32(1e-3)
            np.clip(np.divide(dot, norm, out=dot), -1.0, 2.0, out=out[f + 8])
            out[f + 9] = at(sums[8])
        return cv2.transpose(out) if n else out.T.copy()


def _band(coarse, sky_near, sky_far, to_photo_sky_ms, sky_share) -> np.ndarray:
    inside_open_sky = (coarse > BAND_SKY) & (sky_near > BAND_SKY_AROUND)
    sky_coloured = (sky_share > 0) & (to_photo_sky_ms < BAND_SKY_COLOUR**2)
    return ~inside_open_sky & ((sky_far >= BAND_FAR) | sky_coloured)


def detail_features(image: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Per-pixel features of the detail stage.

    Parameters
    ----------
    image : ndarray, shape (h, w, 3), float32 in [0, 1]
        The photo at the detail working size.
    coarse : ndarray, shape (h, w), float32 in [0, 1]
        The network's sky probability at the same size.

    The features: the probability and its guided refinement at this size; the colour, the local
    contrast and texture of the pixel; its row; its difference to the photo's own sure-sky colour
    and how much sure sky the photo has; and per radius of :data:`RADII`, the differences
    to the local sky and foreground means, the densities of sure sky and foreground, the
    two-colour alpha estimate (where the pixel's colour lies between the two means) and the
    network's mean probability around it.

    Returns
    -------
    features : ndarray, shape (h, w, len(FEATURE_NAMES)), float32
    """
    maps = _Maps(image, coarse)
    return maps.rows().reshape(*maps.shape, len(FEATURE_NAMES))


def detail_band(features: np.ndarray) -> np.ndarray:
    """(h, w) bool: the pixels whose alpha the classifier decides (see :data:`BAND_SKY`)."""

    def plane(name: str) -> np.ndarray:
        return features[..., FEATURE_NAMES.index(name)]

    to_sky = features[..., FEATURE_NAMES.index("to_photo_sky_r") :][..., :3]
    return _band(
        plane("coarse"),
        plane("sky_density_near"),
        plane("sky_density_far"),
        (to_sky * to_sky).mean(axis=2),
        plane("photo_sky_share"),
    )


@dataclass
class DetailModel:
    """The detail classifier: an ONNX graph from ``(N, F)`` features to ``(N, 1)`` sky alpha."""

    path: Path
    session: Any  # an onnxruntime.InferenceSession
    working_size: int

    @classmethod
    def load(cls, path: str | Path | None = None) -> DetailModel:
        """The model at ``path``, else ``$SKYSEG_DETAIL_MODEL``, else the bundled one."""
        checked = checked_model_file(MODEL_NAME, explicit=path, env_var=MODEL_ENV)
        # no busy-waiting between runs: the stage runs the MLP once per photo, and spinning
        # threads only take the cores from the rest of the path (same output either way)
        session = onnx_session(checked, "detail model", compute_threads(0), spinning=False)
        meta = session.get_modelmeta().custom_metadata_map
        if meta.get("format") != "skyseg-detail/1":
            raise ModelFileError("not a skyseg detail model (metadata format)", checked)
        features = json.loads(meta.get("features", "[]"))
        if (
            int(meta.get("feature_version", -1)) != FEATURE_VERSION
            or tuple(features) != FEATURE_NAMES
        ):
            raise ModelFileError(
                f"the detail model was trained on other features (version {meta.get('feature_version')}, "
                f"this skyseg computes version {FEATURE_VERSION}); retrain it with scripts/train_detail.py",
                checked,
            )
        return cls(Path(checked), session, int(meta.get("working_size", 640)))

    def alpha(self, features: np.ndarray) -> np.ndarray:
        """(N,) sky alpha for (N, F) feature rows."""
        if features.shape[0] == 0:
            return np.zeros(0, np.float32)
        (out,) = self.session.run(None, {"features": np.ascontiguousarray(features, np.float32)})
        return out[:, 0]


_loaded: dict[str, DetailModel] = {}


def shipped_detail_model() -> DetailModel | None:
    """The detail model (``$SKYSEG_DETAIL_MODEL`` or the bundled file), loaded once per process;
    None when there is none. A file that is there but damaged raises :class:`ModelFileError`."""
    try:
        path = resolve_model_file(MODEL_NAME, env_var=MODEL_ENV)
    except ModelFileError as exc:
        if exc.absent:
            return None
        raise
    key = str(path)
    if key not in _loaded:
        _loaded[key] = DetailModel.load(path)
    return _loaded[key]


def detail_image(image: np.ndarray, model: DetailModel) -> np.ndarray:
    """The photo as the detail stage sees it: shrunk (area) to the model's working size, float32
    RGB in [0, 1]. :func:`skyseg_core.segment` makes it while the network runs."""
    from .methods._base import resize_long_side

    return to_float_rgb(resize_long_side(image, model.working_size))


def detail_matte(
    image: np.ndarray, coarse: np.ndarray, model: DetailModel, small: np.ndarray | None = None
) -> np.ndarray:
    """The detail stage's matte at the detail working size.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        The photo (any dtype :func:`skyseg_core.check_image` accepts), at any size: it is shrunk
        (area) to the model's working size.
    coarse : ndarray, shape (h, w), float32 in [0, 1]
        The network's probability at any size (bilinearly resized to the working size).
    small : ndarray, optional
        ``detail_image(image, model)`` when it was made already.

    Returns
    -------
    matte : ndarray, shape (h', w'), float32 in [0, 1]
        At the working size (the photo's own size when it is smaller): the classifier's alpha in
        the band, the network's probability elsewhere.
    """
    check_image(image)
    check_matte(coarse)
    if small is None:
        small = detail_image(image, model)
    h, w = small.shape[:2]
    if coarse.shape != (h, w):
        coarse = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    coarse = np.clip(coarse, 0.0, 1.0).astype(np.float32, copy=False)
    maps = _Maps(small, coarse)
    band = maps.band()
    matte = coarse.copy()
    matte[band] = model.alpha(maps.rows(np.flatnonzero(band)))
    return np.clip(matte, 0.0, 1.0, out=matte)


def detail_alpha(
    image: np.ndarray,
    coarse: np.ndarray,
    model: DetailModel,
    where: np.ndarray,
    long_side: int | None = None,
) -> np.ndarray:
    """The classifier's alpha at the pixels ``where``, at the image's own size (no band, no
    resizing): the editor's edge-aware brush asks it about every pixel under a stroke, with the
    stroke's probability set to undecided so only the pixels around it build the colour models.

    Parameters
    ----------
    image : ndarray, shape (h, w, 3)
        A photo or a crop of one (any dtype :func:`skyseg_core.check_image` accepts).
    coarse : ndarray, shape (h, w), float32 in [0, 1]
        The probability at the same size (> ``SURE_SKY`` feeds the sky model, < ``SURE_GROUND``
        the foreground one).
    where : ndarray, shape (h, w), bool
    long_side : int, optional
        The length the feature radii (:data:`RADII`, :data:`TEXTURE_RADIUS`) are fractions
        of: the whole photo's longer side at this scale for a crop of it (default: the crop's).

    Returns
    -------
    alpha : ndarray, shape (h, w), float32 in [0, 1]
        The classifier's alpha where ``where``, ``coarse`` elsewhere.
    """
    check_image(image)
    check_matte(coarse)
    if coarse.shape != image.shape[:2] or where.shape != coarse.shape:
        raise ValueError("image, coarse and where must have the same height and width")
    coarse = np.clip(coarse, 0.0, 1.0).astype(np.float32, copy=False)
    maps = _Maps(to_float_rgb(image), coarse, long_side)
    out = coarse.copy()
    out[where] = model.alpha(maps.rows(np.flatnonzero(where)))
    return np.clip(out, 0.0, 1.0, out=out)


GAP_PASSES = 2
"""Passes of :func:`gap_target`: after each, the undecided pixels it is sure are sky feed the sky
colour model of the next (a wide gap fills from its edges inward), as the brush does."""

GAP_TEXTURE = 0.03
"""Local luma deviation (at :data:`TEXTURE_RADIUS`) above which a pixel of the band is foliage
whose gaps :func:`gap_target` reopens; smoother ones (walls, the pale rim of a fisheye frame)
keep the matte's say. On every third fisheye validation photo, ``color`` method, against
opening every pixel of the band: gaps 0.68 -> 0.71 filled, leaves 0.94 -> 0.93 and foreground
away from the sky 0.82 -> 0.93 kept (``scripts/eval_close_gaps.py``, detail model of feature
version 5; version 4: 0.76 -> 0.77, 0.89 -> 0.90, 0.84 -> 0.92)."""


@dataclass(frozen=True)
class GapParams(Declared):
    """The close-gaps control of a finished matte, declared once (the editor's Refine panel and
    its undo steps are made from it)."""

    close_gaps: float = control(
        0.0,
        "Close gaps",
        "make the sky seen through foliage and between branches sky, leaving the leaves: the "
        "detail stage decides every pixel of the matte's band; 0 = off",
        0.0,
        1.0,
    )


def gap_target(
    image: np.ndarray, matte: np.ndarray, model: DetailModel | None = None
) -> np.ndarray:
    """The matte with the sky-coloured gaps of its foliage closed: what :func:`close_gaps` moves
    toward.

    The textured pixels (foliage, :data:`GAP_TEXTURE`) of the matte's band (near the sky, or
    coloured like the photo's own sky) that are not sure sky are left undecided, so only the
    sure sky and foreground around them build the local colour models, and the classifier
    decides each one (:data:`GAP_PASSES` passes).
    Sky is only added: a pixel the classifier calls foreground keeps its value. The decision is
    made at the model's working size and carried to the matte's size along the photo's edges.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        The photo at the matte's size (any dtype :func:`skyseg_core.check_image` accepts).
    matte : ndarray, shape (H, W), float32 in [0, 1]
    model : DetailModel, optional
        Default: the shipped one; without one the matte is returned as it is.

    Returns
    -------
    target : ndarray, shape (H, W), float32 in [0, 1], at least ``matte`` everywhere
    """
    from .methods._base import resize_long_side
    from .refine import refine

    check_image(image)
    check_matte(matte, image.shape[:2])
    model = model or shipped_detail_model()
    if model is None:
        return matte.copy()
    small = to_float_rgb(resize_long_side(image, model.working_size))
    h, w = small.shape[:2]
    coarse = (
        matte if matte.shape == (h, w) else cv2.resize(matte, (w, h), interpolation=cv2.INTER_AREA)
    )
    coarse = np.clip(coarse, 0.0, 1.0).astype(np.float32)
    maps = _Maps(small, coarse)
    undecided = maps.band() & (coarse < SURE_SKY) & (maps.texture > GAP_TEXTURE)
    if not undecided.any():
        return matte.copy()
    guess = np.where(undecided, np.float32(0.5), coarse)
    decided = guess
    for done in range(GAP_PASSES):
        if done:
            guess = np.where(undecided & (decided > SURE_SKY), np.float32(1.0), guess)
        decided = detail_alpha(small, guess, model, undecided)
    raised = np.maximum(coarse, decided)
    if (h, w) == matte.shape:
        return raised
    carried = refine(image, raised, radius=1.5 / max(h, w), eps=1e-4, working_size=max(h, w))
    grown = cv2.resize((raised - coarse > 0.02).astype(np.uint8), matte.shape[::-1])
    grown = cv2.dilate(grown, np.ones((3, 3), np.uint8)).astype(bool)  # only where gaps closed
    return np.where(grown, np.maximum(matte, carried), matte).astype(np.float32)


def close_gaps(
    image: np.ndarray,
    matte: np.ndarray,
    amount: float = 1.0,
    model: DetailModel | None = None,
    target: np.ndarray | None = None,
) -> np.ndarray:
    """``matte`` moved ``amount`` (0..1) of the way to its :func:`gap_target` (given as
    ``target`` when it was computed already): gaps in foliage become sky, leaves stay.

    Returns
    -------
    matte : ndarray, shape (H, W), float32 in [0, 1]
    """
    if amount <= 0:
        return matte.copy()
    if target is None:
        target = gap_target(image, matte, model)
    out = matte + np.float32(min(1.0, amount)) * (target - matte)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
