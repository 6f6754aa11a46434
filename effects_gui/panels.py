"""Side panels: brush, sky and one panel per registered effect. They show the model and
forward edits.

The effect controls are generated from the declared parameters (:mod:`skyseg_core.declare`):
each field's label, range, unit, decimals and help (the tooltip) come from its
:class:`~skyseg_core.declare.Control`, its default from the dataclass, so the editor shows what
the library, the command line and the plug-ins use. Each control has its value shown and a
reset button; each panel a reset-all. The sky panel drives the effect that needs a sky image
(replace); every other registered effect gets an :class:`EffectPanel`, made from its
registry entry (switch, hint, fields).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable

from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QIcon, QLinearGradient, QPainter, QPen, QPixmap, QPolygonF
from PyQt6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skyseg_core.declare import Control, controls, sky_fields
from skyseg_core.effects.registry import REGISTRY

UNIT_SUFFIX = {"deg": "°", "%": " %", "": ""}


def format_value(value: float, decimals: int, unit: str = "") -> str:
    """``1.50 %``, ``-0.40 EV``, ``45°``: a value as a control shows it."""
    suffix = UNIT_SUFFIX.get(unit, f" {unit}")
    return f"{value:.{decimals}f}{suffix}"


class LabeledSlider(QWidget):
    """A horizontal slider over a float range with its value shown; emits ``valueChanged(float)``.

    The slider moves in steps of the shown precision (``decimals``; at most 1000 steps), so
    the value shown is the value set.
    """

    valueChanged = pyqtSignal(float)
    MAX_STEPS = 1000

    def __init__(
        self,
        minimum: float,
        maximum: float,
        value: float = 0.0,
        decimals: int = 2,
        unit: str = "",
        parent=None,
    ):
        super().__init__(parent)
        self.minimum, self.maximum, self.decimals, self.unit = (
            float(minimum),
            float(maximum),
            decimals,
            unit,
        )
        span = self.maximum - self.minimum
        self.steps = max(1, min(self.MAX_STEPS, round(span * 10**decimals)))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.steps)
        self.slider.setPageStep(max(1, self.steps // 10))
        self.label = QLabel()
        self.label.setMinimumWidth(56)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._changed)
        self.setValue(value)

    def _at(self, steps: int) -> float:
        return round(
            self.minimum + (self.maximum - self.minimum) * steps / self.steps, self.decimals
        )

    def value(self) -> float:
        return self._at(self.slider.value())

    def setValue(self, value: float) -> None:
        span = (self.maximum - self.minimum) or 1.0
        self.slider.blockSignals(True)
        self.slider.setValue(round((float(value) - self.minimum) / span * self.steps))
        self.slider.blockSignals(False)
        self._show(float(value))

    def _show(self, value: float) -> None:
        self.label.setText(format_value(value, self.decimals, self.unit))

    def _changed(self, steps: int) -> None:
        value = self._at(steps)
        self._show(value)
        self.valueChanged.emit(value)


class GradientEditor(QWidget):
    """A gradient bar with stop handles: click the bar to add a stop, drag a handle to move
    it, double-click it to change its colour, right-click it to remove it (two stay)."""

    stopsChanged = pyqtSignal(tuple)
    stepStarted = pyqtSignal()  # a new action (add, remove, recolour, start of a drag)
    HANDLE = 7

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stops: list[tuple[float, tuple[int, int, int]]] = [
            (0.0, (0, 0, 0)),
            (1.0, (255, 255, 255)),
        ]
        self._drag: int | None = None
        self.setMinimumSize(160, 44)
        self.setToolTip(
            "Click to add a stop, drag to move it, double-click to pick its colour, "
            "right-click to remove it"
        )

    def sizeHint(self) -> QSize:
        return QSize(220, 44)

    def set_stops(self, stops) -> None:
        self.stops = [(float(p), tuple(int(c) for c in rgb)) for p, rgb in stops]
        self.update()

    def _bar(self) -> QRectF:
        m = self.HANDLE + 1
        return QRectF(m, 2, self.width() - 2 * m, self.height() - 2 * self.HANDLE - 6)

    def _x(self, pos: float) -> float:
        bar = self._bar()
        return bar.left() + pos * bar.width()

    def _stop_at(self, x: float) -> int | None:
        best = min(range(len(self.stops)), key=lambda i: abs(self._x(self.stops[i][0]) - x))
        return best if abs(self._x(self.stops[best][0]) - x) <= self.HANDLE + 2 else None

    def _colour_at(self, pos: float) -> tuple[int, int, int]:
        stops = sorted(self.stops)
        for (p0, c0), (p1, c1) in zip(stops, stops[1:], strict=False):
            if p0 <= pos <= p1:
                t = 0.0 if p1 == p0 else (pos - p0) / (p1 - p0)
                return tuple(round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True))
        return stops[0][1] if pos < stops[0][0] else stops[-1][1]

    def _emit(self) -> None:
        self.stopsChanged.emit(tuple(sorted(self.stops)))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = self._bar()
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for pos, rgb in self.stops:
            gradient.setColorAt(pos, QColor(*rgb))
        painter.fillRect(bar, QBrush(gradient))
        painter.setPen(QPen(QColor(90, 90, 90)))
        painter.drawRect(bar)
        for pos, rgb in self.stops:
            x, top = self._x(pos), bar.bottom() + 2
            tri = QPolygonF(
                [
                    QPointF(x, top),
                    QPointF(x - self.HANDLE, top + 2 * self.HANDLE),
                    QPointF(x + self.HANDLE, top + 2 * self.HANDLE),
                ]
            )
            painter.setBrush(QColor(*rgb))
            painter.setPen(QPen(QColor(230, 230, 230), 1.2))
            painter.drawPolygon(tri)

    def _pos(self, x: float) -> float:
        bar = self._bar()
        return min(1.0, max(0.0, (x - bar.left()) / max(bar.width(), 1.0)))

    def mousePressEvent(self, event) -> None:
        x = event.position().x()
        index = self._stop_at(x)
        self.stepStarted.emit()
        if event.button() == Qt.MouseButton.RightButton:
            if index is not None and len(self.stops) > 2:
                del self.stops[index]
                self.update()
                self._emit()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if index is None:
            pos = self._pos(x)
            self.stops.append((pos, self._colour_at(pos)))
            index = len(self.stops) - 1
            self.update()
            self._emit()
        self._drag = index

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None:
            self.stops[self._drag] = (self._pos(event.position().x()), self.stops[self._drag][1])
            self.update()
            self._emit()

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None

    def mouseDoubleClickEvent(self, event) -> None:
        index = self._stop_at(event.position().x())
        if index is None:
            return
        pos, rgb = self.stops[index]
        colour = QColorDialog.getColor(QColor(*rgb), self, "Gradient stop colour")
        if colour.isValid():
            self.stepStarted.emit()
            self.stops[index] = (pos, (colour.red(), colour.green(), colour.blue()))
            self.update()
            self._emit()


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _rgb_to_hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _tooltip(ctl: Control, default_text: str) -> str:
    span = ctl.describe_range()
    return f"{ctl.help[:1].upper()}{ctl.help[1:]}" + (
        f" ({span}; default {default_text})" if span else f" (default {default_text})"
    )


class ParamControl(QWidget):
    """The control of one declared parameter: a slider (number), a pair of sliders (x, y), a
    check box (on/off or "the chosen sky"), a menu (choices) or a gradient editor (stops).

    ``edited(value)`` is emitted for a user change, ``stepStarted`` when a new gesture begins
    (a slider pressed, a gradient stop added), so each drag is its own undo step.
    """

    edited = pyqtSignal(object)
    stepStarted = pyqtSignal()

    def __init__(self, name: str, field: dataclasses.Field, ctl: Control, hint, parent=None):
        super().__init__(parent)
        self.name, self.control, self.default, self.hint = name, ctl, field.default, hint
        self.minimum, self.maximum = ctl.low, ctl.high
        self.label = ctl.label
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.sliders: list[LabeledSlider] = []
        if hint is float or hint == tuple[float, float]:
            axes = ("",) if hint is float else ("x", "y")
            for axis in axes:
                if axis:
                    layout.addWidget(QLabel(axis))
                slider = LabeledSlider(ctl.low, ctl.high, ctl.low, ctl.decimals, ctl.unit)
                slider.setObjectName(f"{name}{'_' + axis if axis else ''}")
                slider.valueChanged.connect(self._slid)
                slider.slider.sliderPressed.connect(self.stepStarted.emit)
                layout.addWidget(slider, 1)
                self.sliders.append(slider)
            self.slider = self.sliders[0]
            self.kind = "number" if hint is float else "pair"
        elif hint is bool or hint == (str | None):
            self.kind = "check" if hint is bool else "sky"
            self.check = QCheckBox("the chosen sky" if self.kind == "sky" else "")
            self.check.toggled.connect(self._checked)
            layout.addWidget(self.check)
            layout.addStretch(1)
        elif ctl.choices is not None:
            self.kind = "choice"
            self.combo = QComboBox()
            self.combo.addItems(ctl.choices)
            self.combo.currentTextChanged.connect(self.edited.emit)
            layout.addWidget(self.combo, 1)
        elif hint == tuple[tuple[float, str], ...]:
            self.kind = "stops"
            self.gradient = GradientEditor()
            self.gradient.setObjectName("gradientEditor")
            self.gradient.stepStarted.connect(self.stepStarted.emit)
            self.gradient.stopsChanged.connect(
                lambda stops: self.edited.emit(tuple((p, _rgb_to_hex(rgb)) for p, rgb in stops))
            )
            layout.addWidget(self.gradient, 1)
        else:
            raise TypeError(f"{name}: no editor control for {hint!r}")
        self.sky_source: Callable[[], str | None] = lambda: None
        self.set_value(self.default)
        self.setToolTip(_tooltip(ctl, self.text(self.default)))

    def text(self, value) -> str:
        """A value as this control shows it."""
        if self.kind == "number":
            return format_value(value, self.control.decimals, self.control.unit)
        if self.kind == "pair":
            return ", ".join(
                format_value(v, self.control.decimals, self.control.unit) for v in value
            )
        if self.kind == "check":
            return "on" if value else "off"
        if self.kind == "sky":
            return "the chosen sky" if value else "off"
        if self.kind == "stops":
            return ", ".join(f"{p:g} {c}" for p, c in value)
        return str(value)

    def value(self):
        if self.kind == "number":
            return self.slider.value()
        if self.kind == "pair":
            return tuple(s.value() for s in self.sliders)
        if self.kind == "check":
            return self.check.isChecked()
        if self.kind == "sky":
            return self._sky_value
        if self.kind == "choice":
            return self.combo.currentText()
        return tuple((p, _rgb_to_hex(rgb)) for p, rgb in sorted(self.gradient.stops))

    def set_value(self, value) -> None:
        """Show ``value`` (from the model) without emitting ``edited``."""
        self.blockSignals(True)
        try:
            if self.kind == "number":
                self.slider.setValue(value)
            elif self.kind == "pair":
                for slider, v in zip(self.sliders, value, strict=True):
                    slider.setValue(v)
            elif self.kind in ("check", "sky"):
                if self.kind == "sky":
                    self._sky_value = value
                self.check.blockSignals(True)
                self.check.setChecked(bool(value) if self.kind == "check" else value is not None)
                self.check.blockSignals(False)
            elif self.kind == "choice":
                self.combo.blockSignals(True)
                self.combo.setCurrentText(value)
                self.combo.blockSignals(False)
            else:
                self.gradient.set_stops((p, _hex_to_rgb(c)) for p, c in value)
        finally:
            self.blockSignals(False)

    def _slid(self, _value: float) -> None:
        self.edited.emit(self.value())

    def _checked(self, on: bool) -> None:
        if self.kind == "sky":
            self._sky_value = self.sky_source() if on else None
            self.edited.emit(self._sky_value)
        else:
            self.edited.emit(on)


class ParamForm(QWidget):
    """One effect's declared parameters as rows: label, control (with its value), reset."""

    def __init__(self, model, group: str, skip: tuple[str, ...] = (), parent=None):
        super().__init__(parent)
        self.model, self.group = model, group
        cls = REGISTRY[group].params
        hints = typing.get_type_hints(cls)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        self.controls: dict[str, ParamControl] = {}
        self.titles: dict[str, QLabel] = {}
        self.resets: dict[str, QToolButton] = {}
        for row, (name, (field, ctl)) in enumerate(
            (n, fc) for n, fc in controls(cls).items() if n not in skip
        ):
            widget = ParamControl(name, field, ctl, hints[name])
            widget.setObjectName(f"{group}_{name}")
            title = QLabel(ctl.label)
            title.setToolTip(widget.toolTip())
            title.setBuddy(widget)
            reset = QToolButton()
            reset.setObjectName(f"reset_{group}_{name}")
            reset.setText("↺")
            reset.setAutoRaise(True)
            reset.setToolTip(f"Reset {ctl.label} to {widget.text(field.default)}")
            widget.edited.connect(lambda v, n=name: model.set_params(group, **{n: v}))
            widget.stepStarted.connect(model.new_step)
            reset.clicked.connect(
                lambda _c=False, n=name: model.reset_params(
                    group, [n], f"{model_title(group)}: reset {controls(cls)[n][1].label}"
                )
            )
            grid.addWidget(title, row, 0)
            grid.addWidget(widget, row, 1)
            grid.addWidget(reset, row, 2)
            self.controls[name], self.titles[name], self.resets[name] = widget, title, reset
        model.settingsChanged.connect(lambda g: g == group and self.refresh())
        self.refresh()

    def refresh(self) -> None:
        params = self.model.edit.get(self.group)
        for name, widget in self.controls.items():
            value = getattr(params, name)
            widget.set_value(value)
            self.resets[name].setEnabled(widget.isEnabled() and value != widget.default)

    def set_enabled(self, on: bool, names=None) -> None:
        for name in names or self.controls:
            for widget in (self.controls[name], self.titles[name]):
                widget.setEnabled(on)
        self.refresh()


def model_title(group: str) -> str:
    return REGISTRY[group].short


def _reset_all_button(model, group: str) -> QPushButton:
    button = QPushButton("↺ Reset all")
    button.setObjectName(f"reset_all_{group}")
    button.setToolTip("Every control of this panel back to its default")
    button.clicked.connect(lambda: model.reset_params(group))
    return button


def _form() -> tuple[QWidget, QFormLayout]:
    widget = QWidget()
    form = QFormLayout(widget)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return widget, form


def _hint(text: str) -> QLabel:
    """A grey, wrapped line of help under a panel's controls."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: gray")
    return label


class BrushPanel(QWidget):
    """Brush mode, size, hardness, edge-aware; overlay opacity."""

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        modes = QHBoxLayout()
        self.add_button = QRadioButton("Add sky")
        self.remove_button = QRadioButton("Remove sky")
        modes.addWidget(self.add_button)
        modes.addWidget(self.remove_button)
        layout.addLayout(modes)
        form_widget, form = _form()
        self.size = LabeledSlider(1, 300, model.brush.radius, 0, "px")
        self.hardness = LabeledSlider(0, 1, model.brush.hardness)
        self.edge_aware = QCheckBox("Follow edges")
        self.edge_aware.setToolTip(
            "Re-run the edge-aware refinement under each stroke, so a rough "
            "stroke along a tree line snaps to it"
        )
        self.opacity = LabeledSlider(0, 1, model.view.opacity)
        form.addRow("Size", self.size)
        form.addRow("Hardness", self.hardness)
        form.addRow("", self.edge_aware)
        form.addRow("Overlay", self.opacity)
        layout.addWidget(form_widget)
        hint = _hint("B: add sky   E: remove sky   [ ]: size   O: overlay   \\: before/after")
        layout.addWidget(hint)
        layout.addStretch(1)
        self.add_button.toggled.connect(lambda on: on and model.set_brush(add=True, tool="brush"))
        self.remove_button.toggled.connect(
            lambda on: on and model.set_brush(add=False, tool="brush")
        )
        self.size.valueChanged.connect(lambda v: model.set_brush(radius=v))
        self.hardness.valueChanged.connect(lambda v: model.set_brush(hardness=v))
        self.edge_aware.toggled.connect(lambda on: model.set_brush(edge_aware=on))
        self.opacity.valueChanged.connect(lambda v: model.set_view(opacity=v))
        model.brushChanged.connect(self.refresh)
        model.viewChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        brush = self.model.brush
        for widget, value in (
            (self.add_button, brush.add),
            (self.remove_button, not brush.add),
            (self.edge_aware, brush.edge_aware),
        ):
            widget.blockSignals(True)
            widget.setChecked(value)
            widget.blockSignals(False)
        self.size.setValue(brush.radius)
        self.hardness.setValue(brush.hardness)
        self.opacity.setValue(self.model.view.opacity)


class SkyLibraryView(QListWidget):
    """The sky library as a grid of thumbnails; files or folders dropped on it are added."""

    filesDropped = pyqtSignal(list)
    removeRequested = pyqtSignal(str)
    THUMB = QSize(96, 60)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("skyLibrary")
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(self.THUMB)
        self.setGridSize(QSize(self.THUMB.width() + 10, self.THUMB.height() + 26))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.setMinimumHeight(self.THUMB.height() + 40)
        self.setDragEnabled(False)
        self.setDragDropMode(QListWidget.DragDropMode.DropOnly)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.setToolTip(
            "Click a sky to put it in. Drop sky files or folders here to add them "
            "to your library (kept for next time); right-click one of yours to remove it"
        )

    def sources(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def _menu(self, pos) -> None:
        from PyQt6.QtWidgets import QMenu

        item = self.itemAt(pos)
        if item is None or not item.data(Qt.ItemDataRole.UserRole + 1):
            return
        menu = QMenu(self)
        action = menu.addAction("Remove from the library")
        if menu.exec(self.viewport().mapToGlobal(pos)) is action:
            self.removeRequested.emit(item.data(Qt.ItemDataRole.UserRole))

    def dragEnterEvent(self, event) -> None:
        from .canvas import local_paths

        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        from .canvas import local_paths

        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.filesDropped.emit(paths)


class SkyPanel(QWidget):
    """The one "Sky" panel: the sky library on top (as tall as the panel lets it be), then
    the looks and every replacement control of the recipe, in a scroll area."""

    skyRequested = pyqtSignal(object)  # a library source: a path or a bundled/preset name
    openSkyRequested = pyqtSignal()
    addFolderRequested = pyqtSignal()

    def __init__(self, model, group: str, parent=None):
        from PyQt6.QtWidgets import QScrollArea, QSplitter

        super().__init__(parent)
        self.model, self.group = model, group
        effect = REGISTRY[group]
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.palette = self.library = SkyLibraryView()
        top_layout.addWidget(self.library, 1)
        buttons = QHBoxLayout()
        style = self.style()
        self.open_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_FileIcon), "Add skies…"
        )
        self.open_button.setToolTip("Add sky images to your library and put the first in")
        self.folder_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_DirIcon), "Add folder…"
        )
        self.folder_button.setToolTip(
            "Add a folder of your own skies to the library (kept for next time)"
        )
        self.none_button = QPushButton("Original sky")
        self.none_button.setToolTip("Take the new sky out")
        for button in (self.open_button, self.folder_button, self.none_button):
            buttons.addWidget(button)
        top_layout.addLayout(buttons)
        self.splitter.addWidget(top)

        controls_widget = QWidget()
        layout = QVBoxLayout(controls_widget)
        layout.setContentsMargins(0, 0, 0, 0)
        looks = QHBoxLayout()
        looks.addWidget(QLabel("Look"))
        self.looks: dict[str, QPushButton] = {}
        fields = controls(effect.params)
        for name, changes in effect.looks.items():
            button = QPushButton(name)
            button.setObjectName(f"look_{name}")
            button.setCheckable(True)
            button.setStyleSheet(
                "QPushButton:checked { background-color: palette(highlight); "
                "color: palette(highlighted-text); }"
            )
            button.setToolTip(
                "The defaults"
                if not changes
                else "From the defaults: "
                + ", ".join(f"{fields[k][1].label} {v:g}" for k, v in changes.items())
            )
            button.clicked.connect(lambda _c=False, n=name: model.apply_look(n))
            looks.addWidget(button)
            self.looks[name] = button
        layout.addLayout(looks)
        self.form = ParamForm(model, group, skip=tuple(sky_fields(effect.params)[0]))
        self.controls = self.form.controls
        self.sliders = {name: c.slider for name, c in self.controls.items() if c.kind == "number"}
        layout.addWidget(self.form)
        reset_row = QHBoxLayout()
        reset_row.addWidget(_hint("V: drag the sky into place"), 1)
        self.reset_all = _reset_all_button(model, group)
        reset_row.addWidget(self.reset_all)
        layout.addLayout(reset_row)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(controls_widget)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        self.library.itemClicked.connect(
            lambda item: self.skyRequested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.open_button.clicked.connect(self.openSkyRequested.emit)
        self.folder_button.clicked.connect(self.addFolderRequested.emit)
        self.none_button.clicked.connect(lambda: model.set_sky(None))
        model.settingsChanged.connect(lambda changed: changed == group and self.refresh())
        model.skyChanged.connect(self.refresh)
        self.refresh()

    def set_library(self, items) -> None:
        """Show ``(SkyEntry, QImage)`` thumbnails, in order."""
        self.library.clear()
        for entry, qimage in items:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(qimage)), entry.label)
            item.setData(Qt.ItemDataRole.UserRole, entry.source)
            item.setData(Qt.ItemDataRole.UserRole + 1, entry.own)
            item.setToolTip(entry.source if entry.own else f"{entry.label} (bundled)")
            self.library.addItem(item)
        self._highlight()

    def _highlight(self) -> None:
        from .library import same_source

        chosen = None if self.model.sky is None else self.model.sky.source
        self.library.clearSelection()
        for i in range(self.library.count()):
            item = self.library.item(i)
            if same_source(item.data(Qt.ItemDataRole.UserRole), chosen):
                item.setSelected(True)
                self.library.setCurrentItem(item)
                self.library.scrollToItem(item)
                break

    def refresh(self) -> None:
        on = self.model.sky is not None
        self.form.set_enabled(on)
        look = self.model.look()
        for name, button in self.looks.items():
            button.setChecked(name == look)
            button.setEnabled(on)
        self.reset_all.setEnabled(on)
        self.none_button.setEnabled(on)
        self._highlight()


class EffectPanel(QWidget):
    """The panel of one switched effect (tint, relight, ...), made from its registry entry: its
    switch, its declared fields, its hint, a reset-all.

    A sky field takes the chosen sky (it is offered while a sky is chosen); a field declared
    ``unless`` another is greyed out while that one is in use.
    """

    def __init__(self, model, group: str, parent=None):
        super().__init__(parent)
        self.model, self.group = model, group
        effect = REGISTRY[group]
        layout = QVBoxLayout(self)
        self.enabled = QCheckBox(effect.switch or effect.short)
        self.enabled.setObjectName(f"enable_{group}")
        layout.addWidget(self.enabled)
        self.form = ParamForm(model, group)
        self.controls = self.form.controls
        self.skies = sky_fields(effect.params)[1]
        for name in self.skies:
            self.controls[name].sky_source = lambda: None if model.sky is None else model.sky.source
        layout.addWidget(self.form)
        if effect.hint:
            layout.addWidget(_hint(effect.hint))
        self.reset_all = _reset_all_button(model, group)
        layout.addWidget(self.reset_all, 0, Qt.AlignmentFlag.AlignRight)
        layout.addStretch(1)
        self.enabled.toggled.connect(lambda on: model.set_params(group, enabled=on))
        model.settingsChanged.connect(lambda changed: changed == group and self.refresh())
        if self.skies:
            model.skyChanged.connect(self.refresh)
        self.refresh()

    def _in_use(self, params, name: str) -> bool:
        """Whether field ``name`` is set and takes effect (a sky field: only with a chosen sky)."""
        value = getattr(params, name)
        if name in self.skies:
            return value is not None and self.model.sky is not None
        return bool(value)

    def refresh(self) -> None:
        m = self.model
        on = self.group in m.edit.enabled
        params = m.edit.get(self.group)
        self.enabled.blockSignals(True)
        self.enabled.setChecked(on)
        self.enabled.blockSignals(False)
        self.form.set_enabled(on)
        for name in self.skies:
            offered = m.sky is not None or getattr(params, name) is not None
            self.form.set_enabled(on and offered, [name])
        for name, widget in self.controls.items():
            other = widget.control.unless
            if other is not None:
                self.form.set_enabled(on and not self._in_use(params, other), [name])
        self.reset_all.setEnabled(on)
