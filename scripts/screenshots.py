"""Screenshots of the editor's main states, for the README: ``make screenshots``.

Drives the real window offscreen (QT_QPA_PLATFORM=offscreen) on the bundled sample photo and
a bundled sky, and writes docs/editor_<state>.png:
empty, overlay (photo + matte overlay), brush (a stroke being painted), sky (replaced sky),
tint (the gradient tint panel).
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

CHURCH = ROOT.parent / "shared" / "data" / "skyseg" / "ade20k_skyopt_cvprw2020" / "images" / "ADE_val_00000249.jpg"
PHOTO = CHURCH if CHURCH.is_file() else ROOT / "assets" / "samples" / "rocket.jpg"
"""A church under a flat pale sky (shared data, like the README's other figures); the bundled
rocket photo where the shared data is absent."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--photo", type=Path, default=PHOTO)
    parser.add_argument("--method", default="color")
    args = parser.parse_args(argv)

    from PyQt6.QtCore import QPoint, QPointF, QSettings, Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    # keep the user's recent-file list out of it
    settings_dir = tempfile.TemporaryDirectory()
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings_dir.name)

    from effects_gui.window import MainWindow

    def wait(condition, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > end:
                raise TimeoutError("the editor did not reach the expected state")
        for _ in range(5):
            app.processEvents()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    window = MainWindow(proxy_long_side=1280)
    window.resize(1280, 800)
    window.show()
    wait(lambda: window.sky_panel.palette.count() > 0)

    def shot(name: str) -> None:
        for _ in range(5):
            app.processEvents()
        path = args.out_dir / f"editor_{name}.png"
        window.grab().save(str(path))
        print(path)

    shot("empty")

    window.open_photo(args.photo)
    wait(lambda: window.model.has_photo)
    window.model.set_method(args.method)
    window.segment()
    wait(lambda: window.model.matte is not None)
    window.show_panel(window.brush_panel)
    shot("overlay")

    # a remove-sky stroke being painted over the smoke, the brush cursor at its end
    QTest.keyClick(window, Qt.Key.Key_E)
    window.model.set_brush(radius=14, edge_aware=True)
    canvas, viewport = window.canvas, window.canvas.viewport()
    h, w = window.model.proxy.shape[:2]
    a = canvas.mapFromScene(QPointF(0.30 * w, 0.36 * h))
    b = canvas.mapFromScene(QPointF(0.47 * w, 0.20 * h))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, 16):
        t = i / 15
        QTest.mouseMove(viewport, QPoint(round(a.x() + (b.x() - a.x()) * t), round(a.y() + (b.y() - a.y()) * t)))
    shot("brush")
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    window.model.undo_stack.undo()  # the demo stroke is not part of the edit
    QTest.keyClick(window, Qt.Key.Key_H)  # back to the hand tool: no brush cursor

    # a bundled sky from the palette
    window.show_panel(window.sky_panel)
    palette = window.sky_panel.palette
    names = [palette.item(i).text() for i in range(palette.count())]
    pick = next((i for i, n in enumerate(names) if "golden" in n or "sunset" in n), 0)
    renders = window.renders_done
    palette.setCurrentRow(pick)
    window.sky_panel.skyRequested.emit(palette.item(pick).data(Qt.ItemDataRole.UserRole))
    wait(lambda: window.renders_done > renders)
    renders = window.renders_done
    window.model.set_sky_param("fade_edge", 0.15)
    window.model.set_sky_param("color_match", 0.4)
    wait(lambda: window.renders_done > renders and window._render_job is None)
    shot("sky")

    window.show_panel(window.tint_panel)
    renders = window.renders_done
    window.tint_panel.enabled.setChecked(True)
    window.model.set_tint(stops=((0.0, (255, 150, 70)), (0.55, (235, 110, 140)), (1.0, (60, 70, 160))))
    wait(lambda: window.renders_done > renders and window._render_job is None)
    shot("tint")

    window.model.undo_stack.setClean()
    window.shutdown()
    window.close()
    settings_dir.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
