"""The skyseg worker on a per-user Unix socket, shared by the plug-in processes GIMP starts (one
module of about 420 lines: the server is one class, its folder, lock and token checks beside it).

GIMP runs every plug-in call in a new process; with a private worker each call would load
Python, numpy and the models again. ``skyseg worker --socket PATH`` serves the same JSON-lines
protocol (:mod:`skyseg_core.worker`) on a Unix socket instead: the first call starts it, later
calls connect to it, and it exits after ``idle_timeout`` seconds without a request.

Who may use it:

* the socket's folder must belong to this user and be closed to everyone else (mode 0700), and
  the socket itself is created with mode 0600;
* a connecting process must belong to this user (``SO_PEERCRED`` where the system has it);
* its first line is a hello, ``{"hello": true, "token": ..., "protocol": 2, "python": ...,
  "version": ...}``, whose token must equal the one in ``PATH.token`` (mode 0600, written by
  this process once it holds the path and before it listens). ``python`` and ``version``
  (optional) say which environment the client expects.

Starting never takes what is not skyseg's. Workers starting together settle which of them
binds one at a time, under a lock on the socket's folder; a socket at ``PATH`` that accepts a
connection is left to its worker, one that does not is stale and removed; anything else at
``PATH`` (a regular file, a folder, a link, a pipe), or a ``PATH.token`` skyseg did not write,
is refused (:class:`OutputError`) and left as it is. The token is written only once the worker
holds the path. Connections refused (wrong token, no hello) are no activity: they cannot keep a
worker from its idle timeout.

A hello of another protocol, another interpreter or another skyseg version gets
``{"ready": false, "error": ..., "protocol": ..., "version": ...}`` and the worker exits, so the
client's next start brings up one that fits. Otherwise the reply is the worker's ready line and
requests follow as on stdin/stdout; requests from several connections are served one at a time.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import socket
import stat
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from .. import __version__
from .._signals import signals_as_interrupt
from ..errors import OutputError
from .protocol import PROTOCOL_VERSION
from .server import Worker, answer, ready_line

IDLE_TIMEOUT = 600.0
"""Seconds without a request (and without a connection) after which the worker exits."""
HELLO_TIMEOUT = 10.0
"""Seconds a new connection has to send its hello."""
LOCK_TIMEOUT = 10.0
"""Seconds a starting worker waits for another starting one to settle who listens."""
TOKEN_HEX_DIGITS = 32
"""Length of the token in ``PATH.token``; a file of any other form there is not skyseg's."""


def check_private_folder(folder: Path) -> None:
    """Raise :class:`OutputError` unless ``folder`` is a real folder of this user, mode 0700."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise OutputError("not a folder", folder)
    if info.st_uid != os.getuid():
        raise OutputError(
            f"the folder belongs to user {info.st_uid}, not to this user ({os.getuid()})", folder
        )
    if info.st_mode & 0o077:
        raise OutputError(
            f"the folder is open to others (mode {stat.S_IMODE(info.st_mode):o}; needs 700)", folder
        )


def _write_token(path: Path) -> str:
    token = secrets.token_hex(TOKEN_HEX_DIGITS // 2)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    os.replace(part, path)
    return token


def _read_token(path: Path) -> str | None:
    """The token in ``path`` if it is a file skyseg wrote (this user's, 32 hex digits), else None."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        if info.st_size != TOKEN_HEX_DIGITS:
            return None
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return text if all(c in "0123456789abcdef" for c in text) else None


@contextlib.contextmanager
def _locked(folder: Path, timeout: float = LOCK_TIMEOUT):
    """Hold an exclusive ``flock`` on ``folder`` (the socket's private folder: no lock file to
    create or leave behind)."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutputError(
                        f"another worker starting here has held it for {timeout:g} s", folder
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _alive(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2.0)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _peer_uid(conn: socket.socket) -> int | None:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    import struct

    creds = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


class SocketServer:
    """The worker behind one socket (see the module's description)."""

    def __init__(
        self,
        path: str | os.PathLike,
        idle_timeout: float = IDLE_TIMEOUT,
        worker: Worker | None = None,
        log: TextIO | None = None,
    ):
        self.path = Path(path)
        self.token_path = self.path.with_name(self.path.name + ".token")
        self.idle_timeout = idle_timeout
        self.worker = worker or Worker()
        self.log = log
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last = time.monotonic()
        self._active = 0
        self._sock: socket.socket | None = None
        self._inode: int | None = None
        self.token = ""

    def _say(self, text: str) -> None:
        if self.log is not None:
            print(f"skyseg worker {os.getpid()}: {text}", file=self.log, flush=True)

    def bind(self) -> bool:
        """Create the socket, then its token, then listen; False if another live worker already
        holds the path (its token untouched). Raises :class:`OutputError`, removing nothing, if
        something other than a socket is at the path or the token file is not skyseg's."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        check_private_folder(self.path.parent)
        with _locked(self.path.parent):
            if not self._claim_path():
                return False
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            umask = os.umask(0o177)
            try:
                sock.bind(str(self.path))
            except OSError as exc:
                sock.close()
                raise OutputError(
                    f"cannot listen here ({exc.strerror or exc})", self.path
                ) from None
            finally:
                os.umask(umask)
            self._sock = sock
            self._inode = os.lstat(self.path).st_ino
            try:
                os.chmod(self.path, 0o600)
                self.token = _write_token(self.token_path)
            except BaseException:
                self.close()
                raise
            sock.listen(16)
        sock.settimeout(0.5)
        return True

    def _claim_path(self) -> bool:
        """Make the path free to bind: False if a live worker holds it; a stale socket (nothing
        accepts) is removed; anything else, and a token file skyseg did not write, is refused."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISSOCK(info.st_mode):
            raise OutputError(
                "exists and is not a socket; move it away or choose another --socket", self.path
            )
        if info is not None and _alive(self.path):
            return False
        if os.path.lexists(self.token_path) and _read_token(self.token_path) is None:
            raise OutputError(
                "exists and is not a token skyseg wrote; move it away or choose another --socket",
                self.token_path,
            )
        if info is not None:
            self.path.unlink()
            self._say(f"removed the stale socket {self.path} (no worker listens)")
        return True

    def serve_forever(self) -> int:
        """Accept connections until the idle timeout, a ``shutdown`` or a hello of another
        version; returns the number of requests served."""
        self._say(f"listening on {self.path} (idle timeout {self.idle_timeout:g} s)")
        try:
            while not self._stop.is_set():
                with self._lock:  # checked at every turn: a stream of connections is no request
                    idle = self._active == 0 and time.monotonic() - self._last > self.idle_timeout
                if idle:
                    self._say("idle: exiting")
                    break
                if self._sock is None:  # not listening: close() ran meanwhile
                    break
                try:
                    conn, _ = self._sock.accept()
                except TimeoutError:
                    continue
                with self._lock:
                    self._active += 1
                threading.Thread(target=self._connection, args=(conn,), daemon=True).start()
        finally:
            self.close()
        return self.worker.served

    def stop(self) -> None:
        """Make :meth:`serve_forever` return (within half a second)."""
        self._stop.set()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        try:  # remove the socket and token only if still ours (a newer worker may have replaced them)
            if self._inode is not None and os.lstat(self.path).st_ino == self._inode:
                self.path.unlink()
                if self.token and _read_token(self.token_path) == self.token:
                    self.token_path.unlink()
        except OSError:
            pass

    def _refuse(self, wfile, why: str, stop: bool) -> None:
        self._say(f"refused a connection: {why}")
        try:
            wfile.write(
                (
                    json.dumps(
                        {
                            "ready": False,
                            "error": why,
                            "protocol": PROTOCOL_VERSION,
                            "version": __version__,
                            "pid": os.getpid(),
                        }
                    )
                    + "\n"
                ).encode()
            )
            wfile.flush()
        except OSError:
            pass
        if stop:
            self._stop.set()

    def _hello(self, rfile, wfile) -> bool:
        try:
            hello = json.loads(rfile.readline(4096) or b"null")
        except (ValueError, OSError):
            hello = None
        if not isinstance(hello, dict) or not hello.get("hello"):
            self._refuse(wfile, "expected a hello line first", stop=False)
            return False
        if not hmac.compare_digest(str(hello.get("token", "")).encode(), self.token.encode()):
            self._refuse(wfile, "wrong token", stop=False)
            return False
        mismatch = []
        if hello.get("protocol") != PROTOCOL_VERSION:
            mismatch.append(f"protocol {hello.get('protocol')!r}, this worker {PROTOCOL_VERSION}")
        if hello.get("python") and os.path.abspath(str(hello["python"])) != os.path.abspath(
            sys.executable
        ):
            mismatch.append(f"python {hello['python']}, this worker {sys.executable}")
        if hello.get("version") and hello["version"] != __version__:
            mismatch.append(f"skyseg {hello['version']}, this worker {__version__}")
        if mismatch:  # a client of another environment: make way for a worker that fits it
            self._refuse(wfile, "the client expects " + "; ".join(mismatch), stop=True)
            return False
        wfile.write((json.dumps(ready_line()) + "\n").encode())
        wfile.flush()
        return True

    def _connection(self, conn: socket.socket) -> None:
        accepted = False
        try:
            uid = _peer_uid(conn)
            if uid is not None and uid != os.getuid():
                self._say(f"refused a connection of user {uid}")
                return
            conn.settimeout(HELLO_TIMEOUT)
            rfile, wfile = conn.makefile("rb"), conn.makefile("wb")
            if not self._hello(rfile, wfile):
                return
            accepted = True
            conn.settimeout(None)
            for raw in rfile:
                line = raw.decode("utf-8", "replace")
                if not line.strip():
                    continue
                with self._lock:
                    self._last = time.monotonic()
                    reply, shutdown = answer(self.worker, line, self.log)
                    self._last = time.monotonic()
                wfile.write((json.dumps(reply) + "\n").encode())
                wfile.flush()
                if shutdown:
                    self._stop.set()
                    break
        except OSError:
            pass  # the client went away
        finally:
            conn.close()
            with self._lock:
                self._active -= 1
                if accepted:  # a refused connection is no activity (it cannot keep the worker up)
                    self._last = time.monotonic()


def serve_socket(
    path: str | os.PathLike,
    idle_timeout: float = IDLE_TIMEOUT,
    max_pixels: int | None = None,
    log: TextIO | None = None,
    announce=None,
    detach: bool = False,
) -> int:
    """Serve on ``path`` until idle (see :class:`SocketServer`); returns the number of requests
    served (0 at once when another live worker holds the path). ``announce(line)`` is called
    with ``{"listening": path, "pid": ...}`` (or ``"already": true``) once the socket accepts.
    ``detach``: once bound, serve from a forked child; this process exits at once."""
    server = SocketServer(path, idle_timeout, Worker(max_pixels=max_pixels), log)
    bound = server.bind()
    if bound and detach and hasattr(os, "fork") and os.fork():
        os._exit(0)  # the child serves the socket bound here (and announces its own pid)
    if announce is not None:
        announce({"listening": str(server.path), "pid": os.getpid(), "already": not bound})
    if not bound:
        server._say(f"another worker already listens on {path}")
        return 0
    return server.serve_forever()


def main(
    path: str,
    idle_timeout: float = IDLE_TIMEOUT,
    max_pixels: int | None = None,
    detach: bool = False,
) -> int:
    """``skyseg worker --socket PATH``: one line on stdout once the socket accepts connections
    (``{"listening": PATH, "pid": ...}``), then stdout is closed; logs go to stderr.

    ``detach`` (``--detach``): serve from a forked child, the started process exiting as soon as
    the socket is bound, so the plug-in process that started it has nothing left to wait for. A
    path that cannot be used (:meth:`SocketServer.bind`) is refused before the fork, so the
    command still exits 2 with its one line.
    """
    announce_to = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr

    def announce(line: dict) -> None:
        try:
            announce_to.write(json.dumps(line) + "\n")
            announce_to.close()
        except OSError:
            pass  # the client is gone; the socket is there for the next one

    try:
        with signals_as_interrupt():
            serve_socket(
                path, idle_timeout, max_pixels, log=sys.stderr, announce=announce, detach=detach
            )
    finally:
        if not announce_to.closed:
            announce_to.close()
    return 0


__all__ = ["IDLE_TIMEOUT", "SocketServer", "check_private_folder", "serve_socket", "main"]
