"""The edit, apart from any widget: photo, matte, strokes, sky and effect settings.

:class:`EditorModel` holds the state and announces every change by signal; the widgets only
show it and forward the user's actions to its methods. Every change to the edit goes through
the model's :class:`~PyQt6.QtGui.QUndoStack` (see :mod:`.commands`), so each stroke and each
setting can be undone; view and tool settings (zoom, overlay, brush size) are not edits.

The model keeps two resolutions: the full photo and its matte, used on export, and a
screen-sized proxy that every preview and brush stroke works on, so a 24 MP photo stays
responsive.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QUndoStack

from . import brush as _brush
from . import commands

DEFAULT_PROXY_LONG_SIDE = 2048

SKY_DEFAULTS = {
    "shift_edge": 0.0,
    "fade_edge": 0.0,
    "color_match": 0.0,
    "halo": 0.0,
    "defocus": 0.0,
    "flip": False,
    "position": (0.5, 0.5),
    "scale": 1.0,
}
"""Keyword arguments of ``skyseg_core.effects.replace_sky`` the editor controls."""


@dataclass(frozen=True)
class TintSettings:
    enabled: bool = False
    stops: tuple = ((0.0, (255, 140, 60)), (1.0, (70, 90, 200)))
    angle: float = 90.0
    mode: str = "soft_light"
    strength: float = 0.7


@dataclass(frozen=True)
class RelightSettings:
    enabled: bool = False
    strength: float = 0.6
    use_sky: bool = True  # target is the new sky; otherwise the colour temperature below
    kelvin: float = 4500.0


@dataclass
class SkyChoice:
    """A replacement sky: its label, the full image (export) and a preview-sized copy."""

    label: str
    full: np.ndarray
    preview: np.ndarray


@dataclass
class ViewSettings:
    mode: str = "result"  # "overlay" (photo + matte overlay), "matte", "result"
    overlay: bool = True
    opacity: float = 0.5
    before: bool = False


@dataclass
class BrushSettings:
    tool: str = "pan"  # "pan", "brush", "move_sky"
    add: bool = True
    radius: float = 40.0  # in preview pixels
    hardness: float = 0.5
    edge_aware: bool = False


@dataclass
class EditState:
    """Everything the effects depend on, copied for a render or an export job."""

    sky_params: dict = field(default_factory=lambda: dict(SKY_DEFAULTS))
    tint: TintSettings = TintSettings()
    relight: RelightSettings = RelightSettings()


def proxy_of(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """A uint8 copy of ``image`` whose longer side is at most ``long_side``, and its scale."""
    import cv2

    from skyseg_core.matte import to_uint8_rgb

    h, w = image.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    small = image
    if scale < 1.0:
        # OpenCV's area resampling is fast only for integer factors: shrink by the largest one
        # first, then the remaining factor (0.5..1) bilinearly. 12 MP to 2048 px: ~20 ms, not ~160.
        factor = int(1.0 / scale)
        if factor >= 2:
            small = cv2.resize(image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        if small.shape[1::-1] != size:
            small = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(to_uint8_rgb(small)), scale


class EditorModel(QObject):
    """The state of one edit, with change signals."""

    photoChanged = pyqtSignal()
    matteChanged = pyqtSignal()
    skyChanged = pyqtSignal()
    settingsChanged = pyqtSignal(str)  # "sky", "tint" or "relight"
    viewChanged = pyqtSignal()
    brushChanged = pyqtSignal()
    methodChanged = pyqtSignal(str)
    resultChanged = pyqtSignal()
    renderNeeded = pyqtSignal()

    def __init__(self, proxy_long_side: int = DEFAULT_PROXY_LONG_SIDE, parent: QObject | None = None):
        super().__init__(parent)
        self.proxy_long_side = proxy_long_side
        # No Qt parent: destroying the window must not destroy the stack mid-teardown (its
        # destructor emits indexChanged into half-deleted widgets); Python frees it later.
        self.undo_stack = QUndoStack()
        self.path: Path | None = None
        self.image: np.ndarray | None = None
        self.proxy: np.ndarray | None = None
        self.scale = 1.0
        self.base_matte: np.ndarray | None = None  # full size, from the method
        self.base_proxy_matte: np.ndarray | None = None
        self.matte: np.ndarray | None = None  # proxy size, with the strokes
        self.strokes: list[_brush.Stroke] = []
        self.method = "auto"
        self.sky: SkyChoice | None = None
        self.edit = EditState()
        self.view = ViewSettings()
        self.brush = BrushSettings()
        self.result: np.ndarray | None = None  # proxy-size preview of the result
        self.gesture = 0  # settings changed within one gesture merge into one undo step

    # ----------------------------------------------------------------- queries
    @property
    def has_photo(self) -> bool:
        return self.image is not None

    @property
    def has_effects(self) -> bool:
        return self.sky is not None or self.edit.tint.enabled or self.edit.relight.enabled

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def snapshot(self) -> EditState:
        return copy.deepcopy(self.edit)

    # ----------------------------------------------------------------- photo
    def set_photo(self, path: Path | None, image: np.ndarray, proxy: np.ndarray, scale: float) -> None:
        """Start a new edit on ``image`` (loaded by a job, with its proxy)."""
        self.path = None if path is None else Path(path)
        self.image, self.proxy, self.scale = image, proxy, scale
        self.base_matte = self.base_proxy_matte = self.matte = None
        self.strokes = []
        self.sky = None
        self.edit = EditState()
        self.result = None
        self.undo_stack.clear()
        self.photoChanged.emit()
        self.matteChanged.emit()
        self.skyChanged.emit()
        for group in ("sky", "tint", "relight"):
            self.settingsChanged.emit(group)
        self.resultChanged.emit()

    def full_matte(self) -> np.ndarray:
        """The edited matte at the photo's full size (strokes replayed): the export's matte."""
        if self.base_matte is None:
            raise RuntimeError("no matte yet")
        return _brush.replay(self.base_matte, self.image, list(self.strokes), 1.0)

    # ----------------------------------------------------------------- edits (undoable)
    def set_segmentation(self, matte: np.ndarray, proxy_matte: np.ndarray, method: str) -> None:
        self.undo_stack.push(commands.MatteCommand(self, matte, proxy_matte, f"Find sky ({method})"))

    def paint(self, stroke: _brush.Stroke) -> None:
        if self.matte is not None:
            self.undo_stack.push(commands.StrokeCommand(self, stroke))

    def set_sky(self, sky: SkyChoice | None) -> None:
        text = "Remove sky" if sky is None else f"Sky: {sky.label}"
        self.undo_stack.push(commands.SkyCommand(self, sky, text))

    def set_sky_param(self, key: str, value) -> None:
        if key not in SKY_DEFAULTS:
            raise KeyError(key)
        if self.edit.sky_params[key] != value:
            self.undo_stack.push(commands.SettingCommand(self, "sky", key, value))

    def new_step(self) -> None:
        """The next setting change starts a new undo step even if it follows quickly."""
        self.gesture += 1

    def set_tint(self, **changes) -> None:
        self._push_settings("tint", changes)

    def set_relight(self, **changes) -> None:
        self._push_settings("relight", changes)

    def _push_settings(self, group: str, changes: dict) -> None:
        current = getattr(self.edit, group)
        for key, value in changes.items():
            if getattr(current, key) != value:
                self.undo_stack.push(commands.SettingCommand(self, group, key, value))

    # ----------------------------------------------------------------- applied by commands
    def _get_setting(self, group: str, key: str):
        if group == "sky":
            return self.edit.sky_params[key]
        return getattr(getattr(self.edit, group), key)

    def _put_setting(self, group: str, key: str, value) -> None:
        if group == "sky":
            self.edit.sky_params[key] = value
        else:
            setattr(self.edit, group, replace(getattr(self.edit, group), **{key: value}))
        self.settingsChanged.emit(group)
        self._edited()

    def _put_matte(self, base, base_proxy, matte, strokes) -> None:
        self.base_matte, self.base_proxy_matte, self.matte = base, base_proxy, matte
        self.strokes = strokes
        self.matteChanged.emit()
        self._edited()

    def _put_sky(self, sky: SkyChoice | None) -> None:
        self.sky = sky
        self.skyChanged.emit()
        self._edited()

    def _matte_edited(self) -> None:
        self.matteChanged.emit()
        self._edited()

    def _edited(self) -> None:
        if self.has_effects:
            self.renderNeeded.emit()
        elif self.result is not None:
            self.set_result(None)

    def set_result(self, result: np.ndarray | None) -> None:
        self.result = result
        self.resultChanged.emit()

    # ----------------------------------------------------------------- view and tools (not edits)
    def set_method(self, name: str) -> None:
        if name != self.method:
            self.method = name
            self.methodChanged.emit(name)

    def set_view(self, **changes) -> None:
        changed = False
        for key, value in changes.items():
            if getattr(self.view, key) != value:
                setattr(self.view, key, value)
                changed = True
        if changed:
            self.viewChanged.emit()

    def set_brush(self, **changes) -> None:
        changed = False
        for key, value in changes.items():
            if key == "radius":
                value = float(np.clip(value, 1.0, 500.0))
            if getattr(self.brush, key) != value:
                setattr(self.brush, key, value)
                changed = True
        if changed:
            self.brushChanged.emit()
