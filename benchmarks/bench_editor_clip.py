"""Opening a clip in the editor and scrubbing it (issue 28, point 5).

``python -m benchmarks.bench_editor_clip [CLIP] [--long-side 1280] [--repeat 3]``

Default clip: the real dashcam clip ``../shared/data/video/annarbor.mp4`` (960x544, 206
frames). Timed: opening it as the editor does (:func:`effects_gui.clip.open_video`: every frame
decoded and kept preview-sized as a JPEG), against decoding alone
(:class:`skyseg_core.video.VideoReader`) in the same run, so the ratio is what keeping the
frames costs; the memory the kept frames take; one scrub step (a kept frame back as pixels,
:meth:`~effects_gui.clip.ClipFrames.frame`). Fastest of ``--repeat`` runs.
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
