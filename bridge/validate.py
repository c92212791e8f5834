"""Parity between an exported ONNX model and what Keras computed.

One helper, `compare`, is used by the CLI validator and by every test. Error
is measured per output as ||onnx - keras|| / ||keras|| (relative, over the
whole output) and max |onnx - keras| (absolute); the tolerances are explicit.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

from .dtypes import PRECISION_KEY
from .errors import ReferenceError_

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 0.0
# The default rtol for a model by the precision it computes in: float16 keeps
# 11 bits (unit roundoff 4.9e-4, a few of them over a deep network), int8
# 8 bits per tensor (a step of 1/255 of each tensor's range, compounded).
DEFAULT_RTOLS = {"fp32": DEFAULT_RTOL, "fp16": 5e-3, "int8": 5e-2}


@dataclass
class OutputParity:
    name: str
    shape: tuple
    dtype: str
    max_abs: float
    rel: float
    worst_index: tuple
    worst_actual: float
    worst_expected: float
    passed: bool
    problem: str = ""
    against: str = "keras"      # what the expected values came from

    def line(self) -> str:
        status = "ok  " if self.passed else "FAIL"
        if self.problem:
            return f"{status} {self.name}: {self.problem}"
        return (f"{status} {self.name}: shape {self.shape} {self.dtype}  rel {self.rel:.3e}  "
                f"max abs {self.max_abs:.3e}  worst at {self.worst_index}: "
                f"onnx {self.worst_actual:.7g} vs {self.against} {self.worst_expected:.7g}")


@dataclass
class ParityReport:
    outputs: list = field(default_factory=list)
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    provider: str = ""
    reference: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.outputs) and all(o.passed for o in self.outputs)

    def __str__(self) -> str:
        head = f"parity (rtol {self.rtol:g}, atol {self.atol:g})"
        if self.provider:
            head += f" on {self.provider}"
        if self.reference:
            head += f" against {self.reference}"
        lines = [head] + ["  " + o.line() for o in self.outputs]
        lines.append("PASS" if self.passed else "MISMATCH")
        return "\n".join(lines)


def compare_one(name, actual, expected, *, rtol: float, atol: float) -> OutputParity:
    a = np.asarray(actual)
    e = np.asarray(expected)
    if a.shape != e.shape:
        return OutputParity(name, a.shape, str(a.dtype), np.inf, np.inf, (), np.nan, np.nan, False,
                            problem=f"shape {a.shape} but Keras gave {e.shape}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    if a.size == 0:
        return OutputParity(name, a.shape, str(a.dtype), 0.0, 0.0, (), np.nan, np.nan, True)
    finite = np.isfinite(a64) & np.isfinite(e64)
    # inf, -inf and nan must be matched exactly, where Keras has them
    same_special = (a64 == e64) | (np.isnan(a64) & np.isnan(e64))
    with np.errstate(invalid="ignore"):
        diff = np.where(finite, np.abs(a64 - e64), np.where(same_special, 0.0, np.inf))
    flat = int(np.argmax(diff))
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    max_abs = float(diff.reshape(-1)[flat])
    ref_norm = float(np.linalg.norm(e64[np.isfinite(e64)]))
    d_norm = float(np.linalg.norm(diff)) if np.isfinite(diff).all() else np.inf
    rel = d_norm / ref_norm if ref_norm > 0 else (0.0 if d_norm == 0 else np.inf)
    passed = bool(rel <= rtol or (atol > 0 and max_abs <= atol))
    return OutputParity(name, a.shape, str(a.dtype), max_abs, rel, worst,
                        float(a64.reshape(-1)[flat]), float(e64.reshape(-1)[flat]), passed)


def compare(actual: dict, expected: dict, *, rtol: float, atol: float) -> ParityReport:
    """Per output in `expected`: compare with the same name in `actual`."""
    report = ParityReport(rtol=rtol, atol=atol)
    for name, e in expected.items():
        if name not in actual:
            report.outputs.append(OutputParity(name, (), "", np.inf, np.inf, (), np.nan, np.nan,
                                               False, problem="the ONNX model has no such output"))
            continue
        report.outputs.append(compare_one(name, actual[name], e, rtol=rtol, atol=atol))
    return report


# -- references -------------------------------------------------------------

def load_reference(path) -> tuple:
    """(inputs, outputs) dicts from a .npz or a Deeplearning4j-style
    *_inputs_and_outputs.h5 (inputs/, predictions/ or else outputs/)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ReferenceError_(f"{path}: no such reference file; pass a .npz or an "
                              f"*_inputs_and_outputs.h5")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK"):
        with np.load(path, allow_pickle=False) as z:
            ins = {k[len("input:"):] if k.startswith("input:") else k: z[k]
                   for k in z.files if k.startswith(("input:", "input_"))}
            outs = {k[len("output:"):] if k.startswith("output:") else k: z[k]
                    for k in z.files if k.startswith(("output:", "output_"))}
            if not ins or not outs:
                raise ReferenceError_(f"{path}: a reference .npz needs arrays named 'input:<name>' "
                                      f"and 'output:<name>' (or input_0.., output_0..); found "
                                      f"{z.files[:8]}")
        return ins, outs
    import h5py
    try:
        with h5py.File(path, "r") as f:
            if "inputs" not in f:
                raise ReferenceError_(f"{path}: no 'inputs' group; not an *_inputs_and_outputs.h5 "
                                      f"reference")
            group = "predictions" if "predictions" in f else "outputs"
            if group not in f:
                raise ReferenceError_(f"{path}: no 'predictions' or 'outputs' group to compare with")
            ins = {k: np.asarray(f["inputs"][k]) for k in f["inputs"]}
            outs = {k: np.asarray(f[group][k]) for k in f[group]}
    except OSError:
        raise ReferenceError_(f"{path}: not a .npz or HDF5 reference file") from None
    return ins, outs


def find_reference_beside(src) -> str | None:
    """model.h5 -> model.npz, model.reference.npz or model_inputs_and_outputs.h5."""
    src = os.fspath(src)
    stem = os.path.splitext(src)[0]
    base = stem[:-len("_model")] if stem.endswith("_model") else stem
    for cand in (stem + ".npz", stem + ".reference.npz", base + "_inputs_and_outputs.h5"):
        if os.path.isfile(cand):
            return cand
    return None


def precision_of(model) -> str:
    """'fp32', 'fp16' or 'int8': the metadata bridge.deploy writes, else what
    the graph holds (float16 weights, quantization ops)."""
    import onnx
    if not hasattr(model, "graph"):
        model = onnx.load(os.fspath(model), load_external_data=False)
    for p in model.metadata_props:
        if p.key == PRECISION_KEY:
            return p.value
    quantized = {"QuantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
                 "QLinearConv", "QLinearMatMul"}
    if any(n.op_type in quantized for n in model.graph.node):
        return "int8"
    if any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer):
        return "fp16"
    return "fp32"


def default_rtol(model) -> float:
    return DEFAULT_RTOLS.get(precision_of(model), DEFAULT_RTOL)


def load_inputs(path) -> dict:
    """Input arrays from a .npz: 'input:<name>' / 'input_0'.. as in a
    reference file, else every array under its own name."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ReferenceError_(f"{path}: no such file; pass a .npz of model inputs")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError):
        raise ReferenceError_(f"{path}: not a .npz file (save inputs with numpy.savez)") from None
    ins = {k[len("input:"):] if k.startswith("input:") else k: v for k, v in arrays.items()
           if k.startswith(("input:", "input_"))}
    return ins or arrays


def random_inputs(metas, seed: int = 0, batch: int = 2) -> dict:
    """Standard normal floats (integers 0..9 for integer inputs) shaped like
    the session's inputs, free dimensions 8 (the batch `batch`)."""
    rng = np.random.default_rng(seed)
    ins = {}
    for meta in metas:
        shape = [batch if i == 0 else (d if isinstance(d, int) else 8) for i, d in enumerate(meta.shape)]
        if "int" in meta.type:
            ins[meta.name] = rng.integers(0, 10, size=shape).astype(np.int32)
        else:
            ins[meta.name] = rng.standard_normal(shape).astype(np.float32)
    return ins


def match_arrays(given: dict, names: list, what: str, ref: str) -> dict:
    """Map reference arrays onto model names: by name, else by position."""
    if all(n in given for n in names):
        return {n: given[n] for n in names}
    positional = [f"{what}_{i}" for i in range(len(names))]
    if all(p in given for p in positional):
        return {n: given[p] for n, p in zip(names, positional)}
    if len(given) == len(names) == 1:
        return {names[0]: next(iter(given.values()))}
    raise ReferenceError_(f"{ref}: reference {what}s {sorted(given)} do not match the model's "
                          f"{names}; name them after the Keras layers or {what}_0, {what}_1, ...")


def keras_reference(src, onnx_inputs, weights=None, seed: int = 0) -> tuple:
    """Run the model in a real Keras (tf-keras) on random inputs."""
    import importlib
    try:
        keras = importlib.import_module("tf_keras")
    except ImportError:
        raise ReferenceError_(
            f"{src}: no reference given, none beside the model, and Keras is not importable "
            f"here; pass --reference REF.npz (arrays 'input:<name>' and 'output:<name>' saved "
            f"from Keras), or install tf-keras to compute one live") from None
    ins = random_inputs(onnx_inputs, seed)
    src = os.fspath(src)
    if weights is not None:
        with open(src) as fh:
            model = keras.models.model_from_json(fh.read())
        model.load_weights(os.fspath(weights))
    else:
        model = keras.models.load_model(src, compile=False)
    preds = model.predict([ins[n] for n in model.input_names], verbose=0)
    if not isinstance(preds, list):
        preds = [preds]
    return ins, dict(zip(model.output_names, preds))


def check(src: PathLike, onnx_path: PathLike, reference: Optional[PathLike] = None, *,
          rtol: Optional[float] = None, atol: float = DEFAULT_ATOL,
          weights: Optional[PathLike] = None, provider: str = "auto",
          runtime: str = "onnxruntime") -> ParityReport:
    """Run `onnx_path` on the reference inputs and compare with Keras's outputs.

    `reference`: a .npz or *_inputs_and_outputs.h5; None looks beside `src`,
    then computes one live with tf-keras if it is importable. `rtol`: None
    takes the model's precision's default (DEFAULT_RTOLS: 1e-5 for float32,
    5e-3 for a float16 export, 5e-2 for int8). `weights`: the weights of an
    architecture JSON `src` (for the live reference). `provider`: where the
    ONNX model runs ('auto', 'cpu', 'cuda'). `runtime`: onnxruntime
    (default), openvino, tract or reference (bridge/runtimes.py).
    """
    from .runtime import run, session
    from .runtimes import check_runtime
    runtime = check_runtime(runtime)
    sess = session(onnx_path, "cpu") if runtime == "onnxruntime" else None
    if rtol is None:
        rtol = DEFAULT_RTOL if isinstance(onnx_path, bytes) else default_rtol(onnx_path)
    metas = sess.get_inputs() if sess is not None else _input_metas(onnx_path)
    in_names = [m.name for m in metas]
    out_names = ([m.name for m in sess.get_outputs()] if sess is not None
                 else _output_names(onnx_path))
    ref = reference if reference is not None else find_reference_beside(src)
    if ref is not None:
        ins, outs = load_reference(ref)
        label = os.fspath(ref)
    else:
        ins, outs = keras_reference(src, metas, weights=weights)
        label = "live tf-keras"
    ins = match_arrays(ins, in_names, "input", label)
    outs = match_arrays(outs, out_names, "output", label)
    result = run(onnx_path, ins, provider=provider, runtime=runtime)
    report = compare(result.outputs, outs, rtol=rtol, atol=atol)
    report.provider, report.reference = result.provider, label
    return report


@dataclass
class _Meta:
    """What keras_reference reads of an input (name, shape, type), without ORT."""
    name: str
    shape: list
    type: str


def _input_metas(onnx_path) -> list:
    from .runtimes import as_proto, io_names
    proto = as_proto(onnx_path)
    byname = {v.name: v for v in proto.graph.input}
    out = []
    for name, dt in io_names(proto)[0]:
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param
                for d in byname[name].type.tensor_type.shape.dim]
        out.append(_Meta(name, dims, f"tensor({'int' if np.dtype(dt).kind in 'iu' else 'float'})"))
    return out


def _output_names(onnx_path) -> list:
    from .runtimes import as_proto, io_names
    return io_names(as_proto(onnx_path))[1]
