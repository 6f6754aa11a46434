"""The editor's cut-out export (issue 24: cut-out as a registered step on every surface), driven
through the real widgets (pytest-qt, offscreen): the photo with its sky transparent, from the
same edited matte as the other exports (brush strokes, Close gaps) and the edit's effects, its
alpha as the core's ``write_cutout`` makes it; its option generated from the step's
declaration; an existing file replaced only when the user says so; Cancel writes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import test_editor
import test_editor_export
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialogButtonBox, QMessageBox
from test_editor import WAIT_MS, brush_stroke, open_synthetic, put_sky

from skyseg_core.declare import controls
from skyseg_core.effects.registry import get_step
from skyseg_core.io import load_image, load_matte
from skyseg_core.pipeline import Photo, write_cutout

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures
held_render = test_editor_export.held_render


def save_cutout(qtbot, editor, path: Path, decontaminate: bool | None = None):
    """File > Export cut-out…, the file typed in, Save clicked; returns the dialog."""
    editor.export_cutout_action.trigger()
    box = editor.cutout_box
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    if decontaminate is not None:
        box.options["decontaminate"].check.setChecked(decontaminate)
    box.path.setText(str(path))
    qtbot.mouseClick(
        box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
        Qt.MouseButton.LeftButton,
    )
    return box


def wait_saved(qtbot, editor, path: Path) -> None:
    qtbot.waitUntil(
        lambda: (
            editor.status_label.text() == f"Saved {path}" and not editor.controller.runner.active
        ),
        timeout=WAIT_MS,
    )


def rgba(path: Path) -> np.ndarray:
    """The file's RGBA pixels in its own bit depth (OpenCV: PIL has no 16-bit RGBA)."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.ndim == 3 and image.shape[2] == 4, f"{path.name}: no alpha"
    return image[..., [2, 1, 0, 3]]


def test_the_cutout_is_the_core_cutout_of_the_edited_matte_with_the_effects_applied(
    qtbot, editor, dialogs, tmp_path
):
    m, truth = open_synthetic(qtbot, editor, tmp_path)
    put_sky(qtbot, editor)  # a sky: the foreground is relit and colour matched toward it
    editor.remove_action.trigger()  # E: a band of the sky taken out of the matte
    m.set_brush(radius=8.0)
    brush_stroke(qtbot, editor.canvas, (40, 30), (120, 30))
    assert len(m.strokes) == 1
    generation = m.matte_generation
    m.set_params("matte", close_gaps=0.5)
    qtbot.waitUntil(
        lambda: m.matte_generation > generation and editor.controller.gap_job is None,
        timeout=WAIT_MS,
    )
    matte_png, result_png = tmp_path / "edited_matte.png", tmp_path / "result.png"
    editor.export_matte(matte_png)  # the matte the other exports use
    wait_saved(qtbot, editor, matte_png)

    out = tmp_path / "hill_cutout.png"
    box = save_cutout(qtbot, editor, out)
    assert box.options["decontaminate"].value() is True, "the step's default"
    wait_saved(qtbot, editor, out)
    assert dialogs.errors == [] and m.modified, "a cut-out is not a save of the edit"
    got = rgba(out)
    assert got.shape == (120, 160, 4) and got.dtype == np.uint8, "the photo's full size"

    # the core's cut-out of the same photo and the exported matte (8 bits: within rounding)
    photo_path = tmp_path / "hill.png"
    edited = load_matte(matte_png)
    reference = tmp_path / "core.png"
    write_cutout(Photo(photo_path, load_image(photo_path), edited, "test"), reference)
    alpha, core_alpha = got[..., 3].astype(int), rgba(reference)[..., 3].astype(int)
    assert np.abs(alpha - core_alpha).max() <= 1
    band, clear = np.zeros_like(truth), np.zeros_like(truth)
    band[28:33, 50:110] = True  # under the stroke, away from its soft edge
    clear[:12] = True  # sky well away from the stroke
    assert (truth & band).sum() > 100 and (alpha[truth & band] == 255).all(), (
        "the stroke's sky is kept: the edited matte, not the one found"
    )
    assert truth[clear].all() and (alpha[clear] <= 1).all(), "the rest of the sky is transparent"

    # the foreground as the result shows it: the effects applied, not the photo's own colours
    editor.export_result(result_png)
    wait_saved(qtbot, editor, result_png)
    opaque = (alpha == 255) & ~truth
    result, original = load_image(result_png), load_image(photo_path)
    assert np.array_equal(got[..., :3][opaque], result[opaque])
    assert not np.array_equal(result[opaque], original[opaque]), "the effects changed it"


def test_the_option_is_the_steps_declaration_and_a_name_without_alpha_is_refused(
    qtbot, editor, dialogs, tmp_path
):
    open_synthetic(qtbot, editor, tmp_path)
    step = get_step("cutout")
    editor.export_cutout_action.trigger()
    box = editor.cutout_box
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    declared = controls(step.params)
    assert list(box.options) == list(declared)
    for name, widget in box.options.items():
        assert declared[name][1].help[1:] in widget.toolTip()
    formats = [box.kind.itemData(i) for i in range(box.kind.count())]
    assert formats == [".png", ".tif", ".webp"]
    box.kind.setCurrentIndex(2)
    assert box.path.text().endswith("hill_cutout.webp")
    box.reject()

    plain = save_cutout(qtbot, editor, tmp_path / "plain.tif", decontaminate=False)
    assert plain.choice()[1] == step.params(decontaminate=False)
    wait_saved(qtbot, editor, tmp_path / "plain.tif")
    assert rgba(tmp_path / "plain.tif").dtype == np.uint16, "TIFF at 16 bits, as the result's"

    save_cutout(qtbot, editor, tmp_path / "flat.jpg")
    assert len(dialogs.errors) == 1 and ".png, .tif or .webp" in dialogs.errors[0]
    assert not (tmp_path / "flat.jpg").exists() and not editor.controller.export_jobs


def test_a_file_the_editor_did_not_write_is_replaced_only_when_the_user_says_so(
    qtbot, editor, dialogs, tmp_path
):
    open_synthetic(qtbot, editor, tmp_path)
    out = tmp_path / "theirs.png"
    out.write_bytes(b"someone else's picture")
    dialogs.answer = QMessageBox.StandardButton.Cancel
    save_cutout(qtbot, editor, out)
    assert len(dialogs.questions) == 1 and "theirs.png already exists" in dialogs.questions[0]
    assert out.read_bytes() == b"someone else's picture" and not editor.controller.export_jobs

    dialogs.answer = QMessageBox.StandardButton.Yes
    save_cutout(qtbot, editor, out)
    wait_saved(qtbot, editor, out)
    assert len(dialogs.questions) == 2 and rgba(out).shape == (120, 160, 4)

    # the editor's own file: written again without asking
    editor.status_label.setText("")
    save_cutout(qtbot, editor, out, decontaminate=False)
    wait_saved(qtbot, editor, out)
    assert len(dialogs.questions) == 2


def test_cancel_leaves_nothing(qtbot, editor, dialogs, held_render, tmp_path):
    release, entered = held_render
    open_synthetic(qtbot, editor, tmp_path)
    before = set(tmp_path.iterdir())
    out = tmp_path / "cancelled.png"
    save_cutout(qtbot, editor, out)
    qtbot.waitUntil(entered.is_set, timeout=WAIT_MS)
    assert editor.cancel_button.isVisible()
    assert editor.progress_label.text().startswith("Exporting cancelled.png")
    qtbot.mouseClick(editor.cancel_button, Qt.MouseButton.LeftButton)
    assert editor.status_label.text() == "Export cancelled: cancelled.png not written"
    release.set()
    qtbot.waitUntil(lambda: not editor.controller.runner.active, timeout=WAIT_MS)
    assert set(tmp_path.iterdir()) == before, "no file, no hidden temporary left"
    assert dialogs.errors == []
