"""Keras 3: `.keras` archives and `.weights.h5` files.

A `.keras` file is a zip of config.json (the model, Keras 3 serialization),
metadata.json (keras_version) and model.weights.h5. The weights store has
no variable names: a layer's variables sit at `layers/<key>/vars/<i>`, where
<key> is the snake_case class name made unique with _1, _2, ... in the order
the model lists its layers (not the layer's name), and sub-objects nest
further (an RNN's `cell`, a wrapper's `layer` / `forward_layer`, a nested
model's own `layers`). This reader walks the config in that order, finds each
layer's group, and names its variables the way tf.keras names them (kernel,
bias, gamma, ...), so that later stages see the one Keras 2 schema.
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import ConfigError, InputFileError, WeightsError
from ..errors import short as shortened
from ..ir import AbsMax, Model, Quantization, Weight
from ..registry import REGISTRY
from .config import MODEL_CLASSES, parse_model
from .guard import Archive, H5Dataset, H5Group, load_json
from .store import needs_weights


def read_keras_archive(path: str) -> Model:
    with Archive(path) as zf:
        names = zf.names()
        if "config.json" not in names:
            raise InputFileError(f"{path}: this zip file has no config.json, so it is not a Keras 3 "
                                 f".keras archive; save the model with model.save('model.keras')")
        cfg = load_json(zf.read("config.json"), path, "config.json in the archive")
        meta = {}
        if "metadata.json" in names:
            try:
                meta = load_json(zf.read("metadata.json"), path, "metadata.json in the archive")
            except ConfigError:
                meta = {}
        if not isinstance(meta, dict):
            meta = {}
        model = parse_model(cfg, path)
        model.source = path
        model.keras_version = str(meta.get("keras_version") or "3")
        model.backend = "tensorflow"   # every Keras 3 backend computes cross-correlation
        if "model.weights.h5" in names:
            with zf.open_h5("model.weights.h5") as f:
                attach_keras3_weights(model, f, path)
        elif "model.weights.npz" in names:
            attach_keras3_weights(model, _NpzStore(zf.read_npz("model.weights.npz")), path)
        elif any(n.endswith(".weights.json") or n.endswith(".weights.h5") for n in names):
            raise InputFileError(f"{path}: the archive's weights are sharded over several files, "
                                 f"which this reader does not read; re-save the model without "
                                 f"max_shard_size")
        elif needs_weights(model):
            raise InputFileError(f"{path}: the archive has no model.weights.h5; it is truncated "
                                 f"or damaged: re-save the model")
    return model


class _NpzStore:
    """The npz weights store (flat keys 'layers/dense/vars/0') seen as groups."""

    def __init__(self, flat: dict, prefix: str = ""):
        self.flat, self.prefix = flat, prefix

    def _children(self):
        out = []
        for k in self.flat:
            if k.startswith(self.prefix):
                head = k[len(self.prefix):].split("/", 1)[0]
                if head not in out:
                    out.append(head)
        return out

    def __contains__(self, key):
        return key in self._children()

    def __getitem__(self, key):
        full = self.prefix + key
        if full in self.flat:
            return self.flat[full]
        if key not in self:
            raise KeyError(key)
        return _NpzStore(self.flat, full + "/")

    def keys(self):
        return self._children()

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __len__(self):
        return len(self._children())

    @property
    def attrs(self):
        return {}


# -- naming --------------------------------------------------------------------

def to_snake_case(name: str) -> str:
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(base: str, used: dict) -> str:
    if base in used:
        used[base] += 1
        return f"{base}_{used[base]}"
    used[base] = 0
    return base


def _vars(g, path: str) -> list:
    if g is None or isinstance(g, H5Dataset) or "vars" not in g:
        return []
    v = g["vars"]
    if isinstance(v, H5Dataset):
        raise WeightsError(f"{path}: '{shortened(getattr(g, 'name', ''))}/vars' is a dataset, not a group "
                           f"of variables; the file is damaged: re-save the model")
    out = []
    for i in range(len(v.keys())):
        a = v.get(str(i))
        if a is None or isinstance(a, H5Group):
            raise WeightsError(f"{path}: variable {i} of '{shortened(getattr(g, 'name', ''))}' is missing "
                               f"or not an array; the file is truncated or damaged: re-save the model")
        out.append(a.read() if isinstance(a, H5Dataset) else np.asarray(a))
    return out


def _vars_name(g):
    try:
        n = g["vars"].attrs.get("name")
    except (KeyError, AttributeError):
        return None
    if isinstance(n, bytes):
        n = n.decode("utf-8")
    return n


# -- quantized layers ------------------------------------------------------------

_QUANTIZED_POLICIES = ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "Int4DTypePolicy",
                       "GPTQDTypePolicy", "AWQDTypePolicy")


def quantization_of(c: dict):
    """The Quantization a Keras 3 layer config records, None when it is not
    quantized. The mode is the dtype policy's ({"class_name":
    "QuantizedDTypePolicy", "config": {"mode": "int8", ...}}, or the policy
    name "int8_from_float32"; int4 says its block size: "int4/128", -1 per
    channel, none in files from before block sizes). The inputs' quantizer is
    quantization_config's activation_quantizer, or Keras's default for the
    mode when the config has none (int8: AbsMaxQuantizer(); int4: none)."""
    policy = c.get("dtype")
    mode = None
    if isinstance(policy, dict):
        pc = policy.get("config") or {}
        if policy.get("class_name") in _QUANTIZED_POLICIES:
            mode = pc.get("mode")
        if mode is None and isinstance(pc.get("name"), str) and "_from_" in pc["name"]:
            mode = pc["name"].split("_from_", 1)[0]
    elif isinstance(policy, str) and "_from_" in policy:
        mode = policy.split("_from_", 1)[0]
    if not isinstance(mode, str):
        return None
    base, _, block = mode.partition("/")
    block_size = None
    if base == "int4" and block:
        try:
            block_size = int(block)
        except ValueError:
            block_size = None
        block_size = None if block_size is None or block_size <= 0 else block_size
    qc = c.get("quantization_config")
    if isinstance(qc, dict) and "config" in qc:
        spec = (qc.get("config") or {}).get("activation_quantizer")
        inputs = _abs_max(spec) if spec is not None else None
    else:
        inputs = AbsMax() if base == "int8" else None
    return Quantization(mode=base if base in ("int8", "int4", "float8") else mode,
                        block_size=block_size, inputs=inputs)


def _abs_max(spec):
    """An AbsMaxQuantizer config as AbsMax; any other quantizer as its class
    name (which the emitters' checks refuse)."""
    if not isinstance(spec, dict) or spec.get("class_name") != "AbsMaxQuantizer":
        return spec.get("class_name") if isinstance(spec, dict) else str(spec)
    sc = spec.get("config") or {}
    lo, hi = sc.get("value_range", (-127, 127))
    return AbsMax(lo=int(lo), hi=int(hi), epsilon=float(sc.get("epsilon", 1e-7)))


def _quantized_names(cls: str, c: dict, q: Quantization, bias: list) -> list:
    """Variable names of a quantized Dense / EinsumDense / Embedding, in the
    order of the layer's variable_serialization_spec (optional ones left out
    as save_own_variables leaves them out)."""
    grouped = q.block_size is not None
    if cls == "Embedding":
        return ["embeddings", "embeddings_scale"] + (
            ["embeddings_zero", "g_idx"] if q.mode == "int4" and grouped else [])
    if q.mode == "int8":
        return ["kernel"] + bias + ["kernel_scale"]
    if q.mode == "int4":
        return ["kernel"] + bias + ["kernel_scale"] + (["kernel_zero", "g_idx"] if grouped else [])
    return ["kernel"] + bias + ["inputs_scale", "inputs_amax_history", "kernel_scale",
                                "kernel_amax_history", "outputs_grad_scale",
                                "outputs_grad_amax_history"]


def projection_quantization(arrays: list, use_bias: bool):
    """How a MultiHeadAttention projection (an EinsumDense inside it) was
    quantized, read off its stored variables: `model.quantize` reaches those
    layers, but the MultiHeadAttention config keeps no trace of it (Keras
    itself cannot load such a file back). Keras's default quantizers for the
    mode are assumed. None: not quantized."""
    n = len(arrays) - (1 if use_bias else 0)
    if n <= 1 or not arrays:
        return None
    kernel = arrays[0]
    if kernel.dtype.kind == "f":
        return Quantization(mode="float8") if n == 7 else None
    if n == 4:
        g_idx = np.asarray(arrays[-1])
        return Quantization(mode="int4", block_size=int(np.sum(g_idx == g_idx.min())))
    if kernel.ndim == 2:     # int4 kernels are flattened to (rows, columns) and packed
        return Quantization(mode="int4")
    return Quantization(mode="int8", inputs=AbsMax())


def _projection_names(arrays: list, c: dict) -> list:
    use_bias = c.get("use_bias", True) is not False
    q = projection_quantization(arrays, use_bias)
    bias = ["bias"] if use_bias else []
    if q is None:
        return (["kernel"] + bias)[:len(arrays)]
    return _quantized_names("EinsumDense", c, q, bias)


# -- which variable is which ------------------------------------------------------

def _own_names(cls: str, c: dict, n: int) -> list:
    """Keras 2 short names of a layer's own Keras 3 variables, in stored
    order: a quantized layer's as its variable_serialization_spec orders
    them, else the names its emitter's registration declares (Keras's
    layer.weights order, which is the Keras 3 creation order), else var_<i>."""
    q = quantization_of(c) if cls in ("Dense", "EinsumDense", "Embedding") else None
    if q is not None:
        if q.mode not in ("int8", "int4", "float8"):
            return [f"var_{i}" for i in range(n)]    # a mode the emitters' checks refuse
        bias = ["bias"] if (c.get("bias_axes") if cls == "EinsumDense"
                            else c.get("use_bias", True) is not False) else []
        return _quantized_names(cls, c, q, bias)
    names = REGISTRY.weight_names(cls, c)
    return names if names is not None else [f"var_{i}" for i in range(n)]


_RNN = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
_CELL_NAME = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell",
              "ConvLSTM1D": "conv_lstm_cell", "ConvLSTM2D": "conv_lstm_cell",
              "ConvLSTM3D": "conv_lstm_cell"}
_MHA_PARTS = (("query_dense", "query"), ("key_dense", "key"), ("value_dense", "value"),
              ("output_dense", "attention_output"))


def _spec_parts(spec: dict):
    return spec.get("class_name", ""), spec.get("config") or {}


def _named(cls: str, c: dict, g, scope: str, path: str) -> list:
    """Weights of one layer (class `cls`, config `c`) stored in group `g`,
    named '<scope>/<short>' as tf.keras names them."""
    if cls in _RNN:
        cell = g["cell"] if g is not None and "cell" in g else None
        arrs = _vars(cell, path)
        names = _own_names(cls, c, len(arrs))
        return _zip(names, arrs, f"{scope}/{_CELL_NAME[cls]}", cls, path)
    if cls == "RNN" and isinstance(c.get("cell"), dict):
        return _rnn_cells(c["cell"], g["cell"] if g is not None and "cell" in g else None, scope, path)
    if cls == "Bidirectional":
        fcls, fconf = _spec_parts(c.get("layer") or {})
        bcls, bconf = _spec_parts(c.get("backward_layer") or c.get("layer") or {})
        fname = _prefixed("forward_", fconf.get("name") or to_snake_case(fcls))
        bname = _prefixed("backward_", (c.get("backward_layer") or {}).get("config", {}).get("name")
                          or fconf.get("name") or to_snake_case(bcls))
        fg = g["forward_layer"] if g is not None and "forward_layer" in g else None
        bg = g["backward_layer"] if g is not None and "backward_layer" in g else None
        return (_named(fcls, fconf, fg, f"{scope}/{fname}", path)
                + _named(bcls, bconf, bg, f"{scope}/{bname}", path))
    if cls == "TimeDistributed":
        icls, iconf = _spec_parts(c.get("layer") or {})
        ig = g["layer"] if g is not None and "layer" in g else None
        return _named(icls, iconf, ig, scope, path)
    if cls in MODEL_CLASSES:
        # a model inside a wrapper: its layers' weights, named
        # '<scope>/<layer>/<short>' so the wrapper can hand them back out
        inner = parse_model({"class_name": cls, "config": c}, path)
        if _layers_of(g) is not None:
            _attach_model(inner, _layers_of(g), path)
        return [Weight(f"{scope}/{w.name}", w.array) for lyr in inner.walk() for w in lyr.weights]
    if cls in ("MultiHeadAttention", "GroupedQueryAttention"):
        out = []
        for part, short in _MHA_PARTS:
            # tf.keras 2.13-2.15 kept them as private attributes: '_query_dense'
            part = part if g is None or part in g else "_" + part
            sub = g[part] if g is not None and part in g else None
            arrs = _vars(sub, path)
            out += _zip(_projection_names(arrs, c), arrs, f"{scope}/{short}", cls, path)
        return out
    arrs = _vars(g, path)
    names = _own_names(cls, c, len(arrs))
    out = _zip(names, arrs, scope, cls, path)
    if all(n.startswith("var_") for n in names):
        out += _sublayer_vars(g, scope, path)
    return out


def _sublayer_vars(g, scope: str, path: str) -> list:
    """A custom layer's sub-layers' variables (KerasHub's TransformerEncoder
    keeps its MultiHeadAttention at `_self_attention_layer/...`), named
    '<scope>/<attribute path>/var_<i>' in the stored order."""
    out = []
    for key in (g.keys() if g is not None else ()):
        sub = g[key]
        if key == "vars" or not hasattr(sub, "keys"):
            continue
        out += [Weight(f"{scope}/{key}/var_{i}", a) for i, a in enumerate(_vars(sub, path))]
        out += _sublayer_vars(sub, f"{scope}/{key}", path)
    return out


# A cell's variables are those of the layer of the cell (whose registration names them).
_CELL_LAYER = {"LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "SimpleRNN"}


def _rnn_cells(spec: dict, g, scope: str, path: str) -> list:
    """An RNN(cell)'s weights, '<scope>/<cell name>/<short>': one cell's at
    `cell/vars`, StackedRNNCells' at `cell/cells/<key>/vars` (keys: the
    cells' snake_case class names, made unique in order)."""
    ccls, ccfg = _spec_parts(spec)
    if ccls != "StackedRNNCells":
        arrs = _vars(g, path)
        name = ccfg.get("name") or to_snake_case(ccls)
        return _zip(_own_names(_CELL_LAYER.get(ccls, ccls), ccfg, len(arrs)), arrs, f"{scope}/{name}",
                    ccls, path)
    group = g["cells"] if g is not None and "cells" in g else None
    used: dict = {}
    out = []
    for sub in ccfg.get("cells") or []:
        scls, scfg = _spec_parts(sub)
        key = _unique(to_snake_case(scls), used)
        arrs = _vars(group[key] if group is not None and key in group else None, path)
        out += _zip(_own_names(_CELL_LAYER.get(scls, scls), scfg, len(arrs)), arrs,
                    f"{scope}/{scfg.get('name') or key}", scls, path)
    return out


def _prefixed(prefix: str, name: str) -> str:
    return name if name.startswith(prefix) else prefix + name


def _zip(names: list, arrs: list, scope: str, cls: str, path: str) -> list:
    if len(names) != len(arrs):
        if all(n.startswith("var_") for n in names) or not arrs:
            names = [f"var_{i}" for i in range(len(arrs))]
        else:
            raise WeightsError(f"{path}: '{scope}' ({cls}) has {len(arrs)} stored variable(s) but "
                               f"its config implies {len(names)} ({', '.join(names)}); the weights "
                               f"do not belong to this architecture")
    return [Weight(f"{scope}/{n}", a) for n, a in zip(names, arrs)]


# -- attaching -----------------------------------------------------------------

def attach_keras3_weights(model: Model, root, path: str) -> None:
    """Keras 3 weights store (a .keras archive's model.weights.h5, or a
    .weights.h5 file) -> the layers of `model`."""
    root = _slashed(root)
    layers = _layers_of(root)
    if layers is None:
        if needs_weights(model):
            raise WeightsError(f"{path}: the weights store has no 'layers' (or tf.keras 2.13's "
                               f"'_layer_checkpoint_dependencies') group; it does not hold this "
                               f"model's weights")
        return
    _attach_model(model, layers, path)


# tf.keras 2.13 called a model's layer list `_layer_checkpoint_dependencies`
# (2.14 on: `layers`, as Keras 3 does).
_LAYER_LISTS = ("layers", "_layer_checkpoint_dependencies")


def _layers_of(g):
    for key in _LAYER_LISTS:
        if g is not None and key in g:
            return g[key]
    return None


def _slashed(root):
    """The store as saved on Linux. tf.keras 2.13-2.15 joined the group path
    of each object with os.path.join, so a store written on Windows has
    root groups named 'layers\\conv1d' (holding 'vars/0'): such a store is
    read through a view that splits those names at the backslashes."""
    names = []
    if hasattr(root, "visititems"):
        root.visititems(lambda n, o: names.append(n) if hasattr(o, "shape") else None)
    if not any("\\" in n for n in names):
        return root
    return _NpzStore({n.replace("\\", "/"): root[n] for n in names})


def _numbered_twice(keys) -> bool:
    """tf.keras 2.13 listed each layer with weights twice in
    `_layer_checkpoint_dependencies` and counted both: the second Dense is
    'dense_2', the third 'dense_4'. Seen as an '_2' without an '_1'."""
    keys = set(keys)
    return any(k.endswith("_2") and k[:-2] + "_1" not in keys and k[:-2] in keys for k in keys)


def _holds_data(g) -> bool:
    if hasattr(g, "visititems"):
        return g.visititems(lambda n, o: True if hasattr(o, "shape") else None) is not None
    return any(_holds_data(g[k]) if hasattr(g[k], "keys") else True for k in g.keys())


def _attach_model(model: Model, layers_group, path: str) -> None:
    used: dict = {}
    keys = list(layers_group.keys())
    claimed = set()
    by_vars_name = {}
    for k in keys:
        n = _vars_name(layers_group[k])
        if n is not None:
            by_vars_name.setdefault(n, k)
    doubled = _numbered_twice(keys)
    for layer in model.layers:
        cls = layer.class_name
        base = to_snake_case(cls.rpartition(">")[2])     # the class's own name
        key = _unique(base, used)
        if doubled and key in layers_group and _holds_data(layers_group[key]):
            used[base] += 1
        if layer.class_name == "InputLayer":
            continue
        if key in layers_group:
            n = _vars_name(layers_group[key])
            if n is not None and n != layer.name and layer.name in by_vars_name:
                key = by_vars_name[layer.name]     # saved under another order: trust the names
        elif layer.name in by_vars_name:
            key = by_vars_name[layer.name]
        else:
            key = None
        g = layers_group[key] if key is not None else None
        if key is not None:
            claimed.add(key)
        if layer.inner is not None:
            if _layers_of(g) is not None:
                _attach_model(layer.inner, _layers_of(g), path)
            elif needs_weights(layer.inner):
                raise WeightsError(f"{path}: no weights stored for nested model '{layer.name}' "
                                   f"({cls}); the weights do not belong to this architecture")
            continue
        layer.weights = _named(cls, layer.config, g, layer.name, path)
