"""TFOpLambda / SlicingOpLambda: TensorFlow functions recorded by tf.keras.

tf.keras records `tf.*` calls on Keras tensors as TFOpLambda layers (and
`x[...]` as SlicingOpLambda): config "function" names the TF symbol
("math.add", "__operators__.add", "nn.relu", "reshape",
"compat.v1.transpose", "__operators__.getitem", ...); the call's first
argument (tensors and constants, nested as written) and its keyword
arguments are in the inbound node. Each symbol is spelled here with TF's
own parameter order; `SUPPORTED_FUNCTIONS` is this mapping.
"""
from __future__ import annotations

from ...registry import register
from ..common.calls import bound_call
from .all_ops import TABLE
from .values import plain, refuse, unmasked

TF = TABLE.frontend("tf", "tf.{}")
spell = TF.spell
_REDUCE = {"params": ("input_tensor", "axis", "keepdims", "name", "reduction_indices", "keep_dims"),
               "rename": {"reduction_indices": "axis", "keep_dims": "keepdims"}}

# -- math ---------------------------------------------------------------------------------------
for _op, _syms in (
        ("add", ("math.add", "__operators__.add", "add")),
        ("subtract", ("math.subtract", "subtract", "__operators__.sub")),
        ("multiply", ("math.multiply", "multiply", "__operators__.mul")),
        ("maximum", ("math.maximum", "maximum")), ("minimum", ("math.minimum", "minimum")),
        ("greater", ("math.greater", "greater")), ("greater_equal", ("math.greater_equal", "greater_equal")),
        ("less", ("math.less", "less")), ("less_equal", ("math.less_equal", "less_equal")),
        ("equal", ("math.equal", "equal", "__operators__.eq")),
        ("not_equal", ("math.not_equal", "not_equal", "__operators__.ne")),
        ("logical_and", ("math.logical_and", "logical_and", "__operators__.and_")),
        ("logical_or", ("math.logical_or", "logical_or", "__operators__.or_")),
        ("logical_xor", ("math.logical_xor", "logical_xor", "__operators__.xor")),
        ("truediv", ("math.truediv", "math.divide", "divide", "truediv", "__operators__.truediv")),
        ("divide_no_nan", ("math.divide_no_nan", "divide_no_nan")),
        ("floordiv", ("math.floordiv", "floordiv", "compat.v1.floor_div", "math.floor_div",
                      "__operators__.floordiv")),
        ("floormod", ("math.floormod", "floormod", "math.mod", "mod", "__operators__.mod")),
        ("pow", ("math.pow", "pow", "__operators__.pow")),
        ("squared_difference", ("math.squared_difference", "squared_difference"))):
    spell(*_syms, op=_op, params=("x", "y", "name"))
spell("math.add_n", "add_n", op="add_n", params=("inputs", "name"))

_UNARY = {"negative": ("math.negative", "negative", "__operators__.neg"),
          "abs": ("math.abs", "abs", "__operators__.abs"),
          "logical_not": ("math.logical_not", "logical_not", "__operators__.invert"),
          "tanh": ("math.tanh", "tanh", "nn.tanh"), "sigmoid": ("math.sigmoid", "sigmoid", "nn.sigmoid"),
          "identity": ("identity",)}
for _op in ("exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "reciprocal", "sign", "floor", "ceil",
            "round", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
            "erf", "log_sigmoid", "is_nan", "is_inf"):
    _UNARY[_op] = (f"math.{_op}", _op)
for _op, _syms in _UNARY.items():
    spell(*_syms, op=_op, params=("x", "name"))

for _op, _syms in (("relu", ("nn.relu", "math.relu")), ("relu6", ("nn.relu6",)), ("elu", ("nn.elu",)),
                   ("selu", ("nn.selu",)), ("softplus", ("math.softplus", "nn.softplus")),
                   ("softsign", ("nn.softsign", "math.softsign"))):
    spell(*_syms, op=_op, params=("features", "name"))
spell("nn.leaky_relu", op="leaky_relu", params=("features", "alpha", "name"))
spell("nn.gelu", op="gelu", params=("features", "approximate", "name"))
spell("nn.silu", "nn.swish", op="silu", params=("features", "beta", "name"))
spell("nn.softmax", "math.softmax", op="softmax", params=("logits", "axis", "name"))
spell("nn.log_softmax", "math.log_softmax", op="log_softmax", params=("logits", "axis", "name"))
spell("math.l2_normalize", "nn.l2_normalize", "linalg.l2_normalize", op="l2_normalize",
      params=("x", "axis", "epsilon", "name", "dim"), rename={"dim": "axis"})
spell("cast", "dtypes.cast", op="cast", params=("x", "dtype", "name"))
spell("clip_by_value", op="clip_by_value", params=("t", "clip_value_min", "clip_value_max", "name"))
spell("nn.bias_add", op="bias_add", params=("value", "bias", "data_format", "name"))

# -- reductions ---------------------------------------------------------------------------------
for _name in ("sum", "mean", "max", "min", "prod", "logsumexp", "any", "all", "variance", "std"):
    spell(f"math.reduce_{_name}", f"reduce_{_name}", f"compat.v1.reduce_{_name}", op=f"reduce_{_name}",
          **_REDUCE)
spell("math.reduce_euclidean_norm", "reduce_euclidean_norm", op="reduce_euclidean_norm",
      params=("input_tensor", "axis", "keepdims", "name"))
for _op in ("argmax", "argmin"):
    spell(f"math.{_op}", _op, f"compat.v1.{_op}", op=_op,
          params=("input", "axis", "output_type", "name", "dimension"), rename={"dimension": "axis"})
spell("math.cumsum", "cumsum", op="cumsum", params=("x", "axis", "exclusive", "reverse", "name"))

# -- shapes -------------------------------------------------------------------------------------
spell("reshape", "compat.v1.reshape", op="reshape", params=("tensor", "shape", "name"))
spell("compat.v1.transpose", "transpose", op="transpose", params=("a", "perm", "name", "conjugate"),
      ignore=("conjugate",))   # real numbers only
spell("linalg.matrix_transpose", "linalg.transpose", op="matrix_transpose", params=("a", "name", "conjugate"),
      ignore=("conjugate",))
spell("expand_dims", "compat.v1.expand_dims", op="expand_dims", params=("input", "axis", "name", "dim"),
      rename={"dim": "axis"})
spell("compat.v1.squeeze", "squeeze", op="squeeze", params=("input", "axis", "name", "squeeze_dims"),
      rename={"squeeze_dims": "axis"})
spell("concat", "concatenate", op="concat", params=("values", "axis", "name"))
spell("stack", op="stack", params=("values", "axis", "name"))
spell("unstack", op="unstack", params=("value", "num", "axis", "name"))
spell("split", op="split", params=("value", "num_or_size_splits", "axis", "num", "name"))
spell("tile", op="tile", params=("input", "multiples", "name"))
spell("broadcast_to", op="broadcast_to", params=("input", "shape", "name"))
spell("compat.v1.pad", "pad", op="pad", params=("tensor", "paddings", "mode", "name", "constant_values"))
spell("shape", op="shape", params=("input", "out_type", "name"))
spell("compat.v1.shape", op="shape", params=("input", "name", "out_type"))
spell("zeros_like", op="zeros_like", params=("input", "dtype", "name"))
spell("ones_like", op="ones_like", params=("input", "dtype", "name"))
spell("range", op="range", params=("start", "limit", "delta", "dtype", "name"))

# -- indexing, linalg, images -------------------------------------------------------------------
spell("gather", op="gather", params=("params", "indices", "validate_indices", "axis", "batch_dims", "name"),
      ignore=("validate_indices",))   # deprecated; TensorFlow ignores it
spell("compat.v1.gather", op="gather",
      params=("params", "indices", "validate_indices", "name", "axis", "batch_dims"), ignore=("validate_indices",))
spell("where", "where_v2", op="where", params=("condition", "x", "y", "name"))
spell("one_hot", op="one_hot", params=("indices", "depth", "on_value", "off_value", "axis", "dtype", "name"))


def _python_key(ctx, kw):
    """TF's serialized slice spec ([{"start", "stop", "step"}, {"class_name":
    "__ellipsis__"}, None, 2, ...]) -> the Python key."""
    def item(s):
        if isinstance(s, dict) and s.get("class_name") == "__ellipsis__":
            return Ellipsis
        if isinstance(s, dict):
            return slice(s.get("start"), s.get("stop"), s.get("step"))
        return s
    spec = kw["key"]
    kw["key"] = tuple(item(s) for s in (spec if isinstance(spec, list) else [spec]))
    return kw


spell("__operators__.getitem", op="getitem", params=("tensor", "slice_spec", "var"),
      rename={"slice_spec": "key"}, ignore=("var",), adapt=_python_key)
spell("linalg.matmul", "matmul", "math.matmul", "__operators__.matmul", op="matmul",
      params=("a", "b", "transpose_a", "transpose_b", "adjoint_a", "adjoint_b", "a_is_sparse", "b_is_sparse",
              "output_type", "name"), ignore=("a_is_sparse", "b_is_sparse", "output_type"))
spell("einsum", op="einsum", params=("equation", "*inputs"), rename={"inputs": "operands"})
spell("linalg.band_part", op="band_part", params=("input", "num_lower", "num_upper", "name"))
spell("image.resize", "compat.v2.image.resize", op="image_resize",
      params=("images", "size", "method", "preserve_aspect_ratio", "antialias", "name"))
for _op in ("depth_to_space", "space_to_depth"):
    spell(f"nn.{_op}", f"nn.{_op}_v2", op=_op, params=("input", "block_size", "data_format", "name"))
    spell(f"compat.v1.{_op}", op=_op, params=("input", "block_size", "name", "data_format"))


# -- the layers ---------------------------------------------------------------------------------------
def _function(layer):
    fn = layer.config.get("function")
    return fn.get("config", fn) if isinstance(fn, dict) else fn


def _check(layer, opset) -> list:
    fn = _function(layer)
    if fn not in TF:
        return [(f"TensorFlow function tf.{fn} is not one this converter knows (see "
                f"bridge.emitters.tfops.SUPPORTED_FUNCTIONS); replace it with a Keras layer, or "
                f"register an emitter for '{layer.class_name}' that handles it")]
    return []


@register("TFOpLambda", "SlicingOpLambda", check=_check, layout="any")
def tf_op_lambda(layer, inputs, ctx):
    """TFOpLambda / SlicingOpLambda(function): the TF symbol applied to the
    call's first argument and keyword arguments (see SUPPORTED_FUNCTIONS)."""
    fn = _function(layer)
    args, kw = bound_call(ctx.call, inputs, preserve=True)
    args, kw = plain(list(args)), plain(dict(kw))
    if TF[fn].op == "einsum" and len(args) < 2:
        refuse(ctx, "tf.einsum is saved by tf.keras without its operands (they are variadic arguments the "
                    "config cannot hold), so the file does not describe the computation; use an "
                    "EinsumDense layer or tf.linalg.matmul instead")
    return unmasked(TF.call(ctx, fn, args, kw))
