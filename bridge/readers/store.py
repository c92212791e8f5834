"""What the HDF5 and Keras 3 readers share: opening HDF5 files, their string
attributes, telling the two weight stores apart, which layer classes hold no
weights, and handing a nested model's weights to its layers."""
from __future__ import annotations

import numpy as np

from ..errors import WeightsError
from ..ir import Model
from . import guard


def text(v) -> str:
    """An HDF5 string attribute (bytes or str) as str."""
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v)


def load_attr_list(group, name: str) -> list:
    """A string-list attribute; long lists are split into name0, name1, ..."""
    if name in group.attrs:
        return [text(v) for v in np.atleast_1d(group.attrs[name]).reshape(-1)]
    out, i = [], 0
    while f"{name}{i}" in group.attrs:
        out.extend(text(v) for v in np.atleast_1d(group.attrs[f"{name}{i}"]).reshape(-1))
        i += 1
    return out


def open_h5(path: str):
    """The HDF5 file at `path`, read-only, behind the guard (readers/guard.py)."""
    return guard.open_h5(path)


def is_keras3_weights(f) -> bool:
    """A Keras 3 weights store: groups layers/<name>/vars/<i>, no layer_names."""
    return "layer_names" not in f.attrs and ("layers" in f or "vars" in f)


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


def needs_weights(model: Model) -> bool:
    """Whether some layer of the model (nested ones included) holds weights."""
    return any(lyr.class_name not in WEIGHTLESS and lyr.inner is None for lyr in model.walk())


def distribute_nested(inner: Model, ws: list, path: str) -> None:
    """A nested model's group holds the weights of all the layers inside it,
    at any depth, named '<layer>/<weight>:0' (possibly under more scopes);
    Keras 1 named them '<layer>_<weight>'."""
    leaves = {lyr.name: lyr for lyr in inner.walk() if lyr.inner is None}
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
