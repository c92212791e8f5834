"""File -> IR, exactly as the file says it (the first stage of the pipeline;
bridge.normalize, the next one, turns it into the one schema emitters read).
Picks the reader from what the file is, not its extension alone:

    HDF5 with model_config     model.save('m.h5'): Keras 1, Keras 2, tf.keras, Keras 3
    zip with config.json       model.save('m.keras'): Keras 3
    JSON                       model.to_json(), with `weights`: a save_weights()
                               HDF5 (Keras 1/2) or a Keras 3 .weights.h5
"""
from __future__ import annotations

import os

from .. import safety
from ..errors import BridgeError, ConfigError, InputFileError, short
from ..ir import Model
from .config import parse_model
from .guard import check_regular, load_json, read_head
from .hdf5 import read_h5_model, read_legacy_weights
from .keras3 import attach_keras3_weights, read_keras_archive
from .store import is_keras3_weights, open_h5

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"


def read_raw(src, weights=None) -> Model:
    """The IR exactly as the file says it (names, layouts and configs of the
    Keras that wrote it). `weights`: the weights for an architecture JSON.
    Whatever the files hold, this returns a model within bridge.safety's
    limits or raises a BridgeError."""
    src = os.fspath(src)
    try:
        model = _read(src, weights)
    except (BridgeError, Warning):
        raise
    except RecursionError:
        raise ConfigError(f"{src}: the model config nests too deeply to be read; the file is "
                          f"damaged or hostile") from None
    except Exception as e:  # noqa: BLE001 -- a file damaged in a way no check above foresaw
        raise InputFileError(f"{src}: cannot be read ({type(e).__name__}: {short(e, 200)}); the file "
                             f"is damaged or not a Keras model: re-save it") from e
    return model


def _read(src: str, weights) -> Model:
    head = read_head(src)
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


def _read_json(src: str, weights) -> Model:
    size = check_regular(src)
    if size > safety.current().max_config_bytes:
        raise safety.refuse(f"{src}: the JSON file is {safety.size(size)}", "max_config_bytes")
    with open(src, "rb") as fh:
        data = fh.read(safety.current().max_config_bytes + 1)
    cfg = load_json(data, src, "the file")
    if isinstance(cfg, str):            # json.dumps(model.to_json()): a JSON string of JSON
        cfg = load_json(cfg, src, "the JSON string in the file")
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
    if read_head(weights) != _HDF5_MAGIC:
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
