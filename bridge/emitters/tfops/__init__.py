"""TensorFlow and keras.ops operations inside functional models, over one op table.

What Keras computes. Functional models record free-standing operations on
Keras tensors as layers of their own: tf.keras writes `tf.*` calls as
TFOpLambda (and `x[...]` as SlicingOpLambda) naming the TF symbol
("math.add", "__operators__.add", "nn.relu", "reshape", ...) with the call's
arguments; TF 2.0-2.3 wrote TensorFlowOpLayer, a raw NodeDef ("AddV2",
"ConcatV2", ...) with its constant inputs; Keras 3 writes `keras.ops.*`
calls as operation layers ("ops.Mean", "ops.GetItem", ...) whose config
holds the function's options. Their arguments mix tensors and Python
constants, and constants take the dtype of the tensor they meet.

What ONNX offers. Most operations are one ONNX node (Add, ReduceMean,
Reshape, Slice, MatMul, Einsum, ...); the rest are short decompositions
(TensorFlow's floor modulo of floats, divide_no_nan, variance, one_hot).

How the mapping goes. Each operation is implemented once, in a module by
op family (math_ops, reductions, shapes, joins, indexing, linalg, image),
and registered in `TABLE` under a canonical name with its declared
parameters: `fn(ctx, <params>)` over values (values.py: a Tensor or a Python
constant). Four front-ends map their own spellings onto it:
tf_functions (TF symbols, TF's parameter order; `SUPPORTED_FUNCTIONS`),
backend (Keras backend `K.*` functions for Lambda bodies, tf.keras's
signatures; `SUPPORTED_BACKEND_FUNCTIONS`),
tf_raw_ops (NodeDef op types; `SUPPORTED_RAW_OPS`) and keras_ops
(keras.ops function names with Keras's signatures and defaults;
`SUPPORTED_KERAS_OPS` is keyed by the operation class). A second
registration of an op or spelling raises unless `replace=True`. Elementwise
ops stay in the layout their tensors share (no Transpose after a
convolution), reductions remap their axes, transposes only retag the
layout, everything else computes in Keras's layout. Op layers drop Keras
masks, as Keras does.

Calling an op from other code (e.g. a Lambda interpreter), inside an
emitter, with `ctx` the emitter context (messages name `ctx.layer`):

    TABLE.call(ctx, "add", x, 2.0)                      # canonical name
    TABLE.call(ctx, "reduce_mean", x, axis=1)           # declared params bind
    TABLE.call(ctx, "getitem", x, (slice(None), 0))     # x[:, 0]
    FRONTENDS["tf"].call(ctx, "math.add", [x, 2.0])      # as tf.math.add(x, 2.0)
    FRONTENDS["keras"].call(ctx, "mean", [x], {"axis": 1})   # keras.ops.mean
    FRONTENDS["K"].call(ctx, "mean", [x], {"axis": 1})       # keras.backend.mean
    TABLE["reduce_mean"].params, FRONTENDS["tf"]["math.add"].op   # introspection

Arguments are Tensors or Python constants (numbers, nested lists, numpy
arrays, None); dtype arguments are names ("float32"). The result is a
Tensor, or a list of Tensors (split, unstack). Arguments the op does not
declare, or cannot express, raise UnsupportedError naming the layer.
"""
from __future__ import annotations

# The front-ends register the layers; all_ops fills the table they spell.
from . import backend, keras_ops, tf_functions, tf_raw_ops
from .table import TABLE, Frontend, Op, OpTable, Spelling

FRONTENDS = TABLE.frontends
SUPPORTED_FUNCTIONS = tf_functions.TF      # TF symbol -> Spelling (TFOpLambda, SlicingOpLambda)
SUPPORTED_RAW_OPS = tf_raw_ops.RAW         # NodeDef op type -> Spelling (TensorFlowOpLayer)
SUPPORTED_KERAS_OPS = keras_ops.SUPPORTED_KERAS_OPS   # operation class -> Spelling (ops.<Class>)
SUPPORTED_BACKEND_FUNCTIONS = backend.K             # K.<name> -> Spelling (Lambda bodies)

__all__ = ["FRONTENDS", "SUPPORTED_BACKEND_FUNCTIONS", "SUPPORTED_FUNCTIONS", "SUPPORTED_KERAS_OPS",
           "SUPPORTED_RAW_OPS", "TABLE",
           "Frontend", "Op", "OpTable", "Spelling"]
