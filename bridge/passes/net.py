"""The graph the passes rewrite: ONNX nodes as small mutable objects,
initializers as numpy arrays, and a producer/consumer index that every edit
keeps current.

A pass receives a Net, changes it only through the methods below (so the
index stays right and names stay unique) and returns whether it changed
anything. Graph inputs and outputs keep their names: a rewrite that replaces
the node making an output value makes the same value name.

Constants stay numpy arrays until the model is written, so a pass that
rescales a kernel (BatchNormalization folding) or permutes one (Transpose
sinking) works on the array itself, and nothing is serialized twice.
"""
from __future__ import annotations

import numpy as np
from onnx import AttributeProto, helper


def inverse(perm) -> list:
    """The permutation undoing `perm`."""
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def transpose_of(net, name):
    """perm of the Transpose making `name`, else None."""
    node = net.producer(name)
    if node is not None and node.op == "Transpose" and not node.domain:
        return list(node.attr("perm"))
    return None


class Node:
    """One ONNX node. `attrs` holds plain Python values (ints, floats,
    strings, lists of them, TensorProto / GraphProto for subgraphs)."""

    __slots__ = ("op", "inputs", "outputs", "attrs", "name", "domain")

    def __init__(self, op: str, inputs, outputs, name: str = "", domain: str = "", attrs=None):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.attrs = dict(attrs or {})
        self.name = name
        self.domain = domain

    def attr(self, key: str, default=None):
        return self.attrs.get(key, default)

    def __repr__(self) -> str:
        return f"{self.op}({', '.join(self.inputs)}) -> {', '.join(self.outputs)} {self.attrs or ''}"

    @classmethod
    def from_proto(cls, p) -> "Node":
        attrs = {}
        for a in p.attribute:
            v = helper.get_attribute_value(a)
            if a.type == AttributeProto.STRING:
                v = v.decode()
            elif a.type in (AttributeProto.INTS, AttributeProto.FLOATS):
                v = list(v)
            attrs[a.name] = v
        return cls(p.op_type, p.input, p.output, p.name, p.domain, attrs)

    def to_proto(self):
        return helper.make_node(self.op, self.inputs, self.outputs, name=self.name or None,
                                domain=self.domain or None, **self.attrs)

    def subgraph_inputs(self) -> set:
        """Outer values that this node's subgraphs (Scan, Loop, If) read."""
        names = set()
        for v in self.attrs.values():
            graphs = [v] if hasattr(v, "node") else [g for g in v if hasattr(g, "node")] \
                if isinstance(v, list) else []
            for g in graphs:
                for inner in g.node:
                    names |= {i for i in inner.input if i}
                    names |= Node.from_proto(inner).subgraph_inputs()
        return names


class Net:
    def __init__(self, nodes, consts, inputs, outputs, opset: int):
        self.nodes = list(nodes)
        self.consts = dict(consts)      # name -> np.ndarray
        self.inputs = list(inputs)      # ValueInfoProto, as given
        self.outputs = list(outputs)
        self.opset = opset
        self.shapes: dict = {}          # value -> tuple (int, or None where unknown); see infer_shapes
        self.dtypes: dict = {}          # value -> numpy dtype, where inferred
        self._index()

    # -- building ---------------------------------------------------------------
    @classmethod
    def from_model(cls, model) -> "Net":
        from onnx import numpy_helper
        g = model.graph
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        return cls([Node.from_proto(n) for n in g.node], consts, g.input, g.output, opset)

    @classmethod
    def from_parts(cls, model, consts: dict) -> "Net":
        """A ModelProto without initializers and its {name: array} constants."""
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        return cls([Node.from_proto(n) for n in model.graph.node], consts, model.graph.input,
                   model.graph.output, opset)

    def parts(self, model) -> tuple:
        """model's graph replaced by this net's nodes and outputs; returns
        (model, {initializer name: array})."""
        g = model.graph
        del g.node[:]
        g.node.extend(n.to_proto() for n in self.nodes)
        del g.output[:]
        g.output.extend(self.outputs)
        return model, self.consts

    def write_to(self, model) -> None:
        """Replace the nodes and initializers of `model` with this net's."""
        from onnx import numpy_helper
        g = model.graph
        del g.node[:]
        g.node.extend(n.to_proto() for n in self.nodes)
        del g.initializer[:]
        g.initializer.extend(numpy_helper.from_array(a, k) for k, a in self.consts.items())
        del g.output[:]
        g.output.extend(self.outputs)

    def _index(self) -> None:
        self._small = {(a.dtype.str, a.shape, a.tobytes()): k for k, a in self.consts.items() if a.size <= 16}
        self._prod = {}
        self._uses = {}
        self._names = {i.name for i in self.inputs} | set(self.consts)
        self.pinned = {o.name for o in self.outputs} | {i.name for i in self.inputs}
        for n in self.nodes:
            self._link(n)
            self._names.add(n.name)
            self._names.update(n.outputs)

    def _link(self, node: Node) -> None:
        for o in node.outputs:
            if o:
                self._prod[o] = node
        for i in node.inputs:
            if i:
                self._uses.setdefault(i, []).append(node)
        inner = node.subgraph_inputs()
        for i in inner:
            self._uses.setdefault(i, []).append(node)
        self.pinned |= inner

    def _unlink(self, node: Node) -> None:
        for o in node.outputs:
            if self._prod.get(o) is node:
                del self._prod[o]
        for i in node.inputs:
            uses = self._uses.get(i)
            if uses and node in uses:
                uses.remove(node)

    # -- queries ----------------------------------------------------------------
    @property
    def output_names(self) -> set:
        return {o.name for o in self.outputs}

    def producer(self, name: str):
        return self._prod.get(name)

    def consumers(self, name: str) -> list:
        """The nodes reading `name`, each once."""
        seen = []
        for n in self._uses.get(name, ()):
            if not any(n is s for s in seen):
                seen.append(n)
        return seen

    def only_consumer(self, name: str):
        """The one node reading `name`, when it is read once and is no graph output."""
        uses = self._uses.get(name, ())
        if len(uses) == 1 and name not in self.pinned:
            return uses[0]
        return None

    def is_const(self, name: str) -> bool:
        return name in self.consts

    def value(self, name: str):
        return self.consts.get(name)

    def shape(self, name: str):
        """The value's shape when known (ints, None for an unknown dim), else None."""
        if name in self.consts:
            return tuple(self.consts[name].shape)
        return self.shapes.get(name)

    def rank(self, name: str):
        s = self.shape(name)
        return None if s is None else len(s)

    def index(self, node: Node) -> int:
        for i, n in enumerate(self.nodes):
            if n is node:
                return i
        raise ValueError(f"{node!r} is not in the graph")

    # -- edits ------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        name, i = hint, 1
        while name in self._names:
            name, i = f"{hint}_{i}", i + 1
        self._names.add(name)
        return name

    def add_const(self, array, hint: str) -> str:
        """A new initializer; equal small constants (axes, shapes) are shared."""
        a = np.asarray(array)
        old = self.consts.get(hint)
        if old is not None and old.dtype == a.dtype and old.shape == a.shape and np.array_equal(old, a):
            return hint
        key = (a.dtype.str, a.shape, a.tobytes()) if a.size <= 16 else None
        if key is not None:
            k = self._small.get(key)
            held = self.consts.get(k) if k is not None else None
            # passes rewrite a constant whose one reader they change (a folded bias): the
            # name may hold other values by now
            if held is not None and held.dtype == a.dtype and held.shape == a.shape and np.array_equal(held, a):
                return k
        name = self.fresh(hint)
        self.consts[name] = a    # (a view is fine: the writer lays the bytes out)
        if key is not None:
            self._small[key] = name
        return name

    def insert(self, index: int, node: Node) -> Node:
        if not node.name:
            node.name = self.fresh(f"{node.outputs[0]}/{node.op}" if node.outputs else node.op)
        else:
            self._names.add(node.name)
        self._names.update(node.outputs)
        self.nodes.insert(index, node)
        self._link(node)
        return node

    def insert_before(self, ref: Node, node: Node) -> Node:
        return self.insert(self.index(ref), node)

    def insert_after(self, ref: Node, node: Node) -> Node:
        return self.insert(self.index(ref) + 1, node)

    def make(self, op: str, inputs, *, hint: str, at: Node, after: bool = False,
             outputs=None, **attrs) -> Node:
        """A new node placed before (or after) `at`; its output named from `hint`."""
        outs = outputs or [self.fresh(hint)]
        node = Node(op, inputs, outs, attrs=attrs)
        return self.insert_after(at, node) if after else self.insert_before(at, node)

    def remove(self, node: Node) -> None:
        self._unlink(node)
        del self.nodes[self.index(node)]

    def set_input(self, node: Node, i: int, name: str) -> None:
        """node reads `name` as input i. A constant nothing reads any more is
        dropped at once: a rewritten kernel and its original are not both
        kept until the pass ends."""
        old = node.inputs[i]
        uses = self._uses.get(old)
        if uses and node in uses:
            uses.remove(node)
        node.inputs[i] = name
        if name:
            self._uses.setdefault(name, []).append(node)
        if old != name and old in self.consts and not self._uses.get(old) and old not in self.pinned:
            del self.consts[old]

    def relink_input(self, node: Node, name: str) -> None:
        """Record one more read of `name` by node (after editing node.inputs
        directly, as a splice of several inputs does)."""
        self._uses.setdefault(name, []).append(node)

    def set_output(self, node: Node, i: int, name: str) -> None:
        old = node.outputs[i]
        if self._prod.get(old) is node:
            del self._prod[old]
        node.outputs[i] = name
        self._names.add(name)
        self._prod[name] = node

    def replace_uses(self, old: str, new: str) -> None:
        """Every node reading `old` reads `new` instead (graph outputs are
        the caller's business: see pinned)."""
        for n in list(self._uses.get(old, ())):
            for i, x in enumerate(n.inputs):
                if x == old:
                    self.set_input(n, i, new)

    def bypass(self, node: Node) -> bool:
        """Remove a node whose output equals its first input. When the output
        is a graph output, the input's producer takes over its name; False
        when that cannot be (the input is itself a graph input or output)."""
        out, src = node.outputs[0], node.inputs[0]
        if out not in self.pinned:
            self.replace_uses(out, src)
            self.remove(node)
            return True
        prod = self.producer(src)
        # (a value read by other nodes too keeps its own name: a graph output
        # is best made for the outside alone, float16 export relies on it)
        if src in self.pinned or prod is None or len(self.consumers(src)) != 1:
            return False
        self.remove(node)
        self.replace_uses(src, out)
        self.set_output(prod, prod.outputs.index(src), out)
        return True

    def snapshot(self):
        """The state to go back to when a tried rewrite does not pay."""
        nodes = [Node(n.op, n.inputs, n.outputs, n.name, n.domain,
                      {k: list(v) if isinstance(v, list) else v for k, v in n.attrs.items()})
                 for n in self.nodes]
        return nodes, dict(self.consts), dict(self.shapes), list(self.outputs)

    def restore(self, state) -> None:
        nodes, consts, shapes, outputs = state
        self.nodes, self.consts, self.shapes, self.outputs = list(nodes), dict(consts), dict(shapes), list(outputs)
        self._index()

    def count(self, op: str) -> int:
        return sum(1 for n in self.nodes if n.op == op and not n.domain)

    def builder(self):
        """An opsets builder whose nodes splice() adds here: passes write
        multi-node replacements through the same opset-aware API as emitters."""
        import opsets

        net = self

        class Scratch(opsets.Graph):
            def __init__(self):
                super().__init__(used_names=net._names)   # names stay unique across both

            def initializer(self, array, name):
                return net.add_const(array, name)

        return opsets.builder_for(self.opset, Scratch())

    def splice(self, b, at: Node) -> None:
        """Insert the builder's nodes before `at`."""
        i = self.index(at)
        for p in b.graph.nodes:
            node = p if isinstance(p, Node) else Node.from_proto(p)
            self.nodes.insert(i, node)
            self._link(node)
            i += 1
        b.graph.nodes.clear()

    def drop_unused_consts(self) -> None:
        for k in [k for k in self.consts if not self._uses.get(k)]:
            del self.consts[k]

    # -- shapes -----------------------------------------------------------------
    def infer_shapes(self) -> None:
        """Fill `shapes` with ONNX shape inference. Large constants enter as
        typed graph inputs, so no weight is copied for it."""
        import onnx
        from onnx import numpy_helper
        from onnx.helper import make_tensor_value_info, np_dtype_to_tensor_dtype
        inits, extra = [], []
        for k, a in self.consts.items():
            if a.size <= 64 or a.dtype.kind in "iub":
                inits.append(numpy_helper.from_array(a, k))
            else:
                extra.append(make_tensor_value_info(k, np_dtype_to_tensor_dtype(a.dtype), a.shape))
        g = helper.make_graph([n.to_proto() for n in self.nodes], "shapes", list(self.inputs) + extra,
                              list(self.outputs), initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = helper.find_min_ir_version_for(list(m.opset_import))
        try:
            m = onnx.shape_inference.infer_shapes(m, data_prop=True)
        except Exception:  # inference gaps only make passes more careful
            return
        for vi in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input):
            t = vi.type.tensor_type
            if t.elem_type:
                try:
                    self.dtypes[vi.name] = helper.tensor_dtype_to_np_dtype(t.elem_type)
                except (KeyError, ValueError):
                    pass
            if t.HasField("shape"):
                self.shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                             for d in t.shape.dim)
