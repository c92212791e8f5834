"""A convolution over non-overlapping patches (kernel = strides, no
padding: a ViT's patch embedding) of a channels-last input, whose result
goes back to channels-last anyway, is a MatMul on the patches:

    x (N, H, W, C) -> Reshape (N, h, P, w, Q, C) -> Transpose (N, h, w, P, Q, C)
      -> Reshape (N, h, w, P*Q*C) -> MatMul (P*Q*C, D) [-> Add bias]

That is one Transpose where the convolution needed two (into channels-first
and back). transpose.py tries it and keeps it only when the graph ends with
fewer Transposes.
"""
from __future__ import annotations

import numpy as np

from .net import transpose_of

NCHW = [0, 3, 1, 2]


def candidates(net) -> list:
    out = []
    for c in net.nodes:
        if c.op != "Conv" or c.domain or transpose_of(net, c.inputs[0]) != NCHW or not net.is_const(c.inputs[1]):
            continue
        x = net.producer(c.inputs[0]).inputs[0]
        shape, w = net.shape(x), net.value(c.inputs[1])
        k = list(c.attr("kernel_shape", w.shape[2:]))
        if shape is None or None in shape[1:] or w.ndim != 4 or list(c.attr("strides", [1, 1])) != k \
                or k[0] * k[1] == 1:    # (a 1x1 Conv on channels-last data is a MatMul already)
            continue
        if any(c.attr("pads", [0])) or c.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID") or \
                c.attr("group", 1) != 1 or any(d != 1 for d in c.attr("dilations", [1, 1])):
            continue
        if shape[1] % k[0] or shape[2] % k[1] or (len(c.inputs) > 2 and c.inputs[2] and not net.is_const(c.inputs[2])):
            continue
        out.append(c)
    return out


def patchify(net, c) -> None:
    t = net.producer(c.inputs[0])
    x = t.inputs[0]
    _, H, W, C = net.shape(x)
    w = net.value(c.inputs[1])
    D, _, P, Q = w.shape
    h, wd = H // P, W // Q
    base = c.outputs[0]

    def i64(v):
        return net.add_const(np.asarray(v, np.int64), f"{base}/shape")

    def add(op, inputs, shape, **attrs):
        node = net.make(op, inputs, hint=f"{base}/{op}", at=c, **attrs)
        net.shapes[node.outputs[0]] = shape
        return node.outputs[0]

    y = add("Reshape", [x, i64([-1, h, P, wd, Q, C])], (None, h, P, wd, Q, C))
    y = add("Transpose", [y], (None, h, wd, P, Q, C), perm=[0, 1, 3, 2, 4, 5])
    y = add("Reshape", [y, i64([-1, h, wd, P * Q * C])], (None, h, wd, P * Q * C))
    kernel = np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0)).reshape(P * Q * C, D))
    y = add("MatMul", [y, net.add_const(kernel, f"{base}/kernel")], (None, h, wd, D))
    if len(c.inputs) > 2 and c.inputs[2]:
        y = add("Add", [y, c.inputs[2]], (None, h, wd, D))
    net.make("Transpose", [y], hint=base, at=c, outputs=[base], perm=NCHW)
    net.remove(c)     # (the new Transpose makes its output now)
    if not net.consumers(t.outputs[0]) and t.outputs[0] not in net.pinned:
        net.remove(t)
