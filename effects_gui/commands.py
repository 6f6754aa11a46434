"""Undo commands: each stroke, segmentation, sky choice and setting is one step.

Commands change the model only through its ``_put_*`` methods, so the model announces the
change exactly as for a first edit. Consecutive changes of one setting within a short time
(a slider being dragged) merge into one step, unless :meth:`EditorModel.new_step` was called
in between (a widget's discrete action: adding a gradient stop, picking its colour).
"""

from __future__ import annotations

import time

from PyQt6.QtGui import QUndoCommand

from skyseg_core.declare import controls
from skyseg_core.detail import GapParams
from skyseg_core.effects.registry import REGISTRY

from .brush import apply_stroke

_MERGE_SECONDS = 1.0
_IDS: dict[tuple[str, str], int] = {}

MATTE_GROUP = "matte"
"""The edit's own parameter set beside the effects': the whole matte's (close gaps)."""
EDIT_PARAMS: dict[str, tuple[type, str]] = {MATTE_GROUP: (GapParams, "Matte")}
"""Parameter sets of the edit that are no registered effect: group -> (declaration, title)."""


def param_class(group: str) -> type:
    """The declared parameters of ``group``: a registered effect's, or one of :data:`EDIT_PARAMS`."""
    return EDIT_PARAMS[group][0] if group in EDIT_PARAMS else REGISTRY[group].params


def param_title(group: str) -> str:
    """What panels and undo steps call ``group`` ("Tint", "Matte")."""
    return EDIT_PARAMS[group][1] if group in EDIT_PARAMS else REGISTRY[group].short


def setting_text(group: str, key: str) -> str:
    """``"Sky: Fade edge"``: the effect's short title and the field's declared label."""
    label = "on/off" if key == "enabled" else controls(param_class(group))[key][1].label
    return f"{param_title(group)}: {label}"


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
    """One stroke. Its patch (the rectangle it changed) is valid while the preview matte has
    not been rebuilt since (``matte_generation``); after a rebuild (close gaps changed, a new
    matte) the stroke is applied anew, or the matte rebuilt without it."""

    def __init__(self, model, stroke):
        super().__init__("Add sky stroke" if stroke.add else "Remove sky stroke")
        self.model, self.stroke, self.patch = model, stroke, None
        self.generation = -1

    def redo(self) -> None:
        model = self.model
        if self.patch is not None and self.generation == model.matte_generation:
            self.patch.restore(model.matte, after=True)
        else:
            self.patch = apply_stroke(model.matte, model.proxy, self.stroke, model.scale)
        model.strokes.append(self.stroke)
        self.generation = model.matte_generation
        model._matte_edited()

    def undo(self) -> None:
        model = self.model
        if model.strokes and model.strokes[-1] is self.stroke:
            model.strokes.pop()
        if self.patch is not None and self.generation == model.matte_generation:
            self.patch.restore(model.matte, after=False)
            model._matte_edited()
        else:
            model._rebuild_matte()
        self.generation = model.matte_generation


class MatteCommand(QUndoCommand):
    """A new matte from the method. The brush strokes made so far are kept: they are replayed
    on top of the new matte (the preview now, the full size on export)."""

    def __init__(self, model, base, base_proxy, text: str):
        super().__init__(text)
        self.model = model
        self.old = (model.base_matte, model.base_proxy_matte, list(model.strokes))
        self.new = (base, base_proxy)

    def redo(self) -> None:
        base, base_proxy = self.new
        self.model._put_matte(base, base_proxy, list(self.old[2]))

    def undo(self) -> None:
        self.model._put_matte(*self.old[:2], list(self.old[2]))


class SkyCommand(QUndoCommand):
    def __init__(self, model, sky, text: str):
        super().__init__(text)
        self.model, self.old, self.new = model, model.sky, sky

    def redo(self) -> None:
        self.model._put_sky(self.new)

    def undo(self) -> None:
        self.model._put_sky(self.old)
