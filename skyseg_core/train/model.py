"""The network: a segmentation-models-pytorch U-Net with a small encoder, one sky logit out."""

from __future__ import annotations

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DIVISOR = 32
"""Input height and width must be multiples of this (five stride-2 stages)."""

DEFAULT_MODEL = {
    "arch": "Unet",
    "encoder": "tu-mobilenetv3_small_100",
    "decoder_channels": [128, 64, 32, 16, 8],
    "encoder_weights": None,
    "prior": "",
}

PRIOR_CLAMP = 0.01
"""The prior's logit is taken of the probability clamped to [0.01, 0.99] (at most +-4.6), so
the network can overrule a confidently wrong classifier without fighting an infinite logit."""


def build_model(arch: str = "Unet", encoder: str = "tu-mobilenetv3_small_100",
                decoder_channels: list[int] | tuple[int, ...] = (128, 64, 32, 16, 8),
                encoder_weights: str | None = None, prior: str = "", **kwargs):
    """A smp model with one output channel (sky logit).

    With ``prior="classifier"`` the network takes a fourth input channel, the classifier's
    sky probability (see :mod:`skyseg_core.train.prior`), and returns that probability's logit
    plus its own correction; the correction starts at zero, so training starts from the
    classifier's answer instead of from noise.

    ``encoder_weights=None`` trains from scratch (no hub needed); ``"imagenet"`` downloads the
    encoder's pretrained weights (needs internet). Unknown names raise smp's error listing the
    valid ones.
    """
    import segmentation_models_pytorch as smp

    if encoder_weights in ("none", "None", ""):
        encoder_weights = None
    factory = getattr(smp, arch, None)
    if factory is None:
        raise ValueError(f"unknown architecture {arch!r}; smp offers: Unet, UnetPlusPlus, FPN, DeepLabV3Plus, ...")
    extra = {"decoder_channels": list(decoder_channels)} if arch in ("Unet", "UnetPlusPlus") else {}
    if not prior:
        return factory(encoder_name=encoder, encoder_weights=encoder_weights, classes=1, **extra, **kwargs)
    from .prior import PRIORS

    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; known: {', '.join(PRIORS)}")
    net = factory(encoder_name=encoder, encoder_weights=encoder_weights, classes=1, in_channels=4, **extra, **kwargs)
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
            prior = (x[:, 3:4] * 0.5 + 0.5).clamp(PRIOR_CLAMP, 1 - PRIOR_CLAMP)  # inverse of methods.unet.prior_channel
            return torch.log(prior / (1 - prior)) + self.net(x)

    return PriorResidual(net)
