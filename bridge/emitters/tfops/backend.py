"""Keras backend functions (`K.mean`, `keras.backend.concatenate`, ...) and
random draws, as Lambda bodies call them.

Keras 1, 2 and tf.keras expose their backend as `keras.backend` (usually
imported as K); Lambda bodies call it, and the Lambda translator
(bridge/emitters/lambdas) resolves `K.<name>(...)` through the front-end
spelled here, "K", with tf.keras's signatures and defaults (TensorFlow
backend: tf_keras/src/backend.py). Most functions are one TensorFlow op;
the ones whose tf.keras definition adds something are ops of their own:
`K.sqrt` clips at 0 first, `K.relu` takes alpha / max_value / threshold,
`K.hard_sigmoid` is clip(0.2 x + 0.5, 0, 1), `K.batch_flatten` keeps the
batch axis, `K.repeat` is RepeatVector, `K.dot` of two matrices is matmul.

Random draws (`K.random_normal`, `tf.random.normal`, `keras.random.normal`,
their uniform twins) are ops too: they become RandomNormalLike /
RandomUniformLike over a tensor of the requested shape, and warn that the
exported model's outputs are random, as Keras's are (VAE sampling).

Functions that return Python values rather than tensors (K.epsilon,
K.int_shape, K.ndim, ...) are the translator's business, not this table's.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ...context import Tensor
from . import tf_functions
from .all_ops import TABLE
from .dtypes import np_dtype
from .values import int64_vector, is_tensor, onnx_dtype, refuse

K = TABLE.frontend("K", "K.{}")
op = TABLE.register


# -- ops tf.keras's backend defines on top of TensorFlow's ---------------------------------------
@op("backend_sqrt")
def backend_sqrt(ctx, x):
    """K.sqrt: sqrt(max(x, 0)), so negative inputs give 0, not NaN."""
    return TABLE.call(ctx, "sqrt", TABLE.call(ctx, "maximum", x, 0.0))


@op("backend_relu")
def backend_relu(ctx, x, alpha=0.0, max_value=None, threshold=0.0):
    """K.relu as tf.keras computes it (alpha below the threshold, clipped at max_value)."""
    alpha, threshold = float(alpha or 0.0), float(threshold or 0.0)
    if alpha != 0.0 and max_value is None and threshold == 0.0:
        return TABLE.call(ctx, "leaky_relu", x, alpha)
    negative = None
    if alpha != 0.0:
        negative = TABLE.call(ctx, "relu", TABLE.call(ctx, "add", TABLE.call(ctx, "negative", x), threshold)
                              if threshold != 0.0 else TABLE.call(ctx, "negative", x))
    clip = max_value is not None
    if threshold != 0.0:
        y = TABLE.call(ctx, "multiply", x, TABLE.call(ctx, "cast", TABLE.call(ctx, "greater", x, threshold),
                                                      "float32"))
    elif max_value is not None and float(max_value) == 6.0:
        y, clip = TABLE.call(ctx, "relu6", x), False
    else:
        y = TABLE.call(ctx, "relu", x)
    if clip:
        y = TABLE.call(ctx, "clip_by_value", y, 0.0, float(max_value))
    if negative is not None:
        y = TABLE.call(ctx, "subtract", y, TABLE.call(ctx, "multiply", negative, alpha))
    return y


@op("hard_sigmoid_linear")
def hard_sigmoid_linear(ctx, x):
    """Keras 2's hard_sigmoid: clip(0.2 x + 0.5, 0, 1)."""
    return TABLE.call(ctx, "clip_by_value", TABLE.call(ctx, "add", TABLE.call(ctx, "multiply", x, 0.2), 0.5),
                      0.0, 1.0)


@op("batch_flatten")
def batch_flatten(ctx, x):
    """(batch, everything else)."""
    t = ctx.keras(x)
    dims = t.shape[1:]
    size = None if None in dims else int(np.prod(dims, dtype=np.int64))
    return Tensor(name=ctx.g.op("Flatten", t.name, axis=1), shape=(t.shape[0], size), dtype=t.dtype)


@op("repeat")
def repeat(ctx, x, n):
    """K.repeat: (batch, d) -> (batch, n, d)."""
    if x.rank != 2:
        refuse(ctx, "K.repeat takes a 2-D tensor")
    t = TABLE.call(ctx, "expand_dims", x, 1)
    return TABLE.call(ctx, "tile", t, [1, int(n), 1])


@op("backend_dot")
def backend_dot(ctx, x, y):
    """K.dot of two matrices (other ranks reshape in ways not reproduced here)."""
    if not (is_tensor(x) and is_tensor(y)) or x.rank != 2 or y.rank != 2:
        refuse(ctx, "K.dot is supported for two 2-D tensors only (use K.batch_dot or tf.matmul)")
    return TABLE.call(ctx, "matmul", x, y)


# -- random draws -----------------------------------------------------------------------------------
def _random(ctx, what: str, op_type: str, shape, dtype, seed, **attrs) -> Tensor:
    dt = onnx_dtype(ctx, dtype, TensorProto.FLOAT)
    if is_tensor(shape) or any(is_tensor(d) for d in (shape if isinstance(shape, (list, tuple)) else [])):
        dims = (None,) * int(shape.shape[0]) if is_tensor(shape) else \
            tuple(None if is_tensor(d) else int(d) for d in shape)
    else:
        dims = tuple(int(d) for d in (shape if isinstance(shape, (list, tuple)) else [shape]))
    zero = helper.make_tensor("value", dt, [1], np.zeros(1, np_dtype(dt)).tolist())
    base = ctx.g.op("ConstantOfShape", int64_vector(ctx, list(shape) if isinstance(shape, tuple) else shape),
                    value=zero)
    if seed is not None:
        attrs["seed"] = float(seed)
    y = ctx.g.op(op_type, base, dtype=dt, **attrs)
    ctx.warn(f"{ctx.where()}: draws {what} numbers, so the exported model's outputs are random at every "
             f"run, as Keras's are; compare them statistically, not value by value")
    return Tensor(name=y, shape=dims, dtype=dt)


@op("random_normal")
def random_normal(ctx, shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return _random(ctx, "normally distributed random", "RandomNormalLike", shape, dtype, seed,
                   mean=float(mean), scale=float(stddev))


@op("random_uniform")
def random_uniform(ctx, shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return _random(ctx, "uniformly distributed random", "RandomUniformLike", shape, dtype, seed,
                   low=float(minval), high=float(1.0 if maxval is None else maxval))


# -- spellings: tf_keras/src/backend.py's signatures ----------------------------------------------
def _spell(signature: str, op_name: str, rename=None, defaults=None, **how):
    """`signature` as tf.keras defines it, e.g. "mean(x, axis=None, keepdims=False)"."""
    import ast
    fn = ast.parse(f"def {signature}: pass").body[0]
    a = fn.args
    params = [p.arg for p in a.args]
    given = {p.arg: ast.literal_eval(d) for p, d in zip(a.args[len(a.args) - len(a.defaults):], a.defaults)}
    K.spell(fn.name, op=op_name, params=tuple(params), rename=rename or {},
            defaults={**given, **(defaults or {})}, **how)


_X = {"x": "input_tensor"}
for _name in ("mean", "sum", "max", "min", "prod", "std", "var", "any", "all", "logsumexp"):
    _spell(f"{_name}(x, axis=None, keepdims=False)", "reduce_" + {"var": "variance"}.get(_name, _name), _X)
_spell("argmax(x, axis=-1)", "argmax", {"x": "input"})
_spell("argmin(x, axis=-1)", "argmin", {"x": "input"})
_spell("cumsum(x, axis=0)", "cumsum")
for _name in ("square", "abs", "exp", "log", "round", "sign", "sin", "cos", "tanh", "sigmoid"):
    _spell(f"{_name}(x)", _name)
_spell("sqrt(x)", "backend_sqrt")
for _name in ("softplus", "softsign"):
    _spell(f"{_name}(x)", _name, {"x": "features"})
_spell("elu(x, alpha=1.0)", "elu", {"x": "features"})
_spell("relu(x, alpha=0.0, max_value=None, threshold=0.0)", "backend_relu")
_spell("hard_sigmoid(x)", "hard_sigmoid_linear")
_spell("softmax(x, axis=-1)", "softmax", {"x": "logits"})
_spell("pow(x, a)", "pow", {"a": "y"})
_spell("clip(x, min_value, max_value)", "clip_by_value",
       {"x": "t", "min_value": "clip_value_min", "max_value": "clip_value_max"})
for _name in ("maximum", "minimum", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
    _spell(f"{_name}(x, y)", _name)
_spell("l2_normalize(x, axis=None)", "l2_normalize")
_spell("expand_dims(x, axis=-1)", "expand_dims", {"x": "input"})
_spell("squeeze(x, axis)", "squeeze", {"x": "input"})
_spell("reshape(x, shape)", "reshape", {"x": "tensor"})
_spell("permute_dimensions(x, pattern)", "transpose", {"x": "a", "pattern": "perm"})
_spell("transpose(x)", "transpose", {"x": "a"})
_spell("concatenate(tensors, axis=-1)", "concat", {"tensors": "values"})
_spell("stack(x, axis=0)", "stack", {"x": "values"})
_spell("tile(x, n)", "tile", {"x": "input", "n": "multiples"})
_spell("flatten(x)", "reshape", {"x": "tensor"}, defaults={"shape": [-1]})
_spell("batch_flatten(x)", "batch_flatten")
_spell("repeat(x, n)", "repeat")
_spell("dot(x, y)", "backend_dot")
_spell("gather(reference, indices)", "gather", {"reference": "params"}, defaults={"axis": 0})
_spell("cast(x, dtype)", "cast")
_spell("zeros_like(x, dtype=None)", "zeros_like", {"x": "input"})
_spell("ones_like(x, dtype=None)", "ones_like", {"x": "input"})
_spell("switch(condition, then_expression, else_expression)", "where",
       {"then_expression": "x", "else_expression": "y"})
_spell("shape(x)", "shape", {"x": "input"})
_spell("random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None)", "random_normal")
_spell("random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None)", "random_uniform")

# TensorFlow's own random draws (tf.random.*, and TensorFlow 1's names)
for _names, _op in ((("random.normal", "random_normal"), "random_normal"),
                    (("random.uniform", "random_uniform"), "random_uniform")):
    tf_functions.TF.spell(*_names, op=_op, params=("shape",) + TABLE[_op].params[1:] + ("name",))

SUPPORTED_BACKEND_FUNCTIONS = K    # K.<name> -> Spelling

