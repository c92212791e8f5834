"""Shape-only ops meet: a chain of Reshape / Flatten / Squeeze / Unsqueeze is
one Reshape to the last one's shape, and a reduction with keepdims=0 whose
result is only reshaped back to the kept shape keeps its dims instead
(global pooling then reads as GlobalAveragePool; see global_pool.py)."""
import numpy as np

_SHAPE_ONLY = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")
_REDUCE = ("ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2",
           "ReduceL1", "ReduceSumSquare", "ReduceLogSumExp")


def _target(shape):
    """A Reshape target for a shape with at most one unknown dim."""
    if shape is None or sum(d is None for d in shape) > 1:
        return None
    return np.asarray([-1 if d is None else d for d in shape], np.int64)


def _shape_only(net, node) -> bool:
    if node.op not in _SHAPE_ONLY or node.domain:
        return False
    return all(net.is_const(i) for i in node.inputs[1:] if i)


def _merge_chain(net, node) -> bool:
    prev = net.producer(node.inputs[0])
    if prev is None or not _shape_only(net, prev) or net.only_consumer(prev.outputs[0]) is not node:
        return False
    target = _target(net.shape(node.outputs[0]))
    if target is None:
        return False
    net.set_input(node, 0, prev.inputs[0])
    net.remove(prev)
    _become_reshape(net, node, target)
    return True


def _become_reshape(net, node, target) -> None:
    node.op, node.attrs = "Reshape", {}
    while len(node.inputs) < 2:
        node.inputs.append("")
    del node.inputs[2:]
    net.set_input(node, 1, net.add_const(target, f"{node.outputs[0]}/shape"))


def _keep_reduced_dims(net, node) -> bool:
    """ReduceX(keepdims=0) -> reshape to the keepdims=1 shape."""
    red = net.producer(node.inputs[0])
    if red is None or red.op not in _REDUCE or red.attr("keepdims", 1) or \
            net.only_consumer(red.outputs[0]) is not node:
        return False
    shape, out = net.shape(red.inputs[0]), net.shape(node.outputs[0])
    axes = red.attr("axes")
    if axes is None and len(red.inputs) > 1 and red.inputs[1]:
        axes = net.value(red.inputs[1])
    if shape is None or out is None or axes is None or len(axes) == 0:
        return False
    axes = {int(a) % len(shape) for a in axes}
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    if kept != tuple(out) or None in kept[1:]:
        return False
    red.attrs["keepdims"] = 1
    old = red.outputs[0]                 # (its name meant the dropped-dims value)
    net.set_output(red, 0, net.fresh(f"{old}/keepdims"))
    net.replace_uses(old, red.outputs[0])
    net.shapes[red.outputs[0]] = kept
    return net.bypass(node)


def merge_reshapes(net) -> bool:
    changed = False
    for node in list(net.nodes):
        if net.producer(node.outputs[0] if node.outputs else "") is not node:
            continue   # removed earlier in this sweep
        if _shape_only(net, node):
            if _merge_chain(net, node):
                changed = True
            changed |= _keep_reduced_dims(net, node)
    return changed
