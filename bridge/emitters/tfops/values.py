"""The value model every op works on: a Keras Tensor or a Python constant
(a number, a nested list, a numpy array), in any mix.

TensorFlow converts a constant to the dtype of the tensor it meets
(`x * 0.5` on float16 computes in float16), so constants are materialized
only once the op knows that dtype. Elementwise ops keep the layout their
tensor operands share (a `x * 0.5` after a convolution costs no Transpose);
a constant operand is transposed in numpy to match.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from onnx import TensorProto

from ...context import Tensor, is_identity
from ...errors import UnsupportedError
from . import dtypes
from .dtypes import FLOAT_TYPES, dtype_name, np_dtype


def refuse(ctx, msg: str):
    """Raise the error for something this converter cannot express, naming
    the layer being emitted."""
    raise UnsupportedError([f"{ctx.where()}: {msg}"])


def is_tensor(v) -> bool:
    return isinstance(v, Tensor)


def flatten(v):
    """The leaves of nested lists / tuples."""
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from flatten(x)
    else:
        yield v


def has_tensor(v) -> bool:
    return any(is_tensor(x) for x in flatten(v))


def onnx_dtype(ctx, value, default=None):
    """The ONNX type for a dtype argument (None: `default`)."""
    if value is None:
        return default
    found = dtypes.onnx_dtype(dtype_name(value))
    if found is None:
        refuse(ctx, f"dtype {value!r} has no ONNX equivalent")
    return found


def python_dtype(value):
    """What tf.convert_to_tensor makes of a Python constant."""
    a = np.asarray(value)
    if a.dtype.kind == "b":
        return TensorProto.BOOL
    if a.dtype.kind in "iu":
        return TensorProto.INT32
    return TensorProto.FLOAT


def constant(ctx, value, dtype) -> Tensor:
    a = np.asarray(value, dtype=np_dtype(dtype))
    if a.ndim == 0 and dtype == TensorProto.FLOAT:
        name = ctx.g.f32(float(a))
    else:
        name = ctx.const(a, "const")
    return Tensor(name=name, shape=tuple(a.shape), dtype=dtype)


def cast(ctx, t: Tensor, dtype) -> Tensor:
    if dtype is None or t.dtype == dtype:
        return t
    return replace(t, name=ctx.g.op("Cast", t.name, to=dtype), dtype=dtype, mask=None)


def as_tensor(ctx, v, dtype=None) -> Tensor:
    """A Tensor for v: tensors as they are, constants (lists may mix tensors)
    in `dtype` (default: what tf.convert_to_tensor makes of them)."""
    if is_tensor(v):
        return v
    if isinstance(v, (list, tuple)) and any(is_tensor(x) or isinstance(x, (list, tuple)) for x in v) \
            and has_tensor(v):
        parts = [ctx.g.unsqueeze(ctx.keras(cast(ctx, as_tensor(ctx, x, dtype), dtype)).name, [0]) for x in v]
        dt = next(x.dtype for x in flatten(v) if is_tensor(x)) if dtype is None else dtype
        return Tensor(name=ctx.g.op("Concat", *parts, axis=0), shape=(len(v),), dtype=dt)
    return constant(ctx, v, dtype if dtype is not None else python_dtype(v))


def int64_vector(ctx, v) -> str:
    """A 1-D int64 ONNX value from a constant list or a tensor (or a list mixing them)."""
    t = as_tensor(ctx, v, TensorProto.INT64)
    t = cast(ctx, ctx.keras(t), TensorProto.INT64)
    return t.name if t.rank == 1 else ctx.g.op("Reshape", t.name, ctx.g.i64([-1]))


def norm_axis(t: Tensor, a) -> int:
    """A Keras axis of t, counted from 0."""
    return int(a) % max(t.rank, 1)


def broadcast_shapes(ctx, shapes) -> tuple:
    """numpy broadcasting of Keras shapes (None: unknown)."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = [s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0]
        known = [d for d in dims if d is not None and d != 1]
        if len(set(known)) > 1:
            refuse(ctx, f"operands of shapes {[tuple(s) for s in shapes]} do not broadcast")
        if known:
            out.append(known[0])
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def elementwise(ctx, values, fn, out_dtype=None, dtype=None) -> Tensor:
    """fn(g, *names) over tensors and constants, broadcast as numpy does, in
    the layout the tensor operands share when the constants allow it.
    Operands compute in `dtype` (default: the first floating tensor's, else
    the first tensor's); the result has `out_dtype` (default: that dtype)."""
    tensors = [v for v in values if is_tensor(v)]
    if not tensors:
        refuse(ctx, "has no tensor operand")
    if dtype is None:
        floats = [t.dtype for t in tensors if t.dtype in FLOAT_TYPES]
        dtype = floats[0] if floats else tensors[0].dtype
    shapes = [v.shape if is_tensor(v) else np.shape(v) for v in values]
    shape = broadcast_shapes(ctx, shapes)
    rank = len(shape)
    perms = {None if is_identity(t.perm) else tuple(t.perm) for t in tensors}
    perm = perms.pop() if len(perms) == 1 else None
    if perm is not None and not all(t.rank == rank for t in tensors):
        perm = None
    names = []
    for v in values:
        if is_tensor(v):
            t = v if perm is not None else ctx.keras(v)
            names.append(cast(ctx, t, dtype).name)
        else:
            a = np.asarray(v, dtype=np_dtype(dtype))
            if perm is not None and a.ndim:
                a = np.transpose(a.reshape((1,) * (rank - a.ndim) + a.shape), perm)
            names.append(constant(ctx, a, dtype).name)
    y = fn(ctx.g, *names)
    mask = next((t.mask for t in tensors if t.mask is not None), None)
    return Tensor(name=y, shape=shape, perm=perm, dtype=dtype if out_dtype is None else out_dtype, mask=mask)


def same_layout(ctx, values) -> list:
    """The values as tensors in one layout: the shared one, else Keras's."""
    ts = [as_tensor(ctx, v) for v in values]
    perms = {None if is_identity(t.perm) else tuple(t.perm) for t in ts}
    ranks = {t.rank for t in ts}
    if len(perms) == 1 and len(ranks) == 1:
        return ts
    return [ctx.keras(t) for t in ts]


# -- values as the files store them ---------------------------------------------------
def plain(value):
    """Serialized constants as plain values: Keras 3 writes numpy arrays as
    {"class_name": "__numpy__", "config": {"value": ..., "dtype": ...}}."""
    if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):
        conf = value.get("config") or {}
        return np.asarray(conf.get("value"), dtype=conf.get("dtype") or None)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: plain(v) for k, v in value.items()}
    return value


def unmasked(out) -> list:
    """An op layer's outputs as a list, without Keras masks (tf.keras and
    Keras 3 op layers drop them)."""
    return [replace(t, mask=None) for t in (out if isinstance(out, list) else [out])]
