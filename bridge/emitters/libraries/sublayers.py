"""Library layers built from Keras layers: their sub-layers' stored
variables, and the built-in emitters run on them.

A `.keras` archive keeps a custom layer's variables at `vars/<i>` and those
of the Keras layers it owns under the attribute that holds them
(`_self_attention_layer/query_dense/vars/0`); the Keras 3 reader names them
'<layer>/<attribute path>/var_<i>' (bridge/readers/keras3.py). `stored()`
hands them out by path, `sublayer()` makes a built-in layer of them (a
MultiHeadAttention, a Dense, a LayerNormalization...), and `run()` emits it
with the call arguments the library layer passes, through the built-in
emitter, so that nothing here re-implements a Keras layer.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from onnx import TensorProto

from ...context import Tensor
from ...errors import WeightsError, layer_where
from ...ir import Call, Layer, TensorRef, Weight
from ..common.calls import bound_call
from ...walk import emit_inner


def stored(layer: Layer, path: str = "") -> list:
    """The variables of `layer` itself (path '') or of its sub-layer at
    `path`, in their stored order."""
    found = {}
    want = path.split("/") if path else []
    for w in layer.weights:
        parts = w.name.split(":")[0].split("/")[1:]      # drop the layer's own scope
        if parts[:-1] == want and parts[-1].startswith("var_") and parts[-1][4:].isdigit():
            found[int(parts[-1][4:])] = w.array
    return [np.asarray(found[i]) for i in sorted(found)]


def need(ctx, layer: Layer, path: str, count: int) -> list:
    """`stored(layer, path)`, which must hold at least `count` variables."""
    arrs = stored(layer, path)
    if len(arrs) < count:
        where = f"'{path}'" if path else "its own variables"
        have = ", ".join(w.name for w in layer.weights) or "none"
        raise WeightsError(f"{ctx.model.source}: {layer_where(layer)}: {where} should hold {count} "
                           f"stored variable(s) but holds {len(arrs)} (stored: {have}); the "
                           f"weights do not belong to this layer: re-save the model")
    return arrs


def sublayer(layer: Layer, attr: str, cls: str, config: dict, weights: dict) -> Layer:
    """A built-in layer of class `cls` inside `layer`, with `weights`
    ({tf.keras short name or 'part/name': array})."""
    name = f"{layer.name}/{attr}"
    return Layer(name=name, class_name=cls, config=dict(config, name=attr),
                 weights=[Weight(f"{name}/{k}", np.asarray(a, np.float32)) for k, a in weights.items()])


def dense(ctx, layer, attr: str, units: int, activation=None) -> Layer:
    kernel, bias = need(ctx, layer, attr, 2)[:2]
    return sublayer(layer, attr, "Dense", {"units": int(units), "activation": activation,
                                          "use_bias": True}, {"kernel": kernel, "bias": bias})


def layer_norm(ctx, layer, attr: str, epsilon: float) -> Layer:
    gamma, beta = need(ctx, layer, attr, 2)[:2]
    return sublayer(layer, attr, "LayerNormalization", {"axis": -1, "epsilon": float(epsilon)},
                    {"gamma": gamma, "beta": beta})


def attention(ctx, layer, attr: str, num_heads: int, key_dim: int) -> Layer:
    """A MultiHeadAttention stored with Keras 3's part names."""
    parts = {}
    for part, short in (("query_dense", "query"), ("key_dense", "key"), ("value_dense", "value"),
                        ("output_dense", "attention_output")):
        kernel, bias = need(ctx, layer, f"{attr}/{part}", 2)[:2]
        parts[f"{short}/kernel"], parts[f"{short}/bias"] = kernel, bias
    return sublayer(layer, attr, "MultiHeadAttention",
                    {"num_heads": int(num_heads), "key_dim": int(key_dim), "value_dim": int(key_dim),
                     "use_bias": True, "dropout": 0.0}, parts)


def run(ctx, sub: Layer, *args: Tensor, **kwargs) -> list:
    """Emit `sub` called as sub(*args, **kwargs) (None values left out)."""
    refs, ins = [], []

    def ref(t: Tensor) -> TensorRef:
        refs.append(TensorRef(f"{sub.name}:arg{len(refs)}"))
        ins.append(t)
        return refs[-1]
    pos = [ref(a) for a in args]
    kw = {k: ref(v) if isinstance(v, Tensor) else v for k, v in kwargs.items() if v is not None}
    if len(pos) != 1:
        kw["__args__"] = pos
    return emit_inner(ctx, sub, ins, Call(tuple(refs), kw))


def one(ctx, sub: Layer, *args: Tensor, **kwargs) -> Tensor:
    return run(ctx, sub, *args, **kwargs)[0]


def bind(ctx, inputs: list, params: tuple) -> dict:
    """The library layer's call arguments by name (positional ones bound to
    `params` in order, as Python binds them)."""
    args, kw = bound_call(ctx.call, inputs)
    out = dict(zip(params, args))
    out.update(kw)
    return out


def add(ctx, a: Tensor, b: Tensor) -> Tensor:
    a, b = ctx.keras(a), ctx.keras(b)
    return a.like(ctx.g.op("Add", a.name, b.name))


def masked(t: Tensor, mask) -> Tensor:
    return replace(t, mask=mask)


def to_int32(ctx, t: Tensor) -> str:
    return t.name if t.dtype == TensorProto.INT32 else ctx.g.op("Cast", t.name, to=TensorProto.INT32)
