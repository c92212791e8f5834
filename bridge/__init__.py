"""keras-onnx bridge: Keras model files to ONNX, without TensorFlow or Keras.

    import bridge
    bridge.to_onnx("model.h5", "model.onnx")
"""
__version__ = "0.1.0"

from .errors import BridgeError  # noqa: E402
from .registry import REGISTRY, register  # noqa: E402
from .convert import BridgeWarning, to_onnx  # noqa: E402
from .runtime import run  # noqa: E402
from .validate import check  # noqa: E402
from .deploy.quantize import quantize  # noqa: E402
from .deploy.triton import to_triton  # noqa: E402

__all__ = ["to_onnx", "check", "run", "quantize", "to_triton", "BridgeError", "BridgeWarning", "register", "REGISTRY",
           "__version__"]
