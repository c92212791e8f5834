"""The ONNX side of `bridge check --layers`: every Keras layer's output,
computed by a copy of the exported graph.

Where each layer's output lives is the tap map (bridge/taps.py). The copy
gets one extra graph output per layer output, 'layer:<path>' (':<k>' for
output k > 0), brought back to Keras's layout by a Transpose where the value
is held transposed, and to float32 by a Cast (a float16 export); the
exported file itself is never changed.

Which graph is copied:

1. The exported file, when its tap map (metadata written by to_onnx) still
   finds every layer's value: the values it computes are exactly the file's,
   whoever's emitters made it (a layer you registered in another process).
2. Otherwise (a graph pass fused a layer's output into the next op, or the
   file has no map), MODEL is converted again, and when that conversion is
   the very graph of the file (same opset, precision and emitters), the
   probe is the emitted graph with the layer outputs made graph outputs
   BEFORE the passes run: the passes keep every graph output, so none of
   them is fused away, and the rest is optimized as in the file.
3. If MODEL no longer converts to the file's graph, the layers the file
   still holds are compared and the others reported as not in the file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import onnx
from onnx import TensorProto, helper

from .convert import read_model
from .dtypes import PRECISION_KEY
from .emit import emit
from .errors import BridgeError, ReferenceError_
from .passes import run_passes
from .registry import load_plugins
from .reference import layer_key
from .runtime import session
from .support import require_support
from .taps import TapRecorder, graph_values, read_taps

FLOATS = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)


@dataclass
class LayerValues:
    taps: list                                  # of Tap, in graph order
    values: dict = field(default_factory=dict)  # layer_key(path, k) -> array in Keras layout
    source: str = ""                            # which graph computed them, for the report
    # For computing one layer alone (local_values): a graph holding every
    # tap as an output, not optimized across layers, and the inputs it was run on
    graph: onnx.ModelProto = None
    outputs: dict = field(default_factory=dict)  # layer_key -> graph output name
    inputs: dict = field(default_factory=dict)
    provider: str = "cpu"


def add_tap_outputs(proto: onnx.ModelProto, taps: list) -> dict:
    """Make every tapped value a graph output of `proto` (in place), in
    Keras's layout and float32: {layer_key(path, k): graph output name}."""
    g = proto.graph
    used = graph_values(g) | {n.name for n in g.node} | {o.name for o in g.output}
    made = {}

    def fresh(hint):
        name, i = hint, 1
        while name in used:
            name, i = f"{hint}_{i}", i + 1
        used.add(name)
        return name

    for tap in taps:
        for k, o in enumerate(tap.outputs):
            if o is None:
                continue
            key = layer_key(tap.path, k)
            out = fresh(key)
            value = o.value
            if not _identity(o.perm):
                back = fresh(f"{key}/keras_layout")
                g.node.append(helper.make_node("Transpose", [value], [back], name=back,
                                               perm=[int(i) for i in np.argsort(o.perm)]))
                value = back
            if o.dtype in FLOATS:
                g.node.append(helper.make_node("Cast", [value], [out], name=fresh(f"{key}/float"),
                                               to=TensorProto.FLOAT))
                dtype = TensorProto.FLOAT
            else:
                g.node.append(helper.make_node("Identity", [value], [out], name=fresh(f"{key}/tap")))
                dtype = o.dtype
            g.output.append(helper.make_tensor_value_info(out, dtype, None))
            made[key] = out
    return made


def _identity(perm) -> bool:
    return perm is None or tuple(perm) == tuple(range(len(perm)))


def _run(probe, made: dict, inputs: dict, provider: str) -> dict:
    sess = session(probe.SerializeToString(), provider)
    wanted = {out: key for key, out in made.items()}
    names = [o.name for o in sess.get_outputs() if o.name in wanted]
    feed = {m.name: inputs[m.name] for m in sess.get_inputs()}
    return {wanted[n]: v for n, v in zip(names, sess.run(names, feed))}


def _probe_file(f, taps, inputs, provider, source) -> LayerValues:
    probe = onnx.ModelProto()
    probe.CopyFrom(f)
    made = add_tap_outputs(probe, taps)
    return LayerValues(taps, _run(probe, made, inputs, provider), source, probe, made, inputs,
                       provider)


def layer_values(src, onnx_model, inputs: dict, *, weights=None, backend=None,
                 provider: str = "cpu") -> LayerValues:
    """Every layer's output (first call) computed by the exported model
    `onnx_model` (a path, bytes or ModelProto) made from `src`, on `inputs`."""
    label = os.fspath(onnx_model) if isinstance(onnx_model, (str, os.PathLike)) else "the ONNX model"
    if isinstance(onnx_model, onnx.ModelProto):
        f = onnx_model
    elif isinstance(onnx_model, bytes):
        f = onnx.load_model_from_string(onnx_model)
    else:
        f = onnx.load(os.fspath(onnx_model))
    stored = read_taps(f)
    if stored is not None and all(t.outputs and t.outputs[0] is not None for t in stored):
        return _probe_file(f, stored, inputs, provider, f"{label} itself")
    rebuilt = _reconvert(src, weights, backend, f)
    if rebuilt is not None:
        probe, local, taps, made = rebuilt
        return LayerValues(taps, _run(probe, made, inputs, provider),
                           f"{os.fspath(src)} converted again (the graph of {label}), with every "
                           f"layer output kept through the graph passes", local, made, inputs, provider)
    if stored is not None:
        gone = [t.path for t in stored if not t.outputs or t.outputs[0] is None]
        return _probe_file(f, stored, inputs, provider,
                           f"{label} itself; {len(gone)} layers it does not hold (fused by the graph "
                           f"passes) are not compared, as {os.fspath(src)} now converts to another "
                           f"graph (other emitters or options)")
    raise ReferenceError_(f"{label}: it has no record of where each layer's output is (not written by "
                          f"this version of bridge) and {os.fspath(src)} now converts to a different "
                          f"graph; convert it again with 'bridge convert' and check that file")


def local_values(lv: LayerValues, tap, given: dict) -> Optional[dict]:
    """The outputs of one layer computed by its own nodes alone, fed `given`
    ({input label: array in Keras layout}, e.g. Keras's values of its inputs)
    instead of what the graph computed before it: {layer_key: array}, or
    None when an input is not in `given` or not a value of the graph.
    Tells a layer that computes differently from one whose inputs' small
    errors it amplified (a mean over many values that cancel)."""
    if lv.graph is None:
        return None
    taps = {t.path: t for t in lv.taps}
    g = lv.graph.graph
    graph_inputs = {i.name for i in g.input}
    feeds = {}
    for label in tap.inputs:
        if label in graph_inputs:
            feeds[label] = lv.inputs[label]
            continue
        path, k = split_label(label)
        src = taps.get(path)
        o = src.outputs[k] if src is not None and k < len(src.outputs) else None
        if o is None or label not in given or o.dtype not in FLOATS:
            return None
        x = np.asarray(given[label])
        feeds[o.value] = np.ascontiguousarray(x if _identity(o.perm) else np.transpose(x, o.perm))
    wanted = {lv.outputs[layer_key(tap.path, k)]: layer_key(tap.path, k)
              for k in range(len(tap.outputs)) if layer_key(tap.path, k) in lv.outputs}
    if not wanted:
        return None
    sub = _subgraph(lv.graph, list(wanted), set(feeds))
    for i in sub.graph.input:
        if i.name in feeds and i.name not in graph_inputs:
            feeds[i.name] = feeds[i.name].astype(np.float32)
    names = list(wanted)
    try:
        sess = session(sub.SerializeToString(), lv.provider)
        out = sess.run(names, {m.name: feeds[m.name] if m.name in feeds else lv.inputs[m.name]
                               for m in sess.get_inputs()})
    except Exception:   # onnxruntime's own errors: a cut value not float32 (a float16 file)
        return None
    return {wanted[n]: v for n, v in zip(names, out)}


def split_label(label: str) -> tuple:
    """'lstm:1' -> ('lstm', 1); 'dense' -> ('dense', 0)."""
    path, _, k = label.rpartition(":")
    return (path, int(k)) if path and k.isdigit() else (label, 0)


def _subgraph(model: onnx.ModelProto, outputs: list, cut: set) -> onnx.ModelProto:
    """The nodes of `model` that compute `outputs` from the values in `cut`
    (graph inputs where they reach further), as a model of its own whose
    inputs are the cut values (float32) and the graph inputs it needs."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output if o}
    inits = {t.name: t for t in g.initializer}
    graph_inputs = {i.name: i for i in g.input}
    keep, seen, stack, used_inputs, used_inits = set(), set(), list(outputs), [], []
    while stack:
        v = stack.pop()
        if v in seen or not v:
            continue
        seen.add(v)
        if v in cut and v not in graph_inputs:
            continue
        if v in graph_inputs:
            used_inputs.append(graph_inputs[v])
        elif v in inits:
            used_inits.append(inits[v])
        elif v in producer:
            n = producer[v]
            if id(n) not in keep:
                keep.add(id(n))
                stack.extend(_node_inputs(n))
    nodes = [n for n in g.node if id(n) in keep]
    cut_inputs = [helper.make_tensor_value_info(v, TensorProto.FLOAT, None)
                  for v in sorted(cut) if v in seen and v not in graph_inputs]
    outs = [o for o in g.output if o.name in set(outputs)]
    sub = helper.make_graph(nodes, "one_layer", cut_inputs + used_inputs, outs, initializer=used_inits)
    m = helper.make_model(sub, opset_imports=list(model.opset_import))
    m.ir_version = model.ir_version
    return m


def _node_inputs(node) -> list:
    """A node's inputs and the outer values its subgraphs (Scan, Loop, If) read."""
    names = [i for i in node.input if i]
    for a in node.attribute:
        for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)):
            for inner in sub.node:
                names.extend(_node_inputs(inner))
    return names


def _reconvert(src, weights, backend, f: onnx.ModelProto):
    """(probe, one-layer graph, taps, {layer key: output}): the emitted
    graph of `src` with every tap a graph output, passes run; None when
    `src` no longer converts (here, now) to `f`'s graph."""
    precision = next((p.value for p in f.metadata_props if p.key == PRECISION_KEY), "fp32")
    opset = next((o.version for o in f.opset_import if o.domain in ("", "ai.onnx")), None)
    if precision != "fp32" or opset is None:
        return None     # float16 / int8 rewrites: the file's own values only
    load_plugins()
    # a file made for a fixed batch converts again with that batch
    dim = f.graph.input[0].type.tensor_type.shape.dim if len(f.graph.input) else ()
    batch = dim[0].dim_value if len(dim) and dim[0].HasField("dim_value") else None
    try:
        model = read_model(src, weights, backend)
        require_support(model, opset)
        taps = TapRecorder()
        emitted, _ = emit(model, opset, taps=taps, batch_size=batch)
    except BridgeError:
        return None     # e.g. a layer whose emitter is not registered here

    again = onnx.ModelProto()
    again.CopyFrom(emitted)
    run_passes(again)
    if again.graph.SerializeToString() != f.graph.SerializeToString():
        return None
    # the probe: tap outputs first, then the passes (which keep graph outputs);
    # the graph for one-layer checks stays as emitted (nothing fused across layers)
    made = add_tap_outputs(emitted, taps.taps)
    local = onnx.ModelProto()
    local.CopyFrom(emitted)
    run_passes(emitted)
    return emitted, local, taps.taps, made
