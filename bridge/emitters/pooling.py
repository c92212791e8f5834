"""Pooling layers: Max/AveragePooling1D/2D/3D and the global poolings.

Windowed pooling computes in channels-first (ONNX MaxPool/AveragePool) and
returns a channels-first tagged tensor, so a conv stack stays transposed
once. Global pooling is a reduction over the spatial axes wherever they sit
in the ONNX value, so it never needs a Transpose.

Keras facts used here (tf-keras 2.21 layers/pooling):
- strides None means strides = pool_size;
- 'same' pads like TensorFlow (the extra one at the end) and the average
  excludes the padding (count_include_pad = 0);
- GlobalAveragePooling1D honours a mask: sum(x * m) / sum(m) over the steps
  (a fully masked row gives 0/0 = NaN in Keras too); no pooling layer passes
  a mask on.
"""
from __future__ import annotations

from dataclasses import replace

from ..context import Tensor, is_identity
from ..errors import ConfigError, malformed
from ..registry import register
from .common import spatial as sp
from .common.spatial import data_format_problems

_WINDOWED = {
    "MaxPooling1D": ("MaxPool", 1), "MaxPooling2D": ("MaxPool", 2), "MaxPooling3D": ("MaxPool", 3),
    "AveragePooling1D": ("AveragePool", 1), "AveragePooling2D": ("AveragePool", 2),
    "AveragePooling3D": ("AveragePool", 3),
}
_GLOBAL = {
    "GlobalMaxPooling1D": ("ReduceMax", 1), "GlobalMaxPooling2D": ("ReduceMax", 2),
    "GlobalMaxPooling3D": ("ReduceMax", 3),
    "GlobalAveragePooling1D": ("ReduceMean", 1), "GlobalAveragePooling2D": ("ReduceMean", 2),
    "GlobalAveragePooling3D": ("ReduceMean", 3),
}


def _window(layer, n):
    """(pool_size, strides, padding) from the config; strides None -> pool_size."""
    c = layer.config
    k = sp.as_tuple(c.get("pool_size", 2), n)
    s = c.get("strides")
    s = k if s is None else sp.as_tuple(s, n)
    return k, s, str(c.get("padding", "valid")).lower()


def check_windowed(layer, opset) -> list:
    problems = data_format_problems(layer)
    n = _WINDOWED[layer.class_name][1]
    try:
        k, s, padding = _window(layer, n)
    except (TypeError, ValueError):
        return problems + [malformed(f"pool_size/strides {layer.config.get('pool_size')!r}/"
                                     f"{layer.config.get('strides')!r} are not {n} integers; the "
                                     f"config is malformed")]
    if len(k) != n or len(s) != n or min(k + s) < 1:
        problems.append(malformed(f"pool_size {k} and strides {s} must be {n} positive integers"))
    if padding not in ("valid", "same"):
        problems.append(malformed(f"padding {padding!r} is not 'valid' or 'same'"))
    return problems


@register(*_WINDOWED, check=check_windowed, layout="channels_first", weights=())
def windowed_pooling(layer, inputs, ctx):
    """MaxPooling / AveragePooling 1D, 2D, 3D: pool_size, strides (None =
    pool_size), padding ('valid', 'same'), data_format."""
    op, n = _WINDOWED[layer.class_name]
    t = inputs[0]
    k, s, padding = _window(layer, n)
    x = t      # channels first: the registration's layout
    sizes = sp.spatial_dims(t, layer)
    attrs = {"kernel_shape": list(k), "strides": list(s)}
    if padding == "same":
        pairs = [sp.same_pads(d, kk, ss) for d, kk, ss in zip(sizes, k, s)]
        if any(p is None for p in pairs):
            attrs["auto_pad"] = "SAME_UPPER"
        else:
            attrs["pads"] = sp.onnx_pads(pairs)
    else:
        attrs["pads"] = [0] * (2 * n)
    for d, kk in zip(sizes, k):
        if padding == "valid" and d is not None and d < kk:
            raise ConfigError(f"{ctx.where()}: pool_size {k} is larger than the input's spatial "
                              f"size {sizes} with padding 'valid'; Keras cannot run this model either")
    if op == "AveragePool":
        attrs["count_include_pad"] = 0
    y = ctx.g.op(op, x.name, ceil_mode=0, **attrs)
    out_sizes = [sp.conv_output_length(d, kk, padding, ss) for d, kk, ss in zip(sizes, k, s)]
    shape = sp.keras_shape(t.shape[0], out_sizes, sp.channels(t, layer), layer)
    return [replace(sp.from_channels_first(y, shape, layer, t), mask=None)]


def reduce_axes(ctx, t: Tensor, op: str, keras_axes, keepdims: bool) -> Tensor:
    """Reduce Keras axes of t where they sit in its ONNX value, keeping its layout."""
    axes = sorted(t.onnx_axis(a) for a in keras_axes)
    y = ctx.g.reduce(op, t.name, axes, keepdims=keepdims)
    return _reduced(t, y, keras_axes, keepdims)


def _reduced(t: Tensor, name: str, keras_axes, keepdims: bool) -> Tensor:
    gone = {a % t.rank for a in keras_axes}
    if keepdims:
        shape = tuple(1 if i in gone else d for i, d in enumerate(t.shape))
        return Tensor(name=name, shape=shape, perm=t.perm, dtype=t.dtype)
    shape = tuple(d for i, d in enumerate(t.shape) if i not in gone)
    perm = None
    if t.perm:
        kept = [p for p in t.perm if p not in gone]        # Keras axes in ONNX order
        rank = {a: i for i, a in enumerate(sorted(kept))}  # renumbered after the removal
        perm = tuple(rank[a] for a in kept)
        perm = None if is_identity(perm) else perm
    return Tensor(name=name, shape=shape, perm=perm, dtype=t.dtype)


@register(*_GLOBAL, check=lambda layer, opset: data_format_problems(layer), layout="any",
          weights=())
def global_pooling(layer, inputs, ctx):
    """GlobalMax/AveragePooling 1D, 2D, 3D: data_format, keepdims (default
    False); GlobalAveragePooling1D also the Keras mask of its input."""
    op, n = _GLOBAL[layer.class_name]
    t = inputs[0]
    keepdims = bool(layer.config.get("keepdims", False))
    axes = list(range(1, n + 1)) if sp.channels_last(layer) else list(range(2, n + 2))
    if t.mask is not None and layer.class_name == "GlobalAveragePooling1D":
        return [_masked_mean(ctx, t, axes[0], keepdims)]
    return [reduce_axes(ctx, t, op, axes, keepdims)]


def _masked_mean(ctx, t: Tensor, steps_axis: int, keepdims: bool) -> Tensor:
    """tf-keras: sum(x * m, steps) / sum(m, steps), m the (batch, steps) mask
    as float broadcast over the features."""
    g = ctx.g
    feat_axis = 3 - steps_axis                      # the other non-batch axis of a 3-D tensor
    m = g.unsqueeze(g.op("Cast", t.mask, to=t.dtype), [feat_axis])   # Keras order: (b, t, 1) or (b, 1, t)
    shape = tuple(1 if i == feat_axis else d for i, d in enumerate(t.shape))
    # then into t's own layout (a recurrent output is time-major inside)
    m = ctx.to_perm(Tensor(name=m, shape=shape, dtype=t.dtype), t.perm).name
    step = t.onnx_axis(steps_axis)
    num = g.reduce("ReduceSum", g.op("Mul", t.name, m), [step], keepdims=keepdims)
    den = g.reduce("ReduceSum", m, [step], keepdims=keepdims)
    return _reduced(t, g.op("Div", num, den), [steps_axis], keepdims)
