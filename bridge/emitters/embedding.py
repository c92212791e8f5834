"""Embedding and Masking: the layers that start a Keras mask.

The mask travels with the tensor (Tensor.mask: the ONNX name of a bool value
over the Keras batch and time axes) to the layers that consume it, the
recurrent ones (recurrent.py, conv_lstm.py).
"""
from __future__ import annotations

from onnx import TensorProto

from ..context import Tensor
from ..dtypes import FLOATS
from ..registry import register
from .common import quantized
from .common.rnn import flag


@register("Embedding", check=quantized.check, layout="keras", weights=("embeddings",))
def embedding(layer, inputs, ctx):
    """Embedding(input_dim, output_dim, mask_zero); weight embeddings
    (input_dim, output_dim). Float ids are truncated to integers as Keras's
    cast does; the mask (mask_zero) is ids != 0 on the ids as given. Keras 3
    quantized tables: common/quantized.py."""
    t = inputs[0]
    c = layer.config
    g = ctx.g
    ids = t.name if t.dtype == TensorProto.INT64 else g.op("Cast", t.name, to=TensorProto.INT64)
    if layer.quantization is not None:
        y, width = quantized.embedding_lookup(ctx, layer, ids)
    else:
        n_in = c.get("input_dim")
        n_out = c.get("output_dim")
        shape = (int(n_in), int(n_out)) if n_in is not None and n_out is not None else None
        table = ctx.weight(layer, "embeddings", shape=shape)
        y, width = g.op("Gather", ctx.const(table, "embeddings"), ids, axis=0), int(table.shape[1])
    mask = None
    if flag(c, "mask_zero"):
        if t.dtype in FLOATS:   # Keras compares the ids as given: 0.5 is not masked
            zero = g.f32(0.0) if t.dtype == TensorProto.FLOAT else g.op("Cast", g.f32(0.0), to=t.dtype)
            mask = g.op("Not", g.op("Equal", t.name, zero))
        else:
            mask = g.op("Not", g.op("Equal", ids, g.i64(0)))
    return [Tensor(name=y, shape=tuple(t.shape) + (width,), mask=mask)]


@register("Masking", layout="keras", weights=())
def masking(layer, inputs, ctx):
    """Masking(mask_value): a step whose features all equal mask_value is
    masked and zeroed (Keras: any(x != mask_value, axis=-1))."""
    t = inputs[0]
    g = ctx.g
    value = float(layer.config.get("mask_value", 0.0))
    x = t.name if t.dtype == TensorProto.FLOAT else g.op("Cast", t.name, to=TensorProto.FLOAT)
    differs = g.op("Cast", g.op("Not", g.op("Equal", x, g.f32(value))), to=TensorProto.FLOAT)
    keep = g.reduce("ReduceMax", differs, [t.rank - 1], keepdims=True)
    y = g.op("Mul", t.name, keep if t.dtype == TensorProto.FLOAT else
             g.op("Cast", keep, to=t.dtype))
    mask = g.op("Cast", g.squeeze(keep, [t.rank - 1]), to=TensorProto.BOOL)
    return [Tensor(name=y, shape=t.shape, dtype=t.dtype, mask=mask)]
