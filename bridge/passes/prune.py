"""Remove nodes and initializers nothing downstream of the outputs uses."""


def prune_unused(model) -> bool:
    g = model.graph
    needed = {o.name for o in g.output}
    keep = []
    for node in reversed(list(g.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    changed = len(keep) != len(g.node)
    if changed:
        keep.reverse()
        del g.node[:]
        g.node.extend(keep)
    unused = [t for t in g.initializer if t.name not in needed]
    for t in unused:
        g.initializer.remove(t)
    return changed or bool(unused)
