"""The edit, apart from any widget: photo, matte, strokes, sky and effect settings (one class of
about 420 lines: every change to the edit goes through it, with its undo step and its signal).

:class:`EditorModel` holds the state and announces every change by signal; the widgets only
show it and forward the user's actions to its methods. Every change to the edit goes through
the model's :class:`~PyQt6.QtGui.QUndoStack` (see :mod:`.commands`), so each stroke and each
setting can be undone; view and tool settings (zoom, overlay, brush size) are not edits.

The model keeps two resolutions: the full photo and its matte, used on export, and a
screen-sized proxy that every preview and brush stroke works on, so a 24 MP photo stays
responsive.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QUndoStack

from skyseg_core.declare import controls, sky_fields
from skyseg_core.effects import looks as _looks
from skyseg_core.effects.params import ReplaceParams
from skyseg_core.pipeline import MatteSource

from . import brush as _brush
from . import commands
from .edit import (  # noqa: F401  (importable from here as before)
    DEFAULT_PROXY_LONG_SIDE,
    GROUPS,
    PLACEMENT,
    BrushSettings,
    EditState,
    SkyChoice,
    ViewSettings,
    _defaults,
    proxy_of,
    sky_driven,
)


class EditorModel(QObject):
    """The state of one edit, with change signals."""

    photoChanged = pyqtSignal()
    matteChanged = pyqtSignal()
    gapTargetNeeded = pyqtSignal()
    """Close gaps is on and the preview's gap target for this matte is not there yet (the
    controller makes it on a thread and hands it to :meth:`set_gap_target`)."""
    skyChanged = pyqtSignal()
    settingsChanged = pyqtSignal(str)  # a group of GROUPS: "replace", "tint" or "relight"
    viewChanged = pyqtSignal()
    brushChanged = pyqtSignal()
    methodChanged = pyqtSignal(str)
    looksChanged = pyqtSignal()
    resultChanged = pyqtSignal()
    renderNeeded = pyqtSignal()

    def __init__(
        self, proxy_long_side: int = DEFAULT_PROXY_LONG_SIDE, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.proxy_long_side = proxy_long_side
        # No Qt parent: destroying the window must not destroy the stack mid-teardown (its
        # destructor emits indexChanged into half-deleted widgets); Python frees it later.
        self.undo_stack = QUndoStack()
        self.path: Path | None = None
        self.metadata = (
            None  # the photo's EXIF, XMP, ICC profile (skyseg_core.metadata.PhotoMetadata)
        )
        self.image: np.ndarray | None = None
        self.proxy: np.ndarray | None = None
        self.scale = 1.0
        self.base_matte: np.ndarray | None = None  # full size, from the method
        self.base_proxy_matte: np.ndarray | None = None
        self.matte: np.ndarray | None = None  # proxy size, with the strokes
        self.strokes: list[_brush.Stroke] = []
        self.gap_target: tuple[np.ndarray, np.ndarray] | None = None
        """(the preview's base matte, its gap target): what close gaps moves it toward."""
        self.matte_generation = 0
        """Counts rebuilds of the preview matte (a stroke's undo patch is valid within one)."""
        self.rebuilder: Callable[[], None] | None = None
        """Asks for the preview matte to be rebuilt off the GUI thread (the controller's)."""
        self.matte_pending = False
        """A rebuild was asked for and is not in yet."""
        self.method = MatteSource().method
        self.sky: SkyChoice | None = None
        self.edit = EditState()
        self.looks: dict[str, dict] = {}
        """The replacement's looks: the bundled ones and your own (:meth:`reload_looks`)."""
        self.look_problems: dict[str, str] = {}
        """Your looks that cannot be used: name -> the one line that says why."""
        self.reload_looks()
        self.view = ViewSettings()
        self.brush = BrushSettings()
        self.result: np.ndarray | None = None  # proxy-size preview of the result
        self.clip = None
        """The open video or timelapse (:class:`effects_gui.clip.ClipFrames`), whose frame
        :attr:`image` is; None for a photo."""
        self.gesture = 0  # settings changed within one gesture merge into one undo step

    # ----------------------------------------------------------------- queries
    @property
    def has_photo(self) -> bool:
        return self.image is not None

    @property
    def has_effects(self) -> bool:
        return bool(self.steps())

    @property
    def modified(self) -> bool:
        """Unsaved work worth asking about: changes since the last export that leave strokes or
        effects (finding the sky alone is not an edit of the photo)."""
        return not self.undo_stack.isClean() and (bool(self.strokes) or self.has_effects)

    def snapshot(self) -> EditState:
        return self.edit  # frozen: changes replace it

    def steps(self) -> list:
        """The effect chain of the edit now (see :meth:`EditState.steps`)."""
        return self.edit.steps(None if self.sky is None else self.sky.source)

    def skies(self, full: bool = False) -> dict:
        """Sky source -> image for :func:`skyseg_core.pipeline.render`: the preview-sized
        copy, or with ``full`` the full image (export)."""
        if self.sky is None:
            return {}
        return {self.sky.source: self.sky.full if full else self.sky.preview}

    # ----------------------------------------------------------------- photo
    def set_photo(
        self,
        path: Path | None,
        image: np.ndarray,
        proxy: np.ndarray,
        scale: float,
        metadata=None,
        clip=None,
    ) -> None:
        """Start a new edit on ``image`` (loaded by a job, with its proxy and metadata), or on
        the first frame of ``clip``."""
        self.clip = clip
        self.path = None if path is None else Path(path)
        self.metadata = metadata
        self.image, self.proxy, self.scale = image, proxy, scale
        self.base_matte = self.base_proxy_matte = self.matte = None
        self.strokes = []
        self.gap_target = None
        self.matte_pending = False
        self.sky = None
        self.edit = EditState()
        self.result = None
        self.undo_stack.clear()
        self.photoChanged.emit()
        self.matteChanged.emit()
        self.skyChanged.emit()
        for group in GROUPS:
            self.settingsChanged.emit(group)
        self.resultChanged.emit()

    def set_frame(self, image: np.ndarray) -> None:
        """Show another frame of the open clip (preview-sized): the edit (sky, settings) kept,
        no matte until :meth:`set_frame_matte` (a frame's matte is the method's, not an edit)."""
        self.image = self.proxy = image
        self.scale = 1.0
        self.base_matte = self.base_proxy_matte = self.matte = None
        self.strokes, self.gap_target, self.matte_pending = [], None, False
        self.result = None
        self.photoChanged.emit()
        self.matteChanged.emit()
        self.resultChanged.emit()

    def set_frame_matte(self, matte: np.ndarray) -> None:
        """The shown frame's matte (no undo step); the preview renders with it."""
        self._put_matte(matte, matte, [])

    @property
    def close_gaps(self) -> float:
        """How far the whole matte is moved to close the gaps in foliage (0 = not at all)."""
        return self.edit.get(commands.MATTE_GROUP).close_gaps

    def restore(self, strokes, params: dict, enabled) -> None:
        """Put back a saved edit's strokes and settings (a reopened session) on the matte found
        now; it is where undo starts."""
        self.edit = EditState(params={**_defaults(), **params}, enabled=frozenset(enabled))
        for group in [*GROUPS, *commands.EDIT_PARAMS]:
            self.settingsChanged.emit(group)
        self.strokes = list(strokes)
        self.undo_stack.clear()
        self._rebuild_matte()

    def full_matte(self) -> np.ndarray:
        """The edited matte at the photo's full size (gaps closed, strokes replayed): the
        export's matte."""
        if self.base_matte is None:
            raise RuntimeError("no matte yet")
        return _brush.edited_matte(self.image, self.base_matte, list(self.strokes), self.close_gaps)

    # ----------------------------------------------------------------- edits (undoable)
    def set_segmentation(self, matte: np.ndarray, proxy_matte: np.ndarray, method: str) -> None:
        self.undo_stack.push(
            commands.MatteCommand(self, matte, proxy_matte, f"Find sky ({method})")
        )

    def paint(self, stroke: _brush.Stroke) -> None:
        if self.matte is not None:
            self.undo_stack.push(commands.StrokeCommand(self, stroke))

    def set_sky(self, sky: SkyChoice | None) -> None:
        text = "Remove sky" if sky is None else f"Sky: {sky.label}"
        self.undo_stack.push(commands.SkyCommand(self, sky, text))

    def set_params(self, group: str, **changes) -> None:
        """Change fields of one effect's parameters (``enabled`` switches tint or relight);
        each changed field is one undo step. Values are validated by the declaration
        (:class:`~skyseg_core.errors.InputError` names the field, its range and the value)."""
        if group not in GROUPS and group not in commands.EDIT_PARAMS:
            raise KeyError(group)
        params = {k: v for k, v in changes.items() if k != "enabled"}
        self.edit.get(group).replace(**params)  # validate all before pushing any
        for key, value in changes.items():
            if self._get_setting(group, key) != value:
                self.undo_stack.push(commands.SettingCommand(self, group, key, value))

    def set_sky_param(self, key: str, value) -> None:
        self.set_params("replace", **{key: value})

    def set_tint(self, **changes) -> None:
        self.set_params("tint", **changes)

    def set_relight(self, **changes) -> None:
        self.set_params("relight", **changes)

    def reset_params(self, group: str, names=None, text: str | None = None) -> None:
        """Set ``names`` (default: every control; the chosen sky stays) to their declared
        defaults, as one undo step."""
        cls = commands.param_class(group)
        fields = controls(cls)
        chosen_elsewhere = sky_fields(cls)[0]  # the sky library's choice
        names = [n for n in fields if n not in chosen_elsewhere] if names is None else names
        self._push_many(
            group,
            {n: fields[n][0].default for n in names},
            text or f"{commands.param_title(group)}: reset",
        )

    def reload_looks(self) -> None:
        """Read the looks again (bundled, then yours from
        :func:`~skyseg_core.effects.looks.looks_folder`)."""
        self.looks = _looks.effect_looks("replace")
        self.look_problems = _looks.user_looks("replace")[1]
        self.looksChanged.emit()

    def save_look(self, name: str, replace: bool = False) -> Path:
        """Save the replacement's controls (not the sky's placement) as your look ``name``;
        :class:`~skyseg_core.effects.looks.LookExistsError` when the name is taken and not
        ``replace``."""
        path = _looks.save_look(name, self.edit.replace, replace=replace)
        self.reload_looks()
        return path

    def apply_look(self, name: str) -> None:
        """The look ``name`` (:attr:`looks`: every replacement control but the sky's placement),
        as one undo step."""
        look = ReplaceParams.from_dict(self.looks[name])
        values = {n: getattr(look, n) for n in controls(ReplaceParams) if n not in PLACEMENT}
        self._push_many("replace", values, f"Sky look: {name}")

    def look(self) -> str | None:
        """The name of the look the replacement controls now match, if any."""
        for name, changes in self.looks.items():
            look = ReplaceParams.from_dict(changes)
            if all(
                getattr(look, n) == getattr(self.edit.replace, n)
                for n in controls(ReplaceParams)
                if n not in PLACEMENT
            ):
                return name
        return None

    def _push_many(self, group: str, values: dict, text: str) -> None:
        changed = {k: v for k, v in values.items() if self._get_setting(group, k) != v}
        if not changed:
            return
        self.new_step()
        self.undo_stack.beginMacro(text)
        for key, value in changed.items():
            self.undo_stack.push(commands.SettingCommand(self, group, key, value))
        self.undo_stack.endMacro()
        self.new_step()

    def new_step(self) -> None:
        """The next setting change starts a new undo step even if it follows quickly."""
        self.gesture += 1

    # ----------------------------------------------------------------- applied by commands
    def _get_setting(self, group: str, key: str):
        if key == "enabled":
            return group in self.edit.enabled
        return getattr(self.edit.get(group), key)

    def _put_setting(self, group: str, key: str, value) -> None:
        if key == "enabled":
            self.edit = self.edit.with_enabled(group, value)
        else:
            self.edit = self.edit.with_params(group, self.edit.get(group).replace(**{key: value}))
        self.settingsChanged.emit(group)
        if group == commands.MATTE_GROUP:
            self._rebuild_matte()
        else:
            self._edited()

    def _put_matte(self, base, base_proxy, strokes) -> None:
        self.base_matte, self.base_proxy_matte = base, base_proxy
        self.strokes = strokes
        self._rebuild_matte()

    def _rebuild_matte(self) -> None:
        """The preview matte from its parts: the method's matte, the gaps closed by the amount
        asked (once their target is there), the strokes on top. Replaying strokes takes time
        (10 strokes on a 2048 px preview: 0.9-1.5 s, ``benchmarks/bench_replay.py``), so with strokes and a
        :attr:`rebuilder` the replay runs off the GUI thread and :meth:`install_matte` puts
        it in; the matte shown meanwhile is the last one (``matte_pending``)."""
        if self.base_proxy_matte is None:
            self.matte_pending = False
            self._install_matte(None)
            return
        target = self.gap_target
        if self.close_gaps > 0 and (target is None or target[0] is not self.base_proxy_matte):
            self.gapTargetNeeded.emit()
        if self.strokes and self.rebuilder is not None:
            self.matte_pending = True
            self.rebuilder()
            return
        self.matte_pending = False
        self._install_matte(
            _brush.replay(self.closed_base(), self.proxy, list(self.strokes), self.scale)
        )

    def closed_base(self) -> np.ndarray:
        """The preview's method matte with its gaps closed as asked (as it is until the gap
        target for it is there)."""
        base, target, amount = self.base_proxy_matte, self.gap_target, self.close_gaps
        if base is None or amount <= 0 or target is None or target[0] is not base:
            return base
        from skyseg_core.detail import close_gaps

        return close_gaps(self.proxy, base, amount, target=target[1])

    def matte_key(self) -> tuple:
        """What the preview matte is made of now: a rebuild made for another key is stale."""
        target = None if self.gap_target is None else id(self.gap_target[1])
        return (id(self.base_proxy_matte), tuple(self.strokes), self.close_gaps, target)

    def install_matte(self, matte: np.ndarray, key: tuple) -> bool:
        """Put in a matte rebuilt off the GUI thread for ``key``; False (nothing done) when
        the edit has changed since."""
        if not self.matte_pending or key != self.matte_key():
            return False
        self.matte_pending = False
        self._install_matte(matte)
        return True

    def _install_matte(self, matte: np.ndarray | None) -> None:
        self.matte = matte
        self.matte_generation += 1
        self.matteChanged.emit()
        self._edited()

    def set_gap_target(self, base: np.ndarray, target: np.ndarray) -> None:
        """The gap target made for the preview matte ``base`` (dropped if that matte is gone)."""
        if base is self.base_proxy_matte:
            self.gap_target = (base, target)
            self._rebuild_matte()

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
            if key == "divider":
                value = float(np.clip(value, 0.0, 1.0))
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
            if key in ("hardness", "flow"):
                value = float(np.clip(value, 0.0 if key == "hardness" else 0.05, 1.0))
            if getattr(self.brush, key) != value:
                setattr(self.brush, key, value)
                changed = True
        if changed:
            self.brushChanged.emit()
