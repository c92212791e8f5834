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
synchronized only matter while training. (Keras 1 files arrive here
normalized: mode 0 as this layer; modes 1 and 2 are the legacy emitters'.)
"""
from __future__ import annotations

import numpy as np

from ..dtypes import numpy_dtype
from ..errors import ConfigError, UnsupportedError, layer_where, malformed
from ..registry import register
from .common.calls import forced_training


def _where(ctx, layer) -> str:
    """'file: layer 'name' (Class)' for messages."""
    return f"{ctx.model.source}: {layer_where(layer)}" if ctx.model.source else layer_where(layer)

_CLASSES = ("BatchNormalization", "SyncBatchNormalization")


def _uses_batch_stats(layer, call) -> bool:
    """Whether Keras's predict normalizes this call with batch statistics: a
    trainable layer called with training=True (a frozen layer ignores it)."""
    trainable = layer.config.get("trainable", True) is not False
    return trainable and call is not None and (call.kwargs or {}).get("training") is True


def check_batch_norm(layer, opset) -> list:
    problems = []
    axis = layer.config.get("axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        problems.append(malformed(f"axis={axis!r} is not an int or a list of ints; the config is "
                                  f"malformed"))
    if any(_uses_batch_stats(layer, call) for call in layer.calls):
        why = "is called with training=True"
        if layer.config.get("renorm"):
            problems.append(f"{why}, so Keras normalizes with batch statistics corrected by batch "
                            f"renormalization, which this converter does not reproduce; call the "
                            f"layer with training=False (or set renorm=False) and save again")
        if layer.config.get("virtual_batch_size") is not None:
            problems.append(f"{why}, so Keras normalizes each virtual (ghost) batch with its own "
                            f"statistics, which this converter does not reproduce; call the layer "
                            f"with training=False (or drop virtual_batch_size) and save again")
    return problems


def _axes(ctx, layer, t, vbs: bool) -> list:
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
            raise ConfigError(f"{_where(ctx, layer)}: axis={axis!r} is out of range for an input of "
                              f"rank {t.rank}; the config does not match the model")
        a %= rank
        if vbs:
            if a == 0:
                raise ConfigError(f"{_where(ctx, layer)}: with virtual_batch_size, the saved axis "
                                  f"{axis!r} cannot include 0; the config is malformed")
            a -= 1
        out.append(a)
    if len(set(out)) != len(out):
        raise ConfigError(f"{_where(ctx, layer)}: axis={axis!r} repeats an axis; the config is malformed")
    return out


def _params(layer, t, axes, ctx, vbs: bool):
    """gamma, beta, mean, variance as float64 arrays of the full-rank broadcast
    shape in Keras layout (1 on the axes that are not normalized)."""
    dims = [t.shape[a] for a in axes]
    if None in dims:
        raise ConfigError(f"{_where(ctx, layer)}: the normalized axis has an unknown size in the "
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
    mean = ctx.weight(layer, "moving_mean", shape=stored)
    var = ctx.weight(layer, "moving_variance", shape=stored)
    gamma = ctx.weight(layer, "gamma", shape=stored) if scale else None
    beta = ctx.weight(layer, "beta", shape=stored) if center else None

    def f(w, default):
        a = np.full(stored, default, np.float64) if w is None else np.asarray(w, np.float64)
        return a.reshape(full)

    return f(gamma, 1.0), f(beta, 0.0), f(mean, 0.0), f(var, 1.0)


def _onnx_const(ctx, t, keras_full, tag):
    """A Keras-layout full-rank broadcast array as a constant in t's ONNX layout
    (leading ones dropped, numpy broadcasting restores them)."""
    a = np.transpose(keras_full, t.perm) if t.perm else keras_full
    shape = list(a.shape)
    while len(shape) > 1 and shape[0] == 1:
        shape.pop(0)
    a = a.reshape(shape).astype(numpy_dtype(t.dtype))
    if t.perm:
        tag = tag + "_" + "".join(map(str, t.perm))
    return ctx.const(a, tag)


def _weight_names(c: dict) -> list:
    return ((["gamma"] if c.get("scale", True) else []) + (["beta"] if c.get("center", True) else [])
            + ["moving_mean", "moving_variance"])


@register(*_CLASSES, check=check_batch_norm, layout="any", weights=_weight_names)
def batch_normalization(layer, inputs, ctx):
    """BatchNormalization(axis, epsilon, center, scale, virtual_batch_size,
    renorm, trainable) and the call's `training` keyword."""
    t = inputs[0]
    g = ctx.g
    c = layer.config
    vbs = c.get("virtual_batch_size") is not None
    axes = _axes(ctx, layer, t, vbs)
    eps = float(c.get("epsilon", 1e-3))
    gamma, beta, mean, var = _params(layer, t, axes, ctx, vbs)
    # Keras 3 records training=True in the config but predict() overrides it
    if _uses_batch_stats(layer, ctx.call) and forced_training(ctx):
        return [_batch_statistics(layer, t, axes, gamma, beta, eps, ctx)]

    if len(axes) == 1 and t.onnx_axis(axes[0]) == 1 and t.rank >= 2:
        # ONNX BatchNormalization: (N, C, ...) with per-channel parameters.
        dt = numpy_dtype(t.dtype)

        def vec(a, tag):
            return ctx.const(a.reshape(-1).astype(dt), tag)
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
        raise UnsupportedError([f"{layer_where(layer)}: normalizing a masked input with batch "
                                f"statistics (training=True) weighs the statistics by the mask, "
                                f"which this converter does not reproduce; call the layer with "
                                f"training=False"], ctx.model.source)
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
