"""File -> IR, exactly as the file says it (the first stage of the pipeline;
bridge.normalize, the next one, turns it into the one schema emitters read).
Picks the reader from what the file is, not its extension alone:

    HDF5 with model_config     model.save('m.h5'): Keras 1, Keras 2, tf.keras, Keras 3
    zip with config.json       model.save('m.keras'): Keras 3
    JSON                       model.to_json(), with `weights`: a save_weights()
                               HDF5 (Keras 1/2) or a Keras 3 .weights.h5
"""
from __future__ import annotations

import json
import os

from ..errors import ConfigError, InputFileError
from ..ir import Model
from .config import parse_model
from .hdf5 import read_h5_model, read_legacy_weights
from .keras3 import attach_keras3_weights, read_keras_archive
from .store import is_keras3_weights, open_h5

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"


def read_raw(src, weights=None) -> Model:
    """The IR exactly as the file says it (names, layouts and configs of the
    Keras that wrote it). `weights`: the weights for an architecture JSON."""
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
        if weights is not None:
            raise InputFileError(f"{src}: this is a Keras 3 .keras archive, which holds its own "
                                 f"weights; --weights is only for an architecture JSON: drop "
                                 f"--weights")
        return read_keras_archive(src)
    if head.lstrip()[:1] in (b"{", b"[", b'"'):
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
    if isinstance(cfg, str):            # json.dumps(model.to_json()): a JSON string of JSON
        try:
            cfg = json.loads(cfg)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{src}: not valid JSON ({e}); pass the output of model.to_json()") from None
    model = parse_model(cfg, src)
    model.source = src
    model.keras_version = str(cfg.get("keras_version", "")) if isinstance(cfg, dict) else ""
    if not model.keras_version and isinstance(cfg, dict) and "module" in cfg:
        model.keras_version = "3"       # Keras 3's to_json(): module / registered_name, no version
    model.backend = str(cfg.get("backend", "")) if isinstance(cfg, dict) else ""
    if weights is None:
        model.weights_missing = True
        return model
    weights = os.fspath(weights)
    _check_path(weights)
    with open(weights, "rb") as fh:
        whead = fh.read(8)
    if whead != _HDF5_MAGIC:
        raise InputFileError(f"{weights}: the weights file is not HDF5; pass the file written by "
                             f"model.save_weights('weights.h5') (or 'x.weights.h5' in Keras 3)")
    with open_h5(weights) as f:
        if is_keras3_weights(f):
            attach_keras3_weights(model, f, weights)
            if not model.keras_version:
                model.keras_version = "3"
        else:
            read_legacy_weights(model, f, weights)
    return model
