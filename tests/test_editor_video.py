"""The editor on video clips and timelapse folders (issue 28, point 5), through the real widgets
(pytest-qt, offscreen): open, scrub, preview the look on a frame, export as a job with its
progress in frames and Cancel, a damaged clip refused with one message.

The clips are camera pans over a real photo of ../shared/data/skyseg (tests/videoclips.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import test_editor
import videoclips
from conftest import synthetic_landscape
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialogButtonBox, QFileDialog
from test_editor import WAIT_MS, put_sky

from effects_gui.clipframes import VideoFrames
from effects_gui.qimage import qimage_to_rgb
from skyseg_core.cli._video import CRF_RANGE
from skyseg_core.io import load_image, save_image
from skyseg_core.video import DEFAULT_CRF

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures
pytest.importorskip("av")  # the video extra


def codes(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in 8-bit codes."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture
def pan_clip(tmp_path):
    """A 10-frame pan (160x120, 6 px a frame, 25 frames/s, with audio) and its decoded frames."""
    pan = videoclips.pan(size=(160, 120), step=(6, 0), frames=10)
    path = videoclips.write_clip(tmp_path / "pan.mp4", pan.frames, rate=25, audio=True)
    frames, facts = videoclips.read_clip(path)
    return path, frames, facts


def open_clip(qtbot, editor, dialogs, path) -> None:
    """Open ``path`` through File > Open (the method ``color``: fast) and wait for frame 0's sky."""
    editor.model.set_method("color")
    dialogs.open_paths.append(str(path))
    editor.open_action.trigger()
    qtbot.waitUntil(
        lambda: editor.model.clip is not None and editor.model.matte is not None, timeout=WAIT_MS
    )


def shown_photo(editor) -> np.ndarray:
    """The canvas's photo pixels."""
    return qimage_to_rgb(editor.canvas._pixmaps["photo"].toImage())


def export_video(qtbot, editor, action, out, crf: int | None = None):
    """``action`` opens the Export video dialog: ``out`` typed in, the CRF set, Save clicked.
    Returns the dialog."""
    action.trigger()
    box = editor.video_export_box
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    box.path.setText(str(out))
    if crf is not None:
        box.crf.setValue(crf)
    box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    return box


def x264_crf(path) -> float:
    """The CRF x264 wrote into the clip's settings (its SEI message)."""
    data = path.read_bytes()
    at = data.index(b" crf=") + 5
    return float(data[at : data.index(b" ", at)])


def scrub_to(qtbot, editor, index: int) -> None:
    found = editor.clips.mattes_found
    editor.frame_bar.slider.setValue(index)
    qtbot.waitUntil(
        lambda: editor.clips.mattes_found > found and editor.clips.matte_job is None,
        timeout=WAIT_MS,
    )


def test_a_clip_opens_at_frame_0_and_scrubbing_shows_frame_k_with_the_look(
    qtbot, editor, dialogs, pan_clip
):
    path, frames, _ = pan_clip
    open_clip(qtbot, editor, dialogs, path)
    m, bar = editor.model, editor.frame_bar
    assert bar.isVisible() and bar.slider.maximum() == 9 and bar.number.value() == 1
    assert bar.where.text() == "0:00.00 / 0:00.36"
    assert editor.windowTitle().startswith("pan.mp4")
    assert m.image.shape == frames[0].shape
    assert codes(m.image, frames[0]) < 2 and codes(shown_photo(editor), frames[0]) < 2
    assert 0.1 < float(m.matte.mean()) < 0.9, "frame 0's sky is found"
    assert not editor.add_action.isEnabled() and not editor.segment_button.isEnabled()

    editor.canvas.zoom_by(2.0)  # zoomed in on an edge: scrubbing keeps the zoom
    zoom = editor.canvas.zoom()
    scrub_to(qtbot, editor, 7)
    assert editor.canvas.zoom() == pytest.approx(zoom)
    assert bar.number.value() == 8 and bar.where.text() == "0:00.28 / 0:00.36"
    assert codes(m.image, frames[7]) < 2 and codes(shown_photo(editor), frames[7]) < 2
    assert codes(m.image, frames[0]) > 10, "frame 7 is 42 px further along the pan"

    # a sky: the frame shown replaced, and the next frame (the "." key) replaced in its turn
    put_sky(qtbot, editor, "clouds")
    assert editor.canvas.shown() == "result"
    sky = m.matte > 0.9
    assert codes(m.result[sky], m.image[sky]) > 20, "the sky of frame 8 is the new one"
    renders = editor.controller.renders_done
    found = editor.clips.mattes_found
    qtbot.keyClick(editor, Qt.Key.Key_Period)
    qtbot.waitUntil(
        lambda: (
            editor.clips.mattes_found > found
            and editor.controller.renders_done > renders
            and editor.controller.render_job is None
        ),
        timeout=WAIT_MS,
    )
    assert bar.number.value() == 9 and codes(m.image, frames[8]) < 2
    sky = m.matte > 0.9
    assert editor.canvas.shown() == "result" and codes(m.result[sky], m.image[sky]) > 20


def test_export_writes_every_frame_with_the_rate_timing_and_audio(
    qtbot, editor, dialogs, pan_clip, tmp_path
):
    path, frames, facts = pan_clip
    open_clip(qtbot, editor, dialogs, path)
    put_sky(qtbot, editor, "clouds")
    messages: list[str] = []
    editor.controller.busy.connect(lambda text, *_: messages.append(text))
    out = tmp_path / "out" / "edited.mp4"
    out.parent.mkdir()
    # Ctrl+Shift+E: the video's export with a clip open; the CLI's default quality offered
    box = export_video(qtbot, editor, editor.export_dialog_action, out)
    assert (box.crf.value(), box.crf.minimum(), box.crf.maximum()) == (DEFAULT_CRF, *CRF_RANGE)
    qtbot.waitUntil(lambda: not editor.controller.export_jobs, timeout=WAIT_MS)
    assert dialogs.errors == []
    assert x264_crf(out) == DEFAULT_CRF
    assert editor.status_label.text() == f"Saved {out}"
    assert "Exporting edited.mp4: frame 5 of 10" in messages
    written, got = videoclips.read_clip(out)
    assert len(written) == len(frames) == 10
    assert got["info"].rate == facts["info"].rate == 25
    assert got["pts"] == facts["pts"]
    assert videoclips.audio_packets(out) == videoclips.audio_packets(path) != []
    top = slice(0, 20)  # the pan's sky
    assert codes(written[0][top], frames[0][top]) > 20, "the exported frames have the new sky"
    assert sorted(p.name for p in out.parent.iterdir()) == ["edited.mp4"]


def test_the_quality_chosen_is_the_one_written_and_offered_next_time(
    qtbot, editor, dialogs, pan_clip, tmp_path
):
    path, frames, _ = pan_clip
    open_clip(qtbot, editor, dialogs, path)
    put_sky(qtbot, editor, "clouds")
    sizes = {}
    for crf in (40, 8):
        out = tmp_path / f"crf{crf}.mkv"
        export_video(qtbot, editor, editor.export_video_action, out, crf)
        qtbot.waitUntil(lambda: not editor.controller.export_jobs, timeout=WAIT_MS)
        assert dialogs.errors == [] and x264_crf(out) == crf
        sizes[crf] = out.stat().st_size
    assert sizes[40] < sizes[8] / 2, "a higher CRF, a smaller file"
    written = out.read_bytes()
    box = export_video(qtbot, editor, editor.export_video_action, out)  # the CRF 8 file again
    assert box.crf.value() == 8, "the last quality is offered again"
    assert dialogs.questions == ["crf8.mkv exists. Replace it?"]  # answered Discard: not Yes
    qtbot.wait(100)
    assert not editor.controller.export_jobs and out.read_bytes() == written


def test_cancel_mid_export_leaves_nothing(qtbot, editor, dialogs, tmp_path):
    pan = videoclips.pan(size=(160, 120), step=(4, 0), frames=40)
    path = videoclips.write_clip(tmp_path / "long.mp4", pan.frames, rate=25)
    open_clip(qtbot, editor, dialogs, path)
    put_sky(qtbot, editor, "clouds")
    out = tmp_path / "out" / "edited.mp4"
    out.parent.mkdir()

    def cancel_at_frame_2(text: str, *_):
        if text.endswith("frame 2 of 40") and editor.cancel_button.isVisible():
            editor.cancel_button.click()

    editor.controller.busy.connect(cancel_at_frame_2)
    export_video(qtbot, editor, editor.export_action, out)  # Ctrl+S: likewise the video's export
    qtbot.waitUntil(lambda: not editor.controller.runner.active, timeout=WAIT_MS)
    assert editor.status_label.text() == "Export cancelled: edited.mp4 not written"
    assert list(out.parent.iterdir()) == [], "no clip and no unfinished part file"
    assert dialogs.errors == []


def test_cancel_while_a_clip_is_read_opens_nothing(qtbot, editor, dialogs, tmp_path):
    pan = videoclips.pan(size=(160, 120), step=(4, 0), frames=40)
    path = videoclips.write_clip(tmp_path / "long.mp4", pan.frames, rate=25)

    def cancel_while_reading(text: str, *_):
        if text.endswith("reading") and editor.cancel_button.isVisible():
            editor.cancel_button.click()

    editor.controller.busy.connect(cancel_while_reading)
    editor.open_photo(path)
    qtbot.waitUntil(lambda: not editor.controller.runner.active, timeout=WAIT_MS)
    qtbot.wait(50)
    assert editor.status_label.text() == "Opening cancelled"
    assert editor.model.clip is None and not editor.model.has_photo
    assert not editor.frame_bar.isVisible() and dialogs.errors == []


@pytest.mark.parametrize("damage", ["cut", "zeroed"])
def test_a_damaged_clip_gives_one_clear_message(qtbot, editor, dialogs, pan_clip, damage):
    path, _, _ = pan_clip
    data = bytearray(path.read_bytes())
    if damage == "cut":  # the index (at the end) cut off
        data = data[: len(data) * 2 // 3]
    else:  # bytes overwritten after the first third
        for at in range(len(data) // 3, len(data), 400):
            data[at : at + 16] = bytes(16)
    path.write_bytes(bytes(data))
    photo = path.with_name("hill.png")  # the edit open before stays
    save_image(photo, synthetic_landscape(120, 160)[0])
    editor.open_photo(photo)
    qtbot.waitUntil(lambda: editor.model.path == photo, timeout=WAIT_MS)
    editor.open_photo(path)
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=WAIT_MS)
    qtbot.wait(100)
    assert len(dialogs.errors) == 1 and editor.model.path == photo
    assert dialogs.errors[0].startswith("Could not open pan.mp4\n\n")
    expected = "not a readable video" if damage == "cut" else "damaged or truncated video"
    assert expected in dialogs.errors[0] and "Traceback" not in dialogs.errors[0]
    assert editor.model.clip is None and not editor.frame_bar.isVisible()


def test_a_frame_damaged_past_the_start_is_one_message_when_reached(
    qtbot, editor, dialogs, tmp_path
):
    pan = videoclips.pan(size=(160, 120), step=(4, 0), frames=40)
    path = videoclips.write_clip(tmp_path / "late.mp4", pan.frames, rate=25, faststart=True)
    data = bytearray(path.read_bytes())
    for at in range(len(data) * 2 // 3, len(data), 300):  # the last third's frames zeroed
        data[at : at + 16] = bytes(16)
    path.write_bytes(bytes(data))
    open_clip(qtbot, editor, dialogs, path)  # the start is whole: it opens, frame 0 shown
    editor.frame_bar.slider.setValue(39)
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=WAIT_MS)
    qtbot.wait(300)  # the settled sky search does not read it again
    assert len(dialogs.errors) == 1 and dialogs.errors[0].startswith("Could not read frame ")
    assert "damaged video: frame" in dialogs.errors[0] and "Errno" not in dialogs.errors[0]
    scrub_to(qtbot, editor, 3)  # the whole frames still scrub
    assert codes(editor.model.image, pan.frames[3]) < 2 and len(dialogs.errors) == 1


def test_a_timelapse_folder_scrubs_and_exports_with_the_photos_names(
    qtbot, editor, dialogs, tmp_path, monkeypatch
):
    pan = videoclips.pan(size=(160, 120), step=(6, 0), frames=4)
    folder = tmp_path / "timelapse"
    folder.mkdir()
    for i, frame in enumerate(pan.frames):
        save_image(folder / f"IMG_{i:04d}.png", frame)
    editor.model.set_method("color")
    editor.open_photo(folder)
    qtbot.waitUntil(lambda: editor.model.matte is not None, timeout=WAIT_MS)
    m = editor.model
    assert m.clip.count == 4 and np.array_equal(m.image, pan.frames[0])
    assert len(m.clip.source.cache) == 1, "only the first photo is read on opening"
    scrub_to(qtbot, editor, 2)
    assert (
        np.array_equal(m.image, pan.frames[2]) and editor.frame_bar.where.text() == "IMG_0002.png"
    )
    put_sky(qtbot, editor, "clouds")
    out = tmp_path / "edited"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    editor.export_video_action.trigger()
    qtbot.waitUntil(lambda: not editor.controller.export_jobs, timeout=WAIT_MS)
    assert dialogs.errors == []
    assert sorted(p.name for p in out.iterdir()) == [f"IMG_{i:04d}.png" for i in range(4)]
    result = load_image(out / "IMG_0002.png")
    assert result.shape == pan.frames[2].shape and codes(result[:20], pan.frames[2][:20]) > 20


def test_a_photo_after_a_clip_has_every_photo_tool_back(qtbot, editor, dialogs, pan_clip, tmp_path):
    path, _, _ = pan_clip
    open_clip(qtbot, editor, dialogs, path)
    m = editor.model
    image, _truth = synthetic_landscape(120, 160)
    save_image(tmp_path / "hill.png", image)
    editor.open_photo(tmp_path / "hill.png")
    qtbot.waitUntil(lambda: m.clip is None, timeout=WAIT_MS)
    qtbot.mouseClick(editor.segment_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: m.matte is not None, timeout=WAIT_MS)
    assert editor.windowTitle().startswith("hill.png") and m.image.shape == image.shape
    assert not editor.frame_bar.isVisible() and not editor.export_video_action.isEnabled()
    assert editor.add_action.isEnabled() and editor.segment_button.isEnabled()
    assert editor.export_matte_action.isEnabled() and editor.brush_panel.isEnabled()


def write_gop_clip(path, frames: list[np.ndarray], gop: int, rate: int = 25):
    """``frames`` as H.264 with a keyframe every ``gop`` frames and B-frames between."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate, options={"crf": "12", "bf": "2"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_random_access_in_a_clip_of_many_keyframes_gives_each_frames_own_pixels(tmp_path):
    pan = videoclips.pan(size=(160, 120), step=(4, 0), frames=40)
    path = write_gop_clip(tmp_path / "gops.mp4", pan.frames, gop=6)
    sequential, facts = videoclips.read_clip(path)
    clip = VideoFrames(path, long_side=512)
    assert clip.count == 40 and len(clip.keyframes) >= 6, "a clip of several GOPs"
    assert clip.times[-1] == pytest.approx(float(facts["info"].time_base * facts["pts"][-1]))
    order = np.random.default_rng(0).permutation(40)
    for k in order:
        assert np.array_equal(clip.frame(int(k)), sequential[k]), f"frame {k}"
    # a step forward goes on with the decoder: one frame decoded, no seek back to a keyframe
    clip.cache.clear()
    clip.frame(20)
    before = clip.decoded
    clip.frame(21)
    assert clip.decoded - before == 1
    clip.close()


def test_frames_kept_stay_under_their_bound_while_a_long_clip_is_scrubbed(
    qtbot, editor, dialogs, tmp_path
):
    pan = videoclips.pan(size=(160, 120), step=(2, 0), frames=200)
    path = videoclips.write_clip(tmp_path / "long.mp4", pan.frames, rate=25)
    open_clip(qtbot, editor, dialogs, path)
    source = editor.model.clip.source
    frame_bytes = 160 * 120 * 3
    source.cache.limit = 10 * frame_bytes
    for k in range(0, 200, 3):
        editor.frame_bar.slider.setValue(k)
        qtbot.waitUntil(lambda k=k: editor.clips.shown_index == k, timeout=WAIT_MS)
        assert source.cache.bytes <= source.cache.limit
    assert len(source.cache) == 10 and source.cache.bytes == 10 * frame_bytes
    assert np.array_equal(editor.model.image, source.frame(198))
    scrub_to(qtbot, editor, 5)  # back to a frame no longer kept: read again, the same pixels
    assert codes(editor.model.image, pan.frames[5]) < 2


def test_a_fast_drag_reads_the_latest_frame_not_every_one_passed(qtbot, editor, dialogs, tmp_path):
    pan = videoclips.pan(size=(160, 120), step=(2, 0), frames=120)
    path = videoclips.write_clip(tmp_path / "drag.mp4", pan.frames, rate=25)
    open_clip(qtbot, editor, dialogs, path)
    source = editor.model.clip.source
    for k in range(1, 120):  # the slider dragged across, faster than frames are read
        editor.frame_bar.slider.setValue(k)
    assert editor.frame_bar.number.value() == 120, "the frame number follows at once"
    qtbot.waitUntil(lambda: editor.clips.shown_index == 119, timeout=WAIT_MS)
    assert len(source.cache) <= 3, "frame 0, the one being read when the drag began, the last"
    assert codes(editor.model.image, pan.frames[119]) < 2


def test_a_10_bit_clip_scrubs_at_8_bits_and_exports_at_10(qtbot, editor, dialogs, tmp_path):
    import av
    from test_video_10bit import gradient_frames

    path = videoclips.write_clip(tmp_path / "deep.mp4", gradient_frames(), pix_fmt="yuv420p10le")
    open_clip(qtbot, editor, dialogs, path)
    deep, _ = videoclips.read_clip(path)
    assert deep[0].dtype == np.uint16
    assert codes(shown_photo(editor), (deep[0] >> 8).astype(np.uint8)) < 1, "frame 0, at 8 bits"
    put_sky(qtbot, editor, "clouds")
    out = tmp_path / "edited.mp4"
    export_video(qtbot, editor, editor.export_dialog_action, out)
    qtbot.waitUntil(lambda: not editor.controller.export_jobs, timeout=WAIT_MS)
    assert dialogs.errors == []
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p10le"
    written, got = videoclips.read_clip(out)
    assert got["info"].bits == 16 and len(written) == len(gradient_frames())
