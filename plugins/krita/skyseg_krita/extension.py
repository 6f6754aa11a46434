"""Krita's side of the plug-in: the menu actions (Tools > Scripts) and the skyseg docker.

The docker's controls are built from the effect recipe's schema (``skyseg_schema.json`` beside
this package, written by ``skyseg install-plugin krita``; the worker's ``schema`` operation when
it is missing): labels, help, ranges, defaults and menus are the declared ones. A tool box holds
one section per action, each scrolling on its own, so every section's title stays in view at any
docked height.
"""

import json
import math
import os
import sys

from krita import DockWidget, Extension, Krita

HERE = os.path.dirname(os.path.abspath(__file__))
# The client package is copied into this folder at install time; in a source checkout it is in
# ../../common.
for _folder in (HERE, os.path.join(HERE, os.pardir, os.pardir, "common")):
    if os.path.isfile(os.path.join(_folder, "skyseg_client", "__init__.py")):
        if os.path.abspath(_folder) not in sys.path:
            sys.path.insert(0, os.path.abspath(_folder))
        break
import skyseg_client  # noqa: E402

from .host import KritaHost  # noqa: E402
from .logic import (  # noqa: E402
    Cancelled,
    PluginError,
    Settings,
    SkysegActions,
    actions,
    effect_actions,
    sections,
)
from .preview import LivePreview  # noqa: E402
from .qt import QtCore, QtGui, QtWidgets  # noqa: E402

DOCKER_ID = "skyseg_docker"
_TOOLTIP = getattr(QtCore.Qt, "ToolTipRole", None) or QtCore.Qt.ItemDataRole.ToolTipRole
SETTINGS_GROUP = "skyseg"

_instance = None


def instance():
    """The extension Krita loaded (the docker talks to it)."""
    return _instance


class SkysegExtension(Extension):
    def __init__(self, parent):
        super().__init__(parent)
        global _instance
        _instance = self
        self.host = KritaHost(Krita.instance())
        self._settings = None
        self.actions = SkysegActions(self.host, self.client)
        self._client = None
        self.last_error = None
        self.last_result = None
        self.busy = None
        """The action in flight (None when idle): the actions are disabled meanwhile."""
        self.menu_actions = []
        """The QActions made by :meth:`createActions`."""
        self.dockers = []
        """The skyseg dockers, shown busy while an action runs."""
        self.host.on_cancel = self.cancel
        self.host.on_tick = self._tick
        self.live = LivePreview(self.host, self.actions, self.client, self._preview_stopped)
        """The docker's live preview (a "skyseg preview" layer while it is on)."""

    # -- worker and schema -------------------------------------------------------------------

    def client(self):
        if self._client is None:
            self._client = skyseg_client.SkysegClient.from_folder(HERE)
        return self._client

    def stop_worker(self):
        if self._client is not None:
            self._client.stop()
            self._client = None

    @property
    def settings(self):
        """The docker's values (read on first use: the schema, then the saved values)."""
        if self._settings is None:
            schema = skyseg_client.load_schema(HERE, client=self.client)
            raw = Krita.instance().readSetting(SETTINGS_GROUP, "settings", "")
            try:
                saved = json.loads(raw) if raw else {}
            except ValueError:
                saved = {}
            self._settings = Settings.from_dict(schema, saved)
        return self._settings

    def schema(self):
        """The worker's schema, or None when it cannot be had (the mask actions still show)."""
        try:
            return self.settings.schema
        except skyseg_client.WorkerError:
            return None

    def actions_list(self):
        """The menu actions (id, text, action name), made from the schema (see logic.actions)."""
        return actions(self.schema())

    def save_settings(self):
        Krita.instance().writeSetting(
            SETTINGS_GROUP, "settings", json.dumps(self.settings.to_dict())
        )

    # -- Krita hooks -------------------------------------------------------------------------

    def setup(self):
        notifier = Krita.instance().notifier()
        notifier.applicationClosing.connect(self.live.stop)
        notifier.applicationClosing.connect(self.stop_worker)

    def createActions(self, window):
        for action_id, text, method in self.actions_list():
            action = window.createAction(action_id, text, "tools/scripts")
            action.triggered.connect(lambda checked=False, m=method: self.run(m))
            self.menu_actions.append(action)

    # -- busy state ----------------------------------------------------------------------------

    def cancel(self):
        """Stop the action in flight (Esc, the docker's Cancel): the worker is stopped at once
        (the next action starts a new one) and the action ends without adding anything."""
        if self.busy is None or self.host.cancelled:
            return
        self.host.cancelled = True
        if self._client is not None:
            self._client.stop(timeout=0)  # the worker may be mid-computation: killed
            self._client = None

    def _show_busy(self, method):
        for action in self.menu_actions:
            action.setEnabled(method is None)
        for docker in list(self.dockers):
            try:
                docker.show_busy(method)
            except RuntimeError:  # a docker Krita deleted
                self.dockers.remove(docker)

    def _tick(self, seconds):
        for docker in self.dockers:
            try:
                docker.show_time(seconds)
            except RuntimeError:
                pass

    # -- live preview ----------------------------------------------------------------------------

    def set_preview(self, on, effect):
        """Turn the live preview of ``effect`` on or off; an error turns it off with a message."""
        if not on:
            self.live.stop()
            return True
        if self.busy is not None:
            self._preview_stopped(f"skyseg is still running {self.busy.replace('_', ' ')}")
            return False
        try:
            self.live.start(self.settings, effect)
        except (PluginError, skyseg_client.WorkerError) as exc:
            message = exc.for_user() if isinstance(exc, skyseg_client.WorkerError) else str(exc)
            self._preview_stopped(message)
            return False
        self.last_error = None
        return True

    def preview_changed(self, effect):
        """A control of ``effect`` changed: the preview (when on) shows it."""
        if not self.live.active:
            return
        try:
            self.live.change(self.settings, effect)
        except PluginError as exc:
            self.live.stop()
            self._preview_stopped(str(exc))

    def _preview_stopped(self, message):
        """The preview stopped by itself: say why (an error), and show the toggle off."""
        if message:
            self.last_error = f"preview: {message}"
            self.host.notify(self.last_error, error=True)
        for docker in list(self.dockers):
            try:
                docker.show_preview(False)
            except RuntimeError:
                self.dockers.remove(docker)

    # -- actions -------------------------------------------------------------------------------

    def run(self, method, path=None):
        """Run one action; errors become one message, never an exception in Krita. ``path``:
        where "save_mask" writes (asked for in a file dialog when not given)."""
        if self.busy is not None:  # a second click while the first runs: no second layer
            self.last_error = (
                f"skyseg is still running {self.busy.replace('_', ' ')}: wait, or press Esc "
                "to cancel it"
            )
            self.host.notify(self.last_error, error=True)
            return False
        if self.live.active:  # the result is made at full resolution; the preview goes first
            self.live.stop()
            self._preview_stopped(None)
        self.busy = method
        self.host.cancelled = False
        self._show_busy(method)
        error = None
        try:
            if method == "save_mask":
                path = path or self._ask_mask_path()
                if not path:
                    self.last_error = None
                    return True  # cancelled
                result = self.actions.save_mask(self.settings, path)
            elif method == "select_sky":
                result = self.actions.create_mask(self.settings, as_selection=True)
            elif method == "create_mask":
                result = self.actions.create_mask(self.settings)
            else:
                effect = effect_actions(self.settings.schema).get(method)
                if effect is None:
                    raise PluginError(f"no skyseg action {method!r}")
                result = self.actions.run_effect(effect, self.settings)
            self.last_result = result.name() if hasattr(result, "name") else result
            self.host.notify(f"{method.replace('_', ' ')}: done")
        except Cancelled as exc:
            error = f"{method.replace('_', ' ')} {exc}"
            self.host.notify(error)
        except (PluginError, skyseg_client.WorkerError) as exc:
            error = exc.for_user() if isinstance(exc, skyseg_client.WorkerError) else str(exc)
            self.host.notify(error, error=True)
        except Exception as exc:  # noqa: BLE001 - a bug must not take Krita down
            error = f"internal error: {type(exc).__name__}: {exc}"
            self.host.notify(error, error=True)
        finally:
            self.busy = None
            self.host.cancelled = False
            self._show_busy(None)
        self.last_error = error  # this run's (a refused second click set its own meanwhile)
        return self.last_error is None

    def _ask_mask_path(self):
        window = Krita.instance().activeWindow()
        parent = window.qwindow() if window is not None else None
        path, _ = QtWidgets.QFileDialog.getSaveFileName(parent, "Save sky mask", "", "PNG (*.png)")
        if path and not path.lower().endswith(".png"):
            path += ".png"
        return path


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
        if effect != "source":
            self.preview_effect = effect
        ext = instance()
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
