"""The editor's exports as jobs (issue 26, point 4), driven through the real widgets (pytest-qt,
offscreen): a progress bar with its message beside it and a Cancel that writes nothing; the
export folder, format and quality remembered (settings in a temporary folder); no "brush
strokes" stage without strokes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import test_editor
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialogButtonBox, QFileDialog
from test_editor import WAIT_MS, brush_stroke, open_synthetic, put_sky

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


@pytest.fixture
def held_render(monkeypatch):
    """An export's render (only an export brings its skies into the photo's profile first)
    waits until released: the export outlasts the test's clicks."""
    import skyseg_core.pipeline as core

    release, entered = threading.Event(), threading.Event()
    original = core.skies_in_profile

    def skies_in_profile(*args, **kwargs):
        entered.set()
        release.wait(20)
        return original(*args, **kwargs)

    monkeypatch.setattr(core, "skies_in_profile", skies_in_profile)
    yield release, entered
    release.set()


def save_from_dialog(qtbot, editor, kind: str | None = None, path: Path | None = None):
    editor.export_dialog_action.trigger()
    box = editor.export_box
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    if kind is not None:
        box.kind.setCurrentIndex(box.kind.findData(kind))
    if path is not None:
        box.path.setText(str(path))
    qtbot.mouseClick(
        box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
        Qt.MouseButton.LeftButton,
    )
    return box


def test_an_export_shows_its_progress_and_cancel_writes_nothing(
    qtbot, editor, dialogs, held_render, tmp_path
):
    release, entered = held_render
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    put_sky(qtbot, editor)
    messages: list[str] = []
    editor.controller.busy.connect(lambda text, percent, cancellable: messages.append(text))
    out = tmp_path / "cancelled.jpg"
    save_from_dialog(qtbot, editor, "jpeg", out)
    qtbot.waitUntil(entered.is_set, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Rendering" in editor.progress_label.text(), timeout=WAIT_MS)
    assert editor.progress.isVisible() and editor.cancel_button.isVisible()
    assert editor.progress.format() == "%p%", "the bar holds the percentage, not the message"
    assert editor.progress_label.text().startswith("Exporting cancelled.jpg")
    assert not editor.progress_label.wordWrap() and editor.progress_label.height() < 40
    assert not any("brush strokes" in text for text in messages), "there are none"

    qtbot.mouseClick(editor.cancel_button, Qt.MouseButton.LeftButton)
    assert not editor.cancel_button.isVisible() and not editor.progress.isVisible()
    assert editor.status_label.text() == "Export cancelled: cancelled.jpg not written"
    release.set()
    qtbot.waitUntil(lambda: not editor.controller.runner.active, timeout=WAIT_MS)
    assert not out.exists() and list(tmp_path.glob("*cancelled*")) == [], "no file, no leftover"
    assert dialogs.errors == [] and m.modified, "a cancelled export saves nothing"

    # with a stroke the stage is named; the export then runs to the end
    editor.add_action.trigger()  # B (the dialog that was open may keep the window inactive)
    brush_stroke(qtbot, editor.canvas, (20, 100), (60, 100))
    assert len(m.strokes) == 1
    messages.clear()
    editor.export_result(out, 90)
    qtbot.waitUntil(lambda: out.exists() and not editor.controller.runner.active, timeout=WAIT_MS)
    assert any("brush strokes" in text for text in messages), messages
    assert editor.status_label.text() == f"Saved {out}" and not m.modified


def test_exports_remember_their_folder_format_and_quality(qtbot, editor, dialogs, tmp_path):
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    put_sky(qtbot, editor)
    folder = tmp_path / "exports"
    folder.mkdir()
    box = save_from_dialog(qtbot, editor, "png", folder / "first.png")
    assert box.quality.isEnabled() is False
    qtbot.waitUntil(
        lambda: (folder / "first.png").exists() and not editor.controller.runner.active,
        timeout=WAIT_MS,
    )
    editor.export_dialog_action.trigger()
    again = editor.export_box
    qtbot.waitUntil(again.isVisible, timeout=WAIT_MS)
    assert again.kind.currentData() == "png" and Path(again.path.text()).parent == folder
    again.kind.setCurrentIndex(again.kind.findData("jpeg"))
    again.quality.setValue(77)
    again.path.setText(str(folder / "second.jpg"))
    qtbot.mouseClick(
        again.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
        Qt.MouseButton.LeftButton,
    )
    qtbot.waitUntil(
        lambda: (folder / "second.jpg").exists() and not editor.controller.runner.active,
        timeout=WAIT_MS,
    )

    # the next session: the same folder, format and quality; Export result (Ctrl+S) starts there
    from effects_gui.window import MainWindow

    window = MainWindow(proxy_long_side=256)
    qtbot.addWidget(window)
    try:
        window.model.path = m.path
        window.model.base_matte = m.base_matte  # something to export
        window.export_dialog()
        box = window.export_box
        assert box.kind.currentData() == "jpeg" and box.quality.value() == 77
        assert Path(box.path.text()).parent == folder
        box.reject()
        asked: list[str] = []

        def get_save(parent, title, start, filters):
            asked.append(start)
            return "", ""

        QFileDialog.getSaveFileName = get_save  # restored by the dialogs fixture
        window.export_result()
        assert Path(asked[0]).parent == folder
    finally:
        window.model.base_matte = None
        window.shutdown()
