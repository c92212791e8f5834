"""Legacy Keras HDF5: files from model.save() (Keras 1, Keras 2, tf.keras, and
Keras 3 saving to .h5) and weights files from model.save_weights().

Weights are read as stored (names and layouts of the Keras that wrote them);
bridge.normalize turns them into the Keras 2 names and layouts."""
from __future__ import annotations

from ..errors import InputFileError, WeightsError, short
from ..ir import Model, Weight
from .config import parse_model
from .guard import H5Dataset, H5Group, load_json
from .store import WEIGHTLESS, distribute_nested, is_keras3_weights, load_attr_list, open_h5, text


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
        cfg = load_json(raw if isinstance(raw, bytes) else text(raw), path, "the model_config attribute")
        model = parse_model(cfg, path)
        model.source = path
        model.keras_version = text(f.attrs.get("keras_version", b""))
        model.backend = text(f.attrs.get("backend", b"")) or ""
        root = weights_root(f)
        if not model.keras_version and "keras_version" in root.attrs:
            model.keras_version = text(root.attrs["keras_version"])
        if not model.backend and "backend" in root.attrs:
            model.backend = text(root.attrs["backend"])
        attach_weights(model, root, path)
    return model


def weights_root(f):
    """The group holding the layers' weights: model_weights in a model file,
    the file itself in a weights file."""
    root = f.get("model_weights")
    return root if isinstance(root, H5Group) else f


def read_legacy_weights(model: Model, f, path: str) -> None:
    """Weights from model.save_weights() in Keras 1/2 HDF5 (or the weights of
    a full model file) onto `model`, matched by name, else by position."""
    root = weights_root(f)
    if not load_attr_list(root, "layer_names"):
        raise InputFileError(f"{path}: no Keras weights in this HDF5 file (no layer_names "
                             f"attribute); pass the file written by model.save_weights()")
    if "keras_version" in root.attrs:
        model.keras_version = text(root.attrs["keras_version"])
    if "backend" in root.attrs:
        model.backend = text(root.attrs["backend"])
    attach_weights(model, root, path, by_order=True)


def _read_group(g, path: str) -> list:
    out = []
    for i, wn in enumerate(load_attr_list(g, "weight_names")):
        ds = g.get(wn)
        if ds is None:
            ds = g.get(f"param_{i}")       # very old Keras: datasets named param_<i>
        if not isinstance(ds, H5Dataset):
            raise WeightsError(f"{path}: weight '{short(wn)}' is listed in group '{short(g.name)}' but "
                               f"{'missing' if ds is None else 'is not a dataset'}; the file is "
                               f"truncated or damaged: re-save the model")
        out.append(Weight(wn, ds.read()))
    return out


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
        group = root.get(name)
        if group is None or isinstance(group, H5Dataset):
            raise WeightsError(f"{path}: layer '{short(name)}' is listed in the weights but its group is "
                               f"missing; the file is truncated or damaged: re-save the model")
        ws = _read_group(group, path)
        if ws:
            stored[name] = ws
    by_name = {lyr.name: lyr for lyr in model.layers}
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
            distribute_nested(layer.inner, ws, path)
        else:
            layer.weights = ws


def _match_by_order(model: Model, stored: dict, path: str) -> list:
    targets = [lyr for lyr in model.layers if _has_weights(lyr)]
    if len(targets) != len(stored):
        have = ", ".join(f"{lyr.name} ({lyr.class_name})" for lyr in targets[:8])
        got = ", ".join(list(stored)[:8])
        raise WeightsError(f"{path}: the weights file holds weights for {len(stored)} layer(s) "
                           f"[{got}{', ...' if len(stored) > 8 else ''}] but the architecture has "
                           f"{len(targets)} layer(s) with weights [{have}"
                           f"{', ...' if len(targets) > 8 else ''}], and their names differ; "
                           f"Keras matches them by position, so they cannot belong together: pass "
                           f"the weights saved from this architecture")
    return list(zip(targets, stored.values()))


