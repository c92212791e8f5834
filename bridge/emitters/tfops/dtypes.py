"""Data types by the names TensorFlow and Keras write in op configs, over
the project's one dtype table (bridge/dtypes.py)."""
from __future__ import annotations

from ...dtypes import FLOATS as FLOAT_TYPES
from ...dtypes import numpy_dtype as np_dtype
from ...dtypes import onnx_dtype

__all__ = ["FLOAT_TYPES", "np_dtype", "onnx_dtype", "dtype_name"]


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
