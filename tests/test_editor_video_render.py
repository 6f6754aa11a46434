"""The editor's scrub preview carries the export's frame renderer (issue 28): a frame reached by
stepping forward (or with "." held) shows the pixels the export renders for it, the new sky
moved with the camera and the foreground light smoothed over the frames
(:class:`skyseg_core.clips.FrameRenderer`), not the sky placed as in a photo; a jump or another
look starts the renderer again at the frame shown. Real widgets (pytest-qt, offscreen).
"""

from __future__ import annotations

import numpy as np
import pytest
import test_editor
import test_editor_video_stage
from PyQt6.QtCore import Qt
from test_editor import WAIT_MS, put_sky
from test_editor_video import open_clip
from test_editor_video_stage import hold_next, noisy_pan

from effects_gui.clip import ScrubRenderer, render_key
from skyseg_core.clips import FrameMattes, FrameRenderer
from skyseg_core.effects.params import effect_params
from skyseg_core.errors import MatteError
from skyseg_core.pipeline import MatteSource, render

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures
pan = test_editor_video_stage.pan  # the clip fixture
pytest.importorskip("av")  # the video extra

LOOK = ("clouds", "relight")
"""A new sky (it moves with the camera) and relight (its light is smoothed over the frames)."""


def exported(frames: list[np.ndarray], editor) -> list[np.ndarray]:
    """What the export renders for ``frames`` in order, from the first: the matte stage, then
    the export's own renderer with the edit's steps (and the preview's copy of the sky, so the
    comparison is of the renderer's state, not of the sky's resolution)."""
    m = editor.model
    mattes = FrameMattes(MatteSource(method="color"))
    renderer = FrameRenderer(m.steps(), m.skies().__getitem__)
    return [renderer(frame, mattes(frame)) for frame in frames]


def as_a_photo(frame: np.ndarray, editor) -> np.ndarray:
    """The frame as the preview rendered it before: like a photo, its own matte, nothing carried."""
    m = editor.model
    matte = FrameMattes(MatteSource(method="color"), temporal=False)(frame)
    return render(frame, matte, m.steps(), m.skies().__getitem__).image


def worst(a: np.ndarray, b: np.ndarray) -> int:
    """Largest difference in 8-bit codes."""
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def rendered(qtbot, editor, index: int) -> np.ndarray:
    """Wait until frame ``index`` is shown with its matte and its preview rendered; the preview."""
    clips, c, m = editor.clips, editor.controller, editor.model
    qtbot.waitUntil(
        lambda: (
            clips.index == clips.shown_index == index
            and clips.matte_job is None
            and not clips._settle.isActive()
            and m.matte is not None
            and c.render_job is None
            and not c.render_pending
            and m.result is not None
        ),
        timeout=WAIT_MS,
    )
    return m.result


def with_the_look(qtbot, editor) -> None:
    """The sky and relight put in on the frame shown."""
    put_sky(qtbot, editor, LOOK[0])
    editor.model.set_params(LOOK[1], enabled=True)


def test_stepping_forward_shows_the_exported_frame_and_a_jump_starts_again(
    qtbot, editor, dialogs, pan
):
    path, frames = pan
    open_clip(qtbot, editor, dialogs, path)
    with_the_look(qtbot, editor)
    export = exported(frames, editor)
    assert worst(rendered(qtbot, editor, 0), export[0]) <= 1, "frame 0: the export's placement"

    for k in (1, 2, 3):  # the "." key, one frame at a time
        qtbot.keyClick(editor, Qt.Key.Key_Period)
        shown = rendered(qtbot, editor, k)
        assert worst(shown, export[k]) <= 1, f"frame {k}: the export's pixels"
    assert worst(export[3], as_a_photo(frames[3], editor)) > 20, "not as a photo is rendered"
    assert editor.clips.renderer.carried == 3

    editor.frame_bar.slider.setValue(6)  # a jump: frame 6 as the export's first frame
    from_6 = exported(frames[6:], editor)
    assert worst(rendered(qtbot, editor, 6), from_6[0]) <= 1
    assert worst(from_6[0], export[6]) > 20, "the sky placed anew at the jump"
    hold_next(qtbot, editor, 3)  # "." held: frames 7 and 8 rendered on the way, off the GUI
    assert worst(rendered(qtbot, editor, 9), from_6[3]) <= 1
    assert editor.clips.renderer.carried == 6


def test_another_look_starts_the_renderer_again_at_the_frame_shown(qtbot, editor, dialogs, pan):
    path, frames = pan
    open_clip(qtbot, editor, dialogs, path)
    with_the_look(qtbot, editor)
    for k in (1, 2):
        qtbot.keyClick(editor, Qt.Key.Key_Period)
        rendered(qtbot, editor, k)
    m = editor.model
    renders = editor.controller.renders_done
    m.set_sky_param("position", (0.3, 0.6))  # another look at frame 2
    qtbot.waitUntil(lambda: editor.controller.renders_done > renders, timeout=WAIT_MS)
    shown = rendered(qtbot, editor, 2)  # its matte still the run's from frame 0
    first = FrameRenderer(m.steps(), m.skies().__getitem__)(frames[2], m.matte)
    assert worst(shown, first) <= 1, "the new look's sky placed on frame 2 as on a first frame"
    from_2 = exported(frames[2:], editor)
    qtbot.keyClick(editor, Qt.Key.Key_Period)  # the stage's run starts at frame 2 too
    assert worst(rendered(qtbot, editor, 3), from_2[1]) <= 1


def test_a_frame_asked_again_is_rendered_from_the_state_before_it():
    frames = noisy_pan((160, 120), 3)
    mattes = FrameMattes(MatteSource(method="color"))
    steadied = [mattes(frame) for frame in frames]
    skies = {"clouds": frames[0][::-1].copy()}
    steps = [effect_params("replace").replace(sky="clouds"), effect_params("relight")]
    export = FrameRenderer(steps, skies.__getitem__)
    expected = [export(f, s) for f, s in zip(frames, steadied, strict=True)]
    continued = export(frames[2], steadied[2])  # frame 2 once more, from the state after it
    assert worst(continued, expected[2]) > 0, "the state after frame 2 renders it otherwise"
    scrub = ScrubRenderer()
    for k in range(3):
        got = scrub(k, "color", steps, skies, frames[k], steadied[k], 0)
    assert worst(got, expected[2]) == 0 and scrub.carried == 2
    again = scrub(2, "color", steps, skies, frames[2].copy(), steadied[2], 0)  # read anew
    assert worst(again, expected[2]) == 0 and scrub.carried == 2
    restarted = scrub(0, "color", steps, skies, frames[0], steadied[0], 0)  # a step back
    assert worst(restarted, expected[0]) == 0 and scrub.origin == 0


def test_a_frame_that_fails_leaves_no_run_to_go_on_from():
    frames = noisy_pan((160, 120), 3)
    mattes = FrameMattes(MatteSource(method="color"))
    steadied = [mattes(frame) for frame in frames]
    skies = {"clouds": frames[0][::-1].copy()}
    steps = [effect_params("replace").replace(sky="clouds")]
    scrub = ScrubRenderer()
    scrub(0, "color", steps, skies, frames[0], steadied[0], 0)
    with pytest.raises(MatteError):  # a matte of another size than its frame
        scrub(1, "color", steps, skies, frames[1], steadied[1][:10], 0)
    key = render_key("color", steps, skies)
    assert scrub.last is None and scrub.behind(0, 2, key) == range(0, 2)
    first = FrameRenderer(steps, skies.__getitem__)(frames[2], steadied[2])
    assert worst(scrub(2, "color", steps, skies, frames[2], steadied[2], 0), first) == 0
