"""Helpers shared by the spatial families (conv, pooling, padding, ...):
data_format handling and Keras's padding arithmetic.

Spatial ops compute in ONNX's channels-first layout. A channels_last Keras
tensor is handed over transposed once (the context caches the Transpose) and
the result stays channels-first, tagged with its permutation, until a layer
that needs Keras's own order asks for it.
"""
from __future__ import annotations

from typing import Optional

from ...context import Tensor, channels_first_perm
from ...errors import malformed


def channels_last(layer) -> bool:
    """Keras 2 `data_format` (Keras 1 files are normalized to it by the readers)."""
    return layer.config.get("data_format", "channels_last") != "channels_first"


def to_channels_first(ctx, t: Tensor, layer) -> Tensor:
    """t as an NC... ONNX value."""
    return ctx.channels_first(t) if channels_last(layer) else ctx.keras(t)


def from_channels_first(name: str, keras_shape: tuple, layer, like: Tensor) -> Tensor:
    """Wrap an NC... ONNX result whose Keras shape is keras_shape."""
    perm = channels_first_perm(len(keras_shape)) if channels_last(layer) else None
    return Tensor(name=name, shape=tuple(keras_shape), perm=perm, dtype=like.dtype, mask=like.mask)


def data_format_problems(layer) -> list:
    fmt = layer.config.get("data_format", "channels_last")
    if fmt not in (None, "channels_last", "channels_first"):
        return [malformed(f"data_format {fmt!r} is not 'channels_last' or 'channels_first'; the "
                          f"config is malformed")]
    return []


def spatial_dims(t: Tensor, layer) -> tuple:
    """The Keras spatial sizes (None where unknown)."""
    return tuple(t.shape[1:-1]) if channels_last(layer) else tuple(t.shape[2:])


def channels(t: Tensor, layer) -> Optional[int]:
    return t.shape[-1] if channels_last(layer) else t.shape[1]


def keras_shape(batch, spatial, chans, layer) -> tuple:
    return (batch,) + tuple(spatial) + (chans,) if channels_last(layer) else (batch, chans) + tuple(spatial)


def dilated(kernel: int, dilation: int) -> int:
    return (kernel - 1) * dilation + 1


def conv_output_length(size, kernel, padding, stride, dilation=1):
    """keras conv_utils.conv_output_length."""
    if size is None:
        return None
    k = dilated(kernel, dilation)
    if padding in ("same", "causal"):
        out = size
    elif padding == "valid":
        out = size - k + 1
    elif padding == "full":
        out = size + k - 1
    else:
        raise ValueError(padding)
    return (out + stride - 1) // stride


def same_pads(size, kernel, stride, dilation=1):
    """(begin, end) of TensorFlow's SAME padding: the extra one at the end.
    None when the size is unknown (then use auto_pad SAME_UPPER)."""
    if size is None:
        return None
    k = dilated(kernel, dilation)
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def onnx_pads(pairs) -> list:
    """[(b0, e0), (b1, e1)] -> ONNX [b0, b1, e0, e1]."""
    return [b for b, _ in pairs] + [e for _, e in pairs]


def as_tuple(v, n: int) -> tuple:
    """Keras accepts an int or an n-tuple for kernel_size, strides, ..."""
    if isinstance(v, (list, tuple)):
        return tuple(int(x) for x in v)
    return (int(v),) * n
