"""CNN lowering: a `CnnSpec` layer list -> one segment of conv2d/norm/elementwise/pooling/matmul ops.

The layer-list format (YAML). Each entry is a layer kind alone (`- relu`) or a one-key mapping of
the kind to its arguments (`- conv: {out: 64, kernel: 3, padding: 1}`); every layer takes an
optional `name` (the op-name prefix; default `<index>.<kind>`):

    conv: {out, kernel, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true}   # nn.Conv2d
    bn                                   # batch norm, 2 parameters per channel
    relu | relu6 | gelu | silu | sigmoid | tanh | hardswish
    maxpool | avgpool: {kernel, stride: kernel, padding: 0}
    global_avgpool | global_maxpool      # C x H x W -> C x 1 x 1
    flatten                              # -> C*H*W features
    linear: {out: num_classes, bias: true}
    dropout: {p: 0.5}
    scale: {factor}                      # multiply by a constant
    residual: {body: [layers], shortcut: [layers]}   # shortcut absent = identity; then add
    basic | bottleneck: {width, blocks: 1, stride: 1}  # ResNet stages (He et al. 2016)

`kernel`, `stride`, `padding` and `dilation` take an int or `[h, w]`. The flat form
`{type: conv, out: 64, ...}` (what `CnnSpec.model_dump()` writes) is accepted as well. Shapes follow PyTorch:
`out = floor((in + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1`. The list must end in
`num_classes` flat features; the loss (softmax cross-entropy, m = 1) is appended.

Saved activations (DESIGN §2): conv, linear, pooling and batch norm save their inputs. ReLU,
sigmoid and tanh need their *output* for the backward pass; that output is the input the next
layer already saves (torchvision's in-place ReLU), so they save nothing of their own when the
next op saves its input, and save one tensor otherwise (before a residual add, for example).
"""

from __future__ import annotations

import dataclasses

from estimator.graph import Graph, OpKind, Operator, Segment
from estimator.specs.model import (
    ACTIVATION_FLOPS,
    ActivationLayer,
    BatchNormLayer,
    CnnSpec,
    ConvLayer,
    DropoutLayer,
    FlattenLayer,
    GlobalPoolLayer,
    LinearLayer,
    PoolLayer,
    ResidualLayer,
    ScaleLayer,
    StageLayer,
)

Shape = tuple[int, ...]  # (channels, height, width) or (features,)

_OUTPUT_SAVERS = {"relu", "relu6", "sigmoid", "tanh"}  # backward reads the output, not the input
_SAVES_INPUT = {OpKind.CONV2D, OpKind.MATMUL, OpKind.POOLING, OpKind.NORM}
BN_FLOPS = 5  # mean, variance, normalize, scale, shift per element (DESIGN §2.4)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _describe(shape: Shape) -> str:
    return "×".join(str(dim) for dim in shape) + (" features" if len(shape) == 1 else "")


class _Builder:
    """Walks the layer list, propagating shapes and appending operators."""

    def __init__(self, spec: CnnSpec) -> None:
        self.spec = spec
        self.ops: list[Operator] = []
        self.output_savers: list[int] = []  # indexes of ReLU-like ops, settled by `finish`
        self.relus: set[int] = set()  # indexes of ReLU ops (fusable into a BatchNorm before them)

    def run(self, layers: tuple, shape: Shape, prefix: str, path: str) -> Shape:
        for index, layer in enumerate(layers):
            label = layer.name or f"{index}.{layer.type}"
            shape = self.layer(layer, shape, prefix + label, f"{path}.{index}.{layer.type}")
        return shape

    def _image(self, shape: Shape, path: str) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise ValueError(f"{path}: needs a C×H×W feature map, got {_describe(shape)}")
        return shape[0], shape[1], shape[2]

    def _window(self, size: int, kernel: int, stride: int, padding: int, dilation: int, path: str,
                shape: Shape) -> int:
        out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        if out < 1:
            raise ValueError(
                f"{path}: kernel {kernel} (stride {stride}, padding {padding}) does not fit the "
                f"{_describe(shape)} input"
            )
        return out

    def layer(self, layer, shape: Shape, name: str, path: str) -> Shape:  # noqa: C901 - a dispatch
        if isinstance(layer, ConvLayer):
            return self.conv(name, path, shape, layer.out, _pair(layer.kernel), _pair(layer.stride),
                             _pair(layer.padding), _pair(layer.dilation), layer.groups, layer.bias)
        if isinstance(layer, BatchNormLayer):
            return self.batch_norm(name, shape)
        if isinstance(layer, ActivationLayer):
            return self.activation(name, shape, layer.type)
        if isinstance(layer, PoolLayer):
            c, h, w = self._image(shape, path)
            (kh, kw), (ph, pw) = _pair(layer.kernel), _pair(layer.padding)
            sh, sw = _pair(layer.stride) if layer.stride is not None else (kh, kw)
            if 2 * ph > kh or 2 * pw > kw:
                raise ValueError(f"{path}: padding must be at most half the kernel (PyTorch's rule)")
            out = (c, self._window(h, kh, sh, ph, 1, path, shape), self._window(w, kw, sw, pw, 1, path, shape))
            self.ops.append(Operator(OpKind.POOLING, name, elements=c * out[1] * out[2],
                                     in_elements=c * h * w, flops_per_element=kh * kw))
            return out
        if isinstance(layer, GlobalPoolLayer):
            c, h, w = self._image(shape, path)
            self.ops.append(Operator(OpKind.POOLING, name, elements=c, in_elements=c * h * w,
                                     flops_per_element=h * w))
            return (c, 1, 1)
        if isinstance(layer, FlattenLayer):
            return (_size(shape),)
        if isinstance(layer, LinearLayer):
            if len(shape) != 1:
                raise ValueError(f"{path}: needs flat features, got {_describe(shape)} (valid: put flatten before it)")
            out = layer.out if layer.out is not None else self.spec.num_classes
            self.ops.append(Operator(OpKind.MATMUL, name, m=1, k=shape[0], n=out,
                                     params=shape[0] * out + (out if layer.bias else 0), bias=layer.bias))
            return (out,)
        if isinstance(layer, DropoutLayer):
            if layer.p > 0:
                self.ops.append(Operator(OpKind.ELEMENTWISE, name, elements=_size(shape), flops_per_element=1,
                                         saves_input=False, mask_bytes_per_element=1))
            return shape
        if isinstance(layer, ScaleLayer):
            self.ops.append(Operator(OpKind.ELEMENTWISE, name, elements=_size(shape), flops_per_element=1,
                                     saves_input=False))
            return shape
        if isinstance(layer, ResidualLayer):
            body = self.run(layer.body, shape, name + "/", f"{path}.body")
            side = shape
            if layer.shortcut is not None:
                side = self.run(layer.shortcut, shape, name + "/shortcut/", f"{path}.shortcut")
            if body != side:
                raise ValueError(
                    f"{path}: body gives {_describe(body)} but the shortcut gives {_describe(side)} "
                    f"(valid: equal shapes; add a shortcut conv with the body's channels and stride)"
                )
            self.add(name + "/add", body)
            return body
        if isinstance(layer, StageLayer):
            return self.stage(layer, shape, name, path)
        raise TypeError(f"unknown layer {layer!r}")  # unreachable: the spec's union is closed

    def conv(self, name: str, path: str, shape: Shape, out: int, kernel: tuple[int, int],
             stride: tuple[int, int], padding: tuple[int, int], dilation: tuple[int, int], groups: int,
             bias: bool) -> Shape:
        c, h, w = self._image(shape, path)
        if c % groups or out % groups:
            raise ValueError(f"{path}: groups {groups} must divide the {c} input and {out} output channels")
        oh = self._window(h, kernel[0], stride[0], padding[0], dilation[0], path, shape)
        ow = self._window(w, kernel[1], stride[1], padding[1], dilation[1], path, shape)
        k = c // groups * kernel[0] * kernel[1]
        self.ops.append(Operator(OpKind.CONV2D, name, m=oh * ow, k=k, n=out, in_elements=c * h * w,
                                 params=k * out + (out if bias else 0), param_tensors=2 if bias else 1))
        return (out, oh, ow)

    def batch_norm(self, name: str, shape: Shape) -> Shape:
        self.ops.append(Operator(OpKind.NORM, name, elements=_size(shape), params=2 * shape[0], param_tensors=2,
                                 flops_per_element=BN_FLOPS, saves_input=True, batch_stats=True))
        return shape

    def activation(self, name: str, shape: Shape, kind: str) -> Shape:
        if kind in _OUTPUT_SAVERS:
            self.output_savers.append(len(self.ops))
        if kind == "relu":
            self.relus.add(len(self.ops))
        self.ops.append(Operator(OpKind.ELEMENTWISE, name, elements=_size(shape),
                                 flops_per_element=ACTIVATION_FLOPS[kind], saves_input=True))
        return shape

    def add(self, name: str, shape: Shape) -> None:
        self.ops.append(Operator(OpKind.ELEMENTWISE, name, elements=_size(shape), inputs=2,
                                 flops_per_element=1, saves_input=False))

    def stage(self, layer: StageLayer, shape: Shape, name: str, path: str) -> Shape:
        bottleneck = layer.type == "bottleneck"
        expansion = layer.expansion if layer.expansion is not None else (4 if bottleneck else 1)
        out = layer.width * expansion
        for block in range(layer.blocks):
            stride = layer.stride if block == 0 else 1
            prefix = f"{name}.{block}/"
            x = shape
            if bottleneck:  # torchvision v1.5: the stride sits on the 3x3 conv
                x = self._conv_bn_relu(prefix, "1", path, x, layer.width, 1, 1, 0)
                x = self._conv_bn_relu(prefix, "2", path, x, layer.width, 3, stride, 1)
                x = self._conv_bn(prefix, "3", path, x, out, 1, 1, 0)
            else:
                x = self._conv_bn_relu(prefix, "1", path, x, layer.width, 3, stride, 1)
                x = self._conv_bn(prefix, "2", path, x, out, 3, 1, 1)
            if stride != 1 or shape[0] != out:
                side = self.conv(prefix + "downsample/conv", path, shape, out, (1, 1), (stride, stride),
                                 (0, 0), (1, 1), 1, False)
                self.batch_norm(prefix + "downsample/bn", side)
            self.add(prefix + "add", x)
            shape = self.activation(prefix + "relu", x, "relu")
        return shape

    def _conv_bn(self, prefix: str, index: str, path: str, shape: Shape, out: int, kernel: int,
                 stride: int, padding: int) -> Shape:
        shape = self.conv(f"{prefix}conv{index}", path, shape, out, (kernel, kernel), (stride, stride),
                          (padding, padding), (1, 1), 1, False)
        return self.batch_norm(f"{prefix}bn{index}", shape)

    def _conv_bn_relu(self, prefix: str, index: str, path: str, shape: Shape, out: int, kernel: int,
                      stride: int, padding: int) -> Shape:
        shape = self._conv_bn(prefix, index, path, shape, out, kernel, stride, padding)
        return self.activation(f"{prefix}relu{index}", shape, "relu")

    def finish(self) -> list[Operator]:
        """Settles whether each ReLU-like op saves a tensor (only when the next op does not), and
        marks the ReLUs and residual adds that directly follow a BatchNorm (or such an add)."""
        ops = self.ops
        for index in range(1, len(ops)):
            before, op = ops[index - 1], ops[index]
            fusable = op.kind is OpKind.ELEMENTWISE and (op.name.endswith("add") or index in self.relus)
            if fusable and ((before.kind is OpKind.NORM and before.batch_stats) or before.follows_norm):
                ops[index] = dataclasses.replace(op, follows_norm=True)
        for index in self.output_savers:
            following = ops[index + 1] if index + 1 < len(ops) else None
            if following is not None and following.kind in _SAVES_INPUT and following.saves_input:
                ops[index] = dataclasses.replace(ops[index], saves_input=False, reads_output=True)
        return ops


def _size(shape: Shape) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def cnn_ops(spec: CnnSpec) -> list[Operator]:
    """The operators of one image, in order; raises ValueError (with the layer's key path) on a
    shape that does not work."""
    if spec.layers is None:
        raise ValueError("layers: missing (required)")
    builder = _Builder(spec)
    shape = builder.run(spec.layers, (spec.in_channels, spec.image_size, spec.image_size), "", "layers")
    if shape != (spec.num_classes,):
        raise ValueError(
            f"layers: the network ends with {_describe(shape)}, but num_classes is {spec.num_classes} "
            f"(valid: end with flatten and a linear layer of num_classes outputs)"
        )
    ops = builder.finish()
    ops.append(Operator(OpKind.LOSS, "loss", m=1, n=spec.num_classes))
    return ops


def lower_cnn(spec: CnnSpec) -> Graph:
    """One segment (repeat 1) of per-image operators; `extra` carries the image size."""
    ops = tuple(cnn_ops(spec))
    return Graph(name=spec.name, segments=(Segment("network", ops, 1),), tokens_per_sample=None, hidden=0,
                 extra={"image_size": float(spec.image_size)})
