"""`skyseg install-plugin darktable`: the Lua script into <darktable config>/lua/skyseg/ and a
`require "skyseg/skyseg"` line in its luarc, with the rules of the GIMP and Krita installs
(tests/test_data_loss.py): only a folder an install made is replaced, the luarc keeps every byte
it does not add, nothing is written before everything is checked, a failed install is undone.
(tests/test_hosts_darktable.py installs it in the real darktable's chroot and loads it.)
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from skyseg_core.cli import install_plugin, main
from skyseg_core.cli._host_settings import LUARC_LINE, lua_string, luarc_with_script
from skyseg_core.cli.install_plugin import MARKER_NAME
from tests.corpus import snapshot


def _install(config: Path, *more: str) -> int:
    return main(["install-plugin", "darktable", "--dest", str(config), *more])


def _one_line(capfd, *words: str) -> str:
    err = capfd.readouterr().err
    assert len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, err
    return err


def test_installs_the_script_its_command_and_the_luarc_line(sources, tmp_path, capfd):
    config = tmp_path / "darktable"
    assert _install(config, "--python", "/opt/env/bin/python") == 0
    target = config / "lua" / "skyseg"
    assert sorted(p.name for p in target.iterdir()) == [
        "skyseg.lua",
        "skyseg_config.lua",
        MARKER_NAME,
    ]
    assert (target / "skyseg.lua").read_bytes() == (
        sources / "darktable" / "skyseg.lua"
    ).read_bytes()
    lua = (target / "skyseg_config.lua").read_text()
    assert 'python = "/opt/env/bin/python"' in lua and 'args = {"-m", "skyseg_core"}' in lua
    assert (config / "luarc").read_text() == LUARC_LINE + "\n"
    out = capfd.readouterr().out
    assert f"installed the darktable plug-in in {target}" in out
    assert "it runs /opt/env/bin/python -m skyseg_core mask --for darktable" in out
    assert sorted(p.name for p in (config / "lua").iterdir()) == ["skyseg"]  # nothing staged left


def test_default_folder_is_darktables_config(sources, tmp_path, monkeypatch):
    monkeypatch.setenv("DARKTABLE_CONFIGDIR", str(tmp_path / "dtconf"))
    monkeypatch.setattr(install_plugin.shutil, "which", lambda name: None)
    (tmp_path / "dtconf").mkdir()  # darktable has run once: its settings folder is the sign
    assert main(["install-plugin", "darktable"]) == 0
    assert (tmp_path / "dtconf" / "lua" / "skyseg" / "skyseg.lua").is_file()


def test_no_darktable_and_no_dest_is_one_line(sources, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DARKTABLE_CONFIGDIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(install_plugin.shutil, "which", lambda name: None)
    assert main(["install-plugin", "darktable"]) == 2
    _one_line(capfd, "darktable (no darktable on PATH", "--dest")
    assert [p.name for p in tmp_path.iterdir()] == ["checkout"]  # no .config made


@pytest.mark.parametrize(
    "luarc, expected",
    [
        (b"", b'require "skyseg/skyseg"\n'),
        (
            b'require "tools/script_manager"\n',
            b'require "tools/script_manager"\nrequire "skyseg/skyseg"\n',
        ),
        (b"local x = 1", b'local x = 1\nrequire "skyseg/skyseg"\n'),  # no final newline
        (
            b"-- caf\xe9\r\nx = 2\r\n",
            b'-- caf\xe9\r\nx = 2\r\nrequire "skyseg/skyseg"\r\n',
        ),  # CRLF, Latin-1
        (b'-- require "skyseg/skyseg"\n', b'-- require "skyseg/skyseg"\nrequire "skyseg/skyseg"\n'),
        (b"require('skyseg/skyseg')\n", b"require('skyseg/skyseg')\n"),  # loaded already
        (b'x()\n  require "skyseg/skyseg"  \ny()\n', b'x()\n  require "skyseg/skyseg"  \ny()\n'),
    ],
    ids=[
        "empty",
        "other-scripts",
        "no-newline",
        "crlf-latin1",
        "commented-out",
        "parens",
        "indented",
    ],
)
def test_luarc_gets_one_line_and_keeps_every_other_byte(luarc, expected):
    assert luarc_with_script(luarc) == expected
    assert luarc_with_script(expected) == expected  # a second install adds nothing


def test_reinstall_replaces_its_own_folder_and_keeps_the_luarc(sources, tmp_path):
    config = tmp_path / "darktable"
    config.mkdir()
    (config / "luarc").write_bytes(b'require "tools/script_manager"\n')
    assert _install(config, "--python", "/old/python") == 0
    (config / "lua" / "skyseg" / "stale.lua").write_text("-- from an older version\n")
    luarc = (config / "luarc").read_bytes()
    assert _install(config, "--python", "/new/python") == 0
    target = config / "lua" / "skyseg"
    assert not (target / "stale.lua").exists()  # the folder is the new install's
    assert 'python = "/new/python"' in (target / "skyseg_config.lua").read_text()
    assert (config / "luarc").read_bytes() == luarc  # the line once
    assert sorted(p.name for p in (config / "lua").iterdir()) == ["skyseg"]


def _users_folder(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "skyseg.lua").write_text("-- the user's own script\n")
    (path / "notes.txt").write_text("keep me\n")


@pytest.mark.parametrize("kind", ["folder", "file", "link to a folder", "dangling link"])
def test_a_skyseg_folder_no_install_made_is_refused_and_kept(kind, sources, tmp_path, capfd):
    config = tmp_path / "darktable"
    lua = config / "lua"
    lua.mkdir(parents=True)
    (config / "luarc").write_text('require "mine"\n')
    elsewhere = tmp_path / "elsewhere"
    _users_folder(elsewhere)
    (elsewhere / MARKER_NAME).write_text("{}")  # even a marker does not make a link ours
    if kind == "folder":
        _users_folder(lua / "skyseg")
    elif kind == "file":
        (lua / "skyseg").write_text("a file of the user's\n")
    else:
        (lua / "skyseg").symlink_to(elsewhere if kind == "link to a folder" else tmp_path / "no")
    before = snapshot(tmp_path)
    assert _install(config) == 2
    _one_line(capfd, str(lua / "skyseg"), "not made by skyseg install-plugin")
    assert snapshot(tmp_path) == before  # the luarc untouched too


def test_a_luarc_that_is_not_a_file_is_refused_before_anything_is_written(sources, tmp_path, capfd):
    config = tmp_path / "darktable"
    (config / "luarc").mkdir(parents=True)
    before = snapshot(tmp_path)
    assert _install(config) == 2
    _one_line(capfd, "luarc", "not a regular file")
    assert snapshot(tmp_path) == before and not (config / "lua").exists()


def test_a_luarc_link_is_written_through(sources, tmp_path):
    config = tmp_path / "darktable"
    config.mkdir()
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "luarc").write_bytes(b'require "mine"\n')
    (config / "luarc").symlink_to(dotfiles / "luarc")
    assert _install(config) == 0
    assert (config / "luarc").is_symlink()  # the link stays a link
    assert (dotfiles / "luarc").read_bytes() == b'require "mine"\nrequire "skyseg/skyseg"\n'


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left"), KeyboardInterrupt()])
def test_a_failed_luarc_write_restores_the_previous_install(
    failure, sources, tmp_path, monkeypatch
):
    config = tmp_path / "darktable"
    assert _install(config, "--python", "/old/python") == 0
    (config / "luarc").write_bytes(b'require "mine"\n')  # the user took the line out since
    before = snapshot(tmp_path)
    real_write = install_plugin.write_bytes_atomic

    def failing_write(path, write, **kwargs):
        if Path(path).name == "luarc":
            raise failure
        return real_write(path, write, **kwargs)

    monkeypatch.setattr(install_plugin, "write_bytes_atomic", failing_write)
    if isinstance(failure, OSError):
        assert _install(config) == 2
    else:
        with pytest.raises(KeyboardInterrupt):
            install_plugin.install("darktable", config)
    assert snapshot(tmp_path) == before  # the previous install and the luarc as they were


def test_a_failed_first_install_leaves_nothing(sources, tmp_path, monkeypatch):
    config = tmp_path / "darktable"

    def no_room(path, write, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(install_plugin, "write_bytes_atomic", no_room)
    assert _install(config) == 2
    assert list((config / "lua").iterdir()) == [] and not (config / "luarc").exists()


@pytest.mark.parametrize("where", ["darktable", "."])
def test_dest_in_the_plugin_sources_is_refused(where, sources, tmp_path, capfd):
    before = snapshot(sources)
    assert _install(sources / where) == 2
    _one_line(capfd, "inside the plug-in sources")
    assert snapshot(sources) == before


def test_lua_strings_are_ascii_and_give_back_every_byte():
    text = 'C:/a "b" \\ c\nd é \x7f'
    literal = lua_string(text)
    assert literal.isascii() and literal.startswith('"') and literal.endswith('"')
    # Lua's decimal escapes, read back as Lua reads them
    body = re.sub(rb"\\(\d{3})", lambda m: bytes([int(m.group(1))]), literal[1:-1].encode())
    assert body == text.encode("utf-8") and "\n" not in literal
