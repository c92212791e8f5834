"""Reference values from a real Keras: model outputs, and every layer's output.

The converter itself never imports Keras; this module does, lazily, and only
when asked to compute a reference live (`bridge check` without a reference
file, `bridge reference`, `bridge check --layers`). Which Keras computes it
follows the file: tf-keras (`tf_keras`) for Keras 1/2 and tf.keras files,
Keras 3 (`keras`) for `.keras` archives and files Keras 3 saved.

Per-layer references are read once per model: one probe model over the
output of every layer's first call (Keras's `layer.output`), run on the same
inputs as the model. A model nested as a layer contributes its own layers
under its path ('outer/inner'), from a probe of the inner model run on what
the outer graph feeds it; the layer a TimeDistributed wraps ('td/inner') is
run on the wrapper's input with batch and time merged, as the wrapper does.
Reference files name them 'layer:<path>' (output 0), 'layer:<path>:<k>'
(output k of a layer with several).
"""
from __future__ import annotations

import importlib
import os
import tempfile
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .errors import DependencyError, ReferenceError_

LAYER_PREFIX = "layer:"


def layer_key(path: str, k: int = 0) -> str:
    return f"{LAYER_PREFIX}{path}" if k == 0 else f"{LAYER_PREFIX}{path}:{k}"


# -- inputs -------------------------------------------------------------------

def random_inputs(metas, seed: int = 0, batch: int = 2) -> dict:
    """Standard normal floats (integers 0..9 for integer inputs) shaped like
    the session's inputs, free dimensions 8 (the batch `batch`)."""
    rng = np.random.default_rng(seed)
    ins = {}
    for meta in metas:
        shape = [batch if i == 0 else (d if isinstance(d, int) else 8) for i, d in enumerate(meta.shape)]
        if "int" in meta.type:
            ins[meta.name] = rng.integers(0, 10, size=shape).astype(np.int32)
        else:
            ins[meta.name] = rng.standard_normal(shape).astype(np.float32)
    return ins


def load_inputs(path) -> dict:
    """Input arrays from a .npz: 'input:<name>' / 'input_0'.. as in a
    reference file, else every array under its own name."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ReferenceError_(f"{path}: no such file; pass a .npz of model inputs")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError):
        raise ReferenceError_(f"{path}: not a .npz file (save inputs with numpy.savez)") from None
    ins = {k[len("input:"):] if k.startswith("input:") else k: v for k, v in arrays.items()
           if k.startswith(("input:", "input_"))}
    return ins or {k: v for k, v in arrays.items() if not k.startswith(("output", LAYER_PREFIX))}


def layer_references(path) -> dict:
    """{'layer:<path>[:k]': array} from a reference .npz (empty for other files)."""
    path = os.fspath(path)
    with open(path, "rb") as fh:
        if not fh.read(2) == b"PK":
            return {}
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k.startswith(LAYER_PREFIX)}


# -- which Keras ----------------------------------------------------------------

def keras_major(src, weights=None) -> int:
    """3 for files Keras 3 wrote (.keras archives, Keras 3 .h5 and JSON), else 2."""
    src = os.fspath(src)
    if src.lower().endswith(".keras"):
        return 3
    from .convert import read_model
    return 3 if read_model(src, weights).keras_major >= 3 else 2


def keras_for(src, weights=None, why: str = "to compute a reference"):
    """The Keras that reads `src` (tf_keras or keras 3), imported now."""
    major = keras_major(src, weights)
    name, package = ("keras", "keras>=3") if major >= 3 else ("tf_keras", "tf-keras")
    try:
        keras = importlib.import_module(name)
    except ImportError:
        keras = None
    if keras is None or (major >= 3 and not keras.__version__.startswith("3")):
        kind = "Keras 3" if major >= 3 else "Keras 2 / tf.keras"
        raise DependencyError(f"{os.fspath(src)}: a {kind} file; {why} needs {name} importable: "
                              f"pip install '{package}' (or pip install 'keras-onnx-bridge[keras]'), "
                              f"or pass --reference REF.npz saved from Keras")
    return keras


def load_keras_model(keras, src, weights=None):
    src = os.fspath(src)
    try:
        if weights is not None:
            with open(src) as fh:
                model = keras.models.model_from_json(fh.read())
            model.load_weights(os.fspath(weights))
            return model
        return keras.models.load_model(src, compile=False)
    except Exception as e:  # Keras raises whatever its loaders raise
        raise ReferenceError_(f"{src}: {keras.__name__} {keras.__version__} cannot load it "
                              f"({type(e).__name__}: {_first_line(e)}); pass --reference REF.npz "
                              f"saved from the Keras that made it") from None


def _first_line(e) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else ""


# -- the model and its layers in Keras -----------------------------------------

def input_names(model) -> list:
    """The InputLayer names of the model's inputs, which the ONNX inputs carry."""
    return [t._keras_history[0].name for t in model.inputs]


def output_names(model) -> list:
    """Keras's output names made unique as the exported model's are (bridge.emit)."""
    from .emit import unique_names
    return unique_names([t._keras_history[0].name for t in model.outputs])


def keras_inputs(model, seed: int = 0, batch: int = 2) -> dict:
    """Random inputs shaped like the Keras model's (see random_inputs)."""
    metas = [SimpleNamespace(name=n, shape=[None] + list(t.shape[1:]),
                             type="tensor(int)" if "int" in str(t.dtype) else "tensor(float)")
             for n, t in zip(input_names(model), model.inputs)]
    return random_inputs(metas, seed, batch)


def _predict(model, feed: list) -> list:
    out = model.predict(feed if len(feed) != 1 else feed[0], verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def _flat(x) -> list:
    if isinstance(x, dict):
        return [t for k in x for t in _flat(x[k])]
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in _flat(v)]
    return [] if x is None else [x]


def _first_node(model, layer):
    """The node of `layer`'s first call in `model`'s own graph (a layer may
    also have been called elsewhere), or None."""
    own = getattr(model, "_functional", None) or model       # a Keras 3 Sequential's graph
    keys = getattr(own, "_nodes", None)                      # Keras 3: '<id>_ib-<i>'
    if keys is None:
        keys, ident = getattr(own, "_network_nodes", set()), layer.name    # tf-keras
    else:
        ident = str(id(layer))
    for i, node in enumerate(layer._inbound_nodes):
        if f"{ident}_ib-{i}" in keys:
            return node
    return None


def _node_inputs(node) -> list:
    ins = getattr(node, "keras_inputs", None)                # tf-keras
    return list(ins) if ins is not None else _flat(node.input_tensors)


def _is_model(layer) -> bool:
    return hasattr(layer, "layers") and hasattr(layer, "inputs") and layer.inputs is not None


def keras_layer_outputs(model, feed: list, prefix: str = "") -> dict:
    """{'layer:<path>[:k]': array} for every layer of `model` (nested ones
    included) run on `feed` (arrays in model.inputs order)."""
    wanted, keys, inner, feeds = [], [], [], []
    # Keras 3 functional graphs also hold operations that are not layers
    # (keras.ops in a model: x * 2.0), which the converter reads as layers
    ops = getattr(model, "operations", None)
    for layer in ops if isinstance(ops, list) else model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        node = _first_node(model, layer)
        if node is None:
            continue
        path = prefix + layer.name
        for k, t in enumerate(_flat(node.output_tensors)):
            keys.append(layer_key(path, k))
            wanted.append(t)
        if _is_model(layer) or (type(layer).__name__ == "TimeDistributed" and hasattr(layer, "layer")):
            # what the first call is fed, to run the inner model (layer) on it
            inner.append((path, layer, len(feeds), len(_node_inputs(node))))
            feeds.extend(_node_inputs(node))
    if not wanted:
        return {}
    probe = _model_class(model)(model.inputs, wanted + feeds)
    values = _predict(probe, feed)
    fed = values[len(keys):]
    out = dict(zip(keys, values[:len(keys)]))
    for path, layer, at, n in inner:
        ins = fed[at:at + n]
        if _is_model(layer):
            out.update(keras_layer_outputs(layer, ins, prefix=path + "/"))
        else:
            x = ins[0]
            merged = x.reshape((-1,) + x.shape[2:])
            y = _flat(layer.layer(merged))
            out[layer_key(f"{path}/{layer.layer.name}")] = np.asarray(y[0])
    return out


def _model_class(model):
    """keras.Model of the Keras that built `model`."""
    for cls in type(model).__mro__:
        if cls.__name__ == "Model":
            return cls
    raise ReferenceError_(f"{model.name}: not a Keras model")


# -- the references -----------------------------------------------------------

@dataclass
class Live:
    """What the Keras that reads the file computed."""
    inputs: dict        # by input name
    outputs: dict       # output_0, output_1, ... (by position)
    layers: dict        # 'layer:<path>[:k]' -> array, when asked for
    label: str          # 'live tf_keras 2.21.0'


def live_reference(src, *, onnx_inputs=None, inputs: dict = None, weights=None, seed: int = 0,
                   layers: bool = False, why: str = "to compute a reference") -> Live:
    """Outputs (and, with `layers`, every layer's output) computed by the
    Keras that reads `src`, on `inputs` (by input name) or else random ones
    shaped like `onnx_inputs` (onnxruntime input metas) or like the Keras
    model's inputs. The model is read once."""
    keras = keras_for(src, weights, why)
    model = load_keras_model(keras, src, weights)
    return _compute(keras, model, src, onnx_inputs, seed, inputs, layers)


def _compute(keras, model, src, onnx_inputs, seed, inputs, layers) -> Live:
    names = input_names(model)
    if inputs is None:
        inputs = random_inputs(onnx_inputs, seed) if onnx_inputs is not None else keras_inputs(model, seed)
    missing = [n for n in names if n not in inputs]
    if missing and len(inputs) == len(names):
        inputs = dict(zip(names, inputs.values()))     # by position
    elif missing:
        raise ReferenceError_(f"{os.fspath(src)}: inputs {missing} are missing; the model takes {names}")
    feed = [inputs[n] for n in names]
    try:
        outs = _predict(model, feed)
        per_layer = keras_layer_outputs(model, feed) if layers else {}
    except ReferenceError_:
        raise
    except Exception as e:   # Keras's own errors
        raise ReferenceError_(f"{os.fspath(src)}: {keras.__name__} {keras.__version__} could not run "
                              f"it ({type(e).__name__}: {_first_line(e)}); pass --reference REF.npz "
                              f"saved from Keras") from None
    return Live({n: inputs[n] for n in names}, {f"output_{i}": o for i, o in enumerate(outs)},
                per_layer, f"live {keras.__name__} {keras.__version__}")


def make_reference(src, dst, *, layers: bool = False, inputs=None, weights=None, seed: int = 0) -> dict:
    """Write a reference .npz for `src` computed by the Keras that reads it
    (needs tf-keras for Keras 2 files, Keras 3 for .keras): 'input:<name>',
    'output:<name>' and, with `layers`, 'layer:<path>' for every layer.
    `inputs`: a .npz of inputs ('input:<name>' arrays, or named after the
    inputs) or a dict by input name; default random (standard normal,
    batch 2, free dimensions 8). Returns the arrays written."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = load_inputs(inputs)
    keras = keras_for(src, weights, why="bridge reference")
    model = load_keras_model(keras, src, weights)
    live = _compute(keras, model, src, None, seed, inputs, layers)
    arrays = {f"input:{n}": v for n, v in live.inputs.items()}
    arrays.update({f"output:{n}": v for n, v in zip(output_names(model), live.outputs.values())})
    arrays.update(live.layers)
    _save_npz(arrays, dst)
    return arrays


def _save_npz(arrays: dict, dst) -> None:
    """np.savez, atomically (no partial file at dst)."""
    dst = os.fspath(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    fd, tmp = tempfile.mkstemp(prefix=".bridge-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)       # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
