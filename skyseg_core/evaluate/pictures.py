"""The pictures of an evaluation report, for a person to look at: the overlay of a prediction on
its photo, the worst images kept as they are measured (:class:`WorstKeeper`) and the worst edge
regions at 100 % (:class:`EdgeKeeper`, :func:`detail_sheet`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..datasets import Sample
from ..depth import to_codes
from ..matte import to_uint8_rgb
from .dataset import load_truth
from .metrics import DEFAULT_THRESHOLD, ImageMetrics, boundary, predicted_sky, truth_labels

DETAIL_REGIONS = 12
"""How many edge regions the report's detail sheet shows, at 100 %."""
DETAIL_WINDOW = 96
"""Side of a detail-sheet region in the photo's own pixels."""


def image_score(record: ImageMetrics) -> float:
    """One number per image for ranking: IoU with sky, ``1 - fp_rate`` without."""
    return record.iou if record.has_sky else 1.0 - record.fp_rate


def overlay(
    image: np.ndarray, truth: np.ndarray, pred: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> np.ndarray:
    """uint8 RGB picture for a person: the photo, the predicted sky tinted magenta, the truth's
    sky boundary in yellow and ignored pixels hatched grey."""
    out = to_uint8_rgb(image).astype(np.float32)
    sky, valid = truth_labels(truth)
    hit = predicted_sky(pred, sky.shape, threshold)
    tint = np.array([255, 0, 255], np.float32)
    out[hit] = 0.55 * out[hit] + 0.45 * tint
    ignored = ~valid
    yy, xx = np.mgrid[0 : ignored.shape[0], 0 : ignored.shape[1]]
    hatch = ignored & ((yy + xx) % 6 < 2)
    out[hatch] = 128
    edge = boundary(sky, valid)
    edge = cv2.dilate(edge.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0
    out[edge] = (255, 230, 0)
    return out.astype(np.uint8)


@dataclass
class EdgeRegion:
    """One region of a detail sheet: where it is, how wrong, and its three pictures."""

    dataset: str
    id: str
    x: int
    y: int
    error: float
    photo: np.ndarray
    matte: np.ndarray
    composite: np.ndarray


MAGENTA = np.array([255, 0, 255], np.float32)


def worst_edge_region(
    pred: np.ndarray, truth: np.ndarray, matte: np.ndarray | None, window: int = DETAIL_WINDOW
) -> tuple[float, int, int, int] | None:
    """(mean error, x, y, side) of the ``window``-sided square with the largest mean matte error
    near the true or predicted sky boundary; None when neither has a boundary."""
    sky, valid = truth_labels(truth)
    edges = boundary(sky, valid) | boundary(pred >= DEFAULT_THRESHOLD, valid)
    if not edges.any():
        return None
    target = sky.astype(np.float32) if matte is None else matte.astype(np.float32)
    near = cv2.dilate(edges.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    error = np.abs(pred.astype(np.float32) - target) * (near & valid)
    h, w = error.shape
    side = max(1, min(window, h, w))
    mean = cv2.boxFilter(error, -1, (side, side), borderType=cv2.BORDER_CONSTANT)
    # only windows wholly inside the photo: their centres lie side // 2 from every border
    half = side // 2
    inside = mean[half : h - (side - 1 - half), half : w - (side - 1 - half)]
    y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
    return float(inside[y, x]), int(x), int(y), side


class EdgeKeeper:
    """Keeps the ``n`` worst edge regions (:func:`worst_edge_region`) of all images seen."""

    def __init__(self, n: int = DETAIL_REGIONS, window: int = DETAIL_WINDOW):
        self.n, self.window = n, window
        self.regions: list[EdgeRegion] = []

    def __call__(
        self, sample: Sample, image: np.ndarray, pred: np.ndarray, record: ImageMetrics
    ) -> None:
        truth, matte = load_truth(sample)
        found = worst_edge_region(pred, truth, matte, self.window)
        if found is None:
            return
        error, x, y, side = found
        if len(self.regions) >= self.n and error <= self.regions[-1].error:
            return
        photo = to_uint8_rgb(image[y : y + side, x : x + side])
        alpha = pred[y : y + side, x : x + side, None].astype(np.float32)
        composite = alpha * MAGENTA + (1 - alpha) * photo.astype(np.float32)
        grey = np.repeat(to_codes(alpha, np.uint8), 3, axis=2)
        self.regions.append(
            EdgeRegion(
                sample.dataset,
                sample.id,
                x,
                y,
                error,
                photo,
                grey,
                composite.round().astype(np.uint8),
            )
        )
        self.regions.sort(key=lambda region: -region.error)
        del self.regions[self.n :]


def detail_sheet(regions: Sequence[EdgeRegion], gap: int = 4) -> np.ndarray:
    """One picture: a row per region (photo, matte, composite), each at 100 %, on white."""
    side = max(max(r.photo.shape[:2]) for r in regions)
    sheet = np.full((len(regions) * (side + gap) + gap, 3 * (side + gap) + gap, 3), 255, np.uint8)
    for row, region in enumerate(regions):
        for column, picture in enumerate((region.photo, region.matte, region.composite)):
            y, x = gap + row * (side + gap), gap + column * (side + gap)
            sheet[y : y + picture.shape[0], x : x + picture.shape[1]] = picture
    return sheet


class WorstKeeper:
    """Keeps the ``n`` worst images (by :func:`image_score`) as small overlay pictures."""

    def __init__(self, n: int = 10, long_side: int = 480, threshold: float = DEFAULT_THRESHOLD):
        self.n, self.long_side, self.threshold = n, long_side, threshold
        self._items: list[tuple[float, ImageMetrics, np.ndarray]] = []

    def __call__(
        self, sample: Sample, image: np.ndarray, pred: np.ndarray, record: ImageMetrics
    ) -> None:
        score = image_score(record)
        if math.isnan(score):
            return
        if len(self._items) >= self.n and score >= self._items[-1][0]:
            return
        truth, _ = load_truth(sample)
        picture = overlay(image, truth, pred, self.threshold)
        h, w = picture.shape[:2]
        scale = self.long_side / max(h, w)
        if scale < 1:
            picture = cv2.resize(
                picture,
                (max(1, round(w * scale)), max(1, round(h * scale))),
                interpolation=cv2.INTER_AREA,
            )
        self._items.append((score, record, picture))
        self._items.sort(key=lambda item: item[0])
        del self._items[self.n :]

    @property
    def worst(self) -> list[tuple[ImageMetrics, np.ndarray]]:
        return [(record, picture) for _, record, picture in self._items]
