"""Core layers: InputLayer, Dense, the inference-time identities, and models
nested as layers."""
from __future__ import annotations

from ..errors import UnsupportedError
from ..registry import register
from .activations import apply_activation, check_activation_option


@register("InputLayer")
def input_layer(layer, inputs, ctx):
    """An InputLayer is bound to a graph input; a call (Keras 3 may record one)
    passes its tensor through."""
    return list(inputs)


# Layers that are the identity at inference time.
@register("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
          "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization")
def inference_identity(layer, inputs, ctx):
    """No config key matters: these only act while training."""
    return list(inputs)


@register("Dense", check=check_activation_option)
def dense(layer, inputs, ctx):
    """Dense(units, activation, use_bias) on the last axis of an N-D input."""
    t = ctx.keras(inputs[0])
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


# Layers whose predict() output depends on the training flag.
_TRAINING_DEPENDENT = ("BatchNormalization", "SyncBatchNormalization", "Dropout", "SpatialDropout1D",
                       "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
                       "AlphaDropout")


def _nested_model(layer, inputs, ctx):
    """A Sequential or functional model used as a layer: its graph is emitted
    in place for each call, its weights shared between calls."""
    from ..convert import emit_graph
    from .calls import forced_training
    if forced_training(ctx):
        # tf.keras hands training=True down to every inner layer; refuse
        # rather than compute the inference behaviour silently.
        affected = sorted({l.name for l in layer.inner.walk()
                           if l.class_name in _TRAINING_DEPENDENT or l.class_name.startswith("Random")})
        if affected:
            raise UnsupportedError([f"{ctx.where()}: is called with training=True, which tf.keras "
                                    f"passes down to {', '.join(affected[:5])}; their training-mode "
                                    f"output is not exported: call the nested model with "
                                    f"training=False (or leave training unset) and save again"],
                                   ctx.model.source)
    ctx.scope = ctx.scope + (layer.name,)
    try:
        return emit_graph(layer.inner, ctx, list(inputs))
    finally:
        ctx.scope = ctx.scope[:-1]


register("Sequential", "Model", "Functional")(_nested_model)
