"""Camera RAW photos: the names of :mod:`skyseg_core.io.raw`, where the code lives, kept
importable from here for callers of ``skyseg_core.raw``."""

from .io.raw import DEVELOPMENT as DEVELOPMENT
from .io.raw import RAW_SUFFIXES as RAW_SUFFIXES
from .io.raw import Development as Development
from .io.raw import develop_raw as develop_raw
from .io.raw import is_raw as is_raw
from .io.raw import is_raw_file as is_raw_file
from .io.raw import might_be_raw as might_be_raw
from .io.raw import raw_exif as raw_exif
from .io.raw import raw_flip as raw_flip
from .io.raw import raw_kind as raw_kind
