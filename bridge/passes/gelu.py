"""From opset 20: the exact GELU written out, 0.5 x (1 + erf(x / sqrt 2)),
becomes one Gelu node, in whichever order of the Muls it was written
(x * 0.5 * (1 + erf), 0.5 x * (1 + erf), x * (0.5 + 0.5 erf) is not matched)."""
import numpy as np

from .net import Node

_SQRT_HALF = 1.0 / np.sqrt(2.0)


def _scalar(net, name, value) -> bool:
    v = net.value(name)
    return v is not None and v.size == 1 and abs(float(v.reshape(-1)[0]) - value) < 1e-6 * abs(value)


def _other(node, name):
    return node.inputs[1] if node.inputs[0] == name else node.inputs[0]


def _erf_input(net, erf):
    """x when erf reads x / sqrt(2) or x * (1 / sqrt(2))."""
    p = net.producer(erf.inputs[0])
    if p is None or net.only_consumer(p.outputs[0]) is not erf:
        return None
    if p.op == "Mul":
        for a, b in (p.inputs, p.inputs[::-1]):
            if _scalar(net, b, _SQRT_HALF):
                return a
    if p.op == "Div" and _scalar(net, p.inputs[1], np.sqrt(2.0)):
        return p.inputs[0]
    return None


def _match(net, erf):
    """(x, the node whose output is the GELU, the nodes to drop) or None."""
    x = _erf_input(net, erf)
    add = net.only_consumer(erf.outputs[0])
    if x is None or add is None or add.op != "Add" or not _scalar(net, _other(add, erf.outputs[0]), 1.0):
        return None
    mul = net.only_consumer(add.outputs[0])
    if mul is None or mul.op != "Mul":
        return None
    drop = [net.producer(erf.inputs[0]), erf, add, mul]
    m = _other(mul, add.outputs[0])
    if m == x:                                   # (x * (1 + erf)) * 0.5
        last = net.only_consumer(mul.outputs[0])
        if last is None or last.op != "Mul" or not _scalar(net, _other(last, mul.outputs[0]), 0.5):
            return None
        return x, last, drop + [last]
    half = net.producer(m)                       # (x * 0.5) * (1 + erf)
    if half is None or half.op != "Mul" or net.only_consumer(m) is not mul or x not in half.inputs \
            or not _scalar(net, _other(half, x), 0.5):
        return None
    return x, mul, drop + [half]


def fuse_gelu(net) -> bool:
    if net.opset < 20:
        return False
    changed = False
    for erf in [n for n in net.nodes if n.op == "Erf" and not n.domain]:
        found = _match(net, erf)
        if found is None:
            continue
        x, last, drop = found
        out = last.outputs[0]
        at = net.index(drop[0])
        for n in drop:
            net.remove(n)
        net.insert(min(at, len(net.nodes)), Node("Gelu", [x], [out], attrs={"approximate": "none"}))
        changed = True
    return changed
