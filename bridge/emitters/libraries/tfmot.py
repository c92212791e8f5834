"""The TensorFlow Model Optimization toolkit's wrappers (tfmot 0.8, tf-keras .h5):
quantization-aware training (QuantizeWrapperV2, QuantizeWrapper,
QuantizeLayer, QuantizeAnnotate), pruning (PruneLowMagnitude) and weight
clustering (ClusterWeights).

Each wrapper runs its wrapped layer; the wrapped layer is emitted by its own
built-in emitter with transformed weights:

- QuantizeWrapper(V2): every weight W with stored variables W_min / W_max is
  fake-quantized with them (at conversion); the activation is fake-quantized
  before it (pre_activation_min/max: softmax, sigmoid, tanh, gelu) and/or
  after it (post_activation_min/max: linear, relu, swish); the output with
  output_min/max. Bits and narrow range come from the quantize config class
  (Default8Bit*: weights 8 bits narrow, activations 8 bits wide; DefaultNBit*:
  num_bits_weight / num_bits_activation).
- QuantizeLayer: its quantizer with its stored <name>_min / <name>_max.
- PruneLowMagnitude: each prunable weight times its stored mask.
- ClusterWeights: each clustered weight replaced by its nearest centroid
  (recomputed from the stored weight and centroids, as every call does).

Fake quantization is TensorFlow's FakeQuantWithMinMaxVars(PerChannel) op,
op for op: the range is nudged so that zero is representable, then
floor((clamp(x) - nudged_min) / scale - zero + 0.5) * scale (per channel:
times 1 / scale). Its rounding is half up after a shifted division, not
QuantizeLinear's half-to-even x / scale, so no QuantizeLinear here.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConfigError, UnsupportedError, layer_where
from ...ir import Layer
from ...registry import register
from ..common.activation_functions import activation_problems, apply_activation
from ...walk import emit_inner
from .arrays import F32, GraphOps, NumpyOps
from .builtin import builtin_problems, emit_builtin, wrapped_layer

# quantize config class -> (weight bits, weight narrow range, activation bits, activation narrow range)
_8BIT = (8, True, 8, False)
_CONFIGS = {name: _8BIT for name in (
    "Default8BitQuantizeConfig", "Default8BitConvQuantizeConfig",
    "Default8BitConvTransposeQuantizeConfig", "Default8BitActivationQuantizeConfig",
    "Default8BitOutputQuantizeConfig", "NoOpQuantizeConfig")}
_NBIT = ("DefaultNBitQuantizeConfig", "DefaultNBitConvQuantizeConfig",
         "DefaultNBitConvTransposeQuantizeConfig", "DefaultNBitActivationQuantizeConfig",
         "DefaultNBitOutputQuantizeConfig", "NoOpQuantizeConfig")
_RNN = ("LSTM", "GRU", "SimpleRNN", "RNN")
_QUANTIZER_VARS = ("_min", "_max")
# QuantizeAwareActivation: quantized before / after these activations.
_PRE = ("softmax", "sigmoid", "tanh", "gelu")
_POST = ("linear", "relu", "swish", "gelu")


# -- fake quantization -----------------------------------------------------------

def _std_round(z):
    """C++ std::round (half away from zero) of non-negative float32 values."""
    t = np.trunc(z)
    return np.where(z - t >= F32(0.5), t + F32(1), t).astype(F32)


def nudge(lo, hi, num_bits: int, narrow_range: bool):
    """TensorFlow's Nudge (fake_quant_ops_functor.h) in float32:
    (nudged_min, nudged_max, scale, inv_scale, quant_zero)."""
    lo, hi = np.asarray(lo, F32), np.asarray(hi, F32)
    qmin, qmax = F32(1 if narrow_range else 0), F32((1 << num_bits) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = (hi - lo) / (qmax - qmin)
        inv = (qmax - qmin) / (hi - lo)
        zp_from_min = qmin - lo / scale
    zp = np.where(zp_from_min < qmin, qmin, np.where(zp_from_min > qmax, qmax,
                                                     _std_round(np.nan_to_num(zp_from_min))))
    nmin = ((qmin - zp) * scale).astype(F32)
    nmax = ((qmax - zp) * scale).astype(F32)
    qz = np.floor(-nmin * inv + F32(0.5)).astype(F32)
    zero = (lo == 0) & (hi == 0)        # TensorFlow returns zeros for a [0, 0] range
    return tuple(np.where(zero, F32(0), a).astype(F32) for a in (nmin, nmax, scale, inv, qz))


def fake_quant(o, x, lo, hi, num_bits: int, narrow_range: bool, *, per_channel: bool,
               by_inverse: bool = False):
    """FakeQuantWithMinMaxVars (per tensor: divides by the scale),
    ...PerChannel or ...Args (by_inverse: multiply by 1 / scale)."""
    nmin, nmax, scale, inv, qz = nudge(lo, hi, num_bits, narrow_range)
    if not per_channel and np.all(scale == 0):
        return o.mul(x, 0.0)
    shifted = o.sub(o.maximum(o.minimum(x, nmax), nmin), nmin)
    steps = o.mul(shifted, inv) if (per_channel or by_inverse) else o.div(shifted, scale)
    return o.mul(o.floor(o.add(o.sub(steps, qz), 0.5)), scale)


def _fold(array, lo, hi, bits, narrow):
    a = np.asarray(array, dtype=F32)
    return fake_quant(NumpyOps(a.ndim), a, lo, hi, bits, narrow, per_channel=np.ndim(lo) == 1)


def _graph(ctx, t, lo, hi, bits, narrow, by_inverse=False):
    return t.like(fake_quant(GraphOps(ctx.g, t), t.name, lo, hi, bits, narrow,
                             per_channel=np.ndim(lo) == 1, by_inverse=by_inverse))


# -- QuantizeWrapper ---------------------------------------------------------------

def _by_short(layer) -> dict:
    return {w.short: w.array for w in layer.weights}


def _settings(layer):
    """(weight bits, weight narrow, activation bits, activation narrow, fixed) where fixed
    is None or (min, max, whether the output is quantized) of a FixedQuantizeConfig."""
    spec = layer.config.get("quantize_config") or {}
    cls, cfg = spec.get("class_name"), spec.get("config") or {}
    if cls in ("OutputOnlyConfig",):
        return _settings(Layer(layer.name, layer.class_name, {"quantize_config": cfg.get("quantize_config")}))
    if cls == "FixedQuantizeConfig":
        inner = _settings(Layer(layer.name, layer.class_name, {"quantize_config": cfg.get("config")}))
        wrapped = (cfg.get("config") or {}).get("config") or {}
        fixed = (float(cfg["init_min"]), float(cfg["init_max"]), bool(wrapped.get("quantize_output")))
        return inner[:2] + (int(cfg.get("num_bits", 8)), bool(cfg.get("narrow_range", False)), fixed)
    if cls in _CONFIGS:
        return _CONFIGS[cls] + (None,)
    if cls in _NBIT:
        return (int(cfg.get("num_bits_weight", 8)), True, int(cfg.get("num_bits_activation", 8)),
                False, None)
    raise UnsupportedError([f"quantize config '{cls}' is not one this "
                            f"converter knows ({', '.join(sorted(set(_CONFIGS) | set(_NBIT)))}); "
                            f"a custom QuantizeConfig runs Python code the file does not hold"])


def _activation(inner_cfg):
    """The wrapped layer's real activation under QuantizeAwareActivation."""
    spec = inner_cfg.get("activation")
    if isinstance(spec, dict) and spec.get("class_name") == "QuantizeAwareActivation":
        spec = (spec.get("config") or {}).get("activation")
    if isinstance(spec, dict) and spec.get("class_name") == "NoOpActivation":
        spec = "linear"
    return spec


def _wrapped(layer) -> Layer:
    inner = wrapped_layer(layer)
    inner.weights = [w for w in inner.weights if not (w.short == "optimizer_step"
                                                       or w.short.endswith(_QUANTIZER_VARS))]
    return inner


def _check_wrapper(layer, opset) -> list:
    spec = layer.config.get("layer")
    if not isinstance(spec, dict) or "class_name" not in spec:
        return ["the config has no wrapped 'layer'; the config is malformed"]
    try:
        _settings(layer)
    except UnsupportedError as e:
        return e.problems
    cls, cfg = spec["class_name"], dict(spec.get("config") or {})
    shorts = {w.short for w in layer.weights}
    if cls in _RNN and any("activation" in s for s in shorts):
        return [f"wrapped {cls}: quantized activations inside a recurrent cell are not supported"]
    problems = []
    if "activation" in cfg:
        problems += activation_problems(_activation(cfg))
        cfg["activation"] = "linear"
    return problems + [f"wrapped {cls}: {p}" for p in builtin_problems(cls, cfg, opset)]


@register("QuantizeWrapperV2", "QuantizeWrapper", layout="any", check=_check_wrapper)
def quantize_wrapper(layer, inputs, ctx):
    """QuantizeWrapper(V2)(layer, quantize_config): the wrapped layer on
    fake-quantized weights, with fake-quantized activation and output."""
    w_bits, w_narrow, a_bits, a_narrow, fixed = _settings(layer)
    stored = _by_short(layer)
    inner = _wrapped(layer)
    weights = {}
    for w in inner.weights:
        lo, hi = stored.get(w.short + "_min"), stored.get(w.short + "_max")
        weights[w.short] = w.array if lo is None or hi is None else \
            _fold(w.array, lo, hi, w_bits, w_narrow)
    cfg = dict(inner.config)
    act = _activation(cfg)
    if "activation" in cfg:
        cfg["activation"] = "linear"

    def quant(t, prefix):
        if fixed is not None:
            return _graph(ctx, t, fixed[0], fixed[1], a_bits, a_narrow, by_inverse=True)
        lo, hi = stored.get(prefix + "_min"), stored.get(prefix + "_max")
        return t if lo is None or hi is None else _graph(ctx, t, lo, hi, a_bits, a_narrow)

    outs = emit_builtin(ctx, inner, inner.class_name, cfg, weights, inputs)
    if len(outs) != 1:
        raise ConfigError(f"{ctx.model.source}: {layer_where(layer)} wraps a layer with {len(outs)} outputs; "
                          f"QuantizeWrapper handles one")
    y = outs[0]
    if "activation" in inner.config:
        if "pre_activation_min" in stored or (fixed and act in _PRE):
            y = quant(y, "pre_activation")
        y = apply_activation(ctx, y, act)
        if "post_activation_min" in stored or (fixed and act in _POST):
            y = quant(y, "post_activation")
    if "output_min" in stored or (fixed and fixed[2]):
        y = quant(y, "output")
    return [y]


# -- QuantizeLayer -----------------------------------------------------------------

_RANGE_QUANTIZERS = ("AllValuesQuantizer", "LastValueQuantizer", "MovingAverageQuantizer")


def _check_quantize_layer(layer, opset) -> list:
    q = layer.config.get("quantizer")
    cls = q.get("class_name") if isinstance(q, dict) else q
    if cls is None or cls in _RANGE_QUANTIZERS + ("FixedQuantizer", "NoQuantizer"):
        return []
    return [f"quantizer '{cls}' is not one this converter knows "
            f"({', '.join(_RANGE_QUANTIZERS + ('FixedQuantizer', 'NoQuantizer'))})"]


@register("QuantizeLayer", layout="any", check=_check_quantize_layer)
def quantize_layer(layer, inputs, ctx):
    """QuantizeLayer(quantizer): fake quantization of the input with the
    stored <layer>_min / <layer>_max (FixedQuantizer: its init_min / init_max)."""
    q = layer.config.get("quantizer")
    t = inputs[0]
    if not isinstance(q, dict) or q.get("class_name") == "NoQuantizer":
        return [t]
    cfg = q.get("config") or {}
    bits, narrow = int(cfg.get("num_bits", 8)), bool(cfg.get("narrow_range", False))
    if q["class_name"] == "FixedQuantizer":
        return [_graph(ctx, t, cfg.get("init_min", -6.0), cfg.get("init_max", 6.0), bits, narrow,
                       by_inverse=True)]
    lo = [w.array for w in layer.weights if w.short.endswith("_min")]
    hi = [w.array for w in layer.weights if w.short.endswith("_max")]
    if len(lo) != 1 or len(hi) != 1:
        raise ConfigError(f"{ctx.model.source}: {layer_where(layer)} should store one "
                          f"<name>_min and one <name>_max variable; it stores "
                          f"{[w.short for w in layer.weights]}")
    return [_graph(ctx, t, lo[0], hi[0], bits, narrow)]


@register("QuantizeAnnotate", layout="any", check=lambda layer, opset: _check_plain(layer, opset))
def quantize_annotate(layer, inputs, ctx):
    """QuantizeAnnotate(layer): only a mark for quantize_apply; runs the layer."""
    return emit_inner(ctx, wrapped_layer(layer), list(inputs))


def _check_plain(layer, opset) -> list:
    spec = layer.config.get("layer")
    if not isinstance(spec, dict) or "class_name" not in spec:
        return ["the config has no wrapped 'layer'; the config is malformed"]
    return [f"wrapped {spec['class_name']}: {p}"
            for p in builtin_problems(spec["class_name"], spec.get("config") or {}, opset)]


# -- pruning and clustering ------------------------------------------------------------

_PRUNE_VARS = ("mask", "threshold", "pruning_step")


@register("PruneLowMagnitude", layout="any", check=_check_plain)
def prune_low_magnitude(layer, inputs, ctx):
    """PruneLowMagnitude(layer): each prunable weight times its mask (the
    masks are stored in the order of the prunable weights; each goes with the
    first weight of its shape not yet masked)."""
    inner = wrapped_layer(layer)
    masks = [w.array for w in inner.weights if w.short == "mask"]
    weights = {w.short: w.array for w in inner.weights if w.short not in _PRUNE_VARS}
    masked = set()
    for mask in masks:
        target = next((k for k, v in weights.items()
                       if np.shape(v) == np.shape(mask) and k not in masked), None)
        if target is None:
            raise ConfigError(f"{ctx.model.source}: {layer_where(layer)} stores a mask of shape "
                              f"{np.shape(mask)} that fits none of its weights; the weights "
                              f"do not belong to this model")
        masked.add(target)
        weights[target] = np.asarray(weights[target], F32) * np.asarray(mask, F32)
    return emit_builtin(ctx, inner, inner.class_name, inner.config, weights, inputs)


def _check_cluster(layer, opset) -> list:
    problems = _check_plain(layer, opset)
    if layer.config.get("preserve_sparsity"):
        problems.append("preserve_sparsity=True uses sparsity masks computed when the layer was "
                        "built, which the file does not store")
    return problems


def clustered(weight, centroids) -> np.ndarray:
    """ClusteringAlgorithm(PerChannel): each value replaced by its nearest
    centroid (first on ties, as tf.argmin), times sign(w + 1e6)."""
    w, c = np.asarray(weight, F32), np.asarray(centroids, F32)
    idx = np.argmin(np.abs(w[..., None] - c), axis=-1)
    if c.ndim == 1:
        out = c[idx]
    else:                        # per channel: centroids (channels, k), channels last
        out = c[np.arange(c.shape[0]), idx]
    return (out * np.sign(w + F32(1e6))).astype(F32)


@register("ClusterWeights", layout="any", check=_check_cluster)
def cluster_weights(layer, inputs, ctx):
    """ClusterWeights(layer, number_of_clusters, cluster_per_channel): every
    weight W with stored cluster_centroids_W is replaced by the gathered centroids."""
    inner = wrapped_layer(layer)
    stored = {w.short: w.array for w in inner.weights}
    weights = {}
    for short, v in stored.items():
        if short.startswith(("cluster_centroids_", "pulling_indices_")):
            continue
        c = stored.get("cluster_centroids_" + short)
        weights[short] = v if c is None else clustered(v, c)
    return emit_builtin(ctx, inner, inner.class_name, inner.config, weights, inputs)
