"""The Activation layer and the advanced-activation layers (ReLU,
LeakyReLU, ELU, ThresholdedReLU, Softmax, PReLU). The activation functions
themselves are in common/activation_functions.py.
"""
from __future__ import annotations

import numpy as np

from ..registry import register
from .common.activation_functions import apply_activation, check_activation_option, softmax_over


@register("Activation", check=check_activation_option, layout="any", weights=())
def activation(layer, inputs, ctx):
    """Activation(activation)."""
    return [apply_activation(ctx, inputs[0], layer.config.get("activation"))]


def _param(layer, *keys, default):
    for k in keys:
        if layer.config.get(k) is not None:
            return layer.config[k]
    return default


@register("ReLU", layout="any", weights=())
def relu(layer, inputs, ctx):
    """ReLU(max_value, negative_slope, threshold), Keras's backend.relu formula:
    x for x >= threshold (clipped at max_value), negative_slope * (x - threshold) below."""
    t = inputs[0]
    g = ctx.g
    max_value = layer.config.get("max_value")
    slope = float(_param(layer, "negative_slope", "alpha", default=0.0))
    threshold = float(layer.config.get("threshold", 0.0) or 0.0)
    x = t.name
    if slope != 0.0 and max_value is None and threshold == 0.0:
        return [t.like(g.op("LeakyRelu", x, alpha=slope))]
    if slope == 0.0 and threshold == 0.0:
        # One Clip, not Relu then Clip: ONNX Runtime fuses Conv + Clip (ReLU6 nets).
        return [t.like(g.op("Relu", x) if max_value is None else g.clip(x, 0.0, float(max_value)))]
    if threshold != 0.0:
        pos = g.op("Mul", x, g.op("Cast", g.op("Greater", x, g.f32(threshold)), to=1))
    else:
        pos = g.op("Relu", x)
    if max_value is not None:
        pos = g.clip(pos, None, float(max_value))
    if slope != 0.0:
        neg = g.op("Relu", g.op("Sub", g.f32(threshold), x)) if threshold else g.op("Relu", g.op("Neg", x))
        pos = g.op("Sub", pos, g.op("Mul", neg, g.f32(slope)))
    return [t.like(pos)]


@register("LeakyReLU", layout="any", weights=())
def leaky_relu(layer, inputs, ctx):
    """LeakyReLU(alpha | negative_slope); default 0.3."""
    slope = float(_param(layer, "negative_slope", "alpha", default=0.3))
    return [inputs[0].like(ctx.g.op("LeakyRelu", inputs[0].name, alpha=slope))]


@register("ELU", layout="any", weights=())
def elu(layer, inputs, ctx):
    """ELU(alpha); default 1.0."""
    alpha = float(_param(layer, "alpha", default=1.0))
    return [inputs[0].like(ctx.g.op("Elu", inputs[0].name, alpha=alpha))]


@register("ThresholdedReLU", layout="any", weights=())
def thresholded_relu(layer, inputs, ctx):
    """ThresholdedReLU(theta): x where x > theta, else 0."""
    theta = float(_param(layer, "theta", default=1.0))
    return [inputs[0].like(ctx.g.op("ThresholdedRelu", inputs[0].name, alpha=theta))]


@register("Softmax", layout="any", weights=())
def softmax(layer, inputs, ctx):
    """Softmax(axis): an int or (Keras 3) a list of axes."""
    t = inputs[0]
    axis = layer.config.get("axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return [t.like(softmax_over(ctx.g, t.name, [t.onnx_axis(a) for a in axes], t.rank))]


@register("PReLU", layout="any", weights=("alpha",))
def prelu(layer, inputs, ctx):
    """PReLU(shared_axes); weight alpha has the input shape without batch,
    with 1 on shared axes."""
    t = inputs[0]
    alpha = ctx.weight(layer, "alpha")
    full = alpha.reshape((1,) + alpha.shape)
    if t.perm:
        full = np.transpose(full, t.perm)
    slope = ctx.const(full[0], "alpha")
    return [t.like(ctx.g.op("PRelu", t.name, slope))]
