"""The sky library: the bundled skies and the user's own, kept across sessions.

The user's skies are files and folders (a folder lists the sky images in it, as
``skyseg replace --sky DIR`` does). The list is kept in ``skies.json`` in the editor's config
folder and the thumbnails are made once and cached as PNGs, both in the platform's folders
(:class:`QStandardPaths`: ``~/.config/skyseg-editor`` and ``~/.cache/skyseg-editor`` on Linux,
``XDG_CONFIG_HOME``/``XDG_CACHE_HOME`` honoured). No widget here: the sky panel shows it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, QStandardPaths, pyqtSignal

from skyseg_core.io import write_bytes_atomic
from skyseg_core.skygen import SKIES_DIR, SKY_PRESETS, SKY_SUFFIXES, sky_files

FOLDER_NAME = "skyseg-editor"
THUMBNAIL_SIZE = 192
"""Longer side of a cached thumbnail, in pixels (the grid shows them at up to 136 x 85)."""


def config_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base) / FOLDER_NAME


def cache_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericCacheLocation)
    return Path(base) / FOLDER_NAME


@dataclass(frozen=True)
class SkyEntry:
    """One sky of the library: ``source`` is what ``skyseg_core.skygen.load_sky`` and
    ``ReplaceParams.sky`` take (a file path, or a bundled/preset name)."""

    source: str
    label: str
    own: bool  # the user's (can be removed), not bundled


def is_sky_file(path: Path) -> bool:
    return path.suffix.lower() in SKY_SUFFIXES and path.is_file()


class SkyLibrary(QObject):
    """The skies offered: bundled ones first, then the user's files and folders."""

    changed = pyqtSignal()

    def __init__(
        self, config: Path | None = None, cache: Path | None = None, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.file = (config or config_dir()) / "skies.json"
        self.cache = (cache or cache_dir()) / "thumbnails"
        self.files: list[str] = []
        self.folders: list[str] = []
        self.names: dict[str, str] = {}
        """Source -> the name the user gave it (the file's own name otherwise)."""
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return  # no library yet, or an unreadable one: start with the bundled skies
        self.files = [str(p) for p in data.get("files", []) if isinstance(p, str)]
        self.folders = [str(p) for p in data.get("folders", []) if isinstance(p, str)]
        names = data.get("names", {})
        if isinstance(names, dict):
            self.names = {str(k): v for k, v in names.items() if isinstance(v, str) and v.strip()}

    def save(self) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "files": self.files, "folders": self.folders, "names": self.names}
        text = json.dumps(data, indent=1)
        write_bytes_atomic(self.file, lambda fh: fh.write(text.encode()), overwrite=True)

    def entries(self) -> list[SkyEntry]:
        """Every sky, in order: bundled (or the presets where no files are bundled), the
        user's files, then each folder's skies. Missing files and folders are left out."""
        bundled = sky_files(SKIES_DIR) if Path(SKIES_DIR).is_dir() else []
        out = [SkyEntry(p.stem, p.stem.replace("_", " "), False) for p in bundled] or [
            SkyEntry(name, name.replace("_", " "), False) for name in SKY_PRESETS
        ]
        seen = {e.source for e in out}
        own = [Path(f) for f in self.files if is_sky_file(Path(f))]
        for folder in self.folders:
            if Path(folder).is_dir():
                own += sky_files(folder)
        for path in own:
            if str(path) not in seen:
                seen.add(str(path))
                out.append(SkyEntry(str(path), path.stem.replace("_", " "), True))
        out = [
            SkyEntry(e.source, self.names[e.source], e.own) if e.source in self.names else e
            for e in out
        ]
        return _distinct_labels(out)

    def rename(self, source: str, label: str) -> None:
        """Give a sky a name of the user's (an empty one gives it its file's name back)."""
        label = " ".join(label.split())
        if label:
            self.names[source] = label
        else:
            self.names.pop(source, None)
        self.save()
        self.changed.emit()

    def sources(self) -> list[str]:
        return [e.source for e in self.entries()]

    def add(self, paths) -> list[str]:
        """Add sky files and folders; returns the sky sources they bring, in order (a folder:
        its skies). Anything else is ignored."""
        brought: list[str] = []
        for path in map(Path, paths):
            path = path.resolve()
            if path.is_dir():
                found = sky_files(path)
                if found and str(path) not in self.folders:
                    self.folders.append(str(path))
                brought += [str(p) for p in found]
            elif is_sky_file(path):
                if str(path) not in self.files and not any(
                    str(path.parent) == f for f in self.folders
                ):
                    self.files.append(str(path))
                brought.append(str(path))
        if brought:
            self.save()
            self.changed.emit()
        return brought

    def remove(self, source: str) -> None:
        """Take a file (or the folder it came from) off the library; the file stays on disk."""
        if source in self.files:
            self.files.remove(source)
        else:
            parent = str(Path(source).parent)
            if parent in self.folders:
                self.folders.remove(parent)
        self.save()
        self.changed.emit()

    def thumbnail_path(self, source: str) -> Path:
        """Where the cached thumbnail of ``source`` lives (new when the file changes)."""
        key = f"{source}|{THUMBNAIL_SIZE}"
        path = Path(source)
        if path.is_file():
            stat = path.stat()
            key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{THUMBNAIL_SIZE}"
        return self.cache / f"{hashlib.sha1(key.encode()).hexdigest()}.png"


def _distinct_labels(entries: list[SkyEntry]) -> list[SkyEntry]:
    """Entries whose labels are shared get their folder's name added ("dawn (trip)")."""
    count: dict[str, int] = {}
    for e in entries:
        count[e.label] = count.get(e.label, 0) + 1
    out = []
    for e in entries:
        if count[e.label] > 1 and e.own:
            e = SkyEntry(e.source, f"{e.label} ({Path(e.source).parent.name})", e.own)
        out.append(e)
    return out


def same_source(a: str | None, b: str | None) -> bool:
    """Whether two sky sources name the same sky (paths compared resolved)."""
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
