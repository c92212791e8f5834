"""TensorFlowOpLayer: the raw TensorFlow ops TF 2.0-2.3 recorded.

Config "node_def" is the NodeDef ("op": "AddV2", its attributes) and
"constants" the constant inputs by position; the layer's tensors fill the
other positions. Each op type is spelled here with its inputs in NodeDef
order and its attributes mapped to the op's parameters; `SUPPORTED_RAW_OPS`
is this mapping.
"""
from __future__ import annotations

import base64

from ...registry import register
from .all_ops import TABLE
from .values import unmasked

RAW = TABLE.frontend("raw", "TensorFlow op '{}'")

_RAW_DTYPES = {"DT_FLOAT": "float32", "DT_HALF": "float16", "DT_DOUBLE": "float64",
               "DT_INT32": "int32", "DT_INT64": "int64", "DT_INT8": "int8", "DT_UINT8": "uint8",
               "DT_INT16": "int16", "DT_BOOL": "bool", "DT_BFLOAT16": "bfloat16"}


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
        return base64.b64decode(a["s"]).decode()
    return default


def _spell(ops, op, inputs, attrs=None):
    """Raw op types -> table op: inputs by position as `inputs`, keyword
    arguments from `attrs(node)`."""
    def prepare(node, ins):   # control inputs ("^op") past the data inputs are not arguments
        return list(ins)[:len(inputs)], (attrs(node) if attrs else {})
    RAW.spell(*ops, op=op, params=inputs, prepare=prepare)


def _custom(op_type, op, prepare):
    """An op type whose inputs do not map by position: prepare(node, ins) -> kwargs."""
    RAW.spell(op_type, op=op, prepare=lambda node, ins: ((), prepare(node, ins)))


for _op, _types in (("add", ("Add", "AddV2")), ("subtract", ("Sub",)), ("multiply", ("Mul",)),
                    ("truediv", ("RealDiv", "Div")), ("floordiv", ("FloorDiv",)), ("floormod", ("FloorMod",)),
                    ("maximum", ("Maximum",)), ("minimum", ("Minimum",)), ("pow", ("Pow",)),
                    ("squared_difference", ("SquaredDifference",)), ("greater", ("Greater",)),
                    ("greater_equal", ("GreaterEqual",)), ("less", ("Less",)), ("less_equal", ("LessEqual",)),
                    ("equal", ("Equal",)), ("not_equal", ("NotEqual",)), ("logical_and", ("LogicalAnd",)),
                    ("logical_or", ("LogicalOr",))):
    _spell(_types, _op, ("x", "y"))
for _op, _type in (("logical_not", "LogicalNot"), ("negative", "Neg"), ("abs", "Abs"), ("exp", "Exp"),
                   ("log", "Log"), ("log1p", "Log1p"), ("sqrt", "Sqrt"), ("rsqrt", "Rsqrt"),
                   ("square", "Square"), ("reciprocal", "Reciprocal"), ("sign", "Sign"), ("floor", "Floor"),
                   ("ceil", "Ceil"), ("round", "Round"), ("sin", "Sin"), ("cos", "Cos"), ("tanh", "Tanh"),
                   ("sigmoid", "Sigmoid"), ("erf", "Erf"), ("identity", "Identity")):
    _spell((_type,), _op, ("x",))
for _op, _type in (("relu", "Relu"), ("relu6", "Relu6"), ("elu", "Elu"), ("selu", "Selu"),
                   ("softplus", "Softplus"), ("softsign", "Softsign")):
    _spell((_type,), _op, ("features",))
_spell(("LeakyRelu",), "leaky_relu", ("features",), lambda n: {"alpha": _attr(n, "alpha", 0.2)})
_spell(("Softmax",), "softmax", ("logits",))
_spell(("LogSoftmax",), "log_softmax", ("logits",))
_spell(("Cast",), "cast", ("x",), lambda n: {"dtype": _attr(n, "DstT")})
_spell(("ClipByValue",), "clip_by_value", ("t", "clip_value_min", "clip_value_max"))
for _type, _name in (("Sum", "sum"), ("Mean", "mean"), ("Max", "max"), ("Min", "min"), ("Prod", "prod"),
                     ("Any", "any"), ("All", "all")):
    _spell((_type,), f"reduce_{_name}", ("input_tensor", "axis"),
           lambda n: {"keepdims": _attr(n, "keep_dims", False)})
_spell(("ArgMax",), "argmax", ("input", "axis"), lambda n: {"output_type": _attr(n, "output_type")})
_spell(("ArgMin",), "argmin", ("input", "axis"), lambda n: {"output_type": _attr(n, "output_type")})
_spell(("Cumsum",), "cumsum", ("x", "axis"),
       lambda n: {"exclusive": _attr(n, "exclusive", False), "reverse": _attr(n, "reverse", False)})
_spell(("Reshape",), "reshape", ("tensor", "shape"))
_spell(("Transpose",), "transpose", ("a", "perm"))
_spell(("ExpandDims",), "expand_dims", ("input", "axis"))
_spell(("Squeeze",), "squeeze", ("input",), lambda n: {"axis": _attr(n, "squeeze_dims", [])})
_spell(("Tile",), "tile", ("input", "multiples"))
_spell(("Pad",), "pad", ("tensor", "paddings"))
_spell(("PadV2",), "pad", ("tensor", "paddings", "constant_values"))
_spell(("MirrorPad",), "pad", ("tensor", "paddings"), lambda n: {"mode": _attr(n, "mode")})
_spell(("GatherV2",), "gather", ("params", "indices", "axis"), lambda n: {"batch_dims": _attr(n, "batch_dims", 0)})
_spell(("SelectV2",), "where", ("condition", "x", "y"))
_spell(("BiasAdd",), "bias_add", ("value", "bias"), lambda n: {"data_format": _attr(n, "data_format", "NHWC")})
_spell(("Shape",), "shape", ("input",), lambda n: {"out_type": _attr(n, "out_type", "int32")})
_spell(("ZerosLike",), "zeros_like", ("input",))
_spell(("OnesLike",), "ones_like", ("input",))
_spell(("MatMul",), "matmul", ("a", "b"), lambda n: {"transpose_a": _attr(n, "transpose_a", False),
                                                      "transpose_b": _attr(n, "transpose_b", False)})
_spell(("BatchMatMulV2", "BatchMatMul"), "matmul", ("a", "b"),
       lambda n: {"adjoint_a": _attr(n, "adj_x", False), "adjoint_b": _attr(n, "adj_y", False)})
_custom("AddN", "add_n", lambda n, ins: {"inputs": list(ins)})
_custom("ConcatV2", "concat", lambda n, ins: {"values": list(ins[:-1]), "axis": ins[-1]})
_custom("Pack", "stack", lambda n, ins: {"values": list(ins), "axis": _attr(n, "axis", 0)})
_custom("Unpack", "unstack", lambda n, ins: {"value": ins[0], "num": _attr(n, "num"), "axis": _attr(n, "axis", 0)})
_custom("Split", "split", lambda n, ins: {"value": ins[1], "axis": ins[0],
                                          "num_or_size_splits": _attr(n, "num_split")})
_custom("SplitV", "split", lambda n, ins: {"value": ins[0], "num_or_size_splits": ins[1], "axis": ins[2]})


# -- the layer ---------------------------------------------------------------------------------
def _check(layer, opset) -> list:
    op = (layer.config.get("node_def") or {}).get("op")
    if op not in RAW:
        return [(f"TensorFlow op '{op}' is not one this converter knows (see "
                f"bridge.emitters.tfops.SUPPORTED_RAW_OPS); rebuild the model with a newer "
                f"tf.keras or replace the operation with a Keras layer")]
    return []


def _raw_constant(value):
    if isinstance(value, dict) and "config" in value:   # a serialized numpy array
        value = value["config"].get("value", value)
    return value


@register("TensorFlowOpLayer", check=_check, layout="any")
def tensorflow_op_layer(layer, inputs, ctx):
    """TensorFlowOpLayer(node_def, constants): the raw op applied to the
    inbound tensors, with the constants at their input positions."""
    node = layer.config.get("node_def") or {}
    constants = {int(k): _raw_constant(v) for k, v in (layer.config.get("constants") or {}).items()}
    n_in = len(node.get("input") or []) or (len(inputs) + len(constants))
    tensors = iter(inputs)
    ins = [constants[i] if i in constants else next(tensors, None) for i in range(n_in)]
    args, kwargs = RAW[node["op"]].prepare(node, ins)
    return unmasked(RAW.call(ctx, node["op"], args, kwargs))
