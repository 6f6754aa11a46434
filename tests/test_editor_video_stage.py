"""The editor's scrub preview carries the export's temporal stage (issue 28): a frame reached by
stepping forward shows the matte the export gives it; a jump or a step back shows the frame on
its own and the stage starts again there. Real widgets (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
import test_editor
import videoclips
from PyQt6.QtCore import Qt
from test_editor import WAIT_MS
from test_editor_video import open_clip, scrub_to

from effects_gui.clip import ScrubStage
from skyseg_core.clips import FrameMattes
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
    qtbot, editor, dialogs, tmp_path
):
    path = videoclips.write_clip(tmp_path / "pan.mp4", noisy_pan((160, 120), 10), rate=25)
    frames, _ = videoclips.read_clip(path)
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
        got = stage(k, "color", frames[k], per_frame[k])
    assert same(got, exported[2]) and differs(got, per_frame[2])
    again = stage(2, "color", frames[2], per_frame[2])  # the sky looked for anew
    assert same(again, exported[2])
    assert same(stage(3, "color", frames[3], per_frame[3]), exported[3])
    # frame 4 by another method: on its own (the state held the other method's mattes)
    assert same(stage(4, "auto", frames[0], per_frame[0]), per_frame[0])
    assert stage.carried == 3
