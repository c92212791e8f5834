"""Legacy Keras HDF5: files from model.save() (Keras 1, Keras 2, tf.keras, and
Keras 3 saving to .h5) and weights files from model.save_weights().

Weights are read as stored (names and layouts of the Keras that wrote them);
bridge.normalize turns them into the Keras 2 names and layouts."""
from __future__ import annotations

import json

import numpy as np

from ..errors import ConfigError, InputFileError, WeightsError
from ..ir import Model, Weight
from .config import parse_model


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v)


def load_attr_list(group, name: str) -> list:
    """A string-list attribute; long lists are split into name0, name1, ..."""
    if name in group.attrs:
        return [_text(v) for v in group.attrs[name]]
    out, i = [], 0
    while f"{name}{i}" in group.attrs:
        out.extend(_text(v) for v in group.attrs[f"{name}{i}"])
        i += 1
    return out


def open_h5(path: str):
    import h5py
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise InputFileError(f"{path}: not a readable HDF5 file ({_short(e)}); the file is truncated, "
                             f"empty or not a Keras model: re-save it with model.save('model.h5')") from None


def _short(e: Exception) -> str:
    return str(e).split("(")[0].strip().rstrip(",") or type(e).__name__


def read_h5_model(path: str) -> Model:
    with open_h5(path) as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            if load_attr_list(f, "layer_names"):
                raise InputFileError(f"{path}: this HDF5 file holds weights only (from "
                                     f"model.save_weights()); pass the architecture too: "
                                     f"bridge convert arch.json --weights {path}")
            if is_keras3_weights(f):
                raise InputFileError(f"{path}: this is a Keras 3 weights file (from "
                                     f"model.save_weights('x.weights.h5')), without the "
                                     f"architecture; pass the architecture too: bridge convert "
                                     f"arch.json --weights {path}, or convert the .keras file")
            raise InputFileError(f"{path}: this HDF5 file has no Keras model config; it is not a "
                                 f"Keras model file: save the model with model.save('model.h5')")
        try:
            cfg = json.loads(_text(raw))
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: the model_config attribute is not valid JSON ({e}); the "
                              f"file is damaged: re-save the model") from None
        model = parse_model(cfg, path)
        model.source = path
        model.keras_version = _text(f.attrs.get("keras_version", b""))
        model.backend = _text(f.attrs.get("backend", b"")) or ""
        root = f["model_weights"] if "model_weights" in f else f
        if not model.keras_version and "keras_version" in root.attrs:
            model.keras_version = _text(root.attrs["keras_version"])
        if not model.backend and "backend" in root.attrs:
            model.backend = _text(root.attrs["backend"])
        attach_weights(model, root, path)
    return model


def is_keras3_weights(f) -> bool:
    """A Keras 3 weights store: groups layers/<name>/vars/<i>, no layer_names."""
    return "layer_names" not in f.attrs and ("layers" in f or "vars" in f)


def read_weights_file(model: Model, path: str) -> None:
    """Weights from model.save_weights() (Keras 1/2 HDF5, or a Keras 3
    .weights.h5), or the weights of a full model file, onto `model`."""
    with open_h5(path) as f:
        if is_keras3_weights(f):
            from .keras3 import attach_keras3_weights
            attach_keras3_weights(model, f, path, (path, 0))
            if not model.keras_version:
                model.keras_version = "3"
            return
        root = f["model_weights"] if "model_weights" in f else f
        if not load_attr_list(root, "layer_names"):
            raise InputFileError(f"{path}: no Keras weights in this HDF5 file (no layer_names "
                                 f"attribute); pass the file written by model.save_weights()")
        if "keras_version" in root.attrs:
            model.keras_version = _text(root.attrs["keras_version"])
        if "backend" in root.attrs:
            model.backend = _text(root.attrs["backend"])
        attach_weights(model, root, path, by_order=True)


def dataset_array(ds, where=None) -> np.ndarray:
    """A dataset's values. Where the dataset is stored in one piece,
    uncompressed, in a file on disk (`where`: its path and the HDF5 data's
    offset in it), the array maps the file instead of reading it
    (copy-on-write): weights cost no memory or time until used, and the
    ones written out unchanged are never copied in memory at all."""
    if where is not None and getattr(ds, "chunks", 0) is None and ds.dtype.kind in "fiub" and ds.ndim \
            and ds.size:
        try:
            offset = ds.id.get_offset()
        except Exception:   # (h5py raises its own types for virtual or external storage)
            offset = None
        if offset is not None:
            path, base = where
            return np.memmap(path, dtype=ds.dtype, mode="c", offset=base + offset, shape=ds.shape)
    return np.asarray(ds)


def _read_group(g, where=None) -> list:
    out = []
    for i, wn in enumerate(load_attr_list(g, "weight_names")):
        try:
            arr = dataset_array(g[wn], where)
        except KeyError:
            if f"param_{i}" in g:          # very old Keras: datasets named param_<i>
                arr = dataset_array(g[f"param_{i}"], where)
            else:
                raise WeightsError(f"weight '{wn}' is listed in group '{g.name}' but missing; the "
                                   f"file is truncated or damaged: re-save the model") from None
        out.append(Weight(wn, arr))
    return out


# Layer classes that never hold weights: skipped when weights are matched to
# layers by position, as Keras's loader skips layers without weights.
WEIGHTLESS = frozenset("""
InputLayer Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout
AlphaDropout ActivityRegularization Activation Flatten Reshape Permute RepeatVector Lambda Masking
MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D
GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D GlobalAveragePooling1D
GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPool1D GlobalMaxPool2D GlobalAvgPool2D
MaxPool1D MaxPool2D MaxPool3D AvgPool1D AvgPool2D AvgPool3D
UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D
Cropping2D Cropping3D Add Subtract Multiply Average Maximum Minimum Concatenate Dot Merge
LeakyReLU ELU ReLU Softmax ThresholdedReLU Identity UnitNormalization Rescaling Resizing CenterCrop
""".split())


def _has_weights(layer) -> bool:
    cls, c = layer.class_name, layer.config
    if cls == "TimeDistributed":
        inner = c.get("layer") or {}
        return inner.get("class_name") not in WEIGHTLESS
    if cls == "Attention":
        return bool(c.get("use_scale")) or c.get("score_mode") == "concat"
    if cls == "AdditiveAttention":
        return bool(c.get("use_scale", True))
    if cls in ("LayerNormalization", "GroupNormalization"):
        return bool(c.get("center", True) or c.get("scale", True))
    return cls not in WEIGHTLESS


def attach_weights(model: Model, root, path: str, by_order: bool = False) -> None:
    """Stored layer groups -> layers: by name; for a weights-only file whose
    names do not all match (a model rebuilt in another session numbers its
    layers differently), by position among the layers that hold weights,
    as Keras's load_weights() does."""
    stored = {}
    for name in load_attr_list(root, "layer_names"):
        if name not in root:
            raise WeightsError(f"{path}: layer '{name}' is listed in the weights but its group is "
                               f"missing; the file is truncated or damaged: re-save the model")
        ws = _read_group(root[name], (path, 0))
        if ws:
            stored[name] = ws
    by_name = {l.name: l for l in model.layers}
    unknown = [n for n in stored if n not in by_name]
    if unknown and by_order:
        pairs = _match_by_order(model, stored, path)
    elif unknown:
        raise WeightsError(f"{path}: the weights are for layers {unknown[:5]} that the architecture "
                           f"does not have; the weights belong to another model")
    else:
        pairs = [(by_name[n], ws) for n, ws in stored.items()]
    for layer, ws in pairs:
        if layer.inner is not None:
            _distribute(layer.inner, ws, path)
        else:
            layer.weights = ws


def _match_by_order(model: Model, stored: dict, path: str) -> list:
    targets = [l for l in model.layers if _has_weights(l)]
    if len(targets) != len(stored):
        have = ", ".join(f"{l.name} ({l.class_name})" for l in targets[:8])
        got = ", ".join(list(stored)[:8])
        raise WeightsError(f"{path}: the weights file holds weights for {len(stored)} layer(s) "
                           f"[{got}{', ...' if len(stored) > 8 else ''}] but the architecture has "
                           f"{len(targets)} layer(s) with weights [{have}"
                           f"{', ...' if len(targets) > 8 else ''}], and their names differ; "
                           f"Keras matches them by position, so they cannot belong together: pass "
                           f"the weights saved from this architecture")
    return list(zip(targets, stored.values()))


def _distribute(inner: Model, ws: list, path: str) -> None:
    """A nested model's group holds the weights of all the layers inside it,
    at any depth, named '<layer>/<weight>:0' (possibly under more scopes);
    Keras 1 named them '<layer>_<weight>'."""
    leaves = {l.name: l for l in inner.walk() if l.inner is None}
    by_length = sorted(leaves, key=len, reverse=True)
    groups: dict = {}
    for w in ws:
        parts = w.name.split("/")[:-1]
        owner = next((p for p in reversed(parts) if p in leaves), None)
        if owner is None and "/" not in w.name:
            owner = next((n for n in by_length if w.name.startswith(n + "_")), None)
        if owner is None:
            raise WeightsError(f"{path}: weight '{w.name}' of nested model '{inner.name}' names no "
                               f"layer of that model; the weights belong to another model")
        groups.setdefault(owner, []).append(w)
    for owner, lws in groups.items():
        leaves[owner].weights = lws
