"""The editor's one door to the effects API (``skyseg_core.effects``, ``skygen``, ``ora``).

Imported lazily, so the editor starts (and segments, and brushes) even where the effects
modules are missing; calling an effect then raises :class:`EffectsUnavailableError`, which the
window shows as a dialog. The editor implements no effect itself.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from skyseg_core.errors import SkysegError
from skyseg_core.resources import assets_dir

ASSETS = assets_dir()
SKY_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")


class EffectsUnavailableError(SkysegError):
    """The effects part of skyseg_core is not installed in this environment."""

    exit_code = 1


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"skyseg_core.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"skyseg_core.{name}", "skyseg_core"):
            raise
        raise EffectsUnavailableError(f"skyseg_core.{name} is not available in this installation") from None


def _attr(module: str, name: str):
    try:
        return getattr(_module(module), name)
    except AttributeError:
        raise EffectsUnavailableError(f"skyseg_core.{module}.{name} is not available in this installation") from None


def available() -> bool:
    """Whether sky replacement, tint and relight can run here."""
    try:
        _attr("effects", "replace_sky")
        _attr("skygen", "load_sky")
    except EffectsUnavailableError:
        return False
    return True


def replace_sky(image, matte, sky, **params):
    return _attr("effects", "replace_sky")(image, matte, sky, **params)


def tint_sky(image, matte, **params):
    return _attr("effects", "tint_sky")(image, matte, **params)


def relight(image, matte, target, **params):
    return _attr("effects", "relight")(image, matte, target, **params)


def replace_sky_layers(image, matte, sky, **params):
    return _attr("effects", "replace_sky_layers")(image, matte, sky, **params)


def tint_sky_layers(image, matte, **params):
    return _attr("effects", "tint_sky_layers")(image, matte, **params)


def relight_layers(image, matte, target, **params):
    return _attr("effects", "relight_layers")(image, matte, target, **params)


def ora_layer(name, pixels, **options):
    return _attr("ora", "Layer")(name, pixels, **options)


def blend_modes() -> tuple[str, ...]:
    try:
        return tuple(_attr("effects", "BLEND_MODES"))
    except EffectsUnavailableError:
        return ("normal", "multiply", "screen", "overlay", "soft_light", "color")


def load_sky(name_or_path):
    """A sky by preset name, bundled asset or file path (``skygen.load_sky``); where the sky
    generator is missing, a file path is still read with ``skyseg_core.io.load_image``."""
    try:
        loader = _attr("skygen", "load_sky")
    except EffectsUnavailableError:
        if not Path(str(name_or_path)).suffix:
            raise
        from skyseg_core.io import load_image

        return load_image(name_or_path)
    return loader(str(name_or_path))


def sky_presets() -> tuple[str, ...]:
    try:
        return tuple(_attr("skygen", "SKY_PRESETS"))
    except EffectsUnavailableError:
        return ()


def bundled_skies() -> list[Path]:
    """The sky images shipped in ``assets/skies`` (sorted)."""
    folder = ASSETS / "skies"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SKY_SUFFIXES and p.is_file())


def write_ora(path, layers, size, overwrite=False, merged=None):
    return _attr("ora", "write_ora")(path, layers, size, overwrite=overwrite, merged=merged)
