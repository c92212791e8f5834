"""Remove nodes and initializers nothing downstream of the outputs uses."""
from onnx import AttributeProto


def _inputs(node) -> set:
    """The node's inputs, plus outer values its subgraphs (Scan, Loop, If) read."""
    names = {i for i in node.input if i}
    for a in node.attribute:
        graphs = [a.g] if a.type == AttributeProto.GRAPH else list(a.graphs)
        for g in graphs:
            for inner in g.node:
                names |= _inputs(inner)
    return names


def prune_unused(model) -> bool:
    g = model.graph
    needed = {o.name for o in g.output}
    keep = []
    for node in reversed(list(g.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed |= _inputs(node)
    changed = len(keep) != len(g.node)
    if changed:
        keep.reverse()
        del g.node[:]
        g.node.extend(keep)
    unused = [t for t in g.initializer if t.name not in needed]
    for t in unused:
        g.initializer.remove(t)
    return changed or bool(unused)
