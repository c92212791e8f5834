"""Keras's activation functions by name: what the `activation` option of
Dense, Conv*, the recurrent layers and the Activation layer compute.

Formulas follow the Keras that saved the file: hard_sigmoid is
clip(0.2x + 0.5, 0, 1) in Keras 1/2 and relu6(x + 3) / 6 in Keras 3.
"""
from __future__ import annotations

import numpy as np

from ...context import Tensor

# Keras's own constants (keras/activations.py), not ONNX's float defaults.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def activation_name(spec) -> str:
    """'relu', or a Keras 3 serialized function {'class_name': 'function', 'config': 'relu'}."""
    if spec is None:
        return "linear"
    if isinstance(spec, dict):
        cfg = spec.get("config")
        return cfg if isinstance(cfg, str) else str(spec.get("class_name"))
    return str(spec)


def _softmax(g, x, t):
    return g.op("Softmax", x, axis=t.onnx_axis(-1))


def _log_softmax(g, x, t):
    return g.op("LogSoftmax", x, axis=t.onnx_axis(-1))


def _hard_sigmoid(g, x, t, keras3):
    if keras3:
        return g.op("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5)
    return g.op("HardSigmoid", x, alpha=0.2, beta=0.5)


# name -> f(builder, onnx value, Tensor) -> onnx value
_ACTIVATIONS = {
    "linear": lambda g, x, t: x,
    "relu": lambda g, x, t: g.op("Relu", x),
    "relu6": lambda g, x, t: g.clip(x, 0.0, 6.0),
    "sigmoid": lambda g, x, t: g.op("Sigmoid", x),
    "tanh": lambda g, x, t: g.op("Tanh", x),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "softplus": lambda g, x, t: g.op("Softplus", x),
    "softsign": lambda g, x, t: g.op("Softsign", x),
    "selu": lambda g, x, t: g.op("Selu", x, alpha=_SELU_ALPHA, gamma=_SELU_SCALE),
    "elu": lambda g, x, t: g.op("Elu", x, alpha=1.0),
    "exponential": lambda g, x, t: g.op("Exp", x),
    "swish": lambda g, x, t: g.op("Mul", x, g.op("Sigmoid", x)),
    "silu": lambda g, x, t: g.op("Mul", x, g.op("Sigmoid", x)),
    "hard_swish": lambda g, x, t: g.hard_swish(x),
    "hard_silu": lambda g, x, t: g.hard_swish(x),
    "gelu": lambda g, x, t: g.gelu(x, approximate=False),
    "mish": lambda g, x, t: g.mish(x),
    "leaky_relu": lambda g, x, t: g.op("LeakyRelu", x, alpha=0.2),
    "log_sigmoid": lambda g, x, t: g.op("Neg", g.op("Softplus", g.op("Neg", x))),
    "celu": lambda g, x, t: g.op("Celu", x, alpha=1.0),
    "hard_tanh": lambda g, x, t: g.clip(x, -1.0, 1.0),
    "tanh_shrink": lambda g, x, t: g.op("Sub", x, g.op("Tanh", x)),
    "soft_shrink": lambda g, x, t: g.op("Shrink", x, lambd=0.5, bias=0.5),
    "hard_shrink": lambda g, x, t: g.op("Shrink", x, lambd=0.5, bias=0.0),
    # keras-cv-attention-models registers its own activation functions
    "kecamCommon>hard_swish": lambda g, x, t: g.hard_swish(x),
    "kecamCommon>hard_sigmoid_torch": lambda g, x, t: g.op("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5),
    "kecamCommon>mish": lambda g, x, t: g.mish(x),
    "kecamCommon>phish": lambda g, x, t: g.op("Mul", x, g.op("Tanh", g.gelu(x, approximate=False))),
}
ACTIVATION_NAMES = sorted(set(_ACTIVATIONS) | {"hard_sigmoid"})


def activation_problems(spec) -> list:
    name = activation_name(spec)
    if name in _ACTIVATIONS or name == "hard_sigmoid":
        return []
    return [f"activation '{name}' is not a built-in Keras activation this converter knows "
            f"(known: {', '.join(ACTIVATION_NAMES)}); replace it with a layer and register an "
            f"emitter for it"]


def apply_activation(ctx, t: Tensor, spec) -> Tensor:
    """t -> activation(t), in t's layout."""
    name = activation_name(spec)
    if name == "linear":
        return t
    g = ctx.g
    if name == "hard_sigmoid":
        return t.like(_hard_sigmoid(g, t.name, t, ctx.model.keras_major >= 3))
    return t.like(_ACTIVATIONS[name](g, t.name, t))


def check_activation_option(layer, opset) -> list:
    return activation_problems(layer.config.get("activation"))


def softmax_over(g, x: str, axes, rank: int) -> str:
    """Softmax over several axes as one ONNX Softmax: the axes are moved last
    (if they are not) and merged by a Reshape. Every runtime runs a
    single-axis Softmax right; OpenVINO computes a multi-axis reduction
    pattern over the wrong axes."""
    axes = sorted({a % rank for a in axes})
    if len(axes) == 1:
        return g.op("Softmax", x, axis=axes[0])
    rest = [a for a in range(rank) if a not in axes]
    perm = rest + axes
    moved = perm != list(range(rank))
    xt = g.op("Transpose", x, perm=perm) if moved else x
    flat = g.op("Reshape", xt, g.i64([0] * len(rest) + [-1]))
    y = g.op("Reshape", g.op("Softmax", flat, axis=len(rest)), g.op("Shape", xt))
    return g.op("Transpose", y, perm=[int(i) for i in np.argsort(perm)]) if moved else y
