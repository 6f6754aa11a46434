"""Edit sessions: a small JSON file (``.skyedit``) that reopens an edit without exporting
anything: the photo's path, the method, the brush strokes, every declared setting, which
switched effects are on and the chosen sky. The matte is found again by the method on opening
and the strokes are replayed on it, so the file stays a few kilobytes.

No widget here: the window asks for the file, the controller opens the photo and restores.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from skyseg_core.errors import InputError
from skyseg_core.io import write_bytes_atomic

from .brush import Stroke
from .commands import param_class

FORMAT = "skyseg-edit/1"
SUFFIX = ".skyedit"


@dataclass
class Session:
    """What a session file holds (see the module)."""

    photo: Path
    method: str
    strokes: list[Stroke] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    """Parameter set name -> its declared parameters (unknown names in a file are left out)."""
    enabled: frozenset[str] = frozenset()
    sky: str | None = None


def of_model(model) -> Session:
    """The session of the edit ``model`` holds now."""
    sky = None if model.sky is None else model.sky.source
    return Session(
        Path(model.path), model.method, list(model.strokes), dict(model.edit.params),
        frozenset(model.edit.enabled), sky,
    )  # fmt: skip


def save(path: str | os.PathLike, session: Session) -> Path:
    """Write ``session`` as JSON (atomically); the photo's path is kept absolute and relative
    to the file, so a folder moved with its photos still opens."""
    path = Path(path)
    photo = session.photo.resolve()
    try:
        relative = os.path.relpath(photo, path.resolve().parent)
    except ValueError:  # another drive (Windows)
        relative = None
    data = {
        "format": FORMAT,
        "photo": str(photo),
        "photo_relative": relative,
        "method": session.method,
        "strokes": [dataclasses.asdict(s) for s in session.strokes],
        "params": {name: dataclasses.asdict(p) for name, p in session.params.items()},
        "enabled": sorted(session.enabled),
        "sky": session.sky,
    }
    text = json.dumps(data, indent=1)
    return write_bytes_atomic(path, lambda fh: fh.write(text.encode()), overwrite=True)


def load(path: str | os.PathLike) -> Session:
    """Read a session file; an :class:`InputError` names the file and what is wrong with it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the edit ({exc.strerror or exc})", path) from None
    except ValueError:
        raise InputError("not a skyseg edit (no JSON)", path) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"not a skyseg edit (format is not {FORMAT})", path)
    photo = Path(str(data.get("photo", "")))
    relative = data.get("photo_relative")
    if not photo.is_file() and isinstance(relative, str):
        photo = (path.parent / relative).resolve()
    try:
        strokes = [_stroke(s) for s in data.get("strokes", [])]
    except (TypeError, ValueError, KeyError):
        raise InputError("a brush stroke in the edit cannot be read", path) from None
    params = {}
    for name, values in (data.get("params") or {}).items():
        try:
            cls = param_class(name)
        except KeyError:
            continue  # an effect this skyseg does not have: left out
        params[name] = cls.from_dict(values)  # InputError names the field and its range
    enabled = frozenset(str(n) for n in data.get("enabled", []) if str(n) in params)
    sky = data.get("sky")
    return Session(
        photo, str(data.get("method", "auto")), strokes, params, enabled,
        sky if isinstance(sky, str) else None,
    )  # fmt: skip


def _stroke(values: dict) -> Stroke:
    points = tuple((float(x), float(y)) for x, y in values["points"])
    if not points:
        raise ValueError("a stroke without points")
    return Stroke(
        points,
        float(values["radius"]),
        float(values.get("hardness", 0.5)),
        bool(values.get("add", True)),
        bool(values.get("edge_aware", False)),
        float(values.get("flow", 1.0)),
    )
