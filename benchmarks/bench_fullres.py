"""The editor's 100 % view on a 24 MP photo: how long until the canvas shows full-resolution
pixels (issue 26, point 1).

``python -m benchmarks.bench_fullres [--size 6000x4000] [--repeat 3]``

A real window, offscreen (1280 x 820, a 2048 px preview), the standard photo, its sky found with
``color`` and the ``golden_hour`` sky put in. Timed, from the request until the canvas shows the
region (``detail_state``): the photo at 100 % (Ctrl+1: a crop of the photo), a scroll at 100 %
(a crop), and the result at 100 % after a setting changed (the chain rendered at full size,
then cropped). Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtWidgets import QApplication

    from benchmarks.harness import photo
    from skyseg_core.io import save_image

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp())
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ[name] = str(tmp / name.lower())
    from effects_gui.window import MainWindow

    def wait(condition, timeout: float = 300.0) -> float:
        start = time.perf_counter()
        while not condition():
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() - start > timeout:
                raise TimeoutError("the editor did not reach the expected state")
        return time.perf_counter() - start

    path = tmp / "photo.jpg"
    save_image(path, photo(width, height), quality=95)
    w = MainWindow(proxy_long_side=2048)
    w.setWindowState(Qt.WindowState.WindowNoState)
    w.resize(1280, 820)
    w.show()
    m, c, canvas = w.model, w.controller, w.canvas
    c.open_photo(path)
    wait(lambda: m.has_photo)
    m.set_method("color")
    c.segment()
    wait(lambda: m.matte is not None)
    c.use_sky("golden_hour")
    wait(lambda: m.result is not None and not c.runner.active)
    times: dict[str, list[float]] = {"photo": [], "scroll": [], "result": []}
    for i in range(args.repeat):
        m.set_view(mode="photo", overlay=False)
        canvas.fit()
        wait(lambda: canvas.visible_region() is not None or canvas.zoom() <= 1)
        canvas.clear_detail()
        start = time.perf_counter()
        canvas.actual_pixels()
        wait(lambda: canvas.detail_state == "photo")
        times["photo"].append(time.perf_counter() - start)
        bar = canvas.horizontalScrollBar()
        left = canvas.detail_item.pos().x()
        start = time.perf_counter()
        bar.setValue(bar.value() + 400 if bar.value() + 400 <= bar.maximum() else 0)
        wait(lambda x=left: canvas.detail_state == "photo" and canvas.detail_item.pos().x() != x)
        times["scroll"].append(time.perf_counter() - start)
        m.set_view(mode="result")
        wait(lambda: canvas.detail_state == "result" and not c.runner.active)
        start = time.perf_counter()
        m.set_sky_param("halo", 0.3 + 0.1 * (i % 2))  # a new state of the edit
        wait(lambda: canvas.detail_state == "result" and not c.runner.active)
        times["result"].append(time.perf_counter() - start)
    m.undo_stack.setClean()
    w.shutdown()
    print(
        f"{width}x{height} photo, 2048 px preview, medians of {args.repeat} "
        f"(load average {os.getloadavg()[0]:.1f}):"
    )
    for name, text in (
        ("photo", "100 % (Ctrl+1), photo: full-size pixels shown after"),
        ("scroll", "scroll at 100 %: the new region shown after"),
        ("result", "a setting changed at 100 %, result: full-size render shown after"),
    ):
        values = ", ".join(f"{v:.2f}" for v in times[name])
        print(f"  {text} {statistics.median(times[name]):.2f} s ({values})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
