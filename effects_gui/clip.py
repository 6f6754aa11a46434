"""A video clip or timelapse sequence in the editor: its frames for scrubbing, and the jobs that
open it and export it through the core's video path (:mod:`skyseg_core.clips`).

Opening a clip lists its frames without decoding them (:class:`effects_gui.clipframes.VideoFrames`:
a clip the reader refuses is refused at once, with the reader's one line) and decodes frame 0;
every other frame is decoded when it is shown, and the frames shown last are kept up to a
bound in bytes. A sequence (:func:`skyseg_core.clips.sequence_photos`) reads a photo when it is
shown, likewise kept. The export is the command line's:
:func:`skyseg_core.clips.render_clip` (same frame count and timing, audio copied, all or
nothing) or :func:`skyseg_core.clips.run_sequence`, with the temporal stage and the new sky
moving with the camera; each frame reported to the job, so Cancel stops it between frames and
the core removes the unfinished file. While scrubbing, the frames stepped forward through go
through the export's temporal stage and frame renderer (:class:`ScrubStage`,
:class:`ScrubRenderer`), so a frame shows as the export renders it.

An HDR clip (PQ or HLG) is shown, and has its sky found and steadied, as the SDR view the export
finds the sky in (:meth:`skyseg_core.effects._transfer.Signal.sdr_view`); its preview is rendered
from the frame's codes in the clip's signal, as the export renders it, and shown as its SDR view.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from skyseg_core.cli._video import _kept_name
from skyseg_core.clips import (
    FrameMattes,
    FrameRenderer,
    render_clip,
    run_sequence,
    sequence_photos,
)
from skyseg_core.effects._transfer import Signal
from skyseg_core.errors import OutputError
from skyseg_core.pipeline import MatteSource, find_matte
from skyseg_core.temporal import TemporalStage
from skyseg_core.video import CONTAINERS

from . import jobs
from .clipframes import SequenceFrames, VideoFrames
from .pipeline import no_sky_message
from .qimage import rgb_to_qimage

CLIP_PREVIEW_LONG_SIDE = 1280
"""A clip's frames are shown at most this large (the export is at their own size)."""
STEADYING = "steadying the frames stepped over"
"""What a matte job reports while it passes the frames a held ``.`` stepped over."""
TAG = "sky"
"""What an exported clip's or sequence's default name carries, as ``skyseg replace`` does."""


@dataclass
class ClipFrames:
    """An open clip (``kind`` "video") or timelapse folder (``kind`` "sequence")."""

    path: Path
    kind: str
    size: tuple[int, int]
    """The frames' full size (width, height), as displayed."""
    source: VideoFrames | SequenceFrames
    """Where the frames come from, each when it is asked for."""
    rate: Fraction | None = None
    """Frames per second (a clip's average rate; None for a sequence)."""

    @property
    def count(self) -> int:
        return self.source.count

    @property
    def photos(self) -> list[Path]:
        """The sequence's photos, in order."""
        return self.source.photos if isinstance(self.source, SequenceFrames) else []

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (from 0) as shown (an HDR clip's SDR view), preview-sized RGB uint8,
        read now unless it is kept."""
        return self.source.frame(index)

    def codes(self, index: int) -> np.ndarray:
        """Frame ``index``'s values as the export edits them (an HDR clip's codes), preview-sized."""
        return self.source.codes(index)

    @property
    def colour(self) -> dict:
        """The clip's colour tags (:attr:`skyseg_core.video.VideoInfo.colour`; none for a
        sequence)."""
        return self.source.info.colour if isinstance(self.source, VideoFrames) else {}

    @property
    def signal(self) -> Signal | None:
        """An HDR clip's signal; None when its frames are shown as they are."""
        return self.source.signal if isinstance(self.source, VideoFrames) else None

    def as_shown(self, codes: np.ndarray) -> np.ndarray:
        """A frame's values (a rendered preview) as the picture shown: an HDR clip's SDR view."""
        return codes if self.signal is None else self.signal.sdr_view(codes)

    def close(self) -> None:
        """Let the clip's file and kept frames go (another clip or a photo is open)."""
        self.source.close()

    def label(self, index: int) -> str:
        """Where frame ``index`` is: its clip time, or its photo's name."""
        if self.kind == "sequence":
            return self.photos[index].name
        times = self.source.times if isinstance(self.source, VideoFrames) else [0.0]
        return f"{clock(times[index])} / {clock(times[-1])}"

    def output_name(self) -> str:
        """The export's default name: ``<stem>_sky`` with the clip's own ending where it can be
        written (else .mp4), as ``skyseg replace`` names it; a sequence's folder
        ``<folder>_sky``."""
        if self.kind == "sequence":
            return f"{self.path.name}_{TAG}"
        ext = self.path.suffix.lower()
        return f"{self.path.stem}_{TAG}{ext if ext in CONTAINERS else '.mp4'}"


class ScrubRun:
    """Where a state carried from frame to frame while scrubbing is: the run it belongs to (its
    ``origin``, the frame a jump landed on, and its ``key``: the method, the look) and the frame
    it took last. Frame k+1 of the same run goes on from the state frame k left; frame k again
    is worked from the state before it; anything else starts the state afresh at that frame,
    as the export starts at frame 0. Shared by :class:`ScrubStage` and :class:`ScrubRenderer`.

    Frames are worked one at a time (:meth:`_taking`); :meth:`behind`, asked on the GUI thread,
    only waits for the bookkeeping, never for a frame being worked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        """Guards the bookkeeping (``last``, ``origin``)."""
        self._work = threading.Lock()
        """Held while a frame is worked: one at a time, in the order they come."""
        self.last: tuple[int, object] | None = None
        """The frame index and key the state is at (None: nothing taken yet)."""
        self.origin: int | None = None
        """The frame the state's run started from."""
        self.carried = 0
        """Frames worked from the state of the one before (for tests and the status)."""

    def behind(self, origin: int, index: int, key: object) -> range:
        """The frames of the run from ``origin`` the state has still to take before frame
        ``index`` (none when it is at the frame before, or at ``index`` itself)."""
        with self._lock:
            last = self.last
            if last is not None and self.origin == origin and last[1] == key:
                if origin <= last[0] <= index:
                    return range(last[0] + 1, index)
            return range(origin, index)

    @contextmanager
    def _taking(self, index: int, key: object, origin: int) -> Iterator[str]:
        """Work frame ``index`` of the run (``origin``, ``key``) inside this block, told how
        (:meth:`_take`); a frame whose work fails leaves no run to go on from."""
        with self._work:
            with self._lock:
                how = self._take(index, key, origin)
            try:
                yield how
            except BaseException:
                with self._lock:
                    self.last = None
                raise

    def _take(self, index: int, key: object, origin: int) -> str:
        """How frame ``index`` of the run (``origin``, ``key``) is worked: ``"again"`` (from
        the state before it), ``"next"`` (from the state now) or ``"start"`` (afresh: its
        run, as recorded, starts here)."""
        same_run = self.origin == origin and self.last is not None
        if same_run and self.last == (index, key):
            how = "again"
        elif index == origin or not same_run or self.last != (index - 1, key):
            how, origin = "start", index  # the state's run starts here, whatever was asked
        else:
            how = "next"
            self.carried += 1
        self.last, self.origin = (index, key), origin
        return how


class ScrubStage(ScrubRun):
    """The export's temporal stage for the frames shown while scrubbing, so a frame reached by
    stepping forward shows the matte the export gives it.

    The run (:class:`ScrubRun`, keyed by the method) starts at the frame a jump (the slider
    dragged, a step back, another method or look, the clip opened) landed on. A run that
    skipped frames (``.`` held while the preview settles) passes the frames :meth:`behind`
    names first, so every frame of the run goes through the stage, as in the export. Stepping
    forward from frame 0 of a clip no larger than the preview shows the export's mattes (a
    larger clip's frames are steadied at the preview's size). Called from the matte job's
    worker; one frame at a time."""

    def __init__(self) -> None:
        super().__init__()
        self._stage = TemporalStage()
        self._before = TemporalStage()
        """The state before the last frame taken (the stage keeps its arrays, never changes
        them in place: a shallow copy is a snapshot)."""

    def __call__(
        self, index: int, method: str, image: np.ndarray, matte: np.ndarray, origin: int
    ) -> np.ndarray:
        """Frame ``index``'s matte by ``method`` steadied as the export steadies it in the run
        from ``origin``; as it is at the origin (or when the state is not the frame before's)."""
        with self._taking(index, method, origin) as how:
            if how == "again":
                self._stage = copy.copy(self._before)
            elif how == "start":
                self._stage.reset()
            self._before = copy.copy(self._stage)
            return self._stage(image, matte)


def render_key(method: str, steps: Sequence, skies: dict) -> tuple:
    """The run key of :class:`ScrubRenderer`: the method, the look's steps (frozen dataclasses,
    compared by value) and its sky images (by identity: the model keeps one array per sky)."""
    return method, tuple(steps), tuple((name, id(sky)) for name, sky in skies.items())


class ScrubRenderer(ScrubRun):
    """The export's frame renderer (:class:`skyseg_core.clips.FrameRenderer`: the new sky moved
    with the camera, the foreground light smoothed over the frames) for the frames shown, so a
    frame reached by stepping forward shows the pixels the export gives it.

    Carried as :class:`ScrubStage` carries the matte (the run keyed by the method and the
    look): the matte job passes every frame of the run through both, in order, and the preview
    of the frame shown is the one rendered last (taken from there when asked again for the same
    frame, look and matte). Called from worker threads; one frame at a time.

    The frames are passed as shown; with :attr:`clip` set, an HDR clip's are rendered from
    their codes (:meth:`ClipFrames.codes`) in its signal, as the export renders them, and the
    result is in that signal too (:meth:`ClipFrames.as_shown` shows it)."""

    def __init__(self) -> None:
        super().__init__()
        self.clip: ClipFrames | None = None
        """The clip whose frames it renders (set by :func:`frame_matte`, which comes before
        any preview of a frame)."""
        self._renderer: FrameRenderer | None = None
        self._before: tuple = ()
        self._rendered: dict[tuple, tuple] = {}
        """The last frames rendered: (index, key, origin) -> (image, matte, result)."""

    def __call__(
        self,
        index: int,
        method: str,
        steps: Sequence,
        skies: dict,
        image: np.ndarray,
        matte: np.ndarray,
        origin: int,
    ) -> np.ndarray | None:
        """Frame ``index`` (``image``, its steadied ``matte``) with the look (``steps`` and
        ``skies``) as the export renders it in the run from ``origin``; None when the frame has
        no sky to work on. A frame rendered last or the one before, asked again with the same
        pixels and matte (the preview's render after the matte job's), is not rendered anew:
        the state stays where the matte job left it."""
        key = render_key(method, steps, skies)
        asked = (index, key, origin)
        with self._work:
            kept = self._rendered.get(asked)
            if kept is not None and kept[0] is image and np.array_equal(kept[1], matte):
                return kept[2]
        with self._taking(index, key, origin) as how:
            if how == "start" or self._renderer is None:
                self._renderer = FrameRenderer(steps, skies.__getitem__)
                if self.clip is not None:
                    self._renderer.use_signal_of(self.clip.colour)
            elif how == "again":
                self._renderer.restore(self._before)
            self._before = self._renderer.snapshot()
            hdr = self.clip is not None and self.clip.signal is not None
            frame = self.clip.codes(index) if hdr else image
            out = self._renderer(frame, matte)
            result = None if self._renderer.no_sky else out
            if how != "next":
                self._rendered.clear()
            self._rendered = {
                **dict(list(self._rendered.items())[-1:]),
                asked: (image, matte, result),
            }
            return result


def clock(seconds: float) -> str:
    """``m:ss.cc``."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:05.2f}"


# --------------------------------------------------------------------------- job functions
def open_video(job, path: Path, long_side: int) -> tuple[ClipFrames, np.ndarray]:
    """The clip's frames listed (not decoded) and frame 0, preview-sized; the reader's
    :class:`~skyseg_core.errors.InputError` (damaged, truncated, not a video) as it is."""
    path = Path(path)
    job.report(0, "reading")
    source = VideoFrames(path, long_side, progress=lambda n: job.report(50, f"{n} frames listed"))
    try:
        info = source.info
        frames = ClipFrames(path, "video", (info.width, info.height), source, info.rate)
        job.report(90, f"frame 1 of {source.count}")
        return frames, frames.frame(0)
    except BaseException:
        source.close()
        raise


def open_sequence(job, folder: Path, long_side: int) -> tuple[ClipFrames, np.ndarray]:
    """A timelapse folder's photos (sorted by name) and its first frame, preview-sized."""
    folder = Path(folder)
    photos = sequence_photos(folder)
    job.report(10, f"{photos[0].name} (1 of {len(photos)})")
    source = SequenceFrames(photos, long_side)
    first = source.frame(0)
    return ClipFrames(folder, "sequence", source.size, source), first


def read_frame(job, frames: ClipFrames, index: int) -> tuple[int, np.ndarray]:
    """Frame ``index`` and its pixels, preview-sized (decoded now unless kept)."""
    return index, frames.frame(index)


def frame_matte(
    job,
    index: int,
    image: np.ndarray,
    method: str,
    stage: ScrubStage | None = None,
    origin: int | None = None,
    frames: ClipFrames | None = None,
    passing: range = range(0),
    renderer: ScrubRenderer | None = None,
    look: tuple[Sequence, dict] = ((), {}),
):
    """Frame ``index`` (``image``, as shown) and its matte found by ``method`` as the photo's
    is (:func:`effects_gui.jobs.segment`; the preview is the frame, so both are one size),
    steadied by ``stage`` in the run from frame ``origin`` (default: the frame itself). The
    frames of the run the stage has not taken yet (``passing``, read from ``frames``) go
    through it first, as the export passes every frame; Cancel (a jump) stops between them
    and leaves the stage at the last one taken. With a ``renderer`` and a ``look`` (the edit's
    steps and skies), each frame taken, the shown one last, is rendered through it too, so the
    preview of the shown frame (:func:`frame_render`) is the export's."""
    origin = index if origin is None else origin
    steps, skies = look
    if renderer is not None and frames is not None:
        renderer.clip = frames

    def stop_if_cancelled(*_progress) -> None:
        if job.is_cancelled:
            raise jobs.Cancelled()

    def render(at: int, frame: np.ndarray, matte: np.ndarray) -> None:
        if renderer is not None and steps:
            renderer(at, method, steps, skies, frame, matte, origin)

    if stage is not None and frames is not None:
        for done, at in enumerate(passing):
            job.report(  # the shown frame's own matte is the last part
                round(100 * done / (len(passing) + 1)),
                f"{STEADYING}: {at + 1} ({done + 1} of {len(passing)})",
            )
            passed = frames.frame(at)
            matte, _ = find_matte(passed, MatteSource(method=method), progress=stop_if_cancelled)
            stop_if_cancelled()  # a stage left at the frame before: the next run goes on there
            render(at, passed, stage(at, method, passed, matte, origin))

    def steady(matte: np.ndarray) -> np.ndarray:
        return matte if stage is None else stage(index, method, image, matte, origin)

    found = jobs.segment(job, image, image.shape[:2], method, steady)
    render(index, image, found[0])
    return (index, image, *found)


def frame_render(job, index, image, matte, method, steps, skies, renderer: ScrubRenderer, origin):
    """The preview of clip frame ``index`` as :func:`effects_gui.pipeline.render_preview`
    returns a photo's (``(result, QImage, None)``, or ``(None, None, message)`` without sky),
    rendered by ``renderer`` in the run from ``origin`` (the matte job's render when it made
    this one), shown as the frame is (an HDR clip's SDR view)."""
    result = renderer(index, method, steps, skies, image, matte, origin)
    if result is None:
        return None, None, no_sky_message(steps)
    if renderer.clip is not None:
        result = renderer.clip.as_shown(result)
    return result, rgb_to_qimage(result), None


def export_clip(job, output: Path, frames: ClipFrames, method: str, steps, skies, crf=None):
    """The whole clip (or sequence) with the edit's effects, as ``skyseg replace`` writes it:
    each frame's matte by ``method`` steadied over time, the new sky moving with the camera,
    frame count, timing and audio kept (a sequence: each photo as ``output/<its name>``, its
    metadata kept). Reports ``frame N of M``; returns ``output``."""
    output = Path(output)
    total = frames.count
    mattes = FrameMattes(MatteSource(method=method))
    renderer = FrameRenderer(steps, skies.__getitem__)

    def progress(done: int) -> None:
        job.report(round(100 * done / total), f"frame {done} of {total}")

    job.report(0, f"frame 0 of {total}")
    if frames.kind == "video":
        # the save dialog asked before replacing a file
        render_clip(frames.path, output, mattes, renderer, crf, overwrite=True, progress=progress)
        return output
    if output.resolve() == frames.path.resolve():
        raise OutputError("is the sequence's own folder: choose another one", output)
    outputs = [output / _kept_name(photo, TAG) for photo in frames.photos]
    run_sequence(frames.photos, outputs, mattes, renderer, progress=progress)
    return output
