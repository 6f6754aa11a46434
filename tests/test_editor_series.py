"""File > Apply to photos (issue 26, point 6): the edit's sky and settings on a series of photos,
one cancellable job through the batch machinery, each photo with its own matte and its sky
placed by its own horizon, driven through the real widgets (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import test_editor
from conftest import synthetic_landscape
from PyQt6.QtWidgets import QFileDialog
from test_editor import WAIT_MS, open_synthetic, put_sky

from skyseg_core.io import load_image, save_image

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


def test_the_edit_goes_on_a_series_each_photo_by_its_own_horizon(
    qtbot, editor, dialogs, tmp_path, monkeypatch
):
    m, _ = open_synthetic(qtbot, editor, tmp_path)
    m.set_method("color")
    put_sky(qtbot, editor, "clouds")
    series = tmp_path / "series"
    series.mkdir()
    truths = {}
    for seed, height in ((1, 120), (2, 150), (3, 90)):
        image, truth = synthetic_landscape(height, 160, seed=seed)
        save_image(series / f"p{seed}.png", image)
        truths[f"p{seed}"] = (image, truth)
    (series / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    photos = sorted(str(p) for p in series.glob("*.png"))
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (photos, ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    messages: list[str] = []
    editor.controller.busy.connect(lambda text, percent, cancellable: messages.append(text))
    results: list = []
    editor.controller.seriesFinished.connect(lambda w, e: results.append((w, e)))

    editor.series_action.trigger()
    assert editor.cancel_button.isVisible(), "one job, with Cancel"
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    written, errors = results[0]
    assert sorted(p.name for p in written) == ["p1_sky.jpg", "p2_sky.jpg", "p3_sky.jpg"]
    assert len(errors) == 1 and "broken.png" in errors[0], errors
    assert "broken.png" in dialogs.errors[0], "the failed photo is named, the others written"
    assert any("3 of 4 photos done" in text for text in messages), messages
    assert editor.status_label.text() == f"3 of 4 photos written to {out}"
    for name, (image, truth) in truths.items():
        result = load_image(out / f"{name}_sky.jpg")
        assert result.shape == image.shape, "each photo at its own size"
        diff = np.abs(result.astype(int) - image.astype(int)).sum(axis=2)
        sky = truth & np.roll(truth, 6, axis=0)  # away from its own horizon
        assert diff[sky].mean() > 30, f"{name}: the new sky in its own sky"
        ground = ~truth & ~np.roll(truth, -6, axis=0)
        assert diff[ground].mean() < diff[sky].mean() / 2, f"{name}: its ground kept"
