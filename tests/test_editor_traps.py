"""The editor's traps of issue 26 (point 3), each driven through the real widgets (pytest-qt,
offscreen): drops, Find sky again, Space+drag, the zoom and hardness keys, slider resets."""

from __future__ import annotations

import numpy as np
import pytest
import test_editor
from conftest import synthetic_landscape
from PyQt6.QtCore import QMimeData, QPoint, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDragLeaveEvent, QKeySequence
from PyQt6.QtWidgets import QApplication, QMessageBox
from test_editor import WAIT_MS, brush_stroke, drop, gradient_sky, open_synthetic, put_sky

from skyseg_core.effects.params import ReplaceParams

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


def drag_over(widget, path) -> None:
    """Files dragged over ``widget`` (entered, not dropped)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        widget.rect().center(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()


def leave(widget) -> None:
    QApplication.sendEvent(widget, QDragLeaveEvent())


def second_photo(tmp_path):
    from skyseg_core.io import save_image

    image, _ = synthetic_landscape(100, 150, seed=7)
    path = tmp_path / "lake.png"
    save_image(path, image)
    return path


def test_a_photo_dropped_on_the_photo_opens_it_and_skies_go_on_the_library(
    qtbot, editor, dialogs, tmp_path
):
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    qtbot.waitUntil(lambda: editor.controller.library_loads > 0, timeout=WAIT_MS)
    library = editor.sky_panel.library
    skies = library.sources()
    qtbot.keyClick(editor, Qt.Key.Key_B)
    brush_stroke(qtbot, editor.canvas, (20, 100), (80, 100))  # unsaved work
    assert m.modified
    other = second_photo(tmp_path)

    drag_over(editor.canvas.viewport(), other)
    hint = editor.canvas.drop_hint
    assert "open this photo" in hint and "Sky library" in hint, hint
    leave(editor.canvas.viewport())
    assert editor.canvas.drop_hint == ""

    dialogs.answer = QMessageBox.StandardButton.Cancel  # keep the edit
    drop(editor.canvas.viewport(), other)
    assert len(dialogs.questions) == 1 and "unsaved" in dialogs.questions[0]
    qtbot.wait(100)
    assert m.path.name == "hill.png" and len(m.strokes) == 1 and m.sky is None

    dialogs.answer = QMessageBox.StandardButton.Discard
    drop(editor.canvas.viewport(), other)
    qtbot.waitUntil(lambda: m.path == other, timeout=WAIT_MS)
    assert len(dialogs.questions) == 2 and m.sky is None and m.strokes == []
    qtbot.wait(50)
    assert library.sources() == skies, "a photo dropped on the photo never joins the library"

    # a sky goes on the library, whose hint says what a drop does there
    sky = gradient_sky(tmp_path / "mine" / "dusk.png").resolve()
    drag_over(library.viewport(), sky)
    assert "skies" in library.drop_hint
    leave(library.viewport())
    assert library.drop_hint == ""
    loads = editor.controller.library_loads
    m.set_segmentation(
        *(np.ones(s, np.float32) for s in (m.image.shape[:2], m.proxy.shape[:2])), "t"
    )
    drop(library.viewport(), sky)
    qtbot.waitUntil(
        lambda: m.sky is not None and editor.controller.library_loads > loads, timeout=WAIT_MS
    )
    assert m.sky.source == str(sky) and str(sky) in library.sources() and m.path == other
    qtbot.waitUntil(lambda: editor.controller.render_job is None, timeout=WAIT_MS)


def test_find_sky_again_keeps_the_brush_strokes(qtbot, editor, dialogs, tmp_path):
    m, truth = open_synthetic(qtbot, editor, tmp_path)
    qtbot.keyClick(editor, Qt.Key.Key_B)
    editor.brush_panel.edge_aware.click()  # a plain stroke: sky wherever it goes
    assert not m.brush.edge_aware
    brush_stroke(qtbot, editor.canvas, (30, 110), (130, 110))  # across the ground
    assert len(m.strokes) == 1
    painted = m.matte > 0.99
    ground = painted & (m.base_proxy_matte < 0.01)
    assert ground.sum() > 200, "the stroke made some ground sky"

    editor.method_combo.setCurrentIndex(editor.method_combo.findData("color"))
    qtbot.mouseClick(editor.segment_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: m.undo_stack.undoText() == "Find sky (color)", timeout=WAIT_MS)
    assert len(m.strokes) == 1, "the strokes are kept"
    qtbot.waitUntil(lambda: not m.matte_pending, timeout=WAIT_MS)  # replayed on a thread
    assert (m.matte[ground] > 0.99).all(), "and applied on top of the new matte"
    assert (m.base_proxy_matte[ground] < 0.5).mean() > 0.9, "the new matte alone has no sky there"
    assert "1 brush stroke applied on top" in editor.status_label.text()
    full = m.full_matte()  # the export's matte carries them too
    assert full[truth == 0].mean() > m.base_matte[truth == 0].mean() + 0.05
    m.undo_stack.undo()  # back to the first matte with its stroke
    qtbot.waitUntil(lambda: not m.matte_pending, timeout=WAIT_MS)
    assert m.undo_stack.undoText() == "Add sky stroke" and (m.matte[ground] > 0.99).all()
    assert np.array_equal(m.base_proxy_matte, m.undo_stack.command(0).new[1])
    m.undo_stack.redo()
    qtbot.waitUntil(lambda: not m.matte_pending, timeout=WAIT_MS)
    assert len(m.strokes) == 1 and (m.matte[ground] > 0.99).all()


def test_space_drag_pans_and_ctrl_equals_zooms_in(qtbot, editor, tmp_path):
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    canvas = editor.canvas
    qtbot.keyClick(editor, Qt.Key.Key_B)
    assert m.brush.tool == "brush"
    zoom = canvas.zoom()
    qtbot.keyClick(editor, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # Ctrl+=
    assert canvas.zoom() == pytest.approx(zoom * 1.25)
    h, v = canvas.horizontalScrollBar(), canvas.verticalScrollBar()
    for _ in range(12):
        if min(h.maximum(), v.maximum()) > 200:
            break
        qtbot.keyClick(editor, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert min(h.maximum(), v.maximum()) > 200, "zoomed in past the window"
    h.setValue(h.maximum() // 2)
    v.setValue(v.maximum() // 2)
    start = (h.value(), v.value())

    viewport = canvas.viewport()
    qtbot.mouseMove(viewport, QPoint(200, 200))  # the mouse over the photo: keys go to it
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    assert viewport.cursor().shape() == Qt.CursorShape.OpenHandCursor
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    for step in range(1, 6):
        qtbot.mouseMove(viewport, QPoint(200 - 12 * step, 200 - 8 * step))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(140, 160))
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert m.strokes == [], "Space+drag paints nothing"
    assert (h.value(), v.value()) == (start[0] + 60, start[1] + 40), "it pans"
    assert viewport.cursor().shape() == Qt.CursorShape.CrossCursor, "back to the brush"
    a, b = canvas.mapToScene(QPoint(150, 150)), canvas.mapToScene(QPoint(220, 170))
    brush_stroke(qtbot, canvas, (a.x(), a.y()), (b.x(), b.y()))
    assert len(m.strokes) == 1, "without Space the left button paints again"


def test_hardness_keys_work_and_no_shortcut_is_ambiguous(qtbot, editor, tmp_path):
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    hardness = m.brush.hardness
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(editor, Qt.Key.Key_BracketRight, ctrl)
    qtbot.keyClick(editor, Qt.Key.Key_BracketRight, ctrl)
    assert m.brush.hardness == pytest.approx(hardness + 0.2)
    assert editor.brush_panel.hardness.value() == pytest.approx(hardness + 0.2)
    qtbot.keyClick(editor, Qt.Key.Key_BracketLeft, ctrl)
    assert m.brush.hardness == pytest.approx(hardness + 0.1)
    # Shift+[ and Shift+] too, as the keys arrive from any layout ("{" with Shift, or "[")
    shift = Qt.KeyboardModifier.ShiftModifier
    for key, step in ((Qt.Key.Key_BraceRight, 0.1), (Qt.Key.Key_BracketLeft, -0.1)):
        before = m.brush.hardness
        qtbot.keyClick(editor.canvas, key, shift)
        assert m.brush.hardness == pytest.approx(before + step)
    # the menu says the keys that work
    tools = next(a.menu() for a in editor.menuBar().actions() if a.text() == "&Tools")
    shown = {a.text(): a.shortcut().toString() for a in tools.actions()}
    assert shown["Softer brush"] == "Ctrl+[" and shown["Harder brush"] == "Ctrl+]"
    # no key sequence is bound twice (an ambiguous shortcut does nothing), counting a symbol
    # typed with Shift ("Shift+{") and the symbol itself ("{") as the same keys
    seen: dict[str, str] = {}
    for action in editor.actions():
        for sequence in action.shortcuts():
            keys = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            key = keys.rsplit("+", 1)[-1] or "+"
            plain = keys.replace("Shift+", "") if not key.isalnum() else keys
            assert plain not in seen, f"{keys}: {action.text()} and {seen[plain]}"
            seen[plain] = action.text()


def test_double_clicking_a_slider_resets_it(qtbot, editor, tmp_path):
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    put_sky(qtbot, editor)
    halo = editor.sky_panel.controls["halo"].slider
    qtbot.keyClick(halo.slider, Qt.Key.Key_PageUp)
    assert m.edit.replace.halo != ReplaceParams().halo
    steps = m.undo_stack.count()
    qtbot.mouseDClick(halo.slider, Qt.MouseButton.LeftButton, pos=halo.slider.rect().center())
    assert m.edit.replace.halo == ReplaceParams().halo
    assert halo.label.text() == f"{ReplaceParams().halo:.2f}"
    assert m.undo_stack.count() > steps, "the reset is an undoable step"
    # a pair (position): each axis to its own default
    x_slider = editor.sky_panel.controls["position"].sliders[0]
    m.set_sky_param("position", (0.2, 0.7))
    qtbot.mouseDClick(x_slider.slider, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    assert m.edit.replace.position == (ReplaceParams().position[0], 0.7)
    # the brush's own sliders go back to the brush's defaults
    size = editor.brush_panel.size
    qtbot.keyClick(editor, Qt.Key.Key_BracketRight)
    assert m.brush.radius != 40.0
    qtbot.mouseDClick(size.slider, Qt.MouseButton.LeftButton, pos=size.slider.rect().center())
    assert m.brush.radius == 40.0 and size.value() == 40.0
    qtbot.waitUntil(lambda: editor.controller.render_job is None, timeout=WAIT_MS)


def test_strokes_are_replayed_off_the_gui_thread(qtbot, editor, tmp_path, monkeypatch):
    """A new matte with strokes to replay (10 take 0.9-1.5 s on a 2048 px preview,
    benchmarks/bench_replay.py) leaves the window free: the last matte stays shown until the
    replayed one is in."""
    import threading

    from effects_gui import jobs

    release = threading.Event()
    original = jobs.replay_strokes

    def held(job, *args):
        release.wait(20)
        return original(job, *args)

    monkeypatch.setattr(jobs, "replay_strokes", held)
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    qtbot.keyClick(editor, Qt.Key.Key_B)
    brush_stroke(qtbot, editor.canvas, (30, 110), (130, 110))
    shown = m.matte
    editor.method_combo.setCurrentIndex(editor.method_combo.findData("color"))
    qtbot.mouseClick(editor.segment_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: m.undo_stack.undoText() == "Find sky (color)", timeout=WAIT_MS)
    assert m.matte_pending and m.matte is shown, "the replay waits on its thread"
    ticks = []
    from PyQt6.QtCore import QTimer

    QTimer.singleShot(10, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: ticks == [1], timeout=2000)  # the event loop runs meanwhile
    release.set()
    qtbot.waitUntil(lambda: not m.matte_pending, timeout=WAIT_MS)
    assert m.matte is not shown and len(m.strokes) == 1
