"""The ``ade20k`` method: CSAIL ADE20K checkpoints (built with random weights) -> sky probability.

The checkpoints are written as upstream's ``train.py`` writes them (see tests/ade20k_weights.py).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from skyseg_core.errors import ModelFileError
from skyseg_core.methods import get_method, method_names

torch = pytest.importorskip("torch")  # the train extra; `make test` installs it
F = torch.nn.functional

from skyseg_core import _ade20k_arch as arch  # noqa: E402
from skyseg_core.methods import ade20k  # noqa: E402
from skyseg_core.methods.ade20k_export import export_ade20k_onnx  # noqa: E402
from tests.ade20k_weights import write_checkpoints  # noqa: E402

# Parameter names and shapes of the upstream modules (mit_semseg/models/{models,mobilenet,resnet}.py,
# CSAILVision/semantic-segmentation-pytorch), read off the upstream definitions. The entry counts
# were obtained by building the upstream classes of the PyPI package mit-semseg 1.0.0 under
# torch 2.14 and counting ``len(module.state_dict())`` without the SynchronizedBatchNorm2d
# bookkeeping buffers (``_tmp_running_mean``, ``_tmp_running_var``, ``_running_iter``); checkpoints
# saved from those classes loaded into these modules and gave the same sky probability as
# upstream's own ``segSize``/``use_softmax`` inference path (max |diff| 6.5e-9).
UPSTREAM_KEYS = {
    "mobilenetv2dilated": {
        "features.0.0.weight": (32, 3, 3, 3),
        "features.0.1.running_var": (32,),
        "features.1.conv.0.weight": (32, 1, 3, 3),  # expand ratio 1: depthwise first
        "features.1.conv.3.weight": (16, 32, 1, 1),
        "features.2.conv.0.weight": (96, 16, 1, 1),  # expand ratio 6: pointwise first
        "features.14.conv.3.weight": (576, 1, 3, 3),
        "features.17.conv.6.weight": (320, 960, 1, 1),
        "features.17.conv.7.running_mean": (320,),
    },
    "resnet18dilated": {
        "conv1.weight": (64, 3, 3, 3),
        "conv3.weight": (128, 64, 3, 3),
        "bn3.num_batches_tracked": (),
        "layer1.0.conv1.weight": (64, 128, 3, 3),
        "layer1.0.downsample.0.weight": (64, 128, 1, 1),
        "layer4.1.conv2.weight": (512, 512, 3, 3),
    },
    "resnet50dilated": {
        "layer1.0.conv3.weight": (256, 64, 1, 1),
        "layer3.5.bn3.running_mean": (1024,),
        "layer4.0.downsample.1.weight": (2048,),
        "layer4.2.conv3.weight": (2048, 512, 1, 1),
    },
    "c1_deepsup": {  # fc_dim 320 (mobilenetv2dilated)
        "cbr.0.weight": (80, 320, 3, 3),
        "cbr.1.running_var": (80,),
        "cbr_deepsup.0.weight": (80, 160, 3, 3),
        "conv_last.weight": (150, 80, 1, 1),
        "conv_last.bias": (150,),
        "conv_last_deepsup.weight": (150, 80, 1, 1),
    },
    "ppm_deepsup": {  # fc_dim 512 (resnet18dilated)
        "ppm.0.1.weight": (512, 512, 1, 1),
        "ppm.3.2.running_mean": (512,),
        "cbr_deepsup.0.weight": (128, 256, 3, 3),
        "conv_last.0.weight": (512, 512 + 4 * 512, 3, 3),
        "conv_last.1.weight": (512,),
        "conv_last.4.weight": (150, 512, 1, 1),
        "conv_last.4.bias": (150,),
        "conv_last_deepsup.bias": (150,),
    },
}
UPSTREAM_COUNTS = {
    "mobilenetv2dilated": 306,
    "resnet18dilated": 138,
    "resnet50dilated": 330,
    "c1_deepsup": 16,
    "ppm_deepsup": 40,
}


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("ade20k")
    return {
        "mobilenet": write_checkpoints(
            root / "ade20k-mobilenetv2dilated-c1_deepsup",
            "mobilenetv2dilated",
            "c1_deepsup",
            seed=1,
            sync_bn=True,
        ),
        "resnet18": write_checkpoints(
            root / "ade20k-resnet18dilated-ppm_deepsup",
            "resnet18dilated",
            "ppm_deepsup",
            seed=2,
            drop_counters=True,
        ),
        "root": root,
    }


@pytest.fixture(autouse=True)
def _no_user_weights(monkeypatch, tmp_path):
    """Keep a real $SKYSEG_ADE20K_DIR or assets folder from leaking into the tests."""
    monkeypatch.delenv(ade20k.ENV_VAR, raising=False)
    monkeypatch.setenv("SKYSEG_MODELS_DIR", str(tmp_path / "no-models"))


def _photo(h=45, w=70, seed=0):
    rng = np.random.default_rng(seed)
    image = np.zeros((h, w, 3), np.uint8)
    image[: h // 2] = (90, 150, 230)
    image[h // 2 :] = (40, 90, 30)
    return np.clip(image + rng.integers(-20, 20, image.shape), 0, 255).astype(np.uint8)


def _independent_sky_probability(folder, image_float):
    """Softmax channel 2 computed without the method: own padding, normalisation and softmax."""
    enc_state = torch.load(folder / "encoder_epoch_20.pth", weights_only=True)
    dec_state = torch.load(folder / "decoder_epoch_20.pth", weights_only=True)
    enc_name, dec_name = arch.infer_arch(enc_state, dec_state)
    encoder, decoder = (
        arch.build_encoder(enc_name),
        arch.build_decoder(dec_name, arch.ENCODER_CHANNELS[enc_name]),
    )
    encoder.load_state_dict(enc_state, strict=False)
    decoder.load_state_dict(dec_state, strict=False)
    h, w = image_float.shape[:2]
    ph, pw = (h + 7) // 8 * 8, (w + 7) // 8 * 8
    padded = np.pad(image_float, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    normalised = (padded - np.array([0.485, 0.456, 0.406], np.float32)) / np.array(
        [0.229, 0.224, 0.225], np.float32
    )
    x = torch.from_numpy(np.ascontiguousarray(normalised.transpose(2, 0, 1)[None], np.float32))
    with torch.no_grad():
        logits = decoder.eval()(encoder.eval()(x))
        logits = (
            F.interpolate(logits, (ph, pw), mode="bilinear", align_corners=False)[0]
            .double()
            .numpy()
        )
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    return (e[2] / e.sum(axis=0))[:h, :w]


# --------------------------------------------------------------------------- architecture


@pytest.mark.parametrize("name", ["mobilenetv2dilated", "resnet18dilated", "resnet50dilated"])
def test_encoder_keys_match_upstream(name):
    state = arch.build_encoder(name).state_dict()
    assert len(state) == UPSTREAM_COUNTS[name]
    for key, shape in UPSTREAM_KEYS[name].items():
        assert tuple(state[key].shape) == shape, key
    assert not any(k.startswith(("fc.", "avgpool", "features.18", "classifier")) for k in state)


@pytest.mark.parametrize(("name", "fc_dim"), [("c1_deepsup", 320), ("ppm_deepsup", 512)])
def test_decoder_keys_match_upstream(name, fc_dim):
    state = arch.build_decoder(name, fc_dim).state_dict()
    assert len(state) == UPSTREAM_COUNTS[name]
    for key, shape in UPSTREAM_KEYS[name].items():
        assert tuple(state[key].shape) == shape, key


def test_dilation_gives_output_stride_8():
    mobilenet = arch.build_encoder("mobilenetv2dilated")
    dw14, dw15 = mobilenet.features[14].conv[3], mobilenet.features[15].conv[3]
    assert (dw14.stride, dw14.dilation, dw15.dilation) == ((1, 1), (2, 2), (4, 4))
    resnet = arch.build_encoder("resnet18dilated")
    assert resnet.layer4[0].conv1.dilation == (2, 2) and resnet.layer4[1].conv2.dilation == (4, 4)
    assert resnet.layer3[0].downsample[0].stride == (1, 1)
    with torch.no_grad():
        for encoder, channels in ((mobilenet, 320), (resnet, 512)):
            maps = encoder.eval()(torch.zeros(1, 3, 64, 40))
            assert tuple(maps[-1].shape) == (1, channels, 8, 5)
            assert maps[-2].shape[1] == channels // 2


@pytest.mark.parametrize("size", [1, 2, 3, 6])
def test_adaptive_pool_equals_torch(size):
    x = torch.randn(2, 4, 13, 9, generator=torch.Generator().manual_seed(size))
    expected = torch.nn.AdaptiveAvgPool2d(size)(x)
    torch.testing.assert_close(arch.AdaptiveAvgPool(size)(x), expected, rtol=1e-5, atol=1e-6)


def test_infer_arch_from_key_names():
    r101 = {f"layer3.{i}.conv1.weight": None for i in range(23)} | {"layer1.0.conv3.weight": None}
    r50 = {f"layer3.{i}.conv1.weight": None for i in range(6)} | {"layer1.0.conv3.weight": None}
    dec = {"ppm.0.1.weight": None, "conv_last_deepsup.weight": None}
    assert arch.infer_arch(r101, dec) == ("resnet101dilated", "ppm_deepsup")
    assert arch.infer_arch(r50, {"cbr.0.weight": None}) == ("resnet50dilated", "c1")
    with pytest.raises(ValueError, match="encoder"):
        arch.infer_arch({"backbone.weight": None}, dec)


# --------------------------------------------------------------------------- the method


@pytest.mark.parametrize("model", ["mobilenet", "resnet18"])
def test_matte_is_sky_softmax_channel(weights, model):
    method = ade20k.Ade20kMethod(weights_dir=weights[model], short_side=40)
    image = _photo()
    coarse = method.coarse(image)
    assert (
        method.backend.arch
        == {
            "mobilenet": "mobilenetv2dilated-c1_deepsup",
            "resnet18": "resnet18dilated-ppm_deepsup",
        }[model]
    )
    # working size: shorter side 40 -> 40 x 62, not a multiple of 8, so padding is cropped off
    assert coarse.shape == (40, 62) and coarse.dtype == np.float32
    work = ade20k.resize_short_side(image.astype(np.float32) / 255, 40, 1000)
    expected = _independent_sky_probability(weights[model], work)
    np.testing.assert_allclose(coarse, expected, atol=2e-5)
    assert 0.05 < coarse.min() and coarse.max() < 0.95  # a probability, not an argmax mask
    assert len(np.unique(coarse)) > 100
    full = method(image)
    assert full.shape == image.shape[:2] and full.dtype == np.float32
    assert 0.0 <= full.min() and full.max() <= 1.0


def test_multi_scale_is_mean_of_scales(weights):
    from skyseg_core.matte import resize_matte

    image = _photo(60, 90, seed=4)
    folder = weights["mobilenet"]
    single = [ade20k.Ade20kMethod(weights_dir=folder, short_side=s).coarse(image) for s in (32, 48)]
    multi = ade20k.Ade20kMethod(weights_dir=folder, short_side=(32, 48)).coarse(image)
    assert multi.shape == single[0].shape == (32, 48)
    expected = (single[0] + resize_matte(single[1], single[0].shape)) / 2
    np.testing.assert_allclose(multi, expected, atol=1e-6)
    assert np.abs(multi - single[0]).max() > 1e-3  # the second scale did contribute
    with pytest.raises(ValueError, match="short_side"):
        ade20k.Ade20kMethod(weights_dir=folder, short_side=()).coarse(image)


def test_odd_sizes_and_16_bit(weights):
    method = ade20k.Ade20kMethod(weights_dir=weights["mobilenet"], short_side=24, max_long_side=64)
    for shape in [(1, 9), (7, 3), (200, 5)]:
        image = np.full((*shape, 3), 128, np.uint8)
        matte = method(image)
        assert matte.shape == shape and matte.dtype == np.float32
        assert np.isfinite(matte).all() and 0 <= matte.min() and matte.max() <= 1
    image8 = _photo(30, 20)
    image16 = image8.astype(np.uint16) * 257
    np.testing.assert_allclose(method(image16), method(image8), atol=1e-5)


def test_registered_and_found_through_env(weights, monkeypatch):
    assert "ade20k" in method_names()
    assert not ade20k.Ade20kMethod.available()
    monkeypatch.setenv(ade20k.ENV_VAR, str(weights["root"]))
    assert ade20k.Ade20kMethod.available()
    method = get_method("ade20k", short_side=32)
    found = ade20k.find_ade20k_weights()
    # a folder of model folders: the preference order picks resnet18-ppm over mobilenet-c1
    assert found.kind == "torch" and found.folder.name == "ade20k-resnet18dilated-ppm_deepsup"
    assert method(_photo(20, 30)).shape == (20, 30)


def test_default_folder_is_assets_models_ade20k(weights, monkeypatch, tmp_path):
    models = tmp_path / "models"
    write_checkpoints(models / "ade20k", "mobilenetv2dilated", "c1_deepsup", epoch=5)
    monkeypatch.setenv("SKYSEG_MODELS_DIR", str(models))
    found = ade20k.find_ade20k_weights()
    assert [p.name for p in found.paths] == ["encoder_epoch_5.pth", "decoder_epoch_5.pth"]


def test_missing_weights_error_names_folder_and_files(tmp_path, monkeypatch):
    empty = tmp_path / "my-weights"
    empty.mkdir()
    with pytest.raises(ModelFileError) as info:
        ade20k.Ade20kMethod(weights_dir=empty)(_photo())
    message = str(info.value)
    assert str(empty) in message and "holds no ADE20K weights" in message
    assert "encoder_epoch_" in message and "decoder_epoch_" in message and ".onnx" in message
    assert "sceneparsing.csail.mit.edu/model/pytorch" in message
    assert info.value.tried == [str(empty)]
    # nothing given: the environment variable and the default folder are both listed
    with pytest.raises(ModelFileError) as info:
        ade20k.find_ade20k_weights()
    assert info.value.tried == [
        f"${ade20k.ENV_VAR} (not set)",
        str(tmp_path / "no-models" / "ade20k"),
    ]
    assert "does not exist" in str(info.value)
    # an environment variable pointing nowhere fails without falling back
    monkeypatch.setenv(ade20k.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(ModelFileError, match="from \\$SKYSEG_ADE20K_DIR"):
        ade20k.find_ade20k_weights()


def test_only_one_half_of_the_pair_is_missing_weights(tmp_path):
    folder = write_checkpoints(tmp_path / "m", "mobilenetv2dilated", "c1_deepsup")
    (folder / "decoder_epoch_20.pth").rename(folder / "decoder_epoch_19.pth")
    with pytest.raises(ModelFileError, match="encoder_epoch_<N>.pth and decoder_epoch_<N>.pth"):
        ade20k.find_ade20k_weights(folder)


def test_corrupt_checkpoint_is_model_file_error(tmp_path):
    folder = write_checkpoints(tmp_path / "m", "mobilenetv2dilated", "c1_deepsup")
    (folder / "encoder_epoch_20.pth").write_bytes(b"not a checkpoint" * 100)
    with pytest.raises(ModelFileError, match="encoder_epoch_20.pth") as info:
        ade20k.Ade20kMethod(weights_dir=folder)(_photo())
    assert str(folder) in str(info.value)
    # truncated file
    data = (tmp_path / "m" / "decoder_epoch_20.pth").read_bytes()
    folder2 = write_checkpoints(tmp_path / "m2", "mobilenetv2dilated", "c1_deepsup")
    (folder2 / "decoder_epoch_20.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="cannot load"):
        ade20k.Ade20kMethod(weights_dir=folder2).coarse(_photo())


def test_mismatched_checkpoint_is_model_file_error(tmp_path):
    folder = write_checkpoints(tmp_path / "m", "mobilenetv2dilated", "c1_deepsup")
    state = torch.load(folder / "decoder_epoch_20.pth", weights_only=True)
    state["conv_last.weight"] = state["conv_last.weight"][:100]  # a 100-class model
    torch.save(state, folder / "decoder_epoch_20.pth")
    with pytest.raises(ModelFileError, match="decoder_epoch_20.pth"):
        ade20k.Ade20kMethod(weights_dir=folder).coarse(_photo())


def test_foreign_key_is_model_file_error(tmp_path):
    folder = write_checkpoints(tmp_path / "m", "resnet18dilated", "c1_deepsup")
    state = torch.load(folder / "encoder_epoch_20.pth", weights_only=True)
    state["fc.weight"] = torch.zeros(1000, 512)  # a classifier head the encoder does not have
    torch.save(state, folder / "encoder_epoch_20.pth")
    with pytest.raises(ModelFileError, match="unexpected 1 keys .*fc.weight"):
        ade20k.Ade20kMethod(weights_dir=folder).coarse(_photo())


class _Payload:
    """Unpickling this runs code: weights_only=True must refuse it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loads_with_weights_only(tmp_path):
    folder = write_checkpoints(tmp_path / "m", "mobilenetv2dilated", "c1_deepsup")
    marker = tmp_path / "code-ran"
    state = torch.load(folder / "encoder_epoch_20.pth", weights_only=True)
    state["features.0.0.weight"] = _Payload(marker)
    torch.save(state, folder / "encoder_epoch_20.pth")
    with pytest.raises(ModelFileError, match="encoder_epoch_20.pth"):
        ade20k.Ade20kMethod(weights_dir=folder).coarse(_photo())
    assert not marker.exists()


def test_import_stays_torch_free():
    code = (
        "import sys; import skyseg_core.methods.ade20k as m; m.Ade20kMethod.available(); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- ONNX


@pytest.fixture(scope="module")
def exported(weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "ade20k-mobilenet.onnx"
    info = export_ade20k_onnx(weights["mobilenet"], out, short_side=40)
    return out, info


def test_onnx_matches_torch(weights, exported):
    out, info = exported
    assert info["max_abs_diff"] < 1e-4 and info["arch"] == "mobilenetv2dilated-c1_deepsup"
    image = _photo(80, 60, seed=3)
    via_torch = ade20k.Ade20kMethod(weights_dir=weights["mobilenet"], short_side=40)
    via_onnx = ade20k.Ade20kMethod(weights_dir=out)  # short side read from the metadata
    assert via_onnx.backend.arch == "mobilenetv2dilated-c1_deepsup"
    a, b = via_torch.coarse(image), via_onnx.coarse(image)
    assert a.shape == b.shape == (53, 40)
    np.testing.assert_allclose(b, a, atol=1e-4)
    np.testing.assert_allclose(via_onnx(image), via_torch(image), atol=1e-4)


def test_onnx_metadata_describes_the_model(exported):
    import onnx

    out, _ = exported
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["kind"] == ade20k.ONNX_KIND and meta["arch"] == "mobilenetv2dilated-c1_deepsup"
    assert meta["short_side"] == "40" and meta["pad_multiple"] == "8" and meta["sky_channel"] == "2"
    assert meta["mean"] == "0.485,0.456,0.406" and meta["std"] == "0.229,0.224,0.225"
    assert "probability" in meta["output"] and "encoder_epoch_20.pth sha256=" in meta["checkpoints"]


def test_onnx_runs_without_torch(exported):
    out, _ = exported
    code = (
        "import sys, numpy as np; from skyseg_core.methods.ade20k import Ade20kMethod; "
        f"m = Ade20kMethod(weights_dir={str(out)!r}); r = m(np.full((30, 50, 3), 120, np.uint8)); "
        "assert r.shape == (30, 50) and r.dtype == np.float32; assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_foreign_onnx_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["sky"])],
        "g",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("sky", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ModelFileError, match="not an ADE20K sky model"):
        ade20k.Ade20kMethod(weights_dir=path).coarse(_photo())
    (tmp_path / "broken.onnx").write_bytes(b"\x00garbage")
    with pytest.raises(ModelFileError, match="cannot load the ADE20K ONNX model"):
        ade20k.Ade20kMethod(weights_dir=tmp_path / "broken.onnx").coarse(_photo())


@pytest.mark.slow
def test_cli_export_resnet_ppm(weights, tmp_path, capsys):
    """The PPM decoder (adaptive pooling) exports with dynamic sizes and matches PyTorch."""
    from skyseg_core.cli import main

    out = tmp_path / "r18.onnx"
    assert (
        main(["export-ade20k", str(weights["resnet18"]), "-o", str(out), "--short-side", "48"]) == 0
    )
    assert "wrote" in capsys.readouterr().out
    assert main(["export-ade20k", str(weights["resnet18"]), "-o", str(out)]) == 2  # exists
    assert "already exists" in capsys.readouterr().err
    image = _photo(41, 66, seed=5)
    via_torch = ade20k.Ade20kMethod(weights_dir=weights["resnet18"], short_side=48)
    via_onnx = ade20k.Ade20kMethod(weights_dir=out)
    np.testing.assert_allclose(via_onnx.coarse(image), via_torch.coarse(image), atol=1e-4)


def test_cli_export_missing_weights(tmp_path, capsys):
    from skyseg_core.cli import main

    assert main(["export-ade20k", str(tmp_path), "-o", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert "encoder_epoch_<N>.pth" in err and str(tmp_path) in err
    assert not (tmp_path / "x.onnx").exists()


def test_cli_mask_with_onnx_from_env(exported, tmp_path, monkeypatch, capsys):
    from skyseg_core.cli import main
    from skyseg_core.io import load_matte, save_image

    monkeypatch.setenv(ade20k.ENV_VAR, str(exported[0]))
    photo = tmp_path / "p.png"
    save_image(photo, _photo(36, 48))
    out = tmp_path / "m.png"
    assert main(["mask", str(photo), "-o", str(out), "--method", "ade20k", "--no-refine"]) == 0
    matte = load_matte(out)
    expected = ade20k.Ade20kMethod(weights_dir=exported[0])(_photo(36, 48))
    assert matte.shape == (36, 48)
    np.testing.assert_allclose(matte, expected, atol=1 / 255 + 1e-6)
