"""Editor responsiveness on a 12 MP (or any size) photo: "drop a sky" to updated preview, and UI-thread stalls.

As harness cases (``python -m benchmarks.run --filter editor``): the time from dropping a sky
file on the canvas to the new preview on screen, and from moving a slider to the new preview.

Standalone (``python -m benchmarks.bench_editor [--method NAME] [--proxy N] [--repeat N]``)
it also measures the longest UI-thread stall while a segmentation runs: a 5 ms QTimer
heartbeat on the GUI thread; the longest gap between two beats is the longest time the
window could not repaint or react (target: under 100 ms).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from .harness import SIZE_12MP, case, photo  # noqa: E402

PROXY_LONG_SIDE = 2048
"""The preview's longer side on a typical desktop screen (the editor uses the screen's, 1280..2560)."""


class Session:
    """A real editor window, offscreen, with a 12 MP photo open and its sky found."""

    def __init__(
        self,
        method: str = "color",
        proxy: int = PROXY_LONG_SIDE,
        segment: bool = True,
        size: tuple[int, int] = SIZE_12MP,
    ):
        from PyQt6.QtCore import QSettings
        from PyQt6.QtWidgets import QApplication

        from skyseg_core.io import save_image
        from skyseg_core.skygen import make_sky

        self.app = QApplication.instance() or QApplication([])
        self.tmp = tempfile.TemporaryDirectory()
        tmp = Path(self.tmp.name)
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp))
        for variable in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):  # the sky library and its thumbnails
            os.environ[variable] = str(tmp / variable.lower())
        self.photo_path = tmp / "photo_12mp.jpg"
        save_image(self.photo_path, photo(*size))
        self.skies = []
        for preset in ("golden_hour", "sunset"):  # two skies, dropped in turn
            path = tmp / f"{preset}.jpg"
            save_image(path, make_sky(preset, 4000, 2250))
            self.skies.append(path)
        from effects_gui.window import MainWindow

        self.window = MainWindow(proxy_long_side=proxy)
        self.window.show()
        self.window.open_photo(self.photo_path)
        self.wait(lambda: self.window.model.has_photo)
        self.window.model.set_method(method)
        if segment:
            self.window.segment()
            self.wait(lambda: self.window.model.matte is not None)
        self.drops = 0

    def wait(self, condition, timeout: float = 300.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            self.app.processEvents()
            time.sleep(0.001)
            if time.monotonic() > end:
                raise TimeoutError("the editor did not reach the expected state")

    def idle(self) -> bool:
        return self.window._render_job is None and not self.window.runner.active

    def drop_sky(self) -> None:
        """Drop the next sky file on the canvas and wait until its preview is shown."""
        from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
        from PyQt6.QtGui import QDragEnterEvent, QDropEvent
        from PyQt6.QtWidgets import QApplication

        path = self.skies[self.drops % len(self.skies)]
        self.drops += 1
        viewport = self.window.canvas.viewport()
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        centre = viewport.rect().center()
        renders = self.window.renders_done
        QApplication.sendEvent(
            viewport,
            QDragEnterEvent(
                centre,
                Qt.DropAction.CopyAction,
                mime,
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
            ),
        )
        QApplication.sendEvent(
            viewport,
            QDropEvent(
                QPointF(centre),
                Qt.DropAction.CopyAction,
                mime,
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
            ),
        )
        self.wait(lambda: self.window.renders_done > renders and self.idle())

    def move_slider(self) -> None:
        """One step of the fade-edge slider (keyboard), until the new preview is shown."""
        from PyQt6.QtCore import Qt
        from PyQt6.QtTest import QTest

        slider = self.window.sky_panel.sliders["fade_edge"].slider
        renders = self.window.renders_done
        key = Qt.Key.Key_PageUp if slider.value() < slider.maximum() // 2 else Qt.Key.Key_PageDown
        QTest.keyClick(slider, key)
        self.wait(lambda: self.window.renders_done > renders and self.idle())

    def close(self) -> None:
        self.window.model.undo_stack.setClean()
        self.window.shutdown()
        self.window.close()
        self.tmp.cleanup()


class Heartbeat:
    """A QTimer on the GUI thread; ``max_gap`` is the longest time between two of its beats."""

    def __init__(self, interval_ms: int = 5):
        from PyQt6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._beat)
        self.gaps: list[float] = []
        self.last = None

    def _beat(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.gaps.append(now - self.last)
        self.last = now

    def start(self) -> None:
        self.gaps, self.last = [], time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self._beat()
        return max(self.gaps) if self.gaps else 0.0


@case("editor: drop a sky file -> new preview (12 MP photo, 2048 px preview)", repeat=5)
def drop_sky_case():
    session = Session()
    session.drop_sky()  # warm: the first render also builds caches
    return session.drop_sky


@case("editor: move a sky slider -> new preview (12 MP photo, 2048 px preview)", repeat=5)
def slider_case():
    session = Session()
    session.drop_sky()
    return session.move_slider


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description="Editor latency and UI-thread stalls on a large photo."
    )
    parser.add_argument(
        "--method", default="color", help="segmentation method for the stall measurement"
    )
    parser.add_argument("--proxy", type=int, default=PROXY_LONG_SIDE, help="preview's longer side")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", default="4000x3000", help="photo size WxH (6000x4000 for 24 MP)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))

    session = Session(args.method, args.proxy, segment=False, size=size)
    window, beat = session.window, Heartbeat()
    # control: the same heartbeat with nothing running shows what the machine's load alone costs
    beat.start()
    session.wait(
        lambda: time.perf_counter() - beat.last > 0 and len(beat.gaps) * 0.005 >= 2.0, timeout=30
    )
    idle_stall = beat.stop()
    stalls, seg_times = [], []
    for _ in range(max(1, args.repeat // 2)):
        beat.start()
        t0 = time.perf_counter()
        window.segment()
        session.wait(lambda: window._segment_job is None and session.idle())
        seg_times.append(time.perf_counter() - t0)
        stalls.append(beat.stop())
    drops, drop_stalls = [], []
    for _ in range(args.repeat + 1):
        beat.start()
        t0 = time.perf_counter()
        session.drop_sky()
        drops.append(time.perf_counter() - t0)
        drop_stalls.append(beat.stop())
    drops, drop_stalls = drops[1:], drop_stalls[1:]  # the first is warm-up
    sliders, slider_stalls = [], []
    for _ in range(args.repeat):
        beat.start()
        t0 = time.perf_counter()
        session.move_slider()
        sliders.append(time.perf_counter() - t0)
        slider_stalls.append(beat.stop())
    h, w = window.model.image.shape[:2]
    ph, pw = window.model.proxy.shape[:2]
    session.close()

    def ms(xs):
        return f"median {1000 * statistics.median(xs):.0f} ms (min {1000 * min(xs):.0f}, max {1000 * max(xs):.0f})"

    print(
        f"photo {w}x{h} ({w * h / 1e6:.1f} MP), preview {pw}x{ph}, method {args.method}, {os.cpu_count()} CPUs"
    )
    print(f"idle control (2 s, nothing running): longest heartbeat gap {1000 * idle_stall:.0f} ms")
    print(f"segmentation, click to matte shown: {ms(seg_times)}")
    print(f"  longest UI-thread stall during segmentation: {ms(stalls)}")
    print(f"drop a sky -> new preview: {ms(drops)}")
    print(f"  longest UI-thread stall: {ms(drop_stalls)}")
    print(f"slider step -> new preview: {ms(sliders)}")
    print(f"  longest UI-thread stall: {ms(slider_stalls)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
