"""A Concat of a Concat along the same axis, the inner one read by nothing
else, is one Concat of all their inputs (InceptionV3's mixed9 and mixed10
concatenate two concatenations)."""


def flatten_concats(net) -> bool:
    changed = False
    for node in list(net.nodes):
        if node.op != "Concat" or node.domain or net.producer(node.outputs[0]) is not node:
            continue
        axis, rank = node.attr("axis"), net.rank(node.outputs[0])
        i = 0
        while i < len(node.inputs):
            inner = net.producer(node.inputs[i])
            if inner is not None and inner.op == "Concat" and not inner.domain and \
                    net.only_consumer(inner.outputs[0]) is node and node.inputs.count(inner.outputs[0]) == 1 \
                    and _same_axis(inner.attr("axis"), axis, rank):
                net.remove(inner)
                net.set_input(node, i, "")            # (drops the link; replaced just below)
                node.inputs[i:i + 1] = inner.inputs
                for name in inner.inputs:
                    net.relink_input(node, name)
                changed = True
                continue                              # look at the spliced-in inputs too
            i += 1
    return changed


def _same_axis(a, b, rank) -> bool:
    return a == b or (rank is not None and a % rank == b % rank)
