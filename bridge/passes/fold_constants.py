"""Compute at conversion what only depends on constants: a Transpose,
Reshape, Cast, Concat or arithmetic of initializers, and the Shape of a value
whose shape is static. Each op is a small numpy rule below; an op not in the
table is left alone, and so is a result that takes much more room than its
inputs: an Expand of a scalar stays an Expand, and a quantized weight stays
int8 / int4 with its dequantizing Cast and Mul (the file stays small)."""
import numpy as np
from onnx import helper

_LIMIT = 128    # bytes a folded result may take beyond its inputs'


def _axes(node, arrays, i=1):
    if len(arrays) > i and arrays[i] is not None:
        return [int(a) for a in arrays[i]]
    return node.attr("axes")


def _reshape(node, a):
    shape = [int(d) for d in a[1]]
    if not node.attr("allowzero", 0):
        shape = [a[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return a[0].reshape(shape)


def _unsqueeze(node, a):
    x = a[0]
    axes = sorted(d % (x.ndim + len(_axes(node, a))) for d in _axes(node, a))
    for d in axes:
        x = np.expand_dims(x, d)
    return x


def _squeeze(node, a):
    axes = _axes(node, a)
    return np.squeeze(a[0], axis=None if axes is None else tuple(axes))


def _slice(node, a):
    x = a[0]
    starts, ends = a[1].tolist(), a[2].tolist()
    axes = a[3].tolist() if len(a) > 3 and a[3] is not None else list(range(len(starts)))
    steps = a[4].tolist() if len(a) > 4 and a[4] is not None else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for ax, s, e, st in zip(axes, starts, ends, steps):
        index[ax] = slice(s, e, st)
    return x[tuple(index)]


def _cast(node, a):
    return a[0].astype(helper.tensor_dtype_to_np_dtype(node.attr("to")))


def _binary(fn):
    def run(node, a):
        out = fn(a[0], a[1])
        return out.astype(np.result_type(a[0], a[1])) if out.dtype != a[0].dtype else out
    return run


def _div(x, y):
    return np.floor_divide(x, y) if x.dtype.kind in "iu" else np.divide(x, y)


def _constant(node, a):
    from onnx import numpy_helper
    (key, v), = node.attrs.items()
    if key == "value":
        return numpy_helper.to_array(v)
    kind = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64,
            "value_ints": np.int64}.get(key)
    if kind is None:
        raise _Unsupported
    return np.asarray(v, kind)


class _Unsupported(Exception):
    """A node the table cannot evaluate after all (a sparse or string Constant)."""


RULES = {
    "Constant": _constant,
    "Identity": lambda node, a: a[0],
    "Transpose": lambda node, a: np.ascontiguousarray(np.transpose(a[0], node.attr("perm"))),
    "Reshape": _reshape,
    "Flatten": lambda node, a: a[0].reshape(int(np.prod(a[0].shape[:node.attr("axis", 1)])), -1),
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Slice": _slice,
    "Cast": _cast,
    "Concat": lambda node, a: np.concatenate(a, axis=node.attr("axis")),
    "Gather": lambda node, a: np.take(a[0], a[1], axis=node.attr("axis", 0)),
    "Shape": lambda node, a: np.asarray(a[0].shape, np.int64)[node.attr("start", 0):node.attr("end")],
    "Add": _binary(np.add), "Sub": _binary(np.subtract), "Mul": _binary(np.multiply),
    "Div": _binary(_div),
    "Neg": lambda node, a: np.negative(a[0]),
    "Sqrt": lambda node, a: np.sqrt(a[0]),
    "Reciprocal": lambda node, a: np.reciprocal(a[0]),
}


def _static_shape(net, node):
    """Shape (or Shape with start/end) of a value whose dims there are static."""
    if node.op != "Shape" or net.shape(node.inputs[0]) is None:
        return None
    shape = net.shape(node.inputs[0])
    dims = list(shape)[node.attr("start", 0):node.attr("end")]
    return None if None in dims else np.asarray(dims, np.int64)


def fold_constants(net) -> bool:
    changed = False
    for node in list(net.nodes):
        if node.domain or len(node.outputs) != 1 or node.outputs[0] in net.pinned:
            continue
        value = _static_shape(net, node)
        if value is None:
            rule = RULES.get(node.op)
            if rule is None or not all(net.is_const(i) for i in node.inputs if i):
                continue
            arrays = [net.value(i) if i else None for i in node.inputs]
            try:
                with np.errstate(all="ignore"):
                    value = np.asarray(rule(node, arrays))
            except _Unsupported:
                continue
            if value.nbytes > _LIMIT + sum(a.nbytes for a in arrays if a is not None):
                continue
            if node.op == "Gather" and value.size > arrays[0].size:
                continue   # repeats rows (a quantized layer's scale per group, per row): an expansion
        name = net.add_const(value, node.outputs[0] + "/folded")
        net.remove(node)
        net.replace_uses(node.outputs[0], name)
        changed = True
    if changed:
        net.drop_unused_consts()
    return changed
