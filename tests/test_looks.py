"""Issue 26 point 6: your own looks, saved by the editor and offered by every surface.

Each test has its own config folder (``XDG_CONFIG_HOME`` in ``tmp_path``): the user's real looks
are never read or written.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import test_editor
from conftest import ROOT, synthetic_landscape
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMessageBox
from test_editor import WAIT_MS, open_synthetic, put_sky

from skyseg_core.cli import main
from skyseg_core.effects import looks as L
from skyseg_core.effects.params import ReplaceParams, replace_preset, schema
from skyseg_core.errors import InputError
from skyseg_core.io import load_image, save_image, save_matte

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


@pytest.fixture
def config(monkeypatch, tmp_path) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder / "skyseg" / "looks"


def test_a_saved_look_is_a_small_json_file_read_back_as_saved(config):
    params = replace_preset("dramatic", sky="sunset", position=(0.2, 0.7), sky_opacity=0.6)
    path = L.save_look("Moody blue", params)
    assert path == config / "Moody blue.json" and L.looks_folder() == config
    data = json.loads(path.read_text())
    # the sky and where it sits are not part of a look; the rest differs from the defaults
    expected = {**replace_preset("dramatic").to_dict(), "sky_opacity": 0.6}
    defaults = ReplaceParams().to_dict()
    assert data == {
        "skyseg_look": 1,
        "effect": "replace",
        "changes": {k: v for k, v in expected.items() if v != defaults[k]},
    }
    assert [p.name for p in config.iterdir()] == ["Moody blue.json"]  # no temporary file left
    assert L.look_changes("replace", "Moody blue") == data["changes"]
    assert "Moody blue" in L.effect_looks("replace")


def test_a_bundled_or_existing_name_is_replaced_only_when_asked(config):
    with pytest.raises(L.LookExistsError, match="already a bundled look") as caught:
        L.save_look("dramatic", ReplaceParams(halo=0.9))
    assert caught.value.bundled and not config.exists()
    L.save_look("dramatic", ReplaceParams(halo=0.9), replace=True)
    assert L.look_changes("replace", "dramatic") == {"halo": 0.9}  # yours takes its place
    L.save_look("mine", ReplaceParams(halo=0.1))
    with pytest.raises(L.LookExistsError, match="already one of your looks"):
        L.save_look("mine", ReplaceParams(halo=0.2))
    assert L.look_changes("replace", "mine") == {"halo": 0.1}
    for bad in ("", " lead", "a/b", "../x", "x" * 65, "dot.", "trail "):
        with pytest.raises(InputError, match="a look's name"):
            L.save_look(bad, ReplaceParams())


def test_saving_a_look_has_gimp_register_the_plug_in_again(config):
    """GIMP keeps a plug-in's registered Look menu until the plug-in's file changes (seen in the
    real GIMP 3.0: a look saved after its first start was missing until the file was touched)."""
    import os

    plugin = config.parent.parent.joinpath(*L.GIMP_PLUGIN)
    plugin.parent.mkdir(parents=True)
    plugin.write_text("# the installed plug-in")
    os.utime(plugin, (1_000_000_000, 1_000_000_000))
    L.save_look("mine", ReplaceParams(halo=0.1))
    assert plugin.stat().st_mtime > 1_000_000_000 + 1e6
    assert plugin.read_text() == "# the installed plug-in"


def test_a_failed_write_leaves_the_old_look_as_it_was(config, monkeypatch):
    import errno
    import os

    from skyseg_core.errors import OutputError

    L.save_look("mine", ReplaceParams(halo=0.1))
    before = (config / "mine.json").read_bytes()

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)  # the new file cannot be flushed to disk
    with pytest.raises(OutputError, match="the disk is full"):
        L.save_look("mine", ReplaceParams(halo=0.9), replace=True)
    assert (config / "mine.json").read_bytes() == before
    assert [p.name for p in config.iterdir()] == ["mine.json"]  # no partial file beside it


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"effect": "replace", "changes": {}}', "not a skyseg look"),
        (b'{"skyseg_look": 1, "effect": "replace", "changes": {"halo": 7}}', "halo must be"),
        (b'{"skyseg_look": 1, "effect": "replace", "changes": {"glow": 1}}', "unknown replace"),
        (b'{"skyseg_look": 1, "effect": "replace", "changes": [1]}', "not a set of control"),
    ],
)
def test_a_damaged_look_gives_one_clear_line(config, content, why):
    config.mkdir(parents=True)
    (config / "broken.json").write_bytes(content)
    with pytest.raises(InputError) as caught:
        L.look_changes("replace", "broken")
    message = str(caught.value)
    assert "\n" not in message and why in message
    assert "look 'broken' cannot be used" in message and str(config / "broken.json") in message
    looks, problems = L.user_looks("replace")
    assert looks == {} and list(problems) == ["broken"]
    assert "broken" not in schema()["steps"]["replace"]["looks"]  # the plug-ins never see it


@pytest.fixture
def photo(tmp_path):
    image, truth = synthetic_landscape(96, 128, seed=1)
    path = save_image(tmp_path / "scene.png", image)
    matte = save_matte(tmp_path / "scene_matte.png", truth.astype(np.float32))
    return path, matte, image, truth


def test_the_command_line_uses_your_look_by_name(config, photo, tmp_path, capsys):
    path, matte, image, truth = photo
    L.save_look("Own sky", replace_preset("plain", sky_opacity=0.0))
    common = ["replace", str(path), "--matte", str(matte), "--sky", "sunset", "--jobs", "1"]
    assert main([*common, "--look", "Own sky", "-o", str(tmp_path / "mine.png")]) == 0
    mine = load_image(tmp_path / "mine.png")
    assert np.array_equal(mine[truth], image[truth])  # opacity 0: the photo's own sky
    assert main([*common, "--look", "plain", "-o", str(tmp_path / "plain.png")]) == 0
    assert not np.array_equal(load_image(tmp_path / "plain.png")[truth], image[truth])
    # an option given overrides the look's value
    out = tmp_path / "half.png"
    assert main([*common, "--look", "Own sky", "--sky-opacity", "1", "-o", str(out)]) == 0
    assert np.array_equal(load_image(out), load_image(tmp_path / "plain.png"))
    capsys.readouterr()
    (config / "bad.json").write_text("{oops")
    assert main([*common, "--look", "bad", "-o", str(tmp_path / "bad.png")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "look 'bad' cannot be used: not valid JSON" in err[0], err
    assert not (tmp_path / "bad.png").exists()


def test_the_worker_schema_and_the_plug_ins_list_your_looks(config, tmp_path):
    sys.path.insert(0, str(ROOT / "plugins" / "common"))
    try:
        import skyseg_client
    finally:
        sys.path.remove(str(ROOT / "plugins" / "common"))
    from skyseg_core.cli.install_plugin import plugin_schema
    from skyseg_core.worker.server import Worker, serve

    installed = tmp_path / "plugin"
    installed.mkdir()
    (installed / "skyseg_schema.json").write_text(json.dumps(plugin_schema()))
    L.save_look("Evening", ReplaceParams(halo=0.7, horizon_haze=0.4))
    stdout = io.StringIO()
    serve(io.StringIO('{"id": 1, "op": "schema"}\n'), stdout, Worker())
    live = json.loads(stdout.getvalue().splitlines()[-1])["output"]
    assert live["steps"]["replace"]["looks"]["Evening"] == {"halo": 0.7, "horizon_haze": 0.4}
    # the installed file holds the bundled looks only; the plug-in adds yours when it loads it
    assert "Evening" not in json.loads((installed / "skyseg_schema.json").read_text())["looks"]
    loaded = skyseg_client.load_schema(str(installed))
    assert list(skyseg_client.effect_looks(loaded, "replace"))[-1] == "Evening"
    values = skyseg_client.look_values(loaded, "replace", "Evening")
    assert values["halo"] == 0.7 and values["horizon_haze"] == 0.4
    assert values["lighting"] == ReplaceParams().lighting


def test_save_look_through_the_editor(qtbot, editor, dialogs, tmp_path):
    config = tmp_path / "xdg_config_home" / "skyseg" / "looks"  # the dialogs fixture's
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    put_sky(qtbot, editor)
    panel = editor.sky_panel
    qtbot.mouseClick(panel.looks["soft"], Qt.MouseButton.LeftButton)
    opacity = panel.controls["sky_opacity"]
    qtbot.keyClick(opacity.slider.slider, Qt.Key.Key_PageDown)  # a little less of the new sky
    wanted = m.edit.replace
    assert wanted.sky_opacity < 1.0 and panel.own_looks.text() == "Your looks"

    # Edit > Save look...: the dialog, a name typed, Save
    menu = next(a.menu() for a in editor.menuBar().actions() if a.text() == "&Edit")
    assert editor.save_look_action in menu.actions()
    editor.save_look_action.trigger()
    dialog = editor.save_look_dialog
    qtbot.waitExposed(dialog)
    assert not dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.name, "Misty 2")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and (config / "Misty 2.json").is_file()
    assert "Look 'Misty 2' saved" in editor.status_label.text()
    assert panel.own_looks.text() == "Your look: Misty 2" and panel.own_looks.isChecked()
    assert "Your look 'Misty 2'" in panel.own_looks.toolTip()

    # the Yours menu puts it back after another look
    qtbot.mouseClick(panel.looks["plain"], Qt.MouseButton.LeftButton)
    assert m.edit.replace != wanted and panel.own_looks.text() == "Your looks"
    items = {a.text(): a for a in panel.own_looks.menu().actions()}
    items["Misty 2"].trigger()
    assert m.edit.replace == wanted

    # a bundled name: asked first; Cancel keeps the dialog open and writes nothing
    m.set_sky_param("halo", 0.9)
    editor.save_look_action.trigger()
    dialog = editor.save_look_dialog
    qtbot.keyClicks(dialog.name, "dramatic")
    dialogs.answer = QMessageBox.StandardButton.Cancel
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialogs.questions[-1].startswith("Replace the bundled look 'dramatic'")
    assert dialog.isVisible() and not (config / "dramatic.json").exists()
    dialogs.answer = QMessageBox.StandardButton.Save
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and (config / "dramatic.json").is_file()
    qtbot.mouseClick(panel.looks["plain"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.looks["dramatic"], Qt.MouseButton.LeftButton)
    assert m.edit.replace.halo == 0.9  # the bundled button now applies yours

    # a bad name: one line in the dialog, nothing written
    editor.save_look_action.trigger()
    dialog = editor.save_look_dialog
    qtbot.keyClicks(dialog.name, "a/b")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "a look's name" in dialog.error.text()
    dialog.reject()
    assert sorted(p.name for p in config.iterdir()) == ["Misty 2.json", "dramatic.json"]

    # a damaged file: greyed in the menu with its reason, the rest still offered
    (config / "junk.json").write_text("[")
    m.reload_looks()
    items = {a.text(): a for a in panel.own_looks.menu().actions()}
    assert not items["junk (damaged)"].isEnabled() and items["Misty 2"].isEnabled()
    assert "not valid JSON" in items["junk (damaged)"].toolTip()
    qtbot.waitUntil(lambda: editor.controller.render_job is None, timeout=WAIT_MS)
