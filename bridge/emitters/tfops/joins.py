"""Joining and splitting: concat, stack, unstack, split.

Concatenation keeps the layout its operands share (concat of two
channels-first tensors along channels is one Concat on the held axis);
stack and unstack add or remove an axis, so they compute in Keras's layout.
Constant operands take the dtype of the tensor operands.
"""
from __future__ import annotations

import numpy as np

from ...context import Tensor
from ...safety import check_count
from .table import TABLE
from .values import as_tensor, cast, is_tensor, norm_axis, refuse, same_layout

op = TABLE.register


@op("concat")
def concat(ctx, values, axis=0):
    vals = values if isinstance(values, list) else [values]
    tensors = [v for v in vals if is_tensor(v)]
    dtype = tensors[0].dtype if tensors else None
    ts = same_layout(ctx, [as_tensor(ctx, v, dtype) for v in vals])
    dtype = ts[0].dtype if dtype is None else dtype
    ts = [cast(ctx, t, dtype) for t in ts]
    x = ts[0]
    axis = norm_axis(x, axis)
    size = 0
    for t in ts:
        size = None if size is None or t.shape[axis] is None else size + t.shape[axis]
    shape = tuple(size if i == axis else d for i, d in enumerate(x.shape))
    if len(ts) == 1:
        return x
    y = ctx.g.op("Concat", *[t.name for t in ts], axis=x.onnx_axis(axis))
    return Tensor(name=y, shape=shape, perm=x.perm, dtype=dtype)


@op("stack")
def stack(ctx, values, axis=0):
    vals = values if isinstance(values, list) else [values]
    dtype = next((v.dtype for v in vals if is_tensor(v)), None)
    ts = [ctx.keras(cast(ctx, as_tensor(ctx, v, dtype), dtype)) for v in vals]
    x = ts[0]
    a = int(0 if axis is None else axis) % (x.rank + 1)
    parts = [ctx.g.unsqueeze(t.name, [a]) for t in ts]
    y = ctx.g.op("Concat", *parts, axis=a) if len(parts) > 1 else parts[0]
    return Tensor(name=y, shape=x.shape[:a] + (len(ts),) + x.shape[a:], dtype=x.dtype)


@op("unstack")
def unstack(ctx, value, num=None, axis=0):
    x = ctx.keras(value)
    a = norm_axis(x, 0 if axis is None else axis)
    n = x.shape[a] if num is None else int(num)
    if n is None:
        refuse(ctx, "unstack along an axis of unknown size is not supported")
    check_count(n, "unstack's outputs")
    outs = ctx.g.op("Split", x.name, ctx.g.i64([1] * n), axis=a, n_out=n)
    outs = outs if isinstance(outs, list) else [outs]
    shape = x.shape[:a] + x.shape[a + 1:]
    return [Tensor(name=ctx.g.squeeze(o, [a]), shape=shape, dtype=x.dtype) for o in outs]


@op("split")
def split(ctx, value, num_or_size_splits, axis=0, num=None):
    """tf.split: into `num_or_size_splits` equal parts, or parts of the
    listed sizes (one may be -1: the rest)."""
    x = value
    a = norm_axis(x, 0 if axis is None else axis)
    n = num_or_size_splits
    size = x.shape[a]
    if is_tensor(n):
        refuse(ctx, "split sizes given by a tensor are not supported")
    if np.ndim(n) == 0:
        if size is None:
            refuse(ctx, "split into equal parts along an axis of unknown size is not supported")
        check_count(int(n), "split's parts")
        sizes = [size // int(n)] * int(n)
    else:
        sizes = [int(s) for s in n]
        if -1 in sizes:
            if size is None:
                refuse(ctx, "split with a -1 size along an axis of unknown size is not supported")
            sizes[sizes.index(-1)] = size - sum(s for s in sizes if s != -1)
    outs = ctx.g.op("Split", x.name, ctx.g.i64(sizes), axis=x.onnx_axis(a), n_out=len(sizes))
    outs = outs if isinstance(outs, list) else [outs]
    return [Tensor(name=o, shape=tuple(s if i == a else d for i, d in enumerate(x.shape)),
                   perm=x.perm, dtype=x.dtype) for o, s in zip(outs, sizes)]
