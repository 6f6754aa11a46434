"""How a worker is started: the configuration ``skyseg install-plugin`` recorded, its command
line and environment, and the log that keeps its stderr."""

from __future__ import annotations

import json
import os
import sys
import time

from .contract import CONFIG_NAME
from .errors import WorkerNotConfigured


def load_config(folder: str) -> dict:
    """The worker configuration written by ``skyseg install-plugin`` into ``folder``.

    ``SKYSEG_WORKER_PYTHON`` overrides the recorded interpreter (and ``SKYSEG_WORKER_TIMEOUT``
    the seconds to wait for each reply).
    """
    path = os.path.join(folder, CONFIG_NAME)
    config: dict = {}
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as fh:
                config = json.load(fh)
        except (OSError, ValueError) as exc:
            raise WorkerNotConfigured(f"cannot read {path}: {exc}") from None
    if os.environ.get("SKYSEG_WORKER_PYTHON"):
        config["python"] = os.environ["SKYSEG_WORKER_PYTHON"]
    if not config.get("python"):
        raise WorkerNotConfigured(
            f"skyseg is not configured ({path} is missing): run `skyseg install-plugin` from the "
            "Python environment where skyseg is installed, or set SKYSEG_WORKER_PYTHON"
        )
    return config


def default_log_path() -> str:
    """Where a plug-in's client keeps the worker's stderr: ``SKYSEG_WORKER_LOG``, else
    ``skyseg/worker.log`` in the user's cache folder."""
    if os.environ.get("SKYSEG_WORKER_LOG"):
        return os.environ["SKYSEG_WORKER_LOG"]
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skyseg", "worker.log")


LOG_MAX_BYTES = 1 << 20
"""A worker log larger than this is started afresh when the next worker starts."""


def worker_command(config: dict) -> list:
    """The command line that starts the worker."""
    return [config["python"], *config.get("args", ["-m", "skyseg_core", "worker"])]


def open_log(log_path, what: str):
    """The log a worker's stderr is appended to, opened with a line that says when and which
    process (``what``); started afresh past :data:`LOG_MAX_BYTES`. None without ``log_path``
    or when it cannot be opened: no log is no reason to fail, the lines stay in the message."""
    if not log_path:
        return None
    try:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        too_big = os.path.isfile(log_path) and os.path.getsize(log_path) > LOG_MAX_BYTES
        log = open(log_path, "w" if too_big else "a", encoding="utf-8")  # noqa: SIM115
        log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {what}\n")
        log.flush()
        return log
    except OSError:
        return None


def note(log_path, text: str) -> None:
    """A line in the log (what the client decided, for the user who reads it)."""
    if not log_path:
        return
    try:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} client {os.getpid()}: {text}\n")
    except OSError:
        pass


def worker_environment(extra: dict) -> dict:
    """The worker's environment: this one with ``extra``, unbuffered, and without the host's
    ``PYTHONHOME``/``PYTHONPATH`` (the host's Python settings are not the worker's) unless
    ``extra`` sets them."""
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    for var in ("PYTHONHOME", "PYTHONPATH"):
        if var not in extra:
            env.pop(var, None)
    return env
