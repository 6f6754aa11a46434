"""The editor's scrub preview carries the export's temporal stage (issue 28): a frame reached by
stepping forward shows the matte the export gives it, with "." held too (the frames stepped
over go through the stage first, on a clip or a timelapse); a jump, a step back or another
method shows the frame on its own, abandons the frames still to pass, and the stage starts
again there. Real widgets (pytest-qt, offscreen)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import test_editor
import videoclips
from PyQt6.QtCore import Qt
from test_editor import WAIT_MS
from test_editor_video import open_clip, scrub_to

from effects_gui import clip as effects_clip
from effects_gui import jobs
from effects_gui.clip import ScrubStage
from skyseg_core.clips import FrameMattes
from skyseg_core.io import save_image
from skyseg_core.pipeline import MatteSource

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures
pytest.importorskip("av")  # the video extra


def noisy_pan(size: tuple[int, int], count: int) -> list[np.ndarray]:
    """A pan and tilt with noise: the colour method's per-frame mattes differ at the horizon."""
    pan = videoclips.pan(size=size, step=(5, 2), frames=count)
    rng = np.random.default_rng(0)
    return [
        np.clip(f.astype(np.int16) + rng.integers(-12, 13, f.shape), 0, 255).astype(np.uint8)
        for f in pan.frames
    ]


@pytest.fixture
def pan(tmp_path):
    """A 10-frame :func:`noisy_pan` clip (160x120, 25 fps): its path and its frames as read."""
    path = videoclips.write_clip(tmp_path / "pan.mp4", noisy_pan((160, 120), 10), rate=25)
    frames, _ = videoclips.read_clip(path)
    return path, frames


def step(qtbot, editor, key: Qt.Key) -> None:
    """Press ``key`` (``.`` next frame, ``,`` previous) and wait for that frame's sky."""
    found = editor.clips.mattes_found
    qtbot.keyClick(editor, key)
    qtbot.waitUntil(
        lambda: editor.clips.mattes_found > found and editor.clips.matte_job is None,
        timeout=WAIT_MS,
    )


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal mattes (OpenCV's threads may change the last bits of a float)."""
    return a.shape == b.shape and float(np.abs(a - b).max()) < 1e-4


def differs(a: np.ndarray, b: np.ndarray) -> bool:
    """Mattes that differ somewhere by more than a rounding."""
    return float(np.abs(a - b).max()) > 0.02


def mattes(frames: list[np.ndarray], temporal: bool) -> list[np.ndarray]:
    """What the export's matte stage gives each frame in order (``color``: the method the
    editor is set to by ``open_clip``)."""
    stage = FrameMattes(MatteSource(method="color"), temporal=temporal)
    return [stage(frame) for frame in frames]


def test_stepping_forward_shows_the_exported_matte_and_a_jump_starts_again(
    qtbot, editor, dialogs, pan
):
    path, frames = pan
    exported = mattes(frames, temporal=True)
    own = mattes(frames, temporal=False)
    open_clip(qtbot, editor, dialogs, path)
    m, clips = editor.model, editor.clips
    assert np.array_equal(m.image, frames[0])
    assert same(m.matte, exported[0])

    for k in (1, 2, 3, 4):  # the "." key, one frame at a time
        step(qtbot, editor, Qt.Key.Key_Period)
        assert clips.index == k and np.array_equal(m.image, frames[k])
        assert same(m.matte, exported[k]), f"frame {k}: the export's matte"
    assert clips.stage.carried == 4
    assert differs(exported[4], own[4]), "the stage changed frame 4's matte"

    scrub_to(qtbot, editor, 8)  # a jump: frame 8 on its own, the stage starting there
    assert same(m.matte, own[8]) and differs(m.matte, exported[8])
    step(qtbot, editor, Qt.Key.Key_Period)
    from_8 = mattes(frames[8:10], temporal=True)
    assert same(m.matte, from_8[1]), "frame 9 carries frame 8's state"
    assert differs(m.matte, own[9])

    step(qtbot, editor, Qt.Key.Key_Comma)  # a step back: frame 8 on its own again
    assert clips.index == 8 and same(m.matte, own[8])
    assert clips.stage.carried == 5


def test_the_same_frame_again_shows_the_same_matte_and_another_method_starts_again():
    frames = noisy_pan((160, 120), 4)
    per_frame = mattes(frames, temporal=False)
    exported = mattes(frames, temporal=True)
    stage = ScrubStage()
    for k in range(3):
        got = stage(k, "color", frames[k], per_frame[k], origin=0)
    assert same(got, exported[2]) and differs(got, per_frame[2])
    again = stage(2, "color", frames[2], per_frame[2], origin=0)  # the sky looked for anew
    assert same(again, exported[2])
    assert same(stage(3, "color", frames[3], per_frame[3], origin=0), exported[3])
    # frame 4 by another method: on its own (the state held the other method's mattes)
    assert same(stage(4, "auto", frames[0], per_frame[0], origin=0), per_frame[0])
    assert stage.carried == 3
    # its state is a run from frame 4 now: a run from 0 passes its frames from 0 again
    assert stage.behind(0, 5, "auto") == range(0, 5) and stage.behind(4, 5, "auto") == range(5, 5)


def gate(monkeypatch, owner, name: str) -> tuple[threading.Event, list[int]]:
    """``owner.name`` (a matte function) made to wait for the returned event before each call,
    so a test can ask for frames while the matte job is held; the list counts the calls."""
    real, opened, calls = getattr(owner, name), threading.Event(), []

    def held(*args, **kwargs):
        calls.append(1)
        assert opened.wait(WAIT_MS / 1000), "the gate was never opened"
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    opened.set()
    return opened, calls


def hold_next(qtbot, editor, presses: int) -> None:
    """``.`` held down: ``presses`` steps forward asked for without waiting for any sky."""
    for _ in range(presses):
        qtbot.keyClick(editor, Qt.Key.Key_Period)


def settled(qtbot, editor, index: int) -> None:
    """Wait until frame ``index`` shows its sky and no matte job or rest is pending."""
    clips, m = editor.clips, editor.model
    qtbot.waitUntil(
        lambda: (
            clips.index == clips.shown_index == index
            and m.matte is not None
            and clips.matte_job is None
            and not clips._settle.isActive()
        ),
        timeout=WAIT_MS,
    )


def test_holding_the_next_frame_key_shows_the_exported_matte(
    qtbot, editor, dialogs, pan, monkeypatch
):
    path, frames = pan
    exported = mattes(frames, temporal=True)
    own = mattes(frames, temporal=False)
    open_clip(qtbot, editor, dialogs, path)
    m, clips = editor.model, editor.clips
    held, _calls = gate(monkeypatch, jobs, "segment")  # every matte job waits at the gate

    held.clear()
    hold_next(qtbot, editor, 1)
    qtbot.waitUntil(lambda: clips.matte_job is not None, timeout=WAIT_MS)  # frame 1's, held
    hold_next(qtbot, editor, 4)  # four more steps while frame 1's matte is being found
    qtbot.waitUntil(lambda: clips.shown_index == 5, timeout=WAIT_MS)
    assert np.array_equal(m.image, frames[5]), "the frames show while the matte job works"
    held.set()
    settled(qtbot, editor, 5)
    assert same(m.matte, exported[5]), "frames 2-4, skipped, went through the stage"
    assert differs(exported[5], own[5])
    assert clips.stage.carried == 5 and clips.origin == 0

    told: list[tuple[str, int]] = []  # the status bar meanwhile
    editor.controller.busy.connect(lambda text, percent, _cancel: told.append((text, percent)))
    hold_next(qtbot, editor, 3)  # a burst: only frame 8's sky is shown, after 6 and 7 passed
    settled(qtbot, editor, 8)
    assert same(m.matte, exported[8]) and clips.stage.carried == 8
    assert [text for text, _ in told] == [
        "pan.mp4: steadying the frames stepped over: 7 (1 of 2)",
        "pan.mp4: steadying the frames stepped over: 8 (2 of 2)",
    ]
    assert [percent for _, percent in told] == [0, 33], "frame 9's own matte is the last third"

    scrub_to(qtbot, editor, 3)  # a jump (the slider), then held steps: a run from frame 3
    assert same(m.matte, own[3])
    hold_next(qtbot, editor, 3)
    settled(qtbot, editor, 6)
    assert same(m.matte, mattes(frames[3:7], temporal=True)[3]) and differs(m.matte, exported[6])

    slider = editor.frame_bar.slider  # its arrow key steps forward as "." does
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    settled(qtbot, editor, 7)
    assert clips.origin == 3 and same(m.matte, mattes(frames[3:8], temporal=True)[4])


def test_a_jump_abandons_the_frames_a_held_key_skipped(qtbot, editor, dialogs, pan, monkeypatch):
    path, frames = pan
    exported = mattes(frames, temporal=True)
    own = mattes(frames, temporal=False)
    open_clip(qtbot, editor, dialogs, path)
    m, clips = editor.model, editor.clips
    held, passed = gate(monkeypatch, effects_clip, "find_matte")  # the skipped frames' mattes

    held.clear()
    hold_next(qtbot, editor, 6)
    label = editor.progress_label  # the status bar says what the job does meanwhile
    qtbot.waitUntil(
        lambda: (
            bool(passed)
            and "pan.mp4: steadying the frames stepped over: 2 (1 of 5)" in label.toolTip()
        ),
        timeout=WAIT_MS,
    )
    catching_up = clips.catching_up
    assert catching_up is not None and label.isVisible()

    editor.frame_bar.slider.setValue(2)  # dragged back while it catches up
    assert catching_up.is_cancelled and clips.catching_up is None
    held.set()
    settled(qtbot, editor, 2)
    assert len(passed) == 1, "no frame passed after the jump"
    assert same(m.matte, own[2]) and differs(own[2], exported[2]), "frame 2 on its own"
    assert clips.stage.last == (2, "color") and clips.stage.origin == 2
    assert not label.isVisible()


def test_another_method_during_a_catch_up_abandons_it_and_starts_the_stage_again(
    qtbot, editor, dialogs, tmp_path, monkeypatch
):
    path = videoclips.write_clip(tmp_path / "pan.mp4", noisy_pan((160, 120), 6), rate=25)
    frames, _ = videoclips.read_clip(path)
    open_clip(qtbot, editor, dialogs, path)
    m, clips = editor.model, editor.clips
    held, passed = gate(monkeypatch, effects_clip, "find_matte")
    held.clear()
    hold_next(qtbot, editor, 4)
    qtbot.waitUntil(lambda: clips.catching_up is not None and bool(passed), timeout=WAIT_MS)
    catching_up = clips.catching_up

    m.set_method("gradient")
    assert catching_up.is_cancelled
    held.set()
    settled(qtbot, editor, 4)
    qtbot.waitUntil(lambda: clips.stage.last == (4, "gradient"), timeout=WAIT_MS)
    settled(qtbot, editor, 4)
    own = FrameMattes(MatteSource(method="gradient"), temporal=False)(frames[4])
    assert same(m.matte, own) and clips.stage.origin == 4 and len(passed) == 1


def test_holding_the_next_frame_key_over_a_timelapse_shows_the_exported_matte(
    qtbot, editor, dialogs, tmp_path
):
    photos = noisy_pan((160, 120), 6)
    folder = tmp_path / "timelapse"
    folder.mkdir()
    for i, photo in enumerate(photos):
        save_image(folder / f"IMG_{i:04d}.png", photo)
    exported = mattes(photos, temporal=True)
    editor.model.set_method("color")
    editor.open_photo(folder)
    qtbot.waitUntil(lambda: editor.model.matte is not None, timeout=WAIT_MS)
    hold_next(qtbot, editor, 5)
    settled(qtbot, editor, 5)
    assert same(editor.model.matte, exported[5]) and editor.clips.stage.carried == 5
    assert differs(exported[5], mattes(photos[5:], temporal=False)[0])
