"""keras-onnx bridge: Keras model files to ONNX, without TensorFlow or Keras.

    import bridge
    bridge.to_onnx("model.h5", "model.onnx")

The public API: `to_onnx` (convert; precision="fp16" for float16), `run`
(ONNX Runtime), `check` (parity with Keras's outputs; layers=True layer by
layer), `make_reference` (a reference .npz computed by Keras), `quantize` (int8 by
ONNX Runtime's quantizer), `to_triton` (a Triton model repository entry),
`register` / `REGISTRY` (emitters for your own layer classes, which receive
`Tensor`s and a `Context`), `Limits` / `limits` (what a model file may ask
of the converter, bridge/safety.py), and the errors, every one a
`BridgeError` subclass.
"""
from .context import Context, Tensor
from .convert import to_onnx
from .errors import (BridgeError, BridgeWarning, ConfigError, DependencyError, InputFileError,
                     LimitError, OpsetError, OptionError, OutputError, ReferenceError_, UnsupportedError,
                     WeightsError)
from .registry import REGISTRY, register
from .safety import DEFAULT as limits
from .safety import Limits
from .version import __version__

# Imported when first used: a conversion (the `bridge convert` process
# included) does not pay for onnxruntime's helpers, the validator or deployment.
_LAZY = {"run": ("runtime", "run"), "check": ("validate", "check"),
         "make_reference": ("reference", "make_reference"), "quantize": ("deploy.quantize", "quantize"),
         "to_triton": ("deploy.triton", "to_triton")}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["to_onnx", "check", "make_reference", "run", "quantize", "to_triton", "register",
           "REGISTRY", "Tensor",
           "Context", "BridgeError", "BridgeWarning", "ConfigError", "DependencyError",
           "InputFileError", "OpsetError", "OptionError", "ReferenceError_", "UnsupportedError",
           "WeightsError", "LimitError", "OutputError", "Limits", "limits", "__version__"]
