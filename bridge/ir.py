"""The intermediate representation every reader produces and every emitter reads.

A model is a functional graph: layers, each applied in one or more calls
(Keras's "inbound nodes"); a tensor is named by (layer, call, output index)
exactly as Keras names it in its config.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class TensorRef:
    layer: str
    call: int = 0
    index: int = 0


@dataclass(frozen=True)
class Call:
    """One application of a layer to input tensors.

    `inputs` lists every tensor the call reads, positional ones first. When
    the positional arguments are a plain list of tensors (most layers),
    `args` is None; otherwise (op layers: constants, a bare tensor, nested
    lists) `args` keeps them as written, with TensorRefs where tensors go.
    `kwargs` are the keyword arguments, tensors as TensorRefs that are also
    in `inputs`."""
    inputs: tuple  # of TensorRef
    kwargs: dict = field(default_factory=dict, hash=False, compare=False)
    args: Optional[list] = field(default=None, hash=False, compare=False)

    def map_refs(self, fn) -> "Call":
        """The same call with every TensorRef r replaced by fn(r)."""
        return Call(tuple(fn(r) for r in self.inputs), map_refs(self.kwargs, fn),
                    None if self.args is None else map_refs(self.args, fn))


def map_refs(value, fn):
    """`value` (call arguments: nested lists, tuples and dicts) with every
    TensorRef r replaced by fn(r); everything else kept."""
    if isinstance(value, TensorRef):
        return fn(value)
    if isinstance(value, list):
        return [map_refs(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(map_refs(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: map_refs(v, fn) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Weight:
    name: str          # full stored name, e.g. "dense_1/kernel:0"
    array: np.ndarray = field(compare=False)

    @property
    def short(self) -> str:
        """'kernel' for 'dense_1/kernel:0'."""
        return self.name.rsplit("/", 1)[-1].split(":", 1)[0]


@dataclass(frozen=True)
class AbsMax:
    """Keras's AbsMaxQuantizer as a quantized layer applies it to its inputs:
    scale = hi / (max|x| + epsilon) over the reduced axes, q = clip(round(x *
    scale), lo, hi)."""
    lo: int = -127
    hi: int = 127
    epsilon: float = 1e-7


@dataclass(frozen=True)
class Quantization:
    """How a Keras 3 layer was quantized (`model.quantize(mode)`): its dtype
    policy and quantization_config. The layer's weights are then the
    quantized ones (kernel int8 with kernel_scale, ...), named as Keras
    names the variables."""
    mode: str                            # "int8", "int4", "float8" (or one refused: "gptq", ...)
    block_size: Optional[int] = None     # int4: rows per group (zero points too); None per channel
    # The inputs' quantizer: AbsMax; None (weight-only); or the class name of
    # another quantizer, which the emitters' checks refuse.
    inputs: object = None


@dataclass
class Layer:
    name: str
    class_name: str
    config: dict
    calls: list = field(default_factory=list)      # of Call
    weights: list = field(default_factory=list)    # of Weight, in Keras order
    inner: Optional["Model"] = None                # a nested model
    # For an InputLayer the reader made for a Sequential that declared none:
    # the class of the layer it feeds (Keras 1 named such inputs after it).
    input_for: Optional[str] = None
    # The layers a wrapper applies (TimeDistributed: [layer]; Bidirectional:
    # [forward, backward]), with their share of its weights (bridge.normalize).
    wrapped: list = field(default_factory=list)
    # Keras 3 quantized layers (bridge.normalize reads the dtype policy).
    quantization: Optional[Quantization] = None

    def weight(self, short: str) -> Optional[np.ndarray]:
        for w in self.weights:
            if w.short == short:
                return w.array
        return None


@dataclass
class Model:
    name: str
    layers: list                     # of Layer, in config order
    inputs: list                     # of TensorRef
    outputs: list                    # of TensorRef
    keras_version: str = ""
    backend: str = "tensorflow"
    source: str = ""                 # the file it came from, for messages
    # An architecture read without its weights (a JSON alone): it can be
    # inspected, not converted.
    weights_missing: bool = False
    # How normalize chose `backend`: "argument", "file", "weight names",
    # "version" or "default".
    backend_source: str = ""
    # What normalize widened to float32 ("<layer>: mixed_float16", ...).
    precision_notes: list = field(default_factory=list)

    def layer(self, name: str) -> Layer:
        for lyr in self.layers:
            if lyr.name == name:
                return lyr
        raise KeyError(name)

    def walk(self):
        """Every layer, nested models' layers included (after their parent)."""
        for lyr in self.layers:
            yield lyr
            if lyr.inner is not None:
                yield from lyr.inner.walk()

    @property
    def keras_major(self) -> int:
        try:
            return int(self.keras_version.split(".")[0])
        except ValueError:
            return 2

