"""Side panels: brush and one panel per registered effect (the sky panel in
:mod:`effects_gui.sky_panel`). They show the model and forward edits.

The effect controls are generated from the declared parameters (:mod:`effects_gui.controls`);
each panel has a reset-all. The sky panel drives the effect that needs a sky image (replace);
every other registered effect gets an :class:`EffectPanel`, made from its registry entry
(switch, hint, fields).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from skyseg_core.declare import sky_fields
from skyseg_core.effects.registry import REGISTRY

from .commands import MATTE_GROUP
from .controls import LabeledSlider, ParamForm, hint_label, new_form, reset_all_button
from .model import BrushSettings, ViewSettings


class BrushPanel(QWidget):
    """Brush mode, size, hardness, strength, edge-aware; overlay opacity."""

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
        form_widget, form = new_form()
        defaults = BrushSettings()
        self.size = LabeledSlider(1, 300, model.brush.radius, 0, "px", default=defaults.radius)
        self.hardness = LabeledSlider(0, 1, model.brush.hardness, default=defaults.hardness)
        self.flow = LabeledSlider(0.05, 1, model.brush.flow, default=defaults.flow)
        self.flow.setToolTip("How far one stroke moves the matte (flow): lower builds up gently")
        self.edge_aware = QCheckBox("Follow edges")
        self.edge_aware.setToolTip(
            "Add sky decides each pixel under the stroke from the photo (the detail stage): "
            "over a tree the sky-coloured gaps become sky and the leaves stay; a rough "
            "stroke along a tree line follows it"
        )
        self.opacity = LabeledSlider(0, 1, model.view.opacity, default=ViewSettings().opacity)
        form.addRow("Size", self.size)
        form.addRow("Hardness", self.hardness)
        form.addRow("Strength", self.flow)
        form.addRow("", self.edge_aware)
        form.addRow("Overlay", self.opacity)
        layout.addWidget(form_widget)
        self.matte_form = ParamForm(model, MATTE_GROUP)  # the whole matte: close gaps
        self.matte_form.setObjectName("matteForm")
        self.close_gaps = self.matte_form.controls["close_gaps"].slider
        layout.addWidget(self.matte_form)
        hint = hint_label(
            "B: add sky   E: remove sky   [ ]: size   Shift+[ ]: hardness   Space+drag: pan   "
            "O: overlay   \\: before/after   double-click a slider: its default"
        )
        layout.addWidget(hint)
        layout.addStretch(1)
        self.add_button.toggled.connect(lambda on: on and model.set_brush(add=True, tool="brush"))
        self.remove_button.toggled.connect(
            lambda on: on and model.set_brush(add=False, tool="brush")
        )
        self.size.valueChanged.connect(lambda v: model.set_brush(radius=v))
        self.hardness.valueChanged.connect(lambda v: model.set_brush(hardness=v))
        self.flow.valueChanged.connect(lambda v: model.set_brush(flow=v))
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
        self.flow.setValue(brush.flow)
        self.opacity.setValue(self.model.view.opacity)


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
            layout.addWidget(hint_label(effect.hint))
        self.reset_all = reset_all_button(model, group)
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
