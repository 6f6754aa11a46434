"""Read the published TFLite networks without TensorFlow (the ``train`` extra: ``tflite``, torch).

The ``tflite`` package parses the flatbuffer; this module turns its convolutions into plain
float32 arrays in PyTorch's layout, in graph order, with what each one does (stride, dilation,
padding, activation). Quantised tensors are dequantised as ``(q - zero_point) * scale`` (per
output channel where a tensor has several scales); batch norm is already folded into the
convolutions' biases by the TFLite converter, except after a dilated depthwise convolution,
which TF lowers to ``SPACE_TO_BATCH_ND -> DEPTHWISE_CONV_2D -> BATCH_TO_SPACE_ND -> MUL -> ADD``:
that chain is read back as one dilated convolution with the MUL folded into its weights and
the ADD into its bias.

:func:`load_convolutions` copies such a list into a PyTorch network whose ``tf_convolutions()``
lists its convolutions in the same order (:mod:`skyseg_core.train.deeplab`), checking shapes,
strides and activations as it goes, so a topology mismatch fails loudly instead of loading
weights into the wrong layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ACTIVATIONS = {0: None, 1: "relu", 3: "relu6"}
"""TFLite ``ActivationFunctionType`` values used by these networks."""

_DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 9: np.int8}
"""TFLite ``TensorType`` values of the tensors read here."""


@dataclass
class Convolution:
    """One convolution of a TFLite graph, in PyTorch's layout.

    ``weight`` is (out, in / groups, kH, kW) float32; ``depthwise`` convolutions have
    ``groups == out``. ``padding`` is TF's ``"same"`` or ``"valid"``; ``dilation`` is the rate
    (from the ``SPACE_TO_BATCH_ND`` block shape for the lowered dilated ones).
    """

    name: str
    weight: np.ndarray
    bias: np.ndarray
    stride: int
    dilation: int
    padding: str
    activation: str | None
    depthwise: bool


class TFLiteGraph:
    """The operators and constant tensors of a ``.tflite`` file's first subgraph."""

    def __init__(self, path: str | Path):
        import tflite

        self.path = Path(path)
        self._tflite = tflite
        buffer = self.path.read_bytes()
        self.model = tflite.Model.GetRootAsModel(buffer, 0)
        if self.model.SubgraphsLength() < 1:
            raise ValueError(f"{self.path}: no subgraph")
        self.graph = self.model.Subgraphs(0)
        names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
        self.ops = []
        for i in range(self.graph.OperatorsLength()):
            op = self.graph.Operators(i)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            kind = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "UNKNOWN")
            inputs = [op.Inputs(j) for j in range(op.InputsLength())]
            outputs = [op.Outputs(j) for j in range(op.OutputsLength())]
            self.ops.append((kind, inputs, outputs, op))
        self.producer = {t: i for i, (_, _, outs, _) in enumerate(self.ops) for t in outs}
        self.consumers: dict[int, list[int]] = {}
        for i, (_, ins, _, _) in enumerate(self.ops):
            for t in ins:
                self.consumers.setdefault(t, []).append(i)

    def tensor_name(self, index: int) -> str:
        return self.graph.Tensors(index).Name().decode()

    def constant(self, index: int) -> np.ndarray:
        """A constant tensor as float32 (dequantised), following a ``DEQUANTIZE`` op if needed."""
        op = self.producer.get(index)
        if op is not None:
            kind, ins, _, _ = self.ops[op]
            if kind != "DEQUANTIZE":
                raise ValueError(
                    f"tensor {self.tensor_name(index)!r} is computed by {kind}, not a constant"
                )
            return self.constant(ins[0])
        tensor = self.graph.Tensors(index)
        dtype = _DTYPES.get(tensor.Type())
        if dtype is None:
            raise ValueError(
                f"tensor {self.tensor_name(index)!r} has unsupported type {tensor.Type()}"
            )
        data = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(data, int):  # an empty buffer
            raise ValueError(f"tensor {self.tensor_name(index)!r} holds no data")
        shape = tuple(int(v) for v in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
        values = np.frombuffer(data.tobytes(), dtype=dtype).reshape(shape)
        if dtype is np.float32:
            return values.astype(np.float32)
        quant = tensor.Quantization()
        if quant is None or quant.ScaleLength() == 0:
            return values.astype(np.float32)  # integer constants (shapes, paddings)
        scale = quant.ScaleAsNumpy().astype(np.float64)
        zero = (
            quant.ZeroPointAsNumpy().astype(np.float64)
            if quant.ZeroPointLength()
            else np.zeros_like(scale)
        )
        if scale.size > 1:  # per-channel along the quantised dimension
            axis = quant.QuantizedDimension()
            view = [1] * values.ndim
            view[axis] = scale.size
            scale, zero = scale.reshape(view), zero.reshape(view)
        return ((values.astype(np.float64) - zero) * scale).astype(np.float32)

    def integers(self, index: int) -> np.ndarray:
        tensor = self.graph.Tensors(index)
        data = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        return np.frombuffer(data.tobytes(), dtype=_DTYPES[tensor.Type()]).astype(np.int64)

    def options(self, op, cls_name: str):
        table = op.BuiltinOptions()
        options = getattr(self._tflite, cls_name)()
        options.Init(table.Bytes, table.Pos)
        return options

    def _only_consumer(self, tensor: int, kind: str) -> int | None:
        users = self.consumers.get(tensor, [])
        if len(users) == 1 and self.ops[users[0]][0] == kind:
            return users[0]
        return None

    def _chain(self, tensor: int, kinds: tuple[str, ...]) -> list[int] | None:
        """The ops of ``kinds``, each the only consumer of the one before, from ``tensor`` on."""
        chain = []
        for kind in kinds:
            op = self._only_consumer(tensor, kind)
            if op is None:
                return None
            chain.append(op)
            tensor = self.ops[op][2][0]
        return chain

    def convolutions(self) -> list[Convolution]:
        """Every ``CONV_2D`` and ``DEPTHWISE_CONV_2D`` in graph order (see the module docstring)."""
        convs = []
        for kind, ins, outs, op in self.ops:
            if kind == "CONV_2D":
                o = self.options(op, "Conv2DOptions")
                weight = self.constant(ins[1]).transpose(0, 3, 1, 2)  # OHWI -> OIHW
                convs.append(
                    Convolution(
                        self.tensor_name(outs[0]),
                        np.ascontiguousarray(weight),
                        self.constant(ins[2]),
                        o.StrideH(),
                        o.DilationHFactor(),
                        "same" if o.Padding() == 0 else "valid",
                        ACTIVATIONS[o.FusedActivationFunction()],
                        False,
                    )
                )
            elif kind == "DEPTHWISE_CONV_2D":
                convs.append(self._depthwise(ins, outs, op))
        return convs

    def _depthwise(self, ins, outs, op) -> Convolution:
        o = self.options(op, "DepthwiseConv2DOptions")
        if o.DepthMultiplier() != 1:
            raise ValueError("depth multipliers other than 1 are not supported")
        weight = self.constant(ins[1]).transpose(3, 0, 1, 2)  # 1HWC -> C1HW
        bias = self.constant(ins[2])
        activation = ACTIVATIONS[o.FusedActivationFunction()]
        padding, dilation = ("same" if o.Padding() == 0 else "valid"), o.DilationHFactor()
        source = self.producer.get(ins[0])
        if source is not None and self.ops[source][0] == "SPACE_TO_BATCH_ND":
            # Lowered dilated convolution: rate from the block shape; batch norm after the crop.
            dilation = int(self.integers(self.ops[source][1][1])[0])
            padding = "same"
            chain = self._chain(outs[0], ("BATCH_TO_SPACE_ND", "MUL", "ADD"))
            if chain is None:
                raise ValueError(
                    f"unexpected ops after the dilated convolution {self.tensor_name(outs[0])!r}"
                )
            _, mul, add = chain
            scale = self.constant(self.ops[mul][1][1])
            shift = self.constant(self.ops[add][1][1])
            weight = weight * scale[:, None, None, None]
            bias = bias * scale + shift
            activation = ACTIVATIONS[
                self.options(self.ops[add][3], "AddOptions").FusedActivationFunction()
            ]
            outs = self.ops[add][2]
        return Convolution(
            self.tensor_name(outs[0]),
            np.ascontiguousarray(weight, np.float32),
            bias.astype(np.float32),
            o.StrideH(),
            dilation,
            padding,
            activation,
            True,
        )


def read_convolutions(path: str | Path) -> list[Convolution]:
    """The convolutions of a ``.tflite`` file, in graph order (see :class:`Convolution`)."""
    return TFLiteGraph(path).convolutions()


def load_convolutions(model, convs: list[Convolution], check_strides: bool = True) -> None:
    """Copy ``convs`` into ``model.tf_convolutions()`` (same order), checking that they match.

    Each entry of ``tf_convolutions()`` is ``(conv, activation)``: a ``torch.nn.Conv2d`` with a
    bias and the activation that follows it (``None``, ``"relu"``, ``"relu6"``).
    ``check_strides=False`` accepts other strides and dilations (the same weights at another
    output stride).
    """
    import torch

    targets = model.tf_convolutions()
    if len(targets) != len(convs):
        raise ValueError(f"the network has {len(targets)} convolutions, the file {len(convs)}")
    for (conv, activation), src in zip(targets, convs, strict=True):
        where = f"convolution {src.name!r}"
        if tuple(conv.weight.shape) != src.weight.shape:
            raise ValueError(
                f"{where}: shape {src.weight.shape} in the file, {tuple(conv.weight.shape)} in the network"
            )
        if activation != src.activation:
            raise ValueError(
                f"{where}: activation {src.activation} in the file, {activation} in the network"
            )
        if check_strides and (conv.stride[0], conv.dilation[0]) != (src.stride, src.dilation):
            raise ValueError(
                f"{where}: stride/dilation {src.stride}/{src.dilation} in the file, "
                f"{conv.stride[0]}/{conv.dilation[0]} in the network"
            )
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(src.weight))
            conv.bias.copy_(torch.from_numpy(src.bias))


__all__ = ["Convolution", "TFLiteGraph", "load_convolutions", "read_convolutions"]
