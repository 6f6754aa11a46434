"""``skyseg install-plugin gimp|krita``: copy a host plug-in into the user's folder.

The plug-in gets the shared client (``plugins/common/skyseg_client.py``) beside it, a
``skyseg_worker.json`` that records how to start the worker (this interpreter,
``sys.executable`` or ``--python``, running ``-m skyseg_core worker``) and ``skyseg_schema.json``:
the effect recipe's declarations (:func:`skyseg_core.worker.schema`), which the plug-ins build
their dialogs and docker from, since they cannot import skyseg themselves.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError, OutputError
from ..resources import plugins_dir

PLUGINS = plugins_dir()
CONFIG_NAME = "skyseg_worker.json"
SCHEMA_NAME = "skyseg_schema.json"
HOSTS = ("gimp", "krita")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "install-plugin",
        help="install the GIMP 3 or Krita plug-in for this skyseg environment",
        description="Copy the plug-in into the host's user plug-in folder and record this Python "
        "as the one that runs the skyseg worker.",
    )
    parser.add_argument("host", choices=HOSTS, help="gimp (GIMP 3) or krita (Krita 5)")
    parser.add_argument(
        "--dest",
        metavar="DIR",
        help="plug-in folder (default: ~/.config/GIMP/3.0/plug-ins or ~/.local/share/krita/pykrita)",
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
    names = {"gimp": ("gimp-3.0", "gimp-console-3.0", "gimp-3", "gimp"), "krita": ("krita",)}[host]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    folder = _config_home() / "GIMP" / "3.0" if host == "gimp" else _data_home() / "krita"
    return str(folder) if folder.is_dir() else None


def default_dest(host: str) -> Path:
    if host == "gimp":
        return _config_home() / "GIMP" / "3.0" / "plug-ins"
    return _data_home() / "krita" / "pykrita"


def worker_config(python: str) -> dict:
    from .. import __version__

    return {
        "python": python,
        "args": ["-m", "skyseg_core", "worker"],
        "skyseg_version": __version__,
        "installed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def plugin_schema() -> dict:
    """What the plug-ins build their controls from (the worker's ``schema`` reply)."""
    from ..worker import schema

    return schema()


def _copy_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def enable_in_kritarc(kritarc: Path, name: str = "skyseg_krita") -> None:
    """Set ``enable_<name>=true`` in the ``[python]`` section, keeping every other line."""
    key = f"enable_{name}"
    lines = kritarc.read_text(encoding="utf-8").splitlines() if kritarc.exists() else []
    out, in_python, done = [], False, False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if in_python and not done:
                out.append(f"{key}=true")
                done = True
            in_python = stripped == "[python]"
        elif in_python and stripped.split("=", 1)[0].strip() == key:
            line, done = f"{key}=true", True
        out.append(line)
    if not done:
        if not in_python:
            if out and out[-1].strip():
                out.append("")
            out.append("[python]")
        out.append(f"{key}=true")
    kritarc.parent.mkdir(parents=True, exist_ok=True)
    kritarc.write_text("\n".join(out) + "\n", encoding="utf-8")


def install(
    host: str, dest: Path | None = None, python: str | None = None, kritarc: Path | None = None
) -> list[Path]:
    """Install the plug-in for ``host``; returns the paths written.

    Raises :class:`InputError` if the host is not found (and no ``dest`` was given) or the
    plug-in sources are missing, :class:`OutputError` if the destination cannot be written.
    """
    if host not in HOSTS:
        raise InputError(f"unknown host {host!r}; choose one of: {', '.join(HOSTS)}")
    if dest is None:
        if find_host(host) is None:
            what = (
                "GIMP 3 (no gimp-3.0 on PATH, no ~/.config/GIMP/3.0)"
                if host == "gimp"
                else "Krita (no krita on PATH, no ~/.local/share/krita)"
            )
            raise InputError(
                f"{what} was not found; install it, or give the plug-in folder with --dest"
            )
        dest = default_dest(host)
    client = PLUGINS / "common" / "skyseg_client.py"
    source = PLUGINS / "gimp" / "skyseg" if host == "gimp" else PLUGINS / "krita" / "skyseg_krita"
    if not source.is_dir() or not client.is_file():
        raise InputError(
            f"plug-in sources not found at {source}; install skyseg from a source checkout"
        )
    python = python or sys.executable
    try:
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / source.name
        _copy_tree(source, target)
        shutil.copy2(client, target / client.name)
        _write_json(target / CONFIG_NAME, worker_config(python))
        _write_json(target / SCHEMA_NAME, plugin_schema())
        written = [target]
        if host == "gimp":
            os.chmod(target / "skyseg.py", 0o755)
        else:
            desktop = PLUGINS / "krita" / "skyseg_krita.desktop"
            shutil.copy2(desktop, dest / desktop.name)
            kritarc = kritarc or _config_home() / "kritarc"
            enable_in_kritarc(kritarc)
            written += [dest / desktop.name, kritarc]
    except OSError as exc:
        raise OutputError(f"cannot install the plug-in ({exc.strerror or exc})", dest) from None
    return written


def run(args) -> int:
    dest = Path(args.dest).expanduser() if args.dest else None
    kritarc = Path(args.kritarc).expanduser() if args.kritarc else None
    written = install(args.host, dest, args.python, kritarc)
    python = args.python or sys.executable
    print(f"installed the {args.host} plug-in in {written[0]}")
    print(f"the worker runs with {python} -m skyseg_core worker")
    if args.host == "krita":
        print(f"enabled in {written[-1]}; restart Krita (Tools > Scripts > skyseg)")
    else:
        print("restart GIMP: Filters > Sky and Select > Sky")
    return 0
