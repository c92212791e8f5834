"""A zero Pad moves into the pads of the pooling or convolution it feeds.

  Pad -> Conv          Conv pads with zeros: always exact.
  Pad -> AveragePool   exact when the pool has no padding of its own and
                       counts padded cells (count_include_pad=1), which is
                       what averaging explicit zeros means.
  Pad -> MaxPool       MaxPool pads with -inf, so only where the input cannot
                       be negative (it comes out of Relu, Sigmoid, a Clip at
                       0 or above, ...) and every window still holds a real
                       value (padding below the kernel size). Elsewhere
                       maxpool_zero_pad.py keeps the zeros.
Pads on the batch or channel axis stay a Pad.
"""
import numpy as np

# Ops whose output is >= 0 for any input, and ops that keep an input's sign.
_NON_NEGATIVE = {"Relu", "Sigmoid", "Softmax", "Softplus", "Abs", "Exp", "HardSigmoid"}
_SIGN_KEEPING = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Transpose",
                 "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Concat", "Max",
                 "Slice", "Pad", "Mul", "Add", "ReduceMean", "ReduceMax", "Sqrt"}


def zero_pads(net, node):
    """The int64 pads of a constant-mode Pad that adds zeros, else None."""
    if node.op != "Pad" or node.attr("mode", "constant") != "constant":
        return None
    if len(node.inputs) < 2 or len(node.inputs) > 3 or not net.is_const(node.inputs[1]):
        return None
    if len(node.inputs) == 3 and node.inputs[2]:
        value = net.value(node.inputs[2])
        if value is None or np.any(value != 0):
            return None
    return net.value(node.inputs[1]).astype(np.int64)


def non_negative(net, name: str, depth: int = 8) -> bool:
    """Whether every element of `name` is >= 0 whatever the model's input."""
    if net.is_const(name):
        return bool(np.all(net.value(name) >= 0))
    node = net.producer(name)
    if node is None or depth == 0:
        return False
    if node.op in _NON_NEGATIVE:
        return True
    if node.op == "Clip":
        lo = node.inputs[1] if len(node.inputs) > 1 else ""
        return bool(lo) and net.is_const(lo) and float(net.value(lo)) >= 0
    if node.op == "Pad":
        return zero_pads(net, node) is not None and non_negative(net, node.inputs[0], depth - 1)
    if node.op == "Resize" and node.attr("mode", "nearest") != "cubic":  # cubic overshoots
        return non_negative(net, node.inputs[0], depth - 1)
    if node.op in _SIGN_KEEPING:
        data = node.inputs[:1] if node.op in ("Reshape", "Slice", "Squeeze", "Unsqueeze") else node.inputs
        return all(non_negative(net, i, depth - 1) for i in data if i)
    return False


def _spatial(pads):
    """(begins, ends) of the spatial axes, or None when batch/channel are padded."""
    rank = len(pads) // 2
    if np.any(pads < 0) or pads[0] or pads[1] or pads[rank] or pads[rank + 1]:
        return None
    return [int(p) for p in pads[2:rank]], [int(p) for p in pads[rank + 2:]]


def _explicit_pads(node, n):
    if node.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        return None
    return list(node.attr("pads", [0] * (2 * n)))


def _fold(net, pad, user, begins, ends) -> bool:
    n = len(begins)
    own = _explicit_pads(user, n)
    if own is None:
        return False
    new = [a + b for a, b in zip(own, begins + ends)]
    if user.op == "AveragePool" and (any(own) or not user.attr("count_include_pad", 0)):
        return False
    if user.op == "MaxPool":
        kernel = user.attr("kernel_shape")
        dil = user.attr("dilations", [1] * n)
        extent = [(k - 1) * d + 1 for k, d in zip(kernel, dil)]
        if user.attr("ceil_mode", 0) or any(p >= e for p, e in zip(new, extent + extent)) \
                or not non_negative(net, pad.inputs[0]):
            return False
    user.attrs["pads"] = new
    user.attrs.pop("auto_pad", None)
    net.set_input(user, 0, pad.inputs[0])
    net.remove(pad)
    return True


def fold_zero_pads(net) -> bool:
    changed = False
    for pad in list(net.nodes):
        pads = zero_pads(net, pad)
        user = net.only_consumer(pad.outputs[0]) if pads is not None else None
        if user is None or user.op not in ("Conv", "MaxPool", "AveragePool") or user.inputs[0] != pad.outputs[0]:
            continue
        spatial = _spatial(pads)
        if spatial is not None and len(spatial[0]) == len(pads) // 2 - 2:
            changed |= _fold(net, pad, user, *spatial)
    return changed
