"""The controls made from declared parameters (:mod:`skyseg_core.declare`): a labelled slider, the
tint's gradient editor, one :class:`ParamControl` per field (slider, check box, menu, colour
stops, pair) and a :class:`ParamForm` of them for one parameter set.

Each field's label, range, unit, decimals and help (the tooltip) come from its
:class:`~skyseg_core.declare.Control`, its default from the dataclass, so the editor shows what
the library, the command line and the plug-ins use. Each control has its value shown and a
reset button.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable

from PyQt6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QWidget,
)

from skyseg_core.declare import Control, controls
from skyseg_core.effects import mired_shift

from .commands import param_class, param_title


def model_title(group: str) -> str:
    """What the panels and undo steps call the effect ``group`` ("Tint")."""
    return param_title(group)


UNIT_SUFFIX = {"deg": "°", "%": " %", "": ""}


def format_value(value: float, decimals: int, unit: str = "") -> str:
    """``1.50 %``, ``-0.40 EV``, ``45°``: a value as a control shows it.

    Temperatures read in one unit, the warm (+) or cool (-) shift from daylight in mired (the
    sky's temperature, ``+50 mired``); a light's colour temperature in kelvin shows that shift
    first and its kelvin after it (``+159 mired · 3200 K``).
    """
    if unit == "K":
        return f"{_signed(mired_shift(value), 0)} mired · {value:.0f} K"
    if unit == "mired":
        return f"{_signed(value, decimals)} mired"
    suffix = UNIT_SUFFIX.get(unit, f" {unit}")
    return f"{value:.{decimals}f}{suffix}"


def _signed(value: float, decimals: int) -> str:
    """``+28``, ``-70``, and ``0`` unsigned (no ``+0`` or ``-0``)."""
    text = f"{value:+.{decimals}f}"
    return text[1:] if float(text) == 0 else text


class LabeledSlider(QWidget):
    """A horizontal slider over a float range with its value shown; emits ``valueChanged(float)``.

    The slider moves in steps of the shown precision (``decimals``; at most 1000 steps), so
    the value shown is the value set. A double-click on it sets ``default`` (the value it
    starts with unless given), as a user's change.
    """

    valueChanged = pyqtSignal(float)
    resetting = pyqtSignal()
    """A double-click asks for the default (before ``valueChanged``): a new gesture."""
    MAX_STEPS = 1000

    def __init__(
        self,
        minimum: float,
        maximum: float,
        value: float = 0.0,
        decimals: int = 2,
        unit: str = "",
        parent=None,
        default: float | None = None,
    ):
        super().__init__(parent)
        self.default = float(value if default is None else default)
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
        if unit == "K":  # warmer (lower kelvin) to the right, as every temperature slider
            self.slider.setInvertedAppearance(True)
            self.slider.setInvertedControls(True)
            self.label.setMinimumWidth(120)
        elif unit == "mired":
            self.label.setMinimumWidth(68)
        self.slider.valueChanged.connect(self._changed)
        self.slider.installEventFilter(self)
        self.setValue(value)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.slider and event.type() == QEvent.Type.MouseButtonDblClick:
            self.reset()
            return True
        return super().eventFilter(watched, event)

    def reset(self) -> None:
        """Back to the default, as a user's change (``valueChanged`` when it moves)."""
        span = (self.maximum - self.minimum) or 1.0
        self.resetting.emit()
        self.slider.setValue(round((self.default - self.minimum) / span * self.steps))

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
                default = field.default if hint is float else field.default[len(self.sliders)]
                slider = LabeledSlider(
                    ctl.low, ctl.high, ctl.low, ctl.decimals, ctl.unit, default=default
                )
                slider.setObjectName(f"{name}{'_' + axis if axis else ''}")
                slider.valueChanged.connect(self._slid)
                slider.slider.sliderPressed.connect(self.stepStarted.emit)
                slider.resetting.connect(self.stepStarted.emit)
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
        cls = param_class(group)
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
