"""Shapes and layout: reshape, transpose, expand / squeeze, tile,
broadcast_to, pad, the shape itself and tensors filled like another.

These compute in Keras's layout (a held channels-first tensor is
transposed back first), except a transpose that keeps the batch axis
first: it only retags the layout (`Tensor.perm`), so a chain of transposes
costs at most the one Transpose a later op needs. Shapes may be constants,
tensors (`tf.shape(y)`) or lists mixing both.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ...context import Tensor, is_identity
from .table import TABLE
from .values import as_tensor, cast, constant, has_tensor, int64_vector, is_tensor, norm_axis, onnx_dtype, refuse

op = TABLE.register


def _static_reshape(x: Tensor, shape):
    """The Keras shape after tf.reshape(x, shape): a -1 outside the batch axis
    is resolved when every other size is known (axis 0 taken as the batch)."""
    out = [None if d == -1 else d for d in shape]
    if -1 in shape[1:] and None not in x.shape[1:]:
        i = shape.index(-1, 1)
        rest = int(np.prod([d for j, d in enumerate(shape[1:], 1) if j != i], dtype=np.int64))
        out[i] = int(np.prod(x.shape[1:], dtype=np.int64)) // max(rest, 1)
    return tuple(out)


@op("reshape")
def reshape(ctx, tensor, shape):
    x = ctx.keras(tensor)
    if has_tensor(shape):
        y = ctx.g.op("Reshape", x.name, int64_vector(ctx, shape))
        if is_tensor(shape):
            out_shape = (None,) * int(shape.shape[0])
        else:
            out_shape = tuple(None if is_tensor(v) or v == -1 else int(v) for v in shape)
        return Tensor(name=y, shape=out_shape, dtype=x.dtype)
    shape = [int(d) for d in shape]
    if 0 in shape:
        refuse(ctx, "reshape to a zero-size axis is not supported")
    y = ctx.g.op("Reshape", x.name, ctx.g.i64(shape))
    return Tensor(name=y, shape=_static_reshape(x, shape), dtype=x.dtype)


@op("transpose")
def transpose(ctx, a, perm=None):
    x = a
    if is_tensor(perm):
        refuse(ctx, "transpose with a permutation given by a tensor is not supported")
    if perm is None:
        perm = list(range(x.rank))[::-1]
    perm = [norm_axis(x, p) for p in perm]
    shape = tuple(x.shape[p] for p in perm)
    if perm[0] == 0:
        # free: only the layout tag changes
        inv = list(np.argsort(perm))
        cur = x.perm or tuple(range(x.rank))
        new = tuple(int(inv[q]) for q in cur)
        return Tensor(name=x.name, shape=shape, perm=None if is_identity(new) else new, dtype=x.dtype)
    xk = ctx.keras(x)
    return Tensor(name=ctx.g.op("Transpose", xk.name, perm=perm), shape=shape, dtype=x.dtype)


@op("matrix_transpose")
def matrix_transpose(ctx, a):
    """The last two axes swapped (tf.linalg.matrix_transpose)."""
    return transpose(ctx, a, list(range(a.rank - 2)) + [a.rank - 1, a.rank - 2])


@op("swapaxes")
def swapaxes(ctx, x, axis1, axis2):
    perm = list(range(x.rank))
    a, b = norm_axis(x, axis1), norm_axis(x, axis2)
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(ctx, x, perm)


@op("expand_dims")
def expand_dims(ctx, input, axis):
    x = ctx.keras(input)
    a = int(axis) % (x.rank + 1)
    shape = x.shape[:a] + (1,) + x.shape[a:]
    return Tensor(name=ctx.g.unsqueeze(x.name, [a]), shape=shape, dtype=x.dtype)


@op("squeeze")
def squeeze(ctx, input, axis=None):
    x = ctx.keras(input)
    if (axis is None or axis == []) and None in x.shape[1:]:
        y = ctx.g.op("Squeeze", x.name)
        return Tensor(name=y, shape=tuple(d for d in x.shape if d != 1), dtype=x.dtype)
    if axis is None or axis == []:
        # the static 1s, as Keras's shape says: a Squeeze with known output
        # rank (OpenVINO refuses one whose rank is only known at run time)
        axis = [i for i, d in enumerate(x.shape) if d == 1]
        if not axis:
            return x
    axes = sorted({norm_axis(x, a) for a in ([axis] if np.ndim(axis) == 0 else axis)})
    return Tensor(name=ctx.g.squeeze(x.name, axes), shape=tuple(d for i, d in enumerate(x.shape)
                                                                if i not in axes), dtype=x.dtype)


@op("tile")
def tile(ctx, input, multiples):
    x = ctx.keras(input)
    shape = x.shape
    if not has_tensor(multiples):
        shape = tuple(None if d is None else d * int(k) for d, k in zip(x.shape, multiples))
    return Tensor(name=ctx.g.op("Tile", x.name, int64_vector(ctx, multiples)), shape=shape, dtype=x.dtype)


@op("broadcast_to")
def broadcast_to(ctx, input, shape):
    x = ctx.keras(input)
    if is_tensor(shape):
        out = (None,) * int(shape.shape[0])
    else:
        out = tuple(None if is_tensor(v) else int(v) for v in shape)
    return Tensor(name=ctx.g.op("Expand", x.name, int64_vector(ctx, shape)), shape=out, dtype=x.dtype)


@op("pad")
def pad(ctx, tensor, paddings, mode="CONSTANT", constant_values=0):
    x = ctx.keras(tensor)
    if has_tensor(paddings):
        refuse(ctx, "paddings given by a tensor are not supported")
    pads = np.asarray(paddings, np.int64).reshape(x.rank, 2)
    mode = str(mode).upper()
    modes = {"CONSTANT": "constant", "REFLECT": "reflect"}
    if mode not in modes:
        refuse(ctx, f"pad mode {mode!r} has no ONNX equivalent (CONSTANT and REFLECT convert)")
    value = 0 if constant_values is None else constant_values
    inputs = [x.name, ctx.g.i64(list(pads[:, 0]) + list(pads[:, 1]))]
    if mode == "CONSTANT" and value != 0:
        inputs.append(constant(ctx, value, x.dtype).name)
    y = ctx.g.op("Pad", *inputs, mode=modes[mode])
    shape = tuple(None if d is None else d + int(a) + int(b) for d, (a, b) in zip(x.shape, pads))
    return Tensor(name=y, shape=shape, dtype=x.dtype)


@op("shape")
def shape(ctx, input, out_type=None):
    x = ctx.keras(input)
    dt = onnx_dtype(ctx, out_type, TensorProto.INT32)
    y = ctx.g.op("Shape", x.name)
    if dt != TensorProto.INT64:
        y = ctx.g.op("Cast", y, to=dt)
    return Tensor(name=y, shape=(x.rank,), dtype=dt)


def _filled(value):
    def filled_like(ctx, input, dtype=None):
        x = ctx.keras(input)
        dt = onnx_dtype(ctx, dtype, x.dtype)
        v = helper.make_tensor("value", dt, [1], [value] if dt != TensorProto.BOOL else [bool(value)])
        y = ctx.g.op("ConstantOfShape", ctx.g.op("Shape", x.name), value=v)
        return Tensor(name=y, shape=x.shape, dtype=dt)
    return filled_like


op("zeros_like")(_filled(0))
op("ones_like")(_filled(1))


@op("range")
def range_(ctx, start, limit=None, delta=1, dtype=None):
    if limit is None:
        start, limit = 0, start
    delta = 1 if delta is None else delta
    vals = [start, limit, delta]
    if dtype is not None:
        dt = onnx_dtype(ctx, dtype)
    elif any(is_tensor(v) for v in vals):
        dt = next(v.dtype for v in vals if is_tensor(v))
    else:
        dt = TensorProto.FLOAT if any(isinstance(v, float) for v in vals) else TensorProto.INT32
    names = []
    for v in vals:
        t = cast(ctx, ctx.keras(as_tensor(ctx, v, dt)), dt)
        names.append(ctx.g.op("Reshape", t.name, ctx.g.i64([])) if t.rank else t.name)
    n = None
    if not any(is_tensor(v) for v in vals):
        n = len(range(int(start), int(limit), int(delta))) if all(
            float(v).is_integer() for v in (start, limit, delta)) else None
        if n is None:
            n = max(0, int(np.ceil((float(limit) - float(start)) / float(delta))))
    return Tensor(name=ctx.g.op("Range", *names), shape=(n,), dtype=dt)
