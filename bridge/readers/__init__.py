"""File -> IR. Picks the reader from what the file is, not its extension alone."""
from __future__ import annotations

import json
import os

from ..errors import ConfigError, InputFileError
from ..ir import Model
from .config import parse_model
from .hdf5 import read_h5_model, read_weights_file

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"


def read_model(src, weights=None) -> Model:
    src = os.fspath(src)
    _check_path(src)
    with open(src, "rb") as fh:
        head = fh.read(8)
    if head == _HDF5_MAGIC:
        if weights is not None:
            raise InputFileError(f"{src}: this is a full HDF5 model; --weights is only for an "
                                 f"architecture JSON: drop --weights")
        return read_h5_model(src)
    if head.startswith(_ZIP_MAGIC):
        raise InputFileError(f"{src}: this is a Keras 3 .keras archive, which this version cannot "
                             f"read yet; save the model as HDF5 with tf-keras (model.save('m.h5'))")
    if head.lstrip()[:1] in (b"{", b"["):
        return _read_json(src, weights)
    if not head:
        raise InputFileError(f"{src}: the file is empty; pass a Keras model file (.h5)")
    raise InputFileError(f"{src}: not a Keras model file (neither HDF5 nor a JSON architecture); "
                         f"pass a file saved with model.save('model.h5')")


def _check_path(src: str) -> None:
    if not os.path.exists(src):
        raise InputFileError(f"{src}: no such file; check the path")
    if os.path.isdir(src):
        if os.path.exists(os.path.join(src, "saved_model.pb")):
            raise InputFileError(f"{src}: this is a TensorFlow SavedModel directory, which is not a "
                                 f"Keras file; load it in Keras and re-save it with "
                                 f"model.save('model.h5') or model.save('model.keras')")
        raise InputFileError(f"{src}: is a directory; pass a Keras model file (.h5)")


def _read_json(src: str, weights) -> Model:
    try:
        with open(src, encoding="utf-8") as fh:
            cfg = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{src}: not valid JSON ({e}); pass the output of model.to_json()") from None
    model = parse_model(cfg, src)
    model.source = src
    model.keras_version = str(cfg.get("keras_version", "")) if isinstance(cfg, dict) else ""
    model.backend = str(cfg.get("backend", "")) if isinstance(cfg, dict) else ""
    if weights is None:
        model.extra["no_weights"] = True
        return model
    weights = os.fspath(weights)
    _check_path(weights)
    read_weights_file(model, weights)
    return model
