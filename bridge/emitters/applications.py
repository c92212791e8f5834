"""The small layer classes that keras.applications networks define for
themselves (tf-keras and Keras 3 save them by class name):

- LayerScale(init_values, projection_dim) (ConvNeXt): x * gamma on the last axis.
- StochasticDepth(drop_path_rate) (ConvNeXt): the identity at inference.
- CustomScaleLayer(scale) (InceptionResNetV2; tf-keras registers it as
  "Custom>CustomScaleLayer"): inputs[0] + inputs[1] * scale.
"""
from __future__ import annotations

import numpy as np

from ..context import Tensor
from ..errors import ConfigError, layer_where
from ..registry import register
from .common.calls import forced_training, refuse_training


@register("LayerScale", layout="any", weights=("gamma",))
def layer_scale(layer, inputs, ctx):
    """LayerScale(init_values, projection_dim): x * gamma."""
    t = inputs[0]
    dim = t.shape[-1]
    shape = (dim,) if dim is not None else None
    gamma = np.asarray(ctx.weight(layer, 0, shape=shape), np.float32)   # its one weight
    full = gamma.reshape((1,) * (t.rank - 1) + gamma.shape)
    if t.perm:
        full = np.transpose(full, t.perm)
    while full.ndim > 1 and full.shape[0] == 1:
        full = full[0]
    return [t.like(ctx.g.op("Mul", t.name, ctx.const(np.ascontiguousarray(full), "gamma")))]


@register("StochasticDepth", layout="any", weights=())
def stochastic_depth(layer, inputs, ctx):
    """StochasticDepth(drop_path_rate): the identity at inference."""
    if forced_training(ctx) and float(layer.config.get("drop_path_rate", 0) or 0) > 0:
        refuse_training(ctx, "drops residual paths")
    return [inputs[0]]


@register("CustomScaleLayer", "Custom>CustomScaleLayer", layout="any", weights=())
def custom_scale(layer, inputs, ctx):
    """CustomScaleLayer(scale): inputs[0] + inputs[1] * scale."""
    if len(inputs) != 2:
        raise ConfigError(f"{layer_where(layer)}: takes [x, residual], got {len(inputs)} tensors; "
                          f"the config is malformed")
    a, b = inputs
    if a.rank != b.rank:
        raise ConfigError(f"{layer_where(layer)}: inputs of ranks {a.rank} and {b.rank}; Keras "
                          f"adds them elementwise, so the config does not match the model")
    b = ctx.to_perm(b, a.perm)   # b in a's layout (a channels-first pair stays so)
    y = ctx.g.op("Add", a.name, ctx.g.op("Mul", b.name, ctx.g.f32(float(layer.config.get("scale", 1.0)))))
    shape = tuple(x if x is not None else z for x, z in zip(a.shape, b.shape))
    return [Tensor(name=y, shape=shape, perm=a.perm, dtype=a.dtype)]
