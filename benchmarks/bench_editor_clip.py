"""Opening a clip in the editor and scrubbing it (issue 28, point 5).

``python -m benchmarks.bench_editor_clip [CLIP] [--long-side 1280] [--repeat 3]``

Default clip: the real dashcam clip ``../shared/data/video/annarbor.mp4`` (960x544, 206
frames). Timed: opening it as the editor does (:func:`effects_gui.clip.open_video`: every frame
decoded and kept preview-sized as a JPEG), against decoding alone
(:class:`skyseg_core.video.VideoReader`) in the same run, so the ratio is what keeping the
frames costs; the memory the kept frames take; one scrub step (a kept frame back as pixels,
:meth:`~effects_gui.clip.ClipFrames.frame`). Fastest of ``--repeat`` runs. Then in the real
window (offscreen, a 1280 px preview, ``--method``, the ``clouds`` sky): from the scrubber
set to a frame until that frame's look is shown (its matte found, the preview rendered), the
median over 6 frames across the clip.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "video" / "annarbor.mp4"


class _Job:
    """What a job function is given: progress is ignored here."""

    def report(self, percent: int, message: str = "") -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, default=CLIP)
    parser.add_argument("--long-side", type=int, default=1280)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--method", default="auto")
    args = parser.parse_args(argv)

    from effects_gui.clip import open_video
    from skyseg_core.video import VideoReader

    decode, opening = [], []
    frames = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        with VideoReader(args.clip) as clip:
            count = sum(1 for _ in clip)
        decode.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        frames = open_video(_Job(), args.clip, args.long_side)
        opening.append(time.perf_counter() - t0)
    assert frames is not None and frames.count == count
    steps = []
    for index in range(0, frames.count, max(1, frames.count // 50)):
        t0 = time.perf_counter()
        frames.frame(index)
        steps.append(time.perf_counter() - t0)
    kept = sum(len(data) for data in frames.encoded)
    w, h = frames.size
    print(f"{args.clip.name}: {count} frames, {w}x{h}, kept at {args.long_side} px at most")
    print(f"decode only:        {min(decode):6.2f} s  ({count / min(decode):6.1f} frames/s)")
    print(f"open in the editor: {min(opening):6.2f} s  ({count / min(opening):6.1f} frames/s)")
    print(f"ratio open / decode: {min(opening) / min(decode):.2f}")
    print(f"kept frames: {kept / 2**20:.1f} MiB ({kept / count / 1024:.0f} KiB a frame)")
    steps.sort()
    print(
        f"scrub step (frame back as pixels): median {1000 * steps[len(steps) // 2]:.1f} ms, "
        f"max {1000 * steps[-1]:.1f} ms"
    )
    looks = _scrub_in_window(args.clip, args.method)
    print(
        f"scrubber set -> look shown ({args.method}): median {looks[len(looks) // 2]:.2f} s "
        f"({looks[0]:.2f}-{looks[-1]:.2f})"
    )
    return 0


def _scrub_in_window(clip: Path, method: str) -> list[float]:
    """Seconds from setting the scrubber until the frame's look is shown, sorted."""
    import os
    import tempfile

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
    m.undo_stack.setClean()
    window.shutdown()
    window.close()
    config.cleanup()
    return sorted(times)


if __name__ == "__main__":
    raise SystemExit(main())
