"""Camera RAW photos: the names of :mod:`skyseg_core.io.raw`, where the code lives, kept
importable from here for callers of ``skyseg_core.raw``."""

from .io.raw import (
    DEVELOPMENT,
    RAW_SUFFIXES,
    Development,
    develop_raw,
    is_raw,
    is_raw_file,
    might_be_raw,
    raw_exif,
    raw_flip,
    raw_kind,
)

__all__ = [
    "DEVELOPMENT",
    "RAW_SUFFIXES",
    "Development",
    "develop_raw",
    "is_raw",
    "is_raw_file",
    "might_be_raw",
    "raw_exif",
    "raw_flip",
    "raw_kind",
]
