"""The conversion pipeline: read -> check support -> emit -> passes -> verify -> write."""
from __future__ import annotations

import os
import tempfile
import warnings

import onnx
from onnx import TensorProto, helper

import opsets

from . import emitters  # noqa: F401  (registers the built-in emitters)
from . import targets
from .context import Context, Tensor
from .errors import (BridgeError, ConfigError, OpsetError, TargetError, UnsupportedError, WeightsError,
                     layer_where)
from .ir import Model, TensorRef
from .passes import run_passes
from .readers import read_model
from .registry import REGISTRY


class BridgeWarning(UserWarning):
    """Something converted, but the user should know (e.g. an assumed backend)."""


_DTYPES = {
    "float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "float64": TensorProto.DOUBLE,
    "bfloat16": TensorProto.BFLOAT16, "int32": TensorProto.INT32, "int64": TensorProto.INT64,
    "int8": TensorProto.INT8, "uint8": TensorProto.UINT8, "int16": TensorProto.INT16,
    "bool": TensorProto.BOOL,
}


def resolve_opset(opset) -> int:
    top = opsets.max_opset()
    if opset is None:
        return min(opsets.DEFAULT_OPSET, top)
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
        out.append(f"opset {opset} is newer than {target.name} reads everywhere (up to opset "
                   f"{target.max_opset}, IR version {target.max_ir}"
                   + ("; ONNX Runtime for Node and web 1.30 refuse it" if target.runtime == "onnxruntime" else "")
                   + f"); pass --opset {target.max_opset} or lower for a file that loads there")
    if opset < target.min_opset:
        out.append(f"opset {opset} is older than target {target.name} runs right: "
                   f"{target.why_min_opset}; pass --opset {target.min_opset} or higher")
    return out


def resolve_batch_size(batch_size):
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise TargetError(f"batch_size {batch_size!r} is not a positive integer; pass e.g. "
                          f"--batch-size 1, or leave it out for a dynamic batch")
    return batch_size


def support_problems(model: Model, opset: int) -> list:
    """Every reason the model cannot be converted at this opset, all at once."""
    problems = []
    for layer in model.walk():
        em = REGISTRY.lookup(layer.class_name, opset)
        if em is None:
            lowest = REGISTRY.min_opset(layer.class_name)
            if lowest is None:
                problems.append(f"{layer_where(layer)}: no converter for this layer class; for a "
                                f"custom layer, register an emitter with @bridge.register("
                                f"'{layer.class_name}')")
            else:
                problems.append(f"{layer_where(layer)}: supported from opset {lowest}: re-run "
                                f"with --opset {lowest}")
            continue
        if em.check is not None:
            problems.extend(f"{layer_where(layer)}: {p}" for p in em.check(layer, opset))
    return problems


def input_tensors(model: Model) -> list:
    out = []
    for ref in model.inputs:
        layer = model.layer(ref.layer)
        c = layer.config
        shape = c.get("batch_input_shape") or c.get("batch_shape")
        if shape is None:
            raise ConfigError(f"{model.source}: {layer_where(layer)} has no batch_input_shape; "
                              f"the config is malformed")
        dtype = c.get("dtype") or "float32"
        if isinstance(dtype, dict):  # Keras 3 dtype policy objects
            dtype = dtype.get("config", {}).get("name", "float32")
        if dtype not in _DTYPES:
            raise ConfigError(f"{model.source}: {layer_where(layer)} has input dtype {dtype!r}, "
                              f"which ONNX cannot take; use one of {sorted(_DTYPES)}")
        shape = (None,) + tuple(None if d is None else int(d) for d in shape[1:])
        out.append(Tensor(name=layer.name, shape=shape, dtype=_DTYPES[dtype]))
    return out


def emit_graph(model: Model, ctx: Context, inputs: list) -> list:
    """Emit every call of every layer once its inputs exist (Keras's own
    deserialization order), then return the model's output tensors."""
    env = dict(zip(model.inputs, inputs))
    todo = [(layer, i) for layer in model.layers for i in range(len(layer.calls))]
    while todo:
        waiting = []
        for layer, i in todo:
            call = layer.calls[i]
            if not all(r in env for r in call.inputs):
                waiting.append((layer, i))
                continue
            outs = _emit_call(layer, i, [env[r] for r in call.inputs], ctx)
            for j, t in enumerate(outs):
                env[TensorRef(layer.name, i, j)] = t
        if len(waiting) == len(todo):
            layer, i = waiting[0]
            missing = [r for r in layer.calls[i].inputs if r not in env][0]
            raise ConfigError(f"{model.source}: {layer_where(layer)} takes tensor "
                              f"{missing.layer}[{missing.call}][{missing.index}], which no layer "
                              f"produces; the config is malformed")
        todo = waiting
    try:
        return [env[r] for r in model.outputs]
    except KeyError as e:
        raise ConfigError(f"{model.source}: model output {e.args[0]} is never computed; the "
                          f"config is malformed") from None


def _emit_call(layer, i, ins, ctx: Context) -> list:
    em = REGISTRY.lookup(layer.class_name, ctx.opset)
    outer_layer, outer_scope = ctx.layer, ctx.g.scope
    ctx.layer, ctx.call = layer, layer.calls[i]
    ctx.g.scope = "/".join(ctx.scope + (layer.name,))
    try:
        if ctx.tolerant is not None:
            outs = _emit_tolerant(em, layer, i, ins, ctx)
        else:
            outs = em.fn(layer, ins, ctx)
    finally:
        ctx.layer, ctx.g.scope = outer_layer, outer_scope
    return list(outs)


_UNKNOWN = Tensor(name="", shape=())


def _emit_tolerant(em, layer, i, ins, ctx: Context) -> list:
    """For `inspect`: carry on past what cannot be emitted, recording shapes."""
    outs = [_UNKNOWN]
    if em is not None and all(t is not _UNKNOWN for t in ins):
        try:
            outs = list(em.fn(layer, ins, ctx))
        except BridgeError as e:
            ctx.tolerant[(ctx.scope, layer.name, i)] = str(e)
    if layer.inner is None:
        ctx.tolerant[(ctx.scope, layer.name, i)] = [None if t is _UNKNOWN else t.shape for t in outs]
    return outs


def build(model: Model, opset: int, target: targets.Target = None,
          batch_size=None) -> onnx.ModelProto:
    """IR -> checked ONNX model. `target` says which constructs to avoid;
    `batch_size` fixes the batch dimension of every input and output."""
    target = target or targets.get(None)
    if model.extra.get("no_weights"):
        raise WeightsError(f"{model.source}: an architecture without weights cannot be converted; "
                           f"pass the weights file too: --weights weights.h5")
    problems = support_problems(model, opset)
    if problems:
        raise UnsupportedError(problems, model.source)
    g = opsets.builder_for(opset)
    caught = []
    ctx = Context(g, model, opset, warn=caught.append, target=target)
    caught.extend(target_warnings(opset, target))
    ins = input_tensors(model)
    for t in ins:
        g.graph.reserve(t.name)
    outs = emit_graph(model, ctx, ins)

    out_vis = []
    for name, t in zip(output_names(model), outs):
        t = ctx.keras(t)
        g.graph.reserve(name)
        g.graph.node("Identity", [t.name], [name], g.graph.fresh(f"{name}/output"))
        out_vis.append(_value_info(name, t.shape, t.dtype, batch_size))
    in_vis = [_value_info(t.name, t.shape, t.dtype, batch_size) for t in ins]

    from . import __version__
    # Filled in place: make_graph + make_model would copy every weight twice.
    proto = onnx.ModelProto(producer_name="keras-onnx-bridge", producer_version=__version__)
    proto.opset_import.add(domain="", version=opset)
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    proto.graph.name = model.name
    proto.graph.node.extend(g.graph.nodes)
    proto.graph.input.extend(in_vis)
    proto.graph.output.extend(out_vis)
    proto.graph.initializer.extend(g.graph.initializers.values())
    run_passes(proto)
    for w in caught:
        warnings.warn(w, BridgeWarning, stacklevel=3)
    return proto


def output_names(model: Model) -> list:
    """Keras's own output names: the layer name, then name_1, name_2, ...
    when one layer gives several outputs (Functional._set_output_names)."""
    names, counts = [], {}
    for ref in model.outputs:
        proposal = ref.layer
        while proposal in names:
            n = counts.get(ref.layer, 1)
            proposal = f"{ref.layer}_{n}"
            counts[ref.layer] = n + 1
        names.append(proposal)
    return names


def _value_info(name, shape, dtype, batch_size=None):
    batch = "batch" if batch_size is None else batch_size
    dims = [batch if i == 0 else d for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, dtype, dims)


def to_onnx(src, dst=None, *, weights=None, opset=None, backend=None, target=None,
            batch_size=None) -> onnx.ModelProto:
    """Convert a Keras model file to ONNX; write it to `dst` when given.

    `weights`: the weights-only HDF5 for an architecture JSON `src`.
    `opset`: target ONNX opset (default 17). `backend`: the Keras backend the
    file was saved under ('tensorflow', 'theano', 'cntk'), overriding the
    file's own record. `target`: the runtime the file is for (onnxruntime,
    the default; openvino, tract, reference, or portable for all of them):
    it caps the opset and IR version and avoids what that runtime gets wrong
    (bridge/targets.py). `batch_size`: fix the batch dimension (for runtimes
    and compilers that want static shapes), None keeps it dynamic.
    """
    tgt = targets.get(target)
    opset = resolve_opset(opset)
    batch_size = resolve_batch_size(batch_size)
    model = read_model(src, weights=weights, backend=backend)
    proto = build(model, opset, tgt, batch_size)
    # Serialized once: the checker (full_check includes strict shape
    # inference) and the file share the bytes; a large model costs a
    # noticeable fraction of a second per serialization.
    data = proto.SerializeToString()
    onnx.checker.check_model(data, full_check=True)
    if dst is not None:
        save(data, dst)
    return proto


def save(data: bytes, dst) -> None:
    """Write atomically: a failed write never leaves a partial file at dst."""
    dst = os.fspath(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    fd, tmp = tempfile.mkstemp(prefix=".bridge-", suffix=".onnx", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
