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
}


def build_model(arch: str = "Unet", encoder: str = "tu-mobilenetv3_small_100",
                decoder_channels: list[int] | tuple[int, ...] = (128, 64, 32, 16, 8),
                encoder_weights: str | None = None, **kwargs):
    """A smp model with one output channel (sky logit).

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
    return factory(encoder_name=encoder, encoder_weights=encoder_weights, classes=1, **extra, **kwargs)
