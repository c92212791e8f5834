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
from . import safety
from .context import Context, Tensor
from .dtypes import ONNX_DTYPES, PRECISION_KEY, onnx_dtype
from .errors import BridgeError, ConfigError, LimitError, layer_where, short
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
        if not isinstance(dtype, str) or dtype not in ONNX_DTYPES:
            raise ConfigError(f"{model.source}: {layer_where(layer)} has input dtype "
                              f"{short(repr(dtype))}, which ONNX cannot take; use one of "
                              f"{sorted(ONNX_DTYPES)}")
        shape = (None,) + _dims(shape, model, layer)
        out.append(Tensor(name=layer.name, shape=shape, dtype=onnx_dtype(dtype)))
    return out


def _dims(shape, model: Model, layer) -> tuple:
    """An input's declared dimensions after the batch: each None or a
    whole number, and not more elements than the limits allow."""
    ok = isinstance(shape, (list, tuple)) and len(shape) >= 1 and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2 ** 63)
        or (isinstance(d, float) and d.is_integer() and 0 <= d < 2 ** 63) for d in shape[1:])
    if not ok:
        raise ConfigError(f"{model.source}: {layer_where(layer)} declares the input shape "
                          f"{short(repr(shape), 200)}, which is not a list of whole numbers (or None); "
                          f"the config is malformed")
    dims = tuple(None if d is None else int(d) for d in shape[1:])
    known = 1
    for d in dims:
        known *= d or 1
    if known > safety.current().max_tensor_elements:
        raise safety.refuse(f"{model.source}: {layer_where(layer)} declares an input of {known} "
                            f"elements per example", "max_tensor_elements")
    return dims


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
    g.graph.max_nodes = safety.current().max_nodes
    caught: list = []
    ctx = Context(g, model, opset, warn=caught.append, target=target)
    ctx.taps = taps
    ins = input_tensors(model)
    for t in ins:
        g.graph.reserve(t.name)
    held = [hold_inputs(ctx, t) for t in ins] if hold_inputs is not None else ins
    try:
        outs = emit_graph(model, ctx, held)
    except Warning:
        raise                  # a warning the caller turned into an error is theirs to see
    except Exception as e:  # noqa: BLE001 -- every error of every layer, located once here
        raise located(e, model.source) from (None if isinstance(e, BridgeError) else e)

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


def located(e: Exception, source: str) -> BridgeError:
    """An exception out of an emitter (walk.py notes which layer, with the
    models it is nested in) as a BridgeError naming the file and the layer's
    path. One an emitter did not foresee (a config holding a value of a
    type or size Keras never writes) becomes a ConfigError."""
    path, cls = getattr(e, "bridge_layer", ("", ""))
    where = f"layer '{short(path)}' ({short(cls)})" if path else ""
    if isinstance(e, BridgeError):
        msg = str(e.args[0]) if e.args else ""
        if source and msg.startswith(f"{source}: "):
            msg = msg[len(source) + 2:]
        name = path.rsplit("/", 1)[-1]
        if where and "/" in path and f"layer '{short(name)}' (" in msg:
            msg = msg.replace(f"layer '{short(name)}' (", f"layer '{short(path)}' (", 1)
        elif where and f"'{short(name)}'" not in msg:
            msg = f"{where}: {msg}"
        e.args = (f"{source}: {msg}" if source else msg,) + tuple(e.args[1:])
        return e
    if isinstance(e, opsets.GraphTooLarge):
        return safety.refuse(f"{source}: {where}: {e}", "max_nodes")
    if isinstance(e, MemoryError):
        return LimitError(f"{source}: {where}: the config asks for more memory than this machine has "
                          f"(a dimension or count far larger than any real model's)")
    if isinstance(e, RecursionError):
        return ConfigError(f"{source}: {where}: the config nests too deeply to convert")
    return ConfigError(f"{source}: {where or 'the model'}: the config is malformed ({type(e).__name__}: "
                       f"{short(e, 200)}); it holds a value Keras never writes there (or this is a "
                       f"converter bug: re-run with --debug and report it)")


def _value_info(name, shape, dtype, batch_size=None):
    batch = "batch" if batch_size is None else batch_size
    dims = [batch if i == 0 else d for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, dtype, dims)
