"""Edit sessions (issue 26, point 6): File > Save edit writes a small file that reopens the edit
(photo, method, strokes, every setting, the sky) in the next session, driven through the real
widgets (pytest-qt, offscreen)."""

from __future__ import annotations

import shutil

import numpy as np
import test_editor
from conftest import synthetic_landscape
from PyQt6.QtCore import Qt
from test_editor import WAIT_MS, brush_stroke

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


def settled(window) -> bool:
    c, m = window.controller, window.model
    return (
        not c.runner.active
        and not m.matte_pending
        and c.render_job is None
        and not c.render_pending
        and (m.close_gaps == 0 or m.gap_target is not None)
    )


def test_a_saved_edit_reopens_as_it_was(qtbot, editor, dialogs, tmp_path):
    from effects_gui.session import load
    from effects_gui.window import MainWindow
    from skyseg_core.io import save_image

    photo = tmp_path / "shoot" / "hill.png"
    photo.parent.mkdir()
    save_image(photo, synthetic_landscape(120, 160)[0])
    m = editor.model
    test_editor.open_and_segment(qtbot, editor, dialogs, photo)  # the color method
    qtbot.keyClick(editor, Qt.Key.Key_B)
    editor.brush_panel.edge_aware.click()
    brush_stroke(qtbot, editor.canvas, (20, 100), (70, 104))
    editor.tint_panel.enabled.click()
    m.set_params("tint", strength=0.8)
    m.set_params("matte", close_gaps=0.4)
    test_editor.put_sky(qtbot, editor, "clouds")
    qtbot.waitUntil(lambda: settled(editor), timeout=WAIT_MS)
    assert m.modified

    saved = tmp_path / "shoot" / "hill.skyedit"
    dialogs.save_paths.append(str(saved))
    editor.save_session_action.trigger()
    assert saved.is_file() and saved.stat().st_size < 20_000, "a small file, no pixels"
    assert not m.modified and editor.status_label.text() == f"Edit saved to {saved}"

    again = MainWindow(proxy_long_side=512)
    qtbot.addWidget(again)
    try:
        dialogs.open_paths.append(str(saved))
        again.open_action.trigger()  # Open reads edits as well as photos
        m2 = again.model
        qtbot.waitUntil(
            lambda: m2.sky is not None and m2.strokes and settled(again), timeout=WAIT_MS
        )
        assert dialogs.errors == []
        assert m2.path == photo and m2.method == "color"
        assert m2.strokes == m.strokes and m2.edit == m.edit and m2.sky.source == "clouds"
        assert np.abs(m2.matte - m.matte).max() < 1e-5, "the same matte, strokes on top"
        assert np.abs(m2.result.astype(int) - m.result.astype(int)).max() <= 1
        assert again.tint_panel.enabled.isChecked()
        assert again.brush_panel.close_gaps.value() == 0.4
    finally:
        m2.undo_stack.setClean()
        again.shutdown()

    # the folder moved with its photo: found beside the edit
    moved = tmp_path / "moved"
    shutil.copytree(photo.parent, moved)
    shutil.rmtree(photo.parent)
    assert load(moved / "hill.skyedit").photo == (moved / "hill.png").resolve()


def test_a_damaged_edit_is_an_error_naming_it(qtbot, editor, dialogs, tmp_path):
    bad = tmp_path / "broken.skyedit"
    bad.write_text('{"format": "skyseg-edit/1", "photo": "x.png", "strokes": [{"radius": 3}]}')
    dialogs.open_paths.append(str(bad))
    editor.open_action.trigger()
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=WAIT_MS)
    assert "broken.skyedit" in dialogs.errors[0] and "stroke" in dialogs.errors[0]
    assert not editor.model.has_photo
