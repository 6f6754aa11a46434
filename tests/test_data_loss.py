"""Nothing the user owns is lost: hostile situations built around `skyseg install-plugin` and
`skyseg worker --socket`, and what must still be there afterwards.

The plug-in sources an install copies from are a copy in the test's folder (``PLUGINS`` is
patched), so a failing test can never delete the checkout's own.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import importlib
import io
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from skyseg_core.cli import install_plugin, main
from skyseg_core.cli._host_settings import kritarc_with_plugin
from skyseg_core.cli.install_plugin import MARKER_NAME, enable_in_kritarc
from skyseg_core.resources import plugins_dir
from skyseg_core.worker import PROTOCOL_VERSION
from skyseg_core.worker.socket_server import SocketServer
from tests.corpus import snapshot

# -- skyseg install-plugin ------------------------------------------------------------------------


def _install(host, dest, *more) -> int:
    return main(["install-plugin", host, "--dest", str(dest), *more])


def _one_line(capfd, *words) -> str:
    err = capfd.readouterr().err
    assert len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, err
    return err


def _user_folder(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "skyseg.py").write_text("# the user's own script\n")
    (path / "notes.txt").write_text("keep me\n")


@pytest.mark.parametrize("host, name", [("gimp", "skyseg"), ("krita", "skyseg_krita")])
def test_a_folder_no_install_made_is_refused_and_kept(host, name, sources, tmp_path, capfd):
    dest = tmp_path / "plug-ins"
    _user_folder(dest / name)
    kritarc = tmp_path / "kritarc"
    before = snapshot(tmp_path)
    assert _install(host, dest, "--kritarc", str(kritarc)) == 2
    _one_line(capfd, str(dest / name), "not made by skyseg install-plugin")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", ["file", "link to a folder", "dangling link"])
def test_something_else_in_the_plugin_place_is_refused_and_kept(kind, sources, tmp_path, capfd):
    dest = tmp_path / "plug-ins"
    dest.mkdir()
    elsewhere = tmp_path / "elsewhere"
    _user_folder(elsewhere)
    (elsewhere / MARKER_NAME).write_text("{}")  # even a marker does not make a link ours
    if kind == "file":
        (dest / "skyseg").write_text("a file of the user's\n")
    else:
        (dest / "skyseg").symlink_to(elsewhere if kind == "link to a folder" else tmp_path / "no")
    before = snapshot(tmp_path)
    assert _install("gimp", dest) == 2
    _one_line(capfd, "not made by skyseg install-plugin")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "host, where",
    [
        ("gimp", "gimp"),  # the installed folder would be the source itself
        ("krita", "krita"),
        ("gimp", "gimp/skyseg"),  # inside the source
        ("gimp", "."),  # the sources' root
    ],
)
def test_dest_in_the_plugin_sources_is_refused(host, where, sources, tmp_path, capfd):
    before = snapshot(sources)
    assert _install(host, sources / where, "--kritarc", str(tmp_path / "kritarc")) == 2
    _one_line(capfd, "inside the plug-in sources")
    assert snapshot(sources) == before and not (tmp_path / "kritarc").exists()


def test_dest_whose_plugin_folder_holds_the_sources_is_refused(tmp_path, monkeypatch, capfd):
    checkout = tmp_path / "skyseg"  # a checkout named like the plug-in folder
    shutil.copytree(plugins_dir(), checkout / "plugins")
    monkeypatch.setattr(install_plugin, "PLUGINS", checkout / "plugins")
    before = snapshot(checkout)
    assert _install("gimp", tmp_path) == 2
    _one_line(capfd, "holds the plug-in sources")
    assert snapshot(checkout) == before


def test_a_previous_install_is_replaced_marked_or_from_before_the_marker(sources, tmp_path):
    dest = tmp_path / "plug-ins"
    assert _install("gimp", dest, "--python", "/old/python") == 0
    target = dest / "skyseg"
    assert json.loads((target / MARKER_NAME).read_text())["made_by"] == "skyseg install-plugin"
    assert _install("gimp", dest) == 0  # the marked folder is replaced
    assert json.loads((target / "skyseg_worker.json").read_text())["python"] != "/old/python"
    (target / MARKER_NAME).unlink()  # as installs made before the marker
    assert _install("gimp", dest, "--python", "/new/python") == 0
    assert json.loads((target / "skyseg_worker.json").read_text())["python"] == "/new/python"
    assert sorted(p.name for p in dest.iterdir()) == ["skyseg"]  # no staging or backup left


def test_krita_desktop_file_of_the_user_is_refused_and_kept(sources, tmp_path, capfd):
    dest = tmp_path / "pykrita"
    dest.mkdir()
    (dest / "skyseg_krita.desktop").write_text("[Desktop Entry]\nName=mine\n")
    before = snapshot(tmp_path)
    assert _install("krita", dest, "--kritarc", str(tmp_path / "kritarc")) == 2
    _one_line(capfd, "skyseg_krita.desktop", "not written by skyseg install-plugin")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left"), KeyboardInterrupt()])
def test_a_failed_kritarc_step_restores_the_previous_install(
    failure, sources, tmp_path, monkeypatch
):
    dest, kritarc = tmp_path / "pykrita", tmp_path / "config" / "kritarc"
    kritarc.parent.mkdir()
    kritarc.write_bytes(b"[General]\ntheme=dark\n")
    assert _install("krita", dest, "--kritarc", str(kritarc), "--python", "/old/python") == 0
    (dest / "skyseg_krita" / "skyseg_krita.desktop.note").write_text("a previous install")
    kritarc.write_bytes(b"[General]\ntheme=dark\n")  # the user disabled it since
    before = snapshot(tmp_path)
    real_write = install_plugin.write_bytes_atomic

    def failing_write(path, write, **kwargs):
        if Path(path) == kritarc:
            raise failure
        return real_write(path, write, **kwargs)

    monkeypatch.setattr(install_plugin, "write_bytes_atomic", failing_write)
    if isinstance(failure, OSError):
        assert _install("krita", dest, "--kritarc", str(kritarc)) == 2
    else:
        with pytest.raises(KeyboardInterrupt):
            install_plugin.install("krita", dest, kritarc=kritarc)
    assert (
        snapshot(tmp_path) == before
    )  # the previous install, desktop file and kritarc as they were


def test_a_failed_first_install_leaves_nothing(sources, tmp_path, monkeypatch):
    dest, kritarc = tmp_path / "pykrita", tmp_path / "kritarc"

    def no_room(path, write, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(install_plugin, "write_bytes_atomic", no_room)
    assert _install("krita", dest, "--kritarc", str(kritarc)) == 2
    assert list(dest.iterdir()) == [] and not kritarc.exists()


_KRITARC = "[General]\nfont=Cantarell café\n\n[python]\nenable_other=true\nenable_skyseg_krita=false\n\n[X]\na=ü\n"


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("latin-1"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF16_BE + text.replace("\n", "\r\n").encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "latin-1", "crlf", "utf-16-le", "utf-16-be-crlf"],
)
def test_kritarc_keeps_every_byte_it_does_not_change(encode, tmp_path):
    kritarc = tmp_path / "kritarc"
    kritarc.write_bytes(encode(_KRITARC))
    enable_in_kritarc(kritarc)
    assert kritarc.read_bytes() == encode(_KRITARC.replace("krita=false", "krita=true"))
    missing = _KRITARC.replace("enable_skyseg_krita=false\n", "")
    kritarc.write_bytes(encode(missing))
    enable_in_kritarc(kritarc)
    assert kritarc.read_bytes() == encode(
        missing.replace("enable_other=true\n", "enable_other=true\nenable_skyseg_krita=true\n")
    )


def test_kritarc_without_python_section_or_final_newline():
    assert kritarc_with_plugin(b"") == b"[python]\nenable_skyseg_krita=true\n"
    assert kritarc_with_plugin(b"[General]\nx=\xe9") == (
        b"[General]\nx=\xe9\n\n[python]\nenable_skyseg_krita=true\n"
    )
    assert kritarc_with_plugin(b"[python]\r\nenable_skyseg_krita = true\r\n") == (
        b"[python]\r\nenable_skyseg_krita = true\r\n"  # already on: not a byte changed
    )


def test_kritarc_is_replaced_atomically_through_its_link_keeping_its_mode(tmp_path):
    real = tmp_path / "dotfiles" / "kritarc"
    real.parent.mkdir()
    real.write_bytes(b"[General]\ntheme=dark\n")
    real.chmod(0o600)
    link = tmp_path / "kritarc"
    link.symlink_to(real)
    inode = real.stat().st_ino
    enable_in_kritarc(link)
    assert link.is_symlink() and real.read_bytes().endswith(b"enable_skyseg_krita=true\n")
    assert real.stat().st_ino != inode  # a new file renamed into place, not rewritten in place
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(os.listdir(real.parent)) == ["kritarc"]


# -- skyseg worker --socket -----------------------------------------------------------------------

WORKER = [sys.executable, "-m", "skyseg_core", "worker"]


@pytest.fixture
def run_folder():
    """A fresh private folder with a short path (Unix socket paths have ~100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="skyseg-dl-", dir="/tmp")) / "run"
    folder.mkdir(mode=0o700)
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


def _worker_cli(path: Path, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*WORKER, "--socket", str(path), "--idle-timeout", "5", *more],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_text("the user's notes\n"),
        lambda p: p.mkdir(),
        lambda p: p.symlink_to(p.with_name("elsewhere")),
        _fifo,
    ],
    ids=["file", "folder", "link", "fifo"],
)
@pytest.mark.parametrize("detach", [(), ("--detach",)], ids=["", "detach"])
def test_worker_refuses_what_is_no_socket_at_its_path(make, detach, run_folder):
    path = run_folder / "worker.sock"
    make(path)
    token = run_folder / "worker.sock.token"
    token.write_text("the user's own token file\n")
    before = snapshot(run_folder)
    result = _worker_cli(path, *detach)
    assert result.returncode == 2 and result.stdout == "", result
    assert len(result.stderr.splitlines()) == 1 and "is not a socket" in result.stderr, result
    assert snapshot(run_folder) == before


def test_worker_refuses_a_token_file_it_did_not_write(run_folder):
    path, token = run_folder / "worker.sock", run_folder / "worker.sock.token"
    token.write_text("0123456789abcdef0123456789abcdef and more\n")
    before = snapshot(run_folder)
    result = _worker_cli(path)
    assert result.returncode == 2 and "is not a token skyseg wrote" in result.stderr, result
    assert len(result.stderr.splitlines()) == 1
    assert snapshot(run_folder) == before  # no socket left either


@contextlib.contextmanager
def _serving(path: Path, idle_timeout: float = 30.0):
    """A SocketServer on ``path`` served from a thread, stopped on leaving."""
    server = SocketServer(path, idle_timeout=idle_timeout, log=io.StringIO())
    assert server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, thread
    finally:
        server.stop()
        thread.join(10)
        assert not thread.is_alive()


def _hello(path: Path, token: str) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        hello = {"hello": True, "token": token, "protocol": PROTOCOL_VERSION}
        s.sendall((json.dumps(hello) + "\n").encode())
        return json.loads(s.makefile("rb").readline())


def test_a_second_worker_on_a_live_socket_keeps_the_token(run_folder):
    path, token = run_folder / "worker.sock", run_folder / "worker.sock.token"
    with _serving(path) as (server, _):
        issued = token.read_text()
        assert issued == server.token
        second = SocketServer(path, idle_timeout=30, log=io.StringIO())
        assert not second.bind()
        result = _worker_cli(path, "--detach")  # the command, as a plug-in starts it
        assert result.returncode == 0 and json.loads(result.stdout)["already"], result
        assert token.read_text() == issued
        assert _hello(path, issued)["ready"]
    assert not path.exists() and not token.exists()  # the first one cleans up after itself


def test_a_stale_socket_and_token_are_replaced(run_folder):
    path, token = run_folder / "worker.sock", run_folder / "worker.sock.token"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # a socket nobody listens on: its worker was killed
    dead.close()
    token.write_text("f" * 32)
    with _serving(path) as (server, _):
        assert token.read_text() == server.token != "f" * 32
        assert _hello(path, server.token)["ready"]


def test_refused_connections_do_not_keep_the_worker_alive(run_folder):
    path = run_folder / "worker.sock"
    server = SocketServer(path, idle_timeout=1.0, log=io.StringIO())
    assert server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    started = time.monotonic()
    thread.start()
    try:
        while thread.is_alive() and time.monotonic() - started < 8:
            try:
                assert _hello(path, "0" * 32)["error"] == "wrong token"
            except (ConnectionRefusedError, FileNotFoundError):
                break  # it has closed: gone idle
            time.sleep(0.1)
        thread.join(3)
        assert not thread.is_alive(), "refused connections kept the worker up"
        assert time.monotonic() - started < 6
    finally:
        server.stop()
        thread.join(10)


@pytest.fixture
def client_module(monkeypatch):
    monkeypatch.syspath_prepend(str(plugins_dir() / "common"))
    return importlib.import_module("skyseg_client")


def test_three_calls_at_once_reach_one_shared_worker(client_module, run_folder):
    path = str(run_folder / "worker.sock")
    clients = [
        client_module.SkysegClient(
            WORKER,
            socket_path=path,
            idle_timeout=20,
            start_timeout=60,
            log_path=str(run_folder.parent / "worker.log"),
        )
        for _ in range(3)
    ]
    barrier = threading.Barrier(len(clients))
    replies = [None] * len(clients)

    def call(i):
        barrier.wait()
        replies[i] = clients[i].request("ping", timeout=60)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    pids = {c.ready_info["pid"] for c in clients if c.ready_info}
    try:
        assert all(reply and reply["ok"] for reply in replies), replies
        assert [c.shared_problem for c in clients] == [None] * 3
        assert all(c.shared for c in clients) and len(pids) == 1, pids
    finally:
        for c in clients:
            c.stop()
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)


def test_the_client_never_removes_what_is_at_the_socket_path(client_module, run_folder):
    path = run_folder / "worker.sock"
    path.write_text("the user's notes\n")
    (run_folder / "worker.sock.token").write_text("the user's token\n")
    before = snapshot(run_folder)
    client = client_module.SkysegClient(WORKER, socket_path=str(path), start_timeout=60)
    try:
        assert client.request("ping", timeout=60)["ok"] and not client.shared
        assert "is not a socket" in client.shared_problem
    finally:
        client.stop()
    assert snapshot(run_folder) == before
