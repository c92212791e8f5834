"""The emit stage: a normalized, supported IR model -> an ONNX ModelProto.

Graph inputs keep Keras's names, dtypes and layouts; the walker
(bridge/walk.py) runs every layer's emitter; each model output is brought
back to Keras's layout and named as Keras names it. The states stateful
recurrent layers carry between runs (Context.state_ports) follow: inputs
`<layer>/state_in/<k>` after the model's inputs, outputs
`<layer>/state_out/<k>` after its outputs, layer by layer in emission order.
"""
from __future__ import annotations

from typing import Callable, Optional

import onnx
from onnx import helper, numpy_helper

import opsets

from . import emitters  # noqa: F401  (registers the built-in emitters)
from .context import Context, Tensor
from .dtypes import ONNX_DTYPES, PRECISION_KEY, onnx_dtype
from .errors import ConfigError, layer_where
from .ir import Model
from .taps import TapRecorder
from .version import __version__
from .walk import emit_graph


def input_tensors(model: Model) -> list:
    """The model's inputs as Tensors named after their InputLayers."""
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
        if dtype not in ONNX_DTYPES:
            raise ConfigError(f"{model.source}: {layer_where(layer)} has input dtype {dtype!r}, "
                              f"which ONNX cannot take; use one of {sorted(ONNX_DTYPES)}")
        shape = (None,) + tuple(None if d is None else int(d) for d in shape[1:])
        out.append(Tensor(name=layer.name, shape=shape, dtype=onnx_dtype(dtype)))
    return out


def output_names(model: Model) -> list:
    """Keras's own output names: the layer name, then name_1, name_2, ...
    when one layer gives several outputs (Functional._set_output_names)."""
    return unique_names([ref.layer for ref in model.outputs])


def unique_names(layers: list) -> list:
    """Output names from the output layers' names, as tf.keras makes them."""
    names, counts = [], {}
    for layer in layers:
        proposal = layer
        while proposal in names:
            n = counts.get(layer, 1)
            proposal = f"{layer}_{n}"
            counts[layer] = n + 1
        names.append(proposal)
    return names


def emit(model: Model, opset: int, *,
         hold_inputs: Optional[Callable[[Context, Tensor], Tensor]] = None,
         target=None, batch_size: Optional[int] = None,
         taps: Optional[TapRecorder] = None) -> tuple:
    """(ModelProto, warnings): the model's graph at `opset`, not yet cleaned
    by the passes. `hold_inputs(ctx, t)` may hand the layers each graph
    input in another layout (the tests feed every case channels-first).
    `target` (bridge.targets.Target) says which constructs to avoid;
    `batch_size` fixes the batch dimension of every input and output.
    `taps`, when given, records which value holds each layer's output."""
    proto, consts, caught = emit_parts(model, opset, hold_inputs=hold_inputs, target=target,
                                       batch_size=batch_size, taps=taps)
    proto.graph.initializer.extend(numpy_helper.from_array(a, k) for k, a in consts.items())
    return proto, caught


def emit_parts(model: Model, opset: int, *,
               hold_inputs: Optional[Callable[[Context, Tensor], Tensor]] = None,
               target=None, batch_size: Optional[int] = None,
               taps: Optional[TapRecorder] = None) -> tuple:
    """(ModelProto without initializers, {initializer name: array}, warnings):
    as emit(), with the weights left numpy arrays (often still mapped from
    the Keras file) until the passes and the writer are done with them."""
    g = opsets.builder_for(opset)
    caught: list = []
    ctx = Context(g, model, opset, warn=caught.append, target=target)
    ctx.taps = taps
    ins = input_tensors(model)
    for t in ins:
        g.graph.reserve(t.name)
    held = [hold_inputs(ctx, t) for t in ins] if hold_inputs is not None else ins
    outs = emit_graph(model, ctx, held)

    out_vis = []
    for name, t in zip(output_names(model), outs):
        t = ctx.keras(t)
        g.graph.reserve(name)
        g.graph.node("Identity", [t.name], [name], g.graph.fresh(f"{name}/output"))
        if taps is not None:
            taps.alias(t.name, name)
        out_vis.append(_value_info(name, t.shape, t.dtype, batch_size))
    in_vis = [_value_info(t.name, t.shape, t.dtype, batch_size) for t in ins]
    # Stateful layers' states: inputs after the model's, outputs after its outputs.
    for port in ctx.state_ports:
        in_vis.append(_value_info(port.input.name, port.input.shape, port.input.dtype, batch_size))
        if port.output is None:
            continue        # inspect: the layer did not emit
        name = f"{port.layer}/state_out/{port.index}"
        g.graph.reserve(name)
        g.graph.node("Identity", [port.output.name], [name], g.graph.fresh(f"{name}/output"))
        out_vis.append(_value_info(name, port.output.shape, port.output.dtype, batch_size))

    proto = onnx.ModelProto(producer_name="keras-onnx-bridge", producer_version=__version__)
    proto.opset_import.add(domain="", version=opset)
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    proto.graph.name = model.name
    proto.graph.node.extend(g.graph.nodes)
    proto.graph.input.extend(in_vis)
    proto.graph.output.extend(out_vis)
    if any(layer.quantization is not None for layer in model.walk()):
        proto.metadata_props.add(key=PRECISION_KEY, value="keras-quantized")
    return proto, g.graph.initializers, caught


def _value_info(name, shape, dtype, batch_size=None):
    batch = "batch" if batch_size is None else batch_size
    dims = [batch if i == 0 else d for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, dtype, dims)
