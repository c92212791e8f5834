"""A growing ONNX graph: nodes, initializers and unique names."""
from __future__ import annotations

import numpy as np
from onnx import helper


class Graph:
    def __init__(self):
        self.nodes = []
        self.initializers = {}   # name -> numpy array (TensorProtos are made when written)
        self._used = set()

    def fresh(self, hint: str) -> str:
        """A value or node name not used before, readable from its hint."""
        name = hint
        i = 1
        while name in self._used:
            name = f"{hint}_{i}"
            i += 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        if name in self._used:
            raise ValueError(f"name {name!r} already used")
        self._used.add(name)

    def initializer(self, array: np.ndarray, name: str) -> str:
        """Add a constant; a second request under the same name reuses it
        (a shared layer asks for its kernel once per call)."""
        if name in self.initializers:
            return name
        self.reserve(name)
        # Kept as given, a transposed view included: the writer lays out the
        # bytes (a big kernel is not copied once more for it).
        self.initializers[name] = np.asarray(array)
        return name

    def node(self, op_type: str, inputs, outputs, name: str, domain: str = "", **attrs):
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=name,
                                           domain=domain, **attrs))
