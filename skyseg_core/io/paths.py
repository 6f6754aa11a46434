"""Path checks: what a path names (:func:`path_kind`), whether two name the same file, and
whether an output can be written at a path (:func:`check_output`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError, OutputError

NOT_REGULAR_FILE = "not a regular file (a pipe, socket or device)"
"""Why a FIFO, socket or device named as an image, matte or sky is refused (never read)."""


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (links and hard links included); False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def path_kind(
    path: str | os.PathLike, error: Callable[[str, object], Exception] = InputError
) -> str:
    """What ``path`` names, links followed: ``"folder"``, ``"file"`` (a regular file),
    ``"other"`` (a pipe, socket or device) or ``"missing"`` (nothing there, or a dangling link).

    The one way skyseg looks at a path it was given. ``Path.is_dir()``, ``is_file()`` and
    ``exists()`` raise ``PermissionError`` and ``OSError(ENAMETOOLONG)`` on Python 3.11 (a
    locked folder on the way, a name component over 255 bytes); here those, a symlink loop and a
    name no file system can hold raise ``error(message, path)`` (:class:`InputError`,
    :class:`OutputError`, :class:`ModelFileError`) naming the path and why, so the caller
    refuses that path alone.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except ValueError:  # a NUL byte, or a name the file system encoding cannot hold
        raise error("not a valid file name", path) from None
    except OSError as exc:
        raise error(f"cannot be looked at ({exc.strerror or exc})", path) from None
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def check_output(
    path: str | os.PathLike, overwrite: bool = False, source: str | os.PathLike | None = None
) -> Path:
    """Raise :class:`OutputError` now if ``path`` cannot take an output (before any work is done).

    Checks: not a folder, not the same file as ``source``, not existing unless ``overwrite``,
    and its folder exists. Writing can still fail later (full disk, permissions).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder_kind = path_kind(folder, OutputError)
    if path_kind(path, OutputError) == "folder":
        raise OutputError("is a folder; give a file name", path)
    if source is not None and same_file(path, source):
        raise OutputError("output would overwrite the input; choose another name or folder", path)
    if os.path.lexists(path) and not overwrite:
        raise OutputError("already exists (use --overwrite to replace it)", path)
    if folder_kind != "folder":
        raise OutputError(f"the output folder {folder} does not exist", path)
    return path
