"""Keras 3 operations (keras.ops.*) recorded in functional models.

Keras 3 records `keras.ops.mean(x, axis=1)` as an operation layer of class
`Mean` (module keras.src.ops.*): the function's options are the class's
config (`{"axis": 1, "keepdims": false}`), the remaining arguments are the
call's (tensors and constants). The reader names these layers
"ops.<Class>", apart from the layers of the same name. Each function is
spelled here by its keras.ops name with Keras's signature and defaults
(numpy semantics where they differ from TensorFlow's: `axis=None` of
argmax / cumsum / take flattens first, which is refused);
`SUPPORTED_KERAS_OPS` maps the class names onto these spellings.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping

from ...registry import register
from ..common.calls import bound_call
from .all_ops import TABLE
from .values import has_tensor, norm_axis, plain, refuse, unmasked

KERAS = TABLE.frontend("keras", "keras.ops.{}")


def _spell(signature: str, op: str, rename=None, **how):
    """`signature` as Keras documents the function, e.g.
    "mean(x, axis=None, keepdims=False)" (defaults are literals)."""
    fn = ast.parse(f"def {signature}: pass").body[0]
    a = fn.args
    params = [p.arg for p in a.args] + ([f"*{a.vararg.arg}"] if a.vararg else [])
    defaults = {p.arg: ast.literal_eval(d) for p, d in zip(a.args[len(a.args) - len(a.defaults):], a.defaults)}
    KERAS.spell(fn.name, op=op, params=tuple(params), rename=rename or {}, defaults=defaults, **how)


def _axis_given(what):
    def adapt(ctx, kw):
        if kw.get("axis") is None:
            refuse(ctx, f"keras.ops.{what} with axis=None (over the flattened tensor) is not supported")
        return kw
    return adapt


def _split_points(ctx, kw):
    """numpy's split at indices -> TensorFlow's sizes."""
    x, n = kw["value"], kw["num_or_size_splits"]
    if isinstance(n, (list, tuple)):
        axis = norm_axis(x, kw.get("axis", 0))
        size = x.shape[axis]
        if size is None:
            refuse(ctx, "split at indices along an axis of unknown size is not supported")
        pts = [0] + [int(i) for i in n] + [size]
        kw["num_or_size_splits"] = [b - a for a, b in zip(pts, pts[1:])]
        kw["axis"] = axis
    return kw


def _numpy_repeats(ctx, kw):
    """numpy's tile: fewer repeats than axes repeat the last axes."""
    x, reps = kw["input"], kw["multiples"]
    if not has_tensor(reps) and isinstance(reps, (list, tuple)) and len(reps) != x.rank:
        if len(reps) > x.rank:
            refuse(ctx, "tile with more repeats than the tensor has axes is not supported")
        kw["multiples"] = [1] * (x.rank - len(reps)) + list(reps)
    return kw


def _python_key(ctx, kw):
    """Keras 3's serialized key ({"class_name": "__slice__", "config": {...}},
    {"class_name": "__ellipsis__"}, ints, None; a list for a tuple) -> Python's."""
    def item(k):
        if isinstance(k, dict) and k.get("class_name") == "__slice__":
            c = k.get("config") or {}
            return slice(c.get("start"), c.get("stop"), c.get("step"))
        if isinstance(k, dict) and k.get("class_name") in ("__ellipsis__", "__builtin__ellipsis"):
            return Ellipsis
        if k is Ellipsis or k == "...":
            return Ellipsis
        return k
    key = kw["key"]
    kw["key"] = tuple(item(k) for k in key) if isinstance(key, list) else item(key)
    return kw


_XY = {"x1": "x", "x2": "y"}
for _sig, _op in (("add", "add"), ("subtract", "subtract"), ("multiply", "multiply"), ("divide", "truediv"),
                  ("true_divide", "truediv"), ("floor_divide", "floordiv"), ("mod", "floormod"),
                  ("power", "pow"), ("maximum", "maximum"), ("minimum", "minimum"), ("greater", "greater"),
                  ("greater_equal", "greater_equal"), ("less", "less"), ("less_equal", "less_equal"),
                  ("equal", "equal"), ("not_equal", "not_equal"), ("logical_and", "logical_and"),
                  ("logical_or", "logical_or")):
    _spell(f"{_sig}(x1, x2)", _op, _XY)
_spell("matmul(x1, x2)", "matmul", {"x1": "a", "x2": "b"})
for _sig, _op in (("logical_not", "logical_not"), ("negative", "negative"), ("absolute", "abs"),
                  ("abs", "abs"), ("exp", "exp"), ("log", "log"), ("log1p", "log1p"), ("expm1", "expm1"),
                  ("sqrt", "sqrt"), ("rsqrt", "rsqrt"), ("square", "square"), ("reciprocal", "reciprocal"),
                  ("sign", "sign"), ("floor", "floor"), ("ceil", "ceil"), ("sin", "sin"), ("cos", "cos"),
                  ("tan", "tan"), ("tanh", "tanh"), ("sigmoid", "sigmoid"), ("erf", "erf"),
                  ("log_sigmoid", "log_sigmoid")):
    _spell(f"{_sig}(x)", _op)
_spell("round(x, decimals=0)", "round", only_default={"decimals": 0})
_FEATURES = {"x": "features"}
for _sig in ("relu", "relu6", "selu", "softplus", "softsign"):
    _spell(f"{_sig}(x)", _sig, _FEATURES)
_spell("silu(x)", "silu", _FEATURES)
_spell("swish(x)", "silu", _FEATURES)
_spell("elu(x, alpha=1.0)", "elu", _FEATURES)
_spell("leaky_relu(x, negative_slope=0.2)", "leaky_relu", {"x": "features", "negative_slope": "alpha"})
_spell("gelu(x, approximate=True)", "gelu", _FEATURES)
_spell("softmax(x, axis=-1)", "softmax", {"x": "logits"})
_spell("log_softmax(x, axis=-1)", "log_softmax", {"x": "logits"})

_INPUT = {"x": "input_tensor"}
for _sig in ("sum", "mean", "any", "all", "var", "std", "logsumexp"):
    _op = {"var": "variance"}.get(_sig, _sig)
    _spell(f"{_sig}(x, axis=None, keepdims=False)", f"reduce_{_op}", _INPUT)
for _sig in ("max", "min"):
    _spell(f"{_sig}(x, axis=None, keepdims=False, initial=None)", f"reduce_{_sig}", _INPUT,
           only_default={"initial": None})
_spell("prod(x, axis=None, keepdims=False, dtype=None)", "reduce_prod", _INPUT, only_default={"dtype": None})
_spell("argmax(x, axis=None, keepdims=False)", "argmax", {"x": "input"}, adapt=_axis_given("argmax"))
_spell("argmin(x, axis=None, keepdims=False)", "argmin", {"x": "input"}, adapt=_axis_given("argmin"))
_spell("cumsum(x, axis=None, dtype=None)", "cumsum", only_default={"dtype": None}, adapt=_axis_given("cumsum"))
_spell("normalize(x, axis=-1, order=2, epsilon=None)", "normalize")

_spell("reshape(x, newshape)", "reshape", {"x": "tensor", "newshape": "shape"})
_spell("transpose(x, axes=None)", "transpose", {"x": "a", "axes": "perm"})
_spell("swapaxes(x, axis1, axis2)", "swapaxes")
_spell("expand_dims(x, axis)", "expand_dims", {"x": "input"})
_spell("squeeze(x, axis=None)", "squeeze", {"x": "input"})
_spell("concatenate(xs, axis=0)", "concat", {"xs": "values"})
_spell("stack(x, axis=0)", "stack", {"x": "values"})
_spell("split(x, indices_or_sections, axis=0)", "split",
       {"x": "value", "indices_or_sections": "num_or_size_splits"}, adapt=_split_points)
_spell("tile(x, repeats)", "tile", {"x": "input", "repeats": "multiples"}, adapt=_numpy_repeats)
_spell("broadcast_to(x, shape)", "broadcast_to", {"x": "input"})
_spell("pad(x, pad_width, mode='constant', constant_values=None)", "pad", {"x": "tensor", "pad_width": "paddings"})
_spell("cast(x, dtype)", "cast")
_spell("clip(x, x_min, x_max)", "clip_by_value", {"x": "t", "x_min": "clip_value_min", "x_max": "clip_value_max"})
_spell("zeros_like(x, dtype=None)", "zeros_like", {"x": "input"})
_spell("ones_like(x, dtype=None)", "ones_like", {"x": "input"})
_spell("take(x, indices, axis=None)", "gather", {"x": "params"}, adapt=_axis_given("take"))
_spell("where(condition, x1=None, x2=None)", "where", _XY)
_spell("get_item(x, key)", "getitem", {"x": "tensor"}, adapt=_python_key)
_spell("einsum(subscripts, *operands)", "einsum", {"subscripts": "equation"})


# -- the layers ---------------------------------------------------------------------------------------
def class_name(function: str) -> str:
    """The Keras 3 operation class of a keras.ops function ("get_item" -> "GetItem")."""
    return "".join(p.capitalize() for p in function.split("_"))


class _ByClass(Mapping):
    """KERAS keyed by operation class name."""

    def __init__(self):
        self._names = {}

    def _refresh(self):
        if len(self._names) != len(KERAS):
            self._names = {class_name(n): n for n in KERAS}

    def function(self, cls: str) -> str:
        self._refresh()
        return self._names[cls]

    def __getitem__(self, cls):
        return KERAS[self.function(cls)]

    def __iter__(self):
        self._refresh()
        return iter(self._names)

    def __len__(self):
        return len(KERAS)


SUPPORTED_KERAS_OPS = _ByClass()


def _check(layer, opset) -> list:
    op = layer.class_name[len("ops."):]
    return [] if op in SUPPORTED_KERAS_OPS else [
        (f"Keras 3 operation keras.ops.{op} is not one this converter knows (see "
        f"bridge.emitters.tfops.SUPPORTED_KERAS_OPS); replace it with a Keras layer, or register "
        f"an emitter for 'ops.{op}'")]


def keras_operation(layer, inputs, ctx):
    """A Keras 3 operation (keras.ops.*) recorded in a functional model: its
    config holds the function's options, its call the remaining arguments
    in order (see SUPPORTED_KERAS_OPS)."""
    args, kw = bound_call(ctx.call, inputs, preserve=True)
    if len(args) == 1 and isinstance(args[0], list) and ctx.call.args is None \
            and layer.class_name not in ("ops.Concatenate", "ops.Stack"):
        args = args[0]
    fn = SUPPORTED_KERAS_OPS.function(layer.class_name[len("ops."):])
    sp = KERAS[fn]
    args, kw = plain(list(args)), plain(dict(kw))
    if fn in ("concatenate", "stack") and args and not isinstance(args[0], list):
        args = [list(args)]
    bound = {k: v for k, v in layer.config.items() if k in sp.params}
    star = sp.params[-1][1:] if sp.params and sp.params[-1].startswith("*") else None
    free = [p for p in sp.params if p not in bound and not p.startswith("*")]
    if len(args) > len(free) and star is None:
        refuse(ctx, f"{sp.display} takes {len(free)} arguments besides its config ({len(args)} given)")
    bound.update(zip(free, args))
    if star:
        bound[star] = list(args[len(free):])
    for k, v in kw.items():
        if k in bound:
            refuse(ctx, f"{sp.display} got two values for argument '{k}'")
        bound[k] = v
    return unmasked(KERAS.call(ctx, fn, (), bound))


for _cls in SUPPORTED_KERAS_OPS:
    register("ops." + _cls, check=_check, layout="any")(keras_operation)
