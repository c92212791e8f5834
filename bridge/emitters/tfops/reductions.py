"""Reductions over axes, arg-max/min, cumulative sums and L2 normalization.

TensorFlow's reduce_* take `axis` (None: every axis) and `keepdims`;
ONNX's Reduce* take the same in the ONNX layout, so a reduction of a tensor
held channels-first reduces the remapped axes and keeps its layout: no
Transpose. Variance and standard deviation are the population ones, as in
TensorFlow and Keras; any/all reduce a bool cast to int.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from ...context import Tensor, is_identity
from .table import TABLE
from .values import constant, is_tensor, norm_axis, onnx_dtype, refuse

op = TABLE.register


def reduce(ctx, x: Tensor, axis, keepdims: bool, op_type: str) -> Tensor:
    """x reduced by `op_type` (an ONNX Reduce*, or ReduceAny / ReduceAll /
    ReduceVariance / ReduceStd) over Keras `axis` (int, list or None)."""
    g = ctx.g
    axes = list(range(x.rank)) if axis is None else [axis] if np.ndim(axis) == 0 else list(axis)
    if any(is_tensor(a) for a in axes):
        refuse(ctx, "reduction over axes given by a tensor is not supported")
    axes = sorted({norm_axis(x, a) for a in axes})
    oaxes = sorted(x.onnx_axis(a) for a in axes)
    name = x.name
    dtype = x.dtype
    if op_type in ("ReduceAny", "ReduceAll"):
        name = g.op("Cast", name, to=TensorProto.INT32)
        y = g.reduce("ReduceMax" if op_type == "ReduceAny" else "ReduceMin", name, oaxes, keepdims=keepdims)
        y = g.op("Cast", y, to=TensorProto.BOOL)
    elif op_type == "ReduceVariance" or op_type == "ReduceStd":
        mean = g.reduce("ReduceMean", name, oaxes, keepdims=True)
        d = g.op("Sub", name, mean)
        y = g.reduce("ReduceMean", g.op("Mul", d, d), oaxes, keepdims=keepdims)
        if op_type == "ReduceStd":
            y = g.op("Sqrt", y)
    else:
        y = g.reduce(op_type, name, oaxes, keepdims=keepdims)
    if keepdims:
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        return Tensor(name=y, shape=shape, perm=x.perm, dtype=dtype)
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    perm = None
    if x.perm:
        kept = [a for a in x.perm if a not in axes]
        order = {a: i for i, a in enumerate(sorted(kept))}
        perm = tuple(order[a] for a in kept)
        perm = None if is_identity(perm) else perm
    return Tensor(name=y, shape=shape, perm=perm, dtype=dtype)


def _reduction(op_type):
    def reduction(ctx, input_tensor, axis=None, keepdims=False):
        return reduce(ctx, input_tensor, axis, bool(keepdims), op_type)
    return reduction


for _name, _op in (("sum", "ReduceSum"), ("mean", "ReduceMean"), ("max", "ReduceMax"),
                   ("min", "ReduceMin"), ("prod", "ReduceProd"), ("logsumexp", "ReduceLogSumExp"),
                   ("any", "ReduceAny"), ("all", "ReduceAll"), ("variance", "ReduceVariance"),
                   ("std", "ReduceStd")):
    op(f"reduce_{_name}")(_reduction(_op))


@op("reduce_euclidean_norm")
def reduce_euclidean_norm(ctx, input_tensor, axis=None, keepdims=False):
    x = input_tensor
    sq = x.like(ctx.g.op("Mul", x.name, x.name))
    t = reduce(ctx, sq, axis, bool(keepdims), "ReduceSum")
    return t.like(ctx.g.op("Sqrt", t.name))


def _arg(op_type):
    def arg(ctx, input, axis=None, output_type=None, keepdims=False):
        x = ctx.keras(input)
        axis = 0 if axis is None else norm_axis(x, axis)
        y = ctx.g.op(op_type, x.name, axis=axis, keepdims=int(bool(keepdims)))
        dt = onnx_dtype(ctx, output_type, TensorProto.INT64)
        if dt != TensorProto.INT64:
            y = ctx.g.op("Cast", y, to=dt)
        if keepdims:
            shape = tuple(1 if i == axis else d for i, d in enumerate(x.shape))
        else:
            shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
        return Tensor(name=y, shape=shape, dtype=dt)
    return arg


op("argmax")(_arg("ArgMax"))
op("argmin")(_arg("ArgMin"))


@op("cumsum")
def cumsum(ctx, x, axis=0, exclusive=False, reverse=False):
    axis = norm_axis(x, 0 if axis is None else axis)
    y = ctx.g.op("CumSum", x.name, ctx.g.i64(x.onnx_axis(axis)), exclusive=int(bool(exclusive)),
                 reverse=int(bool(reverse)))
    return x.like(y)


@op("l2_normalize")
def l2_normalize(ctx, x, axis=None, epsilon=1e-12):
    """tf.math.l2_normalize: x / sqrt(max(sum(x**2), epsilon))."""
    g = ctx.g
    axes = list(range(x.rank)) if axis is None else [axis] if np.ndim(axis) == 0 else list(axis)
    oaxes = sorted(x.onnx_axis(a) for a in axes)
    ss = g.reduce("ReduceSumSquare", x.name, oaxes, keepdims=True)
    eps = constant(ctx, 1e-12 if epsilon is None else float(epsilon), x.dtype).name
    return x.like(g.op("Mul", x.name, g.op("Reciprocal", g.op("Sqrt", g.op("Max", ss, eps)))))


@op("normalize")
def normalize(ctx, x, axis=-1, order=2, epsilon=None):
    """keras.ops.normalize: x * min(1 / sqrt(sum(x**2)), 1 / epsilon) (epsilon
    default 1e-7, Keras's backend epsilon); order 2 only."""
    if int(order) != 2:
        refuse(ctx, "normalize with an order other than 2 is not supported")
    g = ctx.g
    axes = [axis] if isinstance(axis, int) else list(axis)
    ss = g.reduce("ReduceSumSquare", x.name, sorted(x.onnx_axis(a) for a in axes), keepdims=True)
    inv = g.op("Min", g.op("Reciprocal", g.op("Sqrt", ss)),
               constant(ctx, 1.0 / (1e-7 if epsilon is None else float(epsilon)), x.dtype).name)
    return x.like(g.op("Mul", x.name, inv))
