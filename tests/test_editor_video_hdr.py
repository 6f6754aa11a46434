"""An HDR clip in the editor (issue 28): a PQ or HLG frame is shown as the SDR view the export
finds its sky in (:meth:`skyseg_core.effects._transfer.Signal.sdr_view`), not as its raw codes
(a flat, washed-out picture); its matte is the export's (found on that view); its preview is
rendered from the codes in the clip's signal as the export renders it, and shown as its SDR
view. An SDR clip is shown and rendered as before. Real widgets (pytest-qt, offscreen).

The clips: tests/test_video_hdr.py's rocket pan (a dusk sky over launch towers, 240x160) put
into PQ or HLG by colour-science, 10-bit, BT.2020.
"""

from __future__ import annotations

import numpy as np
import pytest
import test_editor
import videoclips
from PyQt6.QtCore import Qt
from test_editor_video import open_clip, shown_photo
from test_editor_video_render import rendered, with_the_look, worst
from test_video_hdr import TAGS, reference_signal, rocket_pan

from effects_gui.clipframes import VideoFrames
from effects_gui.edit import proxy_of
from effects_gui.qimage import qimage_to_rgb
from skyseg_core.clips import FrameMattes, FrameRenderer
from skyseg_core.effects._transfer import Signal, clip_signal
from skyseg_core.pipeline import MatteSource

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures
pytest.importorskip("av")  # the video extra

FRAMES = 4


def hdr_clip(folder, transfer: str):
    """The rocket pan as a 10-bit ``transfer`` clip ("sdr": its 8-bit codes widened, BT.709
    tags): its path, its frames as the export reads them (uint16) and its colour tags."""
    frames = rocket_pan(FRAMES)
    if transfer == "sdr":
        codes = [f.astype(np.uint16) * 257 for f in frames]
    else:
        codes = [
            np.round(reference_signal(f / 255.0, transfer) * 65535).astype(np.uint16)
            for f in frames
        ]
    path = videoclips.write_clip(
        folder / f"{transfer}.mp4", codes, pix_fmt="yuv420p10le", colour=TAGS[transfer]
    )
    read, facts = videoclips.read_clip(path)
    return path, read, facts["info"].colour


def export_mattes(frames, colour: dict | None) -> list[np.ndarray]:
    """The export's steadied mattes by the method ``color`` (the editor's in these tests), the
    frames seen through the clip's signal (``colour``) or, with None, as their codes."""
    mattes = FrameMattes(MatteSource(method="color"))
    if colour is not None:
        mattes.use_signal_of(colour)
    return [mattes(frame) for frame in frames]


def export_frames(frames, colour: dict, editor) -> list[np.ndarray]:
    """What the export renders for ``frames`` from the first, with the edit's steps and the
    preview's copy of the sky (the comparison is of the signal handling, not of the sky's size)."""
    m = editor.model
    renderer = FrameRenderer(m.steps(), m.skies().__getitem__)
    renderer.use_signal_of(colour)
    mattes = export_mattes(frames, colour)
    return [renderer(f, matte) for f, matte in zip(frames, mattes, strict=True)]


def shown_result(editor) -> np.ndarray:
    """The canvas's result pixels."""
    return qimage_to_rgb(editor.canvas._pixmaps["result"].toImage())


@pytest.mark.parametrize("transfer", ["pq", "hlg"])
def test_an_hdr_frame_is_shown_and_its_sky_found_as_its_sdr_view(
    qtbot, editor, dialogs, tmp_path, transfer
):
    path, frames, colour = hdr_clip(tmp_path, transfer)
    open_clip(qtbot, editor, dialogs, path)
    m = editor.model
    view = Signal(transfer, bt2020=True).sdr_view(frames[0])
    raw = (frames[0] // 257).astype(np.uint8)  # what was shown before: the codes
    assert worst(shown_photo(editor), view) == 0 and worst(m.image, view) == 0
    assert np.abs(view.astype(int) - raw).mean() > 3, "the codes look otherwise"  # 14.5, 5.3

    want, as_codes = export_mattes(frames[:1], colour)[0], export_mattes(frames[:1], None)[0]
    assert float(np.abs(want - as_codes).max()) > 0.1, "the codes give another matte"  # hlg: 0.32
    assert float(np.abs(m.matte - want).max()) < 1e-4, "the export's matte"

    assert m.clip.signal == clip_signal(colour) is not None
    assert np.array_equal(m.clip.codes(0), frames[0]), "the codes kept, 16-bit, for the render"


def test_an_hdr_frames_preview_is_the_exports_frame_shown_as_its_sdr_view(
    qtbot, editor, dialogs, tmp_path
):
    path, frames, colour = hdr_clip(tmp_path, "pq")
    open_clip(qtbot, editor, dialogs, path)
    with_the_look(qtbot, editor)
    signal = clip_signal(colour)
    export, mattes = export_frames(frames, colour, editor), export_mattes(frames, colour)
    unconverted = FrameRenderer(editor.model.steps(), editor.model.skies().__getitem__)
    as_before = unconverted(frames[0], mattes[0])  # no SIGNAL set
    assert worst(signal.sdr_view(as_before), signal.sdr_view(export[0])) > 20, "sky converted"

    assert worst(rendered(qtbot, editor, 0), signal.sdr_view(export[0])) <= 1
    for k in (1, 2):  # the "." key: the renderer carried, as in the export
        qtbot.keyClick(editor, Qt.Key.Key_Period)
        assert worst(rendered(qtbot, editor, k), signal.sdr_view(export[k])) <= 1, f"frame {k}"
        assert float(np.abs(editor.model.matte - mattes[k]).max()) < 1e-4, "steadied as exported"
    assert editor.clips.renderer.carried == 2
    shown = shown_result(editor)
    assert worst(shown, signal.sdr_view(export[2])) <= 1, "the canvas shows the SDR view"


def test_an_sdr_clip_is_shown_and_rendered_as_before(qtbot, editor, dialogs, tmp_path):
    path, frames, colour = hdr_clip(tmp_path, "sdr")
    open_clip(qtbot, editor, dialogs, path)
    m = editor.model
    assert m.clip.signal is None and clip_signal(colour) is None
    assert np.array_equal(m.image, proxy_of(frames[0], 512)[0]), "its 8-bit codes, as a photo's"
    assert m.clip.codes(0) is m.image, "nothing else kept"
    assert worst(shown_photo(editor), m.image) == 0
    with_the_look(qtbot, editor)
    renderer = FrameRenderer(m.steps(), m.skies().__getitem__)
    export = renderer(m.image, export_mattes([m.image], None)[0])
    assert worst(rendered(qtbot, editor, 0), export) <= 1


def test_a_large_hdr_frame_keeps_its_codes_at_their_depth_at_the_preview_size(tmp_path):
    path, frames, colour = hdr_clip(tmp_path, "hlg")
    source = VideoFrames(path, 120)
    try:
        codes, shown = source.codes(1), source.frame(1)
        assert codes.dtype == np.uint16 and codes.shape == (80, 120, 3)
        assert np.array_equal(shown, clip_signal(colour).sdr_view(codes))
        assert source.cache.bytes == shown.nbytes + codes.nbytes
        assert source.kept(1) is shown and source.frame(1) is shown
    finally:
        source.close()
