"""skyseg: find the sky in photographs and use it.

Every method turns an RGB image into a float32 sky matte in [0, 1] at the image's size.
"""

from .errors import (
    ImageTooLargeError,
    InputError,
    MatteError,
    ModelFileError,
    OutputError,
    SkysegError,
    UnknownMethodError,
)
from .io import load_image, load_matte, save_image, save_matte
from .matte import check_matte, to_float_rgb
from .methods import get_method, list_methods
from .refine import refine
from .segment import segment

__version__ = "0.1.0"

__all__ = [
    "ImageTooLargeError",
    "InputError",
    "MatteError",
    "ModelFileError",
    "OutputError",
    "SkysegError",
    "UnknownMethodError",
    "check_matte",
    "get_method",
    "list_methods",
    "load_image",
    "load_matte",
    "refine",
    "save_image",
    "save_matte",
    "segment",
    "to_float_rgb",
]
