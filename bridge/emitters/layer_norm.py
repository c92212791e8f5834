"""LayerNormalization, GroupNormalization and UnitNormalization.

LayerNormalization (tf-keras and Keras 3) normalizes over `axis` (an int or
a list, negative allowed) with the biased variance and
x * rsqrt(var + epsilon) * gamma + beta; gamma and beta are stored in the
config's axis order and *reshaped* (not transposed) to the broadcast shape,
exactly as Keras does. From opset 17 the native ONNX LayerNormalization is
used when the normalized axes are the trailing axes of the ONNX value;
otherwise (e.g. the channels of a tensor kept channels-first after a
convolution), and below opset 17, the exact decomposition ReduceMean / Sub /
ReduceMean / Div(Sqrt) runs over the normalized axes in the tensor's own
layout, so no Transpose is ever inserted.
Keras 3's rms_scaling=True (x * rsqrt(var + epsilon) * gamma, no beta) is
decomposed at every opset.

GroupNormalization(groups, axis, epsilon, center, scale): the axis is split
into (groups, channels // groups) and each group normalized over every
other non-batch axis, in the tensor's ONNX layout.

UnitNormalization(axis): tf-keras computes x * rsqrt(max(sum(x^2), 1e-12));
Keras 3 x * min(rsqrt(sum(x^2)), 1e12).
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError, layer_where, malformed
from ..registry import register
from ..safety import check_elements


def _axes(layer, t, key="axis", default=-1) -> list:
    """The Keras axes of the input, non-negative, sorted."""
    axis = layer.config.get(key, default)
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool) or not -t.rank <= a < t.rank:
            raise ConfigError(f"{layer_where(layer)}: {key}={axis!r} is not a valid axis for an "
                              f"input of shape {t.shape}; the config does not match the model")
        out.append(a % t.rank)
    if len(set(out)) != len(out):
        raise ConfigError(f"{layer_where(layer)}: {key}={axis!r} repeats an axis; the config is malformed")
    return sorted(out)


def _axis_problems(layer, key="axis") -> list:
    axis = layer.config.get(key, -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        return [malformed(f"{key}={axis!r} is not an int or a list of ints; the config is malformed")]
    return []


def _onnx_layout(t, keras_full: np.ndarray) -> np.ndarray:
    """A full-rank Keras-layout broadcast array in t's ONNX layout."""
    return np.transpose(keras_full, t.perm) if t.perm else keras_full


def _trailing(axes, rank) -> bool:
    return list(axes) == list(range(rank - len(axes), rank))


def _normalize(g, x, onnx_axes, eps):
    """(x - mean) / sqrt(var + eps) over onnx_axes (biased variance)."""
    mean = g.reduce("ReduceMean", x, onnx_axes, keepdims=True)
    d = g.op("Sub", x, mean)
    var = g.reduce("ReduceMean", g.op("Mul", d, d), onnx_axes, keepdims=True)
    return g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.f32(eps))))


# -- LayerNormalization -------------------------------------------------------
def _check_layer_norm(layer, opset) -> list:
    return _axis_problems(layer)


def _ln_params(layer, t, axes, ctx):
    """gamma, beta (or None) as float32 arrays of the Keras-layout broadcast shape."""
    dims = [t.shape[a] for a in axes]
    if None in dims:
        raise ConfigError(f"{layer_where(layer)}: a normalized axis has an unknown size in the input "
                          f"shape {t.shape}; the config is malformed")
    full = tuple(t.shape[i] if i in axes else 1 for i in range(t.rank))
    c = layer.config
    rms = bool(c.get("rms_scaling", False))
    size = int(np.prod(dims))
    gamma = beta = None
    if c.get("scale", True) is not False or rms:
        gamma = ctx.weight(layer, "gamma")
    if c.get("center", True) is not False and not rms:
        beta = ctx.weight(layer, "beta")
    out = []
    for name, w in (("gamma", gamma), ("beta", beta)):
        if w is not None:
            if w.size != size:
                raise ConfigError(f"{layer_where(layer)}: weight '{name}' has shape {w.shape}, but the "
                                  f"normalized axes have sizes {dims}; the weights do not match")
            w = np.asarray(w, np.float32).reshape(full)   # Keras reshapes, never transposes
        out.append(w)
    return out


def _layer_norm(layer, inputs, ctx, native: bool):
    t = inputs[0]
    g = ctx.g
    c = layer.config
    axes = _axes(layer, t)
    eps = float(c.get("epsilon", 1e-3))
    rms = bool(c.get("rms_scaling", False))
    gamma, beta = _ln_params(layer, t, axes, ctx)

    x = t
    if not rms:
        onnx_axes = sorted(x.onnx_axis(a) for a in axes)
        if _trailing(onnx_axes, t.rank):
            k = len(axes)
            tail = tuple(x.onnx_shape[t.rank - k:])
            scale = None
            if gamma is not None:
                scale = ctx.const(_onnx_layout(x, gamma).reshape(tail), "gamma")
            elif native:   # the ONNX op needs a scale input
                check_elements(tail, "the normalized axes")
                scale = ctx.const(np.ones(tail, np.float32), "ones")
            bias = ctx.const(_onnx_layout(x, beta).reshape(tail), "beta") if beta is not None else None
            y = g.layer_norm(x.name, scale, bias, axis=t.rank - k, rank=t.rank, epsilon=eps)
            return [x.like(y)]

    onnx_axes = sorted(x.onnx_axis(a) for a in axes)
    if rms:
        mean = g.reduce("ReduceMean", x.name, onnx_axes, keepdims=True)
        d = g.op("Sub", x.name, mean)
        var = g.reduce("ReduceMean", g.op("Mul", d, d), onnx_axes, keepdims=True)
        y = g.op("Div", x.name, g.op("Sqrt", g.op("Add", var, g.f32(eps))))
    else:
        y = _normalize(g, x.name, onnx_axes, eps)
    if gamma is not None:
        y = g.op("Mul", y, ctx.const(_onnx_layout(x, gamma), "gamma"))
    if beta is not None:
        y = g.op("Add", y, ctx.const(_onnx_layout(x, beta), "beta"))
    return [x.like(y)]


def _ln_weight_names(c: dict) -> list:
    """gamma (scale=True), then beta (center=True, not Keras 3's rms_scaling)."""
    return (["gamma"] if c.get("scale", True) else []) + (
        ["beta"] if c.get("center", True) and not c.get("rms_scaling") else [])


@register("LayerNormalization", check=_check_layer_norm, layout="any", weights=_ln_weight_names)
def layer_normalization(layer, inputs, ctx):
    """LayerNormalization(axis, epsilon, center, scale; Keras 3: rms_scaling),
    decomposed (opsets 13-16)."""
    return _layer_norm(layer, inputs, ctx, native=False)


@register("LayerNormalization", min_opset=17, check=_check_layer_norm, layout="any",
          weights=_ln_weight_names)
def layer_normalization_17(layer, inputs, ctx):
    """LayerNormalization(axis, epsilon, center, scale; Keras 3: rms_scaling),
    the native ONNX op where the normalized axes are trailing."""
    return _layer_norm(layer, inputs, ctx, native=True)


# -- GroupNormalization ---------------------------------------------------------
def _check_group_norm(layer, opset) -> list:
    problems = []
    axis = layer.config.get("axis", -1)
    if not isinstance(axis, int) or isinstance(axis, bool):
        problems.append(malformed(f"axis={axis!r} is not an int; the config is malformed"))
    groups = layer.config.get("groups", 32)
    if not isinstance(groups, int) or isinstance(groups, bool):
        problems.append(malformed(f"groups={groups!r} is not an int; the config is malformed"))
    return problems


def _grouped_shape(ctx, x, onnx_shape, a, groups):
    """The ONNX shape with axis `a` split into (groups, size // groups): a
    constant where the sizes are known (0 copies the leading axes), else
    computed from Shape(x)."""
    g = ctx.g
    size = onnx_shape[a]
    head = [0] * a
    tail = list(onnx_shape[a + 1:])
    if None not in onnx_shape[1:a] and tail.count(None) <= 1:
        return g.i64(head + [groups, size // groups] + [-1 if d is None else d for d in tail])
    shape = g.op("Shape", x)
    parts = [g.op("Slice", shape, g.i64([0]), g.i64([a])), g.i64([groups, size // groups])]
    if tail:
        parts.append(g.op("Slice", shape, g.i64([a + 1]), g.i64([len(onnx_shape)])))
    return g.op("Concat", *parts, axis=0)


@register("GroupNormalization", check=_check_group_norm, layout="any", weights=_ln_weight_names)
def group_normalization(layer, inputs, ctx):
    """GroupNormalization(groups, axis, epsilon, center, scale)."""
    t = inputs[0]
    g = ctx.g
    c = layer.config
    axis = _axes(layer, t)[0]
    size = t.shape[axis]
    if axis == 0:
        raise ConfigError(f"{layer_where(layer)}: axis 0 is the batch axis; GroupNormalization "
                          f"needs a channel axis")
    groups = int(c.get("groups", 32))
    if groups == -1:
        groups = size
    if size is None or groups <= 0 or size % groups:
        raise ConfigError(f"{layer_where(layer)}: {groups} groups do not divide axis {axis} of the "
                          f"input shape {t.shape}; the config does not match the model")
    eps = float(c.get("epsilon", 1e-3))
    a = t.onnx_axis(axis)
    oshape = t.onnx_shape
    grouped = g.op("Reshape", t.name, _grouped_shape(ctx, t.name, oshape, a, groups))
    red = [i for i in range(1, t.rank + 1) if i != a]
    y = _normalize(g, grouped, red, eps)
    if None in oshape[1:]:
        back = g.op("Shape", t.name)
    else:
        back = g.i64([0] + list(oshape[1:]))
    y = g.op("Reshape", y, back)
    full = tuple(size if i == axis else 1 for i in range(t.rank))
    if c.get("scale", True) is not False:
        gamma = ctx.weight(layer, "gamma", shape=(size,)).reshape(full)
        y = g.op("Mul", y, ctx.const(_onnx_layout(t, gamma), "gamma"))
    if c.get("center", True) is not False:
        beta = ctx.weight(layer, "beta", shape=(size,)).reshape(full)
        y = g.op("Add", y, ctx.const(_onnx_layout(t, beta), "beta"))
    return [t.like(y)]


# -- UnitNormalization ------------------------------------------------------------
@register("UnitNormalization", check=lambda layer, opset: _axis_problems(layer), layout="any",
          weights=())
def unit_normalization(layer, inputs, ctx):
    """UnitNormalization(axis): L2 normalization, epsilon 1e-12 as the Keras
    that saved the file applies it."""
    t = inputs[0]
    g = ctx.g
    axes = sorted(t.onnx_axis(a) for a in _axes(layer, t))
    ss = g.reduce("ReduceSumSquare", t.name, axes, keepdims=True)
    if ctx.model.keras_major >= 3:
        inv = g.op("Min", g.op("Reciprocal", g.op("Sqrt", ss)), g.f32(1e12))
        return [t.like(g.op("Mul", t.name, inv))]
    return [t.like(g.op("Div", t.name, g.op("Sqrt", g.op("Max", ss, g.f32(1e-12)))))]


# -- RMSNormalization (Keras 3) -------------------------------------------------------
@register("RMSNormalization", check=lambda layer, opset: _axis_problems(layer), layout="any",
          weights=lambda c: ["gamma"] if c.get("scale", True) else [])
def rms_normalization(layer, inputs, ctx):
    """RMSNormalization(axis, epsilon): x * rsqrt(mean(x^2) + epsilon) * scale,
    the scale broadcast against the trailing axes as Keras multiplies it."""
    t = inputs[0]
    g = ctx.g
    axes = _axes(layer, t)
    eps = layer.config.get("epsilon")
    eps = 1e-6 if eps is None else float(eps)       # Keras 3's default
    oaxes = sorted(t.onnx_axis(a) for a in axes)
    ms = g.reduce("ReduceMean", g.op("Mul", t.name, t.name), oaxes, keepdims=True)
    y = g.op("Div", t.name, g.op("Sqrt", g.op("Add", ms, g.f32(eps))))
    s = np.asarray(ctx.weight(layer, 0), np.float32)   # its one weight, the scale
    if s.ndim > t.rank:
        raise ConfigError(f"{layer_where(layer)}: scale of shape {s.shape} does not broadcast "
                          f"against the input shape {t.shape}")
    full = s.reshape((1,) * (t.rank - s.ndim) + s.shape)
    return [t.like(g.op("Mul", y, ctx.const(np.ascontiguousarray(_onnx_layout(t, full)), "scale")))]
