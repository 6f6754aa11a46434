"""The work behind a clip or timelapse in the editor: opening it, showing a frame with the look
applied, exporting it; jobs on the editor's runner, reported through the main controller's
signals (progress, errors), so a clip's jobs look and cancel like a photo's.

A shown frame is the edit's photo (:meth:`~effects_gui.model.EditorModel.set_frame`): its matte
is found by the chosen method as a photo's, steadied by the export's temporal stage through
every frame stepped forward since the last jump (:class:`effects_gui.clip.ScrubStage`; frames
skipped while ``.`` is held are caught up in the matte's job, off the GUI thread, and a jump
abandons that and shows its frame on its own), and the preview renders the edit's effects on
it as the export does, with the export's renderer carried along the same run
(:class:`effects_gui.clip.ScrubRenderer`: the new sky moved with the camera, the foreground
light smoothed; another look starts the run again). A frame not kept is read one at a time on
a worker of its own (so a frame shows while the shared workers find mattes or export): while
the scrubber is dragged, the frame asked for last is read next and the ones passed meanwhile
are never read, so the window does not wait for a backlog. The export is :func:`effects_gui.clip.export_clip`.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from skyseg_core.video import is_video_file

from . import clip, jobs
from .controller import EditorController
from .model import EditorModel

SETTLE_MS = 120
"""A frame's sky is looked for once the scrubber rests this long (every frame while dragging
would queue work the user has already passed)."""


def is_clip(path) -> bool:
    """Whether ``path`` opens as a clip (a video file) or a timelapse (a folder)."""
    return is_video_file(path) or Path(path).is_dir()


class ClipController(QObject):
    opened = pyqtSignal(object)
    """A clip or sequence is open (its :class:`~effects_gui.clip.ClipFrames`)."""
    closed = pyqtSignal()
    """A photo was opened instead: no clip."""
    frameShown = pyqtSignal(int)
    """The frame shown now (from 0)."""

    def __init__(self, model: EditorModel, controller: EditorController, parent=None):
        super().__init__(parent)
        self.model, self.controller = model, controller
        self.frames: clip.ClipFrames | None = None
        self.index = 0
        self.open_job: jobs.Job | None = None
        self.matte_job: jobs.Job | None = None
        self.frame_job: jobs.Job | None = None
        self.reader = jobs.JobRunner(self, threads=1)
        """Reads the frames shown, never queued behind a matte's or an export's job."""
        self.sky_wanted = False
        """The sky is to be found once the frame being read is shown."""
        self.unreadable: int | None = None
        """The frame that could not be read (not tried again until asked for again)."""
        self.matte_again = False
        self.mattes_found = 0
        self.shown_index = 0
        """The frame whose pixels the model holds (a sequence's photo is read with its sky)."""
        self.stage = clip.ScrubStage()
        """The export's temporal stage, carried from frame k to k+1 (a new one per clip)."""
        self.origin = 0
        """Where the stage's run starts: the frame the last jump landed on (a step forward
        keeps it)."""
        self.catching_up: jobs.Job | None = None
        """The matte job while it passes frames a run skipped (a jump cancels it)."""
        self.renderer = clip.ScrubRenderer()
        """The export's frame renderer, carried along the stage's run (a new one per clip)."""
        controller.frame_render = self._frame_render
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.find_sky)
        model.photoChanged.connect(self._photo_changed)
        model.methodChanged.connect(self._method_changed)
        model.skyChanged.connect(self._look_changed)
        model.settingsChanged.connect(self._look_changed)

    @property
    def long_side(self) -> int:
        return min(self.model.proxy_long_side, clip.CLIP_PREVIEW_LONG_SIDE)

    # ================================================================= opening
    def open(self, path) -> None:
        """Open a video file, or a folder as a timelapse; its first frame is shown."""
        path = Path(path)
        sequence = path.is_dir()
        c = self.controller
        self.cancel_open()
        c.busy.emit(f"Opening {path.name}", 0, True)
        job = jobs.Job(
            "clip", clip.open_sequence if sequence else clip.open_video, path, self.long_side
        )
        self.open_job = job

        def progress(percent: int, text: str) -> None:
            if self.open_job is job:
                c.busy.emit(f"Opening {path.name}: {text}", percent, True)

        def opened(result) -> None:
            if self.open_job is job:
                self.open_job = None
                self._opened(result)

        def failed(exc) -> None:
            if self.open_job is job:
                self.open_job = None
                c.failed.emit(f"Could not open {path.name}", exc)

        c.runner.start(job, on_result=opened, on_progress=progress, on_error=failed)

    def cancel_open(self) -> None:
        """Stop reading a clip (Cancel, Esc, or another clip opened): nothing changes."""
        if self.open_job is not None:
            self.open_job.cancel()
            self.open_job = None
            self.controller.idle.emit("Opening cancelled")

    def _opened(self, result) -> None:
        frames, first = result if isinstance(result, tuple) else (result, None)
        if first is None:
            first = frames.frame(0)
        self.controller.cancel_jobs()
        self.controller.set_notice("")
        if self.frames is not None and self.frames is not frames:
            self.frames.close()
        self.frames, self.index, self.shown_index = frames, 0, 0
        self._jump(0)
        self.stage, self.renderer = clip.ScrubStage(), clip.ScrubRenderer()
        self.model.set_photo(frames.path, first, first, 1.0, clip=frames)
        self.model.set_view(mode="photo", overlay=True, before=False)
        self.opened.emit(frames)
        self.frameShown.emit(0)
        w, h = frames.size
        what = f"{float(frames.rate):.3g} frames/s" if frames.rate else "timelapse"
        self.controller.idle.emit(
            f"{frames.path.name}  {frames.count} frames, {w}×{h}, {what} — pick a sky or an effect"
        )
        self.find_sky()

    def close(self) -> None:
        """Let the open clip's file and kept frames go (the window closes; its jobs are done)."""
        self.reader.close()
        if self.frames is not None:
            self.frames.close()

    def _photo_changed(self) -> None:
        if self.frames is not None and self.model.clip is not self.frames:
            self.frames.close()
            self.frames = None  # a photo was opened
            self.closed.emit()

    # ================================================================= frames
    def show_frame(self, index: int, step: bool = False) -> None:
        """Show frame ``index``: its pixels at once when kept, else once read (the latest frame
        asked for wins); its sky and look once the scrubber rests. ``step``: asked for as the
        next frame (``.``), which keeps the stage's run going; anything else is a jump."""
        frames = self.frames
        if frames is None:
            return
        index = max(0, min(frames.count - 1, int(index)))
        if index == self.index and self.model.image is not None:
            return
        if not (step and index == self.index + 1):
            self._jump(index)
        self.index, self.unreadable = index, None
        kept = frames.source.kept(index)
        if kept is not None:
            self.model.set_frame(kept)
            self.shown_index = index
        elif self.frame_job is None:
            self._read_frame()
        self.frameShown.emit(index)
        self._settle.start()

    def _jump(self, index: int) -> None:
        """The stage starts again at ``index``; the frames a run skipped are no longer wanted."""
        self.origin = index
        if self.catching_up is not None:
            self.catching_up.cancel()
            self.catching_up = None

    def _method_changed(self, _name: str) -> None:
        if self.frames is not None:
            self._jump(self.index)
            self.find_sky()

    def _look_changed(self, *_group) -> None:
        """Another sky or setting: the renderer's run starts again at the frame shown (the
        export's sky and light would differ from the first frame on), so the stage's does too;
        a catch-up it abandons is asked for again for the frame shown."""
        if self.frames is not None:
            abandoned = self.catching_up is not None
            self._jump(self.index)
            if abandoned:
                self.find_sky()

    def _frame_render(self, matte) -> tuple:
        """The render job's function and arguments for the frame shown with ``matte`` (the
        controller's :meth:`~effects_gui.controller.EditorController.schedule_render`)."""
        m = self.model
        return (
            clip.frame_render,
            self.shown_index,
            m.proxy,
            matte,
            m.method,
            m.steps(),
            m.skies(),
            self.renderer,
            self.origin,
        )

    def _read_frame(self) -> None:
        """The frame asked for last, read on a worker; then the next one asked for meanwhile."""
        frames, c = self.frames, self.controller
        if frames is None:
            return
        index = self.index
        job = jobs.Job("frame pixels", clip.read_frame, frames, index)
        self.frame_job = job

        def done(result) -> None:
            at, image = result
            # shown even when the scrubber moved on meanwhile: a drag shows the frames it can
            if self.frames is frames and self.shown_index != at:
                self.model.set_frame(image)
                self.shown_index = at
                if at == self.index and self.sky_wanted and not self._settle.isActive():
                    self.find_sky()

        def failed(exc) -> None:
            if self.frames is frames:
                self.sky_wanted, self.unreadable = False, index
                c.failed.emit(f"Could not read frame {index + 1}", exc)

        def finished() -> None:
            self.frame_job = None
            wanted = self.index
            if self.frames is frames and wanted not in (self.shown_index, self.unreadable):
                self._read_frame()

        self.reader.start(job, on_result=done, on_error=failed, on_finished=finished)

    def find_sky(self) -> None:
        """The shown frame's matte on a worker; the latest frame asked for wins (one waits while
        one runs)."""
        frames = self.frames
        if frames is None:
            return
        if self.shown_index != self.index:  # its pixels first: the sky once they are shown
            self.sky_wanted = self.index != self.unreadable
            if self.sky_wanted and self.frame_job is None:
                self._read_frame()
            return
        self.sky_wanted = False
        if self.matte_job is not None:
            self.matte_again = True
            return
        self.matte_again = False
        m, c = self.model, self.controller
        index, origin = self.index, self.origin
        passing = self.stage.behind(origin, index, m.method)  # frames a held "." skipped
        look = (m.steps(), m.skies())
        rendering = self.renderer.behind(origin, index, clip.render_key(m.method, *look))
        if look[0] and rendering != passing:  # the renderer is elsewhere: both pass the run again
            passing = range(origin, index)
        args = (index, m.image, m.method, self.stage, origin, frames, passing, self.renderer, look)
        job = jobs.Job("frame", clip.frame_matte, *args)
        self.matte_job = job
        self.catching_up = job if passing else None

        def done(result):
            at, image, matte, _proxy_matte, _method, images = result
            if self.frames is not frames or at != self.index or image is not m.image:
                return  # another frame is shown now: its own sky is on its way
            c.matteImagesReady.emit(matte, *images)
            m.set_frame_matte(matte)
            self.mattes_found += 1
            c.idle.emit(f"{frames.path.name}  frame {at + 1} of {frames.count}")

        def progress(percent: int, text: str) -> None:
            if self.catching_up is job and text.startswith(clip.STEADYING):
                c.busy.emit(f"{frames.path.name}: {text}", percent, False)

        def finished():
            self.matte_job = None
            if self.catching_up is job:
                self.catching_up = None
            if job.is_cancelled:
                c.idle.emit("")
            if self.matte_again:
                self.find_sky()

        c.runner.start(
            job,
            on_result=done,
            on_progress=progress,
            on_error=lambda exc: c.failed.emit("Could not find the sky in this frame", exc),
            on_finished=finished,
        )

    # ================================================================= export
    def export(self, output, crf: int | None = None) -> None:
        """The whole clip with the edit's effects (:func:`effects_gui.clip.export_clip`) as a
        cancellable job with its progress in frames; nothing is written when it is cancelled."""
        m = self.model
        if self.frames is None:
            return
        self.controller._export(
            "clip",
            clip.export_clip,
            Path(output),
            self.frames,
            m.method,
            m.steps(),
            m.skies(full=True),
            crf,
        )
