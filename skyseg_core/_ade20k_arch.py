"""The CSAIL ADE20K scene-parsing networks, rebuilt so their published checkpoints load as-is
(one module of about 500 lines, as upstream keeps its encoders and decoders together).

The MIT CSAIL ``semantic-segmentation-pytorch`` project (BSD-3-Clause,
https://github.com/CSAILVision/semantic-segmentation-pytorch) publishes each model as two
``state_dict`` files, ``encoder_epoch_<N>.pth`` and ``decoder_epoch_<N>.pth``. This module
re-implements the encoders and decoders it needs with exactly the upstream parameter names
(``features.0.0.weight`` ..., ``conv1.weight``, ``layer1.0.conv1.weight`` ..., ``ppm.0.1.weight``,
``conv_last.4.weight`` ...), so those files load with ``strict`` key checking and
``torch.load(..., weights_only=True)``.

Encoders (output stride 8, "dilated": the last strided stages turned into dilated convolutions):

- ``mobilenetv2dilated`` (MobileNetV2 without its last 1x1 layer, 320 channels out)
- ``resnet18dilated`` (512), ``resnet50dilated`` (2048), ``resnet101dilated`` (2048); the ResNets
  use the CSAIL "deep stem" (three 3x3 convolutions, 128 channels before ``layer1``).

Decoders: ``c1``, ``c1_deepsup``, ``ppm``, ``ppm_deepsup`` (the deep-supervision branch is kept
so its weights load, but inference never runs it).

torch is imported at the top: only the ``ade20k`` method's torch path, the exporter and the
tests import this module.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 150
"""Classes of the MIT Scene Parsing Benchmark (ADE20K SceneParsing, objectInfo150)."""

SKY_CHANNEL = 2
"""Output channel of "sky": objectInfo150 index 3, zero-based channel 2."""

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
"""Normalisation of RGB in [0, 1] that the upstream models were trained with."""

OUTPUT_STRIDE = 8
"""Dilated encoders downsample by 8; inputs are padded to a multiple of this."""

ENCODER_CHANNELS = {
    "mobilenetv2dilated": 320,
    "resnet18dilated": 512,
    "resnet50dilated": 2048,
    "resnet101dilated": 2048,
}
"""Supported encoders and their output channels (the upstream ``fc_dim``)."""

DECODERS = ("c1", "c1_deepsup", "ppm", "ppm_deepsup")
"""Supported decoders."""


# --------------------------------------------------------------------------- building blocks


def _bn_relu_conv3(cin: int, cout: int) -> nn.Sequential:
    """3x3 conv (no bias) + BN + ReLU; keys ``0.weight``, ``1.*``."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def _dilate(module: nn.Module, dilation: int) -> None:
    """Turn a stage's convolutions into output-stride-preserving dilated ones.

    A stride-2 convolution keeps its resolution (stride 1) and, if 3x3, gets half the stage's
    dilation; every other 3x3 convolution gets the stage's dilation (padding = dilation).
    """
    for conv in module.modules():
        if not isinstance(conv, nn.Conv2d):
            continue
        three = conv.kernel_size == (3, 3)
        if conv.stride == (2, 2):
            conv.stride = (1, 1)
            if three:
                conv.dilation = conv.padding = (dilation // 2, dilation // 2)
        elif three:
            conv.dilation = conv.padding = (dilation, dilation)


class _InvertedResidual(nn.Module):
    """MobileNetV2 block; parameters under ``conv.<i>`` as upstream."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = round(cin * expand)
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [
                nn.Conv2d(cin, hidden, 1, 1, 0, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(inplace=True),
            ]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv(x)
        return x + out if self.use_res_connect else out


MOBILENET_V2_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
"""(expansion t, channels c, units n, first stride s) per block, as in the MobileNetV2 paper;
both MobileNetV2s (this CSAIL one and TF DeepLab's in :mod:`skyseg_core.train.deeplab`)."""


class MobileNetV2Dilated(nn.Module):
    """MobileNetV2 ``features[0:18]`` with blocks 7-13 dilated by 2 and 14-17 by 4 (stride 8).

    ``forward`` returns the feature maps the decoders read: ``[..., block 14 (160 ch), last (320 ch)]``.
    """

    _TAPS = (2, 4, 7, 14)  # blocks after which the resolution halves (upstream ``down_idx``)

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(inplace=True)
            )
        ]
        cin = 32
        for t, c, n, s in MOBILENET_V2_BLOCKS:
            for i in range(n):
                layers.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.features = nn.Sequential(*layers)
        for i in range(7, 14):
            _dilate(self.features[i], 2)
        for i in range(14, len(self.features)):
            _dilate(self.features[i], 4)

    def forward(self, x):
        maps = []
        for i, block in enumerate(self.features):
            x = block(x)
            if i in self._TAPS:
                maps.append(x)
        maps.append(x)
        return maps


class _BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


_RESNETS: dict[str, tuple[type[nn.Module], tuple[int, ...]]] = {
    "resnet18dilated": (_BasicBlock, (2, 2, 2, 2)),
    "resnet50dilated": (_Bottleneck, (3, 4, 6, 3)),
    "resnet101dilated": (_Bottleneck, (3, 4, 23, 3)),
}


class ResnetDilated(nn.Module):
    """CSAIL ResNet (deep stem) with ``layer3`` dilated by 2 and ``layer4`` by 4 (stride 8).

    ``forward`` returns ``[layer1, layer2, layer3, layer4]`` outputs.
    """

    def __init__(self, depth: str = "resnet50dilated"):
        super().__init__()
        block, repeats = _RESNETS[depth]
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(64, 64, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(64, 128, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(128)
        self.relu3 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 128
        stages = []
        for planes, n, stride in zip((64, 128, 256, 512), repeats, (1, 2, 2, 2), strict=True):
            downsample = None
            if stride != 1 or cin != planes * block.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(cin, planes * block.expansion, 1, stride, bias=False),
                    nn.BatchNorm2d(planes * block.expansion),
                )
            blocks = [block(cin, planes, stride, downsample)]
            cin = planes * block.expansion
            blocks += [block(cin, planes) for _ in range(1, n)]
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        _dilate(self.layer3, 2)
        _dilate(self.layer4, 4)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.maxpool(x)
        maps = []
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
            maps.append(x)
        return maps


class AdaptiveAvgPool(nn.Module):
    """``nn.AdaptiveAvgPool2d`` written as two averaging matrices, so it exports to ONNX with
    dynamic height and width (the built-in exports only for fixed, divisible sizes).

    Bin ``i`` of ``n`` over length ``L`` covers ``[floor(i L / n), ceil((i + 1) L / n))``, as in
    PyTorch; the result equals ``nn.AdaptiveAvgPool2d(size)``.
    """

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def _matrix(self, length, like):
        idx = torch.arange(self.size, device=like.device)
        start = torch.div(idx * length, self.size, rounding_mode="floor")
        stop = torch.div((idx + 1) * length + self.size - 1, self.size, rounding_mode="floor")
        pos = torch.arange(length, device=like.device)
        inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < stop[:, None])
        weights = inside.to(like.dtype)
        return weights / weights.sum(dim=1, keepdim=True)

    def forward(self, x):
        rows = self._matrix(x.shape[2], x)  # (n, H)
        cols = self._matrix(x.shape[3], x)  # (n, W)
        return torch.matmul(torch.matmul(rows, x), cols.transpose(0, 1))


class C1(nn.Module):
    """One 3x3 conv-BN-ReLU and a 1x1 classifier on the last feature map (``c1`` / ``c1_deepsup``)."""

    def __init__(self, fc_dim: int, num_class: int = NUM_CLASSES, deepsup: bool = True):
        super().__init__()
        # (registration order as upstream, so state dicts list their keys in the same order)
        self.cbr = _bn_relu_conv3(fc_dim, fc_dim // 4)
        if deepsup:  # training-only branch on the second-last map; kept so its weights load
            self.cbr_deepsup = _bn_relu_conv3(fc_dim // 2, fc_dim // 4)
        self.conv_last = nn.Conv2d(fc_dim // 4, num_class, 1, 1, 0)
        if deepsup:
            self.conv_last_deepsup = nn.Conv2d(fc_dim // 4, num_class, 1, 1, 0)

    def forward(self, maps):
        return self.conv_last(self.cbr(maps[-1]))


class PPM(nn.Module):
    """Pyramid pooling (bins 1, 2, 3, 6) then conv-BN-ReLU-dropout-classifier (``ppm`` / ``ppm_deepsup``)."""

    def __init__(
        self, fc_dim: int, num_class: int = NUM_CLASSES, deepsup: bool = True, scales=(1, 2, 3, 6)
    ):
        super().__init__()
        self.ppm = nn.ModuleList(
            nn.Sequential(
                AdaptiveAvgPool(s),
                nn.Conv2d(fc_dim, 512, 1, bias=False),
                nn.BatchNorm2d(512),
                nn.ReLU(inplace=True),
            )
            for s in scales
        )
        if deepsup:  # training-only branch; kept so its weights load
            self.cbr_deepsup = _bn_relu_conv3(fc_dim // 2, fc_dim // 4)
        self.conv_last = nn.Sequential(
            nn.Conv2d(fc_dim + len(scales) * 512, 512, 3, padding=1, bias=False),
            nn.BatchNorm2d(512),
            nn.ReLU(inplace=True),
            nn.Dropout2d(0.1),
            nn.Conv2d(512, num_class, 1),
        )
        if deepsup:
            self.conv_last_deepsup = nn.Conv2d(fc_dim // 4, num_class, 1, 1, 0)
            self.dropout_deepsup = nn.Dropout2d(0.1)

    def forward(self, maps):
        x = maps[-1]
        size = (x.shape[2], x.shape[3])
        pyramid = [x] + [
            F.interpolate(branch(x), size, mode="bilinear", align_corners=False)
            for branch in self.ppm
        ]
        return self.conv_last(torch.cat(pyramid, 1))


def build_encoder(name: str) -> nn.Module:
    """An encoder by upstream name (``mobilenetv2dilated``, ``resnet{18,50,101}dilated``)."""
    if name == "mobilenetv2dilated":
        return MobileNetV2Dilated()
    if name in _RESNETS:
        return ResnetDilated(name)
    raise ValueError(
        f"unsupported ADE20K encoder {name!r}; supported: {', '.join(ENCODER_CHANNELS)}"
    )


def build_decoder(name: str, fc_dim: int, num_class: int = NUM_CLASSES) -> nn.Module:
    """A decoder by upstream name (``c1``, ``c1_deepsup``, ``ppm``, ``ppm_deepsup``)."""
    if name not in DECODERS:
        raise ValueError(f"unsupported ADE20K decoder {name!r}; supported: {', '.join(DECODERS)}")
    cls = C1 if name.startswith("c1") else PPM
    return cls(fc_dim, num_class, deepsup=name.endswith("_deepsup"))


class SkyProbability(nn.Module):
    """Encoder + decoder + the preprocessing and the sky read-out, as one graph.

    Input: ``(N, 3, H, W)`` float32 RGB in [0, 1], H and W multiples of :data:`OUTPUT_STRIDE`.
    Output: ``(N, H, W)`` float32, the softmax probability of the sky class, computed like the
    upstream test code: class logits upsampled bilinearly to (H, W), softmax over the 150 classes.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, sky_channel: int = SKY_CHANNEL):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.sky_channel = sky_channel
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, image):
        x = (image - self.mean) / self.std
        logits = self.decoder(self.encoder(x))
        logits = F.interpolate(
            logits, (image.shape[2], image.shape[3]), mode="bilinear", align_corners=False
        )
        return torch.softmax(logits, dim=1)[:, self.sky_channel]


# --------------------------------------------------------------------------- checkpoints


def infer_arch(encoder_state: dict, decoder_state: dict) -> tuple[str, str]:
    """Tell the (encoder, decoder) architecture from the parameter names of two state dicts."""
    if "features.0.0.weight" in encoder_state:
        encoder = "mobilenetv2dilated"
    elif "layer1.0.conv3.weight" in encoder_state:
        blocks = {int(m.group(1)) for k in encoder_state if (m := re.match(r"layer3\.(\d+)\.", k))}
        encoder = "resnet101dilated" if len(blocks) > 6 else "resnet50dilated"
    elif "layer1.0.conv2.weight" in encoder_state:
        encoder = "resnet18dilated"
    else:
        raise ValueError("encoder state dict matches none of: " + ", ".join(ENCODER_CHANNELS))
    if "ppm.0.1.weight" in decoder_state:
        decoder = "ppm"
    elif "cbr.0.weight" in decoder_state:
        decoder = "c1"
    else:
        raise ValueError("decoder state dict matches none of: " + ", ".join(DECODERS))
    if "conv_last_deepsup.weight" in decoder_state:
        decoder += "_deepsup"
    return encoder, decoder


def _clean(state: object, what: str) -> dict:
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{what} is not a state dict (got {type(state).__name__})")
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{what}: entry {key!r} is not a tensor")
        out[key[7:] if key.startswith("module.") else key] = value
    return out


_SYNC_BN_EXTRAS = ("_tmp_running_mean", "_tmp_running_var", "_running_iter")
"""Bookkeeping buffers of upstream's ``SynchronizedBatchNorm2d`` (the ``mit_semseg`` package
registers them); ``running_mean`` / ``running_var`` already hold the statistics they track."""


def _load_into(module: nn.Module, state: dict, what: str) -> None:
    """Load with every parameter name checked. Tolerated: BatchNorm counters absent from
    checkpoints of old torch versions, and the synchronised BatchNorm's own extra buffers."""
    norms = {name for name, m in module.named_modules() if isinstance(m, nn.BatchNorm2d)}
    state = {
        k: v
        for k, v in state.items()
        if not (k.rpartition(".")[2] in _SYNC_BN_EXTRAS and k.rpartition(".")[0] in norms)
    }
    result = module.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys (e.g. {', '.join(missing[:3])})")
        if result.unexpected_keys:
            parts.append(
                f"unexpected {len(result.unexpected_keys)} keys (e.g. {', '.join(result.unexpected_keys[:3])})"
            )
        raise ValueError(f"{what} does not match the architecture: " + "; ".join(parts))


def load_sky_model(
    encoder_path: str | Path, decoder_path: str | Path, arch: str | None = None
) -> tuple[SkyProbability, str]:
    """Build a :class:`SkyProbability` from an upstream encoder/decoder checkpoint pair.

    Both files are read with ``torch.load(..., weights_only=True)`` (no pickled code runs).
    ``arch`` is ``"<encoder>-<decoder>"`` (e.g. ``"resnet50dilated-ppm_deepsup"``); by default it
    is inferred from the parameter names. Returns the model (eval mode, CPU) and the arch.
    Raises ``ValueError``/``RuntimeError``/``OSError`` (the caller wraps them) on bad files.
    """
    enc_state = _clean(
        torch.load(encoder_path, map_location="cpu", weights_only=True), Path(encoder_path).name
    )
    dec_state = _clean(
        torch.load(decoder_path, map_location="cpu", weights_only=True), Path(decoder_path).name
    )
    if arch is None:
        enc_name, dec_name = infer_arch(enc_state, dec_state)
    else:
        enc_name, _, dec_name = arch.removeprefix("ade20k-").partition("-")
    encoder = build_encoder(enc_name)
    decoder = build_decoder(dec_name, ENCODER_CHANNELS[enc_name])
    _load_into(encoder, enc_state, Path(encoder_path).name)
    _load_into(decoder, dec_state, Path(decoder_path).name)
    model = SkyProbability(encoder, decoder).eval()
    return model, f"{enc_name}-{dec_name}"


def export_onnx(
    model: SkyProbability,
    path: str | Path,
    metadata: dict[str, str],
    opset: int = 17,
    sample_size=(64, 96),
) -> None:
    """Write ``model`` as ONNX (input ``image`` (N, 3, H, W) dynamic; output ``sky`` (N, H, W))
    with ``metadata`` as the model's metadata properties."""
    import io
    import warnings

    import onnx

    sample = torch.rand(1, 3, *sample_size)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model.eval(),
            (sample,),
            buffer,
            dynamo=False,
            input_names=["image"],
            output_names=["sky"],
            dynamic_axes={
                "image": {0: "batch", 2: "height", 3: "width"},
                "sky": {0: "batch", 1: "height", 2: "width"},
            },
            opset_version=opset,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(proto, str(path))
