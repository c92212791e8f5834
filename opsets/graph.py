"""A growing ONNX graph: nodes, initializers and unique names."""
from __future__ import annotations

import hashlib

import numpy as np
from onnx import helper


class Graph:
    def __init__(self, used_names: set | None = None):
        self.nodes = []
        self.initializers = {}   # name -> numpy array (TensorProtos are made when written)
        # Every value and node name taken; a subgraph shares its parent's set
        # so that names stay unique across the whole model.
        self.used_names = set() if used_names is None else used_names
        # Values helpers build once per conversion and share (key -> value name).
        self.memo = {}
        # Per hint, a suffix below which every name is taken (names are never
        # freed): a hint asked for n times costs n lookups, not n**2 / 2.
        self._suffix = {}

    def fresh(self, hint: str) -> str:
        """A value or node name not used before, readable from its hint:
        the hint itself, else the first of hint_1, hint_2, ... not taken."""
        name = hint
        i = self._suffix.get(hint, 1)
        while name in self.used_names:
            name = f"{hint}_{i}"
            i += 1
        self._suffix[hint] = i
        self.used_names.add(name)
        return name

    def reserve(self, name: str) -> None:
        if name in self.used_names:
            raise ValueError(f"name {name!r} already used")
        self.used_names.add(name)

    def initializer(self, array: np.ndarray, name: str) -> str:
        """Add a constant and return its name. Content-addressed: the same
        array asked for again under the same name (a shared layer asks for
        its kernel once per call) is the one initializer; a different array
        under a name already taken gets a name of its own (the name plus a
        digest of its bytes), never the first one's."""
        a = np.asarray(array)
        if name in self.initializers:
            if same_array(self.initializers[name], a):
                return name
            name = f"{name}_{digest(a)}"
            if name in self.initializers:     # the same bytes asked for before
                return name
        self.reserve(name)
        # Kept as given, a transposed view included: the writer lays out the
        # bytes (a big kernel is not copied once more for it).
        self.initializers[name] = a
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


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype, shape and values (NaN equal to NaN)."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def digest(a: np.ndarray) -> str:
    """A short name-safe digest of an array's bytes, shape and dtype."""
    return hashlib.sha1(a.tobytes() + str(a.shape).encode() + str(a.dtype).encode()).hexdigest()[:10]
