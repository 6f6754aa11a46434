"""Video clips and timelapse sequences through the one pipeline, frame by frame.

A clip (:class:`skyseg_core.video.VideoReader`) or a sequence (a folder's photos, sorted by
name) is a stream of frames; each frame gets its matte from the method (:func:`find_matte`),
steadied by the :class:`~skyseg_core.temporal.TemporalStage`, then the effect chain
(:func:`skyseg_core.pipeline.render`), with a new sky that moves with the camera
(:class:`~skyseg_core.skymotion.SkyMotion`) for ``replace``. Outputs are written all together
or not at all: a matte video or edited clip into one temporary file, a folder of PNG mattes or
a sequence's results as temporary files published together at the end.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .effects._common import LIGHT_FILTER
from .effects._transfer import SIGNAL, Signal, clip_signal
from .effects.params import EffectParams
from .pipeline import MatteSource, SkyCache, converted_skies, find_matte, render

FrameProgress = Callable[[int], None]
"""``progress(frames done)``, called after each frame."""


@dataclass
class FrameMattes:
    """Each frame's matte, in order: the method's, then the temporal stage (``temporal``)."""

    source: MatteSource = field(default_factory=MatteSource)
    temporal: bool = True
    max_pixels: int | None = None
    timings: dict = field(default_factory=lambda: {"matte": 0.0, "temporal": 0.0})

    def __post_init__(self) -> None:
        from .temporal import TemporalStage

        self.stage = TemporalStage() if self.temporal else None
        self.method = ""
        self.signal: Signal | None = None

    def use_signal_of(self, colour: dict) -> None:
        """Find the sky in frames with the clip's colour tags ``colour``: an HDR clip's frames
        are seen as SDR pictures (:meth:`~skyseg_core.effects._transfer.Signal.sdr_view`), the
        kind of photo the methods were made for; an SDR clip's as they are."""
        self.signal = clip_signal(colour)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        if self.signal is not None:
            frame = self.signal.sdr_view(frame)
        matte, self.method = find_matte(frame, self.source, max_pixels=self.max_pixels)
        t1 = time.perf_counter()
        self.timings["matte"] += t1 - t0
        if self.stage is not None:
            matte = self.stage(frame, matte)
            self.timings["temporal"] += time.perf_counter() - t1
        return matte


class FrameRenderer:
    """Each frame through the effect chain ``steps``; a ``replace`` step gets a sky that moves
    with the camera (``sky_motion="camera"``) or stays put (``"still"``, as for photos). A frame
    without sky is passed through unchanged (a clip keeps every frame). ``drift``: the new sky's
    own motion in pixels per frame (drifting clouds; with ``"camera"`` only). ``light_weight``:
    the foreground light (relight, colour match) is an exponential moving average over the
    frames with this share for the current one (:class:`~skyseg_core.temporal.LightSmoother`,
    reset at a cut); 1 works each frame's light on its own. What it carries from frame to frame
    (:meth:`snapshot`, :meth:`restore`) lets the editor's preview show a frame as this renders
    it in the clip."""

    def __init__(
        self,
        steps: Sequence[EffectParams],
        skies: Callable[[str], np.ndarray] | None = None,
        sky_motion: str = "camera",
        drift: tuple[float, float] = (0.0, 0.0),
        light_weight: float = 0.2,
    ):
        from .temporal import CutDetector, LightSmoother

        self.steps = list(steps)
        self.skies = skies or SkyCache()
        self.sdr_skies = self.skies  # as loaded (sRGB); an HDR clip's are converted
        self.motion = None
        self.light = LightSmoother(light_weight) if light_weight < 1.0 else None
        self.cuts = CutDetector()
        self.timings = {"render": 0.0, "motion": 0.0, "light": 0.0}
        self.signal: Signal | None = None
        self.no_sky = False
        """The last frame had no sky to work on (it was passed through unchanged)."""
        if sky_motion == "camera" and any(s.effect == "replace" for s in self.steps):
            from .skymotion import SkyMotion

            self.motion = SkyMotion(drift=drift)

    def use_signal_of(self, colour: dict) -> None:
        """Edit frames with the clip's colour tags ``colour``: an HDR clip (PQ, HLG) gets its
        skies and the effects' colours in its own signal (:mod:`skyseg_core.effects._transfer`);
        an SDR clip's frames are edited as before."""
        self.signal = clip_signal(colour)
        self.skies = self.sdr_skies
        if self.signal is not None:
            self.skies = converted_skies(self.sdr_skies, self.signal.sky)

    def snapshot(self) -> tuple:
        """What the next frame's rendering depends on: the camera's motion and the new sky's
        placement so far, the smoothed light, the cut detector's last frame (a copy)."""
        return copy.deepcopy((self.motion, self.light, self.cuts))

    def restore(self, snapshot: tuple) -> None:
        """Go back to a :meth:`snapshot` (the next frame is rendered as it was after it)."""
        self.motion, self.light, self.cuts = copy.deepcopy(snapshot)

    def __call__(self, frame: np.ndarray, matte: np.ndarray) -> np.ndarray:
        from .effects import NoSkyError

        steps, skies = self.steps, self.skies
        t0 = time.perf_counter()
        if self.motion is not None:
            steps, skies = self.motion.frame_steps(frame, matte, steps, skies)
        t1 = time.perf_counter()
        if self.light is not None and self.cuts(frame):
            self.light.reset()
        t2 = time.perf_counter()
        token = LIGHT_FILTER.set(self.light)
        signal_token = SIGNAL.set(self.signal)
        self.no_sky = False
        try:
            out = render(frame, matte, steps, skies).image
        except NoSkyError:
            out, self.no_sky = frame, True
        finally:
            SIGNAL.reset(signal_token)
            LIGHT_FILTER.reset(token)
        self.timings["motion"] += t1 - t0
        self.timings["light"] += t2 - t1
        self.timings["render"] += time.perf_counter() - t2
        return out


def frame_name(index: int) -> str:
    """``000001.png`` for the first frame (numbered from 1, six digits)."""
    return f"{index + 1:06d}.png"


def mask_clip_to_folder(
    source: str | os.PathLike,
    folder: Path,
    mattes: FrameMattes,
    overwrite: bool = False,
    max_pixels: int | None = None,
    progress: FrameProgress | None = None,
) -> dict:
    """Write the clip's mattes as ``folder/000001.png ...``, all or nothing (the folder is made
    if missing, and removed again if the run fails and it is still empty)."""
    from .io import all_or_nothing, save_matte
    from .video import VideoReader

    made = _make_folder(folder)
    try:
        with VideoReader(source, max_pixels) as clip, all_or_nothing():
            mattes.use_signal_of(clip.info.colour)
            shares = []
            for index, frame in clip:
                matte = mattes(frame)
                shares.append(float(matte.mean()))
                save_matte(folder / frame_name(index), matte, overwrite=overwrite, source=source)
                if progress:
                    progress(index + 1)
    except BaseException:
        if made:
            _remove_if_empty(folder)
        raise
    return _report(folder, clip.info, len(shares), mattes.method, shares)


def mask_clip_to_video(
    source: str | os.PathLike,
    output: Path,
    mattes: FrameMattes,
    crf: int | None = None,
    overwrite: bool = False,
    max_pixels: int | None = None,
    progress: FrameProgress | None = None,
) -> dict:
    """Write the clip's mattes as a grey video (lossless unless ``crf``), same frame timing."""
    from .video import MATTE_CRF

    crf = MATTE_CRF if crf is None else crf
    return _clip_to_video(
        source,
        output,
        mattes,
        lambda frame, matte: matte,
        crf,
        True,
        overwrite,
        max_pixels,
        progress,
    )


def render_clip(
    source: str | os.PathLike,
    output: Path,
    mattes: FrameMattes,
    renderer: FrameRenderer,
    crf: int | None = None,
    overwrite: bool = False,
    max_pixels: int | None = None,
    progress: FrameProgress | None = None,
) -> dict:
    """Write the edited clip: every frame through ``renderer``, the audio copied untouched,
    frame timing, rotation and colour tags kept."""
    from .video import DEFAULT_CRF

    crf = DEFAULT_CRF if crf is None else crf
    return _clip_to_video(
        source,
        output,
        mattes,
        renderer,
        crf,
        False,
        overwrite,
        max_pixels,
        progress,
        renderer.use_signal_of,
    )


def _clip_to_video(
    source: str | os.PathLike,
    output: Path,
    mattes: FrameMattes,
    frame_out: Callable[[np.ndarray, np.ndarray], np.ndarray],
    crf: int,
    matte_only: bool,
    overwrite: bool,
    max_pixels: int | None,
    progress: FrameProgress | None,
    colour_tags: Callable[[dict], None] | None = None,
) -> dict:
    """The one loop of :func:`mask_clip_to_video` and :func:`render_clip`: each frame's matte,
    ``frame_out(frame, matte)`` written with the frame's timing (a matte video takes no audio
    from the source), and the report. ``colour_tags`` is told the clip's colour tags first."""
    from .video import VideoReader, VideoWriter

    with VideoReader(source, max_pixels) as clip:
        mattes.use_signal_of(clip.info.colour)
        if colour_tags is not None:
            colour_tags(clip.info.colour)
        shares = []
        with VideoWriter(
            output, clip.info, None if matte_only else clip, crf, matte_only, overwrite
        ) as out:
            for index, frame in clip:
                matte = mattes(frame)
                shares.append(float(matte.mean()))
                out.write(frame_out(frame, matte), clip.pts[index], clip.durations[index])
                if progress:
                    progress(index + 1)
    return _report(output, clip.info, len(shares), mattes.method, shares)


def sequence_photos(folder: str | os.PathLike) -> list[Path]:
    """A timelapse folder's photos, sorted by name (hidden files and sub-folders left out)."""
    from .errors import InputError
    from .io import walk_inputs

    entries = walk_inputs([folder])
    photos = [e.path for e in entries if e.error is None and e.path != Path(folder)]
    if not photos:
        raise InputError("no photos in this folder", folder)
    return sorted(photos, key=lambda p: p.name)


def run_sequence(
    photos: Sequence[Path],
    outputs: Sequence[Path],
    mattes: FrameMattes,
    renderer: FrameRenderer | None = None,
    overwrite: bool = False,
    quality: int | None = None,
    max_pixels: int | None = None,
    progress: FrameProgress | None = None,
) -> dict:
    """A timelapse: ``photos[i]`` -> ``outputs[i]`` (the matte PNG without ``renderer``, else the
    edited photo with its metadata), all outputs published together at the end."""
    from .io import all_or_nothing, check_output, load_image_with_metadata, save_image, save_matte

    for photo, out in zip(photos, outputs, strict=True):
        check_output(out, overwrite=overwrite, source=photo)
    shares: list[float] = []
    first_shape: tuple[int, ...] = ()
    with all_or_nothing():
        for index, (photo, out) in enumerate(zip(photos, outputs, strict=True)):
            image, metadata = load_image_with_metadata(photo, max_pixels=max_pixels)
            if first_shape and image.shape[:2] != first_shape:
                from .errors import InputError

                raise InputError(
                    f"is {image.shape[1]}x{image.shape[0]}, the sequence's first photo "
                    f"{first_shape[1]}x{first_shape[0]}; a sequence's photos must match",
                    photo,
                )
            first_shape = image.shape[:2]
            matte = mattes(image)
            shares.append(float(matte.mean()))
            if renderer is None:
                save_matte(out, matte, overwrite=overwrite, source=photo)
            else:
                result = renderer(image, matte)
                save_image(
                    out,
                    result,
                    overwrite=overwrite,
                    source=photo,
                    quality=quality,
                    metadata=metadata,
                )
            if progress:
                progress(index + 1)
    return {
        "output": str(outputs[0].parent),
        "frames": len(shares),
        "method": mattes.method,
        "sky_fraction": round(float(np.mean(shares)), 4),
    }


def _report(output: Path, info, frames: int, method: str, shares: list[float]) -> dict:
    return {
        "output": str(output),
        "frames": frames,
        "rate": f"{info.rate.numerator}/{info.rate.denominator}",
        "method": method,
        "sky_fraction": round(float(np.mean(shares)) if shares else 0.0, 4),
    }


def _make_folder(folder: Path) -> bool:
    from .errors import OutputError
    from .io import path_kind

    kind = path_kind(folder, OutputError)
    if kind == "folder":
        return False
    if kind != "missing":
        raise OutputError("exists and is not a folder", folder)
    try:
        folder.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot make the folder ({exc.strerror or exc})", folder) from None
    return True


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


__all__ = [
    "FrameMattes",
    "FrameRenderer",
    "frame_name",
    "mask_clip_to_folder",
    "mask_clip_to_video",
    "render_clip",
    "run_sequence",
    "sequence_photos",
]
