"""The cut-out as a step: the photo with its sky transparent, run by the pipeline like the effects.

Its output is an RGBA picture (``output="rgba"``), so it is registered into
:data:`~skyseg_core.effects.registry.STEPS` but not offered by the surfaces that composite an RGB
result (effect commands, editor panels): the command line has ``skyseg cutout``, the worker its
``cutout`` op, the editor File > Export cut-out, and GIMP and Krita a procedure or action per
RGBA step ("Cut Out Sky", "Cut out sky": a new layer named after ``layer_name``). It is a chain's last step and has no
layers.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np

from ...cutout import cutout
from ...declare import Declared, control
from ...errors import InputError
from ..registry import Effect, register


@dataclass(frozen=True)
class CutoutParams(Declared):
    """The cut-out (:func:`skyseg_core.cutout.cutout`): alpha = 1 - sky matte."""

    effect: typing.ClassVar[str] = "cutout"
    decontaminate: bool = control(
        True,
        "Free edge colours",
        "estimate the foreground's colours at soft edges (blur-fusion foreground estimation) "
        "instead of keeping the sky-tinted ones",
    )


def _run(image: np.ndarray, matte: np.ndarray, p: CutoutParams, skies=None) -> np.ndarray:
    return cutout(image, matte, decontaminate=p.decontaminate)


def _no_layers(image: np.ndarray, matte: np.ndarray, p: CutoutParams, skies=None):
    raise InputError("a cut-out has no layers; write it as one RGBA image")


EFFECT = register(
    Effect(
        name="cutout",
        params=CutoutParams,
        run=_run,
        run_layers=_no_layers,
        title="Cut out sky",
        short="Cut-out",
        verb="cutout",
        layer_name="Photo without sky",
        needs_sky=False,
        summary="write the photo with the sky transparent (RGBA PNG/TIFF/WebP)",
        description="Write each photo with its sky transparent: alpha = 1 - sky matte, the "
        "colours of soft edges freed of the sky's (blur-fusion foreground estimation).",
        output="rgba",
    )
)
