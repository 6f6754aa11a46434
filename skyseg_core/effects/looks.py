"""Looks: named sets of changes from an effect's defaults, bundled or your own.

The bundled looks are declared with each effect (:attr:`Effect.looks`). Your own are files in
:func:`looks_folder` (``$XDG_CONFIG_HOME/skyseg/looks``, by default ``~/.config/skyseg/looks``),
one JSON file a look, named after it::

    ~/.config/skyseg/looks/Moody.json
    {"skyseg_look": 1, "effect": "replace", "changes": {"halo": 0.5, "sky_opacity": 0.8}}

``changes`` are the controls that differ from the declared defaults; the sky and the fields the
effect's looks leave alone (:attr:`Effect.look_keeps`: where the sky sits) are never in a look.
The editor saves them (Edit > Save look...); ``skyseg replace --look NAME`` and the plug-ins'
look menus (through the worker's schema) offer them beside the bundled ones. A look of yours
with a bundled look's name takes its place (the editor asks before saving one).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ..declare import sky_fields
from ..errors import InputError, shorten
from .registry import Effect, get_effect

LOOK_FORMAT = 1
"""The ``skyseg_look`` version written and read."""

LOOK_FILE_MAX = 64 * 1024
"""A look file larger than this is not read (it is damaged or not a look)."""

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 _-]{0,62}[A-Za-z0-9_-])?")


def _config_home() -> Path:
    return Path(
        os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    )


def looks_folder() -> Path:
    """Where your own looks are: ``$XDG_CONFIG_HOME/skyseg/looks`` (``~/.config/skyseg/looks``)."""
    return _config_home() / "skyseg" / "looks"


GIMP_PLUGIN = ("GIMP", "3.0", "plug-ins", "skyseg", "skyseg.py")
"""The GIMP plug-in where ``skyseg install-plugin gimp`` puts it by default (under the config
folder)."""


def refresh_gimp() -> None:
    """Have GIMP list the looks again at its next start.

    GIMP keeps the procedures it registered, Look menus included, until a plug-in's file
    changes: the plug-in installed in the default place is marked changed (its time set to now).
    A plug-in installed elsewhere (``--dest``) is not found here.
    """
    plugin = _config_home().joinpath(*GIMP_PLUGIN)
    if plugin.is_file():
        with contextlib.suppress(OSError):  # not ours to write: the menu waits for a reinstall
            os.utime(plugin)


def check_look_name(name: str) -> str:
    """``name`` if it can name a look (and its file): 1-64 letters, digits, spaces, ``-``
    and ``_``, starting with a letter or digit and not ending in a space."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"a look's name is 1-64 letters, digits, spaces, - and _ "
            f"(starting with a letter or digit), got {shorten(repr(name))}"
        )
    return name


def look_changes_of(params) -> dict[str, Any]:
    """What a look of ``params`` holds: the controls that differ from the declared defaults,
    without the sky and the fields the effect's looks leave alone (JSON-ready values)."""
    effect = get_effect(params.effect)
    keep = set(sky_fields(effect.params)[0]) | set(sky_fields(effect.params)[1])
    keep |= set(effect.look_keeps)
    plain = params.to_dict()
    defaults = effect.params().to_dict()
    return {k: v for k, v in plain.items() if k not in keep and v != defaults[k]}


def read_look(path: str | os.PathLike, effect: str | None = None) -> tuple[str, dict]:
    """``(effect, changes)`` of the look file ``path``, checked against the effect's declaration.

    A file that cannot be read, is not a look, names another effect than ``effect`` or holds a
    value out of range raises :class:`InputError` with one line that names the file and what is
    wrong with it.
    """
    path = Path(path)

    def damaged(why: str) -> InputError:
        return InputError(f"look {path.stem!r} cannot be used: {why} (fix or delete {path})")

    try:
        if path.stat().st_size > LOOK_FILE_MAX:
            raise damaged(f"the file is larger than {LOOK_FILE_MAX // 1024} KB")
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise damaged(f"cannot read the file ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise damaged(f"not valid JSON ({shorten(str(exc))})") from None
    if not isinstance(data, dict) or data.get("skyseg_look") != LOOK_FORMAT:
        raise damaged(f'not a skyseg look (no "skyseg_look": {LOOK_FORMAT})')
    name = data.get("effect")
    if not isinstance(name, str):
        raise damaged('no "effect" in it')
    if effect is not None and name != effect:
        raise damaged(f"it is a look for {shorten(repr(name))}, not for {effect}")
    changes = data.get("changes")
    if not isinstance(changes, dict):
        raise damaged('its "changes" are not a set of control values')
    try:
        params = get_effect(name).params.from_dict(changes)
    except InputError as exc:
        raise damaged(str(exc)) from None
    plain = params.to_dict()
    return name, {k: plain[k] for k in changes}


def user_looks(effect: str) -> tuple[dict[str, dict], dict[str, str]]:
    """Your own looks for ``effect``: ``(name -> changes, name -> why it cannot be used)``,
    sorted by name. A file for another effect is in neither; a damaged one in the second."""
    folder = looks_folder()
    looks: dict[str, dict] = {}
    problems: dict[str, str] = {}
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.is_file())
    except OSError:  # no folder yet (or not readable): no looks of yours
        return looks, problems
    for path in files:
        if not _NAME.fullmatch(path.stem):
            continue
        try:
            name, changes = read_look(path)
        except InputError as exc:
            problems[path.stem] = str(exc)
            continue
        if name == effect:
            looks[path.stem] = changes
    return looks, problems


def effect_looks(effect: Effect | str, with_damaged: bool = False) -> dict[str, dict]:
    """Every look of ``effect``: the bundled ones (yours in place of one of the same name), then
    your own. ``with_damaged`` also lists your damaged ones (with no changes), so that asking
    for one by name gets the line that says what is wrong (:func:`look_changes`)."""
    effect = get_effect(effect) if isinstance(effect, str) else effect
    if not effect.looks:
        return {}
    mine, problems = user_looks(effect.name)
    looks = {name: dict(changes) for name, changes in effect.looks.items()}
    looks.update(mine)
    if with_damaged:
        looks.update({name: {} for name in problems if name not in looks})
    return looks


def look_changes(effect: Effect | str, name: str) -> dict:
    """The changes of ``effect``'s look ``name``: your file of that name if there is one (a
    damaged one raises its one line), else the bundled look; an unknown name lists the valid
    ones."""
    effect = get_effect(effect) if isinstance(effect, str) else effect
    path = looks_folder() / f"{name}.json"
    if _NAME.fullmatch(name) and path.is_file():
        return read_look(path, effect.name)[1]
    if name in effect.looks:
        return dict(effect.looks[name])
    raise InputError(
        f"unknown look {shorten(repr(name))}; choose one of: {', '.join(effect_looks(effect))}"
    )


class LookExistsError(InputError):
    """Saving a look would replace a bundled look or one of yours (ask, then save with
    ``replace=True``)."""

    def __init__(self, name: str, bundled: bool, path: Path):
        self.name, self.bundled, self.look_path = name, bundled, path
        what = "a bundled look" if bundled else "one of your looks"
        super().__init__(f"{name!r} is already {what}; save it under another name or replace it")


def save_look(name: str, params, replace: bool = False) -> Path:
    """Save ``params`` (an effect's parameters) as your look ``name``; returns the file.

    The file is written atomically (a crash leaves the old file or the new one). A name that is
    a bundled look or an existing look of yours raises :class:`LookExistsError` unless
    ``replace``: your look then takes the bundled one's place.
    """
    from ..io import write_bytes_atomic

    check_look_name(name)
    effect = get_effect(params.effect)
    path = looks_folder() / f"{name}.json"
    exists = path.exists()
    if not replace and (name in effect.looks or exists):
        raise LookExistsError(name, name in effect.looks and not exists, path)
    text = json.dumps(
        {"skyseg_look": LOOK_FORMAT, "effect": effect.name, "changes": look_changes_of(params)},
        indent=1,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    written = write_bytes_atomic(path, lambda fh: fh.write(text.encode() + b"\n"), overwrite=True)
    refresh_gimp()
    return written


__all__ = [
    "LOOK_FORMAT",
    "LookExistsError",
    "check_look_name",
    "refresh_gimp",
    "effect_looks",
    "look_changes",
    "look_changes_of",
    "looks_folder",
    "read_look",
    "save_look",
    "user_looks",
]
