"""The client: a supervised ``skyseg worker`` process, private (its stdin and stdout) or shared
(:mod:`skyseg_client.shared`), and the requests sent to it.

It waits for the worker's ready line, sends one JSON request per line and waits for the matching
reply with a timeout. The worker's stderr is captured, so when it dies or hangs the error says
why (its last lines). A dead or timed-out worker is restarted on the next request.
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
from typing import Any

from .contract import PROTOCOL_VERSION
from .errors import RequestFailed, SharedUnavailable, WorkerDied, WorkerTimeout
from .launch import (
    default_log_path,
    load_config,
    note,
    open_log,
    worker_command,
    worker_environment,
)
from .shared import SharedWorker, shared_socket_path


class SkysegClient(SharedWorker):
    """A supervised ``skyseg worker`` process, private or shared.

    Parameters
    ----------
    command : list of str
        How to start the worker (see :func:`worker_command`).
    start_timeout, request_timeout : float
        Seconds to wait for the ready line and for each reply.
    env : dict, optional
        Extra environment variables for the worker.
    log_path : str, optional
        A file the worker's stderr is appended to (error messages for users name it instead of
        quoting the lines; see :meth:`WorkerError.for_user`).
    socket_path : str, optional
        Use the shared worker on this per-user Unix socket (``skyseg worker --socket``), starting
        it when none listens, so that short-lived plug-in processes (GIMP's) find a warm one;
        :meth:`stop` then only disconnects. A socket that cannot be used (another user's, a
        worker of another skyseg that will not make way) means a private worker instead.
    idle_timeout : float, optional
        Seconds the shared worker stays without requests (default: the worker's, 600).
    expected_version : str, optional
        The skyseg version the shared worker must run (``skyseg_worker.json``'s); another one
        exits and a fresh one is started.
    """

    def __init__(
        self,
        command,
        start_timeout=120.0,
        request_timeout=600.0,
        env=None,
        log_path=None,
        socket_path=None,
        idle_timeout=None,
        expected_version=None,
    ):
        self.command = list(command)
        self.socket_path = socket_path
        self.idle_timeout = idle_timeout
        self.expected_version = expected_version
        self.shared_problem = None
        """Why the shared worker was not used (None when it was, or was not asked for)."""
        self._sock = None
        self._sock_files = None
        self._sock_eof = False
        self.log_path = log_path
        self._log = None
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
    def from_folder(cls, folder, shared=False, **kwargs):
        """A client configured by the ``skyseg_worker.json`` in ``folder``; ``shared``: use the
        shared worker (:func:`shared_socket_path`; ``SKYSEG_WORKER_IDLE`` sets its idle timeout)."""
        config = load_config(folder)
        if shared:
            kwargs.setdefault("socket_path", shared_socket_path())
            kwargs.setdefault("expected_version", config.get("skyseg_version"))
            if os.environ.get("SKYSEG_WORKER_IDLE"):
                kwargs.setdefault("idle_timeout", float(os.environ["SKYSEG_WORKER_IDLE"]))
        kwargs.setdefault("env", config.get("env"))
        for key in ("start_timeout", "request_timeout"):
            if key in config:
                kwargs.setdefault(key, float(config[key]))
        if os.environ.get("SKYSEG_WORKER_TIMEOUT"):
            kwargs["request_timeout"] = float(os.environ["SKYSEG_WORKER_TIMEOUT"])
        kwargs.setdefault("log_path", default_log_path())
        return cls(worker_command(config), **kwargs)

    # -- process management ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        if self._sock is not None:
            return not self._sock_eof
        return self.process is not None and self.process.poll() is None

    @property
    def shared(self) -> bool:
        """Whether the client is connected to the shared worker."""
        return self._sock is not None

    def stderr_tail(self, lines: int = 8) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    def start(self) -> dict:
        """Start the worker (if not running) and wait for its ready line; returns it."""
        if self.running:
            return self.ready_info
        self.stop()
        self._stderr.clear()
        if self.socket_path:
            try:
                return self._start_shared()
            except SharedUnavailable as exc:
                self.shared_problem = exc.message
                note(
                    self.log_path,
                    f"not using the shared worker ({exc.message}); starting a private one",
                )
        env = worker_environment(self.env)
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        try:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                **kwargs,
            )
        except OSError as exc:
            self.process = None
            raise WorkerDied(
                f"cannot start the skyseg worker ({' '.join(self.command)}): {exc}"
            ) from None
        self._log = open_log(self.log_path, f"worker {self.process.pid}: {' '.join(self.command)}")
        self._lines = queue.Queue()
        threading.Thread(
            target=self._read_stdout, args=(self.process, self._lines), daemon=True
        ).start()
        threading.Thread(target=self._read_stderr, args=(self.process,), daemon=True).start()
        ready = self._wait_line(self.start_timeout, "start")
        if not ready.get("ready"):
            self.stop()
            raise WorkerDied(f"the skyseg worker did not start properly (first line: {ready!r})")
        if ready.get("protocol") != PROTOCOL_VERSION:
            self.stop()
            raise WorkerDied(
                f"the skyseg worker speaks protocol {ready.get('protocol')}, this plug-in "
                f"{PROTOCOL_VERSION}: reinstall the plug-in with `skyseg install-plugin`"
            )
        self.ready_info = ready
        return ready

    # -- stopping ------------------------------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> None:
        """Ask a private worker to exit (and kill it if it does not); leave a shared one."""
        if self._sock is not None:
            self._close_socket()
            return
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
        log = self._log
        try:
            for raw in process.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                self._stderr.append(line)
                if log is not None:
                    try:
                        log.write(line + "\n")
                        log.flush()
                    except (OSError, ValueError):
                        log = None
        except (OSError, ValueError):
            pass
        if log is not None:
            try:
                log.close()
            except OSError:
                pass

    def _error(self, cls, message: str):
        """``cls(message)`` with the worker's last stderr lines and the log that keeps them."""
        logged = (
            self.log_path
            if self._log is not None or (self._sock is not None and self.log_path)
            else None
        )
        return cls(message, self.stderr_tail(), logged)

    def _died(self, what: str) -> WorkerDied:
        code = self.process.wait(5) if self.process is not None else None
        message = f"the skyseg worker stopped during {what}"
        if self._sock is not None:
            message = f"the shared skyseg worker (pid {(self.ready_info or {}).get('pid')}) stopped during {what}"
        if code is not None:
            message += f" (exit status {code})"
        return self._error(WorkerDied, message)

    def _wait_line(self, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                error = self._error(
                    WorkerTimeout,
                    f"the skyseg worker did not answer within {timeout:g} s "
                    f"during {what}; it was stopped",
                )
                if self._sock is not None:
                    self._kill_shared()
                self.stop(timeout=1.0)
                raise error
            try:
                raw = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if raw is None:
                time.sleep(0.05)  # let the stderr reader catch the last lines
                error = self._died(what)
                self.stop()
                raise error
            try:
                return json.loads(raw)
            except ValueError:
                self._stderr.append("stdout: " + raw.decode("utf-8", "replace").rstrip())

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        op: str,
        input=None,
        output=None,
        params=None,
        timeout=None,
        overwrite=True,
        aliases=None,
    ) -> dict:
        """Send one request and return the reply (a dict with ``ok: true`` and ``output``).

        Raises :class:`RequestFailed` for an error reply, :class:`WorkerDied` or
        :class:`WorkerTimeout` when the worker is gone (the next request starts a new one).
        ``aliases`` maps file paths (the plug-in's temporary files) to what the user knows them
        as (``layer 'photo'``); error messages say that instead of the path.
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
                out = self._sock_files[1] if self._sock is not None else self.process.stdin
                out.write((json.dumps(message) + "\n").encode("utf-8"))
                out.flush()
            except OSError:
                time.sleep(0.1)
                error = self._died(op)
                self.stop()
                raise error from None
            while True:
                reply = self._wait_line(self.request_timeout if timeout is None else timeout, op)
                if reply.get("id") == request_id:
                    break
            if not reply.get("ok"):
                error_text = reply.get("error") or "unknown error"
                for path, name in (aliases or {}).items():
                    error_text = error_text.replace(str(path), name)
                raise RequestFailed(error_text, reply.get("kind", ""))
            return reply

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
