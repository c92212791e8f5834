"""Version-aware ONNX node builders. Nothing here knows about Keras.

Emitters call one builder API; each class below overrides only what its opset
changed, so emitters never branch on the opset number.
"""
from .graph import Graph, GraphTooLarge
from .builders import (BUILDERS, Opset13, Opset14, Opset17, Opset18, Opset19, Opset20, Opset28,
                       builder_for)

MIN_OPSET = 13
DEFAULT_OPSET = 17
# The highest opset the oldest accepted onnx (1.14) and onnxruntime (1.16)
# both run: no need to ask the installed ones (which costs a session per opset).
SAFE_OPSET = 19

__all__ = ["Graph", "GraphTooLarge", "BUILDERS", "Opset13", "Opset14", "Opset17", "Opset18", "Opset19",
           "Opset20", "Opset28", "builder_for", "MIN_OPSET", "DEFAULT_OPSET", "SAFE_OPSET", "max_opset"]

_max = None


def max_opset() -> int:
    """Highest opset both the installed onnx and onnxruntime accept."""
    global _max
    if _max is None:
        import onnx
        from onnx import helper, TensorProto
        import onnxruntime as ort
        best = MIN_OPSET
        for v in range(MIN_OPSET, onnx.defs.onnx_opset_version() + 1):
            x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
            y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
            g = helper.make_graph([helper.make_node("Neg", ["x"], ["y"])], "probe", [x], [y])
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", v)])
            m.ir_version = helper.find_min_ir_version_for(m.opset_import)
            try:
                ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
            except Exception:
                break
            best = v
        _max = best
    return _max
