"""Data types by the names TensorFlow and Keras write in configs.

One small public table for the op package. The lead is merging the
project's dtype tables into one; when that lands, `DTYPES` becomes an import.
"""
from __future__ import annotations

from onnx import TensorProto, helper

DTYPES = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "float64": TensorProto.DOUBLE,
          "bfloat16": TensorProto.BFLOAT16, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
          "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8,
          "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
          "bool": TensorProto.BOOL, "double": TensorProto.DOUBLE, "half": TensorProto.FLOAT16}

FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16)


def np_dtype(onnx_dtype: int):
    return helper.tensor_dtype_to_np_dtype(onnx_dtype)


def dtype_name(value):
    """'float32' for 'float32', 'tf.float32', a serialized tf.DType
    ({"config": "float32"}) or a Keras 3 dtype policy ({"config": {"name": ...}});
    None for None."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("config", value.get("name"))
        if isinstance(value, dict):
            value = value.get("name", value)
    return str(value).replace("tf.", "")
