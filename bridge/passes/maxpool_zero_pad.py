"""Keep Keras's ZeroPadding -> MaxPooling exact under ONNX Runtime.

ONNX Runtime (1.31 at least) folds a zero-valued Pad into the `pads` of a
MaxPool that follows it. MaxPool pads with -inf, so a window whose real values
are all negative then gives their maximum instead of Keras's 0, and when the
folded padding reaches the kernel size the model no longer loads at all.
This pass rewrites each zero Pad that feeds only a MaxPool as a Concat with
zero blocks along each padded axis, which no runtime folds. Same values,
one copy of the tensor, as before.
"""
import numpy as np
from onnx import helper, numpy_helper


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return a.s.decode() if a.type == a.STRING else a.i
    return default


def _zero_pads_into_maxpool(g):
    inits = {t.name: t for t in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    found = []
    for pad in g.node:
        if pad.op_type != "Pad" or _attr(pad, "mode", "constant") != "constant":
            continue
        if len(pad.input) < 2 or len(pad.input) > 3 or pad.input[1] not in inits:
            continue
        if len(pad.input) == 3 and pad.input[2]:
            value = inits.get(pad.input[2])
            if value is None or np.any(numpy_helper.to_array(value) != 0):
                continue
        users = consumers.get(pad.output[0], [])
        if len(users) == 1 and users[0].op_type == "MaxPool":
            pads = numpy_helper.to_array(inits[pad.input[1]]).astype(np.int64)
            if np.all(pads >= 0):
                found.append((pad, pads))
    return found


def guard_zero_pad_maxpool(model) -> bool:
    g = model.graph
    found = _zero_pads_into_maxpool(g)
    if not found:
        return False
    names = {n.name for n in g.node} | {o for n in g.node for o in n.output} | {t.name for t in g.initializer}

    def fresh(hint):
        name, i = hint, 1
        while name in names:
            name, i = f"{hint}_{i}", i + 1
        names.add(name)
        return name

    made = {}

    def const(array, hint):
        if hint not in made:
            made[hint] = fresh(hint)
            g.initializer.append(numpy_helper.from_array(np.asarray(array), made[hint]))
        return made[hint]

    zero = const(np.zeros((), np.float32), "zero_pad/zero")
    for pad, pads in found:
        rank = len(pads) // 2
        at = list(g.node).index(pad)
        new, x, base = [], pad.input[0], pad.name or pad.output[0]
        for axis in range(rank):
            before, after = int(pads[axis]), int(pads[rank + axis])
            if not before and not after:
                continue
            shape = fresh(f"{base}/shape{axis}")
            new.append(helper.make_node("Shape", [x], [shape], name=shape))
            head = fresh(f"{base}/head{axis}")
            new.append(helper.make_node("Slice", [shape, const([0], "zero_pad/i0"), const([axis], f"zero_pad/i{axis}")],
                                        [head], name=head))
            tail = fresh(f"{base}/tail{axis}")
            new.append(helper.make_node("Slice", [shape, const([axis + 1], f"zero_pad/i{axis + 1}"),
                                                  const([rank], f"zero_pad/i{rank}")], [tail], name=tail))
            parts = []
            for width in (before, after):
                if not width:
                    parts.append(None)
                    continue
                block_shape = fresh(f"{base}/block_shape{axis}")
                new.append(helper.make_node("Concat", [head, const([width], f"zero_pad/w{width}"), tail],
                                            [block_shape], axis=0, name=block_shape))
                block = fresh(f"{base}/zeros{axis}")
                new.append(helper.make_node("Expand", [zero, block_shape], [block], name=block))
                parts.append(block)
            out = fresh(f"{base}/concat{axis}")
            new.append(helper.make_node("Concat", [p for p in (parts[0], x, parts[1]) if p], [out],
                                        axis=axis, name=out))
            x = out
        # the last Concat takes over the Pad's output name
        new[-1].output[0] = pad.output[0]
        g.node.remove(pad)
        for i, n in enumerate(new):
            g.node.insert(at + i, n)
    return True
