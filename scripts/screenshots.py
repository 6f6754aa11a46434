"""Screenshots of the editor for the README: ``make screenshots``.

Drives the real window offscreen (QT_QPA_PLATFORM=offscreen, the dark theme the editor starts
with, a temporary config folder) on real photos of the shared data set, and writes
docs/editor_<state>.png: empty, overlay (the found sky as an overlay), library (a bundled sky
put in from the library), split (before/after with the divider), tint, brush and brush_done
(an edge-aware "add sky" stroke fixing a tree line that the ``color`` method missed, while
painted and after), export (the dialog) and cutout (the cut-out's dialog).
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

ADE = ROOT.parent / "shared" / "data" / "skyseg" / "ade20k_skyopt_cvprw2020"
CHURCH = ADE / "images" / "ADE_val_00000249.jpg"
"""A church under a flat pale sky: the replacement pictures."""
PARK = ADE / "images" / "ADE_val_00000572.jpg"
"""A city park: ``color`` misses the sky just above its tree line, which the brush fixes."""


def band_stroke(matte, truth, step: int = 12) -> tuple[list[tuple[float, float]], float]:
    """The path along the sky the matte missed (found from the data set's mask, only to place
    the demo stroke) and a brush radius that covers the band, in matte pixels."""
    import numpy as np

    missed = (matte < 0.5) & (truth > 0.5)
    h, w = missed.shape
    points, widths = [], []
    for x in range(int(0.04 * w), int(0.96 * w), step):
        rows = np.flatnonzero(missed[:, x])
        if rows.size >= 3:
            points.append((float(x), float(np.median(rows))))
            widths.append(rows.size)
    ys = np.convolve([p[1] for p in points], np.ones(5) / 5, mode="same")  # a steady hand
    path = [(x, float(y)) for (x, _), y in zip(points[2:-2], ys[2:-2], strict=True)]
    return path, float(np.clip(np.median(widths), 6, 0.06 * h))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--method", default="auto", help="method for the replacement pictures")
    args = parser.parse_args(argv)
    for photo in (CHURCH, PARK):
        if not photo.is_file():
            parser.error(f"the shared data set is needed: {photo} not found")

    config = tempfile.TemporaryDirectory()
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):  # keep the user's sky library out of it
        os.environ[name] = str(Path(config.name) / name.lower())

    from PyQt6.QtCore import QPoint, QPointF, QRect, QSettings, Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, config.name)

    from effects_gui.theme import apply_dark_theme
    from effects_gui.window import MainWindow

    apply_dark_theme(app)

    def wait(condition, timeout: float = 120.0) -> None:
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
    window.setWindowState(Qt.WindowState.WindowNoState)  # the first run maximises on a small screen
    window.resize(1400, 880)
    window.show()
    wait(lambda: window.controller.library_loads > 0)

    def shot(name: str, widget=None) -> None:
        for _ in range(10):
            app.processEvents()
        path = args.out_dir / f"editor_{name}.png"
        (widget or window).grab().save(str(path))
        print(path)

    def rendered() -> None:
        c = window.controller
        wait(lambda: c.render_job is None and not c.render_pending)

    shot("empty")

    m = window.model
    window.open_photo(CHURCH)
    wait(lambda: m.has_photo)
    m.set_method(args.method)
    window.controller.segment()
    wait(lambda: m.matte is not None)
    window.show_panel(window.sky_panel)
    shot("overlay")

    # a bundled sky, clicked in the library: highlighted there, put in with the declared defaults
    library = window.sky_panel.library
    index = next(i for i, s in enumerate(library.sources()) if s == "golden_hour")
    renders = window.controller.renders_done
    QTest.mouseClick(
        library.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        library.visualItemRect(library.item(index)).center(),
    )
    wait(lambda: m.sky is not None and window.controller.renders_done > renders)
    rendered()
    shot("library")

    m.set_view(split=True, divider=0.42)
    shot("split")
    m.set_view(split=False)

    window.show_panel(window.tint_panel)
    window.tint_panel.enabled.click()
    m.set_sky(None)
    rendered()
    shot("tint")

    window.open_photo(PARK, ask=False)
    wait(lambda: m.path == PARK and m.has_photo)
    m.set_method("color")
    window.controller.segment()
    wait(lambda: m.matte is not None)
    path, radius = band_stroke(m.matte, _resized_truth(PARK, m.matte.shape))
    QTest.keyClick(window, Qt.Key.Key_B)  # the brush, its options shown, edge-aware
    m.set_brush(radius=radius)
    canvas, viewport = window.canvas, window.canvas.viewport()
    points = [canvas.mapFromScene(QPointF(x, y)) for x, y in path]
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    for p in points[1:]:
        QTest.mouseMove(viewport, QPoint(p.x(), p.y()))
    shot("brush")  # the stroke being painted over the band the method missed
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1]
    )
    wait(lambda: len(m.strokes) == 1)
    QTest.mouseMove(viewport, points[-1])
    shot("brush_done", window.canvas)  # released: the sky snapped to the tree line

    # Close gaps over the whole matte: the sky seen through the trees' foliage
    window.brush_panel.close_gaps.setValue(1.0)
    m.set_params("matte", close_gaps=1.0)
    jobs_done = window.controller
    wait(lambda: jobs_done.gap_job is None and m.gap_target is not None)
    wait(lambda: jobs_done.rebuild_job is None and jobs_done.render_job is None)
    app.processEvents()
    shot("close_gaps")

    window.export_dialog()
    wait(lambda: window.export_box.isVisible())
    shot("export", window.export_box)
    window.export_box.reject()
    window.export_cutout()
    wait(lambda: window.cutout_box.isVisible())
    shot("cutout", window.cutout_box)
    window.cutout_box.reject()

    m.undo_stack.setClean()
    window.shutdown()
    window.close()

    # the real 100 % view: the park's tree line with a preview half the photo's size, shown
    # from the preview scaled up (before) and from the photo's own pixels (after)
    small = MainWindow(proxy_long_side=320)
    small.setWindowState(Qt.WindowState.WindowNoState)
    small.resize(1000, 700)
    small.show()
    s = small.model
    small.controller.open_photo(PARK)
    wait(lambda: s.has_photo)
    s.set_method("color")
    small.controller.segment()
    wait(lambda: s.matte is not None)
    s.set_view(mode="photo", overlay=False)
    small.canvas.actual_pixels()
    wait(lambda: small.canvas.detail_state == "photo")
    viewport = small.canvas.viewport()
    # the bare trees against the sky, left of the path: a crop, enlarged 2x (nearest) to be seen
    corner = small.canvas.mapFromScene(QPointF(0, s.proxy.shape[0] * 0.22))
    area = QRect(max(0, corner.x()), corner.y(), 260, 170)

    def crop(name: str) -> None:
        for _ in range(10):
            app.processEvents()
        picture = viewport.grab(area).scaled(
            520, 340, transformMode=Qt.TransformationMode.FastTransformation
        )
        path = args.out_dir / f"editor_{name}.png"
        picture.save(str(path))
        print(path)

    crop("100_percent")
    small.canvas.clear_detail()
    crop("100_percent_preview")
    s.undo_stack.setClean()
    small.shutdown()
    small.close()
    config.cleanup()
    return 0


def _resized_truth(photo: Path, shape):
    from skyseg_core.io import load_matte
    from skyseg_core.matte import resize_matte

    return resize_matte(load_matte(ADE / "masks" / f"{photo.stem}.png"), shape)


if __name__ == "__main__":
    sys.exit(main())
