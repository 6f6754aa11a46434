"""The real 100 % view (issue 26, point 1), through the real widgets (pytest-qt, offscreen): at
100 % the canvas shows the photo's own pixels and the full-resolution render, not the
screen-sized preview scaled up."""

from __future__ import annotations

import numpy as np
import test_editor
from PyQt6.QtCore import QPoint, Qt
from test_editor import WAIT_MS, put_sky

from skyseg_core.io import load_image, save_image

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


def detailed_photo(path, height=900, width=1200):
    """A sky over a hill with 1-pixel detail everywhere (what a preview blurs), and its truth."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:height, 0:width]
    sky = yy < height * (0.5 + 0.05 * np.sin(xx / width * 6.0))
    image = np.where(sky[..., None], [90, 140, 230], [60, 110, 40]).astype(np.int16)
    image = image + ((xx + yy) % 2 * 40 - 20)[..., None]  # a 1 px checkerboard
    image = image + rng.integers(-12, 13, image.shape)
    save_image(path, np.clip(image, 0, 255).astype(np.uint8))
    return sky


def canvas_pixels(canvas, size: int = 160):
    """(the viewport's central ``size`` square as RGB, the full-size pixel at its corner)."""
    from effects_gui.qimage import qimage_to_rgb

    shot = qimage_to_rgb(canvas.viewport().grab().toImage())
    cy, cx = shot.shape[0] // 2 - size // 2, shot.shape[1] // 2 - size // 2
    corner = canvas.mapToScene(QPoint(cx, cy))
    s = canvas.model.scale
    return shot[cy : cy + size, cx : cx + size], (corner.x() / s, corner.y() / s)


def best_match(block, full, corner) -> int:
    """The largest difference between ``block`` and ``full`` at ``corner`` (within a pixel of
    rounding of where the block starts)."""
    n = block.shape[0]
    fx, fy = round(corner[0]), round(corner[1])
    return min(
        int(np.abs(block.astype(int) - full[y : y + n, x : x + n].astype(int)).max())
        for y in (fy - 1, fy, fy + 1)
        for x in (fx - 1, fx, fx + 1)
    )


def test_at_100_percent_the_canvas_shows_full_resolution_pixels(qtbot, editor, dialogs, tmp_path):
    from skyseg_core.matte import resize_matte

    path = tmp_path / "detail.png"
    truth = detailed_photo(path)
    editor.open_photo(path)
    m, canvas = editor.model, editor.canvas
    qtbot.waitUntil(lambda: m.has_photo, timeout=WAIT_MS)
    full = load_image(path)
    matte = truth.astype(np.float32)
    m.set_segmentation(matte, resize_matte(matte, m.proxy.shape[:2]), "test")
    assert m.scale < 0.5, "the preview is well under the photo's size"
    qtbot.keyClick(editor, Qt.Key.Key_O)  # the photo alone
    assert not m.view.overlay and canvas.shown() == "photo"

    qtbot.keyClick(editor, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # 100 %
    assert editor.zoom_label.text() == "100 %"
    qtbot.waitUntil(lambda: canvas.detail_state == "photo", timeout=WAIT_MS)
    block, corner = canvas_pixels(canvas)
    assert best_match(block, full, corner) <= 1, "the photo's own pixels"
    # the preview scaled up, for contrast: the checkerboard is gone from it
    canvas.clear_detail()
    canvas.viewport().repaint()
    blurred, corner = canvas_pixels(canvas)
    assert best_match(blurred, full, corner) > 20, "without it the preview is what shows"

    # scrolled: the new region comes (the last stays until it does)
    canvas.want_detail()
    qtbot.waitUntil(lambda: canvas.detail_state == "photo", timeout=WAIT_MS)
    bar = canvas.horizontalScrollBar()
    assert bar.maximum() > 100, "the photo is wider than the window at 100 %"
    bar.setValue(0)
    qtbot.waitUntil(lambda: canvas.detail_item.pos().x() < 1, timeout=WAIT_MS)
    bar.setValue(bar.maximum())  # at 100 %, one step of the bar is one pixel of the photo
    qtbot.waitUntil(
        lambda: canvas.detail_item.pos().x() / m.scale >= bar.maximum() - 2, timeout=WAIT_MS
    )
    block, corner = canvas_pixels(canvas)
    assert best_match(block, full, corner) <= 1

    # the matte view: the full-size matte's own values; the overlay: its full-size matte too
    qtbot.keyClick(editor, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: canvas.detail_state == "matte", timeout=WAIT_MS)
    block, corner = canvas_pixels(canvas)
    grey = np.repeat((matte * 255).astype(np.uint8)[..., None], 3, axis=2)
    assert best_match(block, grey, corner) <= 1
    qtbot.keyClick(editor, Qt.Key.Key_P)
    qtbot.keyClick(editor, Qt.Key.Key_O)
    qtbot.waitUntil(lambda: canvas.detail_overlay_item.isVisible(), timeout=WAIT_MS)
    assert not canvas.overlay_item.isVisible(), "the preview's overlay is not drawn under it"
    qtbot.keyClick(editor, Qt.Key.Key_O)

    # the result: the same pixels as the full-size export
    put_sky(qtbot, editor, "clouds")
    m.set_view(mode="result", overlay=False)
    made = editor.fullres.made
    qtbot.waitUntil(
        lambda: canvas.detail_state == "result" and editor.fullres.made > made, timeout=WAIT_MS
    )
    out = tmp_path / "export.png"
    editor.export_result(out)
    qtbot.waitUntil(lambda: out.exists() and not editor.controller.runner.active, timeout=WAIT_MS)
    block, corner = canvas_pixels(canvas)
    assert best_match(block, load_image(out), corner) <= 1, "what the export writes"

    # zoomed out until the preview is not enlarged: the preview, nothing full-size asked for
    for _ in range(12):
        if canvas.zoom() <= 1.0:
            break
        qtbot.keyClick(editor, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(80)
    assert canvas.visible_region() is None and not canvas.detail_item.isVisible()
