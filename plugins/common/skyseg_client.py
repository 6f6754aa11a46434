"""Client for the ``skyseg worker`` process, shared by the GIMP and Krita plug-ins.

Standard library only: it runs inside the hosts' own Pythons (GIMP 3: the system python3;
Krita: its embedded Python), which have no numpy. The one source of this file is
``plugins/common/skyseg_client.py`` in the skyseg repository; ``skyseg install-plugin`` copies
it next to each plug-in.

The client starts the worker with the interpreter recorded at install time (``skyseg_worker.json``
beside the plug-in, or ``SKYSEG_WORKER_PYTHON``), waits for its ready line, sends one JSON
request per line and waits for the matching reply with a timeout. The worker's stderr is
captured, so when it dies or hangs the error says why (its last lines). A dead or timed-out
worker is restarted on the next request.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import sys
import threading
import time

CONFIG_NAME = "skyseg_worker.json"
PROTOCOL_VERSION = 1


class WorkerError(Exception):
    """Anything that went wrong talking to the worker; ``str()`` is a message for the user."""


class WorkerNotConfigured(WorkerError):
    """No interpreter recorded: ``skyseg install-plugin`` was not run."""


class WorkerDied(WorkerError):
    """The worker process exited (crashed, killed, or could not start)."""


class WorkerTimeout(WorkerError):
    """The worker did not answer in time; it has been stopped."""


class RequestFailed(WorkerError):
    """The worker answered with an error (bad input, bad parameters...); it is still running."""

    def __init__(self, message: str, kind: str = ""):
        self.kind = kind
        super().__init__(message)


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
            "Python environment where skyseg is installed, or set SKYSEG_WORKER_PYTHON")
    return config


def worker_command(config: dict) -> list:
    """The command line that starts the worker."""
    return [config["python"], *config.get("args", ["-m", "skyseg_core", "worker"])]


class SkysegClient:
    """A supervised ``skyseg worker`` process.

    Parameters
    ----------
    command : list of str
        How to start the worker (see :func:`worker_command`).
    start_timeout, request_timeout : float
        Seconds to wait for the ready line and for each reply.
    env : dict, optional
        Extra environment variables for the worker.
    """

    def __init__(self, command, start_timeout=120.0, request_timeout=600.0, env=None):
        self.command = list(command)
        self.start_timeout = start_timeout
        self.request_timeout = request_timeout
        self.env = dict(env or {})
        self.process = None
        self.ready_info = None
        self._lines = None
        self._stderr = collections.deque(maxlen=40)
        self._next_id = 0
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder, **kwargs):
        """A client configured by the ``skyseg_worker.json`` in ``folder``."""
        config = load_config(folder)
        kwargs.setdefault("env", config.get("env"))
        for key in ("start_timeout", "request_timeout"):
            if key in config:
                kwargs.setdefault(key, float(config[key]))
        if os.environ.get("SKYSEG_WORKER_TIMEOUT"):
            kwargs["request_timeout"] = float(os.environ["SKYSEG_WORKER_TIMEOUT"])
        return cls(worker_command(config), **kwargs)

    # -- process management ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_tail(self, lines: int = 8) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    def start(self) -> dict:
        """Start the worker (if not running) and wait for its ready line; returns it."""
        if self.running:
            return self.ready_info
        self.stop()
        self._stderr.clear()
        env = dict(os.environ)
        env.update(self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        for var in ("PYTHONHOME", "PYTHONPATH"):  # the host's Python settings are not the worker's
            if var not in self.env:
                env.pop(var, None)
        kwargs = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        try:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=env, **kwargs)
        except OSError as exc:
            self.process = None
            raise WorkerDied(f"cannot start the skyseg worker ({' '.join(self.command)}): {exc}") from None
        self._lines = queue.Queue()
        threading.Thread(target=self._read_stdout, args=(self.process, self._lines), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self.process,), daemon=True).start()
        ready = self._wait_line(self.start_timeout, "start")
        if not ready.get("ready"):
            self.stop()
            raise WorkerDied(f"the skyseg worker did not start properly (first line: {ready!r})")
        if ready.get("protocol") != PROTOCOL_VERSION:
            self.stop()
            raise WorkerDied(f"the skyseg worker speaks protocol {ready.get('protocol')}, this plug-in "
                             f"{PROTOCOL_VERSION}: reinstall the plug-in with `skyseg install-plugin`")
        self.ready_info = ready
        return ready

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to exit, and kill it if it does not."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                process.stdin.write(b'{"op": "shutdown"}\n')
                process.stdin.flush()
            except OSError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def _read_stdout(self, process, lines):
        try:
            for raw in process.stdout:
                lines.put(raw)
        except (OSError, ValueError):  # closed by stop()
            pass
        lines.put(None)  # EOF: the process is gone

    def _read_stderr(self, process):
        try:
            for raw in process.stderr:
                self._stderr.append(raw.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass

    def _died_message(self, what: str) -> str:
        code = self.process.wait(5) if self.process is not None else None
        tail = self.stderr_tail()
        message = f"the skyseg worker stopped during {what}"
        if code is not None:
            message += f" (exit status {code})"
        return message + (f":\n{tail}" if tail else "")

    def _wait_line(self, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                tail = self.stderr_tail()
                self.stop(timeout=1.0)
                raise WorkerTimeout(f"the skyseg worker did not answer within {timeout:g} s during {what}; "
                                    "it was stopped" + (f":\n{tail}" if tail else ""))
            try:
                raw = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if raw is None:
                time.sleep(0.05)  # let the stderr reader catch the last lines
                message = self._died_message(what)
                self.stop()
                raise WorkerDied(message)
            try:
                return json.loads(raw)
            except ValueError:
                self._stderr.append("stdout: " + raw.decode("utf-8", "replace").rstrip())

    # -- requests ---------------------------------------------------------------------------

    def request(self, op: str, input=None, output=None, params=None, timeout=None, overwrite=True) -> dict:
        """Send one request and return the reply (a dict with ``ok: true`` and ``output``).

        Raises :class:`RequestFailed` for an error reply, :class:`WorkerDied` or
        :class:`WorkerTimeout` when the worker is gone (the next request starts a new one).
        """
        with self._lock:
            self.start()
            self._next_id += 1
            request_id = self._next_id
            message = {"id": request_id, "op": op, "params": params or {}}
            if input is not None:
                message["input"] = str(input)
            if output is not None:
                message["output"] = str(output)
                message["overwrite"] = bool(overwrite)
            try:
                self.process.stdin.write((json.dumps(message) + "\n").encode("utf-8"))
                self.process.stdin.flush()
            except OSError:
                time.sleep(0.1)
                message_text = self._died_message(op)
                self.stop()
                raise WorkerDied(message_text) from None
            while True:
                reply = self._wait_line(self.request_timeout if timeout is None else timeout, op)
                if reply.get("id") == request_id:
                    break
            if not reply.get("ok"):
                raise RequestFailed(reply.get("error") or "unknown error", reply.get("kind", ""))
            return reply

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
