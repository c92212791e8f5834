"""Core layers: InputLayer, Dense, EinsumDense, the inference-time
identities, and models nested as layers."""
from __future__ import annotations

from ..errors import ConfigError, UnsupportedError, layer_where, malformed
from ..registry import register, with_bias
from ..walk import emit_nested
from .common.activation_functions import apply_activation, check_activation_option
from .common import quantized
from .common.calls import forced_training
from .common.einsum import EQUATION, einsum_with_kernel, parse_equation


@register("InputLayer", layout="any", weights=())
def input_layer(layer, inputs, ctx):
    """An InputLayer is bound to a graph input; a call (Keras 3 may record one)
    passes its tensor through."""
    return list(inputs)


# Layers that are the identity at inference time.
@register("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
          "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", layout="any", weights=())
def inference_identity(layer, inputs, ctx):
    """No config key matters: these only act while training."""
    return list(inputs)


def _check_dense(layer, opset) -> list:
    return check_activation_option(layer, opset) + quantized.check(layer, opset)


@register("Dense", check=_check_dense, layout="keras", weights=with_bias("kernel"))
def dense(layer, inputs, ctx):
    """Dense(units, activation, use_bias) on the last axis of an N-D input;
    Keras 3 quantized ones in common/quantized.py."""
    if layer.quantization is not None:
        return quantized.dense(layer, inputs, ctx)
    t = inputs[0]
    units = int(layer.config["units"])
    n_in = t.shape[-1]
    kernel = ctx.weight(layer, "kernel", shape=(n_in, units) if n_in is not None else None)
    use_bias = layer.config.get("use_bias", True)
    bias = ctx.weight(layer, "bias", shape=(units,)) if use_bias else None
    g = ctx.g
    w = ctx.const(kernel, "kernel")
    if t.rank == 2:
        y = g.op("Gemm", t.name, w, ctx.const(bias, "bias")) if use_bias else g.op("MatMul", t.name, w)
    else:
        y = g.op("MatMul", t.name, w)
        if use_bias:
            y = g.op("Add", y, ctx.const(bias, "bias"))
    out = t.like(y, shape=t.shape[:-1] + (units,))
    return [apply_activation(ctx, out, layer.config.get("activation"))]


def _check_einsum_dense(layer, opset) -> list:
    problems = check_activation_option(layer, opset)
    if not EQUATION.match(str(layer.config.get("equation", "")).replace(" ", "")):
        problems.append(malformed(f"equation {layer.config.get('equation')!r} is not an einsum "
                                  f"equation of the form 'ab,bc->ac'; the config is malformed"))
    return problems + quantized.check(layer, opset)


@register("EinsumDense", check=_check_einsum_dense, layout="any",
          weights=lambda c: ["kernel"] + (["bias"] if c.get("bias_axes") else []))
def einsum_dense(layer, inputs, ctx):
    """EinsumDense(equation, output_shape, bias_axes, activation): tf.einsum
    of the input and the kernel, plus the bias (stored in the shape Keras
    broadcasts), then the activation. output_shape is implied by the kernel.
    Keras 3 quantized ones in common/quantized.py."""
    if layer.quantization is not None:
        return quantized.einsum_dense(layer, inputs, ctx)
    x = inputs[0]
    c = layer.config
    X, W, Y = parse_equation(layer, c["equation"], x.rank)
    kernel = ctx.weight(layer, "kernel")
    if kernel.ndim != len(W):
        raise ConfigError(f"{layer_where(layer)}: the kernel has shape {kernel.shape} but the "
                          f"equation {c['equation']!r} names {len(W)} kernel axes")
    bias = ctx.weight(layer, "bias") if c.get("bias_axes") else None
    out = einsum_with_kernel(ctx, x, X, W, Y, kernel, bias)
    return [apply_activation(ctx, out, c.get("activation"))]


# Layers whose predict() output depends on the training flag.
_TRAINING_DEPENDENT = ("BatchNormalization", "SyncBatchNormalization", "Dropout", "SpatialDropout1D",
                       "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
                       "AlphaDropout")


def _nested_model(layer, inputs, ctx):
    """A Sequential or functional model used as a layer: its graph is emitted
    in place for each call, its weights shared between calls."""
    if forced_training(ctx):
        # tf.keras hands training=True down to every inner layer; refuse
        # rather than compute the inference behaviour silently.
        affected = sorted({lyr.name for lyr in layer.inner.walk()
                           if lyr.class_name in _TRAINING_DEPENDENT or lyr.class_name.startswith("Random")})
        if affected:
            raise UnsupportedError([f"{ctx.where()}: is called with training=True, which tf.keras "
                                    f"passes down to {', '.join(affected[:5])}; their training-mode "
                                    f"output is not exported: call the nested model with "
                                    f"training=False (or leave training unset) and save again"],
                                   ctx.model.source)
    return emit_nested(ctx, layer, inputs)


register("Sequential", "Model", "Functional", layout="any")(_nested_model)
