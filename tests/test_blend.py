"""`blend` is the mean of its members, and is what `auto` runs while it scores best."""

from __future__ import annotations

import numpy as np

from skyseg_core.matte import resize_matte, to_float_rgb
from skyseg_core.methods import get_method, resolve_name
from skyseg_core.methods.blend import MEMBERS
from tests.conftest import synthetic_landscape


def test_blend_is_the_mean_of_its_members():
    image, _ = synthetic_landscape(90, 150)
    blend = get_method("blend").predict(to_float_rgb(image))
    members = [resize_matte(get_method(name).coarse(image), image.shape[:2]) for name in MEMBERS]
    np.testing.assert_allclose(blend, np.mean(members, axis=0), atol=1e-6)


def test_auto_is_blend_when_both_models_ship():
    assert resolve_name("auto") == "blend"
