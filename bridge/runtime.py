"""Run an exported model with ONNX Runtime, on CUDA when asked for and present,
or on another runtime (bridge/runtimes.py) with `runtime=`."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np
import onnx

from .errors import BridgeError

_ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8, "tensor(int16)": np.int16, "tensor(bool)": np.bool_,
}


def numpy_dtype_of(ort_type: str):
    """numpy dtype of an onnxruntime type string ('tensor(float)' -> float32)."""
    return _ORT_TYPES.get(ort_type, np.float32)


# An ONNX model: a path, the serialized bytes, or an onnx.ModelProto.
ModelLike = Union[str, "os.PathLike[str]", bytes, onnx.ModelProto]


@dataclass
class RunResult:
    outputs: dict        # output name -> array
    provider: str        # the execution provider that ran the model


def providers_for(provider: str) -> list:
    import onnxruntime as ort
    available = ort.get_available_providers()
    provider = (provider or "auto").lower()
    if provider == "cpu":
        return ["CPUExecutionProvider"]
    if provider in ("cuda", "gpu"):
        if "CUDAExecutionProvider" not in available:
            raise BridgeError("provider 'cuda' asked for, but this onnxruntime has no "
                              "CUDAExecutionProvider; install onnxruntime-gpu "
                              "(pip install 'keras-onnx-bridge[gpu]') or use provider='cpu'")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if provider == "auto":
        if "CUDAExecutionProvider" in available:
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]
    raise BridgeError(f"unknown provider {provider!r}; use 'auto', 'cpu' or 'cuda'")


def session(model: ModelLike, provider: str = "auto"):
    """An InferenceSession for a path, bytes or ModelProto."""
    import onnxruntime as ort
    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    elif not isinstance(model, bytes):
        model = os.fspath(model)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(model, opts, providers=providers_for(provider))
    except BridgeError:
        raise
    except Exception as e:  # onnxruntime raises its own exception types
        where = model if isinstance(model, str) else "the model"
        raise BridgeError(f"{where}: onnxruntime cannot load it ({str(e).splitlines()[0]}); pass an "
                          f"ONNX file written by 'bridge convert'") from None


def run(model: ModelLike, inputs: Union[dict, Sequence, np.ndarray], provider: str = "auto",
        runtime: str = "onnxruntime") -> RunResult:
    """Run `model` (path, bytes or ModelProto) on `inputs`: a dict by input
    name, a list by position, or one array for a single-input model.
    `runtime`: onnxruntime (with `provider`), openvino, tract or reference."""
    from .runtimes import check_runtime, run_on, version
    runtime = check_runtime(runtime)
    if runtime != "onnxruntime":
        return RunResult(run_on(runtime, model, inputs), f"{runtime} {version(runtime)}")
    sess = session(model, provider)
    metas = sess.get_inputs()
    if isinstance(inputs, dict):
        missing = [m.name for m in metas if m.name not in inputs]
        if missing:
            raise BridgeError(f"inputs {missing} are missing; the model takes "
                              f"{[m.name for m in metas]}")
        values = [inputs[m.name] for m in metas]
    else:
        values = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        if len(values) != len(metas):
            raise BridgeError(f"{len(values)} inputs given; the model takes {len(metas)}: "
                              f"{[m.name for m in metas]}")
    feed = {m.name: np.asarray(v, dtype=_ORT_TYPES.get(m.type, None)) for m, v in zip(metas, values)}
    outs = sess.run(None, feed)
    names = [o.name for o in sess.get_outputs()]
    return RunResult(dict(zip(names, outs)), sess.get_providers()[0])
