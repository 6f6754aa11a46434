"""The skyseg docker: a tool box with one section per action, its controls built from the
effect recipe's schema (labels, help, ranges, defaults and menus are the declared ones), each
page scrolling on its own so every section's title stays in view at any docked height; the busy
row (time, Cancel) and the live preview's toggle above it. It talks to the extension
(:func:`skyseg_krita.extension.instance`), which runs the actions.
"""

import math

from krita import DockWidget

from .extension import instance  # first: it puts skyseg_client's folder on sys.path

# isort: split
import skyseg_client

from .logic import sections
from .qt import QtCore, QtGui, QtWidgets

_TOOLTIP = getattr(QtCore.Qt, "ToolTipRole", None) or QtCore.Qt.ItemDataRole.ToolTipRole


def _step(control):
    """A spin box step: about 1/50 of the range, rounded up to 1, 2 or 5 times a power of ten."""
    least = 10.0 ** -control["decimals"]
    span = (control["high"] - control["low"]) / 50.0
    if span <= 0:
        return least
    scale = 10.0 ** math.floor(math.log10(span))
    step = next(f * scale for f in (1, 2, 5, 10) if span <= f * scale * (1 + 1e-9))
    return max(step, least)


def _wheel_when_focused(cls):
    """``cls`` (a spin box or combo box) that takes the mouse wheel only when it has the focus
    (clicked or tabbed to); otherwise the wheel scrolls the docker, never changes a value."""

    def wheelEvent(self, event):  # noqa: N802 - Qt's name
        if self.hasFocus():
            cls.wheelEvent(self, event)
        else:
            event.ignore()  # goes on to the scroll area

    def __init__(self, *args):
        cls.__init__(self, *args)
        self.setFocusPolicy(_enum(QtCore.Qt, "StrongFocus", "FocusPolicy"))  # no wheel focus

    return type(cls.__name__, (cls,), {"wheelEvent": wheelEvent, "__init__": __init__})


def _enum(scope, name, group):
    return getattr(scope, name, None) or getattr(getattr(scope, group), name)


SpinBox = _wheel_when_focused(QtWidgets.QDoubleSpinBox)
ComboBox = _wheel_when_focused(QtWidgets.QComboBox)


class Section(QtWidgets.QWidget):
    """One action's page in the docker's tool box (which scrolls each page on its own, keeping
    every section's title in view): its controls in a form."""

    def __init__(self, title, effect):
        super().__init__()
        self.title, self.effect = title, effect
        self.form = QtWidgets.QFormLayout(self)
        self.form.setContentsMargins(8, 0, 0, 4)
        wrap = (
            getattr(QtWidgets.QFormLayout, "WrapLongRows", None)
            or QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows
        )
        self.form.setRowWrapPolicy(wrap)  # a long label goes above its control in a narrow docker


class SkysegDocker(DockWidget):
    """A tool box with one section per action, its controls built from the schema: every
    section's title stays in view however small the docker is docked (its page scrolls)."""

    def __init__(self):
        super().__init__()
        self.setWindowTitle("skyseg")
        self.fields = {}
        """"<effect>.<key>" (effect "source" for the method and refine) -> the widget."""
        self.sections = {}
        self.buttons = []
        """The action buttons (disabled while an action runs)."""
        scroll = QtWidgets.QScrollArea(self)
        scroll.setWidgetResizable(True)
        root = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(root)
        layout.addWidget(self._busy_row())
        self.preview_effect = None
        """The effect the preview shows: the one whose section or control was used last."""
        self.preview_box = QtWidgets.QCheckBox("Preview on the canvas")
        self.preview_box.setToolTip(
            "Show the effect you are setting up on a 'skyseg preview' layer above the photo, "
            "at screen size, as you change its controls. The buttons make the full-size result "
            "(the preview layer goes away)."
        )
        self.preview_box.toggled.connect(self._toggle_preview)
        layout.addWidget(self.preview_box)
        ext = instance()
        if ext is not None:
            ext.dockers.append(self)
        try:
            settings = ext.settings if ext is not None else None
        except skyseg_client.WorkerError as exc:
            settings = None
            layout.addWidget(QtWidgets.QLabel(f"skyseg: {exc.for_user()}"))
        self.toolbox = QtWidgets.QToolBox()
        """One page per action; every section's title stays in view, one page open at a time."""
        if settings is not None:
            opened = None
            for title, effect, buttons, expanded in sections(settings.schema):
                section = Section(title, effect)
                self.sections[title] = section
                self.toolbox.addItem(section, title)
                if effect is not None and expanded and opened is None:
                    opened = section
                if effect is None:
                    self._add_controls(section.form, "source", settings.source_controls, settings)
                    for step in settings.rgba_steps:  # the cut-out's options, by its button
                        self._add_controls(section.form, step, settings.controls[step], settings)
                    refresh = QtWidgets.QPushButton("Refresh methods")
                    refresh.setToolTip(
                        "Ask the skyseg worker for its methods (starts it if needed)"
                    )
                    refresh.clicked.connect(self._list_methods)
                    section.form.addRow(refresh)
                else:
                    self._add_controls(section.form, effect, settings.controls[effect], settings)
                for start in range(0, len(buttons), 2):  # two buttons a row: the docker is narrow
                    row = QtWidgets.QHBoxLayout()
                    for text, action in buttons[start : start + 2]:
                        button = QtWidgets.QPushButton(text)
                        button.clicked.connect(lambda checked=False, m=action: self._run(m))
                        self.buttons.append(button)
                        row.addWidget(button)
                    section.form.addRow(row)
            if opened is not None:
                self.toolbox.setCurrentWidget(opened)
                self.preview_effect = opened.effect
            self.toolbox.currentChanged.connect(self._section_opened)
        layout.addWidget(self.toolbox, 1)
        scroll.setWidget(root)
        self.setWidget(scroll)

    # -- busy state ----------------------------------------------------------------------------

    def _busy_row(self):
        """What shows while an action runs: its name and time, a busy bar and Cancel."""
        self.busy = QtWidgets.QWidget()
        row = QtWidgets.QVBoxLayout(self.busy)
        row.setContentsMargins(0, 0, 0, 4)
        self.busy_label = QtWidgets.QLabel()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)  # the worker does not say how far it is: a busy bar
        self.progress.setTextVisible(False)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this run: nothing is added (Esc does the same)")
        self.cancel_button.clicked.connect(self._cancel)
        line = QtWidgets.QHBoxLayout()
        line.addWidget(self.progress, 1)
        line.addWidget(self.cancel_button)
        row.addWidget(self.busy_label)
        row.addLayout(line)
        self.busy.setVisible(False)
        self._running = ""
        return self.busy

    def show_busy(self, method):
        """Show ``method`` running (buttons disabled, the busy row shown), or idle (None)."""
        self._running = (method or "").replace("_", " ")
        for button in self.buttons:
            button.setEnabled(method is None)
        self.busy_label.setText(f"{self._running.capitalize()}... (Esc cancels)")
        self.busy.setVisible(method is not None)

    def show_time(self, seconds):
        self.busy_label.setText(f"{self._running.capitalize()}: {seconds:.0f} s (Esc cancels)")

    def _cancel(self):
        ext = instance()
        if ext is not None:
            ext.cancel()

    # -- live preview ---------------------------------------------------------------------------

    def _toggle_preview(self, on):
        ext = instance()
        if ext is not None and self.preview_effect is not None:
            ext.set_preview(on, self.preview_effect)
        elif on:
            self.show_preview(False)

    def show_preview(self, on):
        """Show the toggle on or off without acting on it (the preview stopped by itself)."""
        blocked = self.preview_box.blockSignals(True)
        self.preview_box.setChecked(on)
        self.preview_box.blockSignals(blocked)

    def _section_opened(self, index):
        effect = self.toolbox.widget(index).effect
        if effect is not None:
            self._preview_follows(effect)

    def _preview_follows(self, effect):
        """``effect``'s section or control was used: the preview shows that effect."""
        ext = instance()
        if ext is not None and effect in ext.settings.rgba_steps:
            return  # the cut-out's options: no preview of their own (the picture is RGBA)
        if effect != "source":
            self.preview_effect = effect
        if ext is not None and self.preview_effect is not None:
            ext.preview_changed(self.preview_effect)

    # -- controls from the schema ---------------------------------------------------------------

    def _add_controls(self, form, effect, controls, settings):
        values = settings.source if effect == "source" else settings.values[effect]
        for control in controls:
            widget = self._widget(effect, control, values[control["key"]])
            widget.setToolTip(control["help"])
            self.fields[f"{effect}.{control['key']}"] = widget
            if control["kind"] == "bool":
                form.addRow(widget)
            elif control["kind"] in ("colour", "file"):
                row = QtWidgets.QHBoxLayout()
                row.addWidget(widget)
                pick = QtWidgets.QToolButton()
                pick.setText("...")
                pick.clicked.connect(lambda checked=False, e=effect, c=control: self._pick(e, c))
                row.addWidget(pick)
                form.addRow(control["label"], row)
            else:
                form.addRow(control["label"], widget)
        for control in controls:
            if control["kind"] == "file":
                self._enable_file(effect, control["field"])

    def _widget(self, effect, control, value):
        kind, key = control["kind"], control["key"]
        if kind == "float":
            box = SpinBox()
            box.setDecimals(control["decimals"])
            box.setRange(control["low"], control["high"])
            box.setSingleStep(_step(control))
            if control["unit"]:
                box.setSuffix(" " + control["unit"] if control["unit"] != "%" else "%")
            box.setValue(value)
            box.valueChanged.connect(lambda v, e=effect, k=key: self._set(e, k, float(v)))
            return box
        if kind == "bool":
            box = QtWidgets.QCheckBox(control["label"])
            box.setChecked(bool(value))
            box.toggled.connect(lambda v, e=effect, k=key: self._set(e, k, bool(v)))
            return box
        if kind == "choice":
            combo = ComboBox()
            helps = control.get("choice_help", {})
            for nick, text in control["choices"]:
                combo.addItem(text, nick)
                if nick in helps:  # the technical name, in the item's tooltip
                    combo.setItemData(combo.count() - 1, helps[nick], _TOOLTIP)
            combo.setCurrentIndex(max(combo.findData(value), 0))
            combo.currentIndexChanged.connect(
                lambda i, e=effect, k=key, c=combo: self._chose(e, k, c.itemData(i))
            )
            return combo
        edit = QtWidgets.QLineEdit(str(value or ""))
        if kind == "colour":
            edit.setInputMask("\\#HHHHHH")
            self._swatch(edit, value)
        edit.editingFinished.connect(lambda e=effect, c=control, w=edit: self._edited(e, c, w))
        return edit

    @staticmethod
    def _swatch(edit, colour):
        edit.setStyleSheet(f"QLineEdit {{ border-left: 14px solid {colour}; }}")

    def _set(self, effect, key, value):
        ext = instance()
        if ext is not None:
            ext.settings.set(effect, key, value)
            ext.save_settings()
            self._preview_follows(effect)

    def _chose(self, effect, key, nick):
        self._set(effect, key, nick)
        if key == "look":
            instance().settings.apply_look(nick, effect)
            instance().save_settings()
            self.show_values(effect)
            self._preview_follows(effect)
        elif f"{effect}.{key}_file" in self.fields:
            self._enable_file(effect, key)

    def _enable_file(self, effect, field):
        combo = self.fields[f"{effect}.{field}"]
        self.fields[f"{effect}.{field}_file"].setEnabled(
            combo.currentData() == skyseg_client.SKY_FILE
        )

    def _edited(self, effect, control, edit):
        text = edit.text().strip()
        if control["kind"] == "colour":
            if len(text) != 7:  # incomplete: back to the value kept
                edit.setText(instance().settings.values[effect][control["key"]])
                return
            text = text.lower()
            self._swatch(edit, text)
        self._set(effect, control["key"], text)

    def _pick(self, effect, control):
        edit = self.fields[f"{effect}.{control['key']}"]
        if control["kind"] == "colour":
            colour = QtWidgets.QColorDialog.getColor(
                QtGui.QColor(edit.text()), self, control["label"]
            )
            if colour.isValid():
                edit.setText(colour.name())
                self._edited(effect, control, edit)
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, control["label"], edit.text(), "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp)"
        )
        if path:
            edit.setText(path)
            self._edited(effect, control, edit)

    def show_values(self, effect):
        """Show the settings' values of ``effect`` in its widgets."""
        settings = instance().settings
        values = settings.source if effect == "source" else settings.values[effect]
        controls = settings.source_controls if effect == "source" else settings.controls[effect]
        for control in controls:
            widget, value = self.fields[f"{effect}.{control['key']}"], values[control["key"]]
            blocked = widget.blockSignals(True)
            if control["kind"] == "float":
                widget.setValue(value)
            elif control["kind"] == "bool":
                widget.setChecked(bool(value))
            elif control["kind"] == "choice":
                widget.setCurrentIndex(max(widget.findData(value), 0))
            else:
                widget.setText(str(value or ""))
            widget.blockSignals(blocked)

    # -- buttons -------------------------------------------------------------------------------

    def _list_methods(self):
        ext, combo = instance(), self.fields.get("source.method")
        if ext is None or combo is None:
            return
        try:
            reply = ext.host.run_blocking(
                lambda: ext.client().request("methods"), "skyseg: methods"
            )
        except skyseg_client.WorkerError as exc:
            ext.host.notify(exc.for_user(), error=True)
            return
        current = combo.currentData()
        blocked = combo.blockSignals(True)
        combo.clear()
        for nick, label in skyseg_client.method_choices(reply["output"]):
            combo.addItem(label, nick)
            combo.setItemData(combo.count() - 1, f"{label} (technical name: {nick})", _TOOLTIP)
        combo.setCurrentIndex(max(combo.findData(current), 0))
        combo.blockSignals(blocked)

    def _run(self, method):
        ext = instance()
        if ext is not None:
            ext.run(method)

    def canvasChanged(self, canvas):
        pass
