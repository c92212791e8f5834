"""Every Keras version and backend -> one schema: Keras 2 / tf.keras class
names, config keys, weight names and layouts, computing what TensorFlow
computes. Emitters read only that schema.

normalize(model, backend) runs after a reader and, in place:
  1. Keras 1 -> Keras 2 names, configs and weights (normalize.keras1);
     Keras 3 -> tf.keras configs and weight names (normalize.keras3);
  2. dtype policies -> plain dtype names; floating weights -> float32;
     float16 / bfloat16 / float64 inputs -> float32 (see below);
  3. the backend: the `backend` argument, else what the file records, else
     (Keras 1 files record none) what the weight names show (TensorFlow
     names its variables 'name:0', Theano does not), else TensorFlow with a
     BridgeWarning that says how to override it;
  4. Theano: convolution kernels flipped, 'same' padding made explicit where
     Theano's differs (normalize.theano); Keras 1 border_mode 'full' made
     explicit padding too.

Precision: the exported graph computes in float32. Weights stored as
float16 or bfloat16 (a model saved with dtype float16, or a mixed-precision
model) are widened to float32 exactly, and inputs declared float16 /
bfloat16 / float64 become float32 inputs. A float16 or mixed_float16 model
therefore computes *more* precisely than Keras did; expect differences of
the order of float16 rounding (~1e-3 relative), not 1e-5.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from ..errors import BridgeWarning, ConfigError, layer_where
from ..ir import Call, Layer, Model, TensorRef, Weight
from . import keras1, keras3, theano

BACKENDS = ("tensorflow", "theano", "cntk")
# Keras 3 backends: all compute cross-correlation like TensorFlow.
_CORRELATION = {"tensorflow", "cntk", "jax", "torch", "numpy", "openvino"}
_WIDEN = {"float16": "float32", "bfloat16": "float32", "float64": "float32", "half": "float32",
          "double": "float32"}


def normalize(model: Model, backend=None) -> Model:
    major = _major(model)
    fingerprint = _backend_from_weight_names(model)     # before names are rewritten
    if major == 1:
        keras1.normalize_model(model)
    elif major >= 3:
        keras3.normalize_model(model)
    _dtypes(model)
    _resolve_backend(model, backend, fingerprint)
    _insert_pre_pads(model)
    if model.backend == "theano":
        _theano(model)
    return model


def _major(model: Model) -> int:
    v = (model.keras_version or "").strip()
    m = re.match(r"(\d+)", v)
    if m:
        return int(m.group(1))
    if keras1.looks_like_keras1(model):
        model.keras_version = "1"
        return 1
    if keras3.looks_like_keras3(model):
        model.keras_version = "3"
        return 3
    return 2


# -- dtypes ---------------------------------------------------------------------

def _policy_name(v):
    if isinstance(v, dict):
        cfg = v.get("config")
        if isinstance(cfg, dict) and isinstance(cfg.get("name"), str):
            return cfg["name"]
        return v.get("class_name")
    return v


def _dtypes(model: Model) -> None:
    notes = model.extra.setdefault("precision", [])
    for layer in model.walk():
        c = layer.config
        if "dtype" in c:
            name = _policy_name(c["dtype"])
            if isinstance(name, str) and name.startswith("mixed_"):
                notes.append(f"{layer.name}: {name}")
                name = "float32"
            c["dtype"] = name
        for key in ("layer", "backward_layer"):
            spec = c.get(key)
            if isinstance(spec, dict) and isinstance(spec.get("config"), dict):
                if "dtype" in spec["config"]:
                    spec["config"]["dtype"] = _policy_name(spec["config"]["dtype"])
        if layer.class_name == "InputLayer" and c.get("dtype") in _WIDEN:
            notes.append(f"{layer.name}: input {c['dtype']} taken as float32")
            c["dtype"] = _WIDEN[c["dtype"]]
        if layer.weights:
            ws = []
            for w in layer.weights:
                a = np.asarray(w.array)
                if a.dtype.kind == "V" and a.dtype.itemsize == 2:   # bfloat16 stored raw
                    a = (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
                elif a.dtype.kind == "f" and a.dtype != np.float32:
                    a = a.astype(np.float32)
                elif str(a.dtype) == "bfloat16":
                    a = a.astype(np.float32)
                ws.append(w if a is w.array else Weight(w.name, a))
            layer.weights = ws


# -- backend --------------------------------------------------------------------

def _resolve_backend(model: Model, backend, inferred) -> None:
    if backend is not None:
        b = str(backend).strip().lower()
        if b not in BACKENDS:
            raise ConfigError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}; pass the "
                              f"Keras backend the file was saved under")
        model.backend = b
        model.extra["backend_from"] = "argument"
        return
    recorded = (model.backend or "").strip().lower()
    if recorded:
        model.backend = "theano" if recorded == "theano" else (
            recorded if recorded in BACKENDS else "tensorflow")
        model.extra["backend_from"] = "file"
        return
    if inferred is not None:
        model.backend = inferred
        model.extra["backend_from"] = "weight names"
        return
    if not _may_be_theano(model):
        model.backend = "tensorflow"
        model.extra["backend_from"] = "version"
        return
    model.backend = "tensorflow"
    model.extra["backend_from"] = "default"
    dependent = [l for l in model.walk() if _backend_dependent(l)]
    if dependent:
        warnings.warn(
            f"{model.source}: the file does not record the Keras backend it was saved under "
            f"(Keras 1 files do not), and its weight names do not show it; assuming "
            f"TensorFlow. Theano computes convolutions with flipped kernels, which changes "
            f"{layer_where(dependent[0])}"
            f"{' and others' if len(dependent) > 1 else ''}: if the model was saved under "
            f"Theano, pass backend='theano' (CLI: --backend theano)", BridgeWarning, stacklevel=4)


_TF_NAME = re.compile(r":\d+$")


def _may_be_theano(model: Model) -> bool:
    """Theano ran Keras 1 and standalone Keras 2.0-2.3; tf.keras ('2.x-tf',
    2.4 and later) and Keras 3 never ran on it."""
    v = (model.keras_version or "").strip()
    m = re.match(r"(\d+)(?:\.(\d+))?", v)
    if not m:
        return True
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    if major >= 3 or v.endswith("-tf") or (major == 2 and minor >= 4):
        return False
    return True


def _backend_from_weight_names(model: Model):
    names = [w.name for l in model.walk() for w in l.weights]
    if not names:
        return None
    tf_style = sum(1 for n in names if _TF_NAME.search(n))
    if tf_style == len(names):
        return "tensorflow"
    if tf_style == 0 and model.keras_major == 1:
        return "theano"          # Keras 1 ran on TensorFlow or Theano only
    return None


def _backend_dependent(layer: Layer) -> bool:
    cls = layer.class_name
    if cls in ("TimeDistributed", "Bidirectional"):
        cls = (layer.config.get("layer") or {}).get("class_name")
    return cls in theano._FLIP


# -- graph edits ------------------------------------------------------------------

_PAD_CLASS = {1: "ZeroPadding1D", 2: "ZeroPadding2D", 3: "ZeroPadding3D"}


def _theano(model: Model) -> None:
    for m in _models(model):
        for layer in list(m.layers):
            if layer.inner is not None:
                continue
            if layer.weights:
                layer.weights = theano.flip_kernels(layer.class_name, layer.config, layer.weights)
            pool = theano.same_pooling(layer.class_name, layer.config)
            if pool is not None:
                layer.class_name, layer.config = pool
                continue
            pads = theano.same_padding_rewrite(layer.class_name, layer.config)
            if pads is not None:
                layer.config = dict(layer.config, padding="valid")
                if layer.class_name.startswith("ConvLSTM"):
                    pads = [[0, 0]] + pads      # (time, spatial...) of the sequence
                _insert_padding(m, layer, pads)
            elif layer.class_name in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose") \
                    and layer.config.get("padding") == "same":
                crops = theano.transposed_same_crops(layer.config)
                if crops is None:
                                warnings.warn(f"{model.source}: {layer_where(layer)} is a 'same' transposed "
                                  f"convolution saved under Theano with an even kernel, a stride "
                                  f"over half the kernel or output_padding, where Theano placed "
                                  f"its output differently from TensorFlow; the converted model "
                                  f"uses TensorFlow's placement and may differ",
                                  BridgeWarning, stacklevel=4)
                elif any(a != b for a, b in crops):
                    _crop_after(m, layer, crops)


def _crop_after(m: Model, layer: Layer, crops: list) -> None:
    """`layer` becomes 'valid' and is renamed; a Cropping layer with its old
    name takes its outputs, so every consumer now reads the cropped tensor."""
    n = len(crops)
    old = layer.name
    new = f"{old}_full"
    taken = {l.name for l in m.layers}
    while new in taken:
        new += "_"
    layer.name = new
    layer.config = dict(layer.config, name=new, padding="valid")
    cfg = {"name": old, "trainable": False,
           "cropping": [list(c) for c in crops] if n > 1 else list(crops[0])}
    if n > 1:
        cfg["data_format"] = layer.config.get("data_format", "channels_last")
    crop = Layer(name=old, class_name=f"Cropping{n}D", config=cfg)
    crop.calls = [Call((TensorRef(new, i, 0),), {}) for i in range(len(layer.calls))]
    m.layers.insert(m.layers.index(layer) + 1, crop)


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _models(model: Model):
    yield model
    for l in model.layers:
        if l.inner is not None:
            yield from _models(l.inner)


def _insert_pre_pads(model: Model) -> None:
    for m in _models(model):
        for layer in list(m.layers):
            pads = layer.config.pop("_bridge_pre_pad", None) if isinstance(layer.config, dict) else None
            if pads is not None:
                _insert_padding(m, layer, pads)


def _insert_padding(m: Model, layer: Layer, pads: list) -> None:
    """A ZeroPadding layer in front of every call of `layer`."""
    n = len(pads)
    name = f"{layer.name}_pad"
    taken = {l.name for l in m.layers}
    while name in taken:
        name += "_"
    cfg = {"name": name, "trainable": False,
           "padding": [list(p) for p in pads] if n > 1 else list(pads[0])}
    if n > 1:
        cfg["data_format"] = layer.config.get("data_format", "channels_last")
    pad = Layer(name=name, class_name=_PAD_CLASS[n], config=cfg)
    new_calls = []
    for i, call in enumerate(layer.calls):
        pad.calls.append(Call(call.inputs, {}))
        new_calls.append(Call((TensorRef(name, i, 0),) + tuple(call.inputs[1:]), call.kwargs))
    layer.calls = new_calls
    m.layers.insert(m.layers.index(layer), pad)
