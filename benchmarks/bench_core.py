"""Core cases: the baseline, refinement alone, and every registered method with and without it."""

from __future__ import annotations

import cv2
import numpy as np

from .harness import case, coarse_matte, landscape, photo


def guided_filter_full_res(
    image: np.ndarray, p: np.ndarray, radius: int = 16, eps: float = 1e-3
) -> np.ndarray:
    """He et al. 2013 guided filter, grey guide, computed at full resolution with box filters."""
    guide = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / np.float32(255)
    size = (2 * radius + 1, 2 * radius + 1)

    def box(x):
        return cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(p)
    a = (box(guide * p) - mean_i * mean_p) / (
        box(guide * guide) - mean_i * mean_i + np.float32(eps)
    )
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


@case("baseline: plain guided filter, full res, grey guide (He 2013, r=16)", baseline=True)
def baseline_guided_filter():
    image = photo()
    p = cv2.resize(coarse_matte(), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return lambda: guided_filter_full_res(image, p)


@case("refine, colour guide (default)")
def refine_color():
    from skyseg_core.refine import refine

    image, matte = photo(), coarse_matte()
    return lambda: refine(image, matte)


@case("refine, colour guide, plain horizon (synthetic landscape)")
def refine_color_landscape():
    from skyseg_core.refine import refine

    image, matte = landscape()
    return lambda: refine(image, matte)


@case("refine, luma guide")
def refine_luma():
    from skyseg_core.refine import refine

    image, matte = photo(), coarse_matte()
    return lambda: refine(image, matte, guide="luma")


@case("refine, colour guide, 16-bit photo")
def refine_color_16bit():
    from skyseg_core.refine import refine

    image, matte = photo(dtype="uint16"), coarse_matte()
    return lambda: refine(image, matte)


def _method_cases() -> None:
    from skyseg_core.methods import _REGISTRY, method_names

    for name in method_names():
        if name == "auto" or not _REGISTRY[name].available():
            continue
        for refined in (False, True):

            def setup(name=name, refined=refined):
                from skyseg_core.segment import segment

                image = photo()
                return lambda: segment(image, method=name, refine=refined)

            setup.__name__ = f"method_{name}_{'refined' if refined else 'raw'}"
            case(f"{name} {'+ refine' if refined else '(raw, upsampled)'}")(setup)


_method_cases()
