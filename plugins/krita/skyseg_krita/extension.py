"""Krita's side of the plug-in: the extension, which registers the menu actions (Tools >
Scripts), runs them (busy state, Esc), keeps the docker's settings and the live preview; the
docker itself is ``docker.py``.

The settings come from the effect recipe's schema (``skyseg_schema.json`` beside this package,
written by ``skyseg install-plugin krita``; the worker's ``schema`` operation when it is
missing), then the values saved in Krita's settings.
"""

import json
import os
import sys

from krita import Extension, Krita

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
    rgba_actions,
)
from .preview import LivePreview  # noqa: E402
from .qt import QtCore, QtWidgets  # noqa: E402

DOCKER_ID = "skyseg_docker"
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
        notifier.windowCreated.connect(self._first_window)
        notifier.applicationClosing.connect(self.live.stop)
        notifier.applicationClosing.connect(self.stop_worker)

    def _first_window(self):
        """Show the docker in the first window after the install (Krita 5.2 keeps a docker it
        has not seen before hidden); from then on it stays as the user leaves it."""
        if Krita.instance().readSetting(SETTINGS_GROUP, "docker_shown", "") != "true":
            QtCore.QTimer.singleShot(0, self._show_docker)  # once Krita restored its layout

    def _show_docker(self):
        app = Krita.instance()
        dockers = [d for d in app.dockers() if d.objectName() == DOCKER_ID]
        for docker in dockers:
            docker.show()
            docker.raise_()
        if dockers:
            app.writeSetting(SETTINGS_GROUP, "docker_shown", "true")

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
            elif method in rgba_actions(self.settings.schema):
                step = rgba_actions(self.settings.schema)[method]
                result = self.actions.cut_out(step, self.settings)
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
