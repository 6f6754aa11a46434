"""A 10-bit clip keeps its depth through an edit (issue 28): the reader gives its frames as uint16
RGB, the effects keep them uint16 and the writer encodes them at 10 bits; an 8-bit clip is
still read and written at 8 bits.

The clips are made here: a smooth vertical gradient sky over a darker ground whose smooth ramp
holds far more than 256 levels, the banding an 8-bit path would cut it to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from skyseg_core.cli import main  # noqa: E402
from tests.videoclips import read_clip, write_clip  # noqa: E402

SIZE = (128, 96)  # width, height
HORIZON = 52  # first ground row
FRAMES = 10


def gradient_frames(frames: int = FRAMES) -> list[np.ndarray]:
    """RGB uint16 frames: a blue sky lightening towards the horizon over a brown ground ramp
    (0.08 to 0.33 of full scale, diagonal) that brightens a little each frame."""
    w, h = SIZE
    x = np.linspace(0.0, 1.0, w)[None, :]
    t = np.linspace(0.0, 1.0, HORIZON)[:, None]
    g = np.linspace(0.0, 1.0, h - HORIZON)[:, None]
    sky = np.stack(
        np.broadcast_arrays(0.30 + 0.40 * t + 0 * x, 0.50 + 0.30 * t, 0.92 - 0.05 * t + 0 * x), -1
    )
    out = []
    for i in range(frames):
        ramp = 0.08 + 0.25 * (0.6 * x + 0.4 * g) + 0.002 * i
        ground = np.stack([ramp, 0.85 * ramp, 0.6 * ramp], -1)
        image = np.concatenate([sky, ground], axis=0)
        out.append(np.round(image * 65535).astype(np.uint16))
    return out


def _stream(path: Path) -> tuple[str, int, object]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.pix_fmt, frames, stream.average_rate


def _bits(pix_fmt: str) -> int:
    import av

    return max(c.bits for c in av.VideoFormat(pix_fmt).components)


@pytest.fixture(scope="module")
def deep_clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("deep")
    return write_clip(folder / "sky10.mp4", gradient_frames(), pix_fmt="yuv420p10le")


def _ground_levels(frame: np.ndarray) -> int:
    """Distinct green levels of the ground ramp (rows well below the horizon)."""
    return len(np.unique(frame[HORIZON + 6 :, :, 1]))


def test_a_10_bit_clip_is_read_as_uint16(deep_clip):
    frames, facts = read_clip(deep_clip)
    assert facts["info"].bits == 16
    assert len(frames) == FRAMES and frames[0].dtype == np.uint16
    assert frames[0].shape == (SIZE[1], SIZE[0], 3)
    # the colours are the made ones (BT.709 limited range undone), not off by a factor of 256
    want = gradient_frames(1)[0].astype(float)
    assert np.abs(frames[0].astype(float) - want).mean() < 0.01 * 65535


@pytest.mark.parametrize("command", [["replace"], ["tint"]])
def test_an_edited_10_bit_clip_keeps_its_depth(deep_clip, command, tmp_path):
    out = tmp_path / "out.mp4"
    assert main([*command, str(deep_clip), "-o", str(out), "--quiet"]) == 0
    pix_fmt, frames, rate = _stream(out)
    assert pix_fmt == "yuv420p10le"
    assert frames == FRAMES and rate == 25
    edited, facts = read_clip(out)
    assert facts["info"].bits == 16 and edited[3].dtype == np.uint16
    source, _ = read_clip(deep_clip)
    assert _ground_levels(source[3]) > 1000
    assert _ground_levels(edited[3]) > 256  # an 8-bit path leaves about 45
    # the sky was edited, the ground kept
    sky = np.abs(edited[3][:40].astype(float) - source[3][:40]).mean()
    ground = np.abs(edited[3][HORIZON + 6 :].astype(float) - source[3][HORIZON + 6 :]).mean()
    assert sky > ground


def test_an_8_bit_clip_stays_8_bit(tmp_path):
    frames8 = [(f // 257).astype(np.uint8) for f in gradient_frames(6)]
    source = write_clip(tmp_path / "sky8.mp4", frames8)
    out = tmp_path / "out.mp4"
    assert main(["tint", str(source), "-o", str(out), "--quiet"]) == 0
    pix_fmt, frames, _ = _stream(out)
    assert pix_fmt == "yuv420p" and frames == 6
    edited, facts = read_clip(out)
    assert facts["info"].bits == 8 and edited[0].dtype == np.uint8


def test_a_webm_of_a_10_bit_clip_is_8_bit_vp9_and_says_so(deep_clip, tmp_path, capsys):
    out = tmp_path / "out.webm"  # this PyAV's libvpx-vp9 has no 10-bit formats
    assert main(["tint", str(deep_clip), "-o", str(out)]) == 0
    pix_fmt, frames, _ = _stream(out)
    assert pix_fmt == "yuv420p" and frames == FRAMES
    notes = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    assert len(notes) == 1 and "8 bits" in notes[0] and "out.webm" in notes[0]


def test_mattes_of_a_10_bit_clip_stay_8_bit(deep_clip, tmp_path):
    from PIL import Image

    assert main(["mask", str(deep_clip), "--out-dir", str(tmp_path), "--quiet"]) == 0
    pngs = sorted((tmp_path / "sky10").glob("*.png"))
    assert len(pngs) == FRAMES
    matte = np.asarray(Image.open(pngs[3]))
    assert matte.dtype == np.uint8
    assert matte[:40].mean() > 200 and matte[HORIZON + 6 :].mean() < 50
    out = tmp_path / "sky.mkv"
    assert main(["mask", str(deep_clip), "-o", str(out), "--quiet"]) == 0
    assert _bits(_stream(out)[0]) == 8
