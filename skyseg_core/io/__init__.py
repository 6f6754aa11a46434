"""Image and matte input/output: reading photos within bounds, writing atomically.

Loading applies EXIF orientation, brings greyscale, palette, alpha and CMYK images to RGB,
keeps 16-bit precision (uint16), and refuses images above a pixel limit before decoding them
(decompression bombs). Writing is atomic: a temporary file in the target folder, then a rename,
so a failed or interrupted write never leaves a partial file.

One module a role, each importing only those below it (no cycles; ``tests/test_import_graph.py``):

- :mod:`.profiles`: ICC profiles, pixels moved between a photo's profile and sRGB.
- :mod:`.paths`: what a path names (:func:`path_kind`), whether an output can be written there.
- :mod:`.formats`: what skyseg knows of file formats without decoding pixels (allowed decoders,
  magic bytes, TIFF, PNG and JPEG structure).
- :mod:`.bounds`: the bounds of reading (pixel limit, file size, structure and decoding work)
  and reading a file's bytes within them.
- :mod:`.exif`: EXIF and XMP blocks made ready for an upright new image.
- :mod:`.raw`: camera RAW photos (LibRaw), developed once.
- :mod:`.metadata`: EXIF, XMP and ICC read from the same bytes as the pixels, and written back.
- :mod:`.decode`: bytes to pixels (:func:`load_image`, :func:`decode_image`, :func:`load_matte`).
- :mod:`.atomic`: atomic writes, ``.part`` files, :func:`all_or_nothing`.
- :mod:`.encode`: pixels to bytes and files (:func:`encode_image`, :func:`save_image`,
  :func:`save_matte`).
- :mod:`.walk`: the input images of a run (files and folders).
"""

# private helpers that tests and other modules reach through this package are re-exported as
# ``from .x import _name as _name``
from .atomic import (
    NAME_MAX,
    all_or_nothing,
    atomic_output,
    remove_temporary_files,
    write_bytes_atomic,
    write_failure,
)
from .atomic import _publish as _publish
from .bounds import (
    BYTES_PER_PIXEL_MAX,
    DEFAULT_MAX_PIXELS,
    JPEG_SCAN_PIXELS,
    MAX_JPEG_SCANS,
    MAX_JPEG_SEGMENTS,
    MAX_PNG_CHUNKS,
    METADATA_SLACK,
    max_file_bytes,
    max_pixels_limit,
)
from .bounds import _quiet_stderr as _quiet_stderr
from .bounds import _read_bytes as _read_bytes
from .bounds import _without_pillow_limit as _without_pillow_limit
from .decode import _orient as _orient
from .decode import decode_image, load_image, load_image_with_metadata, load_matte
from .encode import (
    DEFAULT_QUALITY,
    MATTE_SUFFIXES,
    encode_image,
    matte_to_uint8,
    save_image,
    save_matte,
)
from .formats import READ_FORMATS
from .formats import _available_formats as _available_formats
from .formats import _first_ifd_tags as _first_ifd_tags
from .formats import _jpeg_segments as _jpeg_segments
from .metadata import PhotoMetadata, fitted, read_metadata
from .paths import NOT_REGULAR_FILE, check_output, path_kind, same_file
from .raw import RAW_SUFFIXES, develop_raw
from .walk import IMAGE_SUFFIXES, InputEntry, expand_inputs, subfolders, walk_inputs

__all__ = [
    "BYTES_PER_PIXEL_MAX",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_QUALITY",
    "IMAGE_SUFFIXES",
    "JPEG_SCAN_PIXELS",
    "MATTE_SUFFIXES",
    "MAX_JPEG_SCANS",
    "MAX_JPEG_SEGMENTS",
    "MAX_PNG_CHUNKS",
    "METADATA_SLACK",
    "NAME_MAX",
    "NOT_REGULAR_FILE",
    "RAW_SUFFIXES",
    "READ_FORMATS",
    "InputEntry",
    "PhotoMetadata",
    "all_or_nothing",
    "atomic_output",
    "check_output",
    "decode_image",
    "develop_raw",
    "encode_image",
    "expand_inputs",
    "fitted",
    "load_image",
    "load_image_with_metadata",
    "load_matte",
    "matte_to_uint8",
    "max_file_bytes",
    "max_pixels_limit",
    "path_kind",
    "read_metadata",
    "remove_temporary_files",
    "same_file",
    "save_image",
    "save_matte",
    "subfolders",
    "walk_inputs",
    "write_bytes_atomic",
    "write_failure",
]
