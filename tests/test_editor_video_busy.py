"""Scrubbing a clip as a videographer does. While it exports: the frames still show while the
shared workers export and find mattes, and the export keeps its progress and Cancel in the
status bar (the frames' own jobs, a frame's look and the frames a held "." stepped over, say
what they do beside it), and closing the window asks first. A frame number typed goes to that
frame only. Real widgets (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
import test_editor
import test_editor_video_stage
import videoclips
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMessageBox
from test_editor import WAIT_MS, put_sky
from test_editor_video import open_clip, scrub_to
from test_editor_video_stage import gate, hold_next, noisy_pan, settled

from effects_gui import clip as effects_clip

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures
pan = test_editor_video_stage.pan  # the clip fixture
pytest.importorskip("av")  # the video extra


def test_scrubbing_while_a_clip_exports_shows_the_frames_and_keeps_its_progress_and_cancel(
    qtbot, editor, dialogs, tmp_path, pan, monkeypatch
):
    path, frames = pan
    open_clip(qtbot, editor, dialogs, path)
    put_sky(qtbot, editor, "clouds")
    c, clips = editor.controller, editor.clips
    exporting, _ = gate(monkeypatch, effects_clip, "render_clip")  # the export waits there
    exporting.clear()
    stepping, _ = gate(monkeypatch, effects_clip, "find_matte")  # the frames stepped over
    out = tmp_path / "pan_sky.mp4"
    clips.export(out)
    label, cancel = editor.progress_label, editor.cancel_button
    qtbot.waitUntil(lambda: c.runner.active and cancel.isVisible(), timeout=WAIT_MS)

    def export_shown() -> bool:
        return label.isVisible() and label.text().startswith("Exporting pan_sky.mp4")

    hold_next(qtbot, editor, 1)  # one frame's look found and shown
    settled(qtbot, editor, 1)
    assert export_shown() and cancel.isVisible()
    assert editor.status_label.text() == "pan.mp4  frame 2 of 10"

    stepping.clear()
    hold_next(qtbot, editor, 4)  # the frames stepped over: counted beside the export
    qtbot.waitUntil(lambda: "stepped over" in editor.status_label.text(), timeout=WAIT_MS)
    assert export_shown() and cancel.isVisible()
    hold_next(qtbot, editor, 1)  # both shared workers busy: the next frame shows all the same
    qtbot.waitUntil(lambda: clips.shown_index == 6, timeout=WAIT_MS)
    assert np.array_equal(editor.model.image, frames[6])
    stepping.set()
    settled(qtbot, editor, 6)
    assert export_shown() and cancel.isVisible()

    cancel.click()  # Cancel is the export's: nothing written, the bar gone
    exporting.set()
    qtbot.waitUntil(lambda: not c.runner.active, timeout=WAIT_MS)
    assert not out.exists() and not cancel.isVisible() and not label.isVisible()
    assert editor.status_label.text() == "Export cancelled: pan_sky.mp4 not written"


def test_a_frame_number_typed_goes_to_that_frame_only(qtbot, editor, dialogs, tmp_path):
    path = videoclips.write_clip(tmp_path / "pan.mp4", noisy_pan((160, 120), 14), rate=25)
    open_clip(qtbot, editor, dialogs, path)
    clips, number = editor.clips, editor.frame_bar.number
    scrub_to(qtbot, editor, 4)
    shown: list[int] = []
    clips.frameShown.connect(shown.append)
    number.setFocus()
    number.selectAll()
    qtbot.keyClicks(number, "12")  # frame 1 on the way to 12 is not wanted
    assert shown == [] and clips.index == 4
    qtbot.keyClick(number, Qt.Key.Key_Return)
    assert shown == [11]
    qtbot.keyClick(number, Qt.Key.Key_Up)  # its arrows step at once
    assert shown == [11, 12]


@pytest.mark.parametrize("choice", ["Stop it and close", "Close when done", "Cancel"])
def test_closing_the_window_during_a_clip_export_asks_first(
    qtbot, editor, dialogs, tmp_path, pan, monkeypatch, choice
):
    path, _ = pan
    open_clip(qtbot, editor, dialogs, path)
    put_sky(qtbot, editor, "clouds")
    c = editor.controller
    exporting, _ = gate(monkeypatch, effects_clip, "render_clip")
    exporting.clear()
    out = tmp_path / "pan_sky.mp4"
    editor.clips.export(out)
    qtbot.waitUntil(lambda: "frame 0 of 10" in editor.progress_label.toolTip(), timeout=WAIT_MS)
    asked: list[str] = []

    def choose(box) -> int:
        asked.append(box.text())
        exporting.set()  # the export goes on while the question is open
        buttons = [box.button(b) for b in QMessageBox.StandardButton if box.button(b)]
        return box.standardButton(next(b for b in buttons if b.text() == choice)).value

    monkeypatch.setattr(QMessageBox, "exec", choose)
    editor.close()
    assert asked == ["Exporting pan_sky.mp4: frame 0 of 10.\n\nClose the editor when it is done?"]
    assert dialogs.questions == [], "no second question about saving"
    if choice == "Stop it and close":
        assert not editor.isVisible() and not c.export_jobs
        assert c.runner.closed and c.runner.pool.activeThreadCount() == 0  # stopped, waited for
        assert not out.exists()
        return
    assert editor.isVisible()
    qtbot.waitUntil(lambda: out.exists() and not c.export_jobs, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: editor.isVisible() != (choice == "Close when done"), timeout=WAIT_MS)
