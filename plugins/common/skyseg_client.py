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

The plug-ins' controls come from the effect recipe (``skyseg_core.effects.params``) through its
schema: ``skyseg install-plugin`` writes it beside the plug-in (``skyseg_schema.json``), and
:func:`load_schema` reads it (or asks the worker's ``schema`` operation when it is missing).
:func:`effect_controls` turns one effect's declared fields into the controls both plug-ins show
(names, labels, help, ranges, defaults and choices as declared; nothing is restated here), and
:func:`effect_params` turns the controls' values back into the worker's parameters.
"""

from __future__ import annotations

import array
import collections
import json
import os
import queue
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

CONFIG_NAME = "skyseg_worker.json"
SCHEMA_NAME = "skyseg_schema.json"
PROTOCOL_VERSION = 2


class WorkerError(Exception):
    """Anything that went wrong talking to the worker.

    ``str()`` is the whole story (with the worker's last stderr lines, when there are any);
    :meth:`for_user` is the one line a host shows: the message, and the log file that holds
    the worker's stderr instead of its lines.
    """

    def __init__(self, message: str, details: str = "", log_path: str | None = None):
        self.message, self.details, self.log_path = message, details, log_path
        super().__init__(message + (f":\n{details}" if details else ""))

    def for_user(self) -> str:
        if self.log_path:
            return f"{self.message} (the worker's messages are in {self.log_path})"
        return self.message


class WorkerNotConfigured(WorkerError):
    """No interpreter recorded: ``skyseg install-plugin`` was not run."""


class WorkerDied(WorkerError):
    """The worker process exited (crashed, killed, or could not start)."""


class SharedUnavailable(WorkerError):
    """The shared worker's socket cannot be used (another user's, refused...): a private worker
    is started instead."""


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


def shared_socket_path():
    """Where the shared worker listens: ``SKYSEG_WORKER_SOCKET``, else ``skyseg/worker.sock`` in
    the user's runtime folder (``XDG_RUNTIME_DIR``) or ``<tmp>/skyseg-<uid>/worker.sock``; None
    where there are no Unix sockets (Windows) or ``SKYSEG_WORKER_SHARED=0``."""
    if (
        os.environ.get("SKYSEG_WORKER_SHARED", "1") == "0"
        or not hasattr(socket, "AF_UNIX")
        or not hasattr(os, "getuid")
    ):
        return None
    if os.environ.get("SKYSEG_WORKER_SOCKET"):
        return os.environ["SKYSEG_WORKER_SOCKET"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "skyseg", "worker.sock")
    return os.path.join(tempfile.gettempdir(), f"skyseg-{os.getuid()}", "worker.sock")


LOG_MAX_BYTES = 1 << 20
"""A worker log larger than this is started afresh when the next worker starts."""


def worker_command(config: dict) -> list:
    """The command line that starts the worker."""
    return [config["python"], *config.get("args", ["-m", "skyseg_core", "worker"])]


class SkysegClient:
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
                self._note(f"not using the shared worker ({exc.message}); starting a private one")
        env = self._environment()
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
        self._open_log()
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

    def _environment(self) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        for var in ("PYTHONHOME", "PYTHONPATH"):  # the host's Python settings are not the worker's
            if var not in self.env:
                env.pop(var, None)
        return env

    # -- the shared worker -------------------------------------------------------------------

    def _note(self, text: str) -> None:
        """A line in the log (what the client decided, for the user who reads it)."""
        if not self.log_path:
            return
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} client {os.getpid()}: {text}\n")
        except OSError:
            pass

    @staticmethod
    def _own(path: str, what: str, kind, private: bool = True) -> os.stat_result:
        """``path``'s lstat, if it is this user's ``kind`` (stat.S_ISDIR...) and (``private``)
        closed to others."""
        info = os.lstat(path)
        if not kind(info.st_mode):
            raise SharedUnavailable(f"{path} is not a {what}")
        if info.st_uid != os.getuid():
            raise SharedUnavailable(f"{path} belongs to another user (uid {info.st_uid})")
        if private and info.st_mode & 0o077:
            raise SharedUnavailable(
                f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o})"
            )
        return info

    def _start_shared(self) -> dict:
        path = self.socket_path
        folder = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            self._own(folder, "folder", stat.S_ISDIR)
        except OSError as exc:
            raise SharedUnavailable(f"cannot use {folder}: {exc.strerror or exc}") from None
        refusal = ""
        for attempt in range(2):
            sock = self._connect(path)
            if sock is None:
                self._spawn_shared(path)
                sock = self._connect(path)
                if sock is None:
                    raise SharedUnavailable(
                        f"the shared worker does not accept connections on {path}"
                    )
            ready = self._hello(sock, strict=attempt == 0)
            if ready.get("ready") and ready.get("protocol") == PROTOCOL_VERSION:
                self.ready_info = ready
                self._lines = queue.Queue()
                threading.Thread(
                    target=self._read_socket, args=(self._sock_files[0], self._lines), daemon=True
                ).start()
                return ready
            self._close_socket()
            refusal = ready.get("error") or f"it answered {ready!r}"
            self._note(f"the shared worker (pid {ready.get('pid')}) refused: {refusal}")
            self._wait_gone(path, ready.get("pid"))
        raise SharedUnavailable(f"the shared worker refused the connection: {refusal}")

    def _connect(self, path: str):
        """A connected socket, or None when no worker listens. A stale socket is left to the
        worker started next, which removes it under its lock: one removed here could be that of
        a worker that has bound it and not yet listens."""
        if not os.path.lexists(path):
            return None
        self._own(path, "socket", stat.S_ISSOCK, private=False)  # its folder is private (checked)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10.0)
        try:
            sock.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            return None
        except OSError as exc:
            sock.close()
            raise SharedUnavailable(f"cannot connect to {path}: {exc.strerror or exc}") from None
        self._sock = sock
        self._sock_files = (sock.makefile("rb"), sock.makefile("wb"))
        self._sock_eof = False
        return sock

    def _spawn_shared(self, path: str) -> None:
        """Start ``skyseg worker --socket`` detached (it outlives this process) and wait for its
        line saying the socket accepts connections."""
        command = [*self.command, "--socket", path, "--detach"]
        if self.idle_timeout is not None:
            command += ["--idle-timeout", f"{self.idle_timeout:g}"]
        self._open_log(f"client {os.getpid()} starts the shared worker: {' '.join(command)}")
        log, self._log = self._log, None
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log if log is not None else subprocess.DEVNULL,
                env=self._environment(),
                start_new_session=True,
            )
        except OSError as exc:
            raise SharedUnavailable(
                f"cannot start the shared worker ({' '.join(command)}): {exc}"
            ) from None
        finally:
            if log is not None:
                log.close()
        lines: queue.Queue = queue.Queue()

        def read_first_line():
            try:
                lines.put(process.stdout.readline() or None)
                process.stdout.read()  # to EOF (the worker closes its end at once), then close
            except (OSError, ValueError):
                lines.put(None)
            finally:
                process.stdout.close()

        threading.Thread(target=read_first_line, daemon=True).start()
        try:
            raw = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            raw = b""
        try:
            line = json.loads(raw or b"null")
        except ValueError:
            line = None
        if isinstance(line, dict) and "listening" in line:
            try:  # the started process exits as soon as its detached child serves
                process.wait(self.start_timeout)
            except subprocess.TimeoutExpired:
                pass
        else:
            if process.poll() is None:
                process.kill()
            process.wait()
            what = (
                f"exit status {process.returncode}"
                if raw is None
                else f"its first line: {raw[:200]!r}"
            )
            raise SharedUnavailable(f"the shared worker did not start ({what})")

    def _hello(self, sock, strict: bool) -> dict:
        token_path = self.socket_path + ".token"
        try:
            self._own(token_path, "file", stat.S_ISREG)
            with open(token_path, encoding="utf-8") as fh:
                token = fh.read().strip()
            hello = {
                "hello": True,
                "token": token,
                "protocol": PROTOCOL_VERSION,
                "python": self.command[0],
            }
            if strict and self.expected_version:
                hello["version"] = self.expected_version
            rfile, wfile = self._sock_files
            wfile.write((json.dumps(hello) + "\n").encode("utf-8"))
            wfile.flush()
            sock.settimeout(max(self.start_timeout, 1.0))
            answer = json.loads(rfile.readline(65536) or b"null")
            sock.settimeout(None)
        except (OSError, ValueError) as exc:
            self._close_socket()
            raise SharedUnavailable(f"no hello from the shared worker ({exc})") from None
        return answer if isinstance(answer, dict) else {}

    def _wait_gone(self, path: str, pid, timeout: float = 5.0) -> None:
        """Wait for a refusing worker (which exits) to remove its socket."""
        deadline = time.monotonic() + timeout
        while os.path.lexists(path) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _read_socket(self, rfile, lines):
        try:
            for raw in rfile:
                lines.put(raw)
        except (OSError, ValueError):
            pass
        self._sock_eof = True
        lines.put(None)

    def _close_socket(self) -> None:
        sock, files = self._sock, self._sock_files
        self._sock, self._sock_files = None, None
        if sock is not None:
            try:  # wakes the reader thread first (closing its file while it reads would wait for it)
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for item in (*(files or ())[::-1], sock):
            if item is not None:
                try:
                    item.close()
                except OSError:
                    pass

    def _kill_shared(self) -> None:
        """Stop a shared worker that hangs (it is this user's: the socket's checks said so)."""
        pid = (self.ready_info or {}).get("pid")
        self._close_socket()
        if not isinstance(pid, int) or pid <= 0:
            return
        import signal

        for sig, wait in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 0.0)):
            try:
                os.kill(pid, sig)
            except OSError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    return
                time.sleep(0.05)

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

    def _open_log(self, what=None):
        """Open the log for a worker's stderr (a line says when and which process)."""
        self._log = None
        if not self.log_path:
            return
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
            too_big = (
                os.path.isfile(self.log_path) and os.path.getsize(self.log_path) > LOG_MAX_BYTES
            )
            self._log = open(self.log_path, "w" if too_big else "a", encoding="utf-8")  # noqa: SIM115
            what = what or f"worker {self.process.pid}: {' '.join(self.command)}"
            self._log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {what}\n")
            self._log.flush()
        except OSError:
            self._log = None  # no log is no reason to fail: the lines stay in the message

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


# -- the parameter schema and the controls built from it --------------------------------------------

SKY_FILE = "file"
"""The sky choice that means "an image file" (given in the ``<field>_file`` control)."""
SKY_NONE = "none"
"""The sky choice of an optional sky (relight's) that means "no sky: use the temperature"."""
STOP_LABELS = {0.0: "Horizon colour", 1.0: "Top colour"}
"""Labels of the tint's colour stops by position (position 0 is painted at the horizon)."""


# -- pixels: binary Netpbm (PPM colour, PGM grey), the uncompressed exchange with the worker -------


def _big_endian_words(data: bytes) -> bytes:
    """16-bit samples between this machine's order and Netpbm's big-endian one (both ways)."""
    if sys.byteorder == "big":
        return bytes(data)
    words = array.array("H", data)
    words.byteswap()
    return words.tobytes()


def write_netpbm(
    path: str, width: int, height: int, channels: int, data: bytes, sixteen: bool = False
) -> None:
    """Write raw samples as binary PPM (3 channels) or PGM (1): no compression to wait for.

    ``data``: ``height`` rows of ``width`` pixels of ``channels`` samples, one byte each, or
    native-order 16-bit words with ``sixteen`` (what the hosts' pixel APIs hand out).
    """
    if channels not in (1, 3):
        raise ValueError(f"Netpbm holds 1 or 3 channels, not {channels}")
    size = width * height * channels * (2 if sixteen else 1)
    if len(data) != size:
        raise ValueError(
            f"{len(data)} bytes of pixels for a {width}x{height}x{channels} image, expected {size}"
        )
    header = b"P%d\n%d %d\n%d\n" % (
        6 if channels == 3 else 5,
        width,
        height,
        65535 if sixteen else 255,
    )
    with open(path, "wb") as fh:
        fh.write(header)
        fh.write(_big_endian_words(data) if sixteen else data)


def read_netpbm(path: str) -> tuple:
    """A binary PPM or PGM as ``(width, height, channels, sixteen, data)``; 16-bit samples come
    back as native-order words. Raises :class:`WorkerError` for anything else."""
    with open(path, "rb") as fh:
        blob = fh.read()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:  # magic, width, height, maxval; "#" comments between them
        while pos < len(blob) and blob[pos : pos + 1].isspace():
            pos += 1
        if blob[pos : pos + 1] == b"#":
            pos = blob.find(b"\n", pos) + 1 or len(blob)
            continue
        end = pos
        while end < len(blob) and not blob[end : end + 1].isspace():
            end += 1
        if end == pos:
            break
        fields.append(blob[pos:end])
        pos = end
    try:
        magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        raise WorkerError(f"the worker's output {path} is not a PPM/PGM file") from None
    if magic not in (b"P5", b"P6") or maxval not in (255, 65535):
        raise WorkerError(f"the worker's output {path} is not an 8- or 16-bit binary PPM/PGM file")
    channels, sixteen = (3 if magic == b"P6" else 1), maxval == 65535
    data = blob[pos + 1 :]
    if len(data) != width * height * channels * (2 if sixteen else 1):
        raise WorkerError(f"the worker's output {path} is truncated")
    return width, height, channels, sixteen, (_big_endian_words(data) if sixteen else data)


def load_schema(folder: str, client=None, timeout: float = 60.0) -> dict:
    """The parameter schema: ``skyseg_schema.json`` in ``folder`` (written by ``skyseg
    install-plugin``), else the worker's ``schema`` reply.

    ``client`` is the :class:`SkysegClient` to ask, or a function that returns it (default: one
    configured from ``folder``, stopped afterwards). Raises :class:`WorkerError` when neither works.
    """
    path = os.path.join(folder, SCHEMA_NAME)
    problem = ""
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as fh:
                schema = json.load(fh)
            if (
                isinstance(schema, dict)
                and schema.get("protocol", PROTOCOL_VERSION) == PROTOCOL_VERSION
                and isinstance(schema.get("effects"), dict)
            ):
                return schema
            problem = f"{path} is from another skyseg version"
        except (OSError, ValueError) as exc:
            problem = f"cannot read {path}: {exc}"
    own = client is None
    try:
        if own:
            client = SkysegClient.from_folder(folder, start_timeout=timeout)
        elif callable(client):
            client = client()
        return client.request("schema", timeout=timeout)["output"]
    except RequestFailed as exc:
        raise RequestFailed(f"{exc}" + (f" ({problem})" if problem else ""), exc.kind) from None
    except WorkerError as exc:
        raise type(exc)(
            exc.message + (f" ({problem})" if problem else ""), exc.details, exc.log_path
        ) from None
    finally:
        if own and client is not None:
            client.stop()


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


def sky_choices(schema: dict, optional: bool = False) -> list:
    """(nick, label) of a sky menu: the presets, then "file"; an optional sky starts with "none"."""
    out = [(SKY_NONE, "None (use the temperature)")] if optional else []
    out += [(name, _title(name.replace("_", " "))) for name in schema.get("skies", [])]
    return out + [(SKY_FILE, "Image file...")]


def source_controls(schema: dict) -> list:
    """The controls every request shares: the method (a menu of the registry's methods) and
    refine, with the labels, help and defaults of the matte source's declaration
    (``source_fields``)."""
    declared = {f["name"]: f for f in schema.get("source_fields", [])}
    method, refine = declared.get("method", {}), declared.get("refine", {})
    methods = [
        (m["name"], m["name"] if m.get("available", True) else f"{m['name']} (model missing)")
        for m in schema.get("methods", [])
    ]
    helps = "; ".join(f"{m['name']}: {m['description']}" for m in schema.get("methods", []))
    return [
        {
            "key": "method",
            "field": "method",
            "kind": "choice",
            "label": method.get("label", "Method"),
            "help": method.get("help", "how the sky is found") + " (" + helps + ")",
            "default": method.get("default", schema.get("source", {}).get("method")),
            "choices": methods,
        },
        {
            "key": "refine",
            "field": "refine",
            "kind": "bool",
            "label": refine.get("label", "Refine edges"),
            "help": refine.get("help", ""),
            "default": bool(refine.get("default", schema.get("source", {}).get("refine", True))),
        },
    ]


def effect_names(schema: dict) -> list:
    """The effects the worker offers, in its registry's order (each is also an op)."""
    return list(schema.get("effects", {}))


def effect_actions(schema: dict) -> list:
    """One plug-in action per effect the worker offers, in its order: ``effect``, ``action``
    (its title as a name: "tint_sky"), ``title`` ("Tint sky"), ``layer_name`` ("Sky tinted").
    Each host names its procedure or menu action after ``action``."""
    out = []
    for effect in effect_names(schema):
        identity = effect_identity(schema, effect)
        out.append(
            {
                "effect": effect,
                "action": "_".join(identity["title"].lower().split()),
                "title": identity["title"],
                "layer_name": identity["layer_name"],
            }
        )
    return out


def effect_identity(schema: dict, effect: str) -> dict:
    """What the plug-ins call ``effect``: ``title`` (menus: "Tint sky"), ``layer_name`` (the
    result layer: "Sky tinted"), ``verb``, ``summary``, ``needs_sky``, as the worker declares."""
    declared = dict(schema.get("steps", {}).get(effect) or {})
    title = declared.get("title") or _title(effect.replace("_", " "))
    declared.setdefault("title", title)
    declared.setdefault("layer_name", title)
    declared.setdefault("summary", "")
    return declared


def effect_looks(schema: dict, effect: str) -> dict:
    """The named looks of ``effect`` (look -> changes from the defaults)."""
    steps = schema.get("steps")
    if steps is not None:
        return dict((steps.get(effect) or {}).get("looks") or {})
    return dict(schema.get("looks") or {}) if effect == "replace" else {}  # an older schema


def default_look(schema: dict, effect: str = "replace") -> str:
    """The look of ``effect`` that is the declared defaults (no changes), else the first one."""
    looks = effect_looks(schema, effect)
    return next((name for name, changes in looks.items() if not changes), next(iter(looks), ""))


def effect_controls(schema: dict, effect: str) -> list:
    """The controls of ``effect``, in declaration order, each a dict.

    ``key`` (unique, the plug-ins' argument/widget name), ``field`` (the declared field), ``kind``
    (float, bool, choice, colour, file), ``label``, ``help``, ``default`` and, by kind, ``low``,
    ``high``, ``unit``, ``decimals`` (float), ``choices`` ((nick, label) pairs) or ``position``
    (colour: the stop's position). A pair becomes two floats ``<name>_x``/``<name>_y``; the
    gradient one colour per default stop; a sky (free text: a preset, a bundled name or a file)
    a menu of the presets plus "file" and a ``<name>_file`` control; an effect with looks starts
    with a menu of them.
    """
    fields = schema.get("effects", {}).get(effect)
    if fields is None:
        raise WorkerError(f"the skyseg schema has no effect {effect!r}")
    out: list[dict[str, Any]] = []
    looks = effect_looks(schema, effect)
    if looks:
        out.append(
            {
                "key": "look",
                "field": "look",
                "kind": "choice",
                "label": "Look",
                "help": "a named look; it sets the controls left at their default",
                "default": default_look(schema, effect),
                "choices": [(name, _title(name)) for name in looks],
            }
        )
    for f in fields:
        base = {"field": f["name"], "help": f.get("help", ""), "label": f["label"]}
        number = {
            "kind": "float",
            "low": f.get("low"),
            "high": f.get("high"),
            "unit": f.get("unit", ""),
            "decimals": f.get("decimals", 2),
        }
        if f["type"] == "float":
            out.append(dict(base, key=f["name"], default=float(f["default"]), **number))
        elif f["type"] == "pair":
            for axis, value in zip("xy", f["default"], strict=True):
                out.append(
                    dict(
                        base,
                        key=f"{f['name']}_{axis}",
                        label=f"{f['label']} {axis}",
                        default=float(value),
                        **number,
                    )
                )
        elif f["type"] == "bool":
            out.append(dict(base, key=f["name"], kind="bool", default=bool(f["default"])))
        elif f["type"] == "stops":
            for i, (pos, colour) in enumerate(f["default"]):
                label = STOP_LABELS.get(float(pos), f"Colour at {float(pos):g}")
                out.append(
                    dict(
                        base,
                        key=f"{f['name']}_{i}",
                        kind="colour",
                        label=label,
                        default=colour,
                        position=float(pos),
                    )
                )
        elif f["type"] == "text" and f.get("choices"):
            out.append(
                dict(
                    base,
                    key=f["name"],
                    kind="choice",
                    default=f["default"],
                    choices=[(c, _title(c.replace("_", " "))) for c in f["choices"]],
                )
            )
        elif f["type"] == "text":  # a sky: a preset, a bundled name or an image file
            optional = f["default"] is None
            out.append(
                dict(
                    base,
                    key=f["name"],
                    kind="choice",
                    default=SKY_NONE if optional else f["default"],
                    choices=sky_choices(schema, optional),
                )
            )
            out.append(
                dict(
                    base,
                    key=f"{f['name']}_file",
                    kind="file",
                    label=f"{f['label']} file",
                    help=f'the image file when {f["label"]} is "file"',
                    default="",
                )
            )
        else:
            raise WorkerError(
                f"the skyseg schema has a field of unknown type {f['type']!r} ({f['name']})"
            )
    return out


def control_defaults(controls: list) -> dict:
    """key -> default of ``controls``."""
    return {c["key"]: c["default"] for c in controls}


def effect_params(schema: dict, effect: str, values: dict, apply_look: bool = True) -> dict:
    """The worker parameters of ``effect`` from the controls' ``values`` (key -> value; missing
    keys take the default).

    With ``apply_look``, the look's values replace those left at their declared default. A sky
    of "file" takes the ``<field>_file`` path (a :class:`WorkerError` when it is empty), "none"
    means no sky.
    """
    controls = effect_controls(schema, effect)
    values = dict(control_defaults(controls), **{k: v for k, v in values.items() if v is not None})
    fields = {f["name"]: f for f in schema["effects"][effect]}
    params: dict[str, Any] = {}
    for c in controls:
        name, value = c["field"], values[c["key"]]
        if name == "look":
            continue
        if c["kind"] == "colour":
            params.setdefault(name, []).append([c["position"], str(value)])
        elif c["key"] in (f"{name}_x", f"{name}_y") and fields.get(name, {}).get("type") == "pair":
            params.setdefault(name, []).append(float(value))
        elif c["kind"] == "file":
            continue
        elif (
            c["kind"] == "choice"
            and name in fields
            and fields[name]["type"] == "text"
            and not fields[name].get("choices")
        ):
            if value == SKY_FILE:
                path = str(values.get(f"{name}_file") or "").strip()
                if not path:
                    raise WorkerError(f"{c['label']}: choose an image file (or a preset)")
                value = path
            params[name] = None if value == SKY_NONE else value
        elif c["kind"] == "float":
            params[name] = float(value)
        else:
            params[name] = value
    look = values.get("look")
    looks = effect_looks(schema, effect)
    if apply_look and look and look in looks:
        for name, changed in looks[look].items():
            if name in fields and params.get(name) == fields[name]["default"]:
                params[name] = changed
    return params
