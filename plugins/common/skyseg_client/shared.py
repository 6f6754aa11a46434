"""The shared worker: one ``skyseg worker --socket`` per user on a private Unix socket, found
warm by short-lived plug-in processes (GIMP starts one per call), started detached when none
listens, and refused (a private worker instead) when the socket is not this user's own."""

from __future__ import annotations

import json
import os
import queue
import socket
import stat
import subprocess
import tempfile
import threading
import time
from typing import Any

from .contract import PROTOCOL_VERSION
from .errors import SharedUnavailable
from .launch import note, open_log, worker_environment


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


class SharedWorker:
    """The client's connection to the shared worker (a base of
    :class:`~skyseg_client.client.SkysegClient`, which sets these attributes)."""

    command: list
    env: dict
    log_path: str | None
    socket_path: str
    idle_timeout: float | None
    expected_version: str | None
    start_timeout: float
    # set while starting and connecting, None before: typed loosely, as the client always did
    ready_info: Any
    _lines: Any
    _sock: Any
    _sock_files: Any
    _sock_eof: bool

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
            note(self.log_path, f"the shared worker (pid {ready.get('pid')}) refused: {refusal}")
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
        log = open_log(
            self.log_path, f"client {os.getpid()} starts the shared worker: {' '.join(command)}"
        )
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log if log is not None else subprocess.DEVNULL,
                env=worker_environment(self.env),
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
