"""What the names in a Lambda body mean: the values the interpreter
(interpret.py) moves around, and the operations on them.

A value is a bridge Tensor, a Python constant (number, string, None,
Ellipsis, slice, tuple, list, dict, numpy array), a `Shape` (a tensor's
static shape, as `x.shape` / `K.int_shape(x)` give it), a `Ref` (a path in
a module a Lambda may use: `tf.math.add`, `K.mean`, `np.pi`) or a `Method`
(an attribute of a tensor or shape that is called).

The file does not say what a global name was bound to, so names are read
by the conventions Keras code follows: `tf` / `tensorflow`, `K` / `backend`
(the Keras backend), `keras` / `tf_keras`, `ops` (keras.ops), `np` /
`numpy`, `math`, and Python's builtins; `import` statements inside the body
are read the same way. Anything else (a helper function, a custom object,
a module of the user's) is refused: its code is not in the file.

Operations on tensors go through the op table (bridge/emitters/tfops),
through the front-end of the module the body names ("tf", "K", "keras");
operations on constants are computed here, in Python, for numbers,
strings, tuples and lists only, and numpy / math functions are called on
constants only, from an allow-list.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

from ...context import Tensor
from ..tfops.all_ops import TABLE
from ..tfops.backend import K
from ...dtypes import ONNX_DTYPES
from ..tfops.keras_ops import KERAS
from ..tfops.tf_functions import TF
from .interpret import Refused

_ROOTS = {"tf": "tf", "tensorflow": "tf", "K": "K", "backend": "K", "KB": "K", "kb": "K",
          "keras": "keras", "tf_keras": "keras", "ops": "ops", "np": "np", "numpy": "np", "math": "math"}
ROOT_NAMES = frozenset(_ROOTS)
_MODULES = {"tensorflow": "tf", "keras": "keras", "tf_keras": "keras", "numpy": "np", "math": "math"}
_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
_CONSTANTS = {("np", "pi"): math.pi, ("np", "e"): math.e, ("np", "inf"): math.inf, ("np", "newaxis"): None,
              ("math", "pi"): math.pi, ("math", "e"): math.e, ("math", "inf"): math.inf,
              ("tf", "newaxis"): None}
_BUILTINS = ("abs", "len", "min", "max", "int", "float", "bool", "round", "tuple", "list", "range", "slice",
             "sum", "pow")
# numpy / math functions that are pure arithmetic on constants
_NUMERIC = {"sqrt", "exp", "log", "log2", "log10", "abs", "square", "array", "asarray", "float32", "float64",
            "int32", "int64", "ones", "zeros", "full", "arange", "linspace", "eye", "prod", "sum", "mean",
            "maximum", "minimum", "reshape", "transpose", "power", "sin", "cos", "tan", "tanh", "ceil",
            "floor", "pi", "isclose", "identity", "stack", "concatenate", "expand_dims"}
_KERAS_ACTIVATIONS = {"relu": ("K", "relu"), "sigmoid": ("K", "sigmoid"), "tanh": ("K", "tanh"),
                      "softmax": ("K", "softmax"), "softplus": ("K", "softplus"),
                      "softsign": ("K", "softsign"), "elu": ("K", "elu"), "exponential": ("K", "exp")}
_PY_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
              "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
              "&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift,
              ">>": operator.rshift}
_TENSOR_BINARY = {"+": "add", "-": "subtract", "*": "multiply", "/": "truediv", "//": "floordiv",
                  "%": "floormod", "**": "pow", "@": "matmul"}
_COMPARE = {"<": ("lt", "less"), "<=": ("le", "less_equal"), ">": ("gt", "greater"),
            ">=": ("ge", "greater_equal"), "==": ("eq", "equal"), "!=": ("ne", "not_equal")}
_PLAIN = (int, float, bool, complex, str, bytes, type(None), np.ndarray, np.generic)


@dataclass(frozen=True)
class Ref:
    """A path in a module ("tf", ("math", "add")); `root` is one of _ROOTS' values."""
    root: str
    path: tuple = ()

    def __str__(self):
        return ".".join((self.root,) + self.path)


@dataclass(frozen=True)
class Method:
    obj: object
    name: str


class Shape(tuple):
    """A tensor's static shape (None: unknown), as TensorShape / int_shape give it."""


def _is_tensor(v) -> bool:
    return isinstance(v, Tensor)


def _has_tensor(v) -> bool:
    if isinstance(v, (list, tuple)):
        return any(_has_tensor(x) for x in v)
    if isinstance(v, dict):
        return any(_has_tensor(x) for x in v.values())
    return _is_tensor(v)


def _canonical(root: str, path: tuple) -> Ref:
    """keras.backend -> K, keras.ops -> ops, tf.keras -> keras, ..."""
    if root == "tf" and path[:1] == ("keras",):
        return _canonical("keras", path[1:])
    if root == "tf" and path[:3] == ("compat", "v1", "keras"):
        return _canonical("keras", path[3:])
    if root == "keras" and path[:1] == ("backend",):
        return Ref("K", path[1:])
    if root == "keras" and path[:1] == ("ops",):
        return Ref("ops", path[1:])
    return Ref(root, path)


class Namespace:
    """The meaning of names and operations in one Lambda body, in one emitter context."""

    def __init__(self, ctx):
        self.ctx = ctx

    def _fail(self, msg: str):
        raise Refused(msg)

    @staticmethod
    def knows_global(name: str) -> bool:
        return name in _ROOTS or name in _BUILTINS

    # -- names ------------------------------------------------------------------------------
    def constant(self, v):
        if hasattr(v, "co_code") or type(v).__name__ == "Code":
            self._fail("a nested function or lambda")
        return v

    def global_(self, name: str):
        if name in _ROOTS:
            return Ref(_ROOTS[name])
        if name in _BUILTINS:
            return Ref("builtins", (name,))
        self._fail(f"global name '{name}' is not a module this converter knows (tf, K, keras, ops, np, "
                   f"math) or a Python builtin; if it is a function of your own, its code is not in the file")

    def import_(self, name: str, fromlist, level):
        if level:
            self._fail(f"relative import of '{name}'")
        parts = name.split(".")
        if parts[0] not in _MODULES:
            self._fail(f"import of module '{name}', which is not one this converter knows")
        if not fromlist:
            return Ref(_MODULES[parts[0]])
        return _canonical(_MODULES[parts[0]], tuple(parts[1:]))

    def attr(self, obj, name: str):
        if isinstance(obj, Ref):
            path = obj.path + (name,)
            if (obj.root,) + path[:1] in _CONSTANTS and len(path) == 1:
                return _CONSTANTS[(obj.root, name)]
            if obj.root in ("tf", "np") and len(path) == 1 and name in _DTYPES:
                return name
            return _canonical(obj.root, path)
        if _is_tensor(obj):
            if name == "shape":
                return Shape(obj.shape)
            if name == "dtype":
                return _dtype_name(obj.dtype)
            if name == "ndim":
                return obj.rank
            if name in ("get_shape", "__getitem__"):
                return Method(obj, name)
            self._fail(f"attribute '{name}' of a tensor")
        if isinstance(obj, Shape) and name in ("as_list", "rank", "ndims"):
            return Method(obj, name) if name == "as_list" else len(obj)
        self._fail(f"attribute '{name}' of {type(obj).__name__} {obj!r}")

    # -- operators ----------------------------------------------------------------------------
    def binary(self, op: str, a, b):
        if _is_tensor(a) or _is_tensor(b):
            if op in _TENSOR_BINARY:
                return self._op(_TENSOR_BINARY[op], a, b)
            if op in ("&", "|", "^"):
                return self._op({"&": "logical_and", "|": "logical_or", "^": "logical_xor"}[op], a, b)
            self._fail(f"operator {op} on a tensor")
        if _has_tensor(a) or _has_tensor(b):
            if op in ("+", "*") and isinstance(a, (list, tuple)):
                return _PY_BINARY[op](a, b)     # list concatenation / repetition
            self._fail(f"operator {op} on a list of tensors")
        return self._python(_PY_BINARY[op], a, b, op)

    def _python(self, fn, a, b, what):
        for v in (a, b):
            if not isinstance(v, _PLAIN + (list, tuple, Shape)):
                self._fail(f"operator {what} on {type(v).__name__}")
        if any(v is None for v in (a, b)) or any(isinstance(v, (list, tuple)) and None in v for v in (a, b)
                                                 if what not in ("+", "==", "!=")):
            self._fail(f"operator {what} on an unknown dimension (None); the shape is not static")
        try:
            return fn(a, b)
        except Exception as e:   # a TypeError / ZeroDivisionError of arithmetic on constants
            self._fail(f"operator {what} on constants {a!r} and {b!r}: {e}")

    def unary(self, op: str, v):
        if _is_tensor(v):
            if op == "-":
                return self._op("negative", v)
            if op == "+":
                return v
            if op == "~":
                return self._op("logical_not", v)
            self._fail("'not' of a tensor (a branch on a tensor's value)")
        if not isinstance(v, _PLAIN):
            self._fail(f"operator {op} on {type(v).__name__}")
        return {"-": operator.neg, "+": operator.pos, "~": operator.invert, "not": operator.not_}[op](v)

    def compare(self, op: str, a, b):
        if _is_tensor(a) or _is_tensor(b):
            if op in _COMPARE:
                return self._op(_COMPARE[op][1], a, b)
            self._fail(f"'{op}' on a tensor")
        if op in ("is", "is not"):
            return (a is b) == (op == "is")
        if op in ("in", "not in"):
            if _has_tensor(b):
                self._fail(f"'{op}' on a list of tensors")
            return (a in b) == (op == "in")
        return self._python(getattr(operator, _COMPARE[op][0]), a, b, op)

    def subscript(self, v, key):
        if _is_tensor(v):
            return self._op("getitem", v, key)
        if isinstance(v, (list, tuple, dict, np.ndarray, str)):
            if _has_tensor(key):
                self._fail("indexing a list with a tensor")
            try:
                out = v[key]
            except (IndexError, KeyError, TypeError) as e:
                self._fail(f"indexing {v!r} with {key!r}: {e}")
            return Shape(out) if isinstance(v, Shape) and isinstance(key, slice) else out
        self._fail(f"indexing {type(v).__name__}")

    def unpack(self, v, n: int):
        if isinstance(v, (list, tuple)) and len(v) == n:
            return v
        if _is_tensor(v) and v.shape and v.shape[0] == n:
            return [self._op("getitem", v, i) for i in range(n)]
        self._fail(f"unpacking {type(v).__name__} into {n} values")

    def _op(self, name: str, *args, **kwargs):
        return TABLE.call(self.ctx, name, *args, **kwargs)

    # -- calls --------------------------------------------------------------------------------
    def call(self, fn, args: list, kwargs: dict):
        args = [_dtype_arg(a) for a in args]
        kwargs = {k: _dtype_arg(v) for k, v in kwargs.items()}
        if isinstance(fn, Method):
            return self._method(fn, args, kwargs)
        if not isinstance(fn, Ref):
            self._fail(f"a call of {type(fn).__name__} {fn!r}, which is not a function this converter knows")
        p = ".".join(fn.path)
        if fn.root == "builtins":
            return self._builtin(fn.path[0], args, kwargs)
        if fn.root in ("np", "math"):
            return self._numeric(fn, args, kwargs)
        if fn.root == "K":
            return self._backend(p, args, kwargs)
        if fn.root == "ops" and p in KERAS:
            return KERAS.call(self.ctx, p, args, kwargs)
        if fn.root == "tf":
            if p in ("constant", "convert_to_tensor") and args and not _has_tensor(args[0]):
                return np.asarray(args[0], dtype=kwargs.get("dtype") or (args[1] if len(args) > 1 else None))
            for name in (p, "compat.v1." + p):
                if name in TF:
                    return TF.call(self.ctx, name, args, kwargs)
        if fn.root == "keras":
            if fn.path[:1] == ("activations",) and len(fn.path) == 2 and fn.path[1] in _KERAS_ACTIVATIONS:
                return self._backend(_KERAS_ACTIVATIONS[fn.path[1]][1], args, kwargs)
            if fn.path[:1] == ("random",) and p in ("random.normal", "random.uniform"):
                return TF.call(self.ctx, p, args, kwargs)
        self._fail(f"{fn} is not a function this converter knows (see bridge.emitters.tfops: "
                   f"SUPPORTED_FUNCTIONS, SUPPORTED_KERAS_OPS, SUPPORTED_BACKEND_FUNCTIONS)")

    def _backend(self, name: str, args, kwargs):
        x = args[0] if args else None
        if name == "epsilon" and not args:
            return 1e-07            # Keras's default fuzz factor (keras.json "epsilon")
        if name == "floatx" and not args:
            return "float32"
        if name in ("int_shape", "ndim", "dtype") and _is_tensor(x) and len(args) == 1:
            return {"int_shape": Shape(x.shape), "ndim": x.rank, "dtype": _dtype_name(x.dtype)}[name]
        if name == "constant" and args and not _has_tensor(args):
            return np.asarray(x, dtype=kwargs.get("dtype") or "float32")
        if name in K:
            return K.call(self.ctx, name, args, kwargs)
        self._fail(f"K.{name} is not a Keras backend function this converter knows "
                   f"(see bridge.emitters.tfops.SUPPORTED_BACKEND_FUNCTIONS)")

    def _method(self, m: Method, args, kwargs):
        if isinstance(m.obj, Shape) and m.name == "as_list" and not args:
            return list(m.obj)
        if _is_tensor(m.obj) and m.name == "get_shape" and not args:
            return Shape(m.obj.shape)
        self._fail(f"method {m.name} of {type(m.obj).__name__}")

    def _builtin(self, name: str, args, kwargs):
        if name == "abs" and len(args) == 1 and _is_tensor(args[0]):
            return self._op("abs", args[0])
        if name == "pow" and len(args) == 2 and _has_tensor(args):
            return self.binary("**", *args)
        if name == "sum" and len(args) == 1 and isinstance(args[0], (list, tuple)) and _has_tensor(args[0]):
            total = args[0][0]
            for v in args[0][1:]:
                total = self.binary("+", total, v)
            return total
        if name in ("len",) and len(args) == 1 and isinstance(args[0], (list, tuple)):
            return len(args[0])
        if _has_tensor(args) or _has_tensor(kwargs):
            self._fail(f"builtin {name}() of a tensor")
        if any(not isinstance(a, _PLAIN + (list, tuple, slice)) for a in args):
            self._fail(f"builtin {name}() of {[type(a).__name__ for a in args]}")
        if name == "range" and any(abs(int(a)) > 1_000_000 for a in args if isinstance(a, (int, float))):
            self._fail("range() too large")
        import builtins
        try:
            return getattr(builtins, name)(*args, **kwargs)
        except Exception as e:
            self._fail(f"builtin {name}() of constants: {e}")

    def _numeric(self, fn: Ref, args, kwargs):
        if len(fn.path) != 1 or fn.path[0] not in _NUMERIC:
            self._fail(f"{fn} is not a numpy / math function this converter evaluates")
        if _has_tensor(args) or _has_tensor(kwargs):
            self._fail(f"{fn} of a tensor (numpy runs in Python, not in the model)")
        module = np if fn.root == "np" else math
        f = getattr(module, fn.path[0], None)
        if f is None or not callable(f):
            self._fail(f"{fn} is not a function")
        try:
            return f(*args, **kwargs)
        except Exception as e:
            self._fail(f"{fn} of constants: {e}")


_NAMES = {t: n for n, t in ONNX_DTYPES.items()}


def _dtype_name(onnx_type: int) -> str:
    return _NAMES.get(onnx_type, str(onnx_type))


def _dtype_arg(v):
    """A dtype written as a module attribute (np.float32, tf.float32) as its name."""
    if isinstance(v, Ref) and len(v.path) == 1 and v.path[0] in _DTYPES:
        return v.path[0]
    return v
