"""The live preview both plug-ins show while the user moves a control, on a working copy.

The host writes a *working copy* of the photo at screen size (:func:`working_size`; the host
scales, with its own resampling) and hands it to :meth:`Preview.set_photo`. Its matte is made
once with the worker's ``mask`` op and cached, keyed by the working copy's content and the
matte source (method, refine); every render is then the effect op on the working copy with
``matte=`` that file, so a control change costs one effect at screen size, never a
segmentation. The full-resolution run stays the host's OK/Apply. No protocol change: effect ops
already take a ``matte`` file.

:class:`LatestRender` runs a preview's renders on a thread, the last change winning: rapid
changes are coalesced (a short quiet delay, at most one render in flight and one waiting), and
the host's GUI thread collects the newest result with :meth:`LatestRender.poll` from a timer,
so no host callback ever runs off the GUI thread.
"""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
import tempfile
import threading
import time

from .errors import WorkerError

LONG_SIDE = 1280
"""The working copy's long side in pixels (about a screen's): large enough to judge the sky's
edge, small enough that an effect renders well within a second."""

SOURCE_KEYS = ("method", "refine")
"""The params that say where the matte comes from (the rest are the effect's)."""

RenderResult = collections.namedtuple(
    "RenderResult", "generation op params path error seconds latest prepared"
)
RenderResult.__doc__ = """One finished preview render: ``path`` (the rendered working copy) or
``error`` (the exception: a :class:`WorkerError` from the worker, an ``OSError`` when the
preview's folder went, whatever the host's ``prepare`` raised), ``generation`` (the submission it answers), ``seconds`` (from
that submission to the result, ``prepare`` included), ``latest`` (no newer submission is waiting)
and ``prepared`` (what :class:`LatestRender`'s ``prepare`` made of ``path``, else None)."""


def working_size(width: int, height: int, long_side: int = LONG_SIDE) -> tuple:
    """The working copy's size: ``width`` x ``height`` scaled so its long side is at most
    ``long_side`` (never enlarged), each side at least 1 pixel."""
    scale = min(1.0, long_side / float(max(width, height, 1)))
    return max(1, int(round(width * scale))), max(1, int(round(height * scale)))


def _digest(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:20]


class Preview:
    """Renders effects on a working copy with a cached matte, in a private temporary folder.

    Parameters
    ----------
    client : SkysegClient or callable
        The worker's client, or a callable returning it (a host that restarts its worker after a
        cancel hands the current one each time).
    suffix : str
        The rendered previews' format (".png", or ".ppm" for a host that reads Netpbm itself).
    keep : int
        How many recent renders stay on disk (a host may still be reading the one before).
    """

    def __init__(self, client, suffix: str = ".png", keep: int = 2):
        self._client = client if callable(client) else (lambda: client)
        self.suffix = suffix
        self.keep = max(1, keep)
        self.folder: str | None = tempfile.mkdtemp(prefix="skyseg-preview-")
        self.photo: str | None = None
        """The working copy in use (a file in :attr:`folder`), None before :meth:`set_photo`."""
        self.size: tuple | None = None
        """The working copy's (width, height), as the worker read it (known after a matte)."""
        self.sky_fraction = None
        """The share of sky in the working copy's matte (known after a matte)."""
        self._digest = ""
        self._mattes: dict = {}
        self._outputs: collections.deque = collections.deque()
        self._count = 0
        self._lock = threading.Lock()

    def _open_folder(self) -> str:
        if self.folder is None:
            raise WorkerError("the preview was closed")
        return self.folder

    def photo_path(self, suffix: str = ".ppm") -> str:
        """A fresh path in the preview's folder for the host to write a working copy to."""
        with self._lock:
            self._count += 1
            return os.path.join(self._open_folder(), f"incoming-{self._count}{suffix}")

    def set_photo(self, path: str) -> str:
        """Use the working copy at ``path`` (moved into the preview's folder when it is already
        there, else copied): the next render uses it, and its matte is made once per source."""
        folder = self._open_folder()
        digest = _digest(path)
        target = os.path.join(folder, f"photo-{digest}{os.path.splitext(path)[1].lower()}")
        inside = os.path.dirname(os.path.abspath(path)) == os.path.abspath(folder)
        if not os.path.exists(target):
            (os.replace if inside else shutil.copyfile)(path, target)
        elif inside and os.path.abspath(path) != target:
            os.remove(path)
        with self._lock:
            self.photo, self._digest = target, digest
        return target

    def matte(self, source: dict) -> str:
        """The working copy's matte from ``source`` (``method`` and ``refine``; the worker's
        defaults for those missing): made by the worker's ``mask`` op the first time, the cached
        file afterwards."""
        if self.photo is None:
            raise WorkerError("no working copy to preview: set_photo first")
        photo, digest = self.photo, self._digest
        source = {key: source[key] for key in SOURCE_KEYS if key in source}
        key = (digest, *(repr(source.get(k)) for k in SOURCE_KEYS))
        cached = self._mattes.get(key)
        if cached is not None and os.path.exists(cached[0]):
            self.size, self.sky_fraction = cached[1], cached[2]
            return cached[0]
        path = os.path.join(self._open_folder(), f"matte-{digest}-{len(self._mattes)}.png")
        reply = self._client().request("mask", photo, path, source)
        size = tuple(reply.get("size") or ()) or None
        self._mattes[key] = (path, size, reply.get("sky_fraction"))
        self.size, self.sky_fraction = size, reply.get("sky_fraction")
        return path

    def render(self, op: str, params: dict) -> str:
        """Effect ``op`` (or ``render``, a chain) with ``params`` (the matte source and the
        effect's fields, as for the full-resolution run) on the working copy, with the cached
        matte; returns the rendered file's path (the host shows it)."""
        fields = dict(params)
        source = {key: fields.pop(key) for key in SOURCE_KEYS if key in fields}
        for key in ("matte", "matte_output", "layers"):  # the preview's own, never the host's
            fields.pop(key, None)
        matte = self.matte(source)
        with self._lock:
            self._count += 1
            output = os.path.join(self._open_folder(), f"preview-{self._count}{self.suffix}")
        self._client().request(op, self.photo, output, dict(fields, matte=matte))
        with self._lock:
            self._outputs.append(output)
            while len(self._outputs) > self.keep:
                _remove(self._outputs.popleft())
        return output

    def close(self) -> None:
        """Remove the preview's folder and everything in it (working copies, mattes, renders)."""
        folder, self.folder = self.folder, None
        self.photo = None
        self._mattes.clear()
        self._outputs.clear()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


QUIET_MS = 150
"""How long :class:`LatestRender` waits for the controls to rest before it renders, in ms."""


class LatestRender:
    """A :class:`Preview`'s renders on one background thread, the last change winning.

    :meth:`submit` records the wanted render and returns at once; the thread starts it after
    ``delay`` seconds without a newer submission (a dragged slider makes one render, not one per
    step); a submission made while a render runs replaces the waiting one, so at most one runs
    and one waits. :meth:`poll` (the host's GUI thread, from a timer) returns the newest
    finished result not yet collected, a stale one only when nothing newer finished.

    ``prepare``, when given, is called on the thread with each rendered file's path; what it
    returns is the result's ``prepared`` (a host decodes and scales the pixels there, off its GUI
    thread); an exception it raises becomes the result's error.
    """

    def __init__(self, preview: Preview, delay: float = QUIET_MS / 1000, prepare=None):
        self.preview = preview
        self.delay = delay
        self.prepare = prepare
        self._wanted: tuple | None = None  # (generation, op, params, submitted at)
        self._generation = 0
        self._done: RenderResult | None = None
        self._collected = 0
        self._running = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="skyseg preview", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """Whether a render runs or waits."""
        with self._changed:
            return self._running or self._wanted is not None

    def submit(self, op: str, params: dict) -> int:
        """Ask for ``op`` with ``params`` on the working copy; returns the submission's number."""
        with self._changed:
            self._generation += 1
            self._wanted = (self._generation, op, dict(params), time.monotonic())
            self._changed.notify_all()
            return self._generation

    def poll(self):
        """The newest finished :class:`RenderResult` not yet collected, else None."""
        with self._changed:
            done = self._done
            if done is None or done.generation <= self._collected:
                return None
            self._collected = done.generation
            return done._replace(latest=self._wanted is None and not self._running)

    def wait(self, timeout: float = 60.0):
        """Block until nothing runs or waits, then :meth:`poll` (scripts, tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while (self._running or self._wanted is not None) and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        return self.poll()

    def close(self, timeout: float = 5.0) -> None:
        """Drop what waits and stop the thread (a render in flight is waited for up to
        ``timeout`` seconds; its result is dropped)."""
        with self._changed:
            self._closed = True
            self._wanted = None
            self._changed.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._closed:
                    if self._wanted is not None:
                        quiet = self._wanted[3] + self.delay - time.monotonic()
                        if quiet <= 0:
                            break
                        self._changed.wait(quiet)
                    else:
                        self._changed.wait()
                wanted = self._wanted
                if self._closed or wanted is None:
                    return
                generation, op, params, submitted = wanted
                self._wanted = None
                self._running = True
            path, error, prepared = None, None, None
            try:
                path = self.preview.render(op, params)
                if self.prepare is not None:
                    prepared = self.prepare(path)
            except Exception as exc:  # noqa: BLE001 - handed to the host's thread, not lost with this one
                error = exc
            with self._changed:
                self._running = False
                if not self._closed:
                    self._done = RenderResult(
                        generation,
                        op,
                        params,
                        path,
                        error,
                        time.monotonic() - submitted,
                        False,
                        prepared,
                    )
                self._changed.notify_all()
