"""HDR and 4:4:4 clips through an edit (issue 28).

An HDR clip (PQ or HLG, BT.2020, 10-bit) gets its new sky in its own signal: the sRGB sky is
decoded to linear light, moved to BT.2020 primaries, its white put at 203 cd/m2 (ITU-R
BT.2408) and encoded with PQ or HLG; the expected values here come from colour-science, not
from skyseg's own functions. An SDR clip's sky is placed as it is. A 4:4:4 source is written
4:4:4.

The clips are made here: the 10-bit test's gradient sky over a ramp ground, tagged as each
case needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

import colour  # noqa: E402  (dev dependency: the reference for the expected signal values)

from skyseg_core.cli import main  # noqa: E402
from skyseg_core.effects import relight, tint_sky  # noqa: E402
from skyseg_core.effects._transfer import SIGNAL, Signal  # noqa: E402
from tests.test_video_10bit import HORIZON, gradient_frames  # noqa: E402
from tests.videoclips import read_clip, write_clip  # noqa: E402

FRAMES = 4
SKY_SRGB = np.array([90, 150, 230])
"""The flat new sky, 8-bit sRGB."""

TAGS = {
    "pq": {"color_primaries": 9, "color_trc": 16, "colorspace": 9},
    "hlg": {"color_primaries": 9, "color_trc": 18, "colorspace": 9},
    "sdr": {"color_primaries": 1, "color_trc": 1, "colorspace": 1},
}
"""FFmpeg's numbers: BT.2020 primaries and matrix with PQ (SMPTE ST 2084) or HLG (ARIB
STD-B67); BT.709 throughout for SDR."""

TOLERANCE = 0.006
"""Of full scale: 10-bit limited-range codes (1/876 a step), the YUV round trip and x264."""


def reference_signal(srgb: np.ndarray, transfer: str) -> np.ndarray:
    """``srgb`` (float, [0, 1]) in the clip's signal, computed with colour-science."""
    if transfer == "sdr":
        return srgb
    linear = colour.models.eotf_sRGB(srgb)
    to_2020 = colour.matrix_RGB_to_RGB(
        colour.RGB_COLOURSPACES["ITU-R BT.709"], colour.RGB_COLOURSPACES["ITU-R BT.2020"]
    )
    display = (linear @ to_2020.T) * 203.0  # cd/m2, SDR white at BT.2408's reference white
    if transfer == "pq":
        return colour.models.eotf_inverse_BT2100_PQ(display)
    with np.errstate(
        divide="ignore", invalid="ignore"
    ):  # black: its inverse OOTF takes 0 to a negative power
        return colour.models.eotf_inverse_BT2100_HLG(display, L_W=1000)


@pytest.fixture(scope="module")
def flat_sky(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("sky") / "flat.png"
    Image.fromarray(np.full((240, 400, 3), SKY_SRGB, np.uint8)).save(path)
    return path


def _stream_facts(path: Path) -> dict:
    import av

    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        return {
            "pix_fmt": ctx.pix_fmt,
            "color_primaries": int(ctx.color_primaries),
            "color_trc": int(ctx.color_trc),
            "colorspace": int(ctx.colorspace),
        }


def test_the_reference_white_lands_where_bt2408_puts_it():
    white = np.ones(3)
    assert reference_signal(white, "pq") == pytest.approx(0.5807, abs=1e-4)  # 58 % PQ
    assert reference_signal(white, "hlg") == pytest.approx(0.75, abs=1e-3)  # 75 % HLG


@pytest.mark.parametrize("transfer", ["pq", "hlg"])
def test_skyseg_signal_matches_colour_science(transfer):
    rng = np.random.default_rng(3)
    srgb = np.concatenate([rng.random((200, 3)), np.eye(3), np.zeros((1, 3)), np.ones((1, 3))])
    got = Signal(transfer, bt2020=True).from_sdr(srgb)
    assert np.abs(got - reference_signal(srgb, transfer)).max() < 1e-6


@pytest.mark.parametrize("transfer", ["pq", "hlg", "sdr"])
def test_the_new_sky_is_placed_in_the_clips_signal(transfer, flat_sky, tmp_path):
    source = write_clip(
        tmp_path / f"{transfer}.mp4",
        gradient_frames(FRAMES),
        pix_fmt="yuv420p10le",
        colour=TAGS[transfer],
    )
    out = tmp_path / "out.mp4"
    assert main(["replace", str(source), "--sky", str(flat_sky), "-o", str(out), "--quiet"]) == 0

    facts = _stream_facts(out)
    assert facts == {"pix_fmt": "yuv420p10le", **TAGS[transfer]}  # tags and depth kept
    edited, read = read_clip(out)
    assert len(edited) == FRAMES and read["info"].bits == 16
    want = reference_signal(SKY_SRGB / 255.0, transfer)
    if transfer != "sdr":  # the sky's own sRGB codes (what the old code put in) are far off
        assert np.abs(want - SKY_SRGB / 255.0).max() > 0.1
    for frame in edited:
        sky = frame[4:32, 12:-12].reshape(-1, 3) / 65535.0  # well above the sky border
        assert np.abs(sky.mean(axis=0) - want).max() < TOLERANCE
        assert np.abs(sky - want).max() < 2 * TOLERANCE  # flat, every pixel


def test_an_sdr_clip_is_edited_as_without_any_signal(flat_sky, tmp_path):
    """An SDR clip's frames meet no conversion: its edit equals the photo path's render."""
    from skyseg_core.clips import FrameRenderer
    from skyseg_core.effects.params import ReplaceParams
    from skyseg_core.pipeline import render

    frame = gradient_frames(1)[0]
    matte = np.zeros(frame.shape[:2], np.float32)
    matte[:HORIZON] = 1.0
    steps = [ReplaceParams(sky=str(flat_sky))]
    renderer = FrameRenderer(steps, sky_motion="still", light_weight=1.0)
    renderer.use_signal_of(TAGS["sdr"])
    assert renderer.signal is None
    assert np.array_equal(renderer(frame, matte), render(frame, matte, steps).image)


def _flat(value: float) -> tuple[np.ndarray, np.ndarray]:
    image = np.full((64, 64, 3), round(value * 65535), np.uint16)
    return image, np.ones((64, 64), np.float32)


def test_a_tints_own_colour_goes_into_the_signal():
    image, matte = _flat(0.4)
    colour_hex = "#5a96e6"  # SKY_SRGB
    stops = ((0.0, colour_hex), (1.0, colour_hex))
    token = SIGNAL.set(Signal("pq", bt2020=True))
    try:
        placed = tint_sky(image, matte, stops=stops, mode="normal", strength=1.0, cleanup=0.0)
        relative = tint_sky(image, matte, stops=stops, mode="soft_light", cleanup=0.0)
    finally:
        SIGNAL.reset(token)
    want = reference_signal(SKY_SRGB / 255.0, "pq")
    assert np.abs(placed[32, 32] / 65535.0 - want).max() < 1e-3
    # a soft light's colour works around its neutral 0.5 as given, not converted
    assert np.array_equal(relative, tint_sky(image, matte, stops=stops, mode="soft_light"))


def test_relight_takes_a_colour_temperature_in_the_signal():
    image, matte = _flat(0.45)
    matte[:20] = 1.0
    matte[20:] = 0.0
    sdr = relight(image, matte, temperature=3200.0, strength=1.0, cleanup=0.0)
    token = SIGNAL.set(Signal("pq", bt2020=True))
    try:
        hdr = relight(image, matte, temperature=3200.0, strength=1.0, cleanup=0.0)
    finally:
        SIGNAL.reset(token)
    # warmer in both; in PQ's compressed values the same light shifts red over blue less
    warm = [f[40:, :, 0].mean() - f[40:, :, 2].mean() for f in (sdr, hdr)]
    assert warm[0] > warm[1] > 0


@pytest.mark.parametrize(
    ("codec", "source_fmt", "ending", "written"),
    [
        ("libx264", "yuv444p", ".mp4", "yuv444p"),
        ("libx264", "yuv444p10le", ".mkv", "yuv444p10le"),
        ("prores_ks", "yuv444p10le", ".mov", "yuv444p10le"),  # ProRes 4444
        ("libx264", "yuv420p", ".mp4", "yuv420p"),
        ("prores_ks", "yuv422p10le", ".mov", "yuv420p10le"),  # ProRes 422: not kept (docs)
    ],
)
def test_a_4_4_4_source_is_written_4_4_4(codec, source_fmt, ending, written, tmp_path):
    frames = gradient_frames(FRAMES)
    for frame in frames:  # one-pixel stripes of two colours of about the same brightness
        frame[HORIZON + 4 :, 0::2] = np.array([0.40, 0.18, 0.12]) * 65535
        frame[HORIZON + 4 :, 1::2] = np.array([0.12, 0.24, 0.40]) * 65535
    if "10" not in source_fmt:
        frames = [(f // 257).astype(np.uint8) for f in frames]
    source = write_clip(tmp_path / f"src{ending}", frames, codec=codec, pix_fmt=source_fmt)
    assert read_clip(source)[1]["info"].full_chroma == written.startswith("yuv444p")
    out = tmp_path / f"out{ending}"
    assert main(["replace", str(source), "-o", str(out), "--quiet"]) == 0
    assert _stream_facts(out)["pix_fmt"] == written
    edited = read_clip(out)[0][1]
    ground = edited[HORIZON + 8 :, 8:-8].astype(float) / (65535 if "10" in written else 255)
    stripes = np.abs(ground[:, 1:, 0] - ground[:, :-1, 0]).mean()  # red, column to column
    if written.startswith("yuv420p"):
        assert stripes < 0.1
    else:
        assert stripes > 0.2  # the stripes kept: colour at every pixel


def rocket_pan(frames: int = 4) -> list[np.ndarray]:
    """8-bit frames: 240x160 windows over the bottom of the sample photo shrunk to 360 px wide
    (a dusk sky down to the horizon behind launch towers), 4 px further right each frame."""
    from PIL import Image

    from skyseg_core.resources import assets_dir

    photo = Image.open(assets_dir() / "samples" / "rocket.jpg").convert("RGB")
    photo = np.asarray(photo.resize((360, round(360 * photo.height / photo.width))))
    return [np.ascontiguousarray(photo[-160:, 4 * i : 4 * i + 240]) for i in range(frames)]


def _mattes(clip: Path, folder: Path) -> list[np.ndarray]:
    from PIL import Image

    assert main(["mask", str(clip), "--out-dir", str(folder), "--quiet"]) == 0
    return [np.asarray(Image.open(p)) for p in sorted((folder / clip.stem).glob("*.png"))]


@pytest.mark.parametrize("transfer", ["pq", "hlg"])
def test_an_hdr_clips_sky_is_found_as_in_the_same_sdr_clip(transfer, tmp_path):
    """The methods see an HDR frame as the SDR picture it shows (their own kind of photo): the
    mattes of a clip and of the same clip put into PQ or HLG (by colour-science) agree."""
    frames = rocket_pan()
    sdr = write_clip(
        tmp_path / "sdr.mp4", [f.astype(np.uint16) * 257 for f in frames], pix_fmt="yuv420p10le"
    )
    hdr_frames = [
        np.round(reference_signal(f / 255.0, transfer) * 65535).astype(np.uint16) for f in frames
    ]
    hdr = write_clip(
        tmp_path / f"{transfer}.mp4", hdr_frames, pix_fmt="yuv420p10le", colour=TAGS[transfer]
    )
    want, got = _mattes(sdr, tmp_path / "a"), _mattes(hdr, tmp_path / "b")
    assert len(got) == len(frames) and np.mean([m.mean() for m in want]) > 60  # sky found
    flips = np.mean([((a >= 128) != (b >= 128)).mean() for a, b in zip(got, want, strict=True)])
    assert flips < 0.015  # 0.006 / 0.004 measured; the codes as they are: 0.036 / 0.011
