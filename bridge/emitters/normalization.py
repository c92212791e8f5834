"""BatchNormalization (and tf-keras's SyncBatchNormalization).

At inference Keras computes, per element and broadcast over the normalized
axes,

    y = x * s + b,   s = gamma / sqrt(moving_variance + epsilon),
                     b = beta - moving_mean * s

(tf.nn.batch_normalization folds exactly this way; the fused kernel used for
4-D/5-D inputs computes the same values; TensorFlow applies no minimum
epsilon at inference). One axis that sits at ONNX axis 1 -- the channels of a
tensor the converter keeps channels-first, or axis=1 of a Keras-layout
tensor -- becomes an ONNX BatchNormalization; any other axis, or several
axes, the exact Mul/Add form above with constants broadcast in the tensor's
ONNX layout, so no Transpose is ever inserted.

Options read from the config: axis (int or list, negative allowed), epsilon,
center (False: no beta stored), scale (False: no gamma stored),
virtual_batch_size (inference reshapes to [-1, 1, ...], i.e. ordinary
normalization; the saved axes are shifted by one and the weights carry the
extra axis), renorm / renorm_clipping / renorm_momentum (training only;
their extra moving_stddev / renorm_* weights are ignored), trainable, and the
call's `training` keyword (training=True on a trainable layer normalizes
with the statistics of the batch itself, as Keras's predict then does).
momentum, the initializers, regularizers and constraints, fused and
synchronized only matter while training. Keras 1 files: mode 0 is the same
layer (weights running_mean / running_std, the latter holding the
variance), mode 2 always uses batch statistics, mode 1 is refused.
"""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..errors import ConfigError, layer_where
from ..registry import register

_CLASSES = ("BatchNormalization", "SyncBatchNormalization")


def _uses_batch_stats(layer, call) -> bool:
    """Whether Keras's predict normalizes this call with batch statistics: a
    trainable layer called with training=True (a frozen layer ignores it),
    or Keras 1 mode 2."""
    if _mode(layer) == 2:
        return True
    trainable = layer.config.get("trainable", True) is not False
    return trainable and call is not None and (call.kwargs or {}).get("training") is True


def _mode(layer) -> int:
    mode = layer.config.get("mode", 0)
    return 0 if mode is None else int(mode)


def check_batch_norm(layer, opset) -> list:
    problems = []
    mode = _mode(layer)
    if mode not in (0, 2):
        problems.append(f"Keras 1 BatchNormalization mode={mode} (sample-wise normalization) is "
                        f"not supported; only mode 0 (feature-wise) and mode 2 (batch statistics) "
                        f"convert: rebuild the layer with mode=0")
    axis = layer.config.get("axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        problems.append(f"axis={axis!r} is not an int or a list of ints; the config is malformed")
    if any(_uses_batch_stats(layer, call) for call in layer.calls):
        why = "is called with training=True" if mode != 2 else "has mode=2"
        if layer.config.get("renorm"):
            problems.append(f"{why}, so Keras normalizes with batch statistics corrected by batch "
                            f"renormalization, which this converter does not reproduce; call the "
                            f"layer with training=False (or set renorm=False) and save again")
        if layer.config.get("virtual_batch_size") is not None:
            problems.append(f"{why}, so Keras normalizes each virtual (ghost) batch with its own "
                            f"statistics, which this converter does not reproduce; call the layer "
                            f"with training=False (or drop virtual_batch_size) and save again")
    return problems


def _axes(layer, t, vbs: bool) -> list:
    """Keras axes of the input, non-negative, in the config's order."""
    axis = layer.config.get("axis", -1)
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    # With virtual_batch_size, build() shifts the axes by one for the virtual
    # batch axis and get_config() saves the shifted ones.
    rank = t.rank + 1 if vbs else t.rank
    out = []
    for a in axes:
        a = int(a)
        if not -rank <= a < rank:
            raise ConfigError(f"{layer_where(layer)}: axis={axis!r} is out of range for an input of "
                              f"rank {t.rank}; the config does not match the model")
        a %= rank
        if vbs:
            if a == 0:
                raise ConfigError(f"{layer_where(layer)}: with virtual_batch_size, the saved axis "
                                  f"{axis!r} cannot include 0; the config is malformed")
            a -= 1
        out.append(a)
    if len(set(out)) != len(out):
        raise ConfigError(f"{layer_where(layer)}: axis={axis!r} repeats an axis; the config is malformed")
    return out


def _find_weight(ctx, layer, names, shape):
    """The first of `names` stored (Keras 2/3), or a Keras 1 '<layer>_<name>'."""
    for n in names:
        w = ctx.weight(layer, n, shape=shape, required=False)
        if w is not None:
            return w
    for n in names:
        for stored in layer.weights:
            if stored.short.endswith("_" + n):
                return ctx.weight(layer, stored.short, shape=shape)
    return ctx.weight(layer, names[0], shape=shape)  # raises with the stored names


def _params(layer, t, axes, ctx, vbs: bool):
    """gamma, beta, mean, variance as float64 arrays of the full-rank broadcast
    shape in Keras layout (1 on the axes that are not normalized)."""
    dims = [t.shape[a] for a in axes]
    if None in dims:
        raise ConfigError(f"{layer_where(layer)}: the normalized axis has an unknown size in the "
                          f"input shape {t.shape}; the config is malformed")
    full = tuple(t.shape[i] if i in axes else 1 for i in range(t.rank))
    if len(axes) == 1 and not vbs:
        stored = (dims[0],)
    else:
        stored = full
        if vbs:
            stored = full[:1] + (1,) + full[1:]
    c = layer.config
    center = c.get("center", True) is not False
    scale = c.get("scale", True) is not False
    mean = _find_weight(ctx, layer, ["moving_mean", "running_mean"], stored)
    var = _find_weight(ctx, layer, ["moving_variance", "running_std"], stored)
    gamma = _find_weight(ctx, layer, ["gamma"], stored) if scale else None
    beta = _find_weight(ctx, layer, ["beta"], stored) if center else None

    def f(w, default):
        a = np.full(stored, default, np.float64) if w is None else np.asarray(w, np.float64)
        return a.reshape(full)

    return f(gamma, 1.0), f(beta, 0.0), f(mean, 0.0), f(var, 1.0)


def _np_dtype(t):
    return helper.tensor_dtype_to_np_dtype(t.dtype)


def _onnx_const(ctx, t, keras_full, tag):
    """A Keras-layout full-rank broadcast array as a constant in t's ONNX layout
    (leading ones dropped, numpy broadcasting restores them)."""
    a = np.transpose(keras_full, t.perm) if t.perm else keras_full
    shape = list(a.shape)
    while len(shape) > 1 and shape[0] == 1:
        shape.pop(0)
    a = a.reshape(shape).astype(_np_dtype(t))
    if t.perm:
        tag = tag + "_" + "".join(map(str, t.perm))
    return ctx.const(a, tag)


@register(*_CLASSES, check=check_batch_norm)
def batch_normalization(layer, inputs, ctx):
    """BatchNormalization(axis, epsilon, center, scale, virtual_batch_size,
    renorm, trainable; Keras 1: mode) and the call's `training` keyword."""
    t = inputs[0]
    g = ctx.g
    c = layer.config
    vbs = c.get("virtual_batch_size") is not None
    axes = _axes(layer, t, vbs)
    eps = float(c.get("epsilon", 1e-3))
    gamma, beta, mean, var = _params(layer, t, axes, ctx, vbs)
    if _uses_batch_stats(layer, ctx.call):
        return [_batch_statistics(layer, t, axes, gamma, beta, eps, ctx)]

    if len(axes) == 1 and t.onnx_axis(axes[0]) == 1 and t.rank >= 2:
        # ONNX BatchNormalization: (N, C, ...) with per-channel parameters.
        dt = _np_dtype(t)
        vec = lambda a, tag: ctx.const(a.reshape(-1).astype(dt), tag)
        y = g.op("BatchNormalization", t.name, vec(gamma, "gamma"), vec(beta, "beta"),
                 vec(mean, "moving_mean"), vec(var, "moving_variance"), epsilon=eps)
        return [t.like(y)]

    # tf.nn.batch_normalization's own folding: x * s + (beta - mean * s).
    s = gamma / np.sqrt(var + eps)
    b = beta - mean * s
    y = g.op("Mul", t.name, _onnx_const(ctx, t, s, "scale"))
    y = g.op("Add", y, _onnx_const(ctx, t, b, "offset"))
    return [t.like(y)]


def _batch_statistics(layer, t, axes, gamma, beta, eps, ctx):
    """Normalization by the mean and (biased) variance of the batch itself
    over every axis but the normalized ones, then gamma and beta."""
    if t.mask is not None:
        raise ConfigError(f"{layer_where(layer)}: normalizing a masked input with batch statistics "
                          f"(training=True or mode=2) weighs the statistics by the mask, which this "
                          f"converter does not reproduce; call the layer with training=False")
    g = ctx.g
    red = sorted(t.onnx_axis(a) for a in range(t.rank) if a not in axes)
    mean = g.reduce("ReduceMean", t.name, red, keepdims=True)
    d = g.op("Sub", t.name, mean)
    var = g.reduce("ReduceMean", g.op("Mul", d, d), red, keepdims=True)
    inv = g.op("Reciprocal", g.op("Sqrt", g.op("Add", var, g.f32(eps))))
    if not np.all(gamma == 1.0):
        inv = g.op("Mul", inv, _onnx_const(ctx, t, gamma, "gamma"))
    y = g.op("Mul", d, inv)
    if not np.all(beta == 0.0):
        y = g.op("Add", y, _onnx_const(ctx, t, beta, "beta"))
    return t.like(y)
