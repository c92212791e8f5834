"""Larq layers (Larq 0.13 / 0.14, tf-keras .h5).

A Larq layer is its Keras base layer with an input quantizer applied to its
input and a kernel quantizer to its kernel on each call (the kernel
constraint only acts in training). Emitted by the base layer's built-in
emitter on the quantized kernel, after the input quantizer as ONNX nodes:

  QuantDense, QuantConv1D/2D/3D, QuantConv2DTranspose/3DTranspose,
  QuantDepthwiseConv2D, QuantSeparableConv1D/2D, QuantLocallyConnected1D/2D

pad_values: with padding 'same' and a non-zero pad_values, Larq pads the
(quantized) input with that value, TensorFlow's 'same' amounts, then
convolves 'valid'; so does the export.

Quantizers (larq/quantizers.py, larq/math.py), at inference:
  ste_sign, approx_sign, swish_sign   sign(sign(x) + 0.1): -1 below 0, else +1
  ste_heaviside                       sign(relu(x)): 1 above 0, else 0
  magnitude_aware_sign                mean(|x|) over all axes but the last, times that sign
  ste_tern                            sign(sign(x + t) + sign(x - t)); t = threshold_value, or
                                      0.7 * mean(|x|) over the whole tensor (ternary_weight_networks)
  dorefa_quantizer (DoReFa)           round(clip(x, 0, 1) * n) / n, n = 2**k_bit - 1;
                                      mode 'weights': of tanh(x) / (2 max|tanh x|) + 0.5, then 2q - 1
  NoOp                                x
Config keys read: input_quantizer, kernel_quantizer, depthwise_quantizer,
pointwise_quantizer, pad_values, padding, kernel_size, strides,
dilation_rate, data_format; the rest by the base layer's emitter.
"""
from __future__ import annotations

import numpy as np

from ...errors import UnsupportedError, layer_where
from ...registry import register
from .arrays import F32, GraphOps, NumpyOps
from .builtin import builtin_problems, by_position, emit_builtin

_ALIASES = {"ste_sign": "SteSign", "approx_sign": "ApproxSign", "swish_sign": "SwishSign",
            "magnitude_aware_sign": "MagnitudeAwareSign", "ste_tern": "SteTern",
            "ste_heaviside": "SteHeaviside", "dorefa_quantizer": "DoReFa",
            "DoReFaQuantizer": "DoReFa", "NoOpQuantizer": "NoOp"}
_KNOWN = ("SteSign", "ApproxSign", "SwishSign", "MagnitudeAwareSign", "SteTern", "SteHeaviside",
          "DoReFa", "NoOp")

# Larq class -> (Keras base class, {weight: its quantizer's config key}, pads with pad_values)
_KERNEL = {"kernel": "kernel_quantizer"}
_LAYERS = {
    "QuantDense": ("Dense", _KERNEL, False),
    "QuantConv1D": ("Conv1D", _KERNEL, True),
    "QuantConv2D": ("Conv2D", _KERNEL, True),
    "QuantConv3D": ("Conv3D", _KERNEL, True),
    "QuantConv2DTranspose": ("Conv2DTranspose", _KERNEL, False),
    "QuantConv3DTranspose": ("Conv3DTranspose", _KERNEL, False),
    "QuantLocallyConnected1D": ("LocallyConnected1D", _KERNEL, False),
    "QuantLocallyConnected2D": ("LocallyConnected2D", _KERNEL, False),
    "QuantDepthwiseConv2D": ("DepthwiseConv2D", {"depthwise_kernel": "depthwise_quantizer"}, True),
    "QuantSeparableConv1D": ("SeparableConv1D", {"depthwise_kernel": "depthwise_quantizer",
                                                 "pointwise_kernel": "pointwise_quantizer"}, True),
    "QuantSeparableConv2D": ("SeparableConv2D", {"depthwise_kernel": "depthwise_quantizer",
                                                 "pointwise_kernel": "pointwise_quantizer"}, True),
}


def parse(spec):
    """(class name, config) of a Larq quantizer config or name; None for none."""
    if spec is None:
        return None
    if isinstance(spec, str):
        name, cfg = spec, {}
    elif isinstance(spec, dict):
        name, cfg = spec.get("class_name"), spec.get("config") or {}
    else:
        raise ValueError(f"quantizer {spec!r} is neither a config nor a name")
    name = _ALIASES.get(name, name)
    if name not in _KNOWN:
        raise ValueError(f"quantizer '{name}' is not a Larq quantizer this converter knows "
                         f"(known: {', '.join(_KNOWN)})")
    if name == "DoReFa" and cfg.get("mode", "activations") not in ("activations", "weights"):
        raise ValueError(f"DoReFa mode '{cfg.get('mode')}' is not 'activations' or 'weights'")
    return name, cfg


def _sign(o, x):
    return o.sign(o.add(o.sign(x), 0.1))


def _all_axes(o):
    return list(range(o.rank))


def apply(o, parsed, x):
    """The quantizer on x (a numpy array or an ONNX value, per `o`)."""
    if parsed is None:
        return x
    name, cfg = parsed
    if name in ("SteSign", "ApproxSign", "SwishSign"):
        return _sign(o, x)
    if name == "SteHeaviside":
        return o.sign(o.relu(x))
    if name == "MagnitudeAwareSign":
        # reduce_mean without keepdims broadcasts on the last axis; keepdims
        # gives the same numbers in any layout
        return o.mul(o.reduce_mean(o.abs(x), list(range(o.rank - 1))), _sign(o, x))
    if name == "SteTern":
        if cfg.get("ternary_weight_networks"):
            t = o.div(o.mul(0.7, o.reduce_sum(o.abs(x), _all_axes(o))), o.size(x))
        else:
            t = float(cfg.get("threshold_value", 0.05))
        return o.sign(o.add(o.sign(o.add(x, t)), o.sign(o.sub(x, t))))
    if name == "DoReFa":
        n = float(2 ** int(cfg.get("k_bit", 2)) - 1)
        if cfg.get("mode", "activations") == "weights":
            limited = o.tanh(x)
            dividend = o.mul(2.0, o.reduce_max(o.abs(limited), _all_axes(o)))
            x = o.add(o.where(o.le(dividend, 0.0), 0.0, o.div(limited, dividend)), 0.5)
            return o.sub(o.mul(2.0, o.div(o.round(o.mul(x, n)), n)), 1.0)
        return o.div(o.round(o.mul(o.clip(x, 0.0, 1.0), n)), n)
    return x                                  # NoOp: only tags the precision


def _read(layer, key):
    """(parsed quantizer under config `key` or None, the problems exporting it)."""
    try:
        return parse(layer.config.get(key)), []
    except ValueError as e:
        return None, [f"{key}: {e}"]


def _parsed(layer, key):
    parsed, problems = _read(layer, key)
    if problems:
        raise UnsupportedError([f"{layer_where(layer)}: {p}" for p in problems])
    return parsed


def _padded(layer) -> bool:
    c = layer.config
    pad = c.get("pad_values", 0.0)
    return _LAYERS[layer.class_name][2] and str(c.get("padding", "valid")).lower() == "same" \
        and float(pad or 0.0) != 0.0


def _base_config(layer) -> dict:
    cfg = dict(layer.config)
    if _padded(layer):
        cfg["padding"] = "valid"
    return cfg


def _check(layer, opset) -> list:
    base, table, _ = _LAYERS[layer.class_name]
    problems = [p for key in ("input_quantizer",) + tuple(table.values())
                for p in _read(layer, key)[1]]
    return problems + builtin_problems(base, _base_config(layer), opset)


def _pad(ctx, layer, t):
    """Pad t's spatial axes with pad_values by TensorFlow's 'same' amounts
    (larq layers_base._compute_padding), in t's own layout."""
    c = layer.config
    first = c.get("data_format") == "channels_first"
    spatial = list(range(2, t.rank)) if first else list(range(1, t.rank - 1))
    n = len(spatial)

    def tup(v):
        return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n
    kernel, strides, dilation = tup(c["kernel_size"]), tup(c.get("strides", 1)), \
        tup(c.get("dilation_rate", 1))
    pads = [0] * (2 * t.rank)
    shape = list(t.shape)
    for a, k, s, d in zip(spatial, kernel, strides, dilation):
        size = t.shape[a]
        if size is None:
            raise UnsupportedError([f"{layer_where(layer)}: pad_values needs the input's spatial "
                                    f"size, which is unknown"], ctx.model.source)
        eff = (k - 1) * d + 1
        out = (size + s - 1) // s
        total = max((out - 1) * s + eff, size) - size
        ax = t.onnx_axis(a)
        pads[ax], pads[ax + t.rank] = total // 2, total - total // 2
        shape[a] = size + total
    y = ctx.g.pad(t.name, pads, value=float(c.get("pad_values")))
    return t.like(y, shape=tuple(shape))


@register(*_LAYERS, layout="any", check=_check)
def larq_layer(layer, inputs, ctx):
    """A Larq Quant* layer: input quantizer, pad_values padding, then the Keras
    base layer on the quantized kernel(s)."""
    base, table, _ = _LAYERS[layer.class_name]
    layer = by_position(layer, list(table) + (["bias"] if layer.config.get("use_bias", True) else []))
    t = inputs[0]
    q_in = _parsed(layer, "input_quantizer")
    if q_in is not None:
        t = t.like(apply(GraphOps(ctx.g, t), q_in, t.name))
    if _padded(layer):
        t = _pad(ctx, layer, t)
    weights = {}
    for short in ("kernel", "depthwise_kernel", "pointwise_kernel", "bias"):
        w = layer.weight(short)
        if w is None:
            continue
        w = np.asarray(ctx.weight(layer, short), dtype=F32)
        key = table.get(short)
        if key is not None:
            w = np.asarray(apply(NumpyOps(w.ndim), _parsed(layer, key), w), dtype=F32).reshape(w.shape)
        weights[short] = w
    return emit_builtin(ctx, layer, base, _base_config(layer), weights, [t] + list(inputs[1:]))
