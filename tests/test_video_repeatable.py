"""The same frames and options give the same video file, byte for byte, however often they are
written and on whatever machine (a service batching clips compares outputs by checksum).

Two causes made them differ before: Matroska and WebM got random segment and track IDs on every
run (the muxer is now bit-exact), and the encoders' threads followed the CPUs the process may use,
x264's slices and VP9's threading with them, so another machine or CPU affinity gave other bytes
and other pixels (the thread count is now fixed). A third changed a deep clip's frames before they
reached the encoder: swscale converted them to 10 bits in one slice per CPU, wrongly at the slice
seam (it now converts in one slice).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from skyseg_core.cli import main  # noqa: E402
from skyseg_core.video import ENCODER_THREADS, VideoInfo, VideoWriter  # noqa: E402
from tests.videoclips import pan, write_clip  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3


def write_noise_clip(path: Path, bits: int, size: tuple[int, int] = (64, 48)) -> Path:
    """Four frames of random RGB (uint8, or uint16 for a deep clip: written at 10 bits) through
    :class:`VideoWriter`: every code in play, nothing the encoder could skip."""
    rng = np.random.default_rng(28)
    dtype, top = (np.uint16, 65535) if bits > 8 else (np.uint8, 255)
    w, h = size
    like = VideoInfo(
        path=path.with_name("source.mp4"),
        width=w,
        height=h,
        rate=Fraction(25),
        time_base=Fraction(1, 12800),
        frames=4,
        duration=None,
        rotation=90,  # the display matrix goes through the muxer too
        codec="h264",
        colour={"color_primaries": 1, "color_trc": 1, "colorspace": 1, "color_range": 1},
        bits=bits,
    )
    with VideoWriter(path, like) as writer:
        for i in range(4):
            writer.write(rng.integers(0, top + 1, (h, w, 3), dtype=dtype), pts=i * 512)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("ext", "bits"),
    # 16: a deep clip, written at 10 bits (a .webm is 8-bit only, so not here)
    [(".mp4", 8), (".mov", 8), (".mkv", 8), (".webm", 8), (".mp4", 16), (".mkv", 16)],
)
def test_writer_gives_the_same_bytes_each_time(tmp_path, ext, bits):
    digests = {_digest(write_noise_clip(tmp_path / f"run{run}{ext}", bits)) for run in range(RUNS)}
    assert len(digests) == 1, f"{RUNS} writes of the same frames gave {len(digests)} files"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
@pytest.mark.parametrize(
    ("ext", "bits", "size"),
    # sizes at which the encoders' output followed the CPU count before
    [(".mp4", 8, (160, 120)), (".mkv", 16, (160, 120)), (".webm", 8, (128, 96))],
)
def test_writer_gives_the_same_bytes_on_one_cpu(tmp_path, ext, bits, size):
    here = write_noise_clip(tmp_path / f"here{ext}", bits, size)
    alone = tmp_path / f"alone{ext}"
    child = (
        "import os, sys; from pathlib import Path; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from tests.test_video_repeatable import write_noise_clip; "
        "write_noise_clip(Path(sys.argv[1]), int(sys.argv[2]), (int(sys.argv[3]), int(sys.argv[4])))"
    )
    subprocess.run(
        [sys.executable, "-c", child, str(alone), str(bits), *map(str, size)], cwd=ROOT, check=True
    )
    assert _digest(alone) == _digest(here)
    if ext != ".webm":  # x264 writes its settings into the stream
        found = re.search(rb"threads=(\d+)", alone.read_bytes())
        assert found is not None and int(found.group(1)) == ENCODER_THREADS


def test_matte_video_from_the_command_is_the_same_each_time(tmp_path):
    """`skyseg mask clip -o clip_sky.mkv` (the documented matte video) on a clip with audio."""
    clip = write_clip(tmp_path / "pan.mp4", pan(size=(96, 64), frames=4).frames, audio=True)
    digests = set()
    for run in range(2):
        out = tmp_path / f"sky{run}.mkv"
        assert main(["mask", str(clip), "-o", str(out), "--quiet"]) == 0
        digests.add(_digest(out))
    assert len(digests) == 1


def test_deep_frames_are_converted_right_across_the_scaler_slices(tmp_path):
    """FFmpeg 8.1's swscale, sliced one slice per CPU, got the first 8 pixels of the second
    slice's top row of an RGB48 -> 10-bit conversion wrong (luma off by up to 207 codes): the
    writer converts in one slice. At crf 0 (near-lossless at 10 bits) x264 moves no luma code of
    this noise by more than 12, far below such an error."""
    av = pytest.importorskip("av")
    rng = np.random.default_rng(28)
    image = rng.integers(0, 65536, (160, 120, 3), dtype=np.uint16)
    like = VideoInfo(
        path=tmp_path / "source.mp4",
        width=120,
        height=160,
        rate=Fraction(25),
        time_base=Fraction(1, 25),
        frames=1,
        duration=None,
        rotation=0,
        codec="h264",
        colour={"color_primaries": 1, "color_trc": 1, "colorspace": 1, "color_range": 1},
        bits=16,
    )
    out = tmp_path / "deep.mkv"
    with VideoWriter(out, like, crf=0) as writer:
        writer.write(image, pts=0)
    with av.open(str(out)) as clip:
        plane = next(clip.decode(video=0)).planes[0]
    luma = np.frombuffer(plane, np.uint16).reshape(plane.height, -1)[:, : plane.width]
    rgb = image / 65535.0
    expected = 4 * (16 + 219 * (0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]))
    assert np.abs(luma - expected).max() < 40
