"""Photo metadata (EXIF, XMP, ICC profile): the names of :mod:`skyseg_core.io.metadata`,
:mod:`skyseg_core.io.exif` and :mod:`skyseg_core.io.profiles`, where the code lives, kept
importable from here for plug-ins and callers of ``skyseg_core.metadata``."""

from .io.exif import clean_exif, upright_xmp
from .io.metadata import (
    EMPTY,
    PhotoMetadata,
    fitted,
    png_with_metadata,
    read_metadata,
    tiff_with_metadata,
)
from .io.profiles import (
    MAX_PROFILE_BYTES,
    convert_profile,
    is_valid_profile,
    profile_name,
    profile_problem,
    to_profile,
    to_srgb,
)

__all__ = [
    "EMPTY",
    "MAX_PROFILE_BYTES",
    "PhotoMetadata",
    "clean_exif",
    "convert_profile",
    "fitted",
    "is_valid_profile",
    "png_with_metadata",
    "profile_name",
    "profile_problem",
    "read_metadata",
    "tiff_with_metadata",
    "to_profile",
    "to_srgb",
    "upright_xmp",
]
