"""Legacy Keras HDF5: files from model.save() (Keras 2, tf.keras) and weights
files from model.save_weights()."""
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


def read_weights_file(model: Model, path: str) -> None:
    with open_h5(path) as f:
        root = f["model_weights"] if "model_weights" in f else f
        if not load_attr_list(root, "layer_names"):
            raise InputFileError(f"{path}: no Keras weights in this HDF5 file (no layer_names "
                                 f"attribute); pass the file written by model.save_weights()")
        if "keras_version" in root.attrs:
            model.keras_version = _text(root.attrs["keras_version"])
        if "backend" in root.attrs:
            model.backend = _text(root.attrs["backend"])
        attach_weights(model, root, path)


def _read_group(g) -> list:
    out = []
    for wn in load_attr_list(g, "weight_names"):
        try:
            out.append(Weight(wn, np.asarray(g[wn])))
        except KeyError:
            raise WeightsError(f"weight '{wn}' is listed in group '{g.name}' but missing; the file is "
                               f"truncated or damaged: re-save the model") from None
    return out


def attach_weights(model: Model, root, path: str) -> None:
    stored = {}
    for name in load_attr_list(root, "layer_names"):
        if name not in root:
            raise WeightsError(f"{path}: layer '{name}' is listed in the weights but its group is "
                               f"missing; the file is truncated or damaged: re-save the model")
        ws = _read_group(root[name])
        if ws:
            stored[name] = ws
    by_name = {l.name: l for l in model.layers}
    unknown = [n for n in stored if n not in by_name]
    if unknown:
        raise WeightsError(f"{path}: the weights are for layers {unknown[:5]} that the architecture "
                           f"does not have; the weights belong to another model")
    for name, ws in stored.items():
        layer = by_name[name]
        if layer.inner is not None:
            _distribute(layer.inner, ws, path)
        else:
            layer.weights = ws


def _distribute(inner: Model, ws: list, path: str) -> None:
    """A nested model's group holds the weights of all the layers inside it,
    at any depth, named '<layer>/<weight>:0' (possibly under more scopes)."""
    leaves = {l.name: l for l in inner.walk() if l.inner is None}
    groups: dict = {}
    for w in ws:
        parts = w.name.split("/")[:-1]
        owner = next((p for p in reversed(parts) if p in leaves), None)
        if owner is None:
            raise WeightsError(f"{path}: weight '{w.name}' of nested model '{inner.name}' names no "
                               f"layer of that model; the weights belong to another model")
        groups.setdefault(owner, []).append(w)
    for owner, lws in groups.items():
        leaves[owner].weights = lws
