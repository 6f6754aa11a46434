"""Screenshots of the editor with a video open, for docs/editor.md and docs/video.md.

    .venv/bin/python scripts/screenshot_video.py [--out-dir docs]

Drives the real window offscreen (as scripts/screenshots.py does) on a camera pan over a real
photo of ../shared/data/skyseg (tests/videoclips.py: 640x360 windows moved 6 px a frame, 40
frames at 25 frames/s), and writes docs/editor_video.png (the clip scrubbed to frame 25 with a
bundled sky put in), docs/editor_video_export_dialog.png (the Export video dialog: the file and
the quality) and docs/editor_video_export.png (its export running, frames counted, with Cancel;
cancelled after the shot, so nothing is written).

    .venv/bin/python scripts/screenshot_video.py --clip ../shared/data/video/annarbor.mp4 \
        --hold 30 --out-dir /tmp/shots

instead opens CLIP and holds ``.`` for HOLD frames (one step every 33 ms, a keyboard's
auto-repeat), and writes editor_held_catching_up.png (the frames stepped over being passed
through the temporal stage, counted in the status bar) and editor_held.png (the last frame's
look); it prints how far the shown matte is from the export's for that frame and from the
frame's own matte, and how far the shown pixels are from the export's renderer's frame (before
encoding; with the preview's copy of the sky and with the full sky the export uses).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PHOTO = "ade20k_skyopt_cvprw2020/images/ADE_train_00000559.jpg"
"""Sandstone domes under a cloudy sky (640x318), scaled 1.5x for the pan."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--method", default="auto")
    parser.add_argument("--sky", default="golden_hour")
    parser.add_argument("--clip", type=Path, help="a clip of your own (with --hold)")
    parser.add_argument("--hold", type=int, default=0, help="frames to hold '.' for")
    args = parser.parse_args(argv)
    if bool(args.clip) != bool(args.hold):
        parser.error("--clip and --hold go together")

    import videoclips

    config = tempfile.TemporaryDirectory()
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):  # keep the user's sky library out of it
        os.environ[name] = str(Path(config.name) / name.lower())
    if args.clip:
        clip = args.clip.resolve()
    else:
        pan = videoclips.pan(size=(640, 360), step=(6, 0), frames=40, relative=PHOTO, scale=1.5)
        clip = videoclips.write_clip(Path(config.name) / "domes_pan.mp4", pan.frames, rate=25)

    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication([])
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, config.name)

    from effects_gui.theme import apply_dark_theme
    from effects_gui.window import MainWindow

    def error_box(_parent, _title, text, *_args, **_kwargs):  # would block offscreen
        print(f"the editor said: {text}", file=sys.stderr)
        os._exit(1)

    QMessageBox.critical = error_box

    apply_dark_theme(app)

    def wait(condition, timeout: float = 180.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > end:
                raise TimeoutError("the editor did not reach the expected state")
        for _ in range(5):
            app.processEvents()

    def shot(name: str, widget=None) -> None:
        for _ in range(10):
            app.processEvents()
        path = args.out_dir / f"editor_{name}.png"
        (widget or window).grab().save(str(path))
        print(path)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    window = MainWindow(proxy_long_side=1280)
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.resize(1400, 880)
    window.show()
    c, m, clips = window.controller, window.model, window.clips
    wait(lambda: c.library_loads > 0)
    m.set_method(args.method)
    window.open_photo(clip)
    wait(lambda: m.clip is not None and m.matte is not None)
    c.use_sky(args.sky)
    wait(lambda: m.sky is not None)
    if args.hold:
        held(window, args, shot, wait, app)
        return finish(window, config)
    found = clips.mattes_found
    window.frame_bar.slider.setValue(24)
    wait(lambda: clips.mattes_found > found and clips.matte_job is None)
    wait(lambda: m.result is not None and c.render_job is None and not c.render_pending)
    window.show_panel(window.sky_panel)
    shot("video")
    window.export_video_action.trigger()
    shot("video_export_dialog", window.video_export_box)
    window.video_export_box.reject()

    messages: list[str] = []
    c.busy.connect(lambda text, *_: messages.append(text))
    clips.export(Path(config.name) / "domes_pan_sky.mp4")
    wait(lambda: any(text.endswith("frame 6 of 40") for text in messages))
    shot("video_export")
    c.cancel_jobs()
    wait(lambda: not c.runner.active)
    return finish(window, config)


def finish(window, config) -> int:
    window.model.undo_stack.setClean()
    window.shutdown()
    window.close()
    config.cleanup()
    return 0


def held(window, args, shot, wait, app) -> None:
    """``.`` held for ``args.hold`` frames from frame 0, shot while the frames stepped over are
    steadied and once the last one's look shows; the shown matte against the export's."""
    import numpy as np

    from skyseg_core.clips import FrameMattes, FrameRenderer
    from skyseg_core.pipeline import MatteSource

    c, m, clips = window.controller, window.model, window.clips
    for _ in range(args.hold):  # a held key: the next step before the last one's sky
        window.frame_bar.next_action.trigger()
        end = time.monotonic() + 0.033
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)
    released = time.monotonic()
    wait(lambda: clips.catching_up is not None and window.progress.isVisible())
    wait(lambda: window.progress.value() >= 40)
    shot("held_catching_up")
    wait(lambda: clips.matte_job is None and m.matte is not None and clips.index == args.hold)
    print(f"released -> frame {args.hold + 1}'s matte shown: {time.monotonic() - released:.1f} s")
    wait(lambda: m.result is not None and c.render_job is None and not c.render_pending)
    shot("held")
    frames = [clips.frames.frame(k) for k in range(args.hold + 1)]
    exported = FrameMattes(MatteSource(method=m.method))
    renderers = {  # the export's renderer, with each copy of the sky
        "the preview's sky": FrameRenderer(m.steps(), m.skies().__getitem__),
        "the full sky": FrameRenderer(m.steps(), m.skies(full=True).__getitem__),
    }
    for frame in frames:
        export = exported(frame)
        pixels = {name: renderer(frame, export) for name, renderer in renderers.items()}
    own = FrameMattes(MatteSource(method=m.method), temporal=False)(frames[-1])
    print(
        f"frame {args.hold + 1}: shown matte - export's: max {np.abs(m.matte - export).max():.2g};"
        f" the frame's own matte - export's: max {np.abs(own - export).max():.3f},"
        f" mean {np.abs(own - export).mean():.4f}"
    )
    shown = m.result.astype(np.int16)
    for name, out in pixels.items():
        codes = np.abs(shown - out.astype(np.int16))
        print(
            f"frame {args.hold + 1}: shown pixels - export renderer's with {name}:"
            f" max {codes.max()} codes, mean {codes.mean():.3f}"
        )


if __name__ == "__main__":
    sys.exit(main())
