"""Remove nodes and initializers nothing downstream of the outputs uses."""


def prune_unused(net) -> bool:
    needed = {o.name for o in net.outputs}
    keep = []
    for node in reversed(net.nodes):
        if any(o in needed for o in node.outputs):
            keep.append(node)
            needed.update(i for i in node.inputs if i)
            needed |= node.subgraph_inputs()
    changed = len(keep) != len(net.nodes)
    if changed:
        for node in [n for n in net.nodes if not any(n is k for k in keep)]:
            net.remove(node)
    unused = [k for k in net.consts if k not in needed]
    for k in unused:
        del net.consts[k]
    return changed or bool(unused)
