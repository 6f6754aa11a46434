"""TF DeepLab's MobileNetV2 networks rebuilt in PyTorch (the ``train`` extra).

Two networks, both with the exact topology of the published TFLite files in
``../shared/pretrained`` (see :mod:`skyseg_core.train.tflite_reader`, which loads them):

- :class:`MobileNetV2Classifier`: MobileNetV2 1.0 for ImageNet (1001 classes, 224 input).
- :class:`DeepLabV3Plus`: DeepLabV3+ on a MobileNetV2 backbone as TF DeepLab builds it for
  ``mobilenet_v2``: image-pooling ASPP without atrous branches (256 channels), a decoder that
  takes the depthwise output of ``expanded_conv_2`` (144 channels at stride 4) through 48
  channels, two separable 3x3 convolutions and the logits, upsampled with
  ``align_corners=True`` as TF's ``resize_bilinear`` does. ``output_stride`` 8 is the
  published graph (dilation 2 from the 64-channel block, 4 from the 160-channel block); 16 is
  four times cheaper in the late blocks and takes the same weights.

Inputs are RGB scaled to [-1, 1] (``x / 127.5 - 1``), NCHW. Convolutions pad symmetrically,
which equals TF's "SAME" at stride 2 when the input size is odd (513, 321, 224 + 1...); set
``tf_same_padding(model, True)`` to reproduce TF exactly at even sizes (the ImageNet file's
224), which tracing for ONNX does not support.

:class:`SkyDeepLab` is the sky network trained by ``skyseg train``: the DeepLab with one sky
logit, initialised from the ADE20K file so that training starts at the zero-shot answer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._ade20k_arch import MOBILENET_V2_BLOCKS

LOW_LEVEL_UNIT = 2
"""Unit whose depthwise output feeds DeepLab's decoder (TF's ``layer_4/depthwise_output``)."""

ADE20K_SKY_CHANNEL = 3
"""Sky in the TF DeepLab ADE20K file's 151 logits (0 = other, then ADE20K classes 1..150)."""


class TFConv(nn.Conv2d):
    """A convolution with bias and its activation, padded as TF pads (see the module docstring)."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 1,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        activation: str | None = "relu6",
    ):
        super().__init__(
            cin,
            cout,
            kernel,
            stride,
            padding=dilation * (kernel - 1) // 2,
            dilation=dilation,
            groups=groups,
            bias=True,
        )
        self.activation = activation
        self.tf_same = False

    def forward(self, x):
        if self.tf_same and self.stride[0] > 1:
            pads = []
            for size in (x.shape[-1], x.shape[-2]):
                out = -(-size // self.stride[0])
                total = max(
                    (out - 1) * self.stride[0]
                    + self.dilation[0] * (self.kernel_size[0] - 1)
                    + 1
                    - size,
                    0,
                )
                pads += [total // 2, total - total // 2]
            x = F.conv2d(
                F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups
            )
        else:
            x = super().forward(x)
        if self.activation == "relu6":
            return F.relu6(x)
        if self.activation == "relu":
            return F.relu(x)
        return x


def tf_same_padding(model: nn.Module, enabled: bool = True) -> nn.Module:
    """Switch every :class:`TFConv` of ``model`` to TF's exact "SAME" padding (or back)."""
    for module in model.modules():
        if isinstance(module, TFConv):
            module.tf_same = enabled
    return model


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, expansion: int, stride: int, dilation: int):
        super().__init__()
        hidden = cin * expansion
        self.expand = TFConv(cin, hidden) if expansion != 1 else None
        self.depthwise = TFConv(hidden, hidden, 3, stride, dilation, groups=hidden)
        self.project = TFConv(hidden, cout, activation=None)
        self.residual = stride == 1 and cin == cout

    def convolutions(self) -> list[TFConv]:
        return [c for c in (self.expand, self.depthwise, self.project) if c is not None]

    def forward(self, x):
        y = self.depthwise(self.expand(x) if self.expand is not None else x)
        self.depthwise_output = y
        y = self.project(y)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 1.0 features; ``output_stride`` below 32 trades strides for dilation as TF
    slim's ``mobilenet`` does (the first unit of a converted block keeps the previous rate)."""

    def __init__(self, output_stride: int = 32):
        super().__init__()
        self.stem = TFConv(3, 32, 3, 2)
        units, cin, current, rate = [], 32, 2, 1
        for expansion, cout, count, first_stride in MOBILENET_V2_BLOCKS:
            for i in range(count):
                stride = first_stride if i == 0 else 1
                if current == output_stride:
                    layer_stride, layer_rate, rate = 1, rate, rate * stride
                else:
                    layer_stride, layer_rate, current = stride, 1, current * stride
                units.append(InvertedResidual(cin, cout, expansion, layer_stride, layer_rate))
                cin = cout
        self.units = nn.ModuleList(units)

    def convolutions(self) -> list[TFConv]:
        return [self.stem] + [c for unit in self.units for c in unit.convolutions()]

    def forward(self, x):
        """(features at the output stride, low-level features for DeepLab's decoder)."""
        x = self.stem(x)
        low = None
        for i, unit in enumerate(self.units):
            x = unit(x)
            if i == LOW_LEVEL_UNIT:
                low = unit.depthwise_output
        return x, low


class MobileNetV2Classifier(nn.Module):
    """MobileNetV2 1.0 ImageNet classifier (1001 classes, 0 = background); returns logits."""

    def __init__(self, num_classes: int = 1001):
        super().__init__()
        self.features = MobileNetV2()
        self.head = TFConv(320, 1280)
        self.logits = TFConv(1280, num_classes, activation=None)

    def tf_convolutions(self):
        return [(c, c.activation) for c in (*self.features.convolutions(), self.head, self.logits)]

    def forward(self, x):
        x, _ = self.features(x)
        x = self.head(x).mean((2, 3), keepdim=True)
        return self.logits(x).flatten(1)


class DeepLabV3Plus(nn.Module):
    """TF DeepLab's DeepLabV3+ MobileNetV2 (see the module docstring); returns logits at the
    input size."""

    def __init__(self, num_classes: int = 151, output_stride: int = 8):
        super().__init__()
        self.output_stride = output_stride
        self.backbone = MobileNetV2(output_stride)
        self.image_pooling = TFConv(320, 256, activation="relu")
        self.aspp0 = TFConv(320, 256, activation="relu")
        self.projection = TFConv(512, 256, activation="relu")
        self.low_level = TFConv(144, 48, activation="relu")
        self.decoder = nn.Sequential(
            TFConv(304, 304, 3, groups=304, activation="relu"),
            TFConv(304, 256, activation="relu"),
            TFConv(256, 256, 3, groups=256, activation="relu"),
            TFConv(256, 256, activation="relu"),
        )
        self.logits = TFConv(256, num_classes, activation=None)

    def tf_convolutions(self):
        convs = [
            *self.backbone.convolutions(),
            self.image_pooling,
            self.aspp0,
            self.projection,
            self.low_level,
            *self.decoder,
            self.logits,
        ]
        return [(c, c.activation) for c in convs]

    def features(self, x):
        """Decoder output at stride 4 (256 channels)."""
        feats, low = self.backbone(x)
        pooled = self.image_pooling(feats.mean((2, 3), keepdim=True)).expand(
            -1, -1, *feats.shape[-2:]
        )
        y = self.projection(torch.cat([pooled, self.aspp0(feats)], 1))
        y = F.interpolate(y, size=low.shape[-2:], mode="bilinear", align_corners=True)
        return self.decoder(torch.cat([y, self.low_level(low)], 1))

    def forward(self, x):
        logits = self.logits(self.features(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=True)


def sky_log_odds(logits: torch.Tensor, sky: int = ADE20K_SKY_CHANNEL) -> torch.Tensor:
    """(N, 1, H, W): the sky logit against the log-sum-exp of the others, so that its sigmoid
    is the sky's softmax probability."""
    others = torch.cat([logits[:, :sky], logits[:, sky + 1 :]], 1)
    return logits[:, sky : sky + 1] - torch.logsumexp(others, 1, keepdim=True)


class SkyDeepLab(nn.Module):
    """The DeepLab with one sky logit, taken at stride 4 and upsampled to the input size.

    The head keeps ADE20K's 151 logits and returns :func:`sky_log_odds` of them, so before any
    training ``sigmoid(output)`` is the zero-shot sky probability (up to where the upsampling
    happens); fine-tuning moves all of it.
    """

    def __init__(self, output_stride: int = 16):
        super().__init__()
        self.deeplab = DeepLabV3Plus(151, output_stride)

    def tf_convolutions(self):
        return self.deeplab.tf_convolutions()

    def forward(self, x):
        logit = sky_log_odds(self.deeplab.logits(self.deeplab.features(x)))
        return F.interpolate(logit, size=x.shape[-2:], mode="bilinear", align_corners=True)


def load_ade20k_deeplab(path, output_stride: int = 8) -> DeepLabV3Plus:
    """The 151-class network with the weights of the TF DeepLab ADE20K ``.tflite`` file."""
    from .tflite_reader import load_convolutions, read_convolutions

    model = DeepLabV3Plus(151, output_stride)
    load_convolutions(model, read_convolutions(path), check_strides=output_stride == 8)
    return model.eval()


def load_imagenet_mobilenet_v2(path) -> MobileNetV2Classifier:
    """The ImageNet classifier with the weights of the MobileNetV2 ``.tflite`` file."""
    from .tflite_reader import load_convolutions, read_convolutions

    model = MobileNetV2Classifier()
    load_convolutions(model, read_convolutions(path))
    return model.eval()


__all__ = [
    "ADE20K_SKY_CHANNEL",
    "DeepLabV3Plus",
    "MobileNetV2",
    "MobileNetV2Classifier",
    "SkyDeepLab",
    "ZeroShotSky",
    "load_ade20k_deeplab",
    "load_imagenet_mobilenet_v2",
    "sky_log_odds",
    "tf_same_padding",
]


class ZeroShotSky(nn.Module):
    """The ADE20K network kept to its sky class: RGB in [0, 1] (N, 3, H, W) -> (N, H, W) sky
    softmax probability, normalisation inside (what the ``ade20k`` method runs)."""

    def __init__(self, deeplab: DeepLabV3Plus):
        super().__init__()
        self.deeplab = deeplab

    def forward(self, image):
        logits = self.deeplab(image * 2.0 - 1.0)
        return torch.softmax(logits, 1)[:, ADE20K_SKY_CHANNEL]
