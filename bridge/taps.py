"""Taps: which value of the ONNX graph holds each Keras layer's output.

`bridge check --layers` compares every layer's output with Keras's; for that
it needs to know, for each layer, the ONNX value the emitter returned and the
layout it is held in (`Tensor.perm`: a convolution's output lives
channels-first). The walker (bridge/walk.py) knows both for every call it
emits, so while a `TapRecorder` is on the Context it writes down, for the
first call of every layer (nested models' and wrapped layers' inner layers
too, under their path 'outer/inner'):

- the ONNX value name, perm, Keras shape and dtype of each output,
- which taps (or graph inputs) produced the call's inputs, so a report can
  say whether a layer's inputs were already wrong.

`to_onnx` keeps the map in the exported file as metadata (LAYERS_KEY, a few
dozen bytes per layer, no effect on what the graph computes), after the graph
passes, with the names the passes gave the values they renamed: a file can
then be checked layer by layer without the emitters that made it (a layer of
yours registered in another process). Values a pass removed (fused into the
next op) are simply not there; bridge/probe.py then rebuilds them from the
model file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

LAYERS_KEY = "bridge.layers"


@dataclass(frozen=True)
class TapOutput:
    value: str                  # ONNX value name
    perm: Optional[tuple]       # ONNX value = transpose(Keras value, perm); None: Keras layout
    shape: tuple                # Keras shape, None for free dimensions
    dtype: int                  # onnx TensorProto element type at emission


@dataclass(frozen=True)
class Tap:
    path: str                   # 'conv1', or 'outer/inner' inside a nested model or wrapper
    class_name: str
    outputs: tuple              # of TapOutput, in Keras's output order (None: not in the graph)
    inputs: tuple               # what feeds the call: tap paths ('dense'; 'lstm:1' for output
                                # 1, 'dense[1]' for a later call of a shared layer) or graph
                                # input names
    # For a layer inside a wrapper (TimeDistributed): the wrapper's input
    # layout, which says how the batch and time axes were merged.
    outer_perm: Optional[tuple] = None

    def to_json(self) -> list:
        outputs = [None if o is None else [o.value, list(o.perm) if o.perm else None,
                                           list(o.shape), o.dtype] for o in self.outputs]
        return [self.path, self.class_name, list(self.inputs), outputs,
                list(self.outer_perm) if self.outer_perm else None]

    @classmethod
    def from_json(cls, item: list) -> "Tap":
        path, class_name, inputs, outputs, outer = item
        return cls(path, class_name,
                   tuple(None if o is None else
                         TapOutput(o[0], tuple(o[1]) if o[1] else None, tuple(o[2]), int(o[3]))
                         for o in outputs),
                   tuple(inputs), tuple(outer) if outer else None)


@dataclass
class TapRecorder:
    """Filled by the walker while a model is emitted (Context.taps)."""
    taps: list = field(default_factory=list)
    # value names the emit stage gave a second name (a model output's Identity),
    # which a pass may keep instead of the first
    aliases: dict = field(default_factory=dict)
    _producer: dict = field(default_factory=dict)    # value name -> 'path' or 'path:k' (output k)
    _first: list = field(default_factory=list)       # per enclosing call: is it call 0?
    _inputs: list = field(default_factory=list)      # per enclosing call: its input Tensors

    def enter(self, first: bool, ins: list) -> None:
        self._first.append(first)
        self._inputs.append(ins)

    def leave(self) -> None:
        self._first.pop()
        self._inputs.pop()

    def record(self, path: tuple, class_name: str, call: int, ins: list, outs: list,
               wrapped: bool = False) -> None:
        """A call was emitted; only the first call of a layer (inside first
        calls of everything around it) becomes a tap, but every call names
        the values it produced, for the input lists of later taps.
        `wrapped`: a layer a wrapper applies (its call is the wrapper's)."""
        name = "/".join(path)
        first = call == 0 and all(self._first)
        if first:
            outer = self._inputs[-1] if wrapped and self._inputs else None
            outer_perm = outer[0].perm if outer else None
            ins = outer or ins     # what feeds the wrapper, not its internal reshapes
            self.taps.append(Tap(
                name, class_name,
                tuple(TapOutput(t.name, tuple(t.perm) if t.perm else None,
                                tuple(t.shape), int(t.dtype)) for t in outs),
                tuple(self._producer.get(t.name, t.name) for t in ins), outer_perm))
        label = name if first else f"{name}[{call}]"
        for k, t in enumerate(outs):
            # the latest producer: an identity layer passes its input on
            self._producer[t.name] = label if k == 0 else f"{label}:{k}"

    def alias(self, value: str, other: str) -> None:
        self.aliases[value] = other


def graph_values(graph) -> set:
    """Every value name a graph defines: inputs, initializers, node outputs."""
    names = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    for n in graph.node:
        names.update(o for o in n.output if o)
    return names


def kept_taps(taps: list, graph, aliases: Optional[dict] = None) -> list:
    """The taps with their values as named in `graph` (after the passes):
    a value a pass renamed to its alias takes that name; an output a pass
    removed is left out (its tap keeps the outputs still there)."""
    present = graph_values(graph)
    aliases = aliases or {}
    out = []
    for tap in taps:
        outs = []
        for o in tap.outputs:
            if o is None:
                outs.append(None)
            elif o.value in present:
                outs.append(o)
            elif aliases.get(o.value) in present:
                outs.append(TapOutput(aliases[o.value], o.perm, o.shape, o.dtype))
            else:
                outs.append(None)
        out.append((tap, outs))
    return out


def write_taps(proto, recorder: TapRecorder) -> None:
    """Store the taps as metadata, with their values as the (passed) graph
    names them; an output the passes removed is stored as null."""
    items = [Tap(tap.path, tap.class_name, tuple(outs), tap.inputs, tap.outer_perm).to_json()
             for tap, outs in kept_taps(recorder.taps, proto.graph, recorder.aliases)]
    for p in list(proto.metadata_props):
        if p.key == LAYERS_KEY:
            proto.metadata_props.remove(p)
    proto.metadata_props.add(key=LAYERS_KEY, value=json.dumps(items, separators=(",", ":")))


def read_taps(proto) -> Optional[list]:
    """The taps stored in an exported file, or None when it has none."""
    for p in proto.metadata_props:
        if p.key == LAYERS_KEY:
            try:
                return [Tap.from_json(item) for item in json.loads(p.value)]
            except (ValueError, TypeError):
                return None
    return None
