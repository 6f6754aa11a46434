"""Slow work on a thread pool, reporting progress, result and error by Qt signal.

A job is a function run on a worker thread; it may call ``job.report(percent, message)``,
which also raises :class:`Cancelled` once the job was cancelled, so long work stops at the
next stage. Signals cross to the GUI thread as queued connections; the GUI thread never
waits on a job except when the window closes.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal


class Cancelled(Exception):
    """Raised inside a job by :meth:`Job.report` after :meth:`Job.cancel`."""


class JobSignals(QObject):
    """Each signal carries the job first, so one receiver serves every job."""

    progress = pyqtSignal(object, int, str)
    result = pyqtSignal(object, object)
    error = pyqtSignal(object, object)  # the exception; its __traceback_text__ holds the trace
    cancelled = pyqtSignal(object)
    finished = pyqtSignal(object)


class Job(QRunnable):
    """``fn(job, *args)`` run on a worker thread."""

    def __init__(self, name: str, fn: Callable, *args):
        super().__init__()
        # autoDelete (the default): the pool owns the runnable and deletes it after run()
        # returns, so dropping our reference can never free it while a worker is inside it.
        self.name, self.fn, self.args = name, fn, args
        self.signals = JobSignals()
        self.callbacks: dict[str, Callable] = {}
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, percent: int, message: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self._emit("progress", int(percent), message)

    def _emit(self, name: str, *args) -> None:
        try:
            getattr(self.signals, name).emit(self, *args)
        except RuntimeError:  # the receiving window is gone (application teardown): stop quietly
            self._cancel.set()
            if name == "progress":
                raise Cancelled() from None

    def run(self) -> None:
        try:
            result = self.fn(self, *self.args)
            if self._cancel.is_set():
                raise Cancelled()
        except Cancelled:
            self._emit("cancelled")
        except Exception as exc:  # reported to the GUI thread, shown as a dialog there
            exc.__traceback_text__ = traceback.format_exc()
            self._emit("error", exc)
        else:
            self._emit("result", result)
        finally:
            self._emit("finished")


class JobRunner(QObject):
    """Starts jobs on its own thread pool and hands their reports to the callbacks.

    The job signals are connected to this object's own methods, so when the window (and this
    runner with it) is gone, Qt drops reports still in the queue instead of calling into
    deleted widgets; after :meth:`close` no callback runs at all.
    """

    busyChanged = pyqtSignal(bool)

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.active: list[Job] = []
        self.closed = False

    def start(
        self,
        job: Job,
        on_result=None,
        on_error=None,
        on_progress=None,
        on_cancelled=None,
        on_finished=None,
    ) -> Job:
        job.callbacks = {
            k: v
            for k, v in (
                ("result", on_result),
                ("error", on_error),
                ("progress", on_progress),
                ("cancelled", on_cancelled),
                ("finished", on_finished),
            )
            if v
        }
        job.signals.result.connect(self._on_result)
        job.signals.error.connect(self._on_error)
        job.signals.progress.connect(self._on_progress)
        job.signals.cancelled.connect(self._on_cancelled)
        job.signals.finished.connect(self._on_finished)
        self.active.append(job)
        self.busyChanged.emit(True)
        self.pool.start(job)
        return job

    def _call(self, job: Job, kind: str, *args) -> None:
        callback = job.callbacks.get(kind)
        if callback is not None and not self.closed:
            callback(*args)

    def _on_result(self, job, value) -> None:
        self._call(job, "result", value)

    def _on_error(self, job, exc) -> None:
        self._call(job, "error", exc)

    def _on_progress(self, job, percent, message) -> None:
        self._call(job, "progress", percent, message)

    def _on_cancelled(self, job) -> None:
        self._call(job, "cancelled")

    def _on_finished(self, job) -> None:
        if job in self.active:
            self.active.remove(job)
            job.signals.deleteLater()  # deleted by this (GUI) thread's event loop, not a worker
        self._call(job, "finished")
        job.callbacks = {}
        if not self.active and not self.closed:
            self.busyChanged.emit(False)

    def cancel_all(self) -> None:
        for job in self.active:
            job.cancel()

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)

    def close(self) -> None:
        """Cancel every job, wait for the workers, and deliver nothing more."""
        self.cancel_all()
        self.closed = True
        self.pool.waitForDone()


# --------------------------------------------------------------------------- job functions
def load_photo(job: Job, path: Path, proxy_long_side: int):
    from skyseg_core.io import load_image_with_metadata
    from skyseg_core.raw import is_raw_file

    from .model import proxy_of

    name = Path(path).name
    job.report(5, f"Developing the RAW photo {name}" if is_raw_file(path) else f"Opening {name}")
    # the metadata is written back into the exports, as the command line does
    image, metadata = load_image_with_metadata(path)
    job.report(70, "Preparing the preview")
    proxy, scale = proxy_of(image, proxy_long_side)
    return Path(path), image, proxy, scale, metadata


def segment(
    job: Job,
    image: np.ndarray,
    proxy_shape: tuple[int, int],
    method: str,
    steady: Callable[[np.ndarray], np.ndarray] | None = None,
):
    """The photo's matte by :func:`skyseg_core.pipeline.find_matte` (the method, refined, with
    its progress shown), passed through ``steady`` when given (a clip frame's temporal stage),
    and its preview-sized copy."""
    from skyseg_core.matte import resize_matte
    from skyseg_core.pipeline import MatteSource, find_matte

    matte, resolved = find_matte(
        image,
        MatteSource(method=method, refine=True),
        progress=lambda fraction, message: job.report(int(2 + 86 * fraction), message),
    )
    if steady is not None:
        matte = steady(matte)
    job.report(90, "Preparing the preview")
    proxy_matte = resize_matte(matte, proxy_shape)
    from .qimage import grey_to_qimage, overlay_qimage

    images = (overlay_qimage(proxy_matte), grey_to_qimage(proxy_matte))  # off the GUI thread
    return matte, proxy_matte, resolved, images


def load_sky(job: Job, source, preview_long_side: int, icc: bytes = b""):
    """A sky and its preview-sized copy; the copy in the photo's colour space (its ICC
    profile), as the export brings the full sky there (:func:`skyseg_core.pipeline.write_rendered`)."""
    from . import _effects
    from .model import SkyChoice, proxy_of

    job.report(10, "Loading the sky")
    full = _effects.load_sky(source)
    preview, _ = proxy_of(full, preview_long_side)
    if icc:
        from skyseg_core.metadata import to_profile

        preview = to_profile(preview, icc)
    label = (Path(str(source)).stem if Path(str(source)).suffix else str(source)).replace("_", " ")
    return SkyChoice(str(source), label, full, preview)


def thumbnails(job: Job, entries: list, size: int, cached):
    """``(entry, QImage)`` thumbnails of sky library entries: from the cache (``cached(source)``
    gives a thumbnail's PNG path) or made once and written there."""
    from PyQt6.QtGui import QImage

    from . import _effects
    from .model import proxy_of
    from .qimage import rgb_to_qimage

    out: list[tuple[object, QImage]] = []
    for i, entry in enumerate(entries):
        job.report(int(100 * i / max(1, len(entries))), "Loading skies")
        path = cached(entry.source)
        image = QImage(str(path)) if path.is_file() else QImage()
        if image.isNull():
            try:
                small, _ = proxy_of(_effects.load_sky(entry.source), size)
            except Exception:  # a broken or vanished file is left out of the library, not fatal
                continue
            image = rgb_to_qimage(small)
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(str(path))  # a cache: a failed write only means it is made again
        out.append((entry, image))
    return out


def replay_strokes(job: Job, matte: np.ndarray, image: np.ndarray, strokes: list, scale: float):
    """``strokes`` replayed on a copy of ``matte`` (:func:`effects_gui.brush.replay`)."""
    from .brush import replay

    job.report(0, "Applying your brush strokes")
    return replay(matte, image, strokes, scale)
