"""``skyseg install-plugin gimp|krita|darktable``: copy a host plug-in into the user's folder (one
module of about 430 lines: each host's install steps sit beside their undo, so a failed install
leaves nothing; the settings files' text is changed by :mod:`._host_settings`).

The plug-in gets the shared client package (``plugins/common/skyseg_client/``) beside it, a
``skyseg_worker.json`` that records how to start the worker (this interpreter,
``sys.executable`` or ``--python``, running ``-m skyseg_core worker``) and ``skyseg_schema.json``:
the effect recipe's declarations (:func:`skyseg_core.worker.schema`), which the plug-ins build
their dialogs and docker from, since they cannot import skyseg themselves.

darktable's is a Lua script (``plugins/darktable/skyseg.lua``), installed as
``<darktable config>/lua/skyseg/`` with ``skyseg_config.lua`` (the command it runs: this
interpreter with ``-m skyseg_core``) and loaded by a ``require "skyseg/skyseg"`` line in
darktable's ``luarc``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..errors import InputError, OutputError
from ..io import path_kind, write_bytes_atomic
from ..resources import plugin_contract, plugins_dir
from ._host_settings import kritarc_with_plugin, lua_config, luarc_with_script

PLUGINS = plugins_dir()
CONFIG_NAME: str = plugin_contract()["CONFIG_NAME"]
SCHEMA_NAME: str = plugin_contract()["SCHEMA_NAME"]
MARKER_NAME = "skyseg_install.json"
"""Written into every installed plug-in folder: only a folder carrying it is ever replaced."""
HOSTS = ("gimp", "krita", "darktable")
LUA_CONFIG_NAME = "skyseg_config.lua"
"""The darktable script's settings: the command that runs skyseg (a Lua table)."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "install-plugin",
        help="install the GIMP 3 or Krita plug-in, or the darktable Lua script, for this skyseg "
        "environment",
        description="Copy the plug-in into the host's user plug-in folder and record this Python "
        "as the one that runs the skyseg worker (darktable: the skyseg command).",
    )
    parser.add_argument(
        "host", choices=HOSTS, help="gimp (GIMP 3), krita (Krita 5) or darktable (5.4 with Lua)"
    )
    parser.add_argument(
        "--dest",
        metavar="DIR",
        help="plug-in folder (default: ~/.config/GIMP/3.0/plug-ins or ~/.local/share/krita/pykrita); "
        "darktable: its config folder, which holds lua/ and luarc (default: $DARKTABLE_CONFIGDIR "
        "or ~/.config/darktable)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        default=None,
        help="interpreter that runs the worker (default: this one, %(default)s)",
    )
    parser.add_argument(
        "--kritarc",
        metavar="FILE",
        default=None,
        help="Krita settings file to enable the plug-in in (default: ~/.config/kritarc)",
    )
    parser.set_defaults(func=run)


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config")


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or _home() / ".local" / "share")


def find_host(host: str) -> str | None:
    """A sign that the host is installed (an executable or its settings folder), else None."""
    names = {
        "gimp": ("gimp-3.0", "gimp-console-3.0", "gimp-3", "gimp"),
        "krita": ("krita",),
        "darktable": ("darktable", "darktable-cli"),
    }[host]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    folder = {
        "gimp": _config_home() / "GIMP" / "3.0",
        "krita": _data_home() / "krita",
        "darktable": _darktable_config(),
    }[host]
    return str(folder) if path_kind(folder) == "folder" else None


def _darktable_config() -> Path:
    """darktable's config folder: ``$DARKTABLE_CONFIGDIR`` or ``~/.config/darktable``."""
    folder = os.environ.get("DARKTABLE_CONFIGDIR")
    return Path(folder) if folder else _config_home() / "darktable"


def default_dest(host: str) -> Path:
    if host == "gimp":
        return _config_home() / "GIMP" / "3.0" / "plug-ins"
    if host == "darktable":
        return _darktable_config()
    return _data_home() / "krita" / "pykrita"


def worker_config(python: str) -> dict:
    return {
        "python": python,
        "args": ["-m", "skyseg_core", "worker"],
        "skyseg_version": __version__,
        "installed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def plugin_schema() -> dict:
    """What the plug-ins build their controls from (the worker's ``schema`` reply, without your
    own looks: the plug-ins read those when they start, so the file never holds stale ones)."""
    from ..worker import schema

    return schema(own_looks=False)


def install_marker(host: str) -> dict:
    """What :data:`MARKER_NAME` holds: that an install made the folder it sits in."""
    return {"made_by": "skyseg install-plugin", "host": host, "skyseg_version": __version__}


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_apart_from_sources(dest: Path, target: Path) -> None:
    """Refuse a destination that would write into, or replace, the plug-in sources themselves."""
    sources = PLUGINS.resolve()
    if _inside(dest.resolve(), sources):
        raise OutputError(
            f"is inside the plug-in sources ({sources}); give a folder outside them", dest
        )
    if _inside(sources, target.resolve()):
        raise OutputError(f"holds the plug-in sources ({sources}); give another --dest", target)


def _made_by_install(target: Path, source: Path) -> bool:
    """Whether the folder ``target`` is one that :func:`install` wrote: it carries
    :data:`MARKER_NAME`, or (installs from before the marker) holds only what an install writes."""
    if path_kind(target / MARKER_NAME, OutputError) == "file":
        return True
    client = {"skyseg_client", "skyseg_client.py"}  # the package; the one file it was before
    installed = {p.name for p in source.iterdir()} | client | {CONFIG_NAME, SCHEMA_NAME}
    names = {p.name for p in target.iterdir()} - {"__pycache__"}
    return CONFIG_NAME in names and names <= installed


def _previous_install(target: Path, source: Path) -> bool:
    """Whether ``target`` holds a previous install (to be replaced); raise :class:`OutputError`
    if it holds anything else, which is the user's and stays as it is."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(info.st_mode) and _made_by_install(target, source):
        return True
    raise OutputError(
        f"exists and was not made by skyseg install-plugin (no {MARKER_NAME}); "
        "move it away or give another --dest",
        target,
    )


def _check_desktop_file(path: Path, wanted: bytes, previous_install: bool) -> None:
    """Krita's ``.desktop`` file beside the plug-in may be replaced only if a previous install
    wrote it (the plug-in folder is one) or it already says what ours says."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode) and (previous_install or path.read_bytes() == wanted):
        return
    raise OutputError(
        "exists and was not written by skyseg install-plugin; move it away or give another --dest",
        path,
    )


def _read_settings(path: Path, refusal: str) -> bytes | None:
    """A host's settings file's bytes (kritarc, luarc), None if there is none yet; anything
    but a regular file is refused with ``refusal``."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"not a regular file; {refusal}", path)
    return path.read_bytes()


_KRITARC_REFUSAL = "give Krita's settings file with --kritarc"


def _write_file(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, keeping its permissions."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None

    def write(fh) -> None:
        if mode is not None:
            os.fchmod(fh.fileno(), mode)
        fh.write(data)

    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, write, overwrite=True)


def _restore(path: Path, data: bytes | None) -> None:
    """Put back what ``path`` held (None: it did not exist)."""
    if data is None:
        path.unlink(missing_ok=True)
    else:
        _write_file(path, data)


def enable_in_kritarc(kritarc: Path, name: str = "skyseg_krita") -> None:
    """Set ``enable_<name>=true`` in the ``[python]`` section (see :func:`kritarc_with_plugin`),
    writing the file atomically (through a symlink to the file it names)."""
    path = Path(os.path.realpath(kritarc))
    old = _read_settings(path, _KRITARC_REFUSAL)
    new = kritarc_with_plugin(old or b"", name)
    if new != old:
        _write_file(path, new)


def _put_in_place(
    staged: Path, target: Path, backup: Path, previous: bool, undo: list[Callable[[], object]]
) -> None:
    """Rename the staged folder to ``target``, the previous install (if ``previous``) moved to
    ``backup`` first; each rename undone by ``undo`` if a later step fails."""
    if previous:
        os.rename(target, backup)
        undo.append(lambda: os.rename(backup, target))
    os.rename(staged, target)
    undo.append(lambda: shutil.rmtree(target))


@contextlib.contextmanager
def _undone_on_failure() -> Iterator[list[Callable[[], object]]]:
    """Collect undo steps; if the block fails (or is interrupted), run them newest first."""
    undo: list[Callable[[], object]] = []
    try:
        yield undo
    except BaseException:
        for step in reversed(undo):
            with contextlib.suppress(OSError, OutputError):
                step()
        raise


def install(
    host: str, dest: Path | None = None, python: str | None = None, kritarc: Path | None = None
) -> list[Path]:
    """Install the plug-in for ``host``; returns the paths written.

    ``DEST/<plug-in folder>`` is replaced only if a previous install made it (it carries
    :data:`MARKER_NAME`), never when it is or holds the plug-in sources. Everything is checked
    before anything is written; an install that fails halfway is undone, the previous install
    (if any) and the kritarc as they were.

    Raises :class:`InputError` if the host is not found (and no ``dest`` was given) or the
    plug-in sources are missing, :class:`OutputError` if the destination is taken by something
    else or cannot be written.
    """
    if host not in HOSTS:
        raise InputError(f"unknown host {host!r}; choose one of: {', '.join(HOSTS)}")
    if dest is None:
        if find_host(host) is None:
            what = {
                "gimp": "GIMP 3 (no gimp-3.0 on PATH, no ~/.config/GIMP/3.0)",
                "krita": "Krita (no krita on PATH, no ~/.local/share/krita)",
                "darktable": "darktable (no darktable on PATH, no ~/.config/darktable)",
            }[host]
            raise InputError(
                f"{what} was not found; install it, or give the plug-in folder with --dest"
            )
        dest = default_dest(host)
    if host == "darktable":
        return _install_darktable(dest, python)
    client = PLUGINS / "common" / "skyseg_client"
    source = PLUGINS / "gimp" / "skyseg" if host == "gimp" else PLUGINS / "krita" / "skyseg_krita"
    desktop_source = PLUGINS / "krita" / "skyseg_krita.desktop"
    if path_kind(source) != "folder" or path_kind(client / "__init__.py") != "file":
        raise InputError(
            f"plug-in sources not found at {source}; install skyseg from a source checkout"
        )
    files = {
        CONFIG_NAME: worker_config(python or sys.executable),
        SCHEMA_NAME: plugin_schema(),
        MARKER_NAME: install_marker(host),
    }
    target = dest / source.name
    try:
        _check_apart_from_sources(dest, target)
        previous = _previous_install(target, source)
        if host == "krita":
            desktop, desktop_bytes = dest / desktop_source.name, desktop_source.read_bytes()
            _check_desktop_file(desktop, desktop_bytes, previous)
            kritarc_file = Path(os.path.realpath(kritarc or _config_home() / "kritarc"))
            kritarc_bytes = _read_settings(kritarc_file, _KRITARC_REFUSAL)
            try:
                new_kritarc = kritarc_with_plugin(kritarc_bytes or b"")
            except UnicodeDecodeError as exc:
                raise OutputError(f"cannot read it as text ({exc.reason})", kritarc_file) from None
        with _undone_on_failure() as undo:
            dest.mkdir(parents=True, exist_ok=True)
            token = secrets.token_hex(4)
            staged = dest / f".{source.name}.{token}.part"
            undo.append(lambda: shutil.rmtree(staged))
            compiled = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(source, staged, ignore=compiled)
            shutil.copytree(client, staged / client.name, ignore=compiled)
            for name, data in files.items():
                _write_json(staged / name, data)
            if host == "gimp":
                os.chmod(staged / "skyseg.py", 0o755)
            backup = dest / f".{source.name}.{token}.old"
            _put_in_place(staged, target, backup, previous, undo)
            written = [target]
            if host == "krita":
                old_desktop = desktop.read_bytes() if os.path.lexists(desktop) else None
                _write_file(desktop, desktop_bytes)
                undo.append(lambda: _restore(desktop, old_desktop))
                if new_kritarc != kritarc_bytes:
                    _write_file(kritarc_file, new_kritarc)
                    undo.append(lambda: _restore(kritarc_file, kritarc_bytes))
                written += [desktop, kritarc_file]
    except OSError as exc:
        raise OutputError(f"cannot install the plug-in ({exc.strerror or exc})", dest) from None
    if previous:
        shutil.rmtree(backup, ignore_errors=True)
    return written


def _install_darktable(config: Path, python: str | None) -> list[Path]:
    """``config/lua/skyseg/`` (the script, :data:`LUA_CONFIG_NAME`, the marker) and the
    :data:`~._host_settings.LUARC_LINE` in ``config/luarc``, with :func:`install`'s rules: a folder replaced only
    if an install made it, nothing written before everything is checked, undone on failure."""
    source = PLUGINS / "darktable"
    script = source / "skyseg.lua"
    if path_kind(script) != "file":
        raise InputError(
            f"plug-in sources not found at {script}; install skyseg from a source checkout"
        )
    lua = config / "lua"
    target = lua / "skyseg"
    files = {
        LUA_CONFIG_NAME: lua_config(python or sys.executable).encode("ascii"),
        MARKER_NAME: (json.dumps(install_marker("darktable"), indent=2) + "\n").encode("utf-8"),
    }
    try:
        _check_apart_from_sources(lua, target)
        previous = _previous_install(target, source)
        luarc = Path(os.path.realpath(config / "luarc"))
        luarc_bytes = _read_settings(luarc, "darktable's luarc must be a file")
        new_luarc = luarc_with_script(luarc_bytes or b"")
        with _undone_on_failure() as undo:
            lua.mkdir(parents=True, exist_ok=True)
            token = secrets.token_hex(4)
            staged = lua / f".skyseg.{token}.part"
            undo.append(lambda: shutil.rmtree(staged))
            staged.mkdir()
            shutil.copy2(script, staged / script.name)
            for name, data in files.items():
                (staged / name).write_bytes(data)
            backup = lua / f".skyseg.{token}.old"
            _put_in_place(staged, target, backup, previous, undo)
            if new_luarc != luarc_bytes:
                _write_file(luarc, new_luarc)
                undo.append(lambda: _restore(luarc, luarc_bytes))
    except OSError as exc:
        raise OutputError(f"cannot install the plug-in ({exc.strerror or exc})", config) from None
    if previous:
        shutil.rmtree(backup, ignore_errors=True)
    return [target, luarc]


def run(args) -> int:
    dest = Path(args.dest).expanduser() if args.dest else None
    kritarc = Path(args.kritarc).expanduser() if args.kritarc else None
    written = install(args.host, dest, args.python, kritarc)
    python = args.python or sys.executable
    print(f"installed the {args.host} plug-in in {written[0]}")
    if args.host == "darktable":
        print(f"it runs {python} -m skyseg_core mask --for darktable")
        print(
            f"loaded by {written[-1]}; restart darktable: lighttable > actions on selection > create sky mask"
        )
        return 0
    print(f"the worker runs with {python} -m skyseg_core worker")
    if args.host == "krita":
        print(f"enabled in {written[-1]}; restart Krita (Tools > Scripts > skyseg)")
    else:
        print("restart GIMP: Filters > Sky and Select > Sky")
    return 0
