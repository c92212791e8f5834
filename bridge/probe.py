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

import numpy as np
import onnx
from onnx import TensorProto, helper

from .convert import read_model
from .dtypes import PRECISION_KEY
from .emit import emit
from .errors import ReferenceError_
from .passes import run_passes
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


def add_tap_outputs(proto: onnx.ModelProto, taps: list) -> dict:
    """Make every tapped value a graph output of `proto` (in place), in
    Keras's layout and float32: {graph output name: layer_key(path, k)}."""
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
            if o.perm is not None and tuple(o.perm) != tuple(range(len(o.perm))):
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
            made[out] = key
    return made


def run_probe(proto: onnx.ModelProto, taps: list, inputs: dict, provider: str) -> dict:
    """{layer_key: array} computed by a copy of `proto` with the taps as outputs."""
    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    made = add_tap_outputs(probe, taps)
    return _run(probe, made, inputs, provider)


def _run(probe, made: dict, inputs: dict, provider: str) -> dict:
    sess = session(probe.SerializeToString(), provider)
    names = [o.name for o in sess.get_outputs() if o.name in made]
    feed = {m.name: inputs[m.name] for m in sess.get_inputs()}
    return {made[n]: v for n, v in zip(names, sess.run(names, feed))}


def layer_values(src, onnx_model, inputs: dict, *, weights=None, backend=None,
                 provider: str = "cpu") -> LayerValues:
    """Every layer's output (first call) computed by the exported model
    `onnx_model` (a path or ModelProto) made from `src`, on `inputs`."""
    label = os.fspath(onnx_model) if isinstance(onnx_model, (str, os.PathLike)) else "the ONNX model"
    if isinstance(onnx_model, onnx.ModelProto):
        f = onnx_model
    elif isinstance(onnx_model, bytes):
        f = onnx.load_model_from_string(onnx_model)
    else:
        f = onnx.load(os.fspath(onnx_model))
    stored = read_taps(f)
    if stored is not None and all(t.outputs and t.outputs[0] is not None for t in stored):
        return LayerValues(stored, run_probe(f, stored, inputs, provider), f"{label} itself")
    rebuilt = _reconvert(src, weights, backend, f)
    if rebuilt is not None:
        probe, taps, made = rebuilt
        return LayerValues(taps, _run(probe, made, inputs, provider),
                           f"{os.fspath(src)} converted again (the graph of {label}), with every "
                           f"layer output kept through the graph passes")
    if stored is not None:
        gone = [t.path for t in stored if not t.outputs or t.outputs[0] is None]
        return LayerValues(stored, run_probe(f, stored, inputs, provider),
                           f"{label} itself; {len(gone)} layers it does not hold (fused by the graph "
                           f"passes) are not compared, as {os.fspath(src)} now converts to another "
                           f"graph (other emitters or options)")
    raise ReferenceError_(f"{label}: it has no record of where each layer's output is (not written by "
                          f"this version of bridge) and {os.fspath(src)} now converts to a different "
                          f"graph; convert it again with 'bridge convert' and check that file")


def _reconvert(src, weights, backend, f: onnx.ModelProto):
    """(probe, taps, {output: layer key}): the emitted graph of `src` with every tap a graph
    output, passes run; None when `src` no longer converts to `f`'s graph."""
    precision = next((p.value for p in f.metadata_props if p.key == PRECISION_KEY), "fp32")
    opset = next((o.version for o in f.opset_import if o.domain in ("", "ai.onnx")), None)
    if precision != "fp32" or opset is None:
        return None     # float16 / int8 rewrites: the file's own values only
    model = read_model(src, weights, backend)
    require_support(model, opset)
    taps = TapRecorder()
    emitted, _ = emit(model, opset, taps=taps)
    again = onnx.ModelProto()
    again.CopyFrom(emitted)
    run_passes(again)
    if again.graph.SerializeToString() != f.graph.SerializeToString():
        return None
    # the probe: tap outputs first, then the passes (which keep graph outputs)
    made = add_tap_outputs(emitted, taps.taps)
    run_passes(emitted)
    return emitted, taps.taps, made
