"""Issue 26 point 5: one unit for temperature across the editor's panels.

The sky's temperature is a warm (+) / cool (-) shift in mired; relight's light is a colour
temperature in kelvin. The editor reads both as the shift from daylight in mired (relight's with
its kelvin beside it), warmer to the right on both sliders; the outputs for the same settings are
those of the code before (hashes pinned below).
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
import test_editor
from conftest import synthetic_landscape
from PyQt6.QtCore import Qt
from test_editor import WAIT_MS, open_synthetic, put_sky

from skyseg_core import effects
from skyseg_core.effects import RelightParams, mired_shift, replace_preset
from skyseg_core.effects._color import kelvin_to_rgb, luminance
from skyseg_core.effects._replace import temperature_gains
from skyseg_core.skygen import make_sky

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures

# Made by the code before this change (commit fb57356) with the inputs below:
#   sha256(effects.replace_sky(image, matte, sky, replace_preset(look, sky_temperature=t)))[:16]
#   sha256(effects.relight(image, matte, None, RelightParams(temperature=k, ...)))[:16]
BEFORE = {
    "replace plain +40": "bad69c3845ea316d",
    "replace natural -70": "f5075561fe89f8e2",
    "relight 3200": "c9b4dca0c78a6810",
    "relight 9000 strength 1": "26173ccaa9a05e72",
}


def test_outputs_for_the_same_settings_are_unchanged():
    image, truth = synthetic_landscape(120, 180, seed=11)
    matte = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 1.5)
    matte = np.clip(matte, 0, 1).astype(np.float32)
    sky = make_sky("golden_hour", 200, 110, seed=3)
    outputs = {
        "replace plain +40": effects.replace_sky(
            image, matte, sky, replace_preset("plain", sky_temperature=40.0)
        ),
        "replace natural -70": effects.replace_sky(
            image, matte, sky, replace_preset("natural", sky_temperature=-70.0)
        ),
        "relight 3200": effects.relight(image, matte, None, RelightParams(temperature=3200.0)),
        "relight 9000 strength 1": effects.relight(
            image, matte, None, RelightParams(temperature=9000.0, strength=1.0)
        ),
    }
    assert {k: hashlib.sha256(v.tobytes()).hexdigest()[:16] for k, v in outputs.items()} == BEFORE


@pytest.mark.parametrize("kelvin", [2000.0, 3200.0, 5500.0, 6504.0, 12000.0])
def test_a_kelvin_and_its_mired_shift_are_the_same_light(kelvin):
    """The shift the editor shows for relight's kelvin gives the sky's temperature that colour."""
    light = kelvin_to_rgb(kelvin).astype(np.float32)
    assert np.allclose(temperature_gains(mired_shift(kelvin)), light / luminance(light), atol=1e-5)
    assert mired_shift(6504.0) == pytest.approx(0.0, abs=1e-9)
    assert round(mired_shift(5500.0)) == 28 and round(mired_shift(3200.0)) == 159


def test_both_panels_read_in_mired_warmer_to_the_right(qtbot, editor, tmp_path):
    open_synthetic(qtbot, editor, tmp_path)
    put_sky(qtbot, editor)
    sky_t = editor.sky_panel.controls["sky_temperature"].sliders[0]
    relight = editor.effect_panels["relight"]
    relight.enabled.click()  # relight on (its controls follow the switch)
    assert editor.model.edit.relight_enabled
    light_t = relight.controls["temperature"].sliders[0]
    assert sky_t.label.text() == "0 mired"
    assert light_t.label.text() == "+28 mired · 5500 K"
    # the same key warms both (higher shift): the sky's shift rises, the light's kelvin falls
    for slider in (sky_t, light_t):
        before = mired_shift(slider.value()) if slider is light_t else slider.value()
        qtbot.keyClick(slider.slider, Qt.Key.Key_PageUp)
        after = mired_shift(slider.value()) if slider is light_t else slider.value()
        assert after > before, (slider.objectName(), before, after)
        assert slider.label.text().startswith("+") and " mired" in slider.label.text()
    assert editor.model.edit.relight.temperature < 5500.0
    assert editor.model.edit.replace.sky_temperature > 0.0
    # warmer is drawn to the right on both: the warmest end of the relight slider is its right
    assert light_t.slider.invertedAppearance() and not sky_t.slider.invertedAppearance()
    qtbot.waitUntil(lambda: editor.controller.render_job is None, timeout=WAIT_MS)
