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
     Theano's differs (normalize.theano); Keras 1 border_mode 'full' is
     made explicit padding in step 1;
  5. wrappers: the layers TimeDistributed and Bidirectional wrap become IR
     layers of their own holding their weights (normalize.wrappers).

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
from typing import Optional

import numpy as np

from ..errors import BridgeWarning, ConfigError, layer_where
from ..ir import Layer, Model, Weight
from . import keras1, keras3, theano
from .wrappers import unwrap

BACKENDS = ("tensorflow", "theano", "cntk")
_WIDEN = {"float16": "float32", "bfloat16": "float32", "float64": "float32", "half": "float32",
          "double": "float32"}


def normalize(model: Model, backend: Optional[str] = None) -> Model:
    """The model (in place, and returned) in the one schema; `backend`
    overrides the Keras backend the file records."""
    major = _major(model)
    fingerprint = _backend_from_weight_names(model)     # before names are rewritten
    if major == 1:
        keras1.normalize_model(model)
    elif major >= 3:
        keras3.normalize_model(model)
    _dtypes(model)
    _resolve_backend(model, backend, fingerprint)
    if model.backend == "theano":
        theano.normalize_model(model)
    unwrap(model)
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
        if isinstance(cfg, dict) and isinstance(cfg.get("mode"), str):   # a quantized policy
            return f"{cfg['mode']}_from_{cfg.get('source_name', 'float32')}"
        return v.get("class_name")
    return v


def _dtypes(model: Model) -> None:
    notes = model.precision_notes
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
        model.backend_source = "argument"
        return
    recorded = (model.backend or "").strip().lower()
    if recorded:
        model.backend = "theano" if recorded == "theano" else (
            recorded if recorded in BACKENDS else "tensorflow")
        model.backend_source = "file"
        return
    if inferred is not None:
        model.backend = inferred
        model.backend_source = "weight names"
        return
    if not _may_be_theano(model):
        model.backend = "tensorflow"
        model.backend_source = "version"
        return
    model.backend = "tensorflow"
    model.backend_source = "default"
    dependent = [lyr for lyr in model.walk() if _backend_dependent(lyr)]
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
    names = [w.name for lyr in model.walk() for w in lyr.weights]
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
    return cls in theano.KERNELS_TO_FLIP


