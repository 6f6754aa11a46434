"""The input images of a run: files given by name, and the images of folders given (sorted,
optionally recursive, hidden and output folders and links to folders not entered).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..errors import InputError
from .paths import path_kind
from .raw import RAW_SUFFIXES

IMAGE_SUFFIXES = (
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".webp",
    ".bmp",
    ".gif",
    ".ppm",
    ".pgm",
    ".pnm",
    *RAW_SUFFIXES,
)
"""File suffixes collected when a folder is given as input (a file given by name is read by
its content, whatever it is called)."""


def expand_inputs(inputs: list[str | os.PathLike], recursive: bool = False) -> list[Path]:
    """Expand files and folders (their images, sorted) into a list of paths.

    With ``recursive``, sub-folders are read too (see :func:`walk_inputs`). A missing or
    unreadable path, and a folder without images, is kept, so the caller reports it as a
    failed input in order.
    """
    return [entry.path for entry in walk_inputs(inputs, recursive)]


class InputEntry(NamedTuple):
    """One input of a run: an image file, or a path to report as failed in its place."""

    path: Path
    folder: Path = Path()
    """The sub-folder it was found in, relative to the folder given (``Path()`` for a file given
    directly)."""
    error: InputError | None = None
    """Why this path gives no image when the loader could not tell (a folder that cannot be
    listed); None otherwise."""


def walk_inputs(
    inputs: list[str | os.PathLike],
    recursive: bool = False,
    skip: tuple[str | os.PathLike, ...] = (),
) -> list[InputEntry]:
    """Each input image as an :class:`InputEntry`, in order.

    Files given directly are their own entry. Folders give their images sorted by name, then
    (with ``recursive``) each sub-folder's, depth first in name order; hidden folders
    (``.name``), folders in ``skip`` (an output folder inside the tree) and links to folders
    are not entered, so a link loop cannot recur. A missing path and a folder without images
    are kept as one entry so the caller reports them in order; a path that cannot be looked
    at and a folder or sub-folder that cannot be listed are kept with their ``error``.
    """
    skipped = {os.path.realpath(p) for p in skip}
    entries: list[InputEntry] = []
    for item in inputs:
        item = Path(item)
        try:
            is_folder = path_kind(item) == "folder"
        except InputError as exc:
            entries.append(InputEntry(item, error=exc))
            continue
        found = _folder_images(item, recursive, skipped) if is_folder else []
        entries.extend(found or [InputEntry(item)])
    return entries


def _folder_images(folder: Path, recursive: bool, skipped: set[str]) -> list[InputEntry]:
    found: list[InputEntry] = []

    def unreadable(exc: OSError) -> None:  # os.walk's report of a folder it cannot list
        where = Path(exc.filename) if exc.filename else folder
        found.append(
            InputEntry(
                where,
                error=InputError(
                    f"cannot read the folder ({exc.strerror or exc}); its photos are left out",
                    where,
                ),
            )
        )

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = (
            sorted(
                d
                for d in dirs
                if not d.startswith(".") and os.path.realpath(os.path.join(root, d)) not in skipped
            )
            if recursive
            else []
        )
        rel = Path(root).relative_to(folder)
        for name in sorted(files):
            path = Path(root) / name
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                if path_kind(path) == "file":
                    found.append(InputEntry(path, rel))
            except InputError as exc:
                found.append(InputEntry(path, rel, exc))
    return found


def subfolders(folder: str | os.PathLike) -> list[Path]:
    """The visible sub-folders of ``folder`` (none if it is no readable folder)."""
    try:
        return sorted(
            p for p in Path(folder).iterdir() if not p.name.startswith(".") and p.is_dir()
        )
    except OSError:
        return []
