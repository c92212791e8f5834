"""TensorFlow operations inside tf.keras functional models.

tf.keras records `tf.*` calls on Keras tensors as TFOpLambda layers (and
`x[...]` as SlicingOpLambda): config "function" names the TF symbol
("math.add", "__operators__.add", "nn.relu", "reshape",
"compat.v1.transpose", "__operators__.getitem", ...), the call's first
argument (tensors and constants, nested as written) and its keyword
arguments (tensors and constants) are in the inbound node. TF 2.0-2.3 wrote
TensorFlowOpLayer instead: a raw NodeDef ("AddV2", "ConcatV2", ...) with its
constant inputs in the config.

SUPPORTED_FUNCTIONS (TFOpLambda symbols) and SUPPORTED_RAW_OPS
(TensorFlowOpLayer op types) are the documented lists; any other symbol is
refused before conversion with its name. Elementwise operations stay in the
layout their tensor operands share (a `x * 0.5` after a convolution costs no
Transpose); reductions remap their axes; transposes only retag the layout;
everything else computes in Keras's layout. Constants take the dtype of the
tensor they meet, as TensorFlow converts them.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from onnx import TensorProto, helper

from ..context import Tensor, is_identity
from ..errors import UnsupportedError, layer_where
from ..registry import register
from .common.calls import bound_call
from .common.calls import const as _uconst

_I64_MAX = np.iinfo(np.int64).max
_DTYPES = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "float64": TensorProto.DOUBLE,
           "bfloat16": TensorProto.BFLOAT16, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
           "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8,
           "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
           "bool": TensorProto.BOOL, "double": TensorProto.DOUBLE, "half": TensorProto.FLOAT16}
_RAW_DTYPES = {"DT_FLOAT": "float32", "DT_HALF": "float16", "DT_DOUBLE": "float64",
               "DT_INT32": "int32", "DT_INT64": "int64", "DT_INT8": "int8", "DT_UINT8": "uint8",
               "DT_INT16": "int16", "DT_BOOL": "bool", "DT_BFLOAT16": "bfloat16"}
_FLOATS = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16)


class _Ctx:
    """What a handler needs: the emitter context and the layer."""

    def __init__(self, ctx, layer):
        self.ctx, self.layer, self.g = ctx, layer, ctx.g

    def fail(self, msg):
        raise UnsupportedError([f"{layer_where(self.layer)}: {msg}"])


# -- values: Tensors or Python constants -------------------------------------------
def _np_dtype(dt):
    return helper.tensor_dtype_to_np_dtype(dt)


def _is_t(v) -> bool:
    return isinstance(v, Tensor)


def _const(c: _Ctx, value, dtype) -> Tensor:
    a = np.asarray(value, dtype=_np_dtype(dtype))
    if a.ndim == 0 and dtype == TensorProto.FLOAT:
        name = c.g.f32(float(a))
    else:
        name = _uconst(c.ctx, a, "const")
    return Tensor(name=name, shape=tuple(a.shape), dtype=dtype)


def _py_dtype(value):
    a = np.asarray(value)
    if a.dtype.kind == "b":
        return TensorProto.BOOL
    if a.dtype.kind in "iu":
        return TensorProto.INT32
    return TensorProto.FLOAT


def _tensor(c: _Ctx, v, dtype=None) -> Tensor:
    """A Tensor for v: tensors as they are, constants (lists may mix tensors)
    in `dtype` (default: what tf.convert_to_tensor makes of them)."""
    if _is_t(v):
        return v
    if isinstance(v, (list, tuple)) and any(_is_t(x) or isinstance(x, (list, tuple)) for x in v) \
            and any(_is_t(x) for x in _flat(v)):
        parts = [c.g.unsqueeze(_keras(c, _cast(c, _tensor(c, x, dtype), dtype)).name, [0]) for x in v]
        dt = dtype or next(x.dtype for x in _flat(v) if _is_t(x))
        return Tensor(name=c.g.op("Concat", *parts, axis=0), shape=(len(v),), dtype=dt)
    return _const(c, v, dtype if dtype is not None else _py_dtype(v))


def _flat(v):
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _flat(x)
    else:
        yield v


def _keras(c: _Ctx, t: Tensor) -> Tensor:
    return c.ctx.keras(t)


def _cast(c: _Ctx, t: Tensor, dtype) -> Tensor:
    if dtype is None or t.dtype == dtype:
        return t
    return replace(t, name=c.g.op("Cast", t.name, to=dtype), dtype=dtype, mask=None)


def _dtype_arg(c: _Ctx, value, default=None):
    if value is None:
        return default
    if isinstance(value, dict):   # a serialized DType
        value = value.get("config", value.get("name"))
    name = str(value).replace("tf.", "")
    if name not in _DTYPES:
        c.fail(f"dtype {value!r} has no ONNX equivalent")
    return _DTYPES[name]


def _axis(t: Tensor, a) -> int:
    return int(a) % max(t.rank, 1)


def _broadcast(c: _Ctx, shapes):
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = [s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0]
        known = [d for d in dims if d is not None and d != 1]
        if len(set(known)) > 1:
            c.fail(f"operands of shapes {[tuple(s) for s in shapes]} do not broadcast")
        if known:
            out.append(known[0])
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _elementwise(c: _Ctx, values, fn, out_dtype=None, dtype=None):
    """fn(g, *names) over tensors and constants, broadcast as numpy does, in
    the layout the tensor operands share when the constants allow it."""
    tensors = [v for v in values if _is_t(v)]
    if not tensors:
        c.fail("has no tensor operand")
    if dtype is None:
        floats = [t.dtype for t in tensors if t.dtype in _FLOATS]
        dtype = floats[0] if floats else tensors[0].dtype
    shapes = [v.shape if _is_t(v) else np.shape(v) for v in values]
    shape = _broadcast(c, shapes)
    rank = len(shape)
    perms = {None if is_identity(t.perm) else tuple(t.perm) for t in tensors}
    perm = perms.pop() if len(perms) == 1 else None
    if perm is not None and not all(t.rank == rank for t in tensors):
        perm = None
    names = []
    for v in values:
        if _is_t(v):
            t = v if perm is not None else _keras(c, v)
            names.append(_cast(c, t, dtype).name)
        else:
            a = np.asarray(v, dtype=_np_dtype(dtype))
            if perm is not None and a.ndim:
                a = np.transpose(a.reshape((1,) * (rank - a.ndim) + a.shape), perm)
            names.append(_const(c, a, dtype).name)
    y = fn(c.g, *names)
    mask = next((t.mask for t in tensors if t.mask is not None), None)
    return Tensor(name=y, shape=shape, perm=perm, dtype=out_dtype or dtype, mask=mask)


# -- the function table ---------------------------------------------------------------
SUPPORTED_FUNCTIONS: dict = {}    # symbol -> (handler, parameter names)


def _fn(*symbols, params=("x", "y")):
    def deco(handler):
        for s in symbols:
            SUPPORTED_FUNCTIONS[s] = (handler, tuple(params))
        return handler
    return deco


def _binary(op_type, out_bool=False):
    def handler(c, p):
        out = TensorProto.BOOL if out_bool else None
        return _elementwise(c, [p["x"], p["y"]], lambda g, a, b: g.op(op_type, a, b), out_dtype=out)
    return handler


for _syms, _op in ((("math.add", "__operators__.add", "add"), "Add"),
                   (("math.subtract", "subtract", "__operators__.sub"), "Sub"),
                   (("math.multiply", "multiply", "__operators__.mul"), "Mul"),
                   (("math.maximum", "maximum"), "Max"),
                   (("math.minimum", "minimum"), "Min")):
    _fn(*_syms)(_binary(_op))
for _syms, _op in ((("math.greater", "greater"), "Greater"),
                   (("math.greater_equal", "greater_equal"), "GreaterOrEqual"),
                   (("math.less", "less"), "Less"),
                   (("math.less_equal", "less_equal"), "LessOrEqual"),
                   (("math.equal", "equal", "__operators__.eq"), "Equal"),
                   (("math.logical_and", "logical_and", "__operators__.and_"), "And"),
                   (("math.logical_or", "logical_or", "__operators__.or_"), "Or"),
                   (("math.logical_xor", "logical_xor", "__operators__.xor"), "Xor")):
    _fn(*_syms)(_binary(_op, out_bool=True))


@_fn("math.not_equal", "not_equal", "__operators__.ne")
def _not_equal(c, p):
    return _elementwise(c, [p["x"], p["y"]], lambda g, a, b: g.op("Not", g.op("Equal", a, b)),
                        out_dtype=TensorProto.BOOL)


@_fn("math.truediv", "math.divide", "divide", "truediv", "__operators__.truediv")
def _truediv(c, p):
    ts = [v for v in (p["x"], p["y"]) if _is_t(v)]
    dtype = None
    if ts and all(t.dtype not in _FLOATS for t in ts):
        # tf.math.truediv of integers computes in float64 (int8/16: float32)
        small = all(t.dtype in (TensorProto.INT8, TensorProto.INT16, TensorProto.UINT8) for t in ts)
        dtype = TensorProto.FLOAT if small else TensorProto.DOUBLE
    return _elementwise(c, [p["x"], p["y"]], lambda g, a, b: g.op("Div", a, b), dtype=dtype)


@_fn("math.divide_no_nan", "divide_no_nan")
def _divide_no_nan(c, p):
    def f(g, a, b):
        zero = g.op("Equal", b, g.op("Sub", b, b))
        return g.op("Where", zero, g.op("Sub", b, b), g.op("Div", a, b))
    return _elementwise(c, [p["x"], p["y"]], f)


@_fn("math.floordiv", "floordiv", "compat.v1.floor_div", "math.floor_div", "__operators__.floordiv")
def _floordiv(c, p):
    def f(g, a, b, dtype):
        if dtype in _FLOATS:
            return g.op("Floor", g.op("Div", a, b))
        return g.op("Div", g.op("Sub", a, _floor_mod(g, a, b)), b)
    t = next(v for v in (p["x"], p["y"]) if _is_t(v))
    dtype = t.dtype
    return _elementwise(c, [p["x"], p["y"]], lambda g, a, b: f(g, a, b, dtype))


@_fn("math.floormod", "floormod", "math.mod", "mod", "__operators__.mod")
def _floormod(c, p):
    return _elementwise(c, [p["x"], p["y"]], _floor_mod)


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


@_fn("math.pow", "pow", "__operators__.pow")
def _pow(c, p):
    return _elementwise(c, [p["x"], p["y"]], lambda g, a, b: g.op("Pow", a, b))


@_fn("math.squared_difference", "squared_difference")
def _squared_difference(c, p):
    def f(g, a, b):
        d = g.op("Sub", a, b)
        return g.op("Mul", d, d)
    return _elementwise(c, [p["x"], p["y"]], f)


@_fn("math.add_n", "add_n", params=("inputs",))
def _add_n(c, p):
    vals = list(p["inputs"])
    return _elementwise(c, vals, lambda g, *ns: g.op("Sum", *ns) if len(ns) > 1 else g.op("Identity", ns[0]))


def _unary(fn, param="x", out_bool=False):
    def handler(c, p):
        x = p[param]
        if not _is_t(x):
            c.fail("has no tensor operand")
        y = fn(c.g, x.name, x, c, p)
        return replace(x, name=y, dtype=TensorProto.BOOL if out_bool else x.dtype)
    return handler


_UNARY = {
    ("math.negative", "negative", "__operators__.neg"): lambda g, x, t, c, p: g.op("Neg", x),
    ("math.abs", "abs", "__operators__.abs"): lambda g, x, t, c, p: g.op("Abs", x),
    ("math.exp", "exp"): lambda g, x, t, c, p: g.op("Exp", x),
    ("math.log", "log"): lambda g, x, t, c, p: g.op("Log", x),
    ("math.log1p", "log1p"): lambda g, x, t, c, p: g.op("Log", g.op("Add", x, _one(c, t))),
    ("math.expm1", "expm1"): lambda g, x, t, c, p: g.op("Sub", g.op("Exp", x), _one(c, t)),
    ("math.sqrt", "sqrt"): lambda g, x, t, c, p: g.op("Sqrt", x),
    ("math.rsqrt", "rsqrt"): lambda g, x, t, c, p: g.op("Reciprocal", g.op("Sqrt", x)),
    ("math.square", "square"): lambda g, x, t, c, p: g.op("Mul", x, x),
    ("math.reciprocal", "reciprocal"): lambda g, x, t, c, p: g.op("Reciprocal", x),
    ("math.sign", "sign"): lambda g, x, t, c, p: g.op("Sign", x),
    ("math.floor", "floor"): lambda g, x, t, c, p: g.op("Floor", x),
    ("math.ceil", "ceil"): lambda g, x, t, c, p: g.op("Ceil", x),
    ("math.round", "round"): lambda g, x, t, c, p: g.op("Round", x),
    ("math.sin", "sin"): lambda g, x, t, c, p: g.op("Sin", x),
    ("math.cos", "cos"): lambda g, x, t, c, p: g.op("Cos", x),
    ("math.tan", "tan"): lambda g, x, t, c, p: g.op("Tan", x),
    ("math.asin", "asin"): lambda g, x, t, c, p: g.op("Asin", x),
    ("math.acos", "acos"): lambda g, x, t, c, p: g.op("Acos", x),
    ("math.atan", "atan"): lambda g, x, t, c, p: g.op("Atan", x),
    ("math.sinh", "sinh"): lambda g, x, t, c, p: g.op("Sinh", x),
    ("math.cosh", "cosh"): lambda g, x, t, c, p: g.op("Cosh", x),
    ("math.asinh", "asinh"): lambda g, x, t, c, p: g.op("Asinh", x),
    ("math.acosh", "acosh"): lambda g, x, t, c, p: g.op("Acosh", x),
    ("math.atanh", "atanh"): lambda g, x, t, c, p: g.op("Atanh", x),
    ("math.tanh", "tanh", "nn.tanh"): lambda g, x, t, c, p: g.op("Tanh", x),
    ("math.sigmoid", "sigmoid", "nn.sigmoid"): lambda g, x, t, c, p: g.op("Sigmoid", x),
    ("math.erf", "erf"): lambda g, x, t, c, p: g.op("Erf", x),
    ("math.log_sigmoid", "log_sigmoid"): lambda g, x, t, c, p: g.op("Neg", g.op("Softplus", g.op("Neg", x))),
    ("identity",): lambda g, x, t, c, p: g.op("Identity", x),
}
for _syms, _f in _UNARY.items():
    _fn(*_syms, params=("x",))(_unary(_f))
_fn("math.logical_not", "logical_not", "__operators__.invert", params=("x",))(
    _unary(lambda g, x, t, c, p: g.op("Not", x), out_bool=True))
_fn("math.is_nan", "is_nan", params=("x",))(
    _unary(lambda g, x, t, c, p: g.op("IsNaN", x), out_bool=True))
_fn("math.is_inf", "is_inf", params=("x",))(
    _unary(lambda g, x, t, c, p: g.op("IsInf", x), out_bool=True))


def _one(c, t):
    return _const(c, 1, t.dtype).name


_ACTS = {
    ("nn.relu", "math.relu"): lambda g, x, t, c, p: g.op("Relu", x),
    ("nn.relu6",): lambda g, x, t, c, p: g.op("Clip", x, _const(c, 0, t.dtype).name, _const(c, 6, t.dtype).name),
    ("nn.elu",): lambda g, x, t, c, p: g.op("Elu", x, alpha=1.0),
    ("nn.selu",): lambda g, x, t, c, p: g.op("Selu", x, alpha=1.6732632423543772848170429916717,
                                             gamma=1.0507009873554804934193349852946),
    ("math.softplus", "nn.softplus"): lambda g, x, t, c, p: g.op("Softplus", x),
    ("nn.softsign", "math.softsign"): lambda g, x, t, c, p: g.op("Softsign", x),
    ("nn.leaky_relu",): lambda g, x, t, c, p: g.op("LeakyRelu", x, alpha=float(p.get("alpha", 0.2))),
    ("nn.gelu",): lambda g, x, t, c, p: g.gelu(x, approximate=bool(p.get("approximate", False))),
    ("nn.silu", "nn.swish"): lambda g, x, t, c, p: _silu(g, x, t, c, p.get("beta", 1.0)),
}
for _syms, _f in _ACTS.items():
    _fn(*_syms, params=("features", "alpha" if "nn.leaky_relu" in _syms else "approximate"
                        if "nn.gelu" in _syms else "beta"))(_unary(_f, "features"))


def _silu(g, x, t, c, beta):
    if _is_t(beta):
        c.fail("silu with a tensor beta is not supported")
    bx = x if float(beta) == 1.0 else g.op("Mul", x, _const(c, float(beta), t.dtype).name)
    return g.op("Mul", x, g.op("Sigmoid", bx))


@_fn("nn.softmax", "math.softmax", params=("logits", "axis"))
def _softmax(c, p):
    x = p["logits"]
    axis = -1 if p.get("axis") is None else int(p["axis"])
    return x.like(c.g.op("Softmax", x.name, axis=x.onnx_axis(axis)))


@_fn("nn.log_softmax", "math.log_softmax", params=("logits", "axis"))
def _log_softmax(c, p):
    x = p["logits"]
    axis = -1 if p.get("axis") is None else int(p["axis"])
    return x.like(c.g.op("LogSoftmax", x.name, axis=x.onnx_axis(axis)))


@_fn("math.l2_normalize", "nn.l2_normalize", "linalg.l2_normalize",
     params=("x", "axis", "epsilon", "name", "dim"))
def _l2_normalize(c, p):
    x = p["x"]
    axis = p.get("axis", p.get("dim"))
    axes = list(range(x.rank)) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    oaxes = sorted(x.onnx_axis(a) for a in axes)
    g = c.g
    ss = g.reduce("ReduceSumSquare", x.name, oaxes, keepdims=True)
    eps = _const(c, float(p.get("epsilon", 1e-12) or 1e-12), x.dtype).name
    return x.like(g.op("Mul", x.name, g.op("Reciprocal", g.op("Sqrt", g.op("Max", ss, eps)))))


@_fn("cast", "dtypes.cast", params=("x", "dtype"))
def _cast_fn(c, p):
    x = p["x"]
    dt = _dtype_arg(c, p.get("dtype"))
    if x.dtype in _FLOATS and dt == TensorProto.BOOL:
        return replace(x, name=c.g.op("Not", c.g.op("Equal", x.name, _const(c, 0, x.dtype).name)),
                       dtype=dt)
    return replace(_cast(c, x, dt), mask=x.mask)


@_fn("clip_by_value", params=("t", "clip_value_min", "clip_value_max"))
def _clip(c, p):
    x = p["t"]
    lo, hi = p.get("clip_value_min"), p.get("clip_value_max")
    if _is_t(lo) or _is_t(hi) or np.ndim(lo) or np.ndim(hi):
        y = _elementwise(c, [x, lo], lambda g, a, b: g.op("Max", a, b))
        return _elementwise(c, [y, hi], lambda g, a, b: g.op("Min", a, b))
    return x.like(c.g.op("Clip", x.name, _const(c, lo, x.dtype).name, _const(c, hi, x.dtype).name))


# -- reductions ---------------------------------------------------------------------------------
def _reduce(op_type):
    def handler(c, p):
        x = p["input_tensor"]
        axis = p.get("axis", p.get("reduction_indices"))
        keep = bool(p.get("keepdims", p.get("keep_dims")) or False)
        return _reduction(c, x, axis, keep, op_type)
    return handler


def _reduction(c, x, axis, keep, op_type):
    g = c.g
    axes = list(range(x.rank)) if axis is None else [axis] if np.ndim(axis) == 0 else list(axis)
    if any(_is_t(a) for a in axes):
        c.fail("reduction over axes given by a tensor is not supported")
    axes = sorted({_axis(x, a) for a in axes})
    oaxes = sorted(x.onnx_axis(a) for a in axes)
    name = x.name
    dtype = x.dtype
    if op_type in ("ReduceAny", "ReduceAll"):
        name = g.op("Cast", name, to=TensorProto.INT32)
        y = g.reduce("ReduceMax" if op_type == "ReduceAny" else "ReduceMin", name, oaxes, keepdims=keep)
        y = g.op("Cast", y, to=TensorProto.BOOL)
    elif op_type == "ReduceVariance" or op_type == "ReduceStd":
        mean = g.reduce("ReduceMean", name, oaxes, keepdims=True)
        d = g.op("Sub", name, mean)
        y = g.reduce("ReduceMean", g.op("Mul", d, d), oaxes, keepdims=keep)
        if op_type == "ReduceStd":
            y = g.op("Sqrt", y)
    else:
        y = g.reduce(op_type, name, oaxes, keepdims=keep)
    if keep:
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


for _name, _op in (("sum", "ReduceSum"), ("mean", "ReduceMean"), ("max", "ReduceMax"),
                   ("min", "ReduceMin"), ("prod", "ReduceProd"), ("logsumexp", "ReduceLogSumExp"),
                   ("any", "ReduceAny"), ("all", "ReduceAll"), ("variance", "ReduceVariance"),
                   ("std", "ReduceStd")):
    _fn(f"math.reduce_{_name}", f"reduce_{_name}", f"compat.v1.reduce_{_name}",
        params=("input_tensor", "axis", "keepdims", "name", "reduction_indices", "keep_dims"))(
        _reduce(_op))


def _arg(op_type):
    def handler(c, p):
        x = _keras(c, p["input"])
        axis = p.get("axis", p.get("dimension"))
        axis = 0 if axis is None else _axis(x, axis)
        y = c.g.op(op_type, x.name, axis=axis, keepdims=0)
        dt = _dtype_arg(c, p.get("output_type"), TensorProto.INT64)
        if dt != TensorProto.INT64:
            y = c.g.op("Cast", y, to=dt)
        return Tensor(name=y, shape=tuple(d for i, d in enumerate(x.shape) if i != axis), dtype=dt)
    return handler


_fn("math.argmax", "argmax", "compat.v1.argmax",
    params=("input", "axis", "output_type", "name", "dimension"))(_arg("ArgMax"))
_fn("math.argmin", "argmin", "compat.v1.argmin",
    params=("input", "axis", "output_type", "name", "dimension"))(_arg("ArgMin"))


@_fn("math.cumsum", "cumsum", params=("x", "axis", "exclusive", "reverse"))
def _cumsum(c, p):
    x = p["x"]
    axis = _axis(x, p.get("axis", 0) or 0)
    y = c.g.op("CumSum", x.name, c.g.i64(x.onnx_axis(axis)), exclusive=int(bool(p.get("exclusive"))),
               reverse=int(bool(p.get("reverse"))))
    return x.like(y)


# -- shapes and layout ------------------------------------------------------------------------
def _int64(c, v) -> str:
    """A 1-D int64 ONNX value from a constant list or a tensor (or a list mixing them)."""
    t = _tensor(c, v, TensorProto.INT64)
    t = _cast(c, _keras(c, t), TensorProto.INT64)
    return t.name if t.rank == 1 else c.g.op("Reshape", t.name, c.g.i64([-1]))


def _static_reshape(x: Tensor, shape):
    """The Keras shape after tf.reshape(x, shape): a -1 outside the batch axis
    is resolved when every other size is known (axis 0 taken as the batch)."""
    out = [None if d == -1 else d for d in shape]
    if -1 in shape[1:] and None not in x.shape[1:]:
        i = shape.index(-1, 1)
        rest = int(np.prod([d for j, d in enumerate(shape[1:], 1) if j != i], dtype=np.int64))
        out[i] = int(np.prod(x.shape[1:], dtype=np.int64)) // max(rest, 1)
    return tuple(out)


@_fn("reshape", "compat.v1.reshape", params=("tensor", "shape"))
def _reshape(c, p):
    x = _keras(c, p["tensor"])
    shape = p["shape"]
    if _is_t(shape) or any(_is_t(v) for v in _flat(shape)):
        y = c.g.op("Reshape", x.name, _int64(c, shape))
        if _is_t(shape):
            out_shape = (None,) * int(shape.shape[0])
        else:
            out_shape = tuple(None if _is_t(v) or v == -1 else int(v) for v in shape)
        return Tensor(name=y, shape=out_shape, dtype=x.dtype)
    shape = [int(d) for d in shape]
    if 0 in shape:
        c.fail("reshape to a zero-size axis is not supported")
    y = c.g.op("Reshape", x.name, c.g.i64(shape))
    return Tensor(name=y, shape=_static_reshape(x, shape), dtype=x.dtype)


@_fn("compat.v1.transpose", "transpose", "linalg.matrix_transpose", "linalg.transpose",
     params=("a", "perm", "name", "conjugate"))
def _transpose(c, p):
    x = p["a"]
    perm = p.get("perm")
    if _is_t(perm):
        c.fail("transpose with a permutation given by a tensor is not supported")
    if perm is None:
        perm = list(range(x.rank))[::-1]
        if c.layer.config.get("function", "").startswith("linalg."):
            perm = list(range(x.rank - 2)) + [x.rank - 1, x.rank - 2]
    perm = [_axis(x, a) for a in perm]
    shape = tuple(x.shape[a] for a in perm)
    if perm[0] == 0:
        # free: only the layout tag changes
        inv = list(np.argsort(perm))
        cur = x.perm or tuple(range(x.rank))
        new = tuple(int(inv[q]) for q in cur)
        return Tensor(name=x.name, shape=shape, perm=None if is_identity(new) else new, dtype=x.dtype)
    xk = _keras(c, x)
    return Tensor(name=c.g.op("Transpose", xk.name, perm=perm), shape=shape, dtype=x.dtype)


@_fn("expand_dims", "compat.v1.expand_dims", params=("input", "axis", "name", "dim"))
def _expand_dims(c, p):
    x = _keras(c, p["input"])
    axis = p.get("axis", p.get("dim"))
    a = int(axis) % (x.rank + 1)
    shape = x.shape[:a] + (1,) + x.shape[a:]
    return Tensor(name=c.g.unsqueeze(x.name, [a]), shape=shape, dtype=x.dtype)


@_fn("compat.v1.squeeze", "squeeze", params=("input", "axis", "name", "squeeze_dims"))
def _squeeze(c, p):
    x = _keras(c, p["input"])
    axis = p.get("axis", p.get("squeeze_dims"))
    if (axis is None or axis == []) and None in x.shape[1:]:
        y = c.g.op("Squeeze", x.name)
        return Tensor(name=y, shape=tuple(d for d in x.shape if d != 1), dtype=x.dtype)
    if axis is None or axis == []:
        # the static 1s, as Keras's shape says: a Squeeze with known output
        # rank (OpenVINO refuses one whose rank is only known at run time)
        axis = [i for i, d in enumerate(x.shape) if d == 1]
        if not axis:
            return x
    axes = sorted({_axis(x, a) for a in ([axis] if np.ndim(axis) == 0 else axis)})
    return Tensor(name=c.g.squeeze(x.name, axes), shape=tuple(d for i, d in enumerate(x.shape)
                                                                if i not in axes), dtype=x.dtype)


def _same_layout(c, values):
    """The values as tensors in one layout: the shared one, else Keras's."""
    ts = [_tensor(c, v) for v in values]
    perms = {None if is_identity(t.perm) else tuple(t.perm) for t in ts}
    ranks = {t.rank for t in ts}
    if len(perms) == 1 and len(ranks) == 1:
        return ts
    return [_keras(c, t) for t in ts]


@_fn("concat", "concatenate", params=("values", "axis"))
def _concat(c, p):
    vals = p["values"] if isinstance(p["values"], list) else [p["values"]]
    tensors = [v for v in vals if _is_t(v)]
    dtype = tensors[0].dtype if tensors else None
    ts = _same_layout(c, [_tensor(c, v, dtype) for v in vals])
    dtype = dtype or ts[0].dtype
    ts = [_cast(c, t, dtype) for t in ts]
    x = ts[0]
    axis = _axis(x, p.get("axis", 0))
    size = 0
    for t in ts:
        size = None if size is None or t.shape[axis] is None else size + t.shape[axis]
    shape = tuple(size if i == axis else d for i, d in enumerate(x.shape))
    if len(ts) == 1:
        return x
    y = c.g.op("Concat", *[t.name for t in ts], axis=x.onnx_axis(axis))
    return Tensor(name=y, shape=shape, perm=x.perm, dtype=dtype)


@_fn("stack", params=("values", "axis"))
def _stack(c, p):
    vals = p["values"] if isinstance(p["values"], list) else [p["values"]]
    dtype = next((v.dtype for v in vals if _is_t(v)), None)
    ts = [_keras(c, _cast(c, _tensor(c, v, dtype), dtype)) for v in vals]
    x = ts[0]
    a = int(p.get("axis", 0) or 0) % (x.rank + 1)
    parts = [c.g.unsqueeze(t.name, [a]) for t in ts]
    y = c.g.op("Concat", *parts, axis=a) if len(parts) > 1 else parts[0]
    return Tensor(name=y, shape=x.shape[:a] + (len(ts),) + x.shape[a:], dtype=x.dtype)


@_fn("unstack", params=("value", "num", "axis"))
def _unstack(c, p):
    x = _keras(c, p["value"])
    a = _axis(x, p.get("axis", 0) or 0)
    n = x.shape[a] if p.get("num") is None else int(p["num"])
    if n is None:
        c.fail("unstack along an axis of unknown size is not supported")
    outs = c.g.op("Split", x.name, c.g.i64([1] * n), axis=a, n_out=n)
    outs = outs if isinstance(outs, list) else [outs]
    shape = x.shape[:a] + x.shape[a + 1:]
    return [Tensor(name=c.g.squeeze(o, [a]), shape=shape, dtype=x.dtype) for o in outs]


@_fn("split", params=("value", "num_or_size_splits", "axis", "num", "name"))
def _split(c, p):
    x = p["value"]
    a = _axis(x, p.get("axis", 0) or 0)
    n = p["num_or_size_splits"]
    size = x.shape[a]
    if _is_t(n):
        c.fail("split sizes given by a tensor are not supported")
    if np.ndim(n) == 0:
        if size is None:
            c.fail("split into equal parts along an axis of unknown size is not supported")
        sizes = [size // int(n)] * int(n)
    else:
        sizes = [int(s) for s in n]
        if -1 in sizes:
            if size is None:
                c.fail("split with a -1 size along an axis of unknown size is not supported")
            sizes[sizes.index(-1)] = size - sum(s for s in sizes if s != -1)
    outs = c.g.op("Split", x.name, c.g.i64(sizes), axis=x.onnx_axis(a), n_out=len(sizes))
    outs = outs if isinstance(outs, list) else [outs]
    return [Tensor(name=o, shape=tuple(s if i == a else d for i, d in enumerate(x.shape)),
                   perm=x.perm, dtype=x.dtype) for o, s in zip(outs, sizes)]


@_fn("tile", params=("input", "multiples", "name"))
def _tile(c, p):
    x = _keras(c, p["input"])
    m = p["multiples"]
    shape = x.shape
    if not _is_t(m) and not any(_is_t(v) for v in _flat(m)):
        shape = tuple(None if d is None else d * int(k) for d, k in zip(x.shape, m))
    return Tensor(name=c.g.op("Tile", x.name, _int64(c, m)), shape=shape, dtype=x.dtype)


@_fn("broadcast_to", params=("input", "shape", "name"))
def _broadcast_to(c, p):
    x = _keras(c, p["input"])
    shape = p["shape"]
    if _is_t(shape):
        out = (None,) * int(shape.shape[0])
    else:
        out = tuple(None if _is_t(v) else int(v) for v in shape)
    return Tensor(name=c.g.op("Expand", x.name, _int64(c, shape)), shape=out, dtype=x.dtype)


@_fn("compat.v1.pad", "pad", params=("tensor", "paddings", "mode", "name", "constant_values"))
def _pad(c, p):
    x = _keras(c, p["tensor"])
    pads = p["paddings"]
    if _is_t(pads) or any(_is_t(v) for v in _flat(pads)):
        c.fail("paddings given by a tensor are not supported")
    pads = np.asarray(pads, np.int64).reshape(x.rank, 2)
    mode = str(p.get("mode", "CONSTANT")).upper()
    modes = {"CONSTANT": "constant", "REFLECT": "reflect"}
    if mode not in modes:
        c.fail(f"pad mode {mode!r} has no ONNX equivalent (CONSTANT and REFLECT convert)")
    value = p.get("constant_values", 0) or 0
    inputs = [x.name, c.g.i64(list(pads[:, 0]) + list(pads[:, 1]))]
    if mode == "CONSTANT" and value != 0:
        inputs.append(_const(c, value, x.dtype).name)
    y = c.g.op("Pad", *inputs, mode=modes[mode])
    shape = tuple(None if d is None else d + int(a) + int(b) for d, (a, b) in zip(x.shape, pads))
    return Tensor(name=y, shape=shape, dtype=x.dtype)


@_fn("compat.v1.gather", "gather", params=("params", "indices", "validate_indices", "name", "axis",
                                           "batch_dims"))
def _gather(c, p):
    x = _keras(c, p["params"])
    if int(p.get("batch_dims", 0) or 0):
        c.fail("gather with batch_dims != 0 is not supported")
    a = _axis(x, p.get("axis", 0) or 0)
    idx = p["indices"]
    it = _keras(c, _tensor(c, idx, TensorProto.INT64))
    shape = x.shape[:a] + tuple(it.shape) + x.shape[a + 1:]
    return Tensor(name=c.g.op("Gather", x.name, it.name, axis=a), shape=shape, dtype=x.dtype)


@_fn("where", "where_v2", params=("condition", "x", "y", "name"))
def _where(c, p):
    if p.get("x") is None or p.get("y") is None:
        c.fail("where(condition) without x and y returns coordinates, which is not supported")
    cond = p["condition"]
    vals = [cond, p["x"], p["y"]]
    data = [v for v in vals[1:] if _is_t(v)]
    dtype = data[0].dtype if data else _py_dtype(p["x"])
    return _where_mixed(c, _tensor(c, cond, TensorProto.BOOL), p["x"], p["y"], dtype)


def _where_mixed(c, cond, x, y, dtype):
    """Where(cond (bool), x, y (dtype)), broadcast in Keras's layout."""
    xs = [_keras(c, _cast(c, _tensor(c, v, dtype), dtype)) for v in (x, y)]
    ct = _keras(c, _cast(c, cond, TensorProto.BOOL))
    shape = _broadcast(c, [ct.shape] + [t.shape for t in xs])
    return Tensor(name=c.g.op("Where", ct.name, xs[0].name, xs[1].name), shape=shape, dtype=dtype)


@_fn("nn.bias_add", params=("value", "bias", "data_format", "name"))
def _bias_add(c, p):
    x = p["value"]
    b = p["bias"]
    if str(p.get("data_format") or "NHWC").startswith("NC") and x.rank > 2:
        bt = _tensor(c, b, x.dtype)
        bt = _keras(c, bt)
        b_name = c.g.unsqueeze(bt.name, list(range(1, x.rank - 1)))
        xk = _keras(c, x)
        return xk.like(c.g.op("Add", xk.name, b_name))
    return _elementwise(c, [x, b], lambda g, u, v: g.op("Add", u, v))


@_fn("compat.v1.shape", "shape", params=("input", "name", "out_type"))
def _shape(c, p):
    x = _keras(c, p["input"])
    dt = _dtype_arg(c, p.get("out_type"), TensorProto.INT32)
    y = c.g.op("Shape", x.name)
    if dt != TensorProto.INT64:
        y = c.g.op("Cast", y, to=dt)
    return Tensor(name=y, shape=(x.rank,), dtype=dt)


def _like(value):
    def handler(c, p):
        x = _keras(c, p["input"])
        dt = _dtype_arg(c, p.get("dtype"), x.dtype)
        v = helper.make_tensor("value", dt, [1], [value] if dt != TensorProto.BOOL else [bool(value)])
        y = c.g.op("ConstantOfShape", c.g.op("Shape", x.name), value=v)
        return Tensor(name=y, shape=x.shape, dtype=dt)
    return handler


_fn("zeros_like", params=("input", "dtype", "name"))(_like(0))
_fn("ones_like", params=("input", "dtype", "name"))(_like(1))


@_fn("one_hot", params=("indices", "depth", "on_value", "off_value", "axis", "dtype", "name"))
def _one_hot(c, p):
    x = _keras(c, p["indices"])
    depth = int(p["depth"])
    dt = _dtype_arg(c, p.get("dtype"), TensorProto.FLOAT)
    on = 1 if p.get("on_value") is None else p["on_value"]
    off = 0 if p.get("off_value") is None else p["off_value"]
    axis = -1 if p.get("axis") is None else int(p["axis"])
    a = axis % (x.rank + 1)
    tok = np.arange(depth, dtype=_np_dtype(x.dtype)).reshape((depth,) + (1,) * (x.rank - a))
    hit = c.g.op("Equal", c.g.unsqueeze(x.name, [a]), _uconst(c.ctx, tok, f"depth_{depth}"))
    y = c.g.op("Where", hit, _const(c, on, dt).name, _const(c, off, dt).name)
    return Tensor(name=y, shape=x.shape[:a] + (depth,) + x.shape[a:], dtype=dt)


@_fn("linalg.matmul", "matmul", "math.matmul", "__operators__.matmul",
     params=("a", "b", "transpose_a", "transpose_b", "adjoint_a", "adjoint_b", "a_is_sparse",
             "b_is_sparse", "output_type"))
def _matmul(c, p):
    a, b = _tensor(c, p["a"]), _tensor(c, p["b"])
    dtype = a.dtype if _is_t(p["a"]) else b.dtype
    a, b = _cast(c, a, dtype), _cast(c, b, dtype)

    def arranged(t, flip):
        if not flip:
            return _keras(c, t), t.shape
        perm = list(range(t.rank - 2)) + [t.rank - 1, t.rank - 2]
        return c.ctx.to_perm(t, perm), tuple(t.shape[i] for i in perm)
    at, ash = arranged(a, p.get("transpose_a") or p.get("adjoint_a"))
    bt, bsh = arranged(b, p.get("transpose_b") or p.get("adjoint_b"))
    batch = _broadcast(c, [ash[:-2], bsh[:-2]]) if len(ash) > 2 or len(bsh) > 2 else ()
    shape = tuple(batch) + (ash[-2], bsh[-1])
    return Tensor(name=c.g.op("MatMul", at.name, bt.name), shape=shape, dtype=dtype)


@_fn("einsum", params=("equation",))
def _einsum(c, p):
    c.fail("tf.einsum is saved by tf.keras without its operands (they are variadic arguments the "
           "config cannot hold), so the file does not describe the computation; use an "
           "EinsumDense layer or tf.linalg.matmul instead")


@_fn("range", params=("start", "limit", "delta", "dtype", "name"))
def _range(c, p):
    start, limit, delta = p.get("start"), p.get("limit"), p.get("delta", 1)
    if limit is None:
        start, limit = 0, start
    delta = 1 if delta is None else delta
    vals = [start, limit, delta]
    if p.get("dtype") is not None:
        dt = _dtype_arg(c, p["dtype"])
    elif any(_is_t(v) for v in vals):
        dt = next(v.dtype for v in vals if _is_t(v))
    else:
        dt = TensorProto.FLOAT if any(isinstance(v, float) for v in vals) else TensorProto.INT32
    names = []
    for v in vals:
        t = _cast(c, _keras(c, _tensor(c, v, dt)), dt)
        names.append(c.g.op("Reshape", t.name, c.g.i64([])) if t.rank else t.name)
    n = None
    if not any(_is_t(v) for v in vals):
        n = len(np.arange(start, limit, delta))
    return Tensor(name=c.g.op("Range", *names), shape=(n,), dtype=dt)


@_fn("linalg.band_part", params=("input", "num_lower", "num_upper", "name"))
def _band_part(c, p):
    x = _keras(c, p["input"])
    lo, hi = p.get("num_lower"), p.get("num_upper")
    m, n = x.shape[-2], x.shape[-1]
    if _is_t(lo) or _is_t(hi) or m is None or n is None:
        c.fail("band_part needs constant band widths and a static matrix size")
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi))
    y = c.g.op("Where", c.ctx.const(keep, f"band_{m}x{n}_{lo}_{hi}"), x.name, _const(c, 0, x.dtype).name)
    return x.like(y)


@_fn("image.resize", "compat.v2.image.resize",
     params=("images", "size", "method", "preserve_aspect_ratio", "antialias", "name"))
def _image_resize(c, p):
    from .common.resample import resize_image
    size = p.get("size")
    if _is_t(size) or any(_is_t(v) for v in _flat(size)) or p.get("preserve_aspect_ratio"):
        c.fail("image.resize needs a constant size and preserve_aspect_ratio=False")
    method = str(p.get("method") or "bilinear").lower().replace("resizemethod.", "")
    method = {"nearest_neighbor": "nearest"}.get(method, method)
    x = p["images"]
    if x.dtype != TensorProto.FLOAT:
        x = _cast(c, x, TensorProto.FLOAT)
    antialias = bool(p.get("antialias")) and method not in ("nearest", "area")
    h, w = int(size[0]), int(size[1])
    return resize_image(c.ctx, c.ctx.channels_first(x), h, w, method, c.layer, antialias=antialias)


def _depth_space(op_type):
    def handler(c, p):
        x = p["input"]
        if str(p.get("data_format") or "NHWC") != "NHWC":
            c.fail(f"{op_type} with data_format {p.get('data_format')!r} is not supported")
        bs = int(p["block_size"])
        xc = c.ctx.channels_first(x)
        kw = {"mode": "DCR"} if op_type == "DepthToSpace" else {}
        y = c.g.op(op_type, xc.name, blocksize=bs, **kw)
        b, hh, ww, ch = x.shape
        up = op_type == "DepthToSpace"
        shape = (b, None if hh is None else (hh * bs if up else hh // bs),
                 None if ww is None else (ww * bs if up else ww // bs),
                 None if ch is None else (ch // (bs * bs) if up else ch * bs * bs))
        return Tensor(name=y, shape=shape, perm=xc.perm, dtype=x.dtype)
    return handler


_fn("nn.depth_to_space", "compat.v1.depth_to_space", "nn.depth_to_space_v2",
    params=("input", "block_size", "data_format", "name"))(_depth_space("DepthToSpace"))
_fn("nn.space_to_depth", "compat.v1.space_to_depth", "nn.space_to_depth_v2",
    params=("input", "block_size", "data_format", "name"))(_depth_space("SpaceToDepth"))


@_fn("math.reduce_euclidean_norm", "reduce_euclidean_norm",
     params=("input_tensor", "axis", "keepdims", "name"))
def _euclidean_norm(c, p):
    x = p["input_tensor"]
    sq = x.like(c.g.op("Mul", x.name, x.name))
    t = _reduction(c, sq, p.get("axis"), bool(p.get("keepdims") or False), "ReduceSum")
    return t.like(c.g.op("Sqrt", t.name))


# -- x[...] ----------------------------------------------------------------------------------------
@_fn("__operators__.getitem", params=("tensor", "slice_spec", "var"))
def _getitem(c, p):
    x = _keras(c, p["tensor"])
    spec = p["slice_spec"]
    spec = spec if isinstance(spec, list) else [spec]
    items = []
    for s in spec:
        if isinstance(s, dict) and s.get("class_name") == "__ellipsis__":
            items.append("...")
        elif isinstance(s, dict):
            for k in ("start", "stop", "step"):
                if _is_t(s.get(k)):
                    c.fail("slicing with tensor bounds is not supported")
            items.append(("slice", s.get("start"), s.get("stop"), s.get("step")))
        elif s is None:
            items.append("newaxis")
        elif _is_t(s):
            c.fail("indexing with a tensor is not supported")
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            items.append(("index", int(s)))
        else:
            c.fail(f"slice item {s!r} is not supported")
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
                c.fail("a slice step of 0 is invalid")
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
    if axes:
        y = c.g.op("Slice", y, c.g.i64(starts), c.g.i64(ends), c.g.i64(axes), c.g.i64(steps))
    if squeeze:
        y = c.g.squeeze(y, squeeze)
    if new_axes:
        y = c.g.unsqueeze(y, new_axes)
    if y == x.name:
        y = c.g.op("Identity", y)
    return Tensor(name=y, shape=tuple(shape), dtype=x.dtype)


# -- the layers ---------------------------------------------------------------------------------------
def _unmasked(out) -> list:
    """Op layers drop Keras masks (tf.keras and Keras 3 alike)."""
    return [replace(t, mask=None) for t in (out if isinstance(out, list) else [out])]


def _plain(value):
    """Serialized constants as plain values: Keras 3 writes numpy arrays as
    {"class_name": "__numpy__", "config": {"value": ..., "dtype": ...}}."""
    if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):
        conf = value.get("config") or {}
        return np.asarray(conf.get("value"), dtype=conf.get("dtype") or None)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _plain(v) for k, v in value.items()}
    return value


def _bind(names, args, kw):
    args, kw = _plain(list(args)), _plain(dict(kw))
    p = dict(zip(names, args))
    for k, v in kw.items():
        if k != "name":
            p[k] = v
    return p


def _check_tfop(layer, opset) -> list:
    fn = layer.config.get("function")
    if isinstance(fn, dict):
        fn = fn.get("config", fn)
    if fn not in SUPPORTED_FUNCTIONS:
        return [f"TensorFlow function tf.{fn} is not one this converter knows (see "
                f"bridge.emitters.tfops.SUPPORTED_FUNCTIONS); replace it with a Keras layer, or "
                f"register an emitter for '{layer.class_name}' that handles it"]
    return []


@register("TFOpLambda", "SlicingOpLambda", check=_check_tfop)
def tf_op_lambda(layer, inputs, ctx):
    """TFOpLambda / SlicingOpLambda(function): the TF symbol applied to the
    call's first argument and keyword arguments (see SUPPORTED_FUNCTIONS)."""
    fn = layer.config.get("function")
    handler, names = SUPPORTED_FUNCTIONS[fn]
    args, kw = bound_call(ctx.call, inputs, preserve=True)
    c = _Ctx(ctx, layer)
    out = handler(c, _bind(names, args, kw))
    return _unmasked(out)


# -- TensorFlowOpLayer (TF 2.0-2.3) ------------------------------------------------------------------
def _attr(node, key, default=None):
    a = (node.get("attr") or {}).get(key)
    if a is None:
        return default
    if "b" in a:
        return bool(a["b"])
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "type" in a:
        return _RAW_DTYPES.get(a["type"], a["type"])
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "f" in lst:
            return [float(v) for v in lst["f"]]
        return []
    if "s" in a:
        import base64
        return base64.b64decode(a["s"]).decode()
    return default


def _raw(symbol, names, extra=None):
    """A raw op handled by a TFOpLambda handler: inputs bound to `names`,
    attributes mapped by `extra(node) -> dict`."""
    def handler(c, node, ins):
        p = dict(zip(names, ins))
        if extra:
            p.update(extra(node, ins))
        return SUPPORTED_FUNCTIONS[symbol][0](c, p)
    return handler


SUPPORTED_RAW_OPS = {
    "Add": _raw("math.add", ("x", "y")), "AddV2": _raw("math.add", ("x", "y")),
    "Sub": _raw("math.subtract", ("x", "y")), "Mul": _raw("math.multiply", ("x", "y")),
    "RealDiv": _raw("math.truediv", ("x", "y")), "Div": _raw("math.truediv", ("x", "y")),
    "FloorDiv": _raw("math.floordiv", ("x", "y")), "FloorMod": _raw("math.floormod", ("x", "y")),
    "Maximum": _raw("math.maximum", ("x", "y")), "Minimum": _raw("math.minimum", ("x", "y")),
    "Pow": _raw("math.pow", ("x", "y")), "SquaredDifference": _raw("math.squared_difference", ("x", "y")),
    "Greater": _raw("math.greater", ("x", "y")), "GreaterEqual": _raw("math.greater_equal", ("x", "y")),
    "Less": _raw("math.less", ("x", "y")), "LessEqual": _raw("math.less_equal", ("x", "y")),
    "Equal": _raw("math.equal", ("x", "y")), "NotEqual": _raw("math.not_equal", ("x", "y")),
    "LogicalAnd": _raw("math.logical_and", ("x", "y")), "LogicalOr": _raw("math.logical_or", ("x", "y")),
    "LogicalNot": _raw("math.logical_not", ("x",)),
    "Neg": _raw("math.negative", ("x",)), "Abs": _raw("math.abs", ("x",)), "Exp": _raw("math.exp", ("x",)),
    "Log": _raw("math.log", ("x",)), "Log1p": _raw("math.log1p", ("x",)), "Sqrt": _raw("math.sqrt", ("x",)),
    "Rsqrt": _raw("math.rsqrt", ("x",)), "Square": _raw("math.square", ("x",)),
    "Reciprocal": _raw("math.reciprocal", ("x",)), "Sign": _raw("math.sign", ("x",)),
    "Floor": _raw("math.floor", ("x",)), "Ceil": _raw("math.ceil", ("x",)), "Round": _raw("math.round", ("x",)),
    "Sin": _raw("math.sin", ("x",)), "Cos": _raw("math.cos", ("x",)), "Tanh": _raw("math.tanh", ("x",)),
    "Sigmoid": _raw("math.sigmoid", ("x",)), "Erf": _raw("math.erf", ("x",)),
    "Identity": _raw("identity", ("x",)),
    "Relu": _raw("nn.relu", ("features",)), "Relu6": _raw("nn.relu6", ("features",)),
    "Elu": _raw("nn.elu", ("features",)), "Selu": _raw("nn.selu", ("features",)),
    "Softplus": _raw("math.softplus", ("features",)), "Softsign": _raw("nn.softsign", ("features",)),
    "LeakyRelu": _raw("nn.leaky_relu", ("features",), lambda n, i: {"alpha": _attr(n, "alpha", 0.2)}),
    "Softmax": _raw("nn.softmax", ("logits",)), "LogSoftmax": _raw("nn.log_softmax", ("logits",)),
    "Cast": _raw("cast", ("x",), lambda n, i: {"dtype": _attr(n, "DstT")}),
    "ClipByValue": _raw("clip_by_value", ("t", "clip_value_min", "clip_value_max")),
    **{op: _raw(f"math.reduce_{name}", ("input_tensor", "axis"),
                lambda n, i: {"keepdims": _attr(n, "keep_dims", False)})
       for op, name in (("Sum", "sum"), ("Mean", "mean"), ("Max", "max"), ("Min", "min"),
                        ("Prod", "prod"), ("Any", "any"), ("All", "all"))},
    "ArgMax": _raw("math.argmax", ("input", "axis"), lambda n, i: {"output_type": _attr(n, "output_type")}),
    "ArgMin": _raw("math.argmin", ("input", "axis"), lambda n, i: {"output_type": _attr(n, "output_type")}),
    "Cumsum": _raw("math.cumsum", ("x", "axis"), lambda n, i: {"exclusive": _attr(n, "exclusive", False),
                                                               "reverse": _attr(n, "reverse", False)}),
    "Reshape": _raw("reshape", ("tensor", "shape")),
    "Transpose": _raw("compat.v1.transpose", ("a", "perm")),
    "ExpandDims": _raw("expand_dims", ("input", "axis")),
    "Squeeze": _raw("compat.v1.squeeze", ("input",), lambda n, i: {"axis": _attr(n, "squeeze_dims", [])}),
    "Tile": _raw("tile", ("input", "multiples")),
    "Pad": _raw("compat.v1.pad", ("tensor", "paddings")),
    "PadV2": _raw("compat.v1.pad", ("tensor", "paddings", "constant_values")),
    "MirrorPad": _raw("compat.v1.pad", ("tensor", "paddings"), lambda n, i: {"mode": _attr(n, "mode")}),
    "GatherV2": _raw("gather", ("params", "indices", "axis"),
                     lambda n, i: {"batch_dims": _attr(n, "batch_dims", 0)}),
    "SelectV2": _raw("where", ("condition", "x", "y")),
    "BiasAdd": _raw("nn.bias_add", ("value", "bias"),
                    lambda n, i: {"data_format": _attr(n, "data_format", "NHWC")}),
    "Shape": _raw("shape", ("input",), lambda n, i: {"out_type": _attr(n, "out_type", "int32")}),
    "ZerosLike": _raw("zeros_like", ("input",)), "OnesLike": _raw("ones_like", ("input",)),
    "AddN": lambda c, n, ins: SUPPORTED_FUNCTIONS["math.add_n"][0](c, {"inputs": list(ins)}),
    "ConcatV2": lambda c, n, ins: SUPPORTED_FUNCTIONS["concat"][0](c, {"values": list(ins[:-1]),
                                                                      "axis": ins[-1]}),
    "Pack": lambda c, n, ins: SUPPORTED_FUNCTIONS["stack"][0](c, {"values": list(ins),
                                                                 "axis": _attr(n, "axis", 0)}),
    "Unpack": lambda c, n, ins: SUPPORTED_FUNCTIONS["unstack"][0](c, {"value": ins[0], "num": _attr(n, "num"),
                                                                     "axis": _attr(n, "axis", 0)}),
    "Split": lambda c, n, ins: SUPPORTED_FUNCTIONS["split"][0](c, {"value": ins[1], "axis": ins[0],
                                                                  "num_or_size_splits": _attr(n, "num_split")}),
    "SplitV": lambda c, n, ins: SUPPORTED_FUNCTIONS["split"][0](c, {"value": ins[0], "num_or_size_splits": ins[1],
                                                                   "axis": ins[2]}),
    "MatMul": _raw("linalg.matmul", ("a", "b"), lambda n, i: {"transpose_a": _attr(n, "transpose_a", False),
                                                              "transpose_b": _attr(n, "transpose_b", False)}),
    "BatchMatMulV2": _raw("linalg.matmul", ("a", "b"), lambda n, i: {"adjoint_a": _attr(n, "adj_x", False),
                                                                     "adjoint_b": _attr(n, "adj_y", False)}),
    "BatchMatMul": _raw("linalg.matmul", ("a", "b"), lambda n, i: {"adjoint_a": _attr(n, "adj_x", False),
                                                                   "adjoint_b": _attr(n, "adj_y", False)}),
}


def _check_tf_op_layer(layer, opset) -> list:
    op = (layer.config.get("node_def") or {}).get("op")
    if op not in SUPPORTED_RAW_OPS:
        return [f"TensorFlow op '{op}' is not one this converter knows (see "
                f"bridge.emitters.tfops.SUPPORTED_RAW_OPS); rebuild the model with a newer "
                f"tf.keras or replace the operation with a Keras layer"]
    return []


def _raw_constant(value):
    if isinstance(value, dict) and "config" in value:   # a serialized numpy array
        value = value["config"].get("value", value)
    return value


@register("TensorFlowOpLayer", check=_check_tf_op_layer)
def tensorflow_op_layer(layer, inputs, ctx):
    """TensorFlowOpLayer(node_def, constants): the raw op applied to the
    inbound tensors, with the constants at their input positions."""
    node = layer.config.get("node_def") or {}
    constants = {int(k): _raw_constant(v) for k, v in (layer.config.get("constants") or {}).items()}
    n_in = len(node.get("input") or []) or (len(inputs) + len(constants))
    tensors = iter(inputs)
    ins = []
    for i in range(n_in):
        ins.append(constants[i] if i in constants else next(tensors, None))
    c = _Ctx(ctx, layer)
    out = SUPPORTED_RAW_OPS[node["op"]](c, node, ins)
    return _unmasked(out)


# -- Keras 3 operations in functional models (keras.ops.*) ------------------------------------
# The reader names them "ops.<Class>" (module keras.src.ops.*), apart from the
# layers of the same name. Arguments are positional (tensors and constants);
# the operation's own options are in its config.
def _k3(symbol, names, conf_keys=()):
    """A Keras 3 op handled by a TFOpLambda handler."""
    def handler(c, args, kw, conf):
        p = dict(zip(names, args))
        p.update({k: v for k, v in kw.items() if k != "name"})
        for ours, theirs in conf_keys:
            if theirs in conf:
                p[ours] = conf[theirs]
        return SUPPORTED_FUNCTIONS[symbol][0](c, p)
    return handler


def _k3_reduce(symbol):
    return _k3(symbol, ("input_tensor",), (("axis", "axis"), ("keepdims", "keepdims")))


def _k3_slice_spec(key):
    def item(k):
        if isinstance(k, dict) and k.get("class_name") == "__slice__":
            return dict(k.get("config") or {})
        if isinstance(k, dict) and k.get("class_name") in ("__ellipsis__", "__builtin__ellipsis"):
            return {"class_name": "__ellipsis__"}
        if k is Ellipsis or k == "...":
            return {"class_name": "__ellipsis__"}
        return k
    return [item(k) for k in key] if isinstance(key, list) else [item(key)]


def _k3_getitem(c, args, kw, conf):
    return SUPPORTED_FUNCTIONS["__operators__.getitem"][0](
        c, {"tensor": args[0], "slice_spec": _k3_slice_spec(args[1])})


def _k3_split(c, args, kw, conf):
    x = args[0]
    n = conf.get("indices_or_sections")
    axis = _axis(x, conf.get("axis", 0))
    if isinstance(n, (list, tuple)):   # split points, numpy style
        size = x.shape[axis]
        if size is None:
            c.fail("split at indices along an axis of unknown size is not supported")
        pts = [0] + [int(i) for i in n] + [size]
        n = [b - a for a, b in zip(pts, pts[1:])]
    return SUPPORTED_FUNCTIONS["split"][0](c, {"value": x, "num_or_size_splits": n, "axis": axis})


def _k3_einsum(c, args, kw, conf):
    from .common.einsum import relabel
    eq = str(conf.get("subscripts")).replace(" ", "")
    if "..." in eq:
        c.fail(f"einsum {eq!r} with an ellipsis is not supported")
    ins, out = eq.split("->")
    terms = ins.split(",")
    ts = [_keras(c, _tensor(c, a)) for a in args]
    rel = relabel(*terms, out)
    y = c.g.op("Einsum", *[t.name for t in ts], equation=",".join(rel[:-1]) + "->" + rel[-1])
    sizes = {}
    for term, t in zip(terms, ts):
        for ch, d in zip(term, t.shape):
            if d is not None:
                sizes[ch] = d
    return Tensor(name=y, shape=tuple(sizes.get(ch) for ch in out), dtype=ts[0].dtype)


def _k3_swapaxes(c, args, kw, conf):
    x = args[0]
    perm = list(range(x.rank))
    a, b = _axis(x, conf["axis1"]), _axis(x, conf["axis2"])
    perm[a], perm[b] = perm[b], perm[a]
    return SUPPORTED_FUNCTIONS["transpose"][0](c, {"a": x, "perm": perm})


def _k3_pad(c, args, kw, conf):
    mode = str(conf.get("mode", "constant")).upper()
    p = {"tensor": args[0], "paddings": conf.get("pad_width"), "mode": mode}
    if len(args) > 1:
        p["constant_values"] = args[1]
    p.update({k: v for k, v in kw.items() if k == "constant_values"})
    return SUPPORTED_FUNCTIONS["compat.v1.pad"][0](c, p)


def _k3_normalize(c, args, kw, conf):
    if int(conf.get("order", 2)) != 2:
        c.fail("normalize with an order other than 2 is not supported")
    x = args[0]
    g = c.g
    axis = conf.get("axis", -1)
    axes = [axis] if isinstance(axis, int) else list(axis)
    ss = g.reduce("ReduceSumSquare", x.name, sorted(x.onnx_axis(a) for a in axes), keepdims=True)
    eps = conf.get("epsilon")
    inv = g.op("Min", g.op("Reciprocal", g.op("Sqrt", ss)),
               _const(c, 1.0 / (1e-7 if eps is None else float(eps)), x.dtype).name)
    return x.like(g.op("Mul", x.name, inv))


def _k3_cast(c, args, kw, conf):
    dt = conf.get("dtype")
    if isinstance(dt, dict):
        dt = (dt.get("config") or {}).get("name", dt)
    return SUPPORTED_FUNCTIONS["cast"][0](c, {"x": args[0], "dtype": dt})


def _k3_where(c, args, kw, conf):
    return SUPPORTED_FUNCTIONS["where"][0](c, {"condition": args[0], "x": args[1], "y": args[2]})


def _k3_stack_like(symbol):
    def handler(c, args, kw, conf):
        vals = args[0] if isinstance(args[0], list) else list(args)
        return SUPPORTED_FUNCTIONS[symbol][0](c, {"values": vals, "axis": conf.get("axis", 0)})
    return handler


SUPPORTED_KERAS_OPS = {
    "Add": _k3("math.add", ("x", "y")), "Subtract": _k3("math.subtract", ("x", "y")),
    "Multiply": _k3("math.multiply", ("x", "y")), "Divide": _k3("math.truediv", ("x", "y")),
    "TrueDivide": _k3("math.truediv", ("x", "y")), "FloorDivide": _k3("math.floordiv", ("x", "y")),
    "Mod": _k3("math.floormod", ("x", "y")), "Power": _k3("math.pow", ("x", "y")),
    "Maximum": _k3("math.maximum", ("x", "y")), "Minimum": _k3("math.minimum", ("x", "y")),
    "Greater": _k3("math.greater", ("x", "y")), "GreaterEqual": _k3("math.greater_equal", ("x", "y")),
    "Less": _k3("math.less", ("x", "y")), "LessEqual": _k3("math.less_equal", ("x", "y")),
    "Equal": _k3("math.equal", ("x", "y")), "NotEqual": _k3("math.not_equal", ("x", "y")),
    "LogicalAnd": _k3("math.logical_and", ("x", "y")), "LogicalOr": _k3("math.logical_or", ("x", "y")),
    "LogicalNot": _k3("math.logical_not", ("x",)),
    "Negative": _k3("math.negative", ("x",)), "Absolute": _k3("math.abs", ("x",)),
    "Abs": _k3("math.abs", ("x",)), "Exp": _k3("math.exp", ("x",)), "Log": _k3("math.log", ("x",)),
    "Log1p": _k3("math.log1p", ("x",)), "Expm1": _k3("math.expm1", ("x",)),
    "Sqrt": _k3("math.sqrt", ("x",)), "Rsqrt": _k3("math.rsqrt", ("x",)), "Square": _k3("math.square", ("x",)),
    "Reciprocal": _k3("math.reciprocal", ("x",)), "Sign": _k3("math.sign", ("x",)),
    "Floor": _k3("math.floor", ("x",)), "Ceil": _k3("math.ceil", ("x",)), "Round": _k3("math.round", ("x",)),
    "Sin": _k3("math.sin", ("x",)), "Cos": _k3("math.cos", ("x",)), "Tan": _k3("math.tan", ("x",)),
    "Tanh": _k3("math.tanh", ("x",)), "Sigmoid": _k3("math.sigmoid", ("x",)), "Erf": _k3("math.erf", ("x",)),
    "Relu": _k3("nn.relu", ("features",)), "Relu6": _k3("nn.relu6", ("features",)),
    "Elu": _k3("nn.elu", ("features",)), "Selu": _k3("nn.selu", ("features",)),
    "Softplus": _k3("math.softplus", ("features",)), "Softsign": _k3("nn.softsign", ("features",)),
    "Silu": _k3("nn.silu", ("features",)), "Swish": _k3("nn.silu", ("features",)),
    "LeakyRelu": _k3("nn.leaky_relu", ("features",), (("alpha", "negative_slope"),)),
    "Gelu": _k3("nn.gelu", ("features",), (("approximate", "approximate"),)),
    "LogSigmoid": _k3("math.log_sigmoid", ("x",)),
    "Softmax": _k3("nn.softmax", ("logits",), (("axis", "axis"),)),
    "LogSoftmax": _k3("nn.log_softmax", ("logits",), (("axis", "axis"),)),
    "Sum": _k3_reduce("math.reduce_sum"), "Mean": _k3_reduce("math.reduce_mean"),
    "Max": _k3_reduce("math.reduce_max"), "Min": _k3_reduce("math.reduce_min"),
    "Prod": _k3_reduce("math.reduce_prod"), "Var": _k3_reduce("math.reduce_variance"),
    "Std": _k3_reduce("math.reduce_std"), "Logsumexp": _k3_reduce("math.reduce_logsumexp"),
    "Any": _k3_reduce("math.reduce_any"), "All": _k3_reduce("math.reduce_all"),
    "Argmax": _k3("math.argmax", ("input",), (("axis", "axis"),)),
    "Argmin": _k3("math.argmin", ("input",), (("axis", "axis"),)),
    "Cumsum": _k3("math.cumsum", ("x",), (("axis", "axis"),)),
    "Reshape": _k3("reshape", ("tensor",), (("shape", "newshape"),)),
    "Transpose": _k3("transpose", ("a",), (("perm", "axes"),)),
    "ExpandDims": _k3("expand_dims", ("input",), (("axis", "axis"),)),
    "Squeeze": _k3("squeeze", ("input",), (("axis", "axis"),)),
    "Concatenate": _k3_stack_like("concat"), "Stack": _k3_stack_like("stack"),
    "Split": _k3_split, "Tile": _k3("tile", ("input",), (("multiples", "repeats"),)),
    "Take": _k3("gather", ("params", "indices"), (("axis", "axis"),)),
    "Matmul": _k3("linalg.matmul", ("a", "b")), "Einsum": _k3_einsum, "Swapaxes": _k3_swapaxes,
    "Pad": _k3_pad, "Clip": _k3("clip_by_value", ("t",), (("clip_value_min", "x_min"),
                                                          ("clip_value_max", "x_max"))),
    "Cast": _k3_cast, "Where": _k3_where, "GetItem": _k3_getitem, "Normalize": _k3_normalize,
    "ZerosLike": _k3("zeros_like", ("input",)), "OnesLike": _k3("ones_like", ("input",)),
    "BroadcastTo": _k3("broadcast_to", ("input",), (("shape", "shape"),)),
}


def _check_keras_op(layer, opset) -> list:
    op = layer.class_name[len("ops."):]
    return [] if op in SUPPORTED_KERAS_OPS else [
        f"Keras 3 operation keras.ops.{op} is not one this converter knows (see "
        f"bridge.emitters.tfops.SUPPORTED_KERAS_OPS); replace it with a Keras layer, or register "
        f"an emitter for 'ops.{op}'"]


def keras_operation(layer, inputs, ctx):
    """A Keras 3 operation (keras.ops.*) recorded in a functional model: its
    positional arguments, keywords and config (see SUPPORTED_KERAS_OPS)."""
    args, kw = bound_call(ctx.call, inputs, preserve=True)
    if len(args) == 1 and isinstance(args[0], list) and ctx.call.args is None \
            and layer.class_name not in ("ops.Concatenate", "ops.Stack"):
        args = args[0]
    op = layer.class_name[len("ops."):]
    out = SUPPORTED_KERAS_OPS[op](_Ctx(ctx, layer), _plain(list(args)), _plain(dict(kw)), layer.config)
    return _unmasked(out)


for _op in SUPPORTED_KERAS_OPS:
    register("ops." + _op, check=_check_keras_op)(keras_operation)
