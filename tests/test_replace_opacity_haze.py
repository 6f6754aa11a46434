"""Issue 26 point 6: the replacement's overall sky opacity and horizon haze.

Their defaults leave the output byte for byte as it was before they existed (hashes pinned
below, made by the code before the change); opacity 0 shows the photo's own sky, 1 the new sky;
the haze brings the photo's own sky back toward the horizon, more for a larger value.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
import test_editor
from conftest import synthetic_landscape

from skyseg_core import effects
from skyseg_core.effects import replace_preset
from skyseg_core.effects._geometry import sky_border
from skyseg_core.effects._haze import HAZE_REACH
from skyseg_core.skygen import make_sky

# Made by the code before sky_opacity and horizon_haze existed (commit fb57356), with
# _inputs() below and make_sky("golden_hour", 200, 110, seed=3):
#   out = effects.replace_sky(im, m, sky, replace_preset(look))
#   res, layers = effects.replace_sky_layers(im, m, sky, replace_preset(look))
#   sha256(out.tobytes())[:16], sha256(b"".join(l.pixels.tobytes() for l in layers))[:16]
BEFORE = {
    ("uint8", "natural"): ("3de4ec8fe731f918", "152adccfef017937"),
    ("uint8", "plain"): ("bd6b811106857a13", "40858801520a69a3"),
    ("uint8", "dramatic"): ("51cfda014fecc3e8", "dd164f9c5981e57a"),
    ("uint8", "soft"): ("dfccf730e18dc9df", "72718020452021e8"),
    ("uint16", "natural"): ("7b80e0a4007a55a4", "72741dda3d33398d"),
    ("uint16", "plain"): ("5ba52732127979d3", "2af1e91653096c00"),
    ("uint16", "dramatic"): ("1ef87ebb752eef24", "5f71b6d934c2c36b"),
    ("uint16", "soft"): ("0517aa46ba5b2935", "ceca6c7033e9738f"),
}


def _inputs(dtype=np.uint8):
    image, truth = synthetic_landscape(120, 180, seed=11)
    matte = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 1.5)
    matte = np.clip(matte, 0, 1).astype(np.float32)
    if dtype == np.uint16:
        image = image.astype(np.uint16) * 257
    return image, matte


SKY = make_sky("golden_hour", 200, 110, seed=3)
dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.mark.parametrize(("dtype", "look"), sorted(BEFORE))
def test_defaults_leave_the_output_byte_identical(dtype, look):
    image, matte = _inputs(np.dtype(dtype))
    params = replace_preset(look)
    assert params.sky_opacity == 1.0 and params.horizon_haze == 0.0
    out = effects.replace_sky(image, matte, SKY, params)
    result, layers = effects.replace_sky_layers(image, matte, SKY, params)
    pixels = b"".join(x.pixels.tobytes() for x in layers)
    assert (_digest(out.tobytes()), _digest(pixels)) == BEFORE[(dtype, look)]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("look", ["plain", "dramatic"])
def test_opacity_zero_shows_the_photos_own_sky_and_one_the_new_sky(dtype, look):
    image, matte = _inputs(dtype)
    zero = effects.replace_sky(image, matte, SKY, replace_preset(look, sky_opacity=0.0))
    one = effects.replace_sky(image, matte, SKY, replace_preset(look, sky_opacity=1.0))
    today = effects.replace_sky(image, matte, SKY, replace_preset(look))
    sky = matte >= 1.0
    assert sky.mean() > 0.2
    assert np.array_equal(zero[sky], image[sky])  # the photo's own sky, code for code
    assert np.array_equal(one, today)
    code_max = float(np.iinfo(dtype).max)
    assert np.abs(today[sky].astype(float) - image[sky]).mean() > 0.1 * code_max
    # in between: the sky region moves from the photo's sky to the new one step by step
    distances = []
    for opacity in (0.0, 0.25, 0.5, 0.75, 1.0):
        out = effects.replace_sky(image, matte, SKY, replace_preset(look, sky_opacity=opacity))
        distances.append(np.abs(out[sky].astype(float) - today[sky]).mean() / code_max)
    assert all(a > b for a, b in zip(distances, distances[1:], strict=False)), distances
    assert distances[-1] == 0.0


def test_opacity_keeps_the_layers_consistent_with_the_result():
    image, matte = _inputs()
    params = replace_preset("plain", sky_opacity=0.4, horizon_haze=0.6)
    result, layers = effects.replace_sky_layers(image, matte, SKY, params)
    new_sky = next(x for x in layers if x.name == "new sky").pixels
    sky = matte >= 1.0
    assert np.array_equal(new_sky[..., :3][sky], result[sky])  # what the sky layer holds shows
    plain = effects.replace_sky_layers(image, matte, SKY, replace_preset("plain"))[1]
    plain_sky = next(x for x in plain if x.name == "new sky").pixels
    assert not np.array_equal(plain_sky[..., :3][sky], new_sky[..., :3][sky])


def _band_distance(out: np.ndarray, image: np.ndarray, rows: slice, sky: np.ndarray) -> float:
    region = np.zeros_like(sky)
    region[rows] = True
    region &= sky
    assert region.sum() > 100
    return float(np.abs(out[region].astype(float) - image[region]).mean())


def test_horizon_haze_brings_the_photos_sky_back_near_the_horizon_more_for_more_haze():
    image, matte = _inputs()
    sky = matte >= 1.0
    border = sky_border(matte, matte.shape[0])  # where the engine puts the new horizon
    horizon, reach = int(border.horizon), HAZE_REACH * (border.horizon - border.top)
    near = slice(int(horizon - 0.5 * reach), horizon + 1)  # the lower half of the haze band
    far = slice(0, int(horizon - reach) - 1)  # above the haze's reach
    near_d, far_d = [], []
    for haze in (0.0, 0.25, 0.5, 0.75, 1.0):
        out = effects.replace_sky(image, matte, SKY, replace_preset("plain", horizon_haze=haze))
        near_d.append(_band_distance(out, image, near, sky))
        far_d.append(_band_distance(out, image, far, sky))
    # near the horizon the result comes closer to the photo's own sky with each step
    assert all(a > b for a, b in zip(near_d, near_d[1:], strict=False)), near_d
    assert near_d[-1] < 0.5 * near_d[0], near_d
    # high in the sky nothing changes
    assert far_d == [far_d[0]] * 5, far_d


def test_bad_opacity_and_haze_are_refused():
    from skyseg_core.errors import InputError

    image, matte = _inputs()
    for bad in ({"sky_opacity": 1.5}, {"sky_opacity": -0.1}, {"horizon_haze": 2.0}):
        with pytest.raises(InputError, match=next(iter(bad))):
            effects.replace_sky(image, matte, SKY, **bad)


# ------------------------------------------------------------------------- the editor's panel


def test_the_sky_panel_sliders_drive_opacity_and_haze(qtbot, editor, tmp_path):
    """Home on Sky opacity shows the photo's own sky in the preview; End on Horizon haze brings
    it back near the horizon only (the declared controls, generated into the Sky panel)."""
    from PyQt6.QtCore import Qt
    from test_editor import WAIT_MS, open_synthetic, put_sky

    from skyseg_core.effects._geometry import sky_border as border_of

    m, _ = open_synthetic(qtbot, editor, tmp_path)
    put_sky(qtbot, editor)
    panel = editor.sky_panel
    qtbot.mouseClick(panel.looks["plain"], Qt.MouseButton.LeftButton)
    controller = editor.controller

    def render_after(key, name):
        renders = controller.renders_done
        qtbot.keyClick(panel.controls[name].sliders[0].slider, key)
        qtbot.waitUntil(
            lambda: controller.renders_done > renders and controller.render_job is None,
            timeout=WAIT_MS,
        )
        return m.result.astype(float)

    sky = m.matte >= 1.0
    border = border_of(m.matte, m.matte.shape[0])
    rows = np.arange(sky.shape[0])[:, None]
    reach = HAZE_REACH * (border.horizon - border.top)
    near = sky & (rows >= border.horizon - 0.5 * reach)
    far = sky & (rows < border.horizon - reach - 1)
    photo = m.proxy.astype(float)
    qtbot.waitUntil(lambda: controller.render_job is None, timeout=WAIT_MS)
    plain = m.result.astype(float)
    hazy = render_after(Qt.Key.Key_End, "horizon_haze")
    assert m.edit.replace.horizon_haze == 1.0
    assert np.abs(hazy - photo)[near].mean() < 0.6 * np.abs(plain - photo)[near].mean()
    assert np.array_equal(hazy[far], plain[far])
    own = render_after(Qt.Key.Key_Home, "sky_opacity")
    assert m.edit.replace.sky_opacity == 0.0
    assert np.abs(own - photo)[sky].max() <= 1.0  # the photo's own sky
    assert np.abs(plain - photo)[sky].mean() > 20.0
