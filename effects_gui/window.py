"""The main window: builds the widgets, menus and tool bars, asks the user (file dialogs,
questions) and shows what the model and the controller (:mod:`effects_gui.controller`) say."""

from __future__ import annotations

from pathlib import Path

from PyQt6 import sip
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
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
from skyseg_core.io import IMAGE_SUFFIXES
from skyseg_core.raw import RAW_SUFFIXES
from skyseg_core.video import VIDEO_EXTENSIONS

from .actions import build_actions
from .canvas import Canvas
from .controller import EditorController
from .export import ExportDialog
from .fullres import FullResolution
from .model import DEFAULT_PROXY_LONG_SIDE, EditorModel, sky_driven
from .panels import BrushPanel, EffectPanel, SkyPanel
from .scrubber import export_clip_dialog, install_clip_tools, sync_clip_actions
from .theme import wrap_tooltips

APP_NAME = "skyseg editor"
MAX_RECENT = 10
PROGRESS_TEXT_WIDTH = 420
"""Pixels of the status bar a running job's message may take (longer ones are elided)."""
IMAGE_FILTER = (
    f"Images ({' '.join(f'*{suffix}' for suffix in IMAGE_SUFFIXES)});;"
    f"Videos ({' '.join(f'*{suffix}' for suffix in VIDEO_EXTENSIONS)});;"
    "skyseg edits (*.skyedit);;"
    f"Camera RAW ({' '.join(f'*{suffix}' for suffix in RAW_SUFFIXES)});;All files (*)"
)
"""What the open dialogs list: what ``load_image`` reads, camera RAWs included."""


def settings() -> QSettings:
    return QSettings("skyseg", "skyseg-editor")


class MainWindow(QMainWindow):
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
        self.progress_label.setVisible(False)
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        if message:
            self.status_label.setText(message)

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

    # ================================================================= opening
    def choose_photo(self) -> None:
        if not self.maybe_discard():
            return
        start = str(Path(self._recent()[0]).parent) if self._recent() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo or video", start, IMAGE_FILTER)
        if path:
            self.open_photo(path, ask=False)

    def open_photo(self, path, ask: bool = True) -> None:
        """Open a photo, a saved edit (``.skyedit``), a video or a timelapse folder."""
        from .clipcontrol import is_clip
        from .session import SUFFIX

        if ask and not self.maybe_discard():
            return
        self.clips.cancel_open()  # a clip still being read is not opened after this
        if is_clip(path):
            self.clips.open(path)
        elif Path(path).suffix.lower() == SUFFIX:
            self.controller.open_session(path)
        else:
            self.controller.open_photo(path)

    def apply_to_series(self) -> None:
        """File > Apply to photos: the sky and settings of this edit on other photos."""
        if not self._can_export():
            return
        if not self.model.has_effects:
            QMessageBox.information(self, APP_NAME, "Choose a sky or an effect first.")
            return
        start = str(self.model.path.parent if self.model.path else Path.home())
        photos, _ = QFileDialog.getOpenFileNames(
            self, "Apply the edit to these photos", start, IMAGE_FILTER
        )
        if not photos:
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Write the edited photos to", str(self.export_folder())
        )
        if folder:
            settings().setValue("export/folder", folder)
            self.controller.apply_to_series(photos, folder)

    def save_session(self) -> None:
        """File > Save edit: the edit as a small file that reopens it (no export)."""
        from .session import SUFFIX

        if not self._can_export():
            return
        m = self.model
        start = str((m.path.parent if m.path else Path.home()) / f"{m.path.stem}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the edit", start, f"skyseg edit (*{SUFFIX})"
        )
        if path:
            path = Path(path)
            self.controller.save_session(path if path.suffix else path.with_suffix(SUFFIX))

    # ================================================================= recent files
    def _recent(self) -> list[str]:
        value = settings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self._recent() if p != path]
        settings().setValue("recent", recent[:MAX_RECENT])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_photo(p))
        self.recent_menu.setEnabled(bool(self._recent()))

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

    def choose_sky(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add skies to the library", "", IMAGE_FILTER)
        if paths:
            self.controller.add_skies(paths)

    def rename_sky(self, source: str, label: str) -> None:
        from PyQt6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self, "Rename the sky", "Name", text=label)
        if ok:
            self.controller.library.rename(source, name)

    def choose_sky_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of skies to the library")
        if folder:
            self.controller.add_skies([folder], apply=False)

    # ================================================================= export
    def export_folder(self) -> Path:
        """Where exports go: the last export's folder (kept across sessions), else the photo's."""
        folder = settings().value("export/folder", "")
        if folder and Path(str(folder)).is_dir():
            return Path(str(folder))
        return self.model.path.parent if self.model.path else Path.home()

    def _remember_export(self, kind: str, path: Path, quality: int | None) -> None:
        store = settings()
        store.setValue("export/folder", str(Path(path).parent))
        store.setValue("export/format", kind)
        if quality is not None:
            store.setValue("export/quality", int(quality))

    def _ask_save(self, title: str, suffix: str, filters: str) -> Path | None:
        m = self.model
        stem = m.path.stem if m.path else "photo"
        start = str(self.export_folder() / f"{stem}{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix else path.with_suffix(Path(suffix).suffix)

    def _export_finished(self, written: bool) -> None:
        if not written:
            self._close_after_export = False
        elif self._close_after_export:
            self.close()

    def _can_export(self) -> bool:
        if self.model.base_matte is None:
            QMessageBox.information(self, APP_NAME, "Find the sky first (Ctrl+R).")
            return False
        return True

    def export_result(self, path=None, quality: int | None = None) -> None:
        if self.model.clip is not None:
            export_clip_dialog(self)
            return
        if not self._can_export():
            self._close_after_export = False
            return
        path = path or self._ask_save(
            "Export the result",
            "_sky.jpg",
            "JPEG (*.jpg *.jpeg);;PNG (*.png);;16-bit TIFF (*.tif *.tiff)",
        )
        if not path:
            self._close_after_export = False
            return
        kind = {".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}
        self._remember_export(kind.get(Path(path).suffix.lower(), "png"), Path(path), quality)
        self.controller.export_result(path, quality)

    def export_dialog(self) -> None:
        """The export dialog (format, JPEG quality, file), then that export."""
        if self.model.clip is not None:
            export_clip_dialog(self)
            return
        if not self._can_export():
            return
        m = self.model
        store = settings()
        self.export_box = box = ExportDialog(
            m.path.stem if m.path else "photo",
            self.export_folder(),
            self,
            kind=str(store.value("export/format", "jpeg")),
            quality=int(quality) if (quality := store.value("export/quality")) else None,
        )
        box.accepted.connect(lambda: self._export_chosen(*box.choice()))
        box.open()

    def _export_chosen(self, kind: str, path: Path, quality: int | None) -> None:
        self._remember_export(kind, path, quality)
        if kind == "matte":
            self.export_matte(path)
        elif kind in ("ora", "psd"):
            self.export_layers(path)
        else:
            self.export_result(path, quality)

    def export_matte(self, path=None) -> None:
        if not self._can_export():
            return
        path = path or self._ask_save("Export the sky matte", "_matte.png", "PNG (*.png)")
        if path:
            self._remember_export("matte", Path(path), None)
            self.controller.export_matte(path)

    def export_layers(self, path=None) -> None:
        if not self._can_export():
            return
        path = path or self._ask_save(
            "Export layers", ".ora", "OpenRaster (*.ora);;Photoshop (*.psd)"
        )
        if path:
            self._remember_export(
                "psd" if Path(path).suffix.lower() == ".psd" else "ora", Path(path), None
            )
            self.controller.export_layers(path)

    # ================================================================= closing
    def maybe_discard(self) -> bool:
        """Ask before an unsaved edit is thrown away; True when it may go."""
        if not self.model.modified:
            return True
        answer = QMessageBox.question(
            self,
            APP_NAME,
            "The edit has unsaved changes. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event) -> None:
        if self.model.modified and not self._close_after_export:
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
        self.model.undo_stack.blockSignals(True)  # nothing may call into the closing window
