"""`blend` is the mean of its members; `auto` runs `deeplab`, and `blend` where that model is absent."""

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


def test_blend_of_given_members_is_their_mean():
    from skyseg_core.methods.blend import BlendMethod

    image, _ = synthetic_landscape(90, 150)
    members = [get_method("color"), get_method("gradient"), get_method("classifier")]
    blend = BlendMethod(members=members).predict(to_float_rgb(image))
    expected = np.mean([resize_matte(m.coarse(image), image.shape[:2]) for m in members], axis=0)
    np.testing.assert_allclose(blend, expected, atol=1e-6)
    assert not np.allclose(blend, get_method("blend").predict(to_float_rgb(image)), atol=1e-3)


def test_auto_is_deeplab_then_blend_then_classifier(tmp_path, monkeypatch):
    import shutil

    from skyseg_core.models import MODELS_DIR_ENV, models_dir

    assert resolve_name("auto") == "deeplab"
    for name in ("classifier.onnx", "sky_unet.onnx"):  # a models folder without the DeepLab
        for suffix in ("", ".sha256"):
            shutil.copy(models_dir() / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))
    assert resolve_name("auto") == "blend"  # 0.896 on the validation split, classifier 0.886
    (tmp_path / "sky_unet.onnx").unlink()
    assert resolve_name("auto") == "classifier"  # blend needs the U-Net too
