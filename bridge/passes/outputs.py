"""Drop the Identity nodes that only rename a value to its graph output name,
by renaming the producer's output instead."""


def name_outputs_at_source(model) -> bool:
    g = model.graph
    outputs = {o.name for o in g.output}
    graph_inputs = {i.name for i in g.input} | {i.name for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    changed = False
    for node in list(g.node):
        if node.op_type != "Identity" or node.output[0] not in outputs:
            continue
        src = node.input[0]
        # the value must be made by a node, feed nothing else, and not be an output itself
        if src in graph_inputs or src in outputs or consumers.get(src, 0) != 1 or src not in producers:
            continue
        prod = producers[src]
        idx = list(prod.output).index(src)
        prod.output[idx] = node.output[0]
        g.node.remove(node)
        changed = True
    return changed
