"""Fold BatchNormalization, and any per-channel Mul / Add / Sub / Div by a
constant, into the weights of the linear op before it:

  Conv, ConvTranspose (group 1)   channel axis 1; kernel rows and bias
  Gemm (alpha = beta = 1)         last axis; kernel columns and C
  MatMul by a 2-D constant        last axis; kernel columns, and the bias Add
                                  that follows it (made when a shift needs one)

BatchNormalization in inference is x * s + t with s = scale / sqrt(var + eps),
t = B - mean * s, so Conv -> BN becomes one Conv with kernel * s and bias
* s + t. The op's output must feed only the folded node. The arithmetic runs
of the scale and shift runs in float64; the kernel is multiplied in its
own dtype (one rounding per weight).

A BatchNormalization *before* a Conv folds too where that is exact: the Conv
has no padding (padding would add zeros the normalization never saw) and
group 1; then kernel[:, c] * s[c] and bias + sum(kernel * t).
"""
from __future__ import annotations

import numpy as np


def _bn_affine(net, node):
    """(s, t) of an inference-mode BatchNormalization with constant parameters."""
    if node.op != "BatchNormalization" or node.attr("training_mode", 0) or len(node.outputs) > 1:
        return None
    if not all(net.is_const(i) for i in node.inputs[1:5]):
        return None
    scale, bias, mean, var = (net.value(i).astype(np.float64) for i in node.inputs[1:5])
    s = scale / np.sqrt(var + node.attr("epsilon", 1e-5))
    return s, bias - mean * s


def _per_channel(c, rank, axis, n):
    """A constant that varies along `axis` of a rank-`rank` value only, as a length-n vector."""
    if c is None or c.ndim > rank or c.dtype.kind != "f":
        return None
    full = c.reshape((1,) * (rank - c.ndim) + c.shape)
    if any(d != 1 for i, d in enumerate(full.shape) if i != axis) or full.shape[axis] not in (1, n):
        return None
    return np.broadcast_to(full.reshape(-1).astype(np.float64), (n,))


def _elementwise_affine(net, node, y, rank, axis, n):
    """(s, t) of Mul / Add / Sub / Div of `y` by a per-channel constant."""
    if node.op not in ("Mul", "Add", "Sub", "Div") or len(node.inputs) != 2 or y not in node.inputs:
        return None
    other = node.inputs[1] if node.inputs[0] == y else node.inputs[0]
    c = _per_channel(net.value(other), rank, axis, n)
    if c is None or (node.op in ("Sub", "Div") and node.inputs[0] != y):
        return None
    if node.op == "Div" and not c.all():
        return None     # x / 0 is inf or nan as it comes; folded, the kernel's sums would differ
    one, zero = np.ones(n), np.zeros(n)
    if node.op == "Mul":
        return c, zero
    if node.op == "Div":
        return 1.0 / c, zero
    return one, (c if node.op == "Add" else -c)


def scale_const(net, node, i, factor, hint) -> None:
    """node's constant input i times factor (broadcast), in its dtype: in
    place when the array is node's alone and its own (no second copy of a big
    kernel), under the same name when node alone reads it, else a new one."""
    name = node.inputs[i]
    w = net.value(name)
    f = np.asarray(factor).astype(w.dtype)
    if len(net.consumers(name)) != 1:
        net.set_input(node, i, net.add_const(_times(w, f), hint))
    elif w.flags.writeable and w.flags.c_contiguous and w.base is None and \
            not any(v is w for k, v in net.consts.items() if k != name):
        np.multiply(w, f, out=w)
    else:
        net.consts[name] = _times(w, f)


def _times(w, f):
    """w * f laid out in C order (a transposed kernel view is transposed
    and scaled in the one pass)."""
    return np.multiply(w, f, out=np.empty(np.broadcast_shapes(w.shape, f.shape), w.dtype))


class _Linear:
    """A producer whose output channels can absorb a scale and a shift."""

    def __init__(self, net, node, weight, channels, rank, axis):
        self.net, self.node, self.weight = net, node, weight
        self.channels, self.rank, self.axis = channels, rank, axis

    def _scale(self, i, factor, hint):
        """Multiply input i (a constant) by factor, in place when nothing else reads it."""
        scale_const(self.net, self.node, i, factor, hint)

    def _set(self, i, array, like, hint):
        arr = array.astype(like.dtype, copy=False)
        if len(self.node.inputs) > i and self.node.inputs[i]:
            old = self.node.inputs[i]
            if len(self.net.consumers(old)) == 1:
                self.net.consts[old] = arr   # sole user: rewrite in place
                return
        name = self.net.add_const(arr, hint)
        while len(self.node.inputs) <= i:
            self.node.inputs.append("")
        self.net.set_input(self.node, i, name)

    def absorb(self, s, t) -> None:
        raise NotImplementedError


class _Conv(_Linear):
    def absorb(self, s, t):
        net, node = self.net, self.node
        w = net.value(node.inputs[1])
        if node.op == "Conv":
            shape = (-1,) + (1,) * (w.ndim - 1)
        else:  # ConvTranspose (group 1): W is (in, out, k...)
            shape = (1, -1) + (1,) * (w.ndim - 2)
        self._scale(1, s.reshape(shape), f"{node.outputs[0]}/kernel")
        b = net.value(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
        b64 = np.zeros(self.channels) if b is None else b.astype(np.float64)
        self._set(2, b64 * s + t, w, f"{node.outputs[0]}/bias")


class _Gemm(_Linear):
    def absorb(self, s, t):
        net, node = self.net, self.node
        w = net.value(node.inputs[1])
        cols = s.reshape(-1, 1) if node.attr("transB", 0) else s.reshape(1, -1)
        self._scale(1, cols, f"{node.outputs[0]}/kernel")
        c = net.value(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
        c64 = np.zeros(self.channels) if c is None else c.astype(np.float64)
        self._set(2, c64 * s + t, w, f"{node.outputs[0]}/bias")


class _MatMul(_Linear):
    """MatMul by a constant, with the bias Add after it when there is one
    (`node` is then the Add, `matmul` the MatMul)."""

    def __init__(self, net, node, matmul, channels, rank):
        super().__init__(net, node, None, channels, rank, rank - 1)
        self.matmul = matmul

    def absorb(self, s, t):
        net, mm = self.net, self.matmul
        w = net.value(mm.inputs[1])
        scale_const(net, mm, 1, s, f"{mm.outputs[0]}/kernel")
        if self.node is not mm:    # the product is scaled now: a name of its own
            old = mm.outputs[0]
            net.set_output(mm, 0, net.fresh(f"{old}/scaled"))
            net.replace_uses(old, mm.outputs[0])
            net.shapes[mm.outputs[0]] = net.shape(old)
        if self.node is mm:
            if not np.any(t):
                return
            # a shift needs a bias: the Add after the MatMul
            out = mm.outputs[0]
            net.set_output(mm, 0, net.fresh(f"{out}/matmul"))
            bias = net.add_const(t.astype(w.dtype), f"{out}/bias")
            self.node = net.make("Add", [mm.outputs[0], bias], hint=out, at=mm, after=True,
                                 outputs=[out])
            return
        c_name = self.node.inputs[1] if self.node.inputs[0] == mm.outputs[0] else self.node.inputs[0]
        b = np.broadcast_to(net.value(c_name).astype(np.float64).reshape(-1), (self.channels,))
        new_b = (b * s + t).astype(w.dtype)
        if len(net.consumers(c_name)) == 1:
            net.consts[c_name] = new_b
        else:
            net.set_input(self.node, self.node.inputs.index(c_name), net.add_const(new_b, f"{c_name}/folded"))


def _linear(net, name):
    """The foldable producer of `name` (read by one node only), or None."""
    node = net.producer(name)
    if node is None or net.only_consumer(name) is None or node.domain:
        return None
    if node.op in ("Conv", "ConvTranspose") and len(node.inputs) >= 2 and net.is_const(node.inputs[1]):
        w = net.value(node.inputs[1])
        if any(i and not net.is_const(i) for i in node.inputs[2:]) or w.dtype.kind != "f":
            return None
        if node.op == "ConvTranspose" and node.attr("group", 1) != 1:
            return None
        n = w.shape[0] if node.op == "Conv" else w.shape[1]
        return _Conv(net, node, w, n, w.ndim, 1)
    if node.op == "Gemm" and net.is_const(node.inputs[1]) and node.attr("alpha", 1.0) == 1.0 \
            and node.attr("beta", 1.0) == 1.0:
        w = net.value(node.inputs[1])
        if w.dtype.kind != "f" or (len(node.inputs) > 2 and node.inputs[2] and not net.is_const(node.inputs[2])):
            return None
        return _Gemm(net, node, w, w.shape[0] if node.attr("transB", 0) else w.shape[1], 2, 1)
    if node.op == "MatMul" and net.is_const(node.inputs[1]) and net.value(node.inputs[1]).ndim == 2:
        rank = net.rank(name)
        if rank is None or net.value(node.inputs[1]).dtype.kind != "f":
            return None
        return _MatMul(net, node, node, net.value(node.inputs[1]).shape[1], rank)
    if node.op == "Add" and len(node.inputs) == 2:
        for i, j in ((0, 1), (1, 0)):
            mm = net.producer(node.inputs[i])
            inner = _linear(net, node.inputs[i]) if mm is not None and mm.op == "MatMul" else None
            if inner is not None and _per_channel(net.value(node.inputs[j]), inner.rank, inner.axis,
                                                  inner.channels) is not None:
                return _MatMul(net, node, mm, inner.channels, inner.rank)
    return None


def _fold_after(net, node) -> bool:
    for y in node.inputs[:1] if node.op == "BatchNormalization" else node.inputs:
        lin = _linear(net, y) if y else None
        if lin is None:
            continue
        if node.op == "BatchNormalization":
            if lin.axis != 1 or net.value(node.inputs[1]).shape != (lin.channels,):
                continue
            affine = _bn_affine(net, node)
        else:
            affine = _elementwise_affine(net, node, y, lin.rank, lin.axis, lin.channels)
        if affine is None or (node.op in ("Add", "Sub") and lin.node is getattr(lin, "matmul", None)):
            continue   # (an Add after a bare MatMul is already its bias)
        lin.absorb(*affine)
        out = node.outputs[0]
        net.remove(node)
        # the folded op makes the normalized value: under that value's name (the
        # op's own name would now hold another value; see taps.py)
        net.set_output(lin.node, 0, out)
        return True
    return False


def _fold_before(net, bn) -> bool:
    """BatchNormalization -> Conv (no padding, group 1)."""
    conv = net.only_consumer(bn.outputs[0])
    if conv is None or conv.op != "Conv" or conv.inputs[0] != bn.outputs[0] or conv.attr("group", 1) != 1:
        return False
    if not net.is_const(conv.inputs[1]) or any(conv.attr("pads", [0])) or \
            conv.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        return False
    if len(conv.inputs) > 2 and conv.inputs[2] and not net.is_const(conv.inputs[2]):
        return False
    affine = _bn_affine(net, bn)
    if affine is None:
        return False
    s, t = affine
    w = net.value(conv.inputs[1])
    lin = _Conv(net, conv, w, w.shape[0], w.ndim, 1)
    w64 = w.astype(np.float64)
    shift = (w64 * t.reshape((1, -1) + (1,) * (w.ndim - 2))).sum(axis=tuple(range(1, w.ndim)))
    b = net.value(conv.inputs[2]) if len(conv.inputs) > 2 and conv.inputs[2] else None
    b64 = np.zeros(w.shape[0]) if b is None else b.astype(np.float64)
    lin._scale(1, s.reshape((1, -1) + (1,) * (w.ndim - 2)), f"{conv.outputs[0]}/kernel")
    lin._set(2, b64 + shift, w, f"{conv.outputs[0]}/bias")
    net.set_input(conv, 0, bn.inputs[0])
    net.remove(bn)
    return True


def fold_batch_norm(net) -> bool:
    changed = False
    for node in list(net.nodes):
        if node.domain or node.op not in ("BatchNormalization", "Mul", "Add", "Sub", "Div"):
            continue
        if _fold_after(net, node):
            changed = True
        elif node.op == "BatchNormalization" and _fold_before(net, node):
            changed = True
    if changed:
        net.drop_unused_consts()
    return changed
