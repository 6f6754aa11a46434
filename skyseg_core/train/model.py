"""The networks ``skyseg train`` trains, each with one sky logit out.

- any segmentation-models-pytorch architecture (``arch = "Unet"``, ``encoder = ...``), from
  scratch or with its encoder initialised from a published file (``init``: the TFLite
  MobileNetV2 ImageNet classifier, read by :mod:`skyseg_core.train.tflite_reader`);
- ``arch = "SkyDeepLab"``: TF DeepLab's DeepLabV3+ MobileNetV2 with a sky head, initialised
  from the ADE20K TFLite file (``init``) so training starts at its zero-shot answer.

:func:`preprocessing` says how each expects its input; training, export and run time read it
from there (and the exported file's metadata), never from a copy.
"""

from __future__ import annotations

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TF_MEAN = (0.5, 0.5, 0.5)
TF_STD = (0.5, 0.5, 0.5)
"""TF's MobileNet preprocessing, x / 127.5 - 1, as (x / 255 - mean) / std."""
DIVISOR = 32
"""Input height and width of the smp networks must be multiples of this (five stride-2 stages)."""

SKY_DEEPLAB = "SkyDeepLab"

DEFAULT_MODEL = {
    "arch": "Unet",
    "encoder": "tu-mobilenetv3_small_100",
    "decoder_channels": [128, 64, 32, 16, 8],
    "encoder_weights": None,
    "prior": "",
    "init": "",
    "output_stride": 16,
}


def preprocessing(model_config: dict) -> dict:
    """``mean``, ``std`` (on RGB in [0, 1]) and ``divisor`` the configured network expects."""
    if model_config.get("arch") == SKY_DEEPLAB:
        return {
            "mean": TF_MEAN,
            "std": TF_STD,
            "divisor": int(model_config.get("output_stride") or 16),
        }
    if model_config.get("init"):  # a TF-trained encoder keeps TF's input scaling
        return {"mean": TF_MEAN, "std": TF_STD, "divisor": DIVISOR}
    return {"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "divisor": DIVISOR}


def parameter_groups(model, lr_scales: dict | None = None) -> list[dict]:
    """AdamW parameter groups: ``lr_scales`` maps a part (``encoder``/``backbone``, the rest is
    ``head``) to a factor on the learning rate; weights already trained learn slower."""
    lr_scales = lr_scales or {}
    groups: dict[str, list] = {}
    for name, param in model.named_parameters():
        part = (
            "backbone"
            if (".backbone." in f".{name}" or name.startswith(("encoder.", "net.encoder.")))
            else "head"
        )
        groups.setdefault(part, []).append(param)
    return [
        {"params": params, "lr_scale": float(lr_scales.get(part, 1.0)), "name": part}
        for part, params in groups.items()
    ]


PRIOR_CLAMP = 0.01
"""The prior's logit is taken of the probability clamped to [0.01, 0.99] (at most +-4.6), so
the network can overrule a confidently wrong classifier without fighting an infinite logit."""


def build_model(
    arch: str = "Unet",
    encoder: str = "tu-mobilenetv3_small_100",
    decoder_channels: list[int] | tuple[int, ...] = (128, 64, 32, 16, 8),
    encoder_weights: str | None = None,
    prior: str = "",
    init: str = "",
    output_stride: int = 16,
    **kwargs,
):
    """A model with one output channel (sky logit).

    ``init`` names a published TFLite file to start from: the ADE20K DeepLab for
    ``arch="SkyDeepLab"``, the ImageNet MobileNetV2 for an smp ``encoder="mobilenet_v2"``; for
    ``SkyDeepLab`` it may also be an ONNX file that ``skyseg export`` wrote from that
    architecture (a shipped model, fine-tuned further). An empty ``init`` leaves the network
    random (as when a checkpoint is loaded next).

    With ``prior="classifier"`` the network takes a fourth input channel, the classifier's
    sky probability (see :mod:`skyseg_core.train.prior`), and returns that probability's logit
    plus its own correction; the correction starts at zero, so training starts from the
    classifier's answer instead of from noise.

    ``encoder_weights=None`` trains from scratch (no hub needed); ``"imagenet"`` downloads the
    encoder's pretrained weights (needs internet). Unknown names raise smp's error listing the
    valid ones.
    """
    if arch == SKY_DEEPLAB:
        from .deeplab import SkyDeepLab
        from .tflite_reader import load_convolutions, read_convolutions

        model = SkyDeepLab(int(output_stride))
        if str(init).endswith(".onnx"):
            from .export import load_exported_weights

            load_exported_weights(model, init)
        elif init:
            load_convolutions(model, read_convolutions(init), check_strides=int(output_stride) == 8)
        return model
    import segmentation_models_pytorch as smp

    if encoder_weights in ("none", "None", ""):
        encoder_weights = None
    factory = getattr(smp, arch, None)
    if factory is None:
        raise ValueError(
            f"unknown architecture {arch!r}; smp offers: Unet, UnetPlusPlus, FPN, DeepLabV3Plus, ..."
        )
    extra = {"decoder_channels": list(decoder_channels)} if arch in ("Unet", "UnetPlusPlus") else {}
    if not prior:
        model = factory(
            encoder_name=encoder, encoder_weights=encoder_weights, classes=1, **extra, **kwargs
        )
        if init:
            load_imagenet_encoder(model.encoder, init)
        return model
    from .prior import PRIORS

    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; known: {', '.join(PRIORS)}")
    net = factory(
        encoder_name=encoder,
        encoder_weights=encoder_weights,
        classes=1,
        in_channels=4,
        **extra,
        **kwargs,
    )
    return _prior_residual(net)


def _prior_residual(net):
    import torch

    class PriorResidual(torch.nn.Module):
        """logit = logit(clamped prior) + net(RGB, prior); input channel 3 is the prior scaled to [-1, 1]."""

        def __init__(self, net):
            super().__init__()
            self.net = net
            head = net.segmentation_head[0]
            torch.nn.init.zeros_(head.weight)
            torch.nn.init.zeros_(head.bias)

        def forward(self, x):
            prior = (x[:, 3:4] * 0.5 + 0.5).clamp(
                PRIOR_CLAMP, 1 - PRIOR_CLAMP
            )  # inverse of methods.unet.prior_channel
            return torch.log(prior / (1 - prior)) + self.net(x)

    return PriorResidual(net)


def load_imagenet_encoder(encoder, path) -> None:
    """Copy the TFLite MobileNetV2 ImageNet weights into smp's ``mobilenet_v2`` encoder.

    smp's ``mobilenet_v2`` is torchvision's layout: each convolution is followed by a batch
    norm, while the file has batch norm folded into the convolution's bias. The norm is set to
    pass ``x + bias`` (weight 1, mean 0, variance 1 - eps), so the network computes what the
    file computes and fine-tuning can move every part.
    """
    import torch

    from .tflite_reader import read_convolutions

    convs = [c for c in read_convolutions(path) if c.weight.shape[0] != 1001]  # drop the classifier
    pairs, pending = [], None
    for module in encoder.modules():
        if isinstance(module, torch.nn.Conv2d):
            pending = module
        elif isinstance(module, torch.nn.BatchNorm2d) and pending is not None:
            pairs.append((pending, module))
            pending = None
    if len(pairs) != len(convs):
        raise ValueError(
            f"{path}: {len(convs)} convolutions in the file, {len(pairs)} in the encoder "
            "(the ImageNet file fits encoder='mobilenet_v2' only)"
        )
    with torch.no_grad():
        for (conv, norm), src in zip(pairs, convs, strict=True):
            if tuple(conv.weight.shape) != src.weight.shape:
                raise ValueError(
                    f"{src.name}: shape {src.weight.shape} in the file, {tuple(conv.weight.shape)} in the encoder"
                )
            conv.weight.copy_(torch.from_numpy(src.weight))
            norm.weight.fill_(1.0)
            norm.bias.copy_(torch.from_numpy(src.bias))
            norm.running_mean.zero_()
            norm.running_var.fill_(1.0 - norm.eps)
