"""The controls made from declared parameters (:mod:`skyseg_core.declare`): a labelled slider,
one :class:`ParamControl` per field (slider, check box, menu, colour stops through
:mod:`effects_gui.gradient_editor`, pair) and a :class:`ParamForm` of them for one parameter set.

Each field's label, range, unit, decimals and help (the tooltip) come from its
:class:`~skyseg_core.declare.Control`, its default from the dataclass, so the editor shows what
the library, the command line and the plug-ins use. Each control has its value shown and a
reset button.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable

from PyQt6.QtCore import QEvent, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QWidget,
)

from skyseg_core.declare import Control, controls
from skyseg_core.effects import mired_shift

from .commands import param_class, param_title
from .gradient_editor import GradientEditor


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


def reset_all_button(model, group: str) -> QPushButton:
    """A panel's \"Reset all\" button: every control of ``group`` back to its default."""
    button = QPushButton("↺ Reset all")
    button.setObjectName(f"reset_all_{group}")
    button.setToolTip("Every control of this panel back to its default")
    button.clicked.connect(lambda: model.reset_params(group))
    return button


def new_form() -> tuple[QWidget, QFormLayout]:
    """A widget with a form layout whose fields take the width."""
    widget = QWidget()
    form = QFormLayout(widget)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return widget, form


def hint_label(text: str) -> QLabel:
    """A grey, wrapped line of help under a panel's controls."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: gray")
    return label
