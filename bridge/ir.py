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
    """One application of a layer to input tensors."""
    inputs: tuple  # of TensorRef
    kwargs: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Weight:
    name: str          # full stored name, e.g. "dense_1/kernel:0"
    array: np.ndarray = field(compare=False)

    @property
    def short(self) -> str:
        """'kernel' for 'dense_1/kernel:0'."""
        return self.name.rsplit("/", 1)[-1].split(":", 1)[0]


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
    extra: dict = field(default_factory=dict)

    def layer(self, name: str) -> Layer:
        for l in self.layers:
            if l.name == name:
                return l
        raise KeyError(name)

    def walk(self):
        """Every layer, nested models' layers included (after their parent)."""
        for l in self.layers:
            yield l
            if l.inner is not None:
                yield from l.inner.walk()

    @property
    def keras_major(self) -> int:
        try:
            return int(self.keras_version.split(".")[0])
        except ValueError:
            return 2

