"""The one path from a photo to a finished picture: photo -> matte -> a chain of effects -> result.

The command line, the worker and the editor all call these functions; none of them repeats a
step. :func:`load_photo` reads a photo file once (pixels and metadata from the same bytes) and
gives it its matte by :func:`find_matte` (a matte file, checked against the photo, or a method
with progress); :func:`render` runs a chain of effects (:mod:`skyseg_core.effects.params`) on
the pixels and, on request, builds the layers; :func:`write_rendered` renders a loaded photo and
writes the result, the layered file and the matte, all together or not at all, and
:func:`write_cutout` writes its RGBA cut-out (the registered ``cutout`` step, which a chain may
also end with). So every command is load -> matte -> steps ->
write: ``skyseg mask`` (no steps, the matte only), ``skyseg cutout``, each effect, and the
editor's three exports.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .declare import Declared, control
from .effects._common import layer_codes, matte_layers
from .effects.params import EffectParams
from .effects.registry import STEPS, effect_of
from .effects.steps.cutout import CutoutParams
from .errors import InputError, OutputError, SkysegError
from .ora import Layer

Progress = Callable[[float, str], None]
"""``progress(fraction 0..1, message)``."""


@dataclass(frozen=True)
class MatteSource(Declared):
    """Where a photo's matte comes from: a matte file (255 = sky) or a method.

    ``method`` and ``refine`` are declared here once: the command line's ``--method`` and
    ``--no-refine``, the worker's requests and the plug-ins' first controls are made from them.
    """

    method: str = control(
        "auto",
        "Method",
        "how the sky is found",
    )
    refine: bool = control(True, "Refine edges", "edge-aware refinement of the matte")
    file: str | os.PathLike | None = None
    """A matte file to use instead of a method (not a control: each surface asks for it)."""


def find_matte(
    image: np.ndarray,
    source: MatteSource = MatteSource(),
    max_pixels: int | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, str]:
    """The photo's sky matte and where it came from (the method's name, or ``"matte file"``).

    A matte file must have the photo's size. Raises :class:`InputError` otherwise.
    """
    if source.file is not None:
        from .io import load_matte

        matte = load_matte(source.file, max_pixels=max_pixels)
        if matte.shape != image.shape[:2]:
            raise InputError(
                f"matte is {matte.shape[1]}x{matte.shape[0]}, the photo "
                f"{image.shape[1]}x{image.shape[0]}; they must match",
                source.file,
            )
        return matte, "matte file"
    from .methods import resolve_name
    from .segment import segment

    method = resolve_name(source.method)
    return segment(image, method=method, refine=source.refine, progress=progress), method


class SkyCache:
    """Skies by name or file (:func:`skyseg_core.skygen.load_sky`), each loaded once."""

    def __init__(self, max_pixels: int | None = None):
        self.max_pixels = max_pixels
        self._skies: dict[str, np.ndarray] = {}
        self._failed: dict[str, SkysegError] = {}

    def __call__(self, name: str) -> np.ndarray:
        if name in self._failed:  # an unreadable sky is read once, not once per photo
            raise self._failed[name]
        if name not in self._skies:
            from .skygen import load_sky

            try:
                self._skies[name] = load_sky(name, max_pixels=self.max_pixels)
            except SkysegError as exc:
                self._failed[name] = exc
                raise
        return self._skies[name]

    def files(self, steps: Sequence[EffectParams]) -> tuple[Path, ...]:
        """The sky files ``steps`` read (never to be written over)."""
        names = [getattr(step, "sky", None) for step in steps]
        from .io import path_kind

        return tuple(Path(n) for n in names if n and path_kind(n) == "file")


@dataclass
class Rendered:
    """What :func:`render` made."""

    image: np.ndarray
    """The result, the photo's shape and dtype (RGBA after a cut-out step)."""
    layers: list | None = None
    """Bottom to top (:class:`skyseg_core.ora.Layer`) when asked for."""
    info: dict = field(default_factory=dict)


def render(
    image: np.ndarray,
    matte: np.ndarray,
    steps: Sequence[EffectParams],
    skies: Callable[[str], np.ndarray] | None = None,
    layers: bool = False,
) -> Rendered:
    """Apply a chain of effects to a photo with its matte.

    Parameters
    ----------
    image, matte
        The photo and its sky matte (see :mod:`skyseg_core.effects`).
    steps : sequence of ReplaceParams, TintParams, RelightParams
        Applied in order, each on the previous one's result, all with the same matte.
    skies : callable, optional
        ``skies(name) -> RGB array`` for the skies the steps name (default: a :class:`SkyCache`).
        The editor passes its preview-sized skies here.
    layers : bool
        Also build the layers: the original photo, each step's own layers, and the matte the
        first step used (hidden).

    Raises
    ------
    NoSkyError
        A replace or tint step found (almost) no sky to work on.
    InputError
        A step whose output is not RGB (the cut-out) before another step, or with ``layers``.
    """
    check_chain(steps, layers=layers)
    skies = skies or SkyCache()
    out = image
    stack: list | None = None
    matte_layer = None
    for step in steps:
        if not layers:
            out = _apply(step, out, matte, skies, with_layers=False)
            continue
        out, step_layers = _apply(step, out, matte, skies, with_layers=True)
        if stack is None:
            stack = step_layers[:1]  # the original photo, once
            matte_layer = step_layers[-1]
        stack += step_layers[1:-1]
    if layers:
        if stack is None:  # no steps: the photo and its matte
            base = layer_codes(image)
            stack, matte_layer = [Layer("original photo", base)], matte_layers(base, matte)[1]
        stack.append(matte_layer)
    return Rendered(out, stack, {"sky_fraction": sky_fraction(matte)})


ALPHA_SUFFIXES = (".png", ".tif", ".tiff", ".webp")
"""The output formats that hold an alpha channel (a cut-out's)."""


def check_chain(
    steps: Sequence[EffectParams | CutoutParams],
    layers: bool = False,
    output: str | os.PathLike | None = None,
) -> None:
    """Refuse, before any work, a chain no file can come of: a step whose output is RGBA (the
    cut-out) before another step or with ``layers``, or its RGBA ``output`` in a format
    without alpha (:class:`InputError`, :class:`OutputError`)."""
    for index, step in enumerate(steps):
        effect = effect_of(step)
        if effect.output == "rgb":
            continue
        if index != len(steps) - 1:
            raise InputError(f"{effect.name} makes a picture with transparency: it must be last")
        if layers:
            raise InputError(f"{effect.name} has no layers; write it as one RGBA image")
        if output is not None and Path(output).suffix.lower() not in ALPHA_SUFFIXES:
            raise OutputError(
                f"{effect.name}: a picture with transparency needs a .png, .tif or .webp name",
                output,
            )


def _apply(step: EffectParams, image: np.ndarray, matte: np.ndarray, skies, with_layers: bool):
    effect = effect_of(step)
    return (effect.run_layers if with_layers else effect.run)(image, matte, step, skies)


@dataclass
class Photo:
    """A photo file loaded for an effect: its pixels, matte and what it says about itself."""

    path: Path
    image: np.ndarray
    matte: np.ndarray
    method: str
    """Where the matte came from: the method's name or ``"matte file"``."""
    metadata: object = None
    """Its :class:`~skyseg_core.metadata.PhotoMetadata` (EXIF, XMP, ICC), written back with the result."""

    def take_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Hand over the image and the matte and let go of them here, so that a step that
        makes a new picture (the cut-out) holds the only references and can free them early."""
        pixels = self.image, self.matte
        self.image = self.matte = np.empty((0, 0), np.float32)
        return pixels


def load_photo(
    source: str | os.PathLike,
    matte_source: MatteSource = MatteSource(),
    outputs=(),
    overwrite: bool = False,
    max_pixels: int | None = None,
    progress: Progress | None = None,
) -> Photo:
    """A photo file, its metadata (read from the same bytes as its pixels) and its matte.

    ``outputs`` are checked first (:func:`skyseg_core.io.check_output`), so a run that could
    not write its results fails before any work.
    """
    from .io import check_output, load_image_with_metadata

    source = Path(source)
    for out in outputs:
        check_output(out, overwrite=overwrite, source=source)
    image, metadata = load_image_with_metadata(source, max_pixels=max_pixels)
    matte, method = find_matte(image, matte_source, max_pixels=max_pixels, progress=progress)
    return Photo(source, image, matte, method, metadata)


def skies_in_profile(skies: Callable[[str], np.ndarray], icc: bytes) -> Callable[[str], np.ndarray]:
    """``skies`` with each sky brought from sRGB into the photo's colour space (its ICC profile),
    so effects mix the photo's own values with a sky in the same space."""
    if not icc:
        return skies
    from .metadata import to_profile

    return converted_skies(skies, lambda sky: to_profile(sky, icc))


def converted_skies(
    skies: Callable[[str], np.ndarray], convert: Callable[[np.ndarray], np.ndarray]
) -> Callable[[str], np.ndarray]:
    """``skies`` with each sky passed through ``convert`` once, when first asked for (into a
    photo's ICC profile, :func:`skies_in_profile`; into an HDR clip's signal,
    :class:`skyseg_core.clips.FrameRenderer`)."""
    return functools.cache(lambda name: convert(skies(name)))


def write_rendered(
    photo: Photo,
    steps: Sequence[EffectParams],
    outputs: dict[str, Path],
    overwrite: bool = False,
    skies: Callable[[str], np.ndarray] | None = None,
    quality: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Render ``steps`` on a loaded photo and write what ``outputs`` asks for, all together or
    not at all.

    ``outputs``, any of: ``"output"`` (the result image; the photo's EXIF, XMP and ICC profile
    kept), ``"layers"`` (a layered .ora or .psd file), ``"matte"`` (the matte used, as a PNG).
    ``skies``: as for :func:`render` (brought into the photo's colour profile here).
    ``quality``: JPEG/WebP quality. ``progress(fraction, message)`` before each stage (render,
    each file) and at the end; an exception it raises (a cancelled job) stops the work and
    nothing is written. Returns a report (paths written, method, sky share). A photo without
    sky raises :class:`NoSkyError` naming it, and nothing is written.
    """
    from .effects import NoSkyError
    from .io import all_or_nothing, save_image, save_matte
    from .layered import write_layers

    check_chain(steps, layers="layers" in outputs, output=outputs.get("output"))
    say = progress or (lambda fraction, message: None)
    icc = getattr(photo.metadata, "icc_profile", b"")
    image, matte = photo.image, photo.matte
    report: dict = {"output": str(outputs["output"])} if "output" in outputs else {}
    report.update(method=photo.method, sky_fraction=sky_fraction(matte))
    rendered = None
    if "output" in outputs or "layers" in outputs:
        say(0.0, "Rendering the layers" if "layers" in outputs else "Rendering")
        try:
            rendered = render(
                image,
                matte,
                steps,
                skies_in_profile(skies or SkyCache(), icc),
                layers="layers" in outputs,
            )
        except NoSkyError as exc:
            raise NoSkyError(exc.share, photo.path, action=nothing_done(steps)) from None
    with all_or_nothing():
        if "output" in outputs:
            assert rendered is not None
            say(0.5, f"Writing {Path(outputs['output']).name}")
            save_image(
                outputs["output"],
                rendered.image,
                overwrite=overwrite,
                source=photo.path,
                quality=quality,
                metadata=photo.metadata,
            )
        if "layers" in outputs:
            assert rendered is not None and rendered.layers is not None  # layers=True made them
            say(0.5, f"Writing {Path(outputs['layers']).name}")
            write_layers(
                outputs["layers"],
                rendered.layers,
                (image.shape[1], image.shape[0]),
                overwrite=overwrite,
                merged=rendered.image,
                icc_profile=icc,
            )
            report["layers"] = str(outputs["layers"])
        if "matte" in outputs:
            say(0.9, f"Writing {Path(outputs['matte']).name}")
            save_matte(outputs["matte"], matte, overwrite=overwrite, source=photo.path)
            report["matte"] = str(outputs["matte"])
        say(1.0, "")
    return report


def write_cutout(
    photo: Photo,
    output: Path,
    overwrite: bool = False,
    quality: int | None = None,
    decontaminate: bool = True,
) -> dict:
    """Write the photo with its sky transparent (the registered ``cutout`` step,
    :func:`skyseg_core.cutout.cutout`: RGBA in the photo's bit depth; its EXIF, XMP and ICC
    profile kept) and report it as :func:`write_rendered` does (which also runs a chain that
    ends in a cut-out).

    The photo's pixels are taken from it (:meth:`Photo.take_pixels`) and let go before encoding:
    the encoder's buffers come on top of the cut-out alone.
    """
    from .io import save_image

    step = CutoutParams(decontaminate=decontaminate)
    check_chain([step], output=output)
    image, matte = photo.take_pixels()
    report = {"output": str(output), "method": photo.method, "sky_fraction": sky_fraction(matte)}
    rgba = effect_of(step).run(image, matte, step, None)
    del image, matte
    save_image(
        output,
        rgba,
        overwrite=overwrite,
        quality=quality,
        source=photo.path,
        metadata=photo.metadata,
    )
    return report


def sky_fraction(matte: np.ndarray) -> float:
    """The share of the photo that is sky, as every report gives it (4 decimals)."""
    return round(float(matte.mean()), 4)


def nothing_done(steps: Sequence[EffectParams]) -> str:
    """``"nothing tinted"``: what a chain whose first effect found no sky did."""
    return "nothing " + (STEPS[steps[0].effect].verb if steps else "changed")


__all__ = [
    "ALPHA_SUFFIXES",
    "MatteSource",
    "Photo",
    "Progress",
    "Rendered",
    "SkyCache",
    "check_chain",
    "find_matte",
    "load_photo",
    "nothing_done",
    "render",
    "sky_fraction",
    "write_cutout",
    "write_rendered",
]
