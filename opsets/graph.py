"""A growing ONNX graph: nodes, initializers and unique names."""
from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper


class Graph:
    def __init__(self):
        self.nodes = []
        self.initializers = {}   # name -> TensorProto
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
        a = np.asarray(array)
        if not a.flags.c_contiguous:   # (0-d arrays always are; ascontiguousarray would make them 1-d)
            a = np.ascontiguousarray(a)
        self.initializers[name] = numpy_helper.from_array(a, name)
        return name

    def node(self, op_type: str, inputs, outputs, name: str, domain: str = "", **attrs):
        if len(self.nodes) >= self.max_nodes:
            raise GraphTooLarge(f"the graph would have more than {self.max_nodes} nodes")
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=name,
                                           domain=domain, **attrs))

    # A graph stops growing here (a loop over a huge count read from a file
    # ends in GraphTooLarge, not in hours of work); the caller may lower it.
    max_nodes = 1_000_000


class GraphTooLarge(Exception):
    """More nodes than Graph.max_nodes."""
