"""Check the new sky in HDR clips: its code values against colour-science, and a look at it.

    .venv/bin/python scripts/video_hdr_check.py [--picture hdr_check.png]

1. A PQ, an HLG and an SDR 10-bit clip (tests/test_video_hdr.py's: the 10-bit test's gradient
   frames, 128x96, BT.2020 tags for the HDR ones) go through ``skyseg replace`` with a flat sRGB
   (90, 150, 230) sky; printed: the largest difference of any sky pixel of any frame from the
   value colour-science gives, and how long one conversion of the bundled ``clouds`` sky takes.
2. The rocket pan of scripts/video_gif.py (12 frames, 360x240) is put into PQ and into HLG (its
   sRGB frames converted as a sky is), replaced with ``--sky clouds``, decoded and brought back
   to SDR with colour-science; printed: the mean difference (0-255) from the SDR pan's
   ``replace`` over the top quarter of the frames (sky). ``--picture`` gets frame 6 of each:
   rows PQ, HLG; columns the HDR source, its edit (both brought back to SDR), the SDR edit.
3. The mattes: tests/test_video_hdr.py's pan near the horizon as SDR, PQ and HLG clips through
   ``skyseg mask``; printed: the share of sky decisions that differ from the SDR clip's, with
   the frames seen as SDR pictures (skyseg's way) and as their codes (before), and how long
   the SDR view of a 1080p frame takes.

Needs the ``dev`` extra (colour-science).
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import colour  # noqa: E402
from video_gif import PHOTO, pan_frames  # noqa: E402

from skyseg_core.cli import main as skyseg  # noqa: E402
from skyseg_core.effects._transfer import Signal  # noqa: E402
from skyseg_core.skygen import load_sky  # noqa: E402
from tests.test_video_10bit import gradient_frames  # noqa: E402
from tests.test_video_hdr import (  # noqa: E402
    SKY_SRGB,
    TAGS,
    _mattes,
    reference_signal,
    rocket_pan,
)
from tests.videoclips import read_clip, write_clip  # noqa: E402

BT2020_TO_BT709 = colour.matrix_RGB_to_RGB(
    colour.RGB_COLOURSPACES["ITU-R BT.2020"], colour.RGB_COLOURSPACES["ITU-R BT.709"]
)


def to_sdr(frame: np.ndarray, transfer: str) -> np.ndarray:
    """A decoded HDR frame (uint16 R'G'B') as 8-bit sRGB, reference white at SDR white."""
    signal = frame / 65535.0
    with np.errstate(all="ignore"):
        if transfer == "pq":
            display = colour.models.eotf_BT2100_PQ(signal)
        else:
            display = colour.models.eotf_BT2100_HLG(signal, L_W=1000)
    linear = np.clip((display / 203.0) @ BT2020_TO_BT709.T, 0.0, 1.0)
    return np.round(colour.models.eotf_inverse_sRGB(linear) * 255).astype(np.uint8)


def best_of_three(work: Callable, *args) -> float:
    """Seconds of the fastest of three calls ``work(*args)``."""
    return min(timeit.repeat(functools.partial(work, *args), number=1, repeat=3))


def replaced(source: Path, sky: str, out: Path) -> list[np.ndarray]:
    if skyseg(["replace", str(source), "--sky", sky, "-o", str(out), "--quiet"]) != 0:
        raise SystemExit(f"replace failed on {source}")
    return read_clip(out)[0]


def flat_sky_errors(tmp: Path) -> None:
    flat = tmp / "flat.png"
    Image.fromarray(np.full((240, 400, 3), SKY_SRGB, np.uint8)).save(flat)
    for transfer, tags in TAGS.items():
        source = write_clip(
            tmp / f"{transfer}.mp4", gradient_frames(4), pix_fmt="yuv420p10le", colour=tags
        )
        want = reference_signal(SKY_SRGB / 255.0, transfer)
        frames = replaced(source, str(flat), tmp / f"{transfer}_flat.mp4")
        error = max(np.abs(f[4:32, 12:-12] / 65535.0 - want).max() for f in frames)
        print(
            f"{transfer}: flat sky, largest error {error:.4f} of full scale ({error * 876:.1f} 10-bit codes)"
        )
    sky = load_sky("clouds")
    for transfer in ("pq", "hlg"):
        best = best_of_three(Signal(transfer, bt2020=True).sky, sky)
        print(f"{transfer}: converting clouds ({sky.shape[1]}x{sky.shape[0]}) {best:.3f} s")


def pan_look(tmp: Path, picture: Path | None) -> None:
    photo = np.asarray(Image.open(PHOTO).convert("RGB"))
    frames = pan_frames(photo, 12)
    sdr = replaced(write_clip(tmp / "pan.mp4", frames, crf=14), "clouds", tmp / "pan_sdr.mp4")
    rows = []
    for transfer in ("pq", "hlg"):
        signal = Signal(transfer, bt2020=True)
        source = write_clip(
            tmp / f"pan_{transfer}.mp4",
            [signal.sky(f) for f in frames],
            crf=14,
            pix_fmt="yuv420p10le",
            colour=TAGS[transfer],
        )
        edited = [
            to_sdr(f, transfer) for f in replaced(source, "clouds", tmp / f"pan_{transfer}_out.mp4")
        ]
        top = sdr[0].shape[0] // 4
        diff = np.mean(
            [
                np.abs(a[:top].astype(float) - b[:top]).mean()
                for a, b in zip(edited, sdr, strict=True)
            ]
        )
        print(
            f"{transfer}: pan, mean difference from the SDR edit over the top quarter {diff:.2f} of 255"
        )
        shot = to_sdr(read_clip(source)[0][6], transfer)
        rows.append(np.concatenate([shot, edited[6], sdr[6]], axis=1))
    if picture is not None:
        Image.fromarray(np.concatenate(rows, axis=0)).save(picture)
        print(f"wrote {picture}")


def matte_agreement(tmp: Path) -> None:
    import skyseg_core.clips as clips

    frames = rocket_pan()
    deep = [f.astype(np.uint16) * 257 for f in frames]
    want = _mattes(write_clip(tmp / "sdr.mp4", deep, pix_fmt="yuv420p10le"), tmp / "sdr")
    seen_as_sdr = clips.clip_signal
    for transfer in ("pq", "hlg"):
        signal = [np.round(reference_signal(f / 255.0, transfer) * 65535) for f in frames]
        clip = write_clip(
            tmp / f"{transfer}.mp4",
            [s.astype(np.uint16) for s in signal],
            pix_fmt="yuv420p10le",
            colour=TAGS[transfer],
        )
        for label, view in (("as SDR pictures", seen_as_sdr), ("as their codes", lambda c: None)):
            clips.clip_signal = view
            try:
                got = _mattes(clip, tmp / f"{transfer}_{len(label)}")
            finally:
                clips.clip_signal = seen_as_sdr
            flips = np.mean(
                [((a >= 128) != (b >= 128)).mean() for a, b in zip(got, want, strict=True)]
            )
            print(
                f"{transfer}: mattes, frames seen {label}: {flips:.2%} of the decisions differ from SDR"
            )
        frame = np.full((1080, 1920, 3), 30000, np.uint16)
        best = best_of_three(Signal(transfer, bt2020=True).sdr_view, frame)
        print(f"{transfer}: SDR view of a 1080p frame {best:.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picture", type=Path, help="write the pan's frames side by side here")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="colour")
    with tempfile.TemporaryDirectory() as tmp:
        flat_sky_errors(Path(tmp))
        pan_look(Path(tmp), args.picture)
        matte_agreement(Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
