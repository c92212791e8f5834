"""Keras 3 configs and weights -> the Keras 2 / tf.keras schema.

Most Keras 3 layer configs already use the tf.keras keys. What differs:
dtype policies are objects ({"class_name": "DTypePolicy", "config": {"name":
"float32"}}), InputLayer says batch_shape, LeakyReLU says negative_slope,
nested layer specs carry module / registered_name / build_config, and
DepthwiseConv1D/2D call their kernel 'kernel' (tf.keras: depthwise_kernel).
A quantized layer's dtype policy becomes `Layer.quantization` (a
MultiHeadAttention's: what its projections' stored variables show).
"""
from __future__ import annotations

from ..ir import Model, Weight
from ..readers.keras3 import projection_quantization, quantization_of

_SPEC_ONLY = ("module", "registered_name", "build_config", "compile_config", "shared_object_id")


def looks_like_keras3(model: Model) -> bool:
    for lyr in model.walk():
        c = lyr.config
        if isinstance(c.get("dtype"), dict) and c["dtype"].get("module") is not None:
            return True
        if lyr.class_name == "InputLayer" and "batch_shape" in c and "batch_input_shape" not in c:
            return True
    return False


def normalize_model(model: Model) -> None:
    for layer in model.walk():
        layer.quantization = quantization_of(layer.config)
        if layer.class_name == "MultiHeadAttention":
            query = [w.array for w in layer.weights if w.name.split("/")[-2:-1] == ["query"]]
            layer.quantization = projection_quantization(query, layer.config.get("use_bias", True)
                                                         is not False)
        layer.config = normalize_config(layer.class_name, layer.config)
        if layer.class_name in ("DepthwiseConv1D", "DepthwiseConv2D"):
            layer.weights = _rename(layer.weights, "kernel", "depthwise_kernel")
        elif layer.class_name in ("Bidirectional", "TimeDistributed"):
            inner = (layer.config.get("layer") or {}).get("class_name")
            if inner in ("DepthwiseConv1D", "DepthwiseConv2D"):
                layer.weights = _rename(layer.weights, "kernel", "depthwise_kernel")


def _rename(weights: list, old: str, new: str) -> list:
    if any(w.short == new for w in weights):
        return weights
    out = []
    for w in weights:
        if w.short == old:
            head = w.name[: len(w.name) - len(w.name.rsplit("/", 1)[-1])]
            tail = w.name.rsplit("/", 1)[-1]
            w = Weight(head + tail.replace(old, new, 1), w.array)
        out.append(w)
    return out


def normalize_config(cls: str, c: dict) -> dict:
    c = dict(c)
    if cls == "InputLayer" and "batch_shape" in c and c.get("batch_input_shape") is None:
        c["batch_input_shape"] = c.pop("batch_shape")
    if cls == "LeakyReLU" and "negative_slope" in c and "alpha" not in c:
        c["alpha"] = c.pop("negative_slope")
    for key in ("layer", "backward_layer"):
        spec = c.get(key)
        if isinstance(spec, dict) and "class_name" in spec:
            inner = {k: v for k, v in spec.items() if k not in _SPEC_ONLY}
            inner["config"] = normalize_config(spec["class_name"], spec.get("config") or {})
            c[key] = inner
    return c
