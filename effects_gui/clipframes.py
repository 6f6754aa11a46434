"""A clip's frames on demand, as a video editor reads them: nothing is decoded ahead.

:class:`VideoFrames` opens a clip with :class:`skyseg_core.video.VideoReader` (so a clip that
cannot be read is refused with the reader's one line), lists its frames from the container's
packets (timestamps and keyframes, no decoding), and decodes frame ``k`` when it is asked for:
from the keyframe before it (a PyAV seek, then decoding forward to ``k``'s timestamp), or, when
``k`` is a little ahead of the last frame decoded, by going on with the same decoder. An HDR
clip's frame (PQ or HLG) is shown as its SDR view (:meth:`skyseg_core.effects._transfer.Signal.
sdr_view`, the picture the export finds the sky in) and keeps its codes, at their own depth, for
the renderer (:meth:`_Frames.codes`). :class:`SequenceFrames` reads a timelapse's photo when it is asked for. Both keep the frames
shown last in a :class:`FrameCache` bounded in bytes, and are safe to call from worker threads
(one decoder, one caller at a time).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from skyseg_core.effects._transfer import Signal, clip_signal
from skyseg_core.errors import InputError
from skyseg_core.io import load_image
from skyseg_core.video import VideoReader, _quarter_turns, _reason, require_av

from .edit import proxy_of, shrunk
from .jobs import Cancelled

CACHE_BYTES = 64 * 2**20
"""What the frames kept for scrubbing back may take: 24 frames of 1280x720, 42 of 960x544."""
SEEK_TRIES = 3
"""Keyframes tried, each further back, when the one before a frame cannot give it (an open
GOP's leading frames need the keyframe before)."""


Kept = tuple[np.ndarray, np.ndarray | None]
"""A frame as shown, and an HDR clip's codes of it (None: the frame shown is its codes)."""


def _nbytes(kept: Kept) -> int:
    return sum(a.nbytes for a in kept if a is not None)


class FrameCache:
    """Frames by index (:data:`Kept`), the least recently used dropped once they take more
    than ``limit`` bytes (the frame just put in is always kept)."""

    def __init__(self, limit: int = CACHE_BYTES):
        self.limit = limit
        self.bytes = 0
        self._frames: OrderedDict[int, Kept] = OrderedDict()

    def get(self, index: int) -> Kept | None:
        frame = self._frames.get(index)
        if frame is not None:
            self._frames.move_to_end(index)
        return frame

    def put(self, index: int, frame: Kept) -> None:
        old = self._frames.pop(index, None)
        if old is not None:
            self.bytes -= _nbytes(old)
        self._frames[index] = frame
        self.bytes += _nbytes(frame)
        while self.bytes > self.limit and len(self._frames) > 1:
            _, dropped = self._frames.popitem(last=False)
            self.bytes -= _nbytes(dropped)

    def __len__(self) -> int:
        return len(self._frames)

    def clear(self) -> None:
        self._frames.clear()
        self.bytes = 0


class _Frames:
    """What both kinds share: the cache, the lock, frames made preview-sized."""

    def __init__(self, long_side: int, cache_bytes: int):
        self.long_side = long_side
        self.cache = FrameCache(cache_bytes)
        self._lock = threading.Lock()
        self._closed = False

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (from 0) as shown, preview-sized RGB uint8 (the same array each time
        it is kept; read-only). Raises :class:`effects_gui.jobs.Cancelled` once closed."""
        return self._kept(index)[0]

    def codes(self, index: int) -> np.ndarray:
        """Frame ``index``'s values as the export edits them, preview-sized (read-only): an HDR
        clip's codes at their own depth; any other's, the frame shown."""
        shown, codes = self._kept(index)
        return shown if codes is None else codes

    def _kept(self, index: int) -> Kept:
        with self._lock:
            if self._closed:
                raise Cancelled()
            kept = self.cache.get(index)
            if kept is None:
                kept = self._preview(self._read(index))
                for array in kept:
                    if array is not None:
                        array.flags.writeable = False
                self.cache.put(index, kept)
            if self._closed:  # closed while this frame was read
                self._release()
            return kept

    def _preview(self, image: np.ndarray) -> Kept:
        """A frame read, as it is kept: shown as it is, preview-sized, in 8 bits."""
        return proxy_of(image, self.long_side)[0], None

    def kept(self, index: int) -> np.ndarray | None:
        """Frame ``index`` as shown if it is kept, without waiting for a frame being read."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            kept = None if self._closed else self.cache.get(index)
            return None if kept is None else kept[0]
        finally:
            self._lock.release()

    def close(self) -> None:
        """Let the file and the kept frames go: now, or after the frame being read."""
        self._closed = True
        if self._lock.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._lock.release()

    def _read(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def _release(self) -> None:
        self.cache.clear()


class SequenceFrames(_Frames):
    """A timelapse's photos, each read when it is shown."""

    def __init__(self, photos: list[Path], long_side: int, cache_bytes: int = CACHE_BYTES):
        super().__init__(long_side, cache_bytes)
        self.photos = photos
        self.count = len(photos)
        self.size = (0, 0)
        """The first photo's full size (width, height), once it is read."""

    def _read(self, index: int) -> np.ndarray:
        image = load_image(self.photos[index])
        if index == 0:
            self.size = (image.shape[1], image.shape[0])
        return image


class VideoFrames(_Frames):
    """A clip's frames, decoded when asked for (see the module's docstring). ``progress``
    (frames listed so far) is called while the packets are listed."""

    def __init__(
        self,
        path: Path,
        long_side: int,
        cache_bytes: int = CACHE_BYTES,
        progress: Callable[[int], None] | None = None,
    ):
        super().__init__(long_side, cache_bytes)
        av = require_av()
        # the reader checks the clip and says what it is, then lets go: it captures FFmpeg's
        # log for the whole process while open, which a clip kept open for scrubbing must not
        with VideoReader(path) as reader:
            self.info = reader.info
            self._to_rgb = reader.to_rgb  # the clip's colour conversion (needs its info only)
        self.signal: Signal | None = clip_signal(self.info.colour)
        """An HDR clip's signal (PQ or HLG); None for an SDR clip."""
        self.path = Path(path)
        try:
            self.container = av.open(str(path), "r", metadata_errors="ignore")
        except (av.FFmpegError, OSError) as exc:  # replaced or removed since the reader's look
            raise InputError(f"cannot be read ({exc})", self.path) from None
        self.stream = self.container.streams.video[0]
        try:
            self._list_frames(progress)
        except BaseException:
            self.container.close()
            raise
        self.count = len(self.pts)
        self._turns = _quarter_turns(self.info.rotation)
        self._decoded = None  # the decoder's frames after the last seek
        self._next = -1  # the index the decoder gives next; -1: not known, seek first
        self.decoded = 0
        """Frames decoded so far (the benchmark's and tests' count of the work done)."""

    def _list_frames(self, progress) -> None:
        """Each frame's timestamp (sorted: display order) and the keyframes', from the packets."""
        av = require_av()
        container, stream = self.container, self.stream
        container.seek(0, backward=True, any_frame=False, stream=stream)
        pts, keys = [], []
        try:
            for packet in container.demux(stream):
                stamp = packet.pts if packet.pts is not None else packet.dts
                if not packet.size or stamp is None or packet.is_discard:
                    continue
                pts.append(stamp)
                if packet.is_keyframe:
                    keys.append(stamp)
                if progress is not None and len(pts) % 500 == 0:
                    progress(len(pts))
        except av.FFmpegError as exc:
            raise InputError(f"damaged or truncated video ({_reason(exc)})", self.path) from None
        if not pts:
            raise InputError("not a readable video (no frame could be decoded)", self.path)
        self.pts = sorted(pts)
        self.keyframes = sorted(keys) or self.pts[:1]
        self._index = {stamp: i for i, stamp in enumerate(self.pts)}
        first, tb = self.pts[0], self.info.time_base
        self.times = [float((stamp - first) * tb) for stamp in self.pts]

    def _preview(self, image: np.ndarray) -> Kept:
        """An HDR clip's frame shown as the SDR view the export finds its sky in, its codes
        kept at their own depth (10-bit steps of PQ or HLG, which 8 bits would band) for the
        renderer; any other clip's as a photo's."""
        if self.signal is None:
            return super()._preview(image)
        codes = shrunk(image, self.long_side)[0]
        return self.signal.sdr_view(codes), codes

    def _read(self, index: int) -> np.ndarray:
        if not 0 <= index < self.count:
            raise IndexError(f"frame {index} of a clip of {self.count}")
        target = self.pts[index]
        key = bisect.bisect_right(self.keyframes, target) - 1  # the keyframe at or before
        key_index = self._index.get(self.keyframes[max(key, 0)], 0)
        # going on from the last frame decoded beats a seek while it is fewer frames away
        if 0 <= self._next <= index and index - self._next <= index - key_index:
            frame = self._decode_to(index)
            if frame is not None:
                return frame
        # an open GOP's leading frames need the keyframe before: a few further back are tried
        for stamp in [*self.keyframes[max(0, key - SEEK_TRIES + 1) : key + 1][::-1], None]:
            self._seek(stamp)
            frame = self._decode_to(index)
            if frame is not None:
                return frame
        raise InputError(
            f"damaged video: frame {index + 1} of {self.count} cannot be decoded",
            self.path,
        )

    def _seek(self, stamp: int | None) -> None:
        """To the keyframe at or before ``stamp`` (None: the clip's start)."""
        container, stream = self.container, self.stream
        target = self.pts[0] if stamp is None else stamp
        container.seek(target, backward=True, any_frame=False, stream=stream)
        self._decoded = container.decode(stream)
        self._next = -1  # not known until a frame comes out

    def _decode_to(self, index: int) -> np.ndarray | None:
        """Decode forward to frame ``index``; None when the decoder passes it (or ends) without
        giving it."""
        av = require_av()
        target = self.pts[index]
        while True:
            try:
                frame = next(self._decoded) if self._decoded is not None else None
            except StopIteration:
                frame = None
            except av.FFmpegError as exc:
                self._next = -1
                raise InputError(
                    f"damaged video: frame {index + 1} cannot be decoded ({_reason(exc)})",
                    self.path,
                ) from None
            if frame is None:
                self._next = -1
                return None
            self.decoded += 1
            at = self._index.get(frame.pts if frame.pts is not None else -1)
            if at is None:
                continue  # a frame the clip does not show (its timestamp is not listed)
            self._next = at + 1
            if frame.pts == target:
                rgb = self._to_rgb(frame)
                return np.ascontiguousarray(np.rot90(rgb, self._turns)) if self._turns else rgb
            if frame.pts > target:
                self._next = -1
                return None

    def _release(self) -> None:
        self.cache.clear()
        self._decoded = None
        self.container.close()
