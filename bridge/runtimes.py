"""Other ONNX runtimes than ONNX Runtime: OpenVINO, tract and onnx's own
reference evaluator, behind one call.

Each adapter takes the model (path, bytes or ModelProto) and the inputs
already matched to the model's input names and cast to their dtypes, and
returns the outputs by name. What each runtime needs:

  openvino   CPU plugin with f32 inference precision (on CPUs with bf16/AMX
             its default hint computes in bf16, which is no parity check)
  tract      input shapes fixed from the arrays given (tract optimizes for
             concrete shapes; its symbolic batch is not what users run)
  reference  onnx.reference.ReferenceEvaluator: pure numpy, slow, and the
             spec's own reading of every operator
"""
from __future__ import annotations

import importlib
import os
import tempfile

import numpy as np
import onnx
from onnx import helper

from .errors import RuntimeMissingError, RuntimeRunError

RUNTIMES = ("onnxruntime", "openvino", "tract", "reference")
# The module each runtime needs and the pip name that brings it.
_MODULES = {"onnxruntime": ("onnxruntime", "onnxruntime"), "openvino": ("openvino", "openvino"),
            "tract": ("tract", "tract"), "reference": ("onnx.reference", "onnx")}


def check_runtime(runtime: str) -> str:
    runtime = (runtime or "onnxruntime").lower()
    if runtime == "ort":
        runtime = "onnxruntime"
    if runtime not in RUNTIMES:
        raise RuntimeMissingError(f"unknown runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
    return runtime


def available(runtime: str) -> bool:
    try:
        importlib.import_module(_MODULES[check_runtime(runtime)][0])
        return True
    except ImportError:
        return False


def _module(runtime: str):
    mod, pip_name = _MODULES[runtime]
    try:
        return importlib.import_module(mod)
    except ImportError:
        raise RuntimeMissingError(
            f"runtime '{runtime}' is not installed ({mod} cannot be imported); install it with "
            f"pip install 'keras-onnx-bridge[runtimes]' (or pip install {pip_name}), or pass "
            f"--runtime onnxruntime") from None


def as_proto(model) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, bytes):
        return onnx.load_from_string(model)
    return onnx.load(os.fspath(model))


def io_names(proto: onnx.ModelProto) -> tuple:
    """([(input name, numpy dtype)], [output names]) from the graph itself."""
    inits = {i.name for i in proto.graph.initializer}
    ins = [(v.name, helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type))
           for v in proto.graph.input if v.name not in inits]
    return ins, [v.name for v in proto.graph.output]


def feed_for(proto: onnx.ModelProto, inputs) -> dict:
    """`inputs` (dict by name, list by position, or one array) -> {name: array}."""
    from .errors import BridgeError
    metas, _ = io_names(proto)
    names = [n for n, _ in metas]
    if isinstance(inputs, dict):
        missing = [n for n in names if n not in inputs]
        if missing:
            raise BridgeError(f"inputs {missing} are missing; the model takes {names}")
        values = [inputs[n] for n in names]
    else:
        values = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        if len(values) != len(names):
            raise BridgeError(f"{len(values)} inputs given; the model takes {len(names)}: {names}")
    return {n: np.ascontiguousarray(np.asarray(v, dtype=dt)) for (n, dt), v in zip(metas, values)}


def _with_file(model, fn):
    """Call fn(path): runtimes that read files get one (a temp file for bytes/protos)."""
    if not isinstance(model, (bytes, onnx.ModelProto)):
        return fn(os.fspath(model))
    data = model if isinstance(model, bytes) else model.SerializeToString()
    fd, path = tempfile.mkstemp(suffix=".onnx")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return fn(path)
    finally:
        os.unlink(path)


def _openvino(model, proto, feed: dict) -> dict:
    ov = _module("openvino")
    _, out_names = io_names(proto)

    def go(path):
        core = ov.Core()
        compiled = core.compile_model(core.read_model(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        res = compiled.infer_new_request(feed)
        # An output port may carry several names; the graph's own is among them.
        by_port = [(o.get_names(), np.asarray(res[o])) for o in compiled.outputs]
        return {n: next(v for names, v in by_port if n in names) for n in out_names}
    return _with_file(model, go)


def _tract(model, proto, feed: dict) -> dict:
    tract = _module("tract")
    _, out_names = io_names(proto)

    def go(path):
        m = tract.onnx().load(path)
        for i, v in enumerate(feed.values()):
            m.set_input_fact(i, ",".join(map(str, v.shape)) + "," + _TRACT_TYPES[v.dtype.str[1:]])
        runnable = m.into_model().into_runnable()
        res = runnable.run(list(feed.values()))
        return {n: _tract_numpy(tract, r) for n, r in zip(out_names, res)}
    return _with_file(model, go)


def _tract_numpy(tract, t):
    """tract keeps integers computed from shapes as its own dimension type
    (TDim), which its API does not hand out: convert those to int64."""
    try:
        return t.to_numpy()
    except tract.TractError as e:
        if "TDim" not in str(e):
            raise
        return t.convert_to(tract.DatumType.I64).to_numpy()


_TRACT_TYPES = {"f4": "f32", "f8": "f64", "f2": "f16", "i4": "i32", "i8": "i64", "i1": "i8",
                "u1": "u8", "i2": "i16", "b1": "bool"}


def _reference(model, proto, feed: dict) -> dict:
    ref = _module("reference")
    _, out_names = io_names(proto)
    outs = ref.ReferenceEvaluator(proto).run(None, feed)
    return dict(zip(out_names, (np.asarray(o) for o in outs)))


_ADAPTERS = {"openvino": _openvino, "tract": _tract, "reference": _reference}


def run_on(runtime: str, model, inputs) -> dict:
    """Outputs by name of `model` run on `runtime` (not onnxruntime, which
    bridge.runtime.run drives with its providers)."""
    runtime = check_runtime(runtime)
    _module(runtime)
    proto = as_proto(model)
    feed = feed_for(proto, inputs)
    fn = _ADAPTERS[runtime]
    try:
        return fn(model, proto, feed)
    except RuntimeMissingError:
        raise
    except Exception as e:  # each runtime raises its own exception types
        where = model if isinstance(model, (str, os.PathLike)) else "the model"
        first = _gist(e)
        raise RuntimeRunError(f"{os.fspath(where) if where != 'the model' else where}: {runtime} "
                              f"cannot run it ({first}); convert for it with --target {runtime}, "
                              f"or check it on --runtime onnxruntime") from None


def _gist(e: Exception) -> str:
    """The runtime's message without its stack trace, on one line."""
    text = str(e).split("Stack backtrace")[0]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (" | ".join(lines) or type(e).__name__)[:400]


def version(runtime: str) -> str:
    runtime = check_runtime(runtime)
    if runtime == "reference":
        return onnx.__version__
    mod = _module(runtime)
    if runtime == "tract":
        return mod.version()
    return str(getattr(mod, "__version__", "?")).split("-")[0]
