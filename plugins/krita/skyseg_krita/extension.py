"""Krita's side of the plug-in: the menu actions (Tools > Scripts) and the skyseg docker."""

import json
import os
import sys

from krita import DockWidget, Extension, Krita

try:  # Krita 5 ships PyQt5; PyQt6 for Krita 6
    from PyQt5.QtWidgets import (
        QCheckBox,
        QComboBox,
        QDoubleSpinBox,
        QFormLayout,
        QGroupBox,
        QLineEdit,
        QPushButton,
        QVBoxLayout,
        QWidget,
    )
except ImportError:  # pragma: no cover - depends on the host
    from PyQt6.QtWidgets import (
        QCheckBox,
        QComboBox,
        QDoubleSpinBox,
        QFormLayout,
        QGroupBox,
        QLineEdit,
        QPushButton,
        QVBoxLayout,
        QWidget,
    )

HERE = os.path.dirname(os.path.abspath(__file__))
# The client is copied into this folder at install time; in a source checkout it is in ../../common.
for _folder in (HERE, os.path.join(HERE, os.pardir, os.pardir, "common")):
    if os.path.isfile(os.path.join(_folder, "skyseg_client.py")):
        if os.path.abspath(_folder) not in sys.path:
            sys.path.insert(0, os.path.abspath(_folder))
        break
import skyseg_client  # noqa: E402

from .host import KritaHost  # noqa: E402
from .logic import PluginError, Settings, SkysegActions  # noqa: E402

DOCKER_ID = "skyseg_docker"
SETTINGS_GROUP = "skyseg"
ACTIONS = (
    # id, menu text, method name
    ("skyseg_create_mask", "skyseg: Create sky mask", "create_mask"),
    ("skyseg_select_sky", "skyseg: Select sky", "select_sky"),
    ("skyseg_replace_sky", "skyseg: Replace sky", "replace_sky"),
    ("skyseg_tint_sky", "skyseg: Tint sky", "tint_sky"),
    ("skyseg_relight", "skyseg: Relight", "relight"),
)

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
        self.settings = self._load_settings()
        self.actions = SkysegActions(self.host, self.client)
        self._client = None
        self.last_error = None
        self.last_result = None

    # -- worker ------------------------------------------------------------------------------

    def client(self):
        if self._client is None:
            self._client = skyseg_client.SkysegClient.from_folder(HERE)
        return self._client

    def stop_worker(self):
        if self._client is not None:
            self._client.stop()
            self._client = None

    # -- Krita hooks -------------------------------------------------------------------------

    def setup(self):
        notifier = Krita.instance().notifier()
        notifier.applicationClosing.connect(self.stop_worker)

    def createActions(self, window):
        for action_id, text, method in ACTIONS:
            action = window.createAction(action_id, text, "tools/scripts")
            action.triggered.connect(lambda checked=False, m=method: self.run(m))

    # -- actions -------------------------------------------------------------------------------

    def run(self, method):
        """Run one action; errors become a message, never an exception in Krita."""
        self.last_error = None
        try:
            if method == "select_sky":
                result = self.actions.create_mask(self.settings, as_selection=True)
            else:
                result = getattr(self.actions, method)(self.settings)
            self.last_result = result.name() if hasattr(result, "name") else result
            self.host.notify(f"{method.replace('_', ' ')}: done")
        except (PluginError, skyseg_client.WorkerError) as exc:
            self.last_error = str(exc)
            self.host.notify(str(exc), error=True)
        except Exception as exc:  # noqa: BLE001 - a bug must not take Krita down
            self.last_error = f"internal error: {type(exc).__name__}: {exc}"
            self.host.notify(self.last_error, error=True)
        return self.last_error is None

    def _load_settings(self):
        raw = Krita.instance().readSetting(SETTINGS_GROUP, "settings", "")
        try:
            return Settings.from_dict(json.loads(raw) if raw else {})
        except ValueError:
            return Settings()

    def save_settings(self):
        Krita.instance().writeSetting(SETTINGS_GROUP, "settings", json.dumps(self.settings.to_dict()))


class SkysegDocker(DockWidget):
    """Method and controls for the actions, and a button per action."""

    def __init__(self):
        super().__init__()
        self.setWindowTitle("skyseg")
        root = QWidget(self)
        layout = QVBoxLayout(root)
        ext = instance()
        settings = ext.settings if ext is not None else Settings()
        self.fields = {}

        def spin(name, low, high, step):
            box = QDoubleSpinBox()
            box.setRange(low, high)
            box.setSingleStep(step)
            box.setValue(getattr(settings, name))
            box.valueChanged.connect(lambda value, n=name: self._set(n, float(value)))
            self.fields[name] = box
            return box

        def text(name):
            edit = QLineEdit(str(getattr(settings, name)))
            edit.editingFinished.connect(lambda n=name, e=edit: self._set(n, e.text()))
            self.fields[name] = edit
            return edit

        def check(name, label):
            box = QCheckBox(label)
            box.setChecked(getattr(settings, name))
            box.toggled.connect(lambda value, n=name: self._set(n, bool(value)))
            self.fields[name] = box
            return box

        general = QFormLayout()
        method = QComboBox()
        method.setEditable(True)
        method.addItems(["auto"])
        method.setCurrentText(settings.method)
        method.currentTextChanged.connect(lambda value: self._set("method", value))
        self.fields["method"] = method
        general.addRow("Method", method)
        refresh = QPushButton("List methods")
        refresh.setToolTip("Ask the skyseg worker for its methods (starts it if needed)")
        refresh.clicked.connect(self._list_methods)
        general.addRow(refresh)
        general.addRow(check("refine", "Refine edges"))
        layout.addLayout(general)

        for title, rows, action in (
            ("Mask", [], ("Create sky mask", "create_mask")),
            ("Replace", [("Sky", text("sky")), ("Shift edge (%)", spin("shift_edge", -20, 20, 0.5)),
                         ("Fade edge (%)", spin("fade_edge", 0, 20, 0.5)), ("Colour match", spin("color_match", 0, 1, 0.05)),
                         ("Halo", spin("halo", 0, 1, 0.05)), ("Defocus", spin("defocus", 0, 4, 0.1)),
                         ("", check("flip", "Flip sky"))], ("Replace sky", "replace_sky")),
            ("Tint", [("Top colour", text("tint_top")), ("Bottom colour", text("tint_bottom")),
                      ("Angle", spin("tint_angle", -360, 360, 5)), ("Mode", text("tint_mode")),
                      ("Strength", spin("tint_strength", 0, 1, 0.05))], ("Tint sky", "tint_sky")),
            ("Relight", [("Target (K or sky)", text("relight_target")),
                         ("Strength", spin("relight_strength", 0, 1, 0.05))], ("Relight", "relight")),
        ):
            group = QGroupBox(title)
            form = QFormLayout(group)
            for label, widget in rows:
                form.addRow(label, widget) if label else form.addRow(widget)
            button = QPushButton(action[0])
            button.clicked.connect(lambda checked=False, m=action[1]: self._run(m))
            form.addRow(button)
            if action[1] == "create_mask":
                selection = QPushButton("Select sky")
                selection.clicked.connect(lambda checked=False: self._run("select_sky"))
                form.addRow(selection)
            layout.addWidget(group)
        layout.addStretch(1)
        self.setWidget(root)

    def _set(self, name, value):
        ext = instance()
        if ext is not None:
            setattr(ext.settings, name, value)
            ext.save_settings()

    def _list_methods(self):
        ext, combo = instance(), self.fields["method"]
        if ext is None:
            return
        try:
            reply = ext.host.run_blocking(lambda: ext.client().request("methods"), "skyseg: methods")
        except skyseg_client.WorkerError as exc:
            ext.host.notify(str(exc), error=True)
            return
        current = combo.currentText()
        combo.clear()
        combo.addItems([m["name"] for m in reply["output"] if m.get("available", True)])
        combo.setCurrentText(current)

    def _run(self, method):
        ext = instance()
        if ext is not None:
            ext.run(method)

    def canvasChanged(self, canvas):
        pass
