"""The editor's clip tools, built onto the main window: the frame scrubber (a bar under the
photo: previous, slider, next, frame number, time), File > Open timelapse folder… and
Export video… (its dialog: the file and the quality, the command line's ``--crf``), and which
photo tools a clip turns off (brush, matte and layer exports: a clip's mattes are the method's,
steadied over time, as on the command line)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSlider,
    QSpinBox,
    QStyle,
    QToolBar,
)

from skyseg_core.cli._video import CRF_RANGE
from skyseg_core.video import CONTAINERS, DEFAULT_CRF

from .actions import make_action
from .clipcontrol import ClipController
from .export import add_file_row, add_save_cancel

VIDEO_SUFFIXES = tuple(CONTAINERS)
"""What an edited clip can be written as."""
VIDEO_FILTER = ";;".join(
    f"{name} (*{suffix})"
    for name, suffix in (
        ("MPEG-4", ".mp4"),
        ("QuickTime", ".mov"),
        ("Matroska", ".mkv"),
        ("WebM", ".webm"),
    )
)


class FrameBar(QToolBar):
    """The scrubber of the open clip: it asks the clip controller for a frame and follows the
    frame it shows."""

    def __init__(self, clips: ClipController, window):
        super().__init__("Frames", window)
        self.clips = clips
        self.setObjectName("frameBar")
        self.setMovable(False)
        icons = QStyle.StandardPixmap
        self.previous_action = self.addAction(
            window.style().standardIcon(icons.SP_MediaSkipBackward), "Previous frame"
        )
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("frameSlider")
        self.slider.setToolTip("Scrub through the frames: the look is shown once you stop")
        self.addWidget(self.slider)
        self.next_action = self.addAction(
            window.style().standardIcon(icons.SP_MediaSkipForward), "Next frame"
        )
        for action, key, step in ((self.previous_action, ",", -1), (self.next_action, ".", 1)):
            action.setShortcut(key)
            action.setToolTip(f"{action.text()} ({key})")
            action.triggered.connect(
                lambda _c=False, s=step: self.slider.triggerAction(
                    QSlider.SliderAction.SliderSingleStepAdd
                    if s > 0
                    else QSlider.SliderAction.SliderSingleStepSub
                )
            )
            window.addAction(action)
        self.addWidget(QLabel(" Frame "))
        self.number = QSpinBox()
        self.number.setObjectName("frameNumber")
        self.number.setToolTip("The frame shown, from 1: type one and press Enter")
        self.number.setKeyboardTracking(False)  # typing 150 goes to 150, not by 1 and 15
        self.addWidget(self.number)
        self.count_label = QLabel()
        self.addWidget(self.count_label)
        self.where = QLabel()
        self.where.setObjectName("frameTime")
        self.where.setMinimumWidth(150)
        self.addWidget(self.where)
        self._step_to: int | None = None
        """The value a step forward (``.`` or the slider's arrow key) is moving the slider to."""
        self.slider.actionTriggered.connect(self._slider_action)
        self.slider.valueChanged.connect(self._slider_moved)
        self.number.valueChanged.connect(lambda n: self.slider.setValue(n - 1))
        clips.opened.connect(self._opened)
        clips.closed.connect(lambda: self.setVisible(False))
        clips.frameShown.connect(self._shown)
        self.setVisible(False)

    def _slider_action(self, action: int) -> None:
        forward = action == QSlider.SliderAction.SliderSingleStepAdd.value
        self._step_to = self.slider.value() + 1 if forward else None

    def _slider_moved(self, index: int) -> None:
        # a step forward keeps the export's temporal stage going; a drag or any other move is
        # a jump, where it starts again
        step, self._step_to = index == self._step_to, None
        self.clips.show_frame(index, step=step)

    def _opened(self, frames) -> None:
        for widget, high in ((self.slider, frames.count - 1), (self.number, frames.count)):
            widget.blockSignals(True)
            widget.setRange(0 if widget is self.slider else 1, high)
            widget.blockSignals(False)
        self.count_label.setText(f" of {frames.count}  ")
        self.setVisible(True)

    def _shown(self, index: int) -> None:
        for widget, value in ((self.slider, index), (self.number, index + 1)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        frames = self.clips.frames
        self.where.setText(frames.label(index) if frames is not None else "")


class VideoExportDialog(QDialog):
    """Where the edited clip goes and its quality, the command line's ``--crf`` (its range; it
    opens on ``crf``); :meth:`choice` gives ``(path, crf)``."""

    def __init__(self, start: Path, crf: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export video")
        form = QFormLayout(self)
        self.path = add_file_row(form, "exportVideoPath", self._browse, str(start))
        self.crf = QSpinBox()
        self.crf.setObjectName("exportCrf")
        self.crf.setRange(*CRF_RANGE)
        self.crf.setValue(max(CRF_RANGE[0], min(CRF_RANGE[1], crf)))
        self.crf.setToolTip(
            f"x264 (VP9 for .webm) constant rate factor, as skyseg replace --crf: lower is "
            f"better and larger; {DEFAULT_CRF} (the default) looks like the source, 0 is lossless"
        )
        form.addRow("Quality (CRF)", self.crf)
        about = QLabel(f"lower is better; {DEFAULT_CRF}: as the source to the eye, 0: lossless")
        about.setStyleSheet("color: gray")
        form.addRow("", about)
        add_save_cancel(self, form)
        self.resize(560, self.sizeHint().height())

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the video", self.path.text(), VIDEO_FILTER
        )
        if path:
            self.path.setText(path)

    def choice(self) -> tuple[Path, int]:
        """The file (``.mp4`` added unless it ends as a video it can be) and the CRF."""
        path = Path(self.path.text()).expanduser()
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            path = path.with_suffix(".mp4")
        return path, self.crf.value()


def install_clip_tools(window) -> None:
    """``window.clips`` (the :class:`ClipController`), ``window.frame_bar`` and the actions
    ``window.open_sequence_action`` and ``window.export_video_action`` in the File menu."""
    window.clips = clips = ClipController(window.model, window.controller, window)
    window.frame_bar = FrameBar(clips, window)
    window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, window.frame_bar)
    window.open_sequence_action = make_action(
        window,
        "Open &timelapse folder…",
        lambda: _choose_sequence(window),
        "Ctrl+Shift+O",
        tip="Open a folder of photos as a timelapse: its photos, sorted by name, are the frames",
    )
    window.export_video_action = make_action(
        window,
        "Export &video…",
        lambda: export_clip_dialog(window),
        tip="Write the whole clip with this look, as skyseg replace does: every frame, its "
        "timing and the audio kept",
    )
    menu = window.menuBar().actions()[0].menu()  # File
    menu.insertAction(window.recent_menu.menuAction(), window.open_sequence_action)
    menu.insertAction(window.export_dialog_action, window.export_video_action)
    window.cancel_action.triggered.connect(clips.cancel_open)
    window.cancel_button.clicked.connect(clips.cancel_open)
    clips.opened.connect(lambda frames: window._add_recent(frames.path))
    clips.opened.connect(lambda _frames: window._update_enabled())
    clips.closed.connect(window._update_enabled)


def _choose_sequence(window) -> None:
    if not window.maybe_discard():
        return
    folder = QFileDialog.getExistingDirectory(window, "Open a timelapse folder")
    if folder:
        window.open_photo(folder, ask=False)


def sync_clip_actions(window) -> None:
    """With a clip open: the exports are the video's, and the photo-only tools are off."""
    m = window.model
    clip_open = m.clip is not None
    window.export_video_action.setEnabled(clip_open)
    for action in (window.add_action, window.remove_action):
        action.setEnabled(not clip_open)
    window.brush_panel.setEnabled(not clip_open)
    if not clip_open:
        return
    if m.brush.tool == "brush":
        m.set_brush(tool="pan")
    for action in (window.export_action, window.export_dialog_action):
        action.setEnabled(True)
    for widget in (
        window.export_matte_action,
        window.export_layers_action,
        window.save_session_action,
        window.series_action,
        window.segment_action,
        window.segment_button,
    ):
        widget.setEnabled(False)


def export_clip_dialog(window) -> None:
    """Ask where the edited clip goes and at what quality (a timelapse: which folder), then
    export it; the quality chosen is offered next time."""
    from .window_files import APP_NAME, settings  # it imports this module

    frames, m = window.model.clip, window.model
    if frames is None:
        return
    if not m.has_effects:
        window._close_after_export = False
        QMessageBox.information(window, APP_NAME, "Choose a sky or an effect first.")
        return
    start = window.export_folder() / frames.output_name()
    if frames.kind == "sequence":
        path = QFileDialog.getExistingDirectory(
            window, "Write the edited photos to (each keeps its name)", str(start.parent)
        )
        if not path:
            window._close_after_export = False
            return
        settings().setValue("export/folder", str(Path(path).parent))
        window.clips.export(path)
        return
    store = settings()
    crf = store.value("export/crf")
    window.video_export_box = box = VideoExportDialog(
        start, DEFAULT_CRF if crf in (None, "") else int(crf), window
    )

    def chosen() -> None:
        path, crf = box.choice()
        if path.exists():
            answer = QMessageBox.question(
                window,
                APP_NAME,
                f"{path.name} exists. Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                window._close_after_export = False
                return
        store.setValue("export/folder", str(path.parent))
        store.setValue("export/crf", crf)
        window.clips.export(path, crf)

    box.accepted.connect(chosen)
    box.rejected.connect(lambda: setattr(window, "_close_after_export", False))
    box.open()
