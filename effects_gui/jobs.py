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
    progress = pyqtSignal(int, str)
    result = pyqtSignal(object)
    error = pyqtSignal(object)  # the exception; its __traceback_text__ holds the formatted trace
    cancelled = pyqtSignal()
    finished = pyqtSignal()


class Job(QRunnable):
    """``fn(job, *args)`` run on a worker thread."""

    def __init__(self, name: str, fn: Callable, *args):
        super().__init__()
        self.setAutoDelete(False)
        self.name, self.fn, self.args = name, fn, args
        self.signals = JobSignals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, percent: int, message: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self.signals.progress.emit(int(percent), message)

    def run(self) -> None:
        try:
            result = self.fn(self, *self.args)
            if self._cancel.is_set():
                raise Cancelled()
        except Cancelled:
            self.signals.cancelled.emit()
        except Exception as exc:  # reported to the GUI thread, shown as a dialog there
            exc.__traceback_text__ = traceback.format_exc()
            self.signals.error.emit(exc)
        else:
            self.signals.result.emit(result)
        finally:
            self.signals.finished.emit()


class JobRunner(QObject):
    """Starts jobs on its own thread pool and keeps them alive until they finish."""

    busyChanged = pyqtSignal(bool)

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.active: list[Job] = []

    def start(self, job: Job, on_result=None, on_error=None, on_progress=None, on_cancelled=None) -> Job:
        for signal, slot in ((job.signals.result, on_result), (job.signals.error, on_error),
                             (job.signals.progress, on_progress), (job.signals.cancelled, on_cancelled)):
            if slot is not None:
                signal.connect(slot)
        job.signals.finished.connect(lambda: self._finished(job))
        self.active.append(job)
        self.busyChanged.emit(True)
        self.pool.start(job)
        return job

    def _finished(self, job: Job) -> None:
        if job in self.active:
            self.active.remove(job)
        if not self.active:
            self.busyChanged.emit(False)

    def cancel_all(self) -> None:
        for job in self.active:
            job.cancel()

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)


# --------------------------------------------------------------------------- job functions
def load_photo(job: Job, path: Path, proxy_long_side: int):
    from skyseg_core.io import load_image

    from .model import proxy_of

    job.report(5, f"Opening {Path(path).name}")
    image = load_image(path)
    job.report(70, "Preparing the preview")
    proxy, scale = proxy_of(image, proxy_long_side)
    return Path(path), image, proxy, scale


def segment(job: Job, image: np.ndarray, proxy_shape: tuple[int, int], method: str):
    """The method's coarse matte, refined at full size, and its preview-sized copy."""
    from skyseg_core.matte import check_matte, resize_matte
    from skyseg_core.methods import get_method, resolve_name
    from skyseg_core.refine import refine

    job.report(2, "Loading the method")
    resolved = resolve_name(method)
    sky_method = get_method(resolved)
    job.report(10, f"Finding the sky ({resolved})")
    coarse = sky_method.coarse(image)
    job.report(60, "Refining the edges")
    matte = check_matte(refine(image, coarse), image.shape[:2])
    job.report(90, "Preparing the preview")
    proxy_matte = resize_matte(matte, proxy_shape)
    return matte, proxy_matte, resolved


def load_sky(job: Job, source, preview_long_side: int):
    from . import _effects
    from .model import SkyChoice, proxy_of

    job.report(10, "Loading the sky")
    full = _effects.load_sky(source)
    preview, _ = proxy_of(full, preview_long_side)
    label = Path(str(source)).stem if Path(str(source)).suffix else str(source)
    return SkyChoice(label, full, preview)


def thumbnails(job: Job, paths: list, size: int):
    """(source, QImage) thumbnails of sky files or preset names, for the palette."""
    from PyQt6.QtGui import QImage

    from . import _effects
    from .model import proxy_of
    from .qimage import rgb_to_qimage

    out: list[tuple[Path, QImage]] = []
    for i, path in enumerate(paths):
        job.report(int(100 * i / max(1, len(paths))), "Loading skies")
        try:
            small, _ = proxy_of(_effects.load_sky(path), size)
        except Exception:  # a broken asset is left out of the palette, not fatal
            continue
        out.append((path, rgb_to_qimage(small)))
    return out
