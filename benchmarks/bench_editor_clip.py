"""Opening a clip in the editor and scrubbing it (issue 28, point 5).

``python -m benchmarks.bench_editor_clip [CLIP] [--gop N] [--loop N] [--long-side 1280]
[--repeat 3] [--no-window]``

Default clip: the real dashcam clip ``../shared/data/video/annarbor.mp4`` (960x544, 206
frames, one keyframe); ``--gop N`` re-encodes it first with a keyframe every N frames (as
cameras write them), ``--loop N`` as N times as long. Timed against two baselines in the same run: decoding the whole clip
(:class:`skyseg_core.video.VideoReader`), and opening as the editor did before frames were
read on demand (every frame decoded and kept preview-sized as a JPEG). Then the editor's way
(:func:`effects_gui.clip.open_video`): time to the first frame, the bytes kept after stepping
through the whole clip (:data:`effects_gui.clipframes.CACHE_BYTES` at most), a step to the next
frame (decoding on), and a jump to a random frame (a seek to its keyframe, decoding forward),
none of them kept before. Fastest of ``--repeat`` runs for the opens. Then in the real window
(offscreen, a 1280 px preview, ``--method``, the ``clouds`` sky): from the scrubber set to a
frame until that frame's look is shown, the median over 6 frames; and a drag across the whole
clip (the slider set to every frame in turn, the events run between): the time its events take
on the GUI thread, and until its last frame shows. ``--window-only``: those alone (this file
also runs them against an older tree of the editor).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "video" / "annarbor.mp4"


class _Job:
    """What a job function is given: progress is ignored here."""

    def report(self, percent: int, message: str = "") -> None:
        pass


def _open_keeping_every_frame(path: Path, long_side: int) -> tuple[int, int]:
    """The editor's open before on-demand frames (commit bf47ec0): every frame decoded and kept
    preview-sized as a JPEG (quality 95). Returns (frames, bytes kept)."""
    import cv2
    import numpy as np

    from effects_gui.edit import proxy_of
    from skyseg_core.video import VideoReader

    kept = []
    with VideoReader(path) as clip:
        for _, rgb in clip:
            small = np.ascontiguousarray(proxy_of(rgb, long_side)[0][..., ::-1])
            kept.append(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    return len(kept), sum(len(data) for data in kept)


def _with_keyframes(path: Path, gop: int, loop: int, folder: Path) -> Path:
    """``path`` re-encoded (H.264, CRF 18, ``loop`` times over) with a keyframe every ``gop``
    frames."""
    import av

    out_path = folder / f"{path.stem}_gop{gop}x{loop}.mp4"
    with av.open(str(path)) as source, av.open(str(out_path), "w") as out:
        video = source.streams.video[0]
        frames = [f.reformat(format="yuv420p").to_ndarray() for f in source.decode(video)]
        stream = out.add_stream("libx264", rate=video.average_rate, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, "yuv420p"
        stream.codec_context.gop_size = gop
        for i in range(loop * len(frames)):
            frame = av.VideoFrame.from_ndarray(frames[i % len(frames)], format="yuv420p")
            frame.pts, frame.time_base = i, 1 / video.average_rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return out_path


def _ms(values: list[float]) -> str:
    values = sorted(values)
    return f"median {1000 * values[len(values) // 2]:.1f} ms, max {1000 * values[-1]:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, default=CLIP)
    parser.add_argument("--gop", type=int, default=0, help="re-encode with this keyframe gap")
    parser.add_argument("--loop", type=int, default=1, help="re-encode it this many times over")
    parser.add_argument("--long-side", type=int, default=1280)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--method", default="auto")
    parser.add_argument("--no-window", dest="window", action="store_false")
    parser.add_argument("--window-only", action="store_true", help="the window's figures only")
    args = parser.parse_args(argv)
    if args.window_only:
        _print_window(args.clip, args.method)
        return 0

    from effects_gui.clip import open_video
    from skyseg_core.video import VideoReader

    scratch = tempfile.TemporaryDirectory()
    again = args.gop or args.loop > 1
    clip_path = (
        _with_keyframes(args.clip, args.gop or 250, args.loop, Path(scratch.name))
        if again
        else args.clip
    )
    decode, before, first = [], [], []
    kept_before = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        with VideoReader(clip_path) as reader:
            count = sum(1 for _ in reader)
        decode.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _, kept_before = _open_keeping_every_frame(clip_path, args.long_side)
        before.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        frames, _frame0 = open_video(_Job(), clip_path, args.long_side)
        first.append(time.perf_counter() - t0)
        frames.close()
    frames, _ = open_video(_Job(), clip_path, args.long_side)
    source = frames.source
    assert frames.count == count
    steps, jumps, most, most_frames = [], [], 0, 0
    for index in range(1, count):  # stepping through: the next frame each time
        t0 = time.perf_counter()
        frames.frame(index)
        steps.append(time.perf_counter() - t0)
        if source.cache.bytes > most:
            most, most_frames = source.cache.bytes, len(source.cache)
    rng = random.Random(0)
    for index in rng.sample(range(count), min(30, count)):
        source.cache.clear()
        t0 = time.perf_counter()
        frames.frame(index)
        jumps.append(time.perf_counter() - t0)
    w, h = frames.size
    keys = len(source.keyframes)
    print(
        f"{clip_path.name}: {count} frames, {w}x{h}, {keys} keyframes, "
        f"shown at {args.long_side} px at most"
    )
    d, b, f = min(decode), min(before), min(first)
    print(f"baseline, decode the whole clip:         {d:6.3f} s")
    print(f"baseline, open keeping every frame:      {b:6.3f} s  ({b / d:.2f}x decoding)")
    print(
        f"open to first frame (on demand):         {f:6.3f} s  ({f / d:.3f}x decoding, "
        f"{f / b:.3f}x keeping every frame)"
    )
    print(f"kept, every frame as JPEG (before):      {kept_before / 2**20:6.1f} MiB")
    print(
        f"kept after stepping through (on demand): {most / 2**20:6.1f} MiB at most "
        f"({most_frames} frames; bound {source.cache.limit / 2**20:.0f} MiB)"
    )
    print(f"step to the next frame:  {_ms(steps)}  (decoding alone: {1000 * d / count:.1f} ms)")
    print(f"jump to a random frame:  {_ms(jumps)}  ({len(jumps)} frames)")
    frames.close()
    if args.window:
        _print_window(clip_path, args.method)
    scratch.cleanup()
    return 0


def _print_window(clip_path: Path, method: str) -> None:
    looks, drag, count = _scrub_in_window(clip_path, method)
    print(
        f"scrubber set -> look shown ({method}): median {looks[len(looks) // 2]:.2f} s "
        f"({looks[0]:.2f}-{looks[-1]:.2f})"
    )
    print(
        f"drag across {count} frames: its events {drag[0]:.2f} s on the GUI thread, "
        f"last frame shown {drag[1]:.2f} s after it began"
    )


def _scrub_in_window(clip: Path, method: str) -> tuple[list[float], tuple[float, float], int]:
    """Seconds from setting the scrubber until the frame's look is shown (sorted); for a drag
    across every frame, the seconds its events (each step and what it made the GUI thread do)
    took and from its start until its last frame is shown; the frame count."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    config = tempfile.TemporaryDirectory()
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):  # the user's sky library left out
        os.environ[name] = str(Path(config.name) / name.lower())
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, config.name)
    from effects_gui.window import MainWindow

    def wait(condition) -> None:
        end = time.monotonic() + 120
        while not condition():
            app.processEvents()
            time.sleep(0.002)
            if time.monotonic() > end:
                raise TimeoutError("the editor did not show the frame")

    window = MainWindow(proxy_long_side=1280)
    window.resize(1400, 880)
    window.show()
    c, m, clips = window.controller, window.model, window.clips
    m.set_method(method)
    window.open_photo(clip)
    wait(lambda: m.clip is not None and m.matte is not None)
    c.use_sky("clouds")
    wait(lambda: m.result is not None and c.render_job is None and not c.render_pending)
    times = []
    for k in range(1, 7):
        found, renders = clips.mattes_found, c.renders_done
        t0 = time.perf_counter()
        window.frame_bar.slider.setValue(k * (m.clip.count - 1) // 7)
        wait(
            lambda f=found, r=renders: (
                clips.mattes_found > f
                and c.renders_done > r
                and c.render_job is None
                and not c.render_pending
            )
        )
        times.append(time.perf_counter() - t0)
    wait(lambda: clips.matte_job is None)
    window.frame_bar.slider.setValue(0)
    wait(lambda: clips.shown_index == 0)
    last = m.clip.count - 1
    t0 = time.perf_counter()
    for k in range(1, last + 1):
        window.frame_bar.slider.setValue(k)
        app.processEvents()
    events = time.perf_counter() - t0
    wait(lambda: clips.shown_index == last)
    drag = events, time.perf_counter() - t0
    m.undo_stack.setClean()
    window.shutdown()
    window.close()
    config.cleanup()
    return sorted(times), drag, last + 1


if __name__ == "__main__":
    raise SystemExit(main())
