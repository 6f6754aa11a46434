"""A video clip or timelapse sequence in the editor: its frames for scrubbing, and the jobs that
open it and export it through the core's video path (:mod:`skyseg_core.clips`).

Opening a clip decodes it once with :class:`skyseg_core.video.VideoReader` (so a damaged clip
is refused at once, with the reader's one line) and keeps each frame preview-sized as a JPEG in
memory, so scrubbing is a lookup. A sequence (:func:`skyseg_core.clips.sequence_photos`) keeps
its photos' paths and loads a frame when it is shown. The export is the command line's:
:func:`skyseg_core.clips.render_clip` (same frame count and timing, audio copied, all or
nothing) or :func:`skyseg_core.clips.run_sequence`, with the temporal stage and the new sky
moving with the camera; each frame reported to the job, so Cancel stops it between frames and
the core removes the unfinished file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from skyseg_core.cli._video import _kept_name
from skyseg_core.clips import (
    FrameMattes,
    FrameRenderer,
    render_clip,
    run_sequence,
    sequence_photos,
)
from skyseg_core.errors import OutputError
from skyseg_core.io import load_image
from skyseg_core.pipeline import MatteSource
from skyseg_core.video import CONTAINERS, VideoReader

from . import jobs
from .edit import proxy_of

CLIP_PREVIEW_LONG_SIDE = 1280
"""A clip's frames are kept and previewed at most this large (a JPEG of ~150 KB each)."""
FRAME_JPEG_QUALITY = 95
"""The kept frames' JPEG quality: within a few codes of the decoded frame."""
TAG = "sky"
"""What an exported clip's or sequence's default name carries, as ``skyseg replace`` does."""


@dataclass
class ClipFrames:
    """An open clip (``kind`` "video") or timelapse folder (``kind`` "sequence")."""

    path: Path
    kind: str
    size: tuple[int, int]
    """The frames' full size (width, height), as displayed."""
    long_side: int
    """The preview frames' longer side at most."""
    rate: Fraction | None = None
    """Frames per second (a clip's average rate; None for a sequence)."""
    times: list[float] = field(default_factory=list)
    """Each frame's time in seconds from the first frame (clips)."""
    photos: list[Path] = field(default_factory=list)
    """The sequence's photos, in order."""
    encoded: list[bytes] = field(default_factory=list)
    """The clip's preview frames, JPEG-encoded."""

    @property
    def count(self) -> int:
        return len(self.photos) if self.kind == "sequence" else len(self.encoded)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (from 0), preview-sized RGB uint8; a sequence's photo is read now."""
        if self.kind == "sequence":
            return proxy_of(load_image(self.photos[index]), self.long_side)[0]
        bgr = cv2.imdecode(np.frombuffer(self.encoded[index], np.uint8), cv2.IMREAD_COLOR)
        return np.ascontiguousarray(bgr[..., ::-1])

    def label(self, index: int) -> str:
        """Where frame ``index`` is: its clip time, or its photo's name."""
        if self.kind == "sequence":
            return self.photos[index].name
        return f"{clock(self.times[index])} / {clock(self.times[-1])}"

    def output_name(self) -> str:
        """The export's default name: ``<stem>_sky`` with the clip's own ending where it can be
        written (else .mp4), as ``skyseg replace`` names it; a sequence's folder
        ``<folder>_sky``."""
        if self.kind == "sequence":
            return f"{self.path.name}_{TAG}"
        ext = self.path.suffix.lower()
        return f"{self.path.stem}_{TAG}{ext if ext in CONTAINERS else '.mp4'}"


def clock(seconds: float) -> str:
    """``m:ss.cc``."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:05.2f}"


def _encode(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(
        ".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, FRAME_JPEG_QUALITY]
    )
    if not ok:  # cv2 fails only on an empty image, which the reader never gives
        raise RuntimeError("could not keep the frame")
    return data.tobytes()


# --------------------------------------------------------------------------- job functions
def open_video(job, path: Path, long_side: int) -> ClipFrames:
    """Decode the clip once, keeping every frame preview-sized; the reader's
    :class:`~skyseg_core.errors.InputError` (damaged, truncated, not a video) as it is."""
    path = Path(path)
    with VideoReader(path) as clip:
        info, total = clip.info, clip.info.frames
        frames = ClipFrames(path, "video", (info.width, info.height), long_side, info.rate)
        for index, rgb in clip:
            frames.encoded.append(_encode(proxy_of(rgb, long_side)[0]))
            of = f" of {total}" if total else ""
            job.report(
                round(100 * (index + 1) / max(total or 0, index + 2)), f"frame {index + 1}{of}"
            )
        first = clip.pts[0] or 0
        frames.times = [
            float(((pts if pts is not None else first + i) - first) * info.time_base)
            for i, pts in enumerate(clip.pts)
        ]
    return frames


def open_sequence(job, folder: Path, long_side: int) -> tuple[ClipFrames, np.ndarray]:
    """A timelapse folder's photos (sorted by name) and its first frame, preview-sized."""
    folder = Path(folder)
    photos = sequence_photos(folder)
    job.report(10, f"{photos[0].name} (1 of {len(photos)})")
    first = load_image(photos[0])
    h, w = first.shape[:2]
    frames = ClipFrames(folder, "sequence", (w, h), long_side, photos=photos)
    return frames, proxy_of(first, long_side)[0]


def frame_matte(job, frames: ClipFrames, index: int, image: np.ndarray | None, method: str):
    """Frame ``index`` (``image``, or read now) and its matte found by ``method`` as the photo's
    is (:func:`effects_gui.jobs.segment`; the preview is the frame, so both are one size)."""
    if image is None:
        image = frames.frame(index)
    return (index, image, *jobs.segment(job, image, image.shape[:2], method))


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
