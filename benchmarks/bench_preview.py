"""The plug-ins' live preview on a 24 MP photo through the client and the worker, against the
full-resolution run of the same effect in the same run (issue 25: a preview within 1 s of a
control change).

``python -m benchmarks.bench_preview [--size 6000x4000] [--repeat 3] [--method color]
[--effects replace,tint,relight] [--out benchmarks/preview.md]``

The photo is the bundled sample upscaled to the size asked, written as the binary PPM the
plug-ins hand the worker; the working copy is that photo scaled to ``skyseg_client.LONG_SIDE``
(1280 px, OpenCV's area filter standing in for the host's scaling), also PPM. One private worker
(``SkysegClient``) serves everything. Timed, per effect:

- *full resolution* (the baseline): the effect op on the photo, finding the sky too, as OK/Apply
  runs it;
- *first preview*: a new ``Preview``: the working copy's matte (``mask`` op) and the effect;
- *control change*: a new value submitted to ``LatestRender`` (the Krita docker's 0.12 s quiet
  delay included) until its result is ready, the matte cached; and the render alone;
- *Krita's scaling to the canvas*: what the Krita plug-in's render thread adds to a change: the
  render read and scaled to the canvas with Qt's smooth scaling into B, G, R, A bytes (PyQt6's
  QImage here, the calls the plug-in makes with Krita's PyQt5). Krita then copies the bytes into
  the preview layer on its GUI thread (not timed here; the real-host test prints the whole
  change-to-layer time on a 4 MP image).

Medians of ``--repeat`` runs, the cases interleaved so the machine's load touches all alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
WORKER = [sys.executable, "-m", "skyseg_core", "worker"]
DELAY = 0.12
"""The Krita docker's quiet delay before a render (``skyseg_krita.preview.DEBOUNCE``)."""
CHANGES = {  # effect -> (its fixed params, the control a change moves, the values it takes)
    "replace": ({"sky": "golden_hour"}, "sky_opacity", (0.9, 0.7, 0.5, 0.8, 0.6)),
    "tint": ({}, "strength", (0.5, 0.6, 0.7, 0.8, 0.9)),
    "relight": ({}, "strength", (0.4, 0.5, 0.6, 0.7, 0.8)),
}


def _write_ppm(path: Path, image) -> None:
    sys.path.insert(0, str(ROOT / "plugins" / "common"))
    import skyseg_client

    height, width = image.shape[:2]
    skyseg_client.write_netpbm(str(path), width, height, 3, image.tobytes())


def _qt_scaled(path: str, width: int, height: int) -> bytes:
    """What the Krita plug-in's ``scaled_bgra`` does, with PyQt6."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QImage

    image = QImage(path).scaled(
        width,
        height,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    if image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return bytes(image.constBits().asstring(image.sizeInBytes()))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--method", default="color")
    parser.add_argument("--effects", default="replace,tint,relight")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    effects = [e for e in args.effects.split(",") if e]

    import cv2
    from PyQt6.QtGui import QGuiApplication

    from benchmarks.harness import photo

    sys.path.insert(0, str(ROOT / "plugins" / "common"))
    import skyseg_client

    app = QGuiApplication.instance() or QGuiApplication([])  # QImage's format plug-ins
    tmp = Path(tempfile.mkdtemp(prefix="skyseg-bench-preview-"))
    image = photo(width, height)
    full = tmp / "photo.ppm"
    _write_ppm(full, image)
    size = skyseg_client.working_size(width, height)
    working = tmp / "working.ppm"
    _write_ppm(working, cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    source = {"method": args.method, "refine": True}
    rows: dict[str, dict[str, list[float]]] = {
        e: {"full": [], "first": [], "change": [], "render": [], "scale": []} for e in effects
    }
    client = skyseg_client.SkysegClient(WORKER, start_timeout=120)
    try:
        client.request("ping")
        client.request("mask", str(working), str(tmp / "warm.png"), source)  # models loaded
        for _ in range(args.repeat):
            for effect in effects:
                fixed, key, values = CHANGES[effect]
                times = rows[effect]
                start = time.perf_counter()
                client.request(effect, str(full), str(tmp / "full.ppm"), dict(source, **fixed))
                times["full"].append(time.perf_counter() - start)
                with skyseg_client.Preview(client, suffix=".ppm") as preview:
                    preview.set_photo(str(working))
                    start = time.perf_counter()
                    rendered = preview.render(effect, dict(source, **fixed))
                    times["first"].append(time.perf_counter() - start)
                    runner = skyseg_client.LatestRender(preview, DELAY)
                    try:
                        for value in values:
                            runner.submit(effect, dict(source, **fixed, **{key: value}))
                            result = runner.wait(120)
                            if result is None or result.error is not None:
                                raise SystemExit(f"{effect}: the preview failed: {result}")
                            times["change"].append(result.seconds)
                    finally:
                        runner.close()
                    start = time.perf_counter()
                    rendered = preview.render(effect, dict(source, **fixed, **{key: values[0]}))
                    times["render"].append(time.perf_counter() - start)
                    start = time.perf_counter()
                    _qt_scaled(rendered, width, height)
                    times["scale"].append(time.perf_counter() - start)
    finally:
        client.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    del app
    load = os.getloadavg()[0]
    lines = [
        f"Photo {width}x{height} ({width * height / 1e6:.0f} MP), working copy "
        f"{size[0]}x{size[1]}, method `{args.method}` (refined), medians of {args.repeat} runs "
        f"(control changes: {len(CHANGES['replace'][2])} a run), {os.cpu_count()} cores, load "
        f"average {load:.1f} at the end.",
        "",
        "| effect | full resolution, s | first preview (matte + effect), s | / full | "
        "control change to result, s | / full | render alone, s | Krita's scaling to the "
        "canvas, s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for effect in effects:
        t = {name: statistics.median(v) for name, v in rows[effect].items()}
        lines.append(
            f"| {effect} | {t['full']:.2f} | {t['first']:.3f} | {t['first'] / t['full']:.3f} | "
            f"{t['change']:.3f} | {t['change'] / t['full']:.3f} | {t['render']:.3f} | "
            f"{t['scale']:.3f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.out is not None:
        command = "python -m benchmarks.bench_preview " + " ".join(argv or sys.argv[1:])
        args.out.write_text(
            "# The plug-ins' live preview against the full-resolution run (issue 25)\n\n"
            f"`{command.strip()}` (written by it; see the script's docstring for what is "
            "timed).\n\n" + table + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
