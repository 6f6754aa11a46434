"""Undo commands: each stroke, segmentation, sky choice and setting is one step.

Commands change the model only through its ``_put_*`` methods, so the model announces the
change exactly as for a first edit. Consecutive changes of one setting within a short time
(a slider being dragged) merge into one step, unless :meth:`EditorModel.new_step` was called
in between (a widget's discrete action: adding a gradient stop, picking its colour).
"""

from __future__ import annotations

import time

import numpy as np
from PyQt6.QtGui import QUndoCommand

from skyseg_core.declare import controls
from skyseg_core.effects.registry import REGISTRY

from .brush import apply_stroke, replay

_MERGE_SECONDS = 1.0
_IDS: dict[tuple[str, str], int] = {}


def setting_text(group: str, key: str) -> str:
    """``"Sky: Fade edge"``: the effect's short title and the field's declared label."""
    effect = REGISTRY[group]
    label = "on/off" if key == "enabled" else controls(effect.params)[key][1].label
    return f"{effect.short}: {label}"


class SettingCommand(QUndoCommand):
    def __init__(self, model, group: str, key: str, value):
        super().__init__(setting_text(group, key))
        self.model, self.group, self.key = model, group, key
        self.old = model._get_setting(group, key)
        self.new = value
        self.stamp = time.monotonic()
        self.gesture = model.gesture

    def id(self) -> int:
        return _IDS.setdefault((self.group, self.key), 1000 + len(_IDS))

    def mergeWith(self, other) -> bool:
        if (
            other.id() != self.id()
            or other.gesture != self.gesture
            or other.stamp - self.stamp > _MERGE_SECONDS
        ):
            return False
        self.new, self.stamp = other.new, other.stamp
        return True

    def redo(self) -> None:
        self.model._put_setting(self.group, self.key, self.new)

    def undo(self) -> None:
        self.model._put_setting(self.group, self.key, self.old)


class StrokeCommand(QUndoCommand):
    def __init__(self, model, stroke):
        super().__init__("Add sky stroke" if stroke.add else "Remove sky stroke")
        self.model, self.stroke, self.patch = model, stroke, None

    def redo(self) -> None:
        model = self.model
        if self.patch is None:
            self.patch = apply_stroke(model.matte, model.proxy, self.stroke, model.scale)
        elif self.patch is not None:
            self.patch.restore(model.matte, after=True)
        model.strokes.append(self.stroke)
        model._matte_edited()

    def undo(self) -> None:
        model = self.model
        if self.patch is not None:
            self.patch.restore(model.matte, after=False)
        if model.strokes and model.strokes[-1] is self.stroke:
            model.strokes.pop()
        model._matte_edited()


class MatteCommand(QUndoCommand):
    """A new matte from the method. The brush strokes made so far are kept: they are replayed
    on top of the new matte (the preview now, the full size on export)."""

    def __init__(self, model, base, base_proxy, text: str):
        super().__init__(text)
        self.model = model
        self.old = (model.base_matte, model.base_proxy_matte, model.matte, list(model.strokes))
        self.new = (base, base_proxy)
        self.brushed: np.ndarray | None = None
        """The new preview matte with the kept strokes replayed (made once)."""

    def redo(self) -> None:
        base, base_proxy = self.new
        strokes = self.old[3]
        if self.brushed is None:
            model = self.model
            self.brushed = replay(base_proxy, model.proxy, strokes, model.scale)
        self.model._put_matte(base, base_proxy, self.brushed.copy(), list(strokes))

    def undo(self) -> None:
        base, base_proxy, matte, strokes = self.old
        self.model._put_matte(base, base_proxy, matte, list(strokes))


class SkyCommand(QUndoCommand):
    def __init__(self, model, sky, text: str):
        super().__init__(text)
        self.model, self.old, self.new = model, model.sky, sky

    def redo(self) -> None:
        self.model._put_sky(self.new)

    def undo(self) -> None:
        self.model._put_sky(self.old)
