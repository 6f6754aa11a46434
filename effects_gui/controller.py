"""The editor's controller: the work behind the window (opening, finding the sky, rendering the
preview, skies, brushing; the exports in :mod:`effects_gui.exports`) as jobs on threads, told
to the window by signals (one class of about 440 lines: every job's result lands on the same
model and ends in the one render schedule, ``schedule_render``).

It holds no widget. The window builds the widgets, asks the user (file dialogs, questions) and
shows what the controller says: progress (``busy``/``idle``), errors (``failed``), the notice on
the photo, the prepared preview images. The edit itself lives in the model
(:class:`~effects_gui.model.EditorModel`); the pictures are made by :mod:`effects_gui.pipeline`,
which calls :mod:`skyseg_core.pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from skyseg_core.declare import controls
from skyseg_core.detail import gap_target
from skyseg_core.effects.registry import REGISTRY
from skyseg_core.errors import SkysegError
from skyseg_core.methods import method_label

from . import jobs, pipeline
from .brush import Stroke
from .exports import ExportJobs
from .library import THUMBNAIL_SIZE, SkyLibrary, is_sky_file
from .model import EditorModel, sky_driven

SKY_PREVIEW_FACTOR = 1.0
"""The preview's sky: as large as the preview (a larger one costs 3x per render)."""


class EditorController(ExportJobs, QObject):
    busy = pyqtSignal(str, int, bool)
    """A job runs: message, percent, whether it can be cancelled."""
    idle = pyqtSignal(str)
    """No job runs; a status message ("" keeps the last one)."""
    failed = pyqtSignal(str, object)
    """Something went wrong: a title and the exception (the edit is kept)."""
    noticeChanged = pyqtSignal(str)
    """The notice shown on the photo ("" for none)."""
    photoLoaded = pyqtSignal(object, object)
    """A photo was opened: its path and its full-size image."""
    segmentingChanged = pyqtSignal()
    """The sky search started or ended (what can be done changed)."""
    matteImagesReady = pyqtSignal(object, object, object)
    """The preview matte and its overlay and grey images, made off the GUI thread."""
    resultImageReady = pyqtSignal(object)
    """The rendered preview as a QImage."""
    libraryLoaded = pyqtSignal(object)
    """The sky library's thumbnails."""
    exportFinished = pyqtSignal(bool)
    """An export ended: written (True) or failed (False)."""
    seriesFinished = pyqtSignal(list, list)
    """The edit was applied to a series: the paths written, the error lines."""

    def __init__(self, model: EditorModel, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model
        self.runner = jobs.JobRunner(self)
        self.library = SkyLibrary(parent=self)
        self.sky_group = next(name for name in REGISTRY if sky_driven(name))
        """The effect whose sky the library drives."""
        self.segment_job: jobs.Job | None = None
        self.gap_job: jobs.Job | None = None
        self.pending_session = None
        """A session being reopened (:class:`effects_gui.session.Session`): restored once its
        photo is open and its sky found."""
        self.export_jobs: list[jobs.Job] = []
        """The exports running (each can be cancelled)."""
        self.made_files: set[Path] = set()
        """Files the exports of this session wrote (the cut-out asks before replacing others)."""
        self.render_job: jobs.Job | None = None
        self.render_pending = False
        """A render was asked for while one ran: it runs when that one ends."""
        self.after_segment: list[Callable[[], None]] = []
        self.renders_done = 0
        self.frame_render: Callable[..., tuple] | None = None
        """With a clip open: ``frame_render(matte)`` gives the function and arguments that render
        the frame shown as the export renders it (:class:`effects_gui.clipcontrol.ClipController`)."""
        self.library_loads = 0
        self.saved_at: int | None = None
        """The undo index of the last export (None once edited since)."""
        self.notice = ""
        self._drag_start: tuple[float, float] | None = None
        self.library.changed.connect(self.refresh_library)
        model.gapTargetNeeded.connect(self.make_gap_target)
        self.rebuild_job: jobs.Job | None = None
        self.rebuild_again = False
        model.rebuilder = self.rebuild_matte

    # ================================================================= notices
    def set_notice(self, text: str) -> None:
        self.notice = text
        self.noticeChanged.emit(text)

    def no_sky(self, message: str) -> None:
        """The edit found no sky to work on: said on the photo and in the status bar (the
        photo is shown as it is, not as an unchanged "result")."""
        self.idle.emit(message)
        self.set_notice(message)

    # ================================================================= opening
    def open_photo(self, path) -> None:
        path = Path(path)
        self.busy.emit(f"Opening {path.name}", 0, False)

        def failed(exc):
            self.pending_session = None
            self.failed.emit(f"Could not open {path.name}", exc)

        self.runner.start(
            jobs.Job("load", jobs.load_photo, path, self.model.proxy_long_side),
            on_result=self._photo_loaded,
            on_progress=lambda p, t: self.busy.emit(t, p, False),
            on_error=failed,
        )

    def _photo_loaded(self, loaded) -> None:
        path, image, proxy, scale, metadata = loaded
        self.cancel_jobs()
        self.set_notice("")
        self.model.set_photo(path, image, proxy, scale, metadata)
        self.model.set_view(mode="photo", overlay=True, before=False)
        self.photoLoaded.emit(path, image)
        self.idle.emit(f"{path.name}  {image.shape[1]}×{image.shape[0]} — click Find sky (Ctrl+R)")
        saved, self.pending_session = self.pending_session, None
        if saved is not None and saved.photo == path:
            self._restore(saved)

    # ================================================================= sessions
    def save_session(self, path) -> None:
        """Write the edit as a session file (:mod:`effects_gui.session`); it counts as saved."""
        from . import session

        try:
            written = session.save(path, session.of_model(self.model))
        except (OSError, SkysegError) as exc:
            self.failed.emit(f"Could not save {Path(path).name}", exc)
            return
        self.model.undo_stack.setClean()
        self.idle.emit(f"Edit saved to {written}")

    def open_session(self, path) -> None:
        """Reopen a saved edit: its photo, then the sky found by its method, then its strokes,
        settings and sky."""
        from . import session

        try:
            saved = session.load(path)
        except SkysegError as exc:
            self.failed.emit(f"Could not open {Path(path).name}", exc)
            return
        self.pending_session = saved
        self.open_photo(saved.photo)

    def _restore(self, saved) -> None:
        m = self.model
        m.set_method(saved.method)

        def restore():
            m.restore(saved.strokes, saved.params, saved.enabled)
            if saved.sky is not None:
                self.use_sky(saved.sky)
            self.idle.emit(f"Edit reopened: {len(saved.strokes)} strokes")

        self.after_segment.append(restore)
        self.segment()

    # ================================================================= segmentation
    def segment(self) -> None:
        m = self.model
        if not m.has_photo or self.segment_job is not None or m.clip is not None:
            return  # a clip's frames get their mattes from effects_gui.clipcontrol
        self.busy.emit("Finding the sky", 0, True)
        job = jobs.Job("segment", jobs.segment, m.image, m.proxy.shape[:2], m.method)
        self.segment_job = job
        image = m.image

        def done(result):
            if self.segment_job is not job:
                return
            self.segment_job = None
            if m.image is not image:  # another photo was opened meanwhile
                return
            matte, proxy_matte, resolved, images = result
            self.matteImagesReady.emit(proxy_matte, *images)
            m.set_segmentation(matte, proxy_matte, resolved)
            kept, label = len(m.strokes), method_label(resolved)
            self.idle.emit(
                f"Sky found with {label}; your {kept} brush stroke{'s' if kept > 1 else ''} "
                "applied on top (Ctrl+Z undoes)."
                if kept
                else f"Sky found with {label}. Brush to refine, or pick a new sky."
            )
            self.segmentingChanged.emit()
            for action in self.after_segment:
                action()
            self.after_segment.clear()

        def failed(exc):
            if self.segment_job is job:
                self.segment_job = None
                self.after_segment.clear()
                self.segmentingChanged.emit()
                self.failed.emit("Could not find the sky", exc)

        self.runner.start(
            job,
            on_result=done,
            on_error=failed,
            on_progress=lambda p, t: self.segment_job is job and self.busy.emit(t, p, True),
        )
        self.segmentingChanged.emit()

    def cancel_jobs(self) -> None:
        """Stop the segmentation and the exports (the UI is free at once; a thread stops at its
        next stage, and a cancelled export writes nothing)."""
        if self.segment_job is not None:
            self.segment_job.cancel()
            self.segment_job = None
            self.after_segment.clear()
            self.idle.emit("Cancelled")
            self.segmentingChanged.emit()
        if self.export_jobs:
            names = ", ".join(Path(job.args[0]).name for job in self.export_jobs)
            for job in self.export_jobs:
                job.cancel()
            self.export_jobs.clear()
            self.idle.emit(f"Export cancelled: {names} not written")
            self.exportFinished.emit(False)

    def effect_requested(self, on: bool) -> None:
        """An effect switched on before the sky was found: find it first (then it renders)."""
        if on and self.model.has_photo and self.model.matte is None:
            self.segment()

    # ================================================================= close gaps
    def make_gap_target(self) -> None:
        """The preview's gap target for the matte now (close gaps was turned up)."""
        m = self.model
        base, proxy = m.base_proxy_matte, m.proxy
        if base is None or self.gap_job is not None and self.gap_job.args[1] is base:
            return
        self.busy.emit("Closing the gaps in the foliage", 0, False)
        job = jobs.Job("gaps", lambda _job, image, matte: gap_target(image, matte), proxy, base)
        self.gap_job = job

        def done(target):
            if self.gap_job is job:
                self.gap_job = None
                self.idle.emit(" ")
                m.set_gap_target(base, target)

        def failed(exc):
            if self.gap_job is job:
                self.gap_job = None
                self.failed.emit("Could not close the gaps", exc)

        self.runner.start(job, on_result=done, on_error=failed)

    def rebuild_matte(self) -> None:
        """Replay the strokes on the preview's (gap-closed) method matte on a thread; the latest
        request wins (one waits while one runs)."""
        if self.rebuild_job is not None:
            self.rebuild_again = True
            return
        m = self.model
        key = m.matte_key()
        job = jobs.Job(
            "rebuild", jobs.replay_strokes, m.closed_base(), m.proxy, list(m.strokes), m.scale
        )
        self.rebuild_job = job
        self.busy.emit("Applying your brush strokes", 0, False)

        def done(matte):
            if m.install_matte(matte, key):
                self.idle.emit("")
            elif m.matte_pending:
                self.rebuild_again = True

        def finished():
            self.rebuild_job = None
            if self.rebuild_again and m.matte_pending:
                self.rebuild_again = False
                self.rebuild_matte()
            else:
                self.rebuild_again = False

        def failed(exc):
            self.failed.emit("Could not apply the brush strokes", exc)

        self.runner.start(job, on_result=done, on_error=failed, on_finished=finished)

    # ================================================================= brushing and sky drag
    def paint(self, points: list) -> None:
        """A brush stroke on the preview (its coordinates) applied to the edit at full size."""
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
            m.brush.flow,
        )
        m.paint(stroke)

    def drag_sky(self, dx: float, dy: float, done: bool) -> None:
        m = self.model
        if m.sky is None:
            return
        if self._drag_start is None:
            self._drag_start = m.edit.replace.position
        x0, y0 = self._drag_start
        # x pans across the sky (dragging right shows more of its left part); y > 0.5 lowers it;
        # kept in the declared range, at the shown precision
        ctl = controls(REGISTRY[self.sky_group].params)["position"][1]
        x, y = (round(min(ctl.high, max(ctl.low, v)), ctl.decimals) for v in (x0 - dx, y0 + dy))
        m.set_sky_param("position", (x, y))
        if done:
            self._drag_start = None

    # ================================================================= skies
    def refresh_library(self) -> None:
        """(Re)load the sky library's thumbnails (cached after the first time)."""

        def loaded(items):
            self.libraryLoaded.emit(items)
            self.library_loads += 1

        self.runner.start(
            jobs.Job(
                "thumbnails",
                jobs.thumbnails,
                self.library.entries(),
                THUMBNAIL_SIZE,
                self.library.thumbnail_path,
            ),
            on_result=loaded,
        )

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
            self.idle.emit("No sky images there (.jpg, .png, .tif, .webp)")

    def use_sky(self, source) -> None:
        """Load a sky (file, bundled asset or preset) and put it in; find the sky first if needed.
        A file that loads joins the library."""
        m = self.model
        if not m.has_photo:
            return
        self.busy.emit("Loading the sky", 0, False)
        preview_side = int(m.proxy_long_side * SKY_PREVIEW_FACTOR)
        name = Path(str(source)).name

        def loaded(sky):
            self.idle.emit(f"Sky: {sky.label}")
            if Path(sky.source).is_file() and sky.source not in self.library.sources():
                self.library.add([sky.source])
            m.set_sky(sky)
            if m.matte is None:
                self.segment()

        icc = getattr(m.metadata, "icc_profile", b"")
        self.runner.start(
            jobs.Job("sky", jobs.load_sky, source, preview_side, icc),
            on_result=loaded,
            on_error=lambda exc: self.failed.emit(f"Could not use {name} as a sky", exc),
        )

    # ================================================================= preview rendering
    def schedule_render(self) -> None:
        """Render the preview on a worker; while one runs, the latest request waits for it."""
        if self.render_job is not None:
            self.render_pending = True
            return
        m = self.model
        if not m.has_effects or m.matte is None:
            return
        self.render_pending = False
        render = (pipeline.render_preview, m.proxy, m.matte.copy(), m.steps(), m.skies())
        if m.clip is not None and self.frame_render is not None:
            render = self.frame_render(m.matte.copy())
        job = jobs.Job("render", *render)
        self.render_job = job
        proxy = m.proxy

        def done(result):
            image, qimage, no_sky = result
            if m.proxy is not proxy or not m.has_effects:
                return
            self.renders_done += 1
            if no_sky:
                self.no_sky(no_sky)
                m.set_result(None)
                return
            if self.notice:
                self.set_notice("")
                self.idle.emit(" ")
            m.result = image
            self.resultImageReady.emit(qimage)

        def finished():
            self.render_job = None
            if self.render_pending:
                self.schedule_render()
            elif not m.has_effects:
                m.set_result(None)
                self.set_notice("")

        def failed(exc):
            self.render_pending = False
            self.failed.emit("Could not render the preview", exc)

        self.runner.start(job, on_result=done, on_error=failed, on_finished=finished)

    def shutdown(self) -> None:
        """Stop and wait for every job."""
        self.segment_job = None
        self.runner.close()
