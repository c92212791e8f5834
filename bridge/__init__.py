"""keras-onnx bridge: Keras model files to ONNX, without TensorFlow or Keras.

    import bridge
    bridge.to_onnx("model.h5", "model.onnx")

The public API: `to_onnx` (convert), `run` (ONNX Runtime), `check` (parity
with Keras's outputs), `register` / `REGISTRY` (emitters for your own layer
classes, which receive `Tensor`s and a `Context`), and the errors, every one
a `BridgeError` subclass.
"""
from .context import Context, Tensor
from .convert import to_onnx
from .errors import (BridgeError, BridgeWarning, ConfigError, InputFileError, OpsetError,
                     ReferenceError_, UnsupportedError, WeightsError)
from .registry import REGISTRY, register
from .runtime import run
from .validate import check
from .version import __version__

__all__ = ["to_onnx", "check", "run", "register", "REGISTRY", "Tensor", "Context",
           "BridgeError", "BridgeWarning", "ConfigError", "InputFileError", "OpsetError",
           "ReferenceError_", "UnsupportedError", "WeightsError", "__version__"]
