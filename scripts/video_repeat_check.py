"""Run the same video edit several times and say what differs between the outputs.

    .venv/bin/python scripts/video_repeat_check.py [--runs 5] [--ext .mp4 .mkv .webm] [--one-cpu]

An 8-bit pan, the same with AAC audio (not for .webm) and a 10-bit pan (tests/videoclips.py's,
160x120, 6 frames) go through ``skyseg replace --sky clouds`` ``--runs`` times for each output
ending; printed for each: how many different files (md5) the runs gave, and how many decoded
frames differ from the first run's (every plane's visible bytes compared, so a difference in
pixels is told apart from one in the container's bytes only), with the share of those frames'
bytes that differ. ``--one-cpu``: the last run is a process allowed on one CPU only (Linux), as on
a smaller machine.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyseg_core.cli import main  # noqa: E402
from tests.videoclips import pan, write_clip  # noqa: E402


def decoded_planes(path: Path) -> list[bytes]:
    """Each frame's planes as stored (no conversion), without the rows' padding."""
    import av

    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            depth = 2 if frame.format.components[0].bits > 8 else 1
            visible = b""
            for plane in frame.planes:
                rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
                visible += rows[:, : plane.width * depth].tobytes()
            frames.append(visible)
    return frames


ONE_CPU = (
    "import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
    "from skyseg_core.cli import main; sys.exit(main(sys.argv[1:]))"
)


def replace(command: list[str], one_cpu: bool) -> int:
    """``skyseg`` with ``command``, here or in a process allowed on one CPU."""
    if not one_cpu:
        return main(command)
    return subprocess.run([sys.executable, "-c", ONE_CPU, *command], cwd=ROOT).returncode


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ext", nargs="+", default=[".mp4", ".mkv", ".webm"])
    parser.add_argument("--one-cpu", action="store_true", help="the last run on one CPU")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        frames = pan(size=(160, 120), frames=6).frames
        sources = {
            "8-bit": write_clip(folder / "pan8.mp4", frames),
            "8-bit with audio": write_clip(folder / "pan8a.mp4", frames, audio=True),
            "10-bit": write_clip(
                folder / "pan10.mp4",
                [f.astype(np.uint16) * 257 for f in frames],
                pix_fmt="yuv420p10le",
            ),
        }
        for name, source in sources.items():
            for ext in args.ext:
                if ext == ".webm" and "audio" in name:
                    continue  # a .webm cannot hold the clip's AAC
                outs = []
                for run in range(args.runs):
                    out = folder / f"{source.stem}_{run}{ext}"
                    command = ["replace", str(source), "--sky", "clouds", "-o", str(out)]
                    alone = args.one_cpu and run == args.runs - 1
                    if replace([*command, "--quiet"], alone) != 0:
                        raise SystemExit(f"skyseg replace failed on {source.name} -> {ext}")
                    outs.append(out)
                digests = {hashlib.md5(out.read_bytes()).hexdigest() for out in outs}
                first = decoded_planes(outs[0])
                differ, changed, total = [], 0, 0
                for out in outs[1:]:
                    pairs = list(zip(first, decoded_planes(out), strict=True))
                    differ.append(sum(a != b for a, b in pairs))
                    for a, b in pairs:
                        if a != b:
                            changed += int(
                                np.count_nonzero(
                                    np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8)
                                )
                            )
                            total += len(a)
                share = f" ({100 * changed / total:.1f} % of their bytes)" if total else ""
                print(
                    f"{name:16s} {ext:5s}: {len(digests)} different files of {args.runs}; "
                    f"decoded frames differing from run 1 (of {len(first)}): {differ}{share}"
                )


if __name__ == "__main__":
    main_()
