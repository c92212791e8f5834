"""Remove nodes that hand their input on unchanged: Identity, a Transpose
by the identity permutation, a Reshape to the shape it already has, a Pad or
Slice that changes nothing, a Concat of one tensor, adding zero and
multiplying by one. Graph outputs keep their names (the producer of the
input takes the output's name; see Net.bypass)."""
import numpy as np

_INT_MAX = 2 ** 62


def _const(net, node, i):
    return net.value(node.inputs[i]) if len(node.inputs) > i and node.inputs[i] else None


def _same_shape(net, node) -> bool:
    a, b = net.shape(node.inputs[0]), net.shape(node.outputs[0])
    return a is not None and a == b and None not in a[1:]


def _reshape(net, node) -> bool:
    """Reshape to the input's own shape (known but for the batch)."""
    target, shape = _const(net, node, 1), net.shape(node.inputs[0])
    if target is None or shape is None or len(target) != len(shape) or None in shape[1:]:
        return False
    allow_zero = node.attr("allowzero", 0)
    return all((d == 0 and not allow_zero) or (d == -1 and i == 0) or d == s
               for i, (d, s) in enumerate(zip(target.tolist(), shape)))


def _pad(net, node) -> bool:
    pads = _const(net, node, 1)
    return pads is not None and not np.any(pads) and len(node.inputs) < 4


def _slice(net, node) -> bool:
    starts, ends, shape = _const(net, node, 1), _const(net, node, 2), net.shape(node.inputs[0])
    axes, steps = _const(net, node, 3), _const(net, node, 4)
    if starts is None or ends is None or shape is None:
        return False
    if len(node.inputs) > 3 and node.inputs[3] and axes is None:
        return False
    if len(node.inputs) > 4 and node.inputs[4] and (steps is None or np.any(steps != 1)):
        return False
    axes = range(len(starts)) if axes is None else axes
    for a, s, e in zip(axes, starts.tolist(), ends.tolist()):
        dim = shape[a]
        if s != 0 or not (e >= _INT_MAX or (dim is not None and e >= dim)):
            return False
    return True


def _neutral(value):
    def check(net, node) -> bool:
        if len(node.inputs) != 2:
            return False
        c = _const(net, node, 1)
        x = net.shape(node.inputs[0])
        return (c is not None and x is not None and c.ndim <= len(x) and all(d == 1 for d in c.shape)
                and np.all(c == value))
    return check


# op -> whether this node is the identity
RULES = {
    "Identity": lambda net, node: True,
    "Dropout": lambda net, node: len(node.outputs) == 1 or not net.consumers(node.outputs[1]),
    "Transpose": lambda net, node: node.attr("perm") == sorted(node.attr("perm", [])),
    "Reshape": _reshape,
    "Flatten": _same_shape,
    "Squeeze": _same_shape,
    "Expand": _same_shape,
    "Pad": _pad,
    "Slice": _slice,
    "Concat": lambda net, node: len(node.inputs) == 1,
    "Add": _neutral(0), "Sub": _neutral(0), "Mul": _neutral(1), "Div": _neutral(1),
}


def remove_noops(net) -> bool:
    changed = False
    for node in list(net.nodes):
        rule = RULES.get(node.op)
        if rule is not None and not node.domain and rule(net, node):
            if node.op == "Dropout" and len(node.outputs) > 1:
                node.outputs = node.outputs[:1]
            changed |= net.bypass(node)
    return changed


def name_outputs_at_source(net) -> bool:
    """Only the Identity nodes that give a value its graph output name: the
    producer makes the output itself (float16 export runs this alone)."""
    changed = False
    outputs = net.output_names
    for node in list(net.nodes):
        if node.op == "Identity" and not node.domain and node.outputs[0] in outputs:
            changed |= net.bypass(node)
    return changed
