"""Parity between an exported ONNX model and what Keras computed.

One helper, `compare`, is used by the CLI validator and by every test. Error
is measured per output as ||onnx - keras|| / ||keras|| (relative, over the
whole output) and max |onnx - keras| (absolute); the tolerances are explicit.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

from .dtypes import PRECISION_KEY
from .errors import ReferenceError_
from .probe import layer_values, local_values, split_label
from .reference import (LAYER_PREFIX, layer_key, layer_references, live_reference,  # noqa: F401
                        load_inputs, random_inputs)

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 0.0
# The default rtol for a model by the precision it computes in: float16 keeps
# 11 bits (unit roundoff 4.9e-4, a few of them over a deep network), int8
# 8 bits per tensor (a step of 1/255 of each tensor's range, compounded).
DEFAULT_RTOLS = {"fp32": DEFAULT_RTOL, "fp16": 5e-3, "int8": 5e-2,
                 # a Keras 3 quantized model: the export reproduces Keras's own quantized arithmetic
                 "keras-quantized": DEFAULT_RTOL}


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
    # check(layers=True): a LayerParity per layer in graph order, where the
    # values came from, and the first layer above the tolerance (its path)
    layers: Optional[list] = None
    layer_source: str = ""
    layer_reference: str = ""

    @property
    def first_divergence(self) -> Optional[str]:
        row = self.first_diverging_row
        return row.path if row is not None else None

    @property
    def first_diverging_row(self):
        return next((r for r in self.layers or () if r.status == DIVERGES), None)

    @property
    def passed(self) -> bool:
        return (bool(self.outputs) and all(o.passed for o in self.outputs)
                and self.first_divergence is None)

    def __str__(self) -> str:
        head = f"parity (rtol {self.rtol:g}, atol {self.atol:g})"
        if self.provider:
            head += f" on {self.provider}"
        if self.reference:
            head += f" against {self.reference}"
        lines = [head] + ["  " + o.line() for o in self.outputs]
        if self.layers is not None:
            lines += layer_lines(self)
        lines.append("PASS" if self.passed else "MISMATCH")
        return "\n".join(lines)

    def plot(self, path, title: str = "") -> None:
        """The layer errors as a picture (needs matplotlib; bridge.plot)."""
        from .plot import plot_layers
        plot_layers(self, path, title)

    def to_dict(self) -> dict:
        """The report as plain data (bridge check --json)."""
        return {"passed": self.passed, "rtol": self.rtol, "atol": self.atol,
                "provider": self.provider, "reference": self.reference,
                "outputs": [_parity_dict(o) for o in self.outputs],
                "layers": None if self.layers is None else [r.to_dict() for r in self.layers],
                "layer_values_from": self.layer_source or None,
                "layer_reference": self.layer_reference or None,
                "first_divergence": self.first_divergence}


def _parity_dict(o: "OutputParity") -> dict:
    return {"name": o.name, "shape": list(o.shape), "dtype": o.dtype, "rel": _num(o.rel),
            "max_abs": _num(o.max_abs), "worst_index": list(o.worst_index),
            "worst_onnx": _num(o.worst_actual), "worst_expected": _num(o.worst_expected),
            "passed": o.passed, "problem": o.problem or None}


def _num(x):
    """JSON has no inf / nan: as strings."""
    x = float(x)
    return x if np.isfinite(x) else str(x)


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


# -- layer by layer -----------------------------------------------------------

OK, DIVERGES, NO_REFERENCE, NOT_IN_GRAPH = "ok", "DIVERGES", "no reference", "not in graph"
# above the tolerance, but the layer alone, fed Keras's values of its inputs,
# agrees with Keras: it amplified its inputs' small errors (a mean over many
# values that cancel), it does not compute differently
INHERITED = "above tolerance, from its inputs"


@dataclass
class LayerParity:
    """One layer's output (first call) against Keras's; `parity` holds the
    compare() report of its outputs when they could be compared."""
    index: int
    path: str                 # 'conv1', 'outer/inner' inside a nested model or wrapper
    class_name: str
    status: str               # OK, DIVERGES, NO_REFERENCE or NOT_IN_GRAPH
    inputs: tuple = ()        # what feeds it: layer paths ('lstm:1': output 1) or model inputs
    parity: Optional[ParityReport] = None
    # the layer alone on Keras's values of its inputs (checked when above the tolerance)
    own: Optional[ParityReport] = None

    @property
    def compared(self) -> bool:
        return self.parity is not None

    @property
    def passed(self) -> bool:
        return self.status != DIVERGES

    @property
    def rel(self) -> float:
        return max((o.rel for o in self.parity.outputs), default=0.0) if self.parity else np.nan

    @property
    def max_abs(self) -> float:
        return max((o.max_abs for o in self.parity.outputs), default=0.0) if self.parity else np.nan

    @property
    def shape(self) -> tuple:
        return tuple(self.parity.outputs[0].shape) if self.parity and self.parity.outputs else ()

    @property
    def own_rel(self) -> Optional[float]:
        return max((o.rel for o in self.own.outputs), default=0.0) if self.own else None

    def to_dict(self) -> dict:
        return {"index": self.index, "layer": self.path, "class": self.class_name,
                "status": self.status, "shape": list(self.shape),
                "rel": _num(self.rel) if self.compared else None,
                "max_abs": _num(self.max_abs) if self.compared else None,
                "own_rel": None if self.own is None else _num(self.own_rel),
                "inputs": list(self.inputs),
                "outputs": [_parity_dict(o) for o in self.parity.outputs] if self.parity else []}


def compare_layers(lv, refs: dict, *, rtol: float, atol: float) -> list:
    """A LayerParity per tap (bridge.taps) of `lv` (bridge.probe.LayerValues),
    in graph order: the ONNX values against Keras's `refs` ({layer_key:
    array}, as in reference files), each through compare(). A layer above
    the tolerance is run once more alone on Keras's values of its inputs:
    if it then agrees it only amplified its inputs' errors (INHERITED),
    else it DIVERGES."""
    taps = lv.taps
    bare = Counter(t.path.rsplit("/", 1)[-1] for t in taps)
    rows, known = [], {}
    for i, tap in enumerate(taps, 1):
        expected, actual, absent = {}, {}, False
        for k in range(len(tap.outputs)):
            key = layer_key(tap.path, k)
            ref = refs.get(key)
            name = tap.path.rsplit("/", 1)[-1]
            if ref is None and name != tap.path and bare[name] == 1:
                ref = refs.get(layer_key(name, k))       # a file naming inner layers bare
            if ref is not None and tap.outer_perm and tuple(tap.outer_perm[:2]) == (1, 0):
                ref = _time_major(ref, known.get(layer_key(tap.path.rsplit("/", 1)[0])) or
                                  refs.get(layer_key(tap.path.rsplit("/", 1)[0])))
            if ref is None:
                continue
            known[key] = ref
            if key in lv.values:
                expected[key], actual[key] = ref, lv.values[key]
            else:
                absent = True
        row = LayerParity(i, tap.path, tap.class_name, NOT_IN_GRAPH if absent else NO_REFERENCE,
                          tuple(tap.inputs))
        if expected:
            row.parity = compare(actual, expected, rtol=rtol, atol=atol)
            row.status = OK if row.parity.passed else DIVERGES
        if row.status == DIVERGES:
            given = {label: known[LAYER_PREFIX + label] for label in tap.inputs
                     if LAYER_PREFIX + label in known}
            alone = local_values(lv, tap, given)
            if alone is not None and all(k in alone for k in expected):
                row.own = compare({k: alone[k] for k in expected}, expected, rtol=rtol, atol=atol)
                if row.own.passed:
                    row.status = INHERITED
        rows.append(row)
    return rows


def _time_major(ref, wrapper_ref):
    """A TimeDistributed layer's inner output as the graph holds it when the
    sequence is time-major: (time * batch, ...) from Keras's (batch * time, ...)."""
    if wrapper_ref is None:
        return None
    b, t = wrapper_ref.shape[:2]
    rest = ref.shape[1:]
    return ref.reshape((b, t) + rest).swapaxes(0, 1).reshape((b * t,) + rest)


def layer_lines(report: ParityReport) -> list:
    """The per-layer table and the 'first divergence:' line."""
    rows = report.layers
    done = [r for r in rows if r.compared]
    lines = [f"layers: {len(done)} of {len(rows)} compared (relative error per layer, tolerance "
             f"{report.rtol:g}) against {report.layer_reference or report.reference}"]
    if report.layer_source:
        lines.append(f"  layer values from {report.layer_source}")
    w = min(max([len(r.path) for r in rows] + [5]), 48)
    c = min(max([len(r.class_name) for r in rows] + [5]), 28)
    lines.append(f"  {'#':>5}  {'layer':<{w}}  {'class':<{c}}  {'shape':<20}  {'rel':>9}  {'max abs':>9}")
    first = report.first_diverging_row
    for r in rows:
        mark = ">>" if r is first else "  "
        if r.compared:
            nums = f"{r.rel:9.2e}  {r.max_abs:9.2e}"
            note = "" if r.status == OK else "  " + r.status
            if r.own is not None:
                note += f" (alone on Keras's inputs: rel {r.own_rel:.2e})"
        else:
            nums, note = f"{'-':>9}  {'-':>9}", "  " + r.status
        lines.append(f"{mark}{r.index:>5}  {r.path:<{w}}  {r.class_name:<{c}}  "
                     f"{str(r.shape):<20}  {nums}{note}")
    lines.append(divergence_line(report) if first else
                 f"no layer diverges ({len(done)} compared)")
    return lines


def divergence_line(report: ParityReport) -> str:
    """'first divergence: <layer> (<Class>) ...' with what its inputs' errors were."""
    r = report.first_diverging_row
    by_path = {x.path: x for x in report.layers}
    parts, doubtful = [], []
    for name in r.inputs:
        src = by_path.get(split_label(name)[0])
        if src is None:
            label = "model input" if "[" not in name else "a later call of a shared layer"
            parts.append(f"{name} ({label})")
            if "[" in name:
                doubtful.append(name)
        elif src.compared:
            parts.append(f"{name} ({src.class_name}) rel {src.rel:.2e}")
        else:
            parts.append(f"{name} ({src.class_name}) {src.status}")
            doubtful.append(name)
    problem = r.parity.outputs[0].problem if r.parity and r.parity.outputs else ""
    err = problem or f"rel {r.rel:.2e}, max abs {r.max_abs:.2e}"
    if r.own is not None:
        verdict = (f"alone on Keras's values of its inputs it is still off (rel {r.own_rel:.2e}): "
                   f"this layer computes differently from Keras")
    elif doubtful:
        verdict = f"its input {', '.join(doubtful)} was not compared, so the divergence may start there"
    else:
        verdict = "its inputs agree with Keras: this layer computes differently"
    return (f"first divergence: {r.path} ({r.class_name}) {err} (tolerance {report.rtol:g}); "
            f"inputs: {', '.join(parts) or 'none'}; {verdict}")


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
    """'fp32', 'fp16', 'int8' or 'keras-quantized': the metadata the export and
    bridge.deploy write, else what the graph holds (float16 weights,
    quantization ops)."""
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


def check(src: PathLike, onnx_path: PathLike, reference: Optional[PathLike] = None, *,
          rtol: Optional[float] = None, atol: float = DEFAULT_ATOL,
          weights: Optional[PathLike] = None, provider: str = "auto",
          runtime: str = "onnxruntime", layers: bool = False) -> ParityReport:
    """Run `onnx_path` on the reference inputs and compare with Keras's outputs.

    `reference`: a .npz or *_inputs_and_outputs.h5; None looks beside `src`,
    then computes one live with the Keras that reads `src` (tf-keras for
    Keras 2 files, Keras 3 for .keras) if it is importable. `rtol`: None
    takes the model's precision's default (DEFAULT_RTOLS: 1e-5 for float32,
    5e-3 for a float16 export, 5e-2 for int8). `weights`: the weights of an
    architecture JSON `src` (for the live reference). `provider`: where the
    ONNX model runs ('auto', 'cpu', 'cuda'). `runtime`: onnxruntime
    (default), openvino, tract or reference (bridge/runtimes.py).

    `layers`: also compare every layer's output (first call) with Keras's,
    in graph order, at the same tolerances: report.layers holds the rows,
    report.first_divergence the first layer above the tolerance (or None);
    any divergence fails the check. Keras's layer outputs come from the
    reference's 'layer:<path>' arrays, else live from Keras on the
    reference's inputs; the ONNX ones from a copy of the graph run by
    onnxruntime (bridge/probe.py).
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
    layer_refs, layer_label = {}, ""
    if ref is not None:
        ins, outs = load_reference(ref)
        label = layer_label = os.fspath(ref)
        if layers:
            layer_refs = layer_references(ref)
    else:
        live = live_reference(src, onnx_inputs=metas, weights=weights, layers=layers)
        ins, outs, layer_refs, label = live.inputs, live.outputs, live.layers, live.label
        layer_label = label
    # A stateful layer's carried states (bridge.emit): compared only when the
    # reference has them; zeros, Keras's freshly loaded (reset) states, otherwise.
    states_in = [n for n in in_names if "/state_in/" in n and n not in ins]
    ins = match_arrays(ins, [n for n in in_names if n not in states_in], "input", label)
    out_names = [n for n in out_names if "/state_out/" not in n or n in outs]
    outs = match_arrays(outs, out_names, "output", label)
    batch = next(iter(ins.values())).shape[0] if ins else 1
    for m in metas:
        if m.name in states_in:
            ins[m.name] = np.zeros([batch] + [int(d) for d in m.shape[1:]], np.float32)
    result = run(onnx_path, ins, provider=provider, runtime=runtime)
    report = compare(result.outputs, outs, rtol=rtol, atol=atol)
    report.provider, report.reference = result.provider, label
    if layers:
        if not layer_refs:
            # the reference has the model's outputs only: Keras computes the layers' on its inputs
            live = live_reference(src, inputs=ins, weights=weights, layers=True,
                                  why=f"comparing layers ({label} has no 'layer:<name>' arrays)")
            layer_refs, layer_label = live.layers, f"{live.label} on the inputs of {label}"
        values = layer_values(src, onnx_path, ins, weights=weights,
                              provider=provider if runtime == "onnxruntime" else "cpu")
        report.layers = compare_layers(values, layer_refs, rtol=rtol, atol=atol)
        report.layer_source, report.layer_reference = values.source, layer_label
    return report


@dataclass
class _Meta:
    """What live_reference reads of an input (name, shape, type), without ORT."""
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
