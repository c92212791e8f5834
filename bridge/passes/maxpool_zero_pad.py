"""Keep Keras's ZeroPadding -> MaxPooling exact under ONNX Runtime.

ONNX Runtime (1.31 at least) folds a zero-valued Pad into the `pads` of a
MaxPool that follows it. MaxPool pads with -inf, so a window whose real values
are all negative then gives their maximum instead of Keras's 0, and when the
folded padding reaches the kernel size the model no longer loads at all.
This pass rewrites each zero Pad that feeds only a MaxPool as a depthwise
1x1 Conv by 1.0 with the same zero padding: exactly the padded tensor (x * 1
is x, inf and nan included), one node as before, and no runtime folds a
Conv into a pooling. Where the channel count or dtype is not known, or the
batch or channel axis is padded, zero blocks are concatenated along each
padded axis instead. (Where the input cannot be negative, pad_fold.py has
already moved the padding into the MaxPool.)
"""
import numpy as np

from .pad_fold import zero_pads


def guard_zero_pad_maxpool(net) -> bool:
    found = []
    for pad in net.nodes:
        pads = zero_pads(net, pad)
        user = net.only_consumer(pad.outputs[0]) if pads is not None else None
        if user is not None and user.op == "MaxPool" and np.all(pads >= 0):
            found.append((pad, pads))
    for pad, pads in found:
        if not _as_conv(net, pad, pads):
            _as_concat(net, pad, pads)
    return bool(found)


def _as_conv(net, pad, pads) -> bool:
    rank = len(pads) // 2
    x = pad.inputs[0]
    shape, dtype = net.shape(x), net.dtypes.get(x)
    if rank < 3 or shape is None or shape[1] is None or dtype is None or dtype.kind != "f" or \
            pads[0] or pads[1] or pads[rank] or pads[rank + 1]:
        return False
    c = shape[1]
    ones = net.add_const(np.ones((c, 1) + (1,) * (rank - 2), dtype), f"{pad.outputs[0]}/ones")
    out = pad.outputs[0]
    net.make("Conv", [x, ones], hint=out, at=pad, outputs=[out], group=c, kernel_shape=[1] * (rank - 2),
             pads=[int(p) for p in pads[2:rank]] + [int(p) for p in pads[rank + 2:]])
    net.remove(pad)
    return True


def _as_concat(net, pad, pads) -> None:
    rank = len(pads) // 2
    zero = net.add_const(np.zeros((), np.float32), "zero_pad/zero")

    def i64(values):
        return net.add_const(np.asarray(values, np.int64), "zero_pad/i")

    def op(op_type, inputs, hint, **attrs):
        return net.make(op_type, inputs, hint=f"{base}/{hint}", at=pad, **attrs).outputs[0]

    x, base, last = pad.inputs[0], pad.name or pad.outputs[0], None
    for axis in range(rank):
        before, after = int(pads[axis]), int(pads[rank + axis])
        if not before and not after:
            continue
        shape = op("Shape", [x], f"shape{axis}")
        head = op("Slice", [shape, i64([0]), i64([axis])], f"head{axis}")
        tail = op("Slice", [shape, i64([axis + 1]), i64([rank])], f"tail{axis}")
        parts = []
        for width in (before, after):
            if not width:
                parts.append(None)
                continue
            block_shape = op("Concat", [head, i64([width]), tail], f"block_shape{axis}", axis=0)
            parts.append(op("Expand", [zero, block_shape], f"zeros{axis}"))
        x = op("Concat", [p for p in (parts[0], x, parts[1]) if p], f"concat{axis}", axis=axis)
        last = net.producer(x)
    # the last Concat takes over the Pad's output name
    out = pad.outputs[0]
    net.remove(pad)
    net.set_output(last, 0, out)
