"""Video files in and out, with PyAV (the `video` extra); over 400 lines because the reader and
the writer share what a clip is (timing, rotation, colour tags, audio) and belong together.

:class:`VideoReader` decodes a clip frame by frame as RGB arrays in their displayed orientation
(uint8, or uint16 for a source with more than 8 bits per component) and says what the clip is
(:class:`VideoInfo`: size, rate, frame count, rotation, colour tags, depth, audio);
:class:`VideoWriter` encodes frames into a temporary file beside the output, copies the
source's audio packets untouched, keeps each frame's timestamp, rotation and colour tags (and
a deep source's 10 bits), and moves the finished file into place only when every frame is
written (:func:`skyseg_core.io.atomic_output`). A damaged or truncated clip raises one
:class:`~skyseg_core.errors.InputError`.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import InputError, OutputError, SkysegNote

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
"""File name endings read as video clips."""

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
"""Output endings and the FFmpeg muxer each writes (the temporary ``.part`` name has none)."""

DEFAULT_CRF = 18
"""x264/VP9 constant rate factor of edited clips: visually lossless for most footage."""

MATTE_CRF = 0
"""Mattes are encoded lossless by default (a track matte should not carry compression noise)."""

ENCODER_THREADS = 2
"""Threads of the x264/VP9 encoder, fixed: left to FFmpeg they follow the CPUs the process may
use, and x264's slices and VP9's threading with them, so the same clip gave other bytes and
pixels on another machine (or under another CPU affinity)."""

SCALER_THREADS = 1
"""Threads of swscale's RGB -> YUV conversion of frames to encode, fixed at one: left to PyAV
(0, one slice per CPU) the deep-to-10-bit conversion of FFmpeg 8.1 gets the first 8 pixels of
the second slice's top row wrong (luma off by up to 207 of 1023 codes at 160x120), so a deep
clip's pixels and bytes followed the CPU count. 8-bit conversions are the same either way."""


def is_video_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video clip by its ending (:data:`VIDEO_EXTENSIONS`)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def require_av():
    """The ``av`` module, or one :class:`InputError` naming the extra."""
    try:
        import av
    except ImportError:
        raise InputError("video needs PyAV: pip install 'skyseg[video]'") from None
    return av


# FFmpeg's AVColorSpace -> swscale's colour matrix (SWS_CS_*)
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}


def _sws_matrix(colorspace: int, height: int) -> int:
    """The YUV<->RGB matrix for a clip's colour tag; untagged clips as players guess them
    (BT.709 from 720 lines up, BT.601 below)."""
    return _SWS_MATRIX.get(int(colorspace), 1 if height >= 720 else 5)


@dataclass
class VideoInfo:
    """What a clip is. Sizes are as displayed (rotation applied)."""

    path: Path
    width: int
    height: int
    rate: Fraction
    """Average frame rate (frames per second)."""
    time_base: Fraction
    frames: int | None
    """The frame count the container declares, or one estimated from the duration; None if neither."""
    duration: float | None
    """Seconds, as the container declares it."""
    rotation: int
    """Display rotation in degrees, counter-clockwise (FFmpeg's display matrix); 0, 90, 180, -90."""
    codec: str
    colour: dict = field(default_factory=dict)
    """``color_primaries``, ``color_trc``, ``colorspace``, ``color_range`` (FFmpeg's numbers)."""
    audio: int = 0
    """Number of audio streams (copied untouched into edited clips)."""
    bits: int = 8
    """Bits per channel of the decoded frames: 8, or 16 (uint16 RGB) for a source whose pixel
    format has more than 8 bits per component (10-bit HEVC, H.264, ProRes); its edited clip is
    written at 10 bits."""
    full_chroma: bool = False
    """Whether the source keeps colour at every pixel (4:4:4 such as ProRes 4444 or H.264
    ``yuv444p``, or RGB); its edited clip is then written 4:4:4 too."""


def _quarter_turns(rotation: float) -> int:
    return int(round(rotation / 90.0)) % 4


class VideoReader:
    """Decode a clip: ``with VideoReader(path) as clip: for index, rgb in clip: ...``.

    Frames are RGB (H, W, 3) in their displayed orientation: uint8, or uint16 when the source has
    more than 8 bits per component (``info.bits``). A clip that cannot be opened, has no video,
    is larger than ``max_pixels`` per frame, is damaged or ends before the frame count its
    container declares raises :class:`InputError` (one line).
    """

    def __init__(self, path: str | os.PathLike, max_pixels: int | None = None):
        from .io import max_pixels_limit, path_kind

        av = require_av()
        self.path = Path(path)
        kind = path_kind(self.path)
        if kind != "file":
            raise InputError("no such file" if kind == "missing" else "not a file", self.path)
        self._logs = _DecoderLog(av)
        try:
            self.container = av.open(str(self.path), "r", metadata_errors="ignore")
        except av.FFmpegError as exc:
            self._logs.close()
            raise InputError(
                f"not a readable video: damaged, truncated or not a video ({_reason(exc)})",
                self.path,
            ) from None
        except OSError as exc:
            self._logs.close()
            raise InputError(f"cannot be read ({exc.strerror or exc})", self.path) from None
        try:
            self._init(max_pixels_limit(max_pixels))
        except BaseException:
            self.close()
            raise
        self.pts: list[int | None] = []
        """Each decoded frame's timestamp (in ``info.time_base``), in order."""
        self.durations: list[int | None] = []
        """Each decoded frame's duration (in ``info.time_base``), when the clip says."""
        self.decoded = 0

    def _init(self, limit: int) -> None:
        streams = self.container.streams
        if not streams.video:
            raise InputError("has no video stream", self.path)
        stream = self.stream = streams.video[0]
        ctx = stream.codec_context
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width <= 0 or height <= 0:
            raise InputError("not a readable video (no frame size)", self.path)
        if width * height > limit:
            raise InputError(
                f"frames are {width}x{height} = {width * height:,} pixels, more than the limit "
                f"of {limit:,} (raise it with --max-pixels or SKYSEG_MAX_PIXELS)",
                self.path,
            )
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(25)
        tb = stream.time_base or Fraction(1, 90000)
        duration = None
        if stream.duration:
            duration = float(stream.duration * tb)
        elif self.container.duration:
            duration = self.container.duration / 1_000_000
        frames = int(stream.frames or 0) or None
        self._declared = frames is not None
        if frames is None and duration:  # an estimate: from the first timestamp to the end
            start = 0.0
            if stream.start_time is not None:
                start = float(stream.start_time * tb)
            elif self.container.start_time is not None:
                start = self.container.start_time / 1_000_000
            frames = max(1, int(round((duration - max(start, 0.0)) * float(rate))))
        self.info = VideoInfo(
            path=self.path,
            width=width,
            height=height,
            rate=Fraction(rate),
            time_base=Fraction(tb),
            frames=frames,
            duration=duration,
            rotation=0,
            codec=stream.codec_context.name,
            colour={
                "color_primaries": int(ctx.color_primaries),
                "color_trc": int(ctx.color_trc),
                "colorspace": int(ctx.colorspace),
                "color_range": int(ctx.color_range),
            },
            audio=len(streams.audio),
        )
        self._packets = self.container.demux(stream, *streams.audio)
        self._pending: list = []  # audio packets read while looking for the first frame
        self._first = self._next_frame()
        if self._first is None:
            raise InputError("not a readable video (no frame could be decoded)", self.path)
        self.info.rotation = int(round(getattr(self._first, "rotation", 0) or 0))
        deep = any(c.bits > 8 for c in self._first.format.components)
        self.info.bits = 16 if deep else 8
        planes = self._first.format.components[:3]
        self.info.full_chroma = len(planes) == 3 and all(
            (c.width, c.height) == (planes[0].width, planes[0].height) for c in planes
        )
        if _quarter_turns(self.info.rotation) % 2:
            self.info.width, self.info.height = height, width
        self.audio_packets: list = []
        """Audio packets demuxed so far and not yet taken (see :meth:`take_audio`)."""

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        self._logs.close()

    def _check_decoded(self) -> None:
        """A frame the decoder had to conceal errors in is a damaged clip."""
        error = self._logs.error(self.stream.codec_context.name)
        if error is not None:
            done = self.decoded_count()
            raise InputError(
                f"damaged video: decoding errors near frame {done + 1} ({error})", self.path
            )

    def _next_frame(self):
        av = require_av()
        while True:
            try:
                packet = next(self._packets)
            except StopIteration:
                return None
            except av.FFmpegError as exc:
                raise InputError(
                    f"damaged or truncated video ({_reason(exc)})", self.path
                ) from None
            if packet.stream.type == "audio":
                if packet.dts is not None:
                    self._pending.append(packet)
                continue
            try:
                frames = packet.decode()
            except av.FFmpegError as exc:
                done = self.decoded_count()
                after = f" after {done} good frames" if done else ""
                raise InputError(
                    f"damaged or truncated video: cannot be decoded{after} ({_reason(exc)})",
                    self.path,
                ) from None
            self._check_decoded()
            if frames:
                self._queue = list(frames[1:])
                return frames[0]

    def decoded_count(self) -> int:
        return len(getattr(self, "pts", []))

    def take_audio(self) -> list:
        """The audio packets demuxed since the last call (to be muxed untouched)."""
        packets, self._pending = self._pending, []
        return packets

    def _frames(self) -> Iterator:
        frame = self._first
        self._queue = getattr(self, "_queue", [])
        while frame is not None:
            yield frame
            if self._queue:
                frame = self._queue.pop(0)
            else:
                frame = self._next_frame()
        # the decoder's delayed frames
        av = require_av()
        try:
            delayed = self.stream.decode(None)
        except av.EOFError:  # the demuxer's last packet flushed the decoder already
            delayed = []
        except av.FFmpegError as exc:
            raise InputError(f"damaged or truncated video ({_reason(exc)})", self.path) from None
        self._check_decoded()
        yield from delayed

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        turns = _quarter_turns(self.info.rotation)
        for frame in self._frames():
            self.pts.append(frame.pts)
            self.durations.append(frame.duration or None)
            rgb = self.to_rgb(frame)
            if turns:
                rgb = np.ascontiguousarray(np.rot90(rgb, turns))
            yield len(self.pts) - 1, rgb
        self._check_complete()

    def to_rgb(self, frame, bits: int | None = None) -> np.ndarray:
        """A decoded frame as RGB uint8 (``bits`` 8) or uint16 (16); the clip's own depth by
        default (``info.bits``)."""
        rgb = "rgb48le" if (bits or self.info.bits) > 8 else "rgb24"
        matrix = _sws_matrix(self.info.colour["colorspace"], frame.height)
        full = self.info.colour["color_range"] == 2 or frame.format.name.startswith("yuvj")
        try:
            out = frame.reformat(
                format=rgb,
                src_colorspace=matrix,
                dst_colorspace=matrix,
                src_color_range=2 if full else 1,
                dst_color_range=2,
            )
        except Exception:  # a pixel format swscale cannot take with these settings
            out = frame.reformat(format=rgb)
        return out.to_ndarray()

    def _check_complete(self) -> None:
        """A clip that ends well before the frame count or duration its container declares was
        cut short (a truncated download or copy)."""
        got, expected = len(self.pts), self.info.frames
        if not got:
            raise InputError("not a readable video (no frame could be decoded)", self.path)
        # a declared count must be met within 2 %; one estimated from the duration, within 10 %
        if not expected:
            return
        slack = max(2, expected // 50) if self._declared else max(2, expected // 10)
        if got < expected - slack:
            raise InputError(
                f"truncated video: {got} of its {expected} frames could be decoded", self.path
            )


class _DecoderLog:
    """FFmpeg's error messages while a clip is decoded (its decoders conceal damage and only say
    so in the log): captured from every thread, FFmpeg's log level raised to errors meanwhile."""

    def __init__(self, av):
        import av.logging as avlog

        self._avlog = avlog
        self._level = avlog.get_level()
        if self._level is None or self._level < avlog.ERROR:
            avlog.set_level(avlog.ERROR)
        self._capture = avlog.Capture(local=False)
        self.logs = self._capture.__enter__()
        self._open = True

    def error(self, codec: str) -> str | None:
        """The first error the decoder ``codec`` logged since the last call, or None."""
        found = None
        for level, name, message in self.logs:
            if found is None and level <= self._avlog.ERROR and name == codec:
                found = message.strip()
        del self.logs[:]
        return found

    def close(self) -> None:
        if self._open:
            self._open = False
            with contextlib.suppress(Exception):
                self._capture.__exit__(None, None, None)
            self._avlog.set_level(self._level)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":", 1)[0].strip() if "Errno" in str(text) else str(text).strip()


class VideoWriter:
    """Encode frames into ``path`` all or nothing: the clip appears only when :meth:`close` runs
    after the last frame; on an error or an interrupt the temporary file is removed.

    ``like``: the clip's :class:`VideoInfo` (rate, time base, rotation, colour tags); ``reader``:
    its :class:`VideoReader`, whose audio is copied untouched. ``gray``: frames are (H, W) mattes.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        like: VideoInfo,
        reader: VideoReader | None = None,
        crf: int = DEFAULT_CRF,
        gray: bool = False,
        overwrite: bool = False,
    ):
        from .io import atomic_output

        av = require_av()
        self.path = Path(path)
        self.like = like
        self.gray = gray
        ext = self.path.suffix.lower()
        if ext not in CONTAINERS:
            raise OutputError(
                f"cannot write {ext or 'a file without an ending'} video; "
                f"give one of {', '.join(CONTAINERS)}",
                self.path,
            )
        self._stack = contextlib.ExitStack()
        tmp = self._stack.enter_context(atomic_output(self.path, overwrite, source=like.path))
        try:
            options = {}
            if CONTAINERS[ext] in ("mp4", "mov") and like.time_base.numerator == 1:
                # the start offset (edit list) in the stream's own ticks, not in milliseconds
                options["movie_timescale"] = str(like.time_base.denominator)
            self.container = av.open(str(tmp), "w", format=CONTAINERS[ext], options=options)
            # the same frames give the same file: without it Matroska/WebM get random segment
            # and track IDs (the muxer's version string goes too)
            self.container.flags |= av.container.Flags.bitexact.value
            self._stack.callback(self._close_container)
            self._setup(ext, crf, reader)
        except BaseException:
            self._stack.__exit__(*_exc_info())
            raise
        self.frames = 0

    def _close_container(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()

    def _setup(self, ext: str, crf: int, reader: VideoReader | None) -> None:
        like = self.like
        turns = _quarter_turns(like.rotation)
        self.turns = turns
        width, height = (like.height, like.width) if turns % 2 else (like.width, like.height)
        self.stored = (width, height)
        codec = "libvpx-vp9" if ext == ".webm" else "libx264"
        # 4:2:0 needs even sizes; a 4:4:4 source keeps its chroma (a matte has none to keep)
        even = not (width % 2 or height % 2)
        pix_fmt = "yuv420p" if even and not (like.full_chroma and not self.gray) else "yuv444p"
        # a deep source's edit at 10 bits; mattes stay 8-bit, and this PyAV's libvpx-vp9 has no
        # 10-bit formats, so a .webm is 8-bit (its 16-bit frames are rounded by swscale)
        if like.bits > 8 and not self.gray:
            if codec == "libx264":
                pix_fmt += "10le"
            else:
                warnings.warn(
                    SkysegNote(
                        f"{self.path.name}: a .webm is written at 8 bits per channel (the clip "
                        "has more); .mp4, .mov or .mkv keep 10"
                    ),
                    stacklevel=3,
                )
        options = {"crf": str(int(crf))}
        if codec == "libvpx-vp9":
            options.update({"b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"})
        else:
            options["preset"] = "medium"
        stream = self.container.add_stream(codec, rate=like.rate, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.time_base = like.time_base
        ctx = stream.codec_context
        ctx.time_base = like.time_base
        ctx.thread_count = ENCODER_THREADS
        self.matrix = _sws_matrix(like.colour.get("colorspace", 2), height)
        for key, value in like.colour.items():
            if value:
                with contextlib.suppress(Exception):
                    setattr(ctx, key, value)
        if self.gray:  # a matte: full range, no colour
            with contextlib.suppress(Exception):
                ctx.color_range = 2
        if like.rotation:
            stream.set_display_rotation(float(like.rotation))
        self.stream = stream
        self.audio = {}
        if reader is not None:
            for source in reader.container.streams.audio:
                name = source.codec_context.name
                if ext == ".webm" and name not in ("opus", "vorbis"):
                    raise OutputError(
                        f"the clip's audio ({name}) cannot go into a .webm file untouched; "
                        "choose .mkv, .mp4 or .mov",
                        self.path,
                    )
                try:
                    self.audio[source.index] = self.container.add_stream_from_template(source)
                except Exception as exc:  # a codec this container cannot hold
                    raise OutputError(
                        f"the clip's audio ({source.codec_context.name}) cannot go into a "
                        f"{ext} file; choose another ending",
                        self.path,
                    ) from exc
        self.reader = reader
        self._durations: dict[int, int] = {}

    def write(self, image: np.ndarray, pts: int | None, duration: int | None = None) -> None:
        """Add one frame (RGB uint8 or uint16 (H, W, 3), or a float matte (H, W) in [0, 1] when
        ``gray``), displayed-orientation as read, with its source timestamp and duration."""
        av = require_av()
        if self.gray:
            from .io import matte_to_uint8

            codes = matte_to_uint8(image)
            image = np.repeat(codes[..., None], 3, axis=2)
        if self.turns:
            image = np.ascontiguousarray(np.rot90(image, -self.turns))
        rgb = "rgb48le" if image.dtype == np.uint16 else "rgb24"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=rgb)
        full = self.gray or self.like.colour.get("color_range") == 2
        frame = frame.reformat(
            format=self.stream.pix_fmt,
            src_colorspace=self.matrix,
            dst_colorspace=self.matrix,
            src_color_range=2,
            dst_color_range=2 if full else 1,
            threads=SCALER_THREADS,
        )
        frame.pts = pts if pts is not None else self.frames
        frame.time_base = self.like.time_base
        if duration:
            self._durations[frame.pts] = duration  # set on its packet (encoders drop it)
        self._mux(self._timed(self.stream.encode(frame)))
        self.frames += 1
        if self.reader is not None:
            self._copy_audio()

    def _timed(self, packets) -> list:
        for packet in packets:
            duration = self._durations.pop(packet.pts, None)
            if duration:
                packet.duration = duration
        return packets

    def _copy_audio(self) -> None:
        assert self.reader is not None
        for packet in self.reader.take_audio():
            target = self.audio.get(packet.stream.index)
            if target is not None:
                packet.stream = target
                self._mux([packet])

    def _mux(self, packets) -> None:
        try:
            self.container.mux(packets)
        except OSError as exc:
            from .io import write_failure

            raise OutputError(f"cannot write file ({write_failure(exc)})", self.path) from None

    def close(self) -> None:
        """Flush the encoder, copy the rest of the audio, and publish the file."""
        try:
            self._mux(self._timed(self.stream.encode(None)))
            if self.reader is not None:
                self.reader_drain()
            self.container.close()
        except BaseException:
            self._stack.__exit__(*_exc_info())
            raise
        self._stack.close()  # publishes the temporary file

    def reader_drain(self) -> None:
        """Audio packets after the last video packet."""
        assert self.reader is not None
        av = require_av()
        with contextlib.suppress(StopIteration):
            while True:
                try:
                    packet = next(self.reader._packets)
                except av.FFmpegError:
                    break
                if packet.stream.type == "audio" and packet.dts is not None:
                    self.reader._pending.append(packet)
        self._copy_audio()

    def abort(self) -> None:
        """Remove the temporary file (an error happened before :meth:`close`)."""
        error = OutputError("not finished", self.path)
        self._stack.__exit__(OutputError, error, None)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        else:
            self._stack.__exit__(kind, exc, tb)


def _exc_info():
    import sys

    info = sys.exc_info()
    return info if info[0] is not None else (None, None, None)


__all__ = [
    "CONTAINERS",
    "DEFAULT_CRF",
    "MATTE_CRF",
    "VIDEO_EXTENSIONS",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "is_video_file",
    "require_av",
]
