"""Indexing and selection: x[...], gather, where, one_hot.

`getitem` takes the key as Python writes it: an int, a slice, None
(newaxis), Ellipsis, or a tuple of those (the front-ends turn their
serialized slice specs into this). Integer indices and constant slices map
to one Slice (+ Squeeze / Unsqueeze); indexing by a tensor (numpy's
advanced indexing) is refused. Out-of-range slice bounds clamp as in
Python, which ONNX's Slice does too.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from ...context import Tensor
from ...safety import check_elements
from .dtypes import np_dtype
from .table import TABLE
from .values import as_tensor, broadcast_shapes, cast, constant, is_tensor, norm_axis, onnx_dtype, python_dtype, refuse

op = TABLE.register
_I64_MAX = np.iinfo(np.int64).max


def _items(ctx, key) -> list:
    items = []
    for s in key if isinstance(key, tuple) else (key,):
        if s is Ellipsis:
            items.append("...")
        elif isinstance(s, slice):
            if any(is_tensor(v) for v in (s.start, s.stop, s.step)):
                refuse(ctx, "slicing with tensor bounds is not supported")
            items.append(("slice", s.start, s.stop, s.step))
        elif s is None:
            items.append("newaxis")
        elif is_tensor(s):
            refuse(ctx, "indexing with a tensor is not supported")
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            items.append(("index", int(s)))
        else:
            refuse(ctx, f"slice item {s!r} is not supported")
    return items


@op("getitem")
def getitem(ctx, tensor, key):
    x = ctx.keras(tensor)
    items = _items(ctx, key)
    consumed = sum(1 for it in items if it not in ("...", "newaxis"))
    if "..." in items:
        i = items.index("...")
        items[i:i + 1] = [("slice", None, None, None)] * (x.rank - consumed)
    else:
        items += [("slice", None, None, None)] * (x.rank - consumed)
    starts, ends, axes, steps, squeeze, new_axes = [], [], [], [], [], []
    shape = []
    dim = 0
    out_pos = 0
    for it in items:
        if it == "newaxis":
            new_axes.append(out_pos)
            shape.append(1)
            out_pos += 1
            continue
        size = x.shape[dim]
        if it[0] == "index":
            i = it[1]
            starts.append(i)
            ends.append(_I64_MAX if i == -1 else i + 1)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        else:
            _, b, e, st = it
            st = 1 if st is None else int(st)
            if st == 0:
                refuse(ctx, "a slice step of 0 is invalid")
            if (b, e, st) != (None, None, 1):
                lo = b if b is not None else (0 if st > 0 else -1)
                hi = e if e is not None else (_I64_MAX if st > 0 else -_I64_MAX)
                starts.append(int(lo))
                ends.append(int(hi))
                axes.append(dim)
                steps.append(st)
            shape.append(len(range(size)[slice(b, e, st)]) if size is not None else None)
            out_pos += 1
        dim += 1
    y = x.name
    g = ctx.g
    if axes:
        y = g.op("Slice", y, g.i64(starts), g.i64(ends), g.i64(axes), g.i64(steps))
    if squeeze:
        y = g.squeeze(y, squeeze)
    if new_axes:
        y = g.unsqueeze(y, new_axes)
    if y == x.name:
        y = g.op("Identity", y)
    return Tensor(name=y, shape=tuple(shape), dtype=x.dtype)


@op("gather")
def gather(ctx, params, indices, axis=None, batch_dims=0):
    x = ctx.keras(params)
    if int(0 if batch_dims is None else batch_dims):
        refuse(ctx, "gather with batch_dims != 0 is not supported")
    a = norm_axis(x, 0 if axis is None else axis)
    it = ctx.keras(as_tensor(ctx, indices, TensorProto.INT64))
    shape = x.shape[:a] + tuple(it.shape) + x.shape[a + 1:]
    return Tensor(name=ctx.g.op("Gather", x.name, it.name, axis=a), shape=shape, dtype=x.dtype)


@op("where")
def where(ctx, condition, x=None, y=None):
    """Where(condition, x, y), broadcast in Keras's layout."""
    if x is None or y is None:
        refuse(ctx, "where(condition) without x and y returns coordinates, which is not supported")
    data = [v for v in (x, y) if is_tensor(v)]
    dtype = data[0].dtype if data else python_dtype(x)
    cond = as_tensor(ctx, condition, TensorProto.BOOL)
    xs = [ctx.keras(cast(ctx, as_tensor(ctx, v, dtype), dtype)) for v in (x, y)]
    ct = ctx.keras(cast(ctx, cond, TensorProto.BOOL))
    shape = broadcast_shapes(ctx, [ct.shape] + [t.shape for t in xs])
    return Tensor(name=ctx.g.op("Where", ct.name, xs[0].name, xs[1].name), shape=shape, dtype=dtype)


@op("one_hot")
def one_hot(ctx, indices, depth, on_value=None, off_value=None, axis=None, dtype=None):
    x = ctx.keras(indices)
    depth = int(depth)
    dt = onnx_dtype(ctx, dtype, TensorProto.FLOAT)
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    a = (-1 if axis is None else int(axis)) % (x.rank + 1)
    check_elements(depth, f"one_hot of depth {depth}")
    tok = np.arange(depth, dtype=np_dtype(x.dtype)).reshape((depth,) + (1,) * (x.rank - a))
    hit = ctx.g.op("Equal", ctx.g.unsqueeze(x.name, [a]), ctx.const(tok, f"depth_{depth}"))
    y = ctx.g.op("Where", hit, constant(ctx, on, dt).name, constant(ctx, off, dt).name)
    return Tensor(name=y, shape=x.shape[:a] + (depth,) + x.shape[a:], dtype=dt)
