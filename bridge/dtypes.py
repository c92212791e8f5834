"""Keras dtype names and the ONNX element types they become: the one table
every stage uses (model inputs, layers with a `dtype` option, op layers)."""
from __future__ import annotations

from typing import Optional

import numpy as np
from onnx import TensorProto, helper

ONNX_DTYPES = {
    "float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "float64": TensorProto.DOUBLE,
    "bfloat16": TensorProto.BFLOAT16, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
    "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL,
}
# Other spellings TensorFlow accepts for the same types.
ALIASES = {"double": "float64", "half": "float16"}
FLOATS = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16)
# The metadata_props key naming what an exported model computes in: 'fp16'
# (bridge.deploy.fp16), 'int8' (bridge.deploy.quantize) or 'keras-quantized'
# (a Keras 3 quantized model's own arithmetic, bridge.emit); float32 without it.
PRECISION_KEY = "bridge.precision"


def onnx_dtype(name: str, default: Optional[int] = None) -> Optional[int]:
    """The ONNX element type of a Keras dtype name; `default` when ONNX has none."""
    return ONNX_DTYPES.get(ALIASES.get(name, name), default)


def numpy_dtype(onnx_type: int) -> np.dtype:
    """The numpy dtype of an ONNX element type."""
    return helper.tensor_dtype_to_np_dtype(onnx_type)
