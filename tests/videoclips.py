"""Test clips: a camera panning over a real photo of ../shared/data/skyseg.

Each frame is a crop window of the photo moved by a known step per frame, so the camera's
motion is known exactly and the truth of every frame is the crop of the photo's mask (255 sky,
0 not sky, 128 ignore). Used by tests/test_video.py and benchmarks/bench_video.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SKYSEG_DATA = ROOT.parent / "shared" / "data" / "skyseg"
PAN_PHOTO = "ade20k_skyopt_cvprw2020/images/ADE_train_00000559.jpg"
"""A wide photo (640x318) with a mountain skyline under a cloudy sky: 39 % sky."""


@dataclass
class Pan:
    frames: list[np.ndarray]
    """RGB uint8 (h, w, 3) each."""
    truth: list[np.ndarray]
    """uint8 masks, 255 sky, 0 not sky, 128 ignore."""
    step: tuple[float, float]
    """Camera motion per frame in pixels (x, y): the scene moves by minus this."""
    origins: list[tuple[int, int]]


def load_pair(relative: str = PAN_PHOTO, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The photo (RGB uint8) and its mask, resized by ``scale`` (mask by nearest neighbour)."""
    import cv2
    from PIL import Image

    path = SKYSEG_DATA / relative
    image = np.asarray(Image.open(path).convert("RGB"))
    mask = np.asarray(Image.open(str(path).replace("/images/", "/masks/")[:-4] + ".png"))
    if scale != 1.0:
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    return image, mask


def pan(
    size: tuple[int, int] = (160, 120),
    step: tuple[int, int] = (6, 0),
    frames: int = 16,
    relative: str = PAN_PHOTO,
    scale: float = 1.0,
    start: tuple[int, int] | None = None,
) -> Pan:
    """A pan of ``frames`` crop windows of ``size`` (w, h), moved by ``step`` (whole pixels)
    per frame; starts at ``start`` (default: the left edge, centred vertically)."""
    image, mask = load_pair(relative, scale)
    w, h = size
    H, W = mask.shape
    if start is None:  # the left edge; the sky border 40 % down the frame, mid-pan
        rows = np.flatnonzero((mask == 255).any(axis=1))
        border = int(np.median(np.argmax((mask[::-1] == 255), axis=0))) if rows.size else H // 2
        border = H - 1 - border  # the lowest sky row of a typical column
        mid = border - int(0.4 * h) - (step[1] * (frames - 1)) // 2
        start = (0, int(np.clip(mid, 0, H - h - max(0, step[1]) * (frames - 1))))
    x0, y0 = start
    out, truth, origins = [], [], []
    for i in range(frames):
        x, y = x0 + step[0] * i, y0 + step[1] * i
        if not (0 <= x and x + w <= W and 0 <= y and y + h <= H):
            raise ValueError(f"frame {i} at ({x}, {y}) leaves the {W}x{H} photo")
        out.append(np.ascontiguousarray(image[y : y + h, x : x + w]))
        truth.append(np.ascontiguousarray(mask[y : y + h, x : x + w]))
        origins.append((x, y))
    return Pan(out, truth, (float(step[0]), float(step[1])), origins)


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    rate: int = 25,
    audio: bool = False,
    rotation: int = 0,
    crf: int = 12,
    faststart: bool = False,
    first_pts: int = 0,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    colour: dict | None = None,
) -> Path:
    """Encode ``frames`` (RGB uint8, or uint16 for a 10-bit ``pix_fmt``) as H.264 (mp4, mov,
    mkv) with a sine tone when ``audio`` and a display rotation tag (``rotation``: the stored frames are the given ones); the first
    frame's timestamp is ``first_pts`` frame durations after zero. ``colour``: the colour tags
    (FFmpeg's ``color_primaries``, ``color_trc``, ``colorspace`` numbers; BT.709 by default),
    the frames converted with that matrix."""
    import av

    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        h, w = frames[0].shape[:2]
        options = {"crf": str(crf)} if codec in ("libx264", "libx265", "libvpx-vp9") else {}
        if codec == "libx265":
            options["x265-params"] = "log-level=none"
        if codec == "libvpx-vp9":
            options.update({"b": "0", "deadline": "realtime", "cpu-used": "8"})
        video = out.add_stream(codec, rate=rate, options=options)
        video.width, video.height, video.pix_fmt = w, h, pix_fmt
        tags = {"colorspace": 1, "color_primaries": 1, "color_trc": 1, **(colour or {})}
        for key, value in tags.items():  # to be carried over (BT.709 unless given)
            setattr(video.codec_context, key, value)
        video.codec_context.color_range = 1
        matrix = 9 if tags["colorspace"] in (9, 10) else 1  # swscale's BT.2020 or BT.709
        if rotation:
            video.set_display_rotation(float(rotation))
        sound = out.add_stream("aac", rate=48000) if audio else None
        for i, rgb in enumerate(frames):
            rgb_format = "rgb48le" if rgb.dtype == np.uint16 else "rgb24"
            frame = av.VideoFrame.from_ndarray(rgb, format=rgb_format)
            full = pix_fmt.startswith("yuvj")
            frame = frame.reformat(
                format=pix_fmt, dst_colorspace=matrix, dst_color_range=2 if full else 1
            )
            frame.pts = first_pts + i
            frame.time_base = Fraction(1, rate)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            samples = int(48000 * len(frames) / rate)
            t = np.arange(samples) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for k in range(0, samples, 1024):
                chunk = tone[None, k : k + 1024]
                af = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(chunk), format="fltp", layout="mono"
                )
                af.sample_rate = 48000
                af.pts = k
                out.mux(sound.encode(af))
            out.mux(sound.encode(None))
    return path


def read_clip(path: Path) -> tuple[list[np.ndarray], dict]:
    """Every frame (RGB uint8, displayed orientation) and the stream's facts."""
    from skyseg_core.video import VideoReader

    with VideoReader(path) as clip:
        frames = [frame for _, frame in clip]
        info = clip.info
        pts = list(clip.pts)
    return frames, {"info": info, "pts": pts}


def audio_packets(path: Path) -> list[bytes]:
    import av

    with av.open(str(path)) as c:
        if not c.streams.audio:
            return []
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def flips(a: np.ndarray, b: np.ndarray, shift: tuple[int, int]) -> float:
    """Share of the overlap whose sky decision (>= 0.5) differs between consecutive mattes
    ``a`` then ``b`` after undoing the camera's move ``shift`` (x, y) between them."""
    dx, dy = shift
    h, w = a.shape
    # scene point at a[y, x] is at b[y - dy, x - dx]
    a_part = a[max(0, dy) : h + min(0, dy), max(0, dx) : w + min(0, dx)]
    b_part = b[max(0, -dy) : h + min(0, -dy), max(0, -dx) : w + min(0, -dx)]
    return float(np.mean((a_part >= 0.5) != (b_part >= 0.5)))


def iou(matte: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """(intersection, union) of the sky decision with the mask, ignore pixels left out."""
    keep = truth != 128
    pred = (matte >= 0.5) & keep
    sky = (truth == 255) & keep
    return int((pred & sky).sum()), int((pred | sky).sum())


def micro_iou(mattes, truths) -> float:
    """IoU with every frame's pixels pooled."""
    inter = union = 0
    for matte, truth in zip(mattes, truths, strict=True):
        i, u = iou(matte, truth)
        inter, union = inter + i, union + u
    return inter / max(union, 1)


def pan_scores(mattes, truths, shift: tuple[int, int]) -> tuple[float, float]:
    """A pan's mean flips between consecutive aligned mattes and its pooled IoU."""
    flipped = np.mean([flips(a, b, shift) for a, b in zip(mattes, mattes[1:], strict=False)])
    return float(flipped), micro_iou(mattes, truths)
