"""Where the editor's skies come from: ``skyseg_core.skygen`` (presets, bundled files, any file).

The editor implements no effect itself: it renders through :mod:`skyseg_core.pipeline` (see
:mod:`.pipeline`) with the parameters declared in :mod:`skyseg_core.effects.params`.
"""

from __future__ import annotations

from pathlib import Path

from skyseg_core.skygen import SKIES_DIR, SKY_PRESETS, SKY_SUFFIXES, sky_files
from skyseg_core.skygen import load_sky as _load_sky

__all__ = ["SKY_SUFFIXES", "bundled_skies", "load_sky", "sky_presets"]


def load_sky(name_or_path):
    """A sky by preset name, bundled asset or file path (``skygen.load_sky``)."""
    return _load_sky(str(name_or_path))


def sky_presets() -> tuple[str, ...]:
    return tuple(SKY_PRESETS)


def bundled_skies() -> list[Path]:
    """The sky images shipped in ``assets/skies`` (sorted)."""
    return sky_files(SKIES_DIR) if Path(SKIES_DIR).is_dir() else []
