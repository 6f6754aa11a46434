"""The main window: builds the widgets, menus and tool bars and shows what the model and the
controller (:mod:`effects_gui.controller`) say; what it opens and writes, asking the user
first, is :mod:`effects_gui.window_files`."""

from __future__ import annotations

from PyQt6 import sip
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
)

from skyseg_core.effects.registry import REGISTRY
from skyseg_core.errors import SkysegError

from .actions import build_actions
from .canvas import Canvas
from .controller import EditorController
from .fullres import FullResolution
from .model import DEFAULT_PROXY_LONG_SIDE, EditorModel, sky_driven
from .panels import BrushPanel, EffectPanel
from .scrubber import install_clip_tools, sync_clip_actions
from .sky_panel import SkyPanel
from .theme import wrap_tooltips
from .window_files import APP_NAME, FileActions, settings

PROGRESS_TEXT_WIDTH = 420
"""Pixels of the status bar a running job's message may take (longer ones are elided)."""

__all__ = ["APP_NAME", "MainWindow", "settings"]


class MainWindow(FileActions, QMainWindow):
    def __init__(self, proxy_long_side: int = DEFAULT_PROXY_LONG_SIDE, parent=None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.model = EditorModel(proxy_long_side, self)
        self.controller = EditorController(self.model, self)
        self.canvas = Canvas(self.model)
        self.setCentralWidget(self.canvas)
        self.fullres = FullResolution(self.model, self.controller.runner, self)
        self.setAcceptDrops(True)
        self._close_after_export = False
        self._build_panels()
        build_actions(self)
        self._build_status()
        install_clip_tools(self)
        self._connect()
        self.controller.refresh_library()
        self._update_enabled()
        self._restore_layout()
        wrap_tooltips(QApplication.instance())

    # ================================================================= window layout
    def _restore_layout(self) -> None:
        """The size, maximised state, docks and splitters of the last session; the first time,
        a size that fits the screen (maximised on a small one)."""
        store = settings()
        geometry, state = store.value("window/geometry"), store.value("window/state")
        if geometry is not None and self.restoreGeometry(geometry):
            if state is not None:
                self.restoreState(state)
            splitter = store.value("window/sky_splitter")
            if splitter is not None:
                self.sky_panel.splitter.restoreState(splitter)
            return
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is None or screen.width() < 1400 or screen.height() < 900:
            self.resize(1280, 820)
            if screen is not None:
                self.setWindowState(Qt.WindowState.WindowMaximized)
            return
        self.resize(min(1680, int(screen.width() * 0.9)), min(1050, int(screen.height() * 0.9)))

    def save_layout(self) -> None:
        """Keep the window's size, maximised state, docks and splitters for the next session."""
        store = settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.setValue("window/sky_splitter", self.sky_panel.splitter.saveState())

    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts: every action's keys, and the mouse gestures."""
        from .actions import ShortcutsDialog

        self.shortcuts_box = ShortcutsDialog(self)
        self.shortcuts_box.show()

    # ================================================================= construction
    def _build_panels(self) -> None:
        self.brush_panel = BrushPanel(self.model)
        self.sky_group = self.controller.sky_group
        self.sky_panel = SkyPanel(self.model, self.sky_group)
        self.effect_panels = {
            name: EffectPanel(self.model, name) for name in REGISTRY if not sky_driven(name)
        }
        for name, panel in self.effect_panels.items():
            setattr(self, f"{name}_panel", panel)  # editor.tint_panel, editor.relight_panel, ...
        self.tabs = QTabWidget()
        self.tabs.addTab(self.sky_panel, REGISTRY[self.sky_group].short)
        self._tab_of = {self.sky_panel: self.sky_panel}
        for panel, title in (
            (self.brush_panel, "Refine"),
            *((panel, REGISTRY[name].short) for name, panel in self.effect_panels.items()),
        ):
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(panel)
            self.tabs.addTab(scroll, title)
            self._tab_of[panel] = scroll
        dock = QDockWidget("Adjust", self)
        dock.setObjectName("adjustDock")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setWidget(self.tabs)
        dock.setMinimumWidth(320)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.status_label = QLabel("")
        # a running job: what it does (one line), its bar (the percentage only) and Cancel
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progressLabel")
        self.progress_label.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("progress")
        self.progress.setFixedWidth(180)
        self.progress.setRange(0, 100)
        self.progress.setFormat("%p%")
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.controller.cancel_jobs)
        self.zoom_label = QLabel("")
        status.addWidget(self.status_label, 1)
        status.addPermanentWidget(self.progress_label)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel_button)
        status.addPermanentWidget(self.zoom_label)

    def _connect(self) -> None:
        m, c = self.model, self.controller
        self.method_combo.currentIndexChanged.connect(
            lambda i: m.set_method(self.method_combo.itemData(i))
        )
        m.methodChanged.connect(self._show_method)
        m.renderNeeded.connect(c.schedule_render)
        m.photoChanged.connect(self._on_photo)
        m.viewChanged.connect(self._sync_view_actions)
        m.brushChanged.connect(self._sync_tool_actions)
        m.matteChanged.connect(self._update_enabled)
        m.skyChanged.connect(self._on_sky_changed)
        for signal in (m.skyChanged, m.settingsChanged):
            signal.connect(lambda *_: m.has_effects or c.set_notice(""))
        m.undo_stack.cleanChanged.connect(self._update_title)
        m.undo_stack.indexChanged.connect(self._on_undo_index)
        self.canvas.strokeFinished.connect(c.paint)
        self.canvas.skyDragged.connect(c.drag_sky)
        self.canvas.filesDropped.connect(self._on_files_dropped)
        self.canvas.zoomChanged.connect(self._show_zoom)
        self.canvas.detailWanted.connect(
            lambda: self.fullres.request(
                self.canvas.visible_region(), self.canvas.shown(), m.view.overlay
            )
        )
        self.fullres.detailReady.connect(self.canvas.set_detail)
        m.photoChanged.connect(self.fullres.forget)
        self.canvas.dividerMoved.connect(lambda x: m.set_view(divider=x))
        for panel in self.effect_panels.values():
            panel.enabled.toggled.connect(c.effect_requested)
        self.sky_panel.skyRequested.connect(c.use_sky)
        self.sky_panel.openSkyRequested.connect(self.choose_sky)
        self.sky_panel.addFolderRequested.connect(self.choose_sky_folder)
        self.sky_panel.library.filesDropped.connect(c.add_skies)
        self.sky_panel.library.removeRequested.connect(c.library.remove)
        self.sky_panel.library.renameRequested.connect(self.rename_sky)
        self.sky_panel.thumbnail_path = c.library.thumbnail_path
        # what the controller says
        c.busy.connect(self._busy)
        c.idle.connect(self._idle)
        c.failed.connect(self.show_error)
        c.noticeChanged.connect(self.canvas.set_notice)
        c.photoLoaded.connect(lambda path, _image: self._add_recent(path))
        c.segmentingChanged.connect(self._update_enabled)
        c.matteImagesReady.connect(self.canvas.prepared_matte_images)
        c.resultImageReady.connect(self.canvas.set_result_image)
        c.libraryLoaded.connect(self.sky_panel.set_library)
        c.exportFinished.connect(self._export_finished)
        self._sync_view_actions()
        self._sync_tool_actions()

    # ================================================================= state -> widgets
    def _show_zoom(self, zoom: float) -> None:
        """Zoom relative to the full-size photo (the preview is smaller than the photo)."""
        self.zoom_label.setText(
            f"{100 * zoom * self.model.scale:.0f} %" if self.model.has_photo else ""
        )

    def _show_method(self, name: str) -> None:
        index = self.method_combo.findData(name)
        if index >= 0 and index != self.method_combo.currentIndex():
            self.method_combo.setCurrentIndex(index)

    def _sync_view_actions(self) -> None:
        view = self.model.view
        {
            "photo": self.photo_view_action,
            "matte": self.matte_view_action,
            "result": self.result_view_action,
        }[view.mode].setChecked(True)
        for action, value in (
            (self.overlay_action, view.overlay),
            (self.before_action, view.before),
            (self.split_action, view.split),
        ):
            action.blockSignals(True)
            action.setChecked(value)
            action.blockSignals(False)

    def _sync_tool_actions(self) -> None:
        brush = self.model.brush
        action = {"pan": self.pan_action, "move_sky": self.move_action}.get(
            brush.tool, self.add_action if brush.add else self.remove_action
        )
        action.setChecked(True)

    def _update_enabled(self) -> None:
        m = self.model
        busy = self.controller.segment_job is not None
        for action in (
            self.export_action,
            self.export_matte_action,
            self.export_layers_action,
            self.export_dialog_action,
            self.save_session_action,
            self.series_action,
        ):
            action.setEnabled(m.has_photo and m.matte is not None)
        self.segment_action.setEnabled(m.has_photo and not busy)
        self.segment_button.setEnabled(m.has_photo and not busy)
        sync_clip_actions(self)

    def _on_undo_index(self, index: int) -> None:
        self._update_title()
        if self.controller.saved_at is not None and index != self.controller.saved_at:
            self.controller.saved_at = None
            if self.status_label.text().startswith("Saved"):
                self.status_label.setText("Edited since the last export")

    def _update_title(self) -> None:
        if sip.isdeleted(self) or sip.isdeleted(self.model.undo_stack):  # during teardown
            return
        name = self.model.path.name if self.model.path else ""
        self.setWindowTitle(
            f"{name}{'*' if self.model.modified else ''} — {APP_NAME}" if name else APP_NAME
        )

    def _on_photo(self) -> None:
        self._update_title()
        self._update_enabled()
        if self.model.image is not None:
            h, w = self.model.image.shape[:2]
            self.status_label.setText(f"{self.model.path.name if self.model.path else ''}  {w}×{h}")

    def _on_sky_changed(self) -> None:
        if self.model.sky is not None:
            self.model.set_view(mode="result", overlay=False, before=False)
        elif self.status_label.text().startswith("Sky: "):
            self.status_label.setText("Original sky")

    # ================================================================= progress and errors
    def _busy(self, message: str, percent: int = 0, cancellable: bool = False) -> None:
        if self.controller.export_jobs and not cancellable:  # the export keeps its bar and Cancel
            self.status_label.setText(message)
            return
        metrics = self.progress_label.fontMetrics()
        self.progress_label.setText(
            metrics.elidedText(message, Qt.TextElideMode.ElideMiddle, PROGRESS_TEXT_WIDTH)
        )
        self.progress_label.setToolTip(message)
        self.progress_label.setVisible(bool(message))
        self.progress.setVisible(True)
        self.progress.setValue(percent)
        self.cancel_button.setVisible(cancellable)

    def _idle(self, message: str = "") -> None:
        if message:
            self.status_label.setText(message)
        if not self.controller.export_jobs:  # another job's end leaves a running export shown
            self.progress_label.setVisible(False)
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)

    def show_error(self, title: str, exc: BaseException) -> None:
        """Every failure ends here: a dialog, never a crash; the edit is kept."""
        self._idle()
        if isinstance(exc, SkysegError):
            text = str(exc)
        elif isinstance(exc, OSError):
            text = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        else:
            text = f"Unexpected error ({type(exc).__name__}): {exc}\n\nYour edit is kept."
        box_text = f"{title}\n\n{text}"
        QMessageBox.critical(self, APP_NAME, box_text)

    # ================================================================= panels, drops, skies
    def show_panel(self, panel) -> None:
        """Bring a side panel (sky, brush, an effect's) to the front."""
        self.tabs.setCurrentWidget(self._tab_of[panel])

    def _brush_tool(self, add: bool) -> None:
        """B or E: the brush, with its options shown at once (the Refine panel)."""
        self.model.set_brush(tool="brush", add=add)
        self.show_panel(self.brush_panel)

    def _on_files_dropped(self, paths: list, as_photo: bool) -> None:
        """A file dropped on the photo opens it (asking first about unsaved work); a folder
        brings its skies to the library."""
        if as_photo:
            self.open_photo(paths[0])
        else:
            self.controller.add_skies(paths)

    def keyPressEvent(self, event) -> None:
        """Shift+[ and Shift+] (Photoshop's hardness keys) as well as Ctrl+[ and Ctrl+]: taken
        here from the key itself, since as shortcuts they arrive as "{" or "Shift+{" by platform
        and keyboard layout, which made them ambiguous."""
        softer = (Qt.Key.Key_BraceLeft, Qt.Key.Key_BracketLeft)
        harder = (Qt.Key.Key_BraceRight, Qt.Key.Key_BracketRight)
        shifted = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        if shifted and event.key() in softer + harder:
            self.model.set_brush(
                hardness=self.model.brush.hardness + (0.1 if event.key() in harder else -0.1)
            )
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # outside the canvas and the library: as on the canvas
        from .canvas import local_paths

        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self._on_files_dropped(paths, not paths[0].is_dir())

    # ================================================================= closing
    def closeEvent(self, event) -> None:
        if (exporting := self._close_with_export_running()) is False:
            event.ignore()
            return
        if self.model.modified and not self._close_after_export and exporting is None:
            answer = QMessageBox.question(
                self,
                APP_NAME,
                "Save the edited photo before closing?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
            )
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                self._close_after_export = True
                event.ignore()
                self.export_result()
                return
        if self._close_after_export and self.model.modified:
            event.ignore()  # the export is still running; it closes the window when done
            return
        self.save_layout()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop and wait for every job (called on close; tests call it too)."""
        self.canvas._detail_timer.stop()
        try:
            self.canvas.detailWanted.disconnect()
        except TypeError:  # shut down already
            pass
        self.controller.shutdown()
        self.clips.close()
        self.model.undo_stack.blockSignals(True)  # nothing may call into the closing window
