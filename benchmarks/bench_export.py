"""The editor's exports of a 24 MP photo, per format, against ``skyseg replace`` on the same photo
in the same run (issue 26: a JPEG export within 2.5x of the command line).

``python -m benchmarks.bench_export [--size 6000x4000] [--repeat 3] [--formats jpg,tif,png,psd,ora]
[--out benchmarks/export.md]``

The photo is the bundled sample upscaled to the size asked, saved as a JPEG (quality 95). The
editor runs for real, offscreen: the photo opened, its sky found with ``color``, the
``golden_hour`` sky put in with the default settings; each export is timed from the call to
the controller until its ``exportFinished`` signal (the matte, the render at full size and the
file). ``skyseg replace --method color --sky golden_hour`` is timed as a user runs it (a new
process: start-up, decoding, finding the sky, rendering and writing the JPEG). Medians of
``--repeat`` runs, the two interleaved so the machine's load touches both alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
FORMATS = {
    "jpg": ("JPEG (quality 90)", "result"),
    "tif": ("16-bit TIFF", "result"),
    "png": ("PNG", "result"),
    "psd": ("layers, .psd", "layers"),
    "ora": ("layers, .ora", "layers"),
}


class Editor:
    """A real editor window, offscreen, with the photo open, its sky found and a sky put in."""

    def __init__(self, photo: Path, settings: Path, proxy: int = 2048):
        from PyQt6.QtCore import QSettings
        from PyQt6.QtWidgets import QApplication

        self.app = QApplication.instance() or QApplication([])
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(settings))
        for variable in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            os.environ[variable] = str(settings / variable.lower())
        from effects_gui.window import MainWindow

        self.window = w = MainWindow(proxy_long_side=proxy)
        w.show()
        w.controller.open_photo(photo)
        self.wait(lambda: w.model.has_photo)
        w.model.set_method("color")
        w.controller.segment()
        self.wait(lambda: w.model.matte is not None)
        w.controller.use_sky("golden_hour")
        self.wait(lambda: w.model.result is not None and not w.controller.runner.active)
        self.finished: list[bool] = []
        w.controller.exportFinished.connect(self.finished.append)

    def wait(self, condition, timeout: float = 600.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            self.app.processEvents()
            time.sleep(0.002)
            if time.monotonic() > end:
                raise TimeoutError("the editor did not reach the expected state")

    def export(self, path: Path) -> float:
        """Seconds from asking for the export to its end."""
        c = self.window.controller
        done = len(self.finished)
        start = time.perf_counter()
        if path.suffix in (".psd", ".ora"):
            c.export_layers(path)
        else:
            c.export_result(path, 90 if path.suffix == ".jpg" else None)
        self.wait(lambda: len(self.finished) > done)
        elapsed = time.perf_counter() - start
        if not self.finished[-1] or not path.is_file():
            raise RuntimeError(f"the export of {path.name} failed")
        return elapsed

    def close(self) -> None:
        self.window.model.undo_stack.setClean()
        self.window.shutdown()
        self.window.close()


def replace_cli(photo: Path, out: Path) -> float:
    """Seconds of ``skyseg replace`` on ``photo``, as a user runs it (a new process)."""
    command = [
        sys.executable, "-m", "skyseg_core", "replace", str(photo), "--method", "color",
        "--sky", "golden_hour", "--quality", "90", "-o", str(out), "--overwrite", "--quiet",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    import argparse

    from benchmarks.harness import photo as sample_photo
    from skyseg_core.io import save_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="6000x4000", help="photo size WxH")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--out", type=Path, help="write the results table (markdown) here")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    formats = args.formats.split(",")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        photo = tmp / "photo.jpg"
        save_image(photo, sample_photo(width, height), quality=95)
        editor = Editor(photo, tmp / "settings")
        times: dict[str, list[float]] = {f: [] for f in ["replace", *formats]}
        try:
            for _ in range(args.repeat):
                times["replace"].append(replace_cli(photo, tmp / "cli.jpg"))
                for fmt in formats:
                    times[fmt].append(editor.export(tmp / f"export.{fmt}"))
        finally:
            editor.close()
    median = {k: statistics.median(v) for k, v in times.items()}
    load = os.getloadavg()[0]
    command = "python -m benchmarks.bench_export " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    lines = [
        "# Editor exports against `skyseg replace` (issue 26)",
        "",
        f"`{command.strip()}` (written by it; see the script's docstring for what is timed).",
        "",
        f"Photo {width}x{height} ({width * height / 1e6:.0f} MP), medians of {args.repeat} "
        f"runs, {os.cpu_count()} cores, load average {load:.1f} at the end.",
        "",
        "| output | seconds (runs) | / `skyseg replace` |",
        "|---|---:|---:|",
        f"| `skyseg replace` (new process, finds the sky too) | {median['replace']:.2f} "
        f"({', '.join(f'{t:.2f}' for t in times['replace'])}) | 1.00 |",
    ]
    for fmt in formats:
        lines.append(
            f"| editor export: {FORMATS[fmt][0]} | {median[fmt]:.2f} "
            f"({', '.join(f'{t:.2f}' for t in times[fmt])}) | {median[fmt] / median['replace']:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
