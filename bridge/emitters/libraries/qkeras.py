"""QKeras layers (QKeras 0.9, saved by tf.keras / tf-keras 2.x .h5).

Every QKeras layer computes what its Keras base class computes, with its
weights passed through quantizers on each call and its activation replaced by
a quantizer. So each is emitted by the built-in emitter of the base class,
handed the quantized weights (evaluated here at conversion with the same
float32 arithmetic, see arrays.py), followed by the activation quantizer as
ONNX nodes:

  QDense, QConv1D, QConv2D, QConv2DTranspose, QDepthwiseConv2D,
  QSeparableConv1D, QSeparableConv2D       -> Dense, Conv..., weights quantized
  QConv2DBatchnorm, QDepthwiseConv2DBatchnorm -> the BatchNormalization folded
      into the kernel and bias with the moving statistics, then quantized
  QBatchNormalization                       -> BatchNormalization of quantized
      gamma, beta, moving mean and variance
  QActivation                               -> the quantizer (or activation)
  QAveragePooling2D, QGlobalAveragePooling2D -> the pooling, times
      pool area times the quantized 1 / pool area, then the activation

Config keys read: kernel_quantizer, bias_quantizer, depthwise_quantizer,
pointwise_quantizer, beta/gamma/mean/variance_quantizer, average_quantizer,
activation, use_bias, epsilon, center, scale, pool_size; the base class's own
keys are read by its emitter. Weight quantizers get QKeras's trainable default
(an unset alpha becomes 'auto_po2'). Quantizers with alpha 'auto' on
activations fit their scale over the batch too, as QKeras does.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConfigError, UnsupportedError, layer_where
from ...registry import register
from ..common.activation_functions import activation_problems, apply_activation
from . import qkeras_quantizers as qq
from .arrays import F32, GraphOps, NumpyOps
from .builtin import builtin_problems, by_position, emit_builtin

# QKeras class -> (Keras base class, {weight: its quantizer's config key})
_WEIGHTED = {
    "QDense": ("Dense", {"kernel": "kernel_quantizer", "bias": "bias_quantizer"}),
    "QConv1D": ("Conv1D", {"kernel": "kernel_quantizer", "bias": "bias_quantizer"}),
    "QConv2D": ("Conv2D", {"kernel": "kernel_quantizer", "bias": "bias_quantizer"}),
    "QConv2DTranspose": ("Conv2DTranspose", {"kernel": "kernel_quantizer",
                                             "bias": "bias_quantizer"}),
    "QDepthwiseConv2D": ("DepthwiseConv2D", {"depthwise_kernel": "depthwise_quantizer",
                                             "bias": "bias_quantizer"}),
    "QSeparableConv1D": ("SeparableConv1D", {"depthwise_kernel": "depthwise_quantizer",
                                             "pointwise_kernel": "pointwise_quantizer",
                                             "bias": "bias_quantizer"}),
    "QSeparableConv2D": ("SeparableConv2D", {"depthwise_kernel": "depthwise_quantizer",
                                             "pointwise_kernel": "pointwise_quantizer",
                                             "bias": "bias_quantizer"}),
}
_FOLDED = {"QConv2DBatchnorm": ("Conv2D", "kernel", "kernel_quantizer"),
           "QDepthwiseConv2DBatchnorm": ("DepthwiseConv2D", "depthwise_kernel",
                                         "depthwise_quantizer")}
# The quantizers QKeras gives its trainable default (_set_trainable_parameter).
_WEIGHT_KEYS = ("kernel_quantizer", "depthwise_quantizer", "pointwise_quantizer",
                "gamma_quantizer", "variance_quantizer")
# QBatchNormalization's constructor defaults, used when a key is absent.
_BN_DEFAULTS = {"beta_quantizer": "quantized_po2(5)",
                "gamma_quantizer": "quantized_relu_po2(6, 2048)",
                "mean_quantizer": "quantized_po2(5)",
                "variance_quantizer": "quantized_relu_po2(6, quadratic_approximation=True)"}
_POOLS = {"QAveragePooling2D": "AveragePooling2D",
          "QGlobalAveragePooling2D": "GlobalAveragePooling2D"}


def _spec(layer, key):
    if layer.class_name == "QBatchNormalization" and key not in layer.config:
        return _BN_DEFAULTS.get(key)
    return layer.config.get(key)


def _read(layer, key):
    """(parsed quantizer under config `key` or None, the problems exporting it)."""
    try:
        parsed = qq.parse(_spec(layer, key))
    except qq.QuantizerSpecError as e:
        return None, [f"{key}: {e}"]
    if key in _WEIGHT_KEYS:
        parsed = qq.for_weights(parsed)
    return parsed, [f"{key}: {p}" for p in qq.problems(parsed)]


def _parsed(layer, key):
    """The parsed quantizer under config `key` (None when unset); the layer's
    check has refused those that cannot be exported."""
    parsed, problems = _read(layer, key)
    if problems:
        raise UnsupportedError([f"{layer_where(layer)}: {p}" for p in problems])
    return parsed


def _activation_problems(spec) -> list:
    try:
        parsed = qq.parse(spec)
    except qq.QuantizerSpecError as e:
        return [f"activation: {e}"]
    if parsed is None or parsed[1] is not None:
        return [f"activation: {p}" for p in qq.problems(parsed)]
    name = parsed[0]
    return [] if name in qq.FUNCTIONS else activation_problems(name)


def _keys(layer) -> list:
    cls = layer.class_name
    if cls in _WEIGHTED:
        return list(_WEIGHTED[cls][1].values())
    if cls in _FOLDED:
        return [_FOLDED[cls][2], "bias_quantizer"]
    if cls == "QBatchNormalization":
        return list(_BN_DEFAULTS)
    if cls in _POOLS:
        return ["average_quantizer"]
    return []


def _base(layer):
    cls = layer.class_name
    for table in (_WEIGHTED, _FOLDED):
        if cls in table:
            return table[cls][0]
    return _POOLS.get(cls, "BatchNormalization" if cls == "QBatchNormalization" else None)


def _check(layer, opset) -> list:
    problems = [p for key in _keys(layer) for p in _read(layer, key)[1]]
    if "activation" in layer.config:
        problems.extend(_activation_problems(layer.config.get("activation")))
    base = _base(layer)
    if base is not None:
        problems.extend(builtin_problems(base, _base_config(layer), opset))
    return problems


def _base_config(layer) -> dict:
    cfg = dict(layer.config)
    cfg["activation"] = "linear"
    if layer.class_name in _FOLDED:
        cfg["use_bias"] = True           # the folded bias is always added
    return cfg


# -- evaluation -------------------------------------------------------------------

def fold(parsed, array: np.ndarray) -> np.ndarray:
    """A weight through a quantizer, at conversion (float32, TensorFlow's arithmetic)."""
    a = np.asarray(array, dtype=F32)
    if parsed is None:
        return a
    if a.ndim == 0:
        return fold(parsed, a.reshape(1)).reshape(())
    return np.asarray(qq.apply(NumpyOps(a.ndim), parsed, a), dtype=F32).reshape(a.shape)


def activate(ctx, t, spec):
    """A QKeras activation (quantizer, QKeras function or Keras activation) on t."""
    parsed = qq.parse(spec)
    if parsed is None or parsed[0] == "linear":
        return t
    problems = qq.problems(parsed)
    if problems:
        raise UnsupportedError([f"{ctx.where()}: activation: {p}" for p in problems],
                               ctx.model.source)
    if parsed[1] is None and parsed[0] not in qq.FUNCTIONS:
        return apply_activation(ctx, t, parsed[0])
    return t.like(qq.apply(GraphOps(ctx.g, t), parsed, t.name))


def _weights(ctx, layer, table: dict) -> dict:
    use_bias = layer.config.get("use_bias", True)
    out = {}
    for short, key in table.items():
        if short == "bias" and not use_bias:
            continue
        out[short] = fold(_parsed(layer, key), ctx.weight(layer, short))
    return out


@register(*_WEIGHTED, layout="any", check=_check)
def quantized_weights_layer(layer, inputs, ctx):
    """QDense / QConv* / QDepthwiseConv2D / QSeparableConv*: the Keras layer on
    quantized weights, then the activation quantizer."""
    base, table = _WEIGHTED[layer.class_name]
    use_bias = layer.config.get("use_bias", True)
    layer = by_position(layer, [k for k in table if k != "bias" or use_bias])
    y = emit_builtin(ctx, layer, base, _base_config(layer), _weights(ctx, layer, table), inputs)[0]
    return [activate(ctx, y, layer.config.get("activation"))]


@register(*_FOLDED, layout="any", check=_check)
def folded_batchnorm(layer, inputs, ctx):
    """QConv2DBatchnorm / QDepthwiseConv2DBatchnorm at inference: with the
    moving statistics, inv = gamma / sqrt(variance + epsilon); kernel * inv and
    inv * (bias - mean) + beta are quantized, then convolved (both folding
    modes agree outside training)."""
    base, kshort, kkey = _FOLDED[layer.class_name]
    c = layer.config
    kernel = ctx.weight(layer, kshort)
    n = kernel.shape[-1] if kshort == "kernel" else kernel.shape[-2] * kernel.shape[-1]
    bias = ctx.weight(layer, "bias", shape=(n,)) if c.get("use_bias", True) else F32(0)
    mean = ctx.weight(layer, "moving_mean", shape=(n,))
    var = ctx.weight(layer, "moving_variance", shape=(n,))
    inv = F32(1) / np.sqrt(var + F32(c.get("epsilon", 1e-3)))
    if c.get("scale", True):
        inv = inv * ctx.weight(layer, "gamma", shape=(n,))
    folded_bias = inv * (bias - mean)
    if c.get("center", True):
        folded_bias = folded_bias + ctx.weight(layer, "beta", shape=(n,))
    if kshort == "depthwise_kernel":
        inv = inv.reshape(kernel.shape[-2:])
    weights = {kshort: fold(_parsed(layer, kkey), inv * kernel),
               "bias": fold(_parsed(layer, "bias_quantizer"), folded_bias)}
    y = emit_builtin(ctx, layer, base, _base_config(layer), weights, inputs)[0]
    return [activate(ctx, y, c.get("activation"))]


@register("QBatchNormalization", layout="any", check=_check)
def quantized_batchnorm(layer, inputs, ctx):
    """QBatchNormalization at inference: BatchNormalization of the quantized
    gamma, beta, moving mean and moving variance."""
    c = layer.config
    wanted = {}
    if c.get("scale", True):
        wanted["gamma"] = "gamma_quantizer"
    if c.get("center", True):
        wanted["beta"] = "beta_quantizer"
    wanted.update(moving_mean="mean_quantizer", moving_variance="variance_quantizer")
    layer = by_position(layer, list(wanted))
    weights = {short: fold(_parsed(layer, key), ctx.weight(layer, short))
               for short, key in wanted.items()}
    return emit_builtin(ctx, layer, "BatchNormalization", _base_config(layer), weights, inputs)


@register("QActivation", layout="any", check=_check)
def quantized_activation(layer, inputs, ctx):
    """QActivation(activation): a quantizer config or string, a QKeras
    function name or a Keras activation."""
    if "activation" not in layer.config:
        raise ConfigError(f"{ctx.model.source}: {layer_where(layer)} has no 'activation' in its "
                          f"config; the config "
                          f"is malformed")
    return [activate(ctx, inputs[0], layer.config["activation"])]


@register(*_POOLS, layout="any", check=_check)
def quantized_pooling(layer, inputs, ctx):
    """QAveragePooling2D / QGlobalAveragePooling2D(average_quantizer,
    activation): the average, times the pool area, times the quantized
    1 / pool area (QKeras's option 2), then the activation."""
    t = inputs[0]
    y = emit_builtin(ctx, layer, _POOLS[layer.class_name], _base_config(layer), {}, inputs)[0]
    parsed = _parsed(layer, "average_quantizer")
    if parsed is not None:
        if layer.class_name == "QGlobalAveragePooling2D":
            first = layer.config.get("data_format") == "channels_first"
            dims = t.shape[2:4] if first else t.shape[1:3]
        else:
            pool = layer.config.get("pool_size", (2, 2))
            dims = (pool, pool) if isinstance(pool, int) else tuple(pool)
        if None in dims:
            raise UnsupportedError([f"{layer_where(layer)}: the average quantizer needs the "
                                    f"pooled area, but the input's spatial size is unknown"],
                                   ctx.model.source)
        area = int(np.prod(dims))
        factor = fold(parsed, np.asarray(1.0 / area, dtype=F32))
        g = ctx.g
        y = y.like(g.op("Mul", g.op("Mul", y.name, g.f32(area)), g.f32(factor)))
    return [activate(ctx, y, layer.config.get("activation"))]
