"""MobileNetV3's activations as the ONNX ops that compute them:

  Clip(v, 0, h) * (1 / h)                 -> HardSigmoid(v, alpha=1/h, beta=0)
  HardSigmoid(x + c, alpha, beta)         -> HardSigmoid(x, alpha, beta + alpha * c)
  x * HardSigmoid(x, 1/6, 1/2)            -> HardSwish(x)            (opset 14+)

tf-keras writes hard_sigmoid as ReLU(x + 3, max_value=6) * (1 / 6) out of
separate layers, and hard_swish as x times that (the + 3 is often already
in a Conv's bias, see fold_batch_norm). Each becomes one node.
"""
from __future__ import annotations

from .net import Node


def _scalar(net, name):
    v = net.value(name) if name else None
    return float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None


def _close(a, b) -> bool:
    return a is not None and abs(a - b) <= 1e-6 * max(abs(b), 1e-12)


def _other(node, name):
    return node.inputs[1] if node.inputs[0] == name else node.inputs[0]


def _replace(net, old: list, op: str, inputs, **attrs) -> None:
    """old nodes (the last one makes the result) -> one node."""
    out = old[-1].outputs[0]
    at = net.index(old[0])
    for n in old:
        net.remove(n)
    net.insert(at, Node(op, inputs, [out], attrs=attrs))


def _clip_mul(net, mul) -> bool:
    for clipped in mul.inputs:
        clip = net.producer(clipped)
        if clip is None or clip.op != "Clip" or net.only_consumer(clipped) is not mul:
            continue
        lo = _scalar(net, clip.inputs[1] if len(clip.inputs) > 1 else "")
        hi = _scalar(net, clip.inputs[2] if len(clip.inputs) > 2 else "")
        k = _scalar(net, _other(mul, clipped))
        if lo == 0.0 and hi and _close(k, 1.0 / hi):
            _replace(net, [clip, mul], "HardSigmoid", [clip.inputs[0]], alpha=1.0 / hi, beta=0.0)
            return True
    return False


def _add_into(net, hs) -> bool:
    add = net.producer(hs.inputs[0])
    if add is None or add.op != "Add" or net.only_consumer(add.outputs[0]) is not hs:
        return False
    for x, c in (add.inputs, add.inputs[::-1]):
        v = _scalar(net, c)
        if v is not None and not net.is_const(x):
            alpha = hs.attr("alpha", 0.2)
            _replace(net, [add, hs], "HardSigmoid", [x], alpha=alpha, beta=hs.attr("beta", 0.5) + alpha * v)
            return True
    return False


def _swish(net, mul) -> bool:
    if net.opset < 14:
        return False
    for hs_out in mul.inputs:
        hs = net.producer(hs_out)
        if hs is None or hs.op != "HardSigmoid" or net.only_consumer(hs_out) is not mul:
            continue
        if _other(mul, hs_out) == hs.inputs[0] and _close(hs.attr("alpha"), 1 / 6) and _close(hs.attr("beta"), 0.5):
            _replace(net, [hs, mul], "HardSwish", [hs.inputs[0]])
            return True
    return False


def fuse_hard_activations(net) -> bool:
    changed = False
    for rule, op in ((_clip_mul, "Mul"), (_add_into, "HardSigmoid"), (_swish, "Mul")):
        for node in [n for n in net.nodes if n.op == op and not n.domain]:
            if any(net.producer(o) is node for o in node.outputs):
                changed |= rule(net, node)
    return changed
