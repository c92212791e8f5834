"""Keras 1 layers with no Keras 2 class. bridge.normalize.keras1 gives them
these class names and Keras 2 style weight names; the formulas are Keras
1.2.2's (keras/layers/core.py, advanced_activations.py, normalization.py,
engine/topology.py Merge).
"""
from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError, layer_where
from ..registry import register, with_bias
from .common.activation_functions import apply_activation, check_activation_option

_K1_EPSILON = 1e-7     # keras.backend.epsilon() in Keras 1


@register("Highway", check=check_activation_option, layout="keras",
          weights=lambda c: ["kernel", "carry_kernel"] + ([] if c.get("use_bias", True) is False
                                                        else ["bias", "carry_bias"]))
def highway(layer, inputs, ctx):
    """Highway(activation, use_bias): T = sigmoid(x Wc + bc);
    y = activation(x W + b) * T + x * (1 - T). Weights kernel, carry_kernel,
    bias, carry_bias."""
    t = inputs[0]
    g = ctx.g
    d = t.shape[-1]
    shape = (d, d) if d is not None else None
    use_bias = layer.config.get("use_bias", True)
    w = ctx.const(ctx.weight(layer, "kernel", shape=shape), "kernel")
    wc = ctx.const(ctx.weight(layer, "carry_kernel", shape=shape), "carry_kernel")
    y = g.op("MatMul", t.name, w)
    gate = g.op("MatMul", t.name, wc)
    if use_bias:
        y = g.op("Add", y, ctx.const(ctx.weight(layer, "bias", shape=(d,) if d else None), "bias"))
        gate = g.op("Add", gate, ctx.const(ctx.weight(layer, "carry_bias", shape=(d,) if d else None),
                                           "carry_bias"))
    gate = g.op("Sigmoid", gate)
    act = apply_activation(ctx, t.like(y), layer.config.get("activation"))
    # act * T + x * (1 - T) = x + T * (act - x)
    out = g.op("Add", t.name, g.op("Mul", gate, g.op("Sub", act.name, t.name)))
    return [t.like(out)]


@register("MaxoutDense", layout="keras", weights=with_bias("kernel"))
def maxout_dense(layer, inputs, ctx):
    """MaxoutDense(units, nb_feature, use_bias): max over nb_feature of
    x W[f] + b[f]; kernel (nb_feature, input_dim, units), bias (nb_feature, units)."""
    t = inputs[0]
    g = ctx.g
    units, nf = int(layer.config["units"]), int(layer.config["nb_feature"])
    d = t.shape[-1]
    kernel = ctx.weight(layer, "kernel", shape=(nf, d, units) if d is not None else None)
    w = np.ascontiguousarray(np.transpose(kernel, (1, 0, 2)).reshape(kernel.shape[1], nf * units))
    y = g.op("MatMul", t.name, ctx.const(w, "kernel"))
    if layer.config.get("use_bias", True):
        b = ctx.weight(layer, "bias", shape=(nf, units))
        y = g.op("Add", y, ctx.const(b.reshape(-1), "bias"))
    y = g.op("Reshape", y, g.i64([0, nf, units]))
    y = g.reduce("ReduceMax", y, [1], keepdims=False)
    return [t.like(y, shape=t.shape[:-1] + (units,))]


@register("ParametricSoftplus", layout="keras", weights=("alpha", "beta"))
def parametric_softplus(layer, inputs, ctx):
    """ParametricSoftplus: alpha * softplus(beta * x), alpha and beta of the
    input's shape (without batch)."""
    t = inputs[0]
    g = ctx.g
    shape = tuple(t.shape[1:]) if None not in t.shape[1:] else None
    a = ctx.const(ctx.weight(layer, "alpha", shape=shape), "alpha")
    b = ctx.const(ctx.weight(layer, "beta", shape=shape), "beta")
    y = g.op("Mul", a, g.op("Softplus", g.op("Mul", t.name, b)))
    return [t.like(y)]


@register("SReLU", layout="keras", weights=("t_left", "a_left", "t_right", "a_right"))
def srelu(layer, inputs, ctx):
    """SReLU (Keras 1): with t_right_actual = t_left + |t_right|,
    y = t_left + relu(x - t_left, a_left, max=|t_right|) + a_right * relu(x - t_right_actual).
    K.relu(u, alpha, max_value) is backend-specific in Keras 1: TensorFlow
    min(relu(u), m) - alpha * relu(-u); Theano min(relu(u, alpha), m)."""
    t = inputs[0]
    g = ctx.g
    shape = tuple(t.shape[1:]) if None not in t.shape[1:] else None
    tl = ctx.weight(layer, "t_left", shape=shape)
    al = ctx.weight(layer, "a_left", shape=shape)
    tr = ctx.weight(layer, "t_right", shape=shape)
    ar = ctx.weight(layer, "a_right", shape=shape)
    span = np.abs(tr)
    tl_c = ctx.const(tl, "t_left")
    u = g.op("Sub", t.name, tl_c)
    pos = g.op("Relu", u)
    neg = g.op("Mul", ctx.const(al, "a_left"), g.op("Neg", g.op("Relu", g.op("Neg", u))))  # a * min(u, 0)
    m = ctx.const(span, "t_span")
    if ctx.model.backend == "theano":
        mid = g.op("Min", g.op("Add", pos, neg), m)
    else:
        mid = g.op("Add", g.op("Min", pos, m), neg)
    right = g.op("Mul", g.op("Relu", g.op("Sub", t.name, ctx.const(tl + span, "t_right_actual"))),
                 ctx.const(ar, "a_right"))
    y = g.op("Add", g.op("Add", tl_c, mid), right)
    return [t.like(y)]


@register("Keras1BatchNormalization", layout="keras")
def keras1_batch_norm(layer, inputs, ctx):
    """Keras 1 BatchNormalization modes 1 and 2 (mode 0 becomes the Keras 2
    layer). mode 1, sample-wise: (x - mean) / (sqrt(var + eps) + eps) over
    the last axis; mode 2, feature-wise with the statistics of the batch
    being computed (at inference too): (x - mean) / sqrt(var + eps) over
    every axis but `axis`. Then * gamma + beta."""
    t = inputs[0]
    g = ctx.g
    c = layer.config
    mode, eps = int(c["mode"]), float(c.get("epsilon", 1e-3))
    rank = t.rank
    axis = int(c.get("axis", -1)) % rank
    n = t.shape[axis]
    gamma = ctx.weight(layer, "gamma", shape=(n,) if n is not None else None)
    beta = ctx.weight(layer, "beta", shape=(n,) if n is not None else None)
    if mode == 1:
        axes = [rank - 1]
        bshape = gamma.shape
    else:
        axes = [a for a in range(rank) if a != axis]
        bshape = [1] * rank
        bshape[axis] = gamma.shape[0]
    mean = g.reduce("ReduceMean", t.name, axes, keepdims=True)
    dev = g.op("Sub", t.name, mean)
    var = g.reduce("ReduceMean", g.op("Mul", dev, dev), axes, keepdims=True)
    std = g.op("Sqrt", g.op("Add", var, g.f32(eps)))
    if mode == 1:
        std = g.op("Add", std, g.f32(eps))
    y = g.op("Div", dev, std)
    y = g.op("Mul", y, ctx.const(gamma.reshape(bshape), "gamma"))
    y = g.op("Add", y, ctx.const(beta.reshape(bshape), "beta"))
    return [t.like(y)]


def _check_merge(layer, opset):
    mode = layer.config.get("mode")
    if layer.config.get("mode_type") not in (None, "raw") or not isinstance(mode, str):
        return [f"a Keras 1 Merge with a Python function as its mode ({layer.config.get('mode_type')}) "
                f"cannot be converted; rebuild it with a built-in mode or a merge layer"]
    if mode != "cos":
        return [f"Merge mode {mode!r} is not known"]
    return []


@register("Merge", check=_check_merge, layout="keras", weights=())
def merge_cos(layer, inputs, ctx):
    """Keras 1 Merge(mode='cos') of two (batch, n) tensors:
    <a, b> / max(sqrt(<a, a> <b, b>), epsilon), shape (batch, 1, 1) as Keras 1
    computed it (batch_dot, then expand_dims)."""
    if len(inputs) != 2 or any(x.rank != 2 for x in inputs):
        raise UnsupportedError([f"{layer_where(layer)}: Merge mode 'cos' is supported for two 2-D "
                                f"inputs; got ranks {[x.rank for x in inputs]}"])
    a, b = inputs
    g = ctx.g

    def dot(x, y):
        return g.reduce("ReduceSum", g.op("Mul", x, y), [1], keepdims=True)

    ab = dot(a.name, b.name)
    den = g.op("Max", g.op("Sqrt", g.op("Mul", dot(a.name, a.name), dot(b.name, b.name))),
               g.f32(_K1_EPSILON))
    y = g.unsqueeze(g.op("Div", ab, den), [1])
    return [a.like(y, shape=(a.shape[0], 1, 1))]


def _check_theano_pool(layer, opset):
    c = layer.config
    n = len(c.get("pool_size") or [])
    if c.get("mode") not in ("max", "avg") or n not in (1, 2, 3):
        return [f"Theano pooling with mode {c.get('mode')!r} over {n} axes is not known"]
    return []


@register("TheanoSamePooling", check=_check_theano_pool, layout="channels_first", weights=())
def theano_same_pooling(layer, inputs, ctx):
    """Max/AveragePooling1D-3D with padding 'same' saved under Theano
    (bridge.normalize gives them this class). Theano's pool_2d pads
    `pads_before` on each side (Keras: pool - 2 for an odd pool over 2, else
    pool - 1; 3-D: pool - 2 when odd) with padding that never wins a max and
    is left out of an average, and Keras kept the first ceil(size / stride)
    outputs. Config: mode ('max' / 'avg'), pool_size, strides, pads_before,
    data_format."""
    from .common import spatial as sp
    c = layer.config
    n = len(c["pool_size"])
    k = sp.as_tuple(c["pool_size"], n)
    s = sp.as_tuple(c.get("strides") or c["pool_size"], n)
    before = sp.as_tuple(c["pads_before"], n)
    t = inputs[0]
    sizes = sp.spatial_dims(t, layer)
    if any(v is None for v in sizes):
        raise UnsupportedError([f"{layer_where(layer)}: Theano 'same' pooling needs static spatial "
                                f"sizes; the input has {sizes}"])
    outs = [-(-size // ss) for size, ss in zip(sizes, s)]
    after = [max((o - 1) * ss + kk - size - b, 0) for o, ss, kk, size, b in zip(outs, s, k, sizes, before)]
    x = t      # channels first: the registration's layout
    g = ctx.g
    pads = list(before) + list(after)
    if c["mode"] == "max":
        y = g.op("MaxPool", x.name, kernel_shape=list(k), strides=list(s), pads=pads)
    else:
        y = g.op("AveragePool", x.name, kernel_shape=list(k), strides=list(s), pads=pads,
                 count_include_pad=0)
    got = [(size + b + a - kk) // ss + 1 for size, b, a, kk, ss in zip(sizes, before, after, k, s)]
    if got != outs:
        axes = list(range(2, 2 + n))
        y = g.op("Slice", y, g.i64([0] * n), g.i64(outs), g.i64(axes))
    shape = sp.keras_shape(t.shape[0], outs, sp.channels(t, layer), layer)
    return [sp.from_channels_first(y, shape, layer, t)]
