"""The published TFLite networks read without TensorFlow, checked against the TFLite runtime.

Runs where ``../shared/pretrained`` exists (CI has it): the PyTorch rebuilds of TF DeepLab's
ADE20K DeepLabV3+ and of the ImageNet MobileNetV2 must compute what ``ai-edge-litert`` computes
from the same files on real photos, and the ``ade20k`` method must run the TF file directly and
as the ONNX file ``skyseg export-ade20k`` writes.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA, SKYSEG_DATA
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("tflite")

PRETRAINED = SHARED_DATA.parent / "pretrained"
DEEPLAB_FILE = PRETRAINED / "deeplabv3plus_mnv2_ade20k" / "deeplabv3plus_mnv2_ade20k.tflite"
IMAGENET_FILE = PRETRAINED / "mobilenet_v2_imagenet_quant" / "mobilenet_v2_1.0_224_quant.tflite"
PHOTOS = (
    "stanford_background_iccv09",
    "ade20k_skyopt_cvprw2020",
    "camvid_segnet",
    "fisheye_gnss_sky",
)

pytestmark = pytest.mark.skipif(
    not DEEPLAB_FILE.is_file(), reason="../shared/pretrained is not here"
)


def real_photos(count_per_dataset: int = 1) -> list[np.ndarray]:
    """The first photo(s) with sky of a few shared datasets, as uint8 RGB."""
    photos = []
    for name in PHOTOS:
        folder = SKYSEG_DATA / name
        for image_path in sorted((folder / "images").glob("*.jpg")):
            mask = np.asarray(Image.open(folder / "masks" / f"{image_path.stem}.png"))
            if (mask == 255).mean() > 0.1:
                photos.append(np.asarray(Image.open(image_path).convert("RGB")))
                if len(photos) % count_per_dataset == 0:
                    break
    return photos


def litert(path, batch: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(str(path), num_threads=2)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    z = np.exp(logits - logits.max(axis, keepdims=True))
    return z / z.sum(axis, keepdims=True)


@pytest.fixture(scope="module")
def deeplab():
    from skyseg_core.train.deeplab import load_ade20k_deeplab

    return load_ade20k_deeplab(DEEPLAB_FILE)


def test_deeplab_matches_tflite_on_real_photos(deeplab):
    import torch

    pytest.importorskip("ai_edge_litert")
    for photo in real_photos():
        x = (
            np.asarray(Image.fromarray(photo).resize((513, 513), Image.BILINEAR), np.float32)
            / 127.5
            - 1
        )
        want = softmax(litert(DEEPLAB_FILE, x[None])[0], -1)[..., 3]
        with torch.inference_mode():
            logits = deeplab(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))[None]))[
                0
            ].numpy()
        got = softmax(logits, 0)[3]
        assert np.abs(got - want).mean() < 0.02
        a, b = got > 0.5, want > 0.5
        assert b.mean() > 0.05  # the check is about sky, so some must be found
        assert (a & b).sum() / (a | b).sum() > 0.99


def test_imagenet_top5_matches_tflite():
    import torch

    from skyseg_core.train.deeplab import load_imagenet_mobilenet_v2, tf_same_padding

    pytest.importorskip("ai_edge_litert")
    model = tf_same_padding(load_imagenet_mobilenet_v2(IMAGENET_FILE))  # 224 is even: TF's SAME
    for photo in real_photos():
        q = np.asarray(Image.fromarray(photo).resize((224, 224), Image.BILINEAR), np.uint8)
        want = litert(IMAGENET_FILE, q[None])[0].astype(np.int64)  # uint8 softmax
        x = (q.astype(np.float32) - 128) / 128
        with torch.inference_mode():
            got = model(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))[None]))[
                0
            ].numpy()
        top_want, top_got = np.argsort(-want, kind="stable")[:5], np.argsort(-got)[:5]
        assert top_got[0] in top_want  # quantised activations may swap near-ties, nothing more
        assert len(set(top_want) & set(top_got)) >= 4


def test_loading_refuses_another_topology():
    from skyseg_core.train.deeplab import DeepLabV3Plus
    from skyseg_core.train.tflite_reader import load_convolutions, read_convolutions

    with pytest.raises(ValueError, match="convolutions"):
        load_convolutions(DeepLabV3Plus(151), read_convolutions(IMAGENET_FILE))
    with pytest.raises(ValueError, match="stride/dilation"):  # output stride 16 moves the strides
        load_convolutions(DeepLabV3Plus(151, output_stride=16), read_convolutions(DEEPLAB_FILE))


def test_sky_head_starts_at_the_zero_shot_answer(deeplab):
    import torch

    from skyseg_core.train.model import build_model

    sky = build_model(arch="SkyDeepLab", init=str(DEEPLAB_FILE), output_stride=8).eval()
    x = torch.from_numpy(
        np.ascontiguousarray(
            np.asarray(Image.fromarray(real_photos()[0]).resize((257, 193)), np.float32).transpose(
                2, 0, 1
            )
            / 127.5
            - 1
        )
    )[None]
    with torch.inference_mode():
        probability = torch.sigmoid(sky(x))[0, 0].numpy()
        zero_shot = torch.softmax(deeplab.logits(deeplab.features(x)), 1)[:, 3:4]
        zero_shot = torch.nn.functional.interpolate(
            zero_shot, size=x.shape[-2:], mode="bilinear", align_corners=True
        )
    # the head upsamples the log-odds rather than the probability: equal up to the edges' blur
    assert np.abs(probability - zero_shot[0, 0].numpy()).mean() < 0.01


def test_imagenet_encoder_init_computes_the_file(tmp_path):
    """smp's mobilenet_v2 encoder (torchvision layout, batch norm) takes the folded weights."""
    import torch

    from skyseg_core.train.deeplab import load_imagenet_mobilenet_v2
    from skyseg_core.train.model import build_model, preprocessing

    config = {
        "arch": "Unet",
        "encoder": "mobilenet_v2",
        "init": str(IMAGENET_FILE),
        "decoder_channels": [32, 16, 16, 8, 8],
    }
    unet = build_model(**config).eval()
    assert preprocessing(config)["mean"] == (0.5, 0.5, 0.5)
    reference = load_imagenet_mobilenet_v2(IMAGENET_FILE)
    x = torch.rand(1, 3, 96, 128) * 2 - 1
    with torch.inference_mode():
        got = unet.encoder(x)[-1]
        want = reference.head(reference.features(x)[0])
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-3, rtol=1e-3)


def test_ade20k_method_runs_the_tflite_file_and_its_onnx_export(tmp_path, monkeypatch):
    from skyseg_core.methods.ade20k import Ade20kMethod
    from skyseg_core.methods.ade20k_export import export_ade20k_onnx

    photo = real_photos()[0]
    direct = Ade20kMethod(weights_dir=DEEPLAB_FILE)
    matte = direct(photo)
    assert matte.shape == photo.shape[:2] and matte.dtype == np.float32
    assert 0.05 < (matte > 0.5).mean() < 0.95
    info = export_ade20k_onnx(DEEPLAB_FILE, tmp_path / "ade20k_tf.onnx")
    assert info["max_abs_diff"] < 1e-4
    monkeypatch.setenv("SKYSEG_ADE20K_DIR", str(tmp_path / "ade20k_tf.onnx"))
    exported = Ade20kMethod()(photo)
    assert np.abs(exported - matte).max() < 1e-3
