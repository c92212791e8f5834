"""Elementwise math: arithmetic, comparisons and logic, unary functions,
activations, softmax, casts and clipping.

TensorFlow and numpy broadcast the same way; ONNX's binary ops do too, so
each maps to one node (or a short decomposition: TF's floor division and
floor modulo of floats, divide_no_nan). Comparisons and logic return bool.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from onnx import TensorProto

from .dtypes import FLOAT_TYPES
from .table import TABLE
from .values import as_tensor, cast, constant, elementwise, is_tensor, onnx_dtype, refuse

op = TABLE.register


# -- binary ------------------------------------------------------------------------------
def _binary(op_type, out_bool=False):
    def binary(ctx, x, y):
        out = TensorProto.BOOL if out_bool else None
        return elementwise(ctx, [x, y], lambda g, a, b: g.op(op_type, a, b), out_dtype=out)
    return binary


for _name, _op in (("add", "Add"), ("subtract", "Sub"), ("multiply", "Mul"), ("maximum", "Max"),
                   ("minimum", "Min"), ("pow", "Pow")):
    op(_name)(_binary(_op))
for _name, _op in (("greater", "Greater"), ("greater_equal", "GreaterOrEqual"), ("less", "Less"),
                   ("less_equal", "LessOrEqual"), ("equal", "Equal"), ("logical_and", "And"),
                   ("logical_or", "Or"), ("logical_xor", "Xor")):
    op(_name)(_binary(_op, out_bool=True))


@op("not_equal")
def not_equal(ctx, x, y):
    return elementwise(ctx, [x, y], lambda g, a, b: g.op("Not", g.op("Equal", a, b)),
                       out_dtype=TensorProto.BOOL)


@op("truediv")
def truediv(ctx, x, y):
    ts = [v for v in (x, y) if is_tensor(v)]
    dtype = None
    if ts and all(t.dtype not in FLOAT_TYPES for t in ts):
        # tf.math.truediv of integers computes in float64 (int8/16: float32)
        small = all(t.dtype in (TensorProto.INT8, TensorProto.INT16, TensorProto.UINT8) for t in ts)
        dtype = TensorProto.FLOAT if small else TensorProto.DOUBLE
    return elementwise(ctx, [x, y], lambda g, a, b: g.op("Div", a, b), dtype=dtype)


@op("divide_no_nan")
def divide_no_nan(ctx, x, y):
    def f(g, a, b):
        zero = g.op("Equal", b, g.op("Sub", b, b))
        return g.op("Where", zero, g.op("Sub", b, b), g.op("Div", a, b))
    return elementwise(ctx, [x, y], f)


def _first_tensor(ctx, *values):
    t = next((v for v in values if is_tensor(v)), None)
    if t is None:
        refuse(ctx, "has no tensor operand")
    return t


@op("floordiv")
def floordiv(ctx, x, y):
    dtype = _first_tensor(ctx, x, y).dtype

    def f(g, a, b):
        if dtype in FLOAT_TYPES:
            return g.op("Floor", g.op("Div", a, b))
        return g.op("Div", g.op("Sub", a, _floor_mod(g, a, b)), b)
    return elementwise(ctx, [x, y], f)


@op("floormod")
def floormod(ctx, x, y):
    return elementwise(ctx, [x, y], _floor_mod)


def _floor_mod(g, a, b):
    """TensorFlow's floormod, for floats and integers alike: fmod, then moved
    to the divisor's sign. A constant dividend is made a computed value
    first: tract's Mod with a constant first input returns the divisor."""
    if a in g.graph.initializers:
        a = g.op("Add", a, g.op("Sub", b, b))
    r = g.op("Mod", a, b, fmod=1)
    zero = g.op("Sub", b, b)
    fix = g.op("And", g.op("Not", g.op("Equal", r, zero)),
               g.op("Xor", g.op("Less", r, zero), g.op("Less", b, zero)))
    return g.op("Where", fix, g.op("Add", r, b), r)


@op("squared_difference")
def squared_difference(ctx, x, y):
    def f(g, a, b):
        d = g.op("Sub", a, b)
        return g.op("Mul", d, d)
    return elementwise(ctx, [x, y], f)


@op("add_n")
def add_n(ctx, inputs):
    return elementwise(ctx, list(inputs),
                       lambda g, *ns: g.op("Sum", *ns) if len(ns) > 1 else g.op("Identity", ns[0]))


# -- unary -------------------------------------------------------------------------------
def _one(ctx, t):
    return constant(ctx, 1, t.dtype).name


def _unary(fn, out_bool=False):
    """fn(ctx, x: Tensor) -> ONNX name, in x's layout."""
    def unary(ctx, x):
        if not is_tensor(x):
            refuse(ctx, "has no tensor operand")
        return replace(x, name=fn(ctx, x), dtype=TensorProto.BOOL if out_bool else x.dtype)
    return unary


def _node(op_type):
    return lambda ctx, t: ctx.g.op(op_type, t.name)


_UNARY = {
    "negative": _node("Neg"), "abs": _node("Abs"), "exp": _node("Exp"), "log": _node("Log"),
    "log1p": lambda ctx, t: ctx.g.op("Log", ctx.g.op("Add", t.name, _one(ctx, t))),
    "expm1": lambda ctx, t: ctx.g.op("Sub", ctx.g.op("Exp", t.name), _one(ctx, t)),
    "sqrt": _node("Sqrt"), "rsqrt": lambda ctx, t: ctx.g.op("Reciprocal", ctx.g.op("Sqrt", t.name)),
    "square": lambda ctx, t: ctx.g.op("Mul", t.name, t.name), "reciprocal": _node("Reciprocal"),
    "sign": _node("Sign"), "floor": _node("Floor"), "ceil": _node("Ceil"), "round": _node("Round"),
    "sin": _node("Sin"), "cos": _node("Cos"), "tan": _node("Tan"), "asin": _node("Asin"),
    "acos": _node("Acos"), "atan": _node("Atan"), "sinh": _node("Sinh"), "cosh": _node("Cosh"),
    "asinh": _node("Asinh"), "acosh": _node("Acosh"), "atanh": _node("Atanh"), "tanh": _node("Tanh"),
    "sigmoid": _node("Sigmoid"), "erf": _node("Erf"),
    "log_sigmoid": lambda ctx, t: ctx.g.op("Neg", ctx.g.op("Softplus", ctx.g.op("Neg", t.name))),
    "identity": _node("Identity"),
}
for _name, _f in _UNARY.items():
    op(_name)(_unary(_f))
for _name, _op in (("logical_not", "Not"), ("is_nan", "IsNaN"), ("is_inf", "IsInf")):
    op(_name)(_unary(_node(_op), out_bool=True))


# -- activations (TensorFlow calls the operand `features`) --------------------------------------
def _activation(fn):
    def activation(ctx, features):
        return _unary(fn)(ctx, features)
    return activation


_ACTIVATIONS = {
    "relu": _node("Relu"),
    "relu6": lambda ctx, t: ctx.g.op("Clip", t.name, constant(ctx, 0, t.dtype).name,
                                     constant(ctx, 6, t.dtype).name),
    "selu": lambda ctx, t: ctx.g.op("Selu", t.name, alpha=1.6732632423543772848170429916717,
                                    gamma=1.0507009873554804934193349852946),
    "softplus": _node("Softplus"), "softsign": _node("Softsign"),
}
for _name, _f in _ACTIVATIONS.items():
    op(_name)(_activation(_f))


@op("elu")
def elu(ctx, features, alpha=1.0):
    return _unary(lambda ctx, t: ctx.g.op("Elu", t.name, alpha=float(alpha)))(ctx, features)


@op("leaky_relu")
def leaky_relu(ctx, features, alpha=0.2):
    return _unary(lambda ctx, t: ctx.g.op("LeakyRelu", t.name, alpha=float(alpha)))(ctx, features)


@op("gelu")
def gelu(ctx, features, approximate=False):
    return _unary(lambda ctx, t: ctx.g.gelu(t.name, approximate=bool(approximate)))(ctx, features)


@op("silu")
def silu(ctx, features, beta=1.0):
    def f(ctx, t):
        if is_tensor(beta):
            refuse(ctx, "silu with a tensor beta is not supported")
        b = 1.0 if beta is None else float(beta)
        bx = t.name if b == 1.0 else ctx.g.op("Mul", t.name, constant(ctx, b, t.dtype).name)
        return ctx.g.op("Mul", t.name, ctx.g.op("Sigmoid", bx))
    return _unary(f)(ctx, features)


def _softmax(op_type):
    def softmax(ctx, logits, axis=None):
        axis = -1 if axis is None else int(axis)
        return logits.like(ctx.g.op(op_type, logits.name, axis=logits.onnx_axis(axis)))
    return softmax


op("softmax")(_softmax("Softmax"))
op("log_softmax")(_softmax("LogSoftmax"))


# -- casts and clipping ---------------------------------------------------------------------------
@op("cast")
def cast_op(ctx, x, dtype):
    dt = onnx_dtype(ctx, dtype)
    if x.dtype in FLOAT_TYPES and dt == TensorProto.BOOL:
        return replace(x, name=ctx.g.op("Not", ctx.g.op("Equal", x.name, constant(ctx, 0, x.dtype).name)),
                       dtype=dt)
    return replace(cast(ctx, x, dt), mask=x.mask)


@op("clip_by_value")
def clip_by_value(ctx, t, clip_value_min, clip_value_max):
    lo, hi = clip_value_min, clip_value_max
    if is_tensor(lo) or is_tensor(hi) or np.ndim(lo) or np.ndim(hi):
        y = elementwise(ctx, [t, lo], lambda g, a, b: g.op("Max", a, b))
        return elementwise(ctx, [y, hi], lambda g, a, b: g.op("Min", a, b))
    return t.like(ctx.g.op("Clip", t.name, constant(ctx, lo, t.dtype).name, constant(ctx, hi, t.dtype).name))


@op("bias_add")
def bias_add(ctx, value, bias, data_format=None):
    x = value
    if str("NHWC" if data_format is None else data_format).startswith("NC") and x.rank > 2:
        bt = ctx.keras(as_tensor(ctx, bias, x.dtype))
        b_name = ctx.g.unsqueeze(bt.name, list(range(1, x.rank - 1)))
        xk = ctx.keras(x)
        return xk.like(ctx.g.op("Add", xk.name, b_name))
    return elementwise(ctx, [x, bias], lambda g, u, v: g.op("Add", u, v))
