"""The conversion pipeline, stage by stage:

    read raw -> normalize -> check support -> emit -> passes -> write -> verify

Each stage is a module of its own (bridge/readers, bridge/normalize,
bridge/support.py, bridge/emit.py with bridge/walk.py and the emitters,
bridge/passes, bridge/writer.py, and the checker below); `convert_file`
runs them in that order (the checker runs on the written file, or on a
stand-in for a large one, before it takes the destination's place),
`to_onnx` through it.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from typing import Callable, Mapping, Optional, Union

import onnx
from onnx import helper

import opsets

from . import safety, targets, writer
from .destination import check_destination, explain, write_atomically
from .emit import emit, emit_parts
from .errors import (BridgeError, BridgeWarning, ConfigError, LimitError, OpsetError, OptionError,
                     TargetError, short)
from .ir import Model
from .normalize import normalize
from .passes import Net, optimize, run_passes
from .progress import Silent
from .readers import read_raw
from .registry import REGISTRY, load_plugins
from .support import require_support
from .taps import TapRecorder, write_taps

PathLike = Union[str, "os.PathLike[str]"]


def to_onnx(src: PathLike, dst: Optional[PathLike] = None, *, weights: Optional[PathLike] = None,
            opset: Optional[int] = None, backend: Optional[str] = None, precision: str = "fp32",
            keep_io_types: bool = True, target: Optional[str] = None,
            batch_size: Optional[int] = None,
            emitters: Optional[Mapping[str, Callable]] = None, limits=None,
            external_data: Optional[bool] = None) -> onnx.ModelProto:
    """Convert a Keras model file to ONNX; write it to `dst` when given.

    `weights`: the weights-only HDF5 for an architecture JSON `src`.
    `opset`: target ONNX opset (default 17). `backend`: the Keras backend the
    file was saved under ('tensorflow', 'theano', 'cntk'), overriding the
    file's own record. `precision`: 'fp32', or 'fp16' for float16 weights and
    arithmetic (bridge.deploy.fp16), whose float inputs and outputs stay
    float32 unless `keep_io_types` is False.
    `target`: the runtime the file is for (onnxruntime, the default;
    openvino, tract, reference, or portable for all of them): it caps the
    opset and IR version and avoids what that runtime gets wrong
    (bridge/targets.py). `batch_size`: fix the batch dimension (for
    runtimes and compilers that want static shapes), None keeps it dynamic.
    `emitters`: emitter functions for this conversion only, {layer name or
    Keras class name: fn}, a layer name matched first (bridge.registry; the
    global registry is untouched). Emitter packages installed under the
    entry-point group 'bridge.emitters' are loaded first.
    `limits`: a bridge.Limits (or a dict of its fields to change) for a file
    that needs more than the defaults (bridge.limits, bridge/safety.py) allow.
    `external_data`: write the weights to `dst + '.data'` beside the model
    (ONNX's external data format); by default only when they pass the 2 GiB
    one protobuf file holds. The returned model then refers to that file
    instead of holding the weights.
    """
    options = dict(weights=weights, opset=opset, backend=backend, precision=precision,
                   keep_io_types=keep_io_types, target=target, batch_size=batch_size,
                   emitters=emitters, limits=limits, external_data=external_data)
    if dst is not None:
        convert_file(src, dst, **options)
        return onnx.load(os.fspath(dst), load_external_data=False)
    # checked on a file like any other (the checker reads a path, for any size)
    work = tempfile.mkdtemp(prefix="bridge-")
    try:
        path = os.path.join(work, "model.onnx")
        convert_file(src, path, **options)
        return onnx.load(path)          # external weights, if any, read in before the folder goes
    finally:
        shutil.rmtree(work, ignore_errors=True)


def convert_file(src: PathLike, dst: PathLike, *, weights: Optional[PathLike] = None,
                 opset: Optional[int] = None, backend: Optional[str] = None, precision: str = "fp32",
                 keep_io_types: bool = True, target: Optional[str] = None,
                 batch_size: Optional[int] = None,
                 emitters: Optional[Mapping[str, Callable]] = None, limits=None,
                 external_data: Optional[bool] = None, progress=None) -> tuple:
    """The whole pipeline, from the Keras file to a checked ONNX file at dst
    (to_onnx's options). Returns (the model without its weights, whether they
    went to an external data file). `progress`: a bridge.progress.Progress
    to tell the stages to."""
    progress = progress or Silent()
    tgt = targets.get(target)
    opset = resolve_opset(tgt.default_opset if opset is None else opset)
    batch_size = resolve_batch_size(batch_size)
    precision = resolve_precision(precision)
    load_plugins()
    with safety.applied(limits), naming(src):
        dst = check_destination(dst, src, weights)    # before any work
        return _pipeline(src, dst, weights=weights, opset=opset, backend=backend, precision=precision,
                         keep_io_types=keep_io_types, tgt=tgt, batch_size=batch_size, emitters=emitters,
                         external_data=external_data, progress=progress)


def _pipeline(src, dst, *, weights, opset, backend, precision, keep_io_types, tgt, batch_size,
              emitters, external_data, progress) -> tuple:
    progress.stage("reading the model")
    raw = read_raw(src, weights)                   # the file as it is
    model = normalize(raw, backend=backend)        # every Keras version -> one schema (in place)
    progress.stage("converting")
    taps = TapRecorder()
    with REGISTRY.given(emitters):
        require_support(model, opset)              # every gap at once, before emitting
        proto, consts, caught = emit_parts(model, opset, target=tgt, batch_size=batch_size,
                                           taps=taps)   # layers -> ONNX nodes
    _release_weights(model)                        # the graph's constants hold them now
    net = Net.from_parts(proto, consts)
    del consts                                     # the net's the only reference: a rewritten weight frees its original
    proto, consts = optimize(net).parts(proto)     # graph passes, on the weights as arrays
    write_taps(proto, taps)                        # where each layer's output is, as metadata
    _warn(target_warnings(opset, tgt) + caught)
    if precision == "fp16":
        proto, consts = _float16(proto, consts, keep_io_types)   # float16, where it holds
    require_loadable(proto.graph, consts)          # what the checker leaves to the runtime
    try:
        external = writer.save(proto, consts, dst, external=external_data, check=verify,
                               progress=progress)  # checked, then moved into place
    except OSError as e:
        raise explain(e, dst) from None
    return proto, external


def read_model(src: PathLike, weights: Optional[PathLike] = None,
               backend: Optional[str] = None) -> Model:
    """The first two stages: a Keras file read into the normalized IR."""
    with naming(src):
        return normalize(read_raw(src, weights), backend=backend)


def build(model: Model, opset: int, target: Optional[str] = None,
          batch_size: Optional[int] = None) -> onnx.ModelProto:
    """The middle stages for a model already in the normalized IR: check
    support, emit, passes (no checker, nothing written)."""
    require_support(model, opset)
    proto, caught = emit(model, opset, target=targets.get(target), batch_size=batch_size)
    run_passes(proto)
    _warn(caught)
    return proto


def resolve_opset(opset) -> int:
    """The opset to target: the default, or the one asked for when this
    converter and the installed onnxruntime both support it."""
    if opset is None:
        return opsets.DEFAULT_OPSET
    if isinstance(opset, int) and not isinstance(opset, bool) and \
            opsets.MIN_OPSET <= opset <= opsets.SAFE_OPSET:
        return opset   # every onnx and onnxruntime the project accepts runs these
    top = opsets.max_opset()
    try:
        opset = int(opset)
    except (TypeError, ValueError):
        raise OpsetError(f"opset {opset!r} is not a number; pass an integer from "
                         f"{opsets.MIN_OPSET} to {top}") from None
    if not opsets.MIN_OPSET <= opset <= top:
        raise OpsetError(f"opset {opset} is not supported: this converter and the installed "
                         f"onnxruntime support opsets {opsets.MIN_OPSET} to {top}; pass one of them")
    return opset


def target_warnings(opset: int, target: targets.Target) -> list:
    """What an explicit opset costs on the target (it is honoured all the same)."""
    out = []
    if opset > target.max_opset or helper.find_min_ir_version_for(
            [helper.make_opsetid("", opset)]) > target.max_ir:
        node_web = "; ONNX Runtime for Node and web 1.30 refuse it" if target.runtime == "onnxruntime" else ""
        out.append(f"opset {opset} is newer than {target.name} reads everywhere (up to opset "
                   f"{target.max_opset}, IR version {target.max_ir}{node_web}); pass --opset "
                   f"{target.max_opset} or lower for a file that loads there")
    if opset < target.min_opset:
        out.append(f"opset {opset} is older than target {target.name} runs right: "
                   f"{target.why_min_opset}; pass --opset {target.min_opset} or higher")
    return out


def resolve_batch_size(batch_size) -> Optional[int]:
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise TargetError(f"batch_size {batch_size!r} is not a positive integer; pass e.g. "
                          f"--batch-size 1, or leave it out for a dynamic batch")
    return batch_size


def resolve_precision(precision) -> str:
    """'fp32' or 'fp16' from the spellings accepted; for fp16, fails here,
    before any reading, when its optional library is missing."""
    names = {None: "fp32", "fp32": "fp32", "float32": "fp32", "fp16": "fp16", "float16": "fp16"}
    key = precision.lower() if isinstance(precision, str) else precision
    if key not in names:
        raise OptionError(f"precision {precision!r} is not supported; pass 'fp32' or 'fp16' "
                          f"(for int8, quantize the exported model: bridge quantize)")
    if names[key] == "fp16":
        from .deploy.fp16 import library
        library()
    return names[key]


def verify(path: PathLike) -> None:
    """onnx.checker on the written file (full_check: strict shape inference).
    On the path, not on bytes: that works for models past 2 GiB, and the
    model is never serialized a second time for it."""
    try:
        onnx.checker.check_model(os.fspath(path), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise ConfigError(f"the exported graph fails ONNX's checker ({short(e, 300)}); the model's "
                          f"config or weights are not what Keras writes (or this is a converter "
                          f"bug: re-run with --debug and report it)") from e


def require_loadable(graph, consts=()) -> None:
    """The graph (with `consts`, the initializers kept beside it) refused
    unless ONNX Runtime would load it."""
    problems = graph_problems(graph, consts)
    if problems:
        raise ConfigError(f"the exported graph would not load: {'; '.join(problems[:5])}; the model "
                          f"config is malformed")


def graph_problems(graph, consts=()) -> list:
    """What ONNX Runtime would refuse in a graph the checker passes: no
    outputs, values read or returned that nothing makes, values made twice."""
    made = {v.name for v in graph.input} | {t.name for t in graph.initializer} | set(consts)
    problems = [] if len(graph.output) else ["the model has no outputs"]
    for node in graph.node:
        missing = [i for i in node.input if i and i not in made]
        if missing:
            problems.append(f"node {short(node.name)} reads {short(missing[0])}, which nothing makes")
        for o in node.output:
            if o and o in made:
                problems.append(f"value {short(o)} is made twice")
            made.add(o)
    problems += [f"output {short(o.name)} is never made" for o in graph.output if o.name not in made]
    return problems


def write(data: bytes, dst: PathLike) -> None:
    """Write bytes atomically: a failed write never leaves a partial file at dst
    (bridge/destination.py)."""
    write_atomically(data, dst)


def _release_weights(model: Model) -> None:
    """Drop the IR's references to its weight arrays (emitted, they live in
    the graph's constants now): a kernel the passes rewrite then frees its
    original, and the file pages it maps, at once."""
    for layer in model.walk():
        layer.weights = []


def _float16(proto, consts: dict, keep_io_types: bool) -> tuple:
    """The float16 rewrite works on a whole ModelProto."""
    from onnx import numpy_helper

    from .deploy.fp16 import to_float16
    proto.graph.initializer.extend(numpy_helper.from_array(a, k) for k, a in consts.items())
    consts.clear()
    proto = to_float16(proto, keep_io_types=keep_io_types)
    consts = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    del proto.graph.initializer[:]
    return proto, consts


@contextlib.contextmanager
def naming(src):
    """Every error out of a conversion of `src` names it; what escapes the
    stages' own checks (a file damaged in a way none foresaw) becomes a
    BridgeError too, the original chained for --debug."""
    src = os.fspath(src)
    try:
        yield
    except BridgeError as e:
        if src not in str(e):
            e.args = (f"{src}: {e.args[0] if e.args else ''}",) + tuple(e.args[1:])
        raise
    except Warning:
        raise                  # a warning the caller turned into an error is theirs to see
    except MemoryError:
        raise LimitError(f"{src}: the conversion ran out of memory; the file declares more data than "
                         f"this machine holds") from None
    except RecursionError:
        raise ConfigError(f"{src}: the model nests too deeply to convert; the file is damaged or "
                          f"hostile") from None
    except Exception as e:  # noqa: BLE001 -- the last net: a file no check above foresaw
        raise ConfigError(f"{src}: the conversion failed ({type(e).__name__}: {short(e, 300)}); the "
                          f"model's config or weights are not what Keras writes (or this is a "
                          f"converter bug: re-run with --debug and report it)") from e


def _warn(messages: list) -> None:
    """What the emitters noted, as BridgeWarnings pointing at the first
    caller outside this package (of to_onnx, convert_file or build)."""
    import sys
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("bridge"):
        frame, level = frame.f_back, level + 1
    for w in messages:
        warnings.warn(w, BridgeWarning, stacklevel=level)
