"""The main window: wires the model, the canvas, the panels and the jobs together."""

from __future__ import annotations

from pathlib import Path

from PyQt6 import sip
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStyle,
    QTabWidget,
    QToolBar,
)

from skyseg_core.declare import controls
from skyseg_core.effects.registry import REGISTRY
from skyseg_core.errors import SkysegError
from skyseg_core.methods import list_methods

from . import jobs, pipeline
from .brush import Stroke
from .canvas import Canvas
from .export import ExportDialog
from .library import SkyLibrary, is_sky_file
from .model import DEFAULT_PROXY_LONG_SIDE, EditorModel, sky_driven
from .panels import BrushPanel, EffectPanel, SkyPanel

APP_NAME = "skyseg editor"
MAX_RECENT = 10
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.bmp);;All files (*)"
SKY_PREVIEW_FACTOR = (
    1.0  # the preview's sky: as large as the preview (a larger one costs 3x per render)
)


def settings() -> QSettings:
    return QSettings("skyseg", "skyseg-editor")


class MainWindow(QMainWindow):
    def __init__(self, proxy_long_side: int = DEFAULT_PROXY_LONG_SIDE, parent=None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.model = EditorModel(proxy_long_side, self)
        self.runner = jobs.JobRunner(self)
        self.canvas = Canvas(self.model)
        self.setCentralWidget(self.canvas)
        self.setAcceptDrops(True)
        self._segment_job: jobs.Job | None = None
        self._render_job: jobs.Job | None = None
        self._render_pending = False
        self._after_segment: list = []
        self._close_after_export = False
        self._drag_start: tuple[float, float] | None = None
        self.renders_done = 0
        self.library_loads = 0
        self._saved_at: int | None = None
        self.library = SkyLibrary(parent=self)
        self._build_panels()
        self._build_actions()
        self._build_status()
        self._connect()
        self.library.changed.connect(self.refresh_library)
        self.refresh_library()
        self._update_enabled()
        self.resize(1280, 820)

    # ================================================================= construction
    def _build_panels(self) -> None:
        self.brush_panel = BrushPanel(self.model)
        self.sky_group = next(name for name in REGISTRY if sky_driven(name))
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

    def _action(self, text, slot, shortcut=None, checkable=False, tip="", icon=None) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(k) for k in shortcut])
        elif shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        tip = tip or text.replace("&", "").rstrip("…")
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        m = self.model
        K = QKeySequence.StandardKey
        icons = QStyle.StandardPixmap
        self.open_action = self._action(
            "&Open…", self.choose_photo, K.Open, tip="Open a photo", icon=icons.SP_DialogOpenButton
        )
        self.export_action = self._action(
            "&Export result…",
            self.export_result,
            K.Save,
            tip="Save the result at full size (JPEG, PNG, 16-bit TIFF)",
            icon=icons.SP_DialogSaveButton,
        )
        self.export_dialog_action = self._action(
            "Export…",
            self.export_dialog,
            "Ctrl+Shift+E",
            tip="Export with options: JPEG quality, 16-bit TIFF, PNG, "
            "layers (.ora, .psd), the matte",
            icon=icons.SP_DriveFDIcon,
        )
        self.export_matte_action = self._action(
            "Export &matte…", self.export_matte, "Ctrl+Shift+M", tip="Save the sky matte as a PNG"
        )
        self.export_layers_action = self._action(
            "Export &layers…",
            self.export_layers,
            "Ctrl+Shift+S",
            tip="Save a layered OpenRaster file (GIMP, Krita)",
        )
        self.quit_action = self._action("&Quit", self.close, K.Quit)
        self.undo_action = m.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence(K.Undo))
        self.redo_action = m.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addActions([self.undo_action, self.redo_action])
        self.segment_action = self._action(
            "Find sky",
            self.segment,
            "Ctrl+R",
            tip="Find the sky with the chosen method",
            icon=icons.SP_BrowserReload,
        )
        self.cancel_action = self._action(
            "Cancel", self.cancel_jobs, "Esc", tip="Stop the running job", icon=icons.SP_BrowserStop
        )
        # tools
        self.tool_group = QActionGroup(self)
        self.pan_action = self._action(
            "Pan",
            lambda on: on and m.set_brush(tool="pan"),
            "H",
            True,
            "Pan and zoom (wheel)",
            icons.SP_ArrowUp,
        )
        self.add_action = self._action(
            "Add sky",
            lambda on: on and self._brush_tool(True),
            "B",
            True,
            "Brush sky in",
            icons.SP_DialogYesButton,
        )
        self.remove_action = self._action(
            "Remove sky",
            lambda on: on and self._brush_tool(False),
            "E",
            True,
            "Brush sky out",
            icons.SP_DialogNoButton,
        )
        self.move_action = self._action(
            "Move sky",
            lambda on: on and m.set_brush(tool="move_sky"),
            "V",
            True,
            "Drag the new sky into place",
            icons.SP_TitleBarNormalButton,
        )
        for action in (self.pan_action, self.add_action, self.remove_action, self.move_action):
            self.tool_group.addAction(action)
        self.smaller_action = self._action(
            "Smaller brush", lambda: m.set_brush(radius=m.brush.radius / 1.2), "["
        )
        self.larger_action = self._action(
            "Larger brush", lambda: m.set_brush(radius=m.brush.radius * 1.2), "]"
        )
        # Shift+[ arrives as "{" on most layouts: both spellings
        self.softer_action = self._action(
            "Softer brush",
            lambda: m.set_brush(hardness=m.brush.hardness - 0.1),
            ["Shift+[", "{", "Shift+{"],
        )
        self.harder_action = self._action(
            "Harder brush",
            lambda: m.set_brush(hardness=m.brush.hardness + 0.1),
            ["Shift+]", "}", "Shift+}"],
        )
        # view
        self.view_group = QActionGroup(self)
        self.photo_view_action = self._action(
            "Photo",
            lambda on: on and m.set_view(mode="photo"),
            "P",
            True,
            "The photo (with the matte overlay)",
            icons.SP_FileDialogContentsView,
        )
        self.matte_view_action = self._action(
            "Matte",
            lambda on: on and m.set_view(mode="matte"),
            "M",
            True,
            "The matte alone (white = sky)",
            icons.SP_FileDialogDetailedView,
        )
        self.result_view_action = self._action(
            "Result",
            lambda on: on and m.set_view(mode="result"),
            "R",
            True,
            "The edited result",
            icons.SP_DialogApplyButton,
        )
        for action in (self.photo_view_action, self.matte_view_action, self.result_view_action):
            self.view_group.addAction(action)
        self.overlay_action = self._action(
            "Overlay",
            lambda on: m.set_view(overlay=on),
            "O",
            True,
            "Show the matte as a coloured overlay",
            icons.SP_FileDialogInfoView,
        )
        self.split_action = self._action(
            "Split",
            lambda on: m.set_view(split=on, mode="result"),
            "Y",
            True,
            "Before and after side by side: drag the divider",
            icons.SP_ToolBarHorizontalExtensionButton,
        )
        self.before_action = self._action(
            "Before",
            lambda on: m.set_view(before=on),
            "\\",
            True,
            "Show the whole original photo (before/after)",
            icons.SP_MediaSeekBackward,
        )
        self.fit_action = self._action(
            "Fit", self.canvas.fit, "Ctrl+0", tip="Fit the photo in the window"
        )
        self.actual_action = self._action(
            "100 %", self.canvas.actual_pixels, "Ctrl+1", tip="Actual pixels"
        )
        self.zoom_in_action = self._action("Zoom in", lambda: self.canvas.zoom_by(1.25), K.ZoomIn)
        self.zoom_out_action = self._action("Zoom out", lambda: self.canvas.zoom_by(0.8), K.ZoomOut)

        menu = self.menuBar().addMenu("&File")
        menu.addAction(self.open_action)
        self.recent_menu = menu.addMenu("Open &recent")
        menu.addSeparator()
        for action in (
            self.export_dialog_action,
            self.export_action,
            self.export_matte_action,
            self.export_layers_action,
        ):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        menu = self.menuBar().addMenu("&Edit")
        menu.addActions([self.undo_action, self.redo_action])
        menu.addSeparator()
        menu.addActions([self.segment_action, self.cancel_action])
        menu = self.menuBar().addMenu("&Tools")
        menu.addActions(self.tool_group.actions())
        menu.addActions(
            [self.smaller_action, self.larger_action, self.softer_action, self.harder_action]
        )
        menu = self.menuBar().addMenu("&View")
        menu.addActions(self.view_group.actions())
        menu.addActions([self.overlay_action, self.split_action, self.before_action])
        menu.addSeparator()
        menu.addActions(
            [self.fit_action, self.actual_action, self.zoom_in_action, self.zoom_out_action]
        )
        self._rebuild_recent()

        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(bar)
        bar.addAction(self.open_action)
        bar.addAction(self.export_dialog_action)
        bar.addSeparator()
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("methodCombo")
        for name, description in list_methods():
            self.method_combo.addItem(name, name)
            self.method_combo.setItemData(
                self.method_combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole
            )
        self.method_combo.setToolTip("How to find the sky")
        bar.addWidget(QLabel(" Method "))
        bar.addWidget(self.method_combo)
        self.segment_button = QPushButton(
            self.style().standardIcon(icons.SP_BrowserReload), "Find sky"
        )
        self.segment_button.setToolTip("Find the sky with the chosen method (Ctrl+R)")
        self.segment_button.setObjectName("segmentButton")
        self.segment_button.clicked.connect(self.segment)
        bar.addWidget(self.segment_button)
        bar.addSeparator()
        bar.addActions(self.tool_group.actions())
        bar.addSeparator()
        bar.addActions(self.view_group.actions())
        bar.addAction(self.overlay_action)
        bar.addAction(self.split_action)
        bar.addAction(self.before_action)
        bar.addSeparator()
        self.undo_tool = QAction(self.style().standardIcon(icons.SP_ArrowBack), "Undo", self)
        self.undo_tool.setToolTip("Undo (Ctrl+Z)")
        self.undo_tool.triggered.connect(m.undo_stack.undo)
        m.undo_stack.canUndoChanged.connect(self.undo_tool.setEnabled)
        self.redo_tool = QAction(self.style().standardIcon(icons.SP_ArrowForward), "Redo", self)
        self.redo_tool.setToolTip("Redo (Ctrl+Shift+Z)")
        self.redo_tool.triggered.connect(m.undo_stack.redo)
        m.undo_stack.canRedoChanged.connect(self.redo_tool.setEnabled)
        self.undo_tool.setEnabled(False)
        self.redo_tool.setEnabled(False)
        bar.addActions([self.undo_tool, self.redo_tool])

    def _build_status(self) -> None:
        status = self.statusBar()
        self.status_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.zoom_label = QLabel("")
        status.addWidget(self.status_label, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel_button)
        status.addPermanentWidget(self.zoom_label)

    def _connect(self) -> None:
        m = self.model
        self.method_combo.currentIndexChanged.connect(
            lambda i: m.set_method(self.method_combo.itemData(i))
        )
        m.methodChanged.connect(self._show_method)
        m.renderNeeded.connect(self.schedule_render)
        m.photoChanged.connect(self._on_photo)
        m.viewChanged.connect(self._sync_view_actions)
        m.brushChanged.connect(self._sync_tool_actions)
        m.matteChanged.connect(self._update_enabled)
        m.skyChanged.connect(self._on_sky_changed)
        for signal in (m.skyChanged, m.settingsChanged):
            signal.connect(lambda *_: m.has_effects or self.canvas.set_notice(""))
        m.undo_stack.cleanChanged.connect(self._update_title)
        m.undo_stack.indexChanged.connect(self._on_undo_index)
        self.canvas.strokeFinished.connect(self._on_stroke)
        self.canvas.skyDragged.connect(self._on_sky_drag)
        self.canvas.filesDropped.connect(self._on_files_dropped)
        self.canvas.zoomChanged.connect(self._show_zoom)
        self.canvas.dividerMoved.connect(lambda x: m.set_view(divider=x))
        for panel in self.effect_panels.values():
            panel.enabled.toggled.connect(self._effect_requested)
        self.sky_panel.skyRequested.connect(self.use_sky)
        self.sky_panel.openSkyRequested.connect(self.choose_sky)
        self.sky_panel.addFolderRequested.connect(self.choose_sky_folder)
        self.sky_panel.library.filesDropped.connect(self.add_skies)
        self.sky_panel.library.removeRequested.connect(self.library.remove)
        self._sync_view_actions()
        self._sync_tool_actions()

    def refresh_library(self) -> None:
        """(Re)load the sky library's thumbnails (cached after the first time) into the panel."""

        def loaded(items):
            self.sky_panel.set_library(items)
            self.library_loads += 1

        self.runner.start(
            jobs.Job(
                "thumbnails",
                jobs.thumbnails,
                self.library.entries(),
                128,
                self.library.thumbnail_path,
            ),
            on_result=loaded,
        )

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
        busy = self._segment_job is not None
        for action in (
            self.export_action,
            self.export_matte_action,
            self.export_layers_action,
            self.export_dialog_action,
        ):
            action.setEnabled(m.has_photo and m.matte is not None)
        self.segment_action.setEnabled(m.has_photo and not busy)
        self.segment_button.setEnabled(m.has_photo and not busy)

    def _on_undo_index(self, index: int) -> None:
        self._update_title()
        if self._saved_at is not None and index != self._saved_at:
            self._saved_at = None
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
        self.progress.setVisible(True)
        self.progress.setValue(percent)
        self.progress.setFormat(message + "  %p%" if message else "%p%")
        self.cancel_button.setVisible(cancellable)

    def _idle(self, message: str = "") -> None:
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

    def show_no_sky(self, message: str) -> None:
        """The edit found no sky to work on: said on the photo and in the status bar (the
        photo is shown as it is, not as an unchanged "result")."""
        self._idle(message)
        self.canvas.set_notice(message)

    # ================================================================= opening
    def choose_photo(self) -> None:
        if not self.maybe_discard():
            return
        start = str(Path(self._recent()[0]).parent) if self._recent() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", start, IMAGE_FILTER)
        if path:
            self.open_photo(path, ask=False)

    def open_photo(self, path, ask: bool = True) -> None:
        if ask and not self.maybe_discard():
            return
        self._busy(f"Opening {Path(path).name}", 0, False)
        self.runner.start(
            jobs.Job("load", jobs.load_photo, Path(path), self.model.proxy_long_side),
            on_result=self._photo_loaded,
            on_progress=lambda p, t: self._busy(t, p),
            on_error=lambda exc: self.show_error(f"Could not open {Path(path).name}", exc),
        )

    def _photo_loaded(self, loaded) -> None:
        path, image, proxy, scale, metadata = loaded
        self.cancel_jobs()
        self.canvas.set_notice("")
        self.model.set_photo(path, image, proxy, scale, metadata)
        self.model.set_view(mode="photo", overlay=True, before=False)
        self._add_recent(path)
        self._idle(f"{path.name}  {image.shape[1]}×{image.shape[0]} — click Find sky (Ctrl+R)")

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

    # ================================================================= segmentation
    def segment(self) -> None:
        m = self.model
        if not m.has_photo or self._segment_job is not None:
            return
        self._busy("Finding the sky", 0, True)
        job = jobs.Job("segment", jobs.segment, m.image, m.proxy.shape[:2], m.method)
        self._segment_job = job
        image = m.image

        def done(result):
            if self._segment_job is not job:
                return
            self._segment_job = None
            if m.image is not image:  # another photo was opened meanwhile
                return
            matte, proxy_matte, resolved, images = result
            self.canvas.prepared_matte_images(proxy_matte, *images)
            m.set_segmentation(matte, proxy_matte, resolved)
            self._idle(f"Sky found with {resolved}. Brush to refine, or pick a new sky.")
            self._update_enabled()
            for action in self._after_segment:
                action()
            self._after_segment.clear()

        def failed(exc):
            if self._segment_job is job:
                self._segment_job = None
                self._after_segment.clear()
                self._update_enabled()
                self.show_error("Could not find the sky", exc)

        self.runner.start(
            job,
            on_result=done,
            on_error=failed,
            on_progress=lambda p, t: self._segment_job is job and self._busy(t, p, True),
        )
        self._update_enabled()

    def cancel_jobs(self) -> None:
        """Stop the segmentation (the UI is free at once; the thread stops at its next stage)."""
        if self._segment_job is not None:
            self._segment_job.cancel()
            self._segment_job = None
            self._after_segment.clear()
            self._idle("Cancelled")
            self._update_enabled()

    # ================================================================= brushing and sky drag
    def _on_stroke(self, points: list) -> None:
        m = self.model
        if m.matte is None or not points:
            return
        s = m.scale
        stroke = Stroke(
            tuple((x / s, y / s) for x, y in points),
            m.brush.radius / s,
            m.brush.hardness,
            m.brush.add,
            m.brush.edge_aware,
        )
        m.paint(stroke)

    def show_panel(self, panel) -> None:
        """Bring a side panel (sky, brush, an effect's) to the front."""
        self.tabs.setCurrentWidget(self._tab_of[panel])

    def _brush_tool(self, add: bool) -> None:
        """B or E: the brush, with its options shown at once (the Refine panel)."""
        self.model.set_brush(tool="brush", add=add)
        self.show_panel(self.brush_panel)

    def _on_sky_drag(self, dx: float, dy: float, done: bool) -> None:
        m = self.model
        if m.sky is None:
            return
        if self._drag_start is None:
            self._drag_start = m.edit.replace.position
        x0, y0 = self._drag_start
        # x pans across the sky (dragging right shows more of its left part); y > 0.5 lowers it
        ctl = controls(REGISTRY[self.sky_group].params)["position"][
            1
        ]  # in the declared range, at the shown precision
        x, y = (round(min(ctl.high, max(ctl.low, v)), ctl.decimals) for v in (x0 - dx, y0 + dy))
        m.set_sky_param("position", (x, y))
        if done:
            self._drag_start = None

    # ================================================================= skies
    def _on_files_dropped(self, paths: list, as_photo: bool) -> None:
        if as_photo:
            self.open_photo(paths[0])
        else:
            self.add_skies(paths)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # outside the canvas: always a photo
        from .canvas import local_paths

        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.open_photo(paths[0])

    def choose_sky(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add skies to the library", "", IMAGE_FILTER)
        if paths:
            self.add_skies(paths)

    def choose_sky_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of skies to the library")
        if folder:
            self.add_skies([folder], apply=False)

    def add_skies(self, paths, apply: bool = True) -> None:
        """Sky files or folders dropped or chosen: folders join the library at once; the first
        sky is put in (with a photo open), and a file joins the library once it loaded as a sky."""
        paths = [Path(p) for p in paths]
        folders = [p for p in paths if p.is_dir()]
        brought = self.library.add(folders) if folders else []
        files = [str(p) for p in paths if not p.is_dir()]
        if not self.model.has_photo or not apply:
            self.library.add([f for f in files if is_sky_file(Path(f))])
            return
        first = (files or brought or [None])[0]
        if first is not None:
            self.use_sky(first)
            for other in files[1:]:
                self.library.add([other])
        elif not brought:
            self._idle("No sky images there (.jpg, .png, .tif, .webp)")

    def use_sky(self, source) -> None:
        """Load a sky (file, bundled asset or preset) and put it in; find the sky first if needed.
        A file that loads joins the library."""
        m = self.model
        if not m.has_photo:
            return
        self._busy("Loading the sky", 0)
        preview_side = int(m.proxy_long_side * SKY_PREVIEW_FACTOR)
        name = Path(str(source)).name

        def loaded(sky):
            self._idle(f"Sky: {sky.label}")
            if Path(sky.source).is_file() and sky.source not in self.library.sources():
                self.library.add([sky.source])
            m.set_sky(sky)
            if m.matte is None:
                self.segment()

        icc = getattr(m.metadata, "icc_profile", b"")
        self.runner.start(
            jobs.Job("sky", jobs.load_sky, source, preview_side, icc),
            on_result=loaded,
            on_error=lambda exc: self.show_error(f"Could not use {name} as a sky", exc),
        )

    def _effect_requested(self, on: bool) -> None:
        """An effect switched on before the sky was found: find it first (then it renders)."""
        if on and self.model.has_photo and self.model.matte is None:
            self.segment()

    # ================================================================= preview rendering
    def schedule_render(self) -> None:
        """Render the preview on a worker; while one runs, the latest request waits for it."""
        if self._render_job is not None:
            self._render_pending = True
            return
        m = self.model
        if not m.has_effects:
            return
        if m.matte is None:
            return
        self._render_pending = False
        job = jobs.Job(
            "render", pipeline.render_preview, m.proxy, m.matte.copy(), m.steps(), m.skies()
        )
        self._render_job = job
        proxy = m.proxy

        def done(result):
            image, qimage, no_sky = result
            if m.proxy is not proxy or not m.has_effects:
                return
            self.renders_done += 1
            if no_sky:
                self.show_no_sky(no_sky)
                m.set_result(None)
                return
            if self.canvas.notice:
                self.canvas.set_notice("")
                self._idle(" ")
            m.result = image
            self.canvas.set_result_image(qimage)

        def finished():
            self._render_job = None
            if self._render_pending:
                self.schedule_render()
            elif not m.has_effects:
                m.set_result(None)
                self.canvas.set_notice("")

        def failed(exc):
            self._render_pending = False
            self.show_error("Could not render the preview", exc)

        self.runner.start(job, on_result=done, on_error=failed, on_finished=finished)

    # ================================================================= export
    def _ask_save(self, title: str, suffix: str, filters: str) -> Path | None:
        m = self.model
        stem = m.path.stem if m.path else "photo"
        folder = m.path.parent if m.path else Path.home()
        path, _ = QFileDialog.getSaveFileName(self, title, str(folder / f"{stem}{suffix}"), filters)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix else path.with_suffix(Path(suffix).suffix)

    def _export(self, kind: str, fn, path: Path, *args, marks_clean: bool = True) -> None:
        self._busy(f"Exporting {path.name}", 0)
        index = self.model.undo_stack.index()

        def done(written):
            self._idle(f"Saved {written}")
            if marks_clean and self.model.undo_stack.index() == index:
                self.model.undo_stack.setClean()
            self._saved_at = self.model.undo_stack.index()
            if self._close_after_export:
                self.close()

        def failed(exc):
            self._close_after_export = False
            self.show_error(f"Could not save {path.name}", exc)

        self.runner.start(
            jobs.Job(kind, fn, path, *args),
            on_result=done,
            on_error=failed,
            on_progress=lambda p, t: self._busy(t, p),
        )

    def _can_export(self) -> bool:
        if self.model.base_matte is None:
            QMessageBox.information(self, APP_NAME, "Find the sky first (Ctrl+R).")
            return False
        return True

    def export_result(self, path=None, quality: int | None = None) -> None:
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
        m = self.model
        self._export(
            "export",
            pipeline.export_result,
            Path(path),
            m.image,
            m.base_matte,
            list(m.strokes),
            m.steps(),
            m.skies(full=True),
            m.metadata,
            quality,
            m.path,
        )

    def export_dialog(self) -> None:
        """The export dialog (format, JPEG quality, file), then that export."""
        if not self._can_export():
            return
        m = self.model
        self.export_box = box = ExportDialog(
            m.path.stem if m.path else "photo", m.path.parent if m.path else Path.home(), self
        )
        box.accepted.connect(lambda: self._export_chosen(*box.choice()))
        box.open()

    def _export_chosen(self, kind: str, path: Path, quality: int | None) -> None:
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
            m = self.model
            self._export(
                "matte",
                pipeline.export_matte,
                Path(path),
                m.image,
                m.base_matte,
                list(m.strokes),
                marks_clean=False,
            )

    def export_layers(self, path=None) -> None:
        if not self._can_export():
            return
        path = path or self._ask_save(
            "Export layers", ".ora", "OpenRaster (*.ora);;Photoshop (*.psd)"
        )
        if path:
            m = self.model
            self._export(
                "layers",
                pipeline.export_layers,
                Path(path),
                m.image,
                m.base_matte,
                list(m.strokes),
                m.steps(),
                m.skies(full=True),
                m.metadata,
            )

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
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop and wait for every job (called on close; tests call it too)."""
        self._segment_job = None
        self.runner.close()
        self.model.undo_stack.blockSignals(True)  # nothing may call into the closing window
