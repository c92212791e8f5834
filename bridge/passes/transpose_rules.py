"""How a Transpose passes each op (see transpose.py). A rule gets a node
one of whose inputs is Transpose(x, perm); when it can, it rewrites the node
to compute on x (axes remapped, constants permuted) and puts
Transpose(perm) on the node's output instead, then returns True.

Notation: y = Transpose(x, perm) means y's axis i is x's axis perm[i].
"""
from __future__ import annotations

import numpy as np

from .net import inverse, transpose_of
from .transpose_einsum import absorb_inputs, matmul_as_einsum


def _permuted(shape, perm):
    return None if shape is None else tuple(shape[p] for p in perm)


def pull(net, node, i: int, perm) -> None:
    """Make node's input i the value v with input = Transpose(v, perm)."""
    name = node.inputs[i]
    t = net.producer(name)
    if transpose_of(net, name) == list(perm):
        net.set_input(node, i, t.inputs[0])
        if not net.consumers(name) and name not in net.pinned:
            net.remove(t)
    elif net.is_const(name):
        c = net.value(name)
        full = c.reshape((1,) * (len(perm) - c.ndim) + c.shape)
        net.set_input(node, i, net.add_const(np.transpose(full, inverse(perm)), f"{name}/t"))
    else:
        inv = inverse(perm)
        made = net.make("Transpose", [name], hint=f"{name}/Transpose", at=node, perm=inv)
        net.shapes[made.outputs[0]] = _permuted(net.shape(name), inv)
        net.set_input(node, i, made.outputs[0])


def push_out(net, node, perm, k: int = 0) -> None:
    """The node now makes its output untransposed: Transpose it back."""
    out = node.outputs[k]
    raw = net.fresh(f"{out}/raw")
    net.set_output(node, k, raw)
    net.shapes[raw] = _permuted(net.shape(out), inverse(perm))
    net.make("Transpose", [raw], hint=out, at=node, after=True, outputs=[out], perm=list(perm))


def _const_input(net, node, i):
    """Constant input i (None when absent); False when present but not constant."""
    if len(node.inputs) <= i or not node.inputs[i]:
        return None
    return net.value(node.inputs[i]) if net.is_const(node.inputs[i]) else False


def _set_const_input(net, node, i, array, hint):
    while len(node.inputs) <= i:
        node.inputs.append("")
    net.set_input(node, i, net.add_const(np.asarray(array, np.int64), hint))


def _kept_perm(perm, removed) -> list:
    """The output perm after the axes `removed` (of the transposed value) go."""
    rest = [perm[i] for i in range(len(perm)) if i not in removed]
    order = sorted(rest)
    return [order.index(a) for a in rest]


def _is_identity(perm) -> bool:
    return list(perm) == list(range(len(perm)))


# -- rules ----------------------------------------------------------------------

def unary(net, node, perm) -> bool:
    """The first input is the data; the others (Clip's bounds) are scalars."""
    if transpose_of(net, node.inputs[0]) != perm:
        return False
    for extra in node.inputs[1:]:
        if extra and net.rank(extra) not in (0, None) and not (net.is_const(extra) and net.value(extra).size == 1):
            return False
    pull(net, node, 0, perm)
    push_out(net, node, perm)
    return True


def elementwise(net, node, perm) -> bool:
    """Broadcasting ops: constants are permuted, a Transpose by the same perm
    is skipped, any other input gets the inverse Transpose, and that only when
    it removes more Transposes than it adds."""
    r, gain, cost = len(perm), 0, 0
    for i in node.inputs:
        p = transpose_of(net, i)
        if p == perm:
            gain += 1
        elif net.is_const(i):
            if net.value(i).ndim > r:
                return False
        elif net.rank(i) != r:
            return False
        elif p is None:
            cost += 1
    if not gain or cost >= gain:
        return False
    for i in range(len(node.inputs)):
        pull(net, node, i, perm)
    push_out(net, node, perm)
    return True


def concat(net, node, perm) -> bool:
    r = len(perm)
    if any(net.rank(i) != r for i in node.inputs):
        return False
    axis = node.attr("axis") % r
    if not elementwise(net, node, perm):
        return False
    node.attrs["axis"] = perm[axis]
    return True


def split(net, node, perm) -> bool:
    if transpose_of(net, node.inputs[0]) != perm:
        return False
    axis = node.attr("axis", 0) % len(perm)
    pull(net, node, 0, perm)
    node.attrs["axis"] = perm[axis]
    for k in range(len(node.outputs)):
        if node.outputs[k]:
            push_out(net, node, perm, k)
    return True


def single_axis(net, node, perm) -> bool:
    """Softmax, LogSoftmax, Hardmax (opset 13+: one axis), ArgMax, ArgMin."""
    if transpose_of(net, node.inputs[0]) != perm:
        return False
    r = len(perm)
    axis = node.attr("axis", 0 if node.op.startswith("Arg") else -1) % r
    keep = node.op.startswith("Arg") and not node.attr("keepdims", 1)
    pull(net, node, 0, perm)
    node.attrs["axis"] = perm[axis]
    out = _kept_perm(perm, {axis}) if keep else perm
    if not _is_identity(out):
        push_out(net, node, out)
    return True


def reduce(net, node, perm) -> bool:
    if transpose_of(net, node.inputs[0]) != perm:
        return False
    r = len(perm)
    in_input = len(node.inputs) > 1
    axes = _const_input(net, node, 1) if in_input else node.attr("axes")
    if axes is False:
        return False
    if axes is None or len(axes) == 0:
        if node.attr("noop_with_empty_axes", 0):
            return False
        axes = list(range(r))
    axes = {int(a) % r for a in axes}
    new = sorted(perm[a] for a in axes)
    pull(net, node, 0, perm)
    if in_input:
        _set_const_input(net, node, 1, new, f"{node.outputs[0]}/axes")
    else:
        node.attrs["axes"] = new
    out = perm if node.attr("keepdims", 1) else _kept_perm(perm, axes)
    if not _is_identity(out):
        push_out(net, node, out)
    return True


def pad(net, node, perm) -> bool:
    pads = _const_input(net, node, 1)
    if transpose_of(net, node.inputs[0]) != perm or pads is None or pads is False or len(node.inputs) > 3:
        return False
    r = len(perm)
    new = np.zeros(2 * r, np.int64)
    for i in range(r):
        new[perm[i]], new[r + perm[i]] = pads[i], pads[r + i]
    pull(net, node, 0, perm)
    _set_const_input(net, node, 1, new, f"{node.outputs[0]}/pads")
    push_out(net, node, perm)
    return True


def slice_(net, node, perm) -> bool:
    if transpose_of(net, node.inputs[0]) != perm:
        return False
    starts = _const_input(net, node, 1)
    axes = _const_input(net, node, 3)
    if starts is None or starts is False or axes is False:
        return False
    r = len(perm)
    axes = range(len(starts)) if axes is None else axes
    pull(net, node, 0, perm)
    _set_const_input(net, node, 3, [perm[int(a) % r] for a in axes], f"{node.outputs[0]}/axes")
    push_out(net, node, perm)
    return True


def squeeze(net, node, perm) -> bool:
    axes = _const_input(net, node, 1)
    if transpose_of(net, node.inputs[0]) != perm or axes is None or axes is False:
        return False
    r = len(perm)
    axes = {int(a) % r for a in axes}
    pull(net, node, 0, perm)
    _set_const_input(net, node, 1, sorted(perm[a] for a in axes), f"{node.outputs[0]}/axes")
    out = _kept_perm(perm, axes)
    if not _is_identity(out):
        push_out(net, node, out)
    return True


def unsqueeze(net, node, perm) -> bool:
    """New axes stay where they were; the old ones keep the perm among themselves."""
    axes = _const_input(net, node, 1)
    if transpose_of(net, node.inputs[0]) != perm or axes is None or axes is False:
        return False
    n = len(perm) + len(axes)
    new = {int(a) % n for a in axes}
    slots = [p for p in range(n) if p not in new]     # where the old axes land
    out = [p if p in new else slots[perm[slots.index(p)]] for p in range(n)]
    pull(net, node, 0, perm)
    if not _is_identity(out):
        push_out(net, node, out)
    return True


def resize(net, node, perm) -> bool:
    if transpose_of(net, node.inputs[0]) != perm or node.attr("axes") is not None:
        return False
    roi = _const_input(net, node, 1)
    if roi is False or (roi is not None and roi.size):
        return False
    changes = {}
    for i in (2, 3):
        v = _const_input(net, node, i)
        if v is False:
            return False
        if v is not None and v.size:
            changes[i] = np.asarray([v[inverse(perm)[j]] for j in range(len(perm))], v.dtype)
    scales = changes.get(2)
    if scales is not None and len(perm) > 4 and np.any(scales[:2] != 1):
        return False      # OpenVINO resizes a 5-D value on its last three axes only (bridge/targets.py)
    pull(net, node, 0, perm)
    for i, v in changes.items():
        net.set_input(node, i, net.add_const(v, f"{node.outputs[0]}/{'scales' if i == 2 else 'sizes'}"))
    push_out(net, node, perm)
    return True


def layer_norm(net, node, perm) -> bool:
    """When the normalized (trailing) axes do not move: pass. When they do
    and the result only goes back through the inverse Transpose (ConvNeXt's
    LayerNormalization over channels before a strided Conv), compute it on
    the untransposed value, written out over the remapped axes."""
    r = len(perm)
    axis = node.attr("axis", -1) % r
    if transpose_of(net, node.inputs[0]) != perm or len([o for o in node.outputs if o]) != 1:
        return False
    if all(perm[i] == i for i in range(axis, r)):
        pull(net, node, 0, perm)
        push_out(net, node, perm)
        return True
    users = net.consumers(node.outputs[0])
    if node.outputs[0] in net.pinned or not users or any(transpose_of(net, u.outputs[0]) is None or
                                                         u.attr("perm") != inverse(perm) for u in users):
        return False
    consts = [net.value(i) if i else None for i in node.inputs[1:3]]
    if any(c is False for c in consts) or (node.inputs[1] and not net.is_const(node.inputs[1])) or \
            (len(node.inputs) > 2 and node.inputs[2] and not net.is_const(node.inputs[2])):
        return False
    pull(net, node, 0, perm)
    b = net.builder()
    axes = sorted(perm[i] for i in range(axis, r))
    x = node.inputs[0]
    mean = b.reduce("ReduceMean", x, axes, keepdims=True)
    d = b.op("Sub", x, mean)
    var = b.reduce("ReduceMean", b.op("Mul", d, d), axes, keepdims=True)
    y = b.op("Div", d, b.op("Sqrt", b.op("Add", var, b.f32(node.attr("epsilon", 1e-5)))))
    for op, c in zip(("Mul", "Add"), consts):
        if c is not None:
            full = c.reshape((1,) * (r - c.ndim) + c.shape)
            y = b.op(op, y, net.add_const(np.transpose(full, inverse(perm)), f"{node.outputs[0]}/{op.lower()}"))
    net.splice(b, node)
    out = node.outputs[0]
    net.remove(node)
    # in the other layout: under a name of its own (`out` meant the transposed value)
    net.shapes[y] = _permuted(net.shape(out), inverse(perm)) if net.shape(out) else None
    for u in users:   # each was Transpose(inverse perm): now the identity
        net.set_input(u, 0, y)
        u.attrs["perm"] = list(range(r))
    return True


def matmul(net, node, perm) -> bool:
    """MatMul(Transpose(x), W) with W a 2-D constant: a MatMul on x when the
    contracted axis stays last, a 1x1 Conv on x when x is channels-first
    (the perm moves axis 1 to the end)."""
    w = net.value(node.inputs[1]) if net.is_const(node.inputs[1]) else None
    if w is None and not net.is_const(node.inputs[0]):
        return matmul_as_einsum(net, node)
    if transpose_of(net, node.inputs[0]) != perm or w is None or w.ndim != 2:
        return False
    r = len(perm)
    if perm[-1] == r - 1:
        pull(net, node, 0, perm)
        push_out(net, node, perm)
        return True
    if r < 3 or list(perm) != [0] + list(range(2, r)) + [1] or w.dtype.kind != "f":
        return False
    kernel = w.T.reshape(w.shape[1], w.shape[0], *([1] * (r - 2)))   # (a view; see writer)
    pull(net, node, 0, perm)
    node.op = "Conv"
    net.set_input(node, 1, net.add_const(kernel, f"{node.outputs[0]}/kernel"))
    node.attrs = {"kernel_shape": [1] * (r - 2)}
    push_out(net, node, perm)
    return True


def _groups(a, b):
    """Split shapes a and b into runs of equal product: [(a_axes, b_axes)]
    (ignoring size-1 axes), or None. An unknown dim (None) must stand alone
    on both sides."""
    ia = [i for i, d in enumerate(a) if d != 1]
    ib = [i for i, d in enumerate(b) if d != 1]
    out, i, j = [], 0, 0
    while i < len(ia) and j < len(ib):
        if a[ia[i]] is None or b[ib[j]] is None:
            if a[ia[i]] is not None or b[ib[j]] is not None:
                return None
            out.append(([ia[i]], [ib[j]]))
            i, j = i + 1, j + 1
            continue
        ga, gb, pa, pb = [ia[i]], [ib[j]], a[ia[i]], b[ib[j]]
        i, j = i + 1, j + 1
        while pa != pb:
            if pa < pb and i < len(ia) and a[ia[i]] is not None:
                ga.append(ia[i])
                pa *= a[ia[i]]
                i += 1
            elif pb < pa and j < len(ib) and b[ib[j]] is not None:
                gb.append(ib[j])
                pb *= b[ib[j]]
                j += 1
            else:
                return None
        out.append((ga, gb))
    return out if i == len(ia) and j == len(ib) else None


def reshape(net, node, perm) -> bool:
    """Reshape(Transpose(x, perm)) that only merges or splits runs of axes
    that are also adjacent, in order, in x: reshape x instead, Transpose the
    result (often by the identity). Otherwise, for a flatten read only by
    MatMul/Gemm with a constant kernel, permute the kernel's rows."""
    if transpose_of(net, node.inputs[0]) != perm or node.op == "Reshape" and not net.is_const(node.inputs[1]):
        return False
    x = net.producer(node.inputs[0]).inputs[0]
    sx, so = net.shape(x), net.shape(node.outputs[0])
    if sx is None or so is None or sum(d is None for d in so) > 1:
        return False
    sy = _permuted(sx, perm)
    groups = _groups(sy, so)
    if groups is None:
        return False
    if all(_in_order([perm[a] for a in ga]) for ga, _ in groups):
        return _reshape_by_groups(net, node, perm, x, sx, so, groups)
    return _flatten_into_kernel(net, node, perm, x, sx, so)


def _in_order(axes) -> bool:
    return all(b == a + 1 for a, b in zip(axes, axes[1:]))


def _reshape_by_groups(net, node, perm, x, sx, so, groups) -> bool:
    # the output's groups in the order their axes come in x, then the size-1 axes
    order = sorted(groups, key=lambda g: perm[g[0][0]])
    placed = [b for _, gb in order for b in gb]
    ones = [i for i in range(len(so)) if i not in placed]
    source = placed + ones                 # output axis at each position of the new value
    new_shape = [so[i] if so[i] is not None else -1 for i in source]
    out = [source.index(i) for i in range(len(so))]
    _detach(net, node, x)
    _set_const_input(net, node, 1, new_shape, f"{node.outputs[0]}/shape")
    if not _is_identity(out):
        push_out(net, node, out)
    else:
        net.shapes[node.outputs[0]] = so
    return True


def _detach(net, node, x) -> None:
    """node (a Reshape or Flatten of a Transpose) reads x, as a Reshape."""
    t = net.producer(node.inputs[0])
    net.set_input(node, 0, x)
    if not net.consumers(t.outputs[0]) and t.outputs[0] not in net.pinned:
        net.remove(t)
    if node.op == "Flatten":
        node.op, node.attrs = "Reshape", {}
        node.inputs.append("")


def _flatten_into_kernel(net, node, perm, x, sx, so) -> bool:
    if len(so) != 2 or perm[0] != 0 or None in sx[1:]:
        return False
    users = net.consumers(node.outputs[0])
    if not users or node.outputs[0] in net.pinned:
        return False
    for u in users:
        w = net.value(u.inputs[1]) if u.op in ("MatMul", "Gemm") and net.is_const(u.inputs[1]) else None
        if w is None or w.ndim != 2 or u.inputs[0] != node.outputs[0] or u.attr("transA", 0) \
                or u.attr("transB", 0) or w.shape[0] != so[1]:
            return False
    sy = _permuted(sx, perm)
    inner = [p - 1 for p in perm[1:]]              # the transposed non-batch axes, in x
    for u in users:
        w = net.value(u.inputs[1])
        rows = w.reshape(tuple(sy[1:]) + (w.shape[1],))
        rows = np.transpose(rows, inverse(inner) + [len(inner)]).reshape(w.shape)
        net.set_input(u, 1, net.add_const(rows, f"{u.outputs[0]}/kernel"))
    _detach(net, node, x)
    _set_const_input(net, node, 1, [-1 if so[0] is None else so[0], so[1]], f"{node.outputs[0]}/shape")
    old = node.outputs[0]      # (its name meant the rows in the other order)
    net.set_output(node, 0, net.fresh(f"{old}/rows"))
    net.replace_uses(old, node.outputs[0])
    net.shapes[node.outputs[0]] = so
    return True


UNARY = {"Relu", "Sigmoid", "Tanh", "Erf", "Sqrt", "Exp", "Log", "Abs", "Neg", "Reciprocal",
         "Softplus", "Softsign", "Elu", "Selu", "LeakyRelu", "HardSigmoid", "HardSwish", "Gelu",
         "Mish", "Cast", "Clip", "Identity", "Sin", "Cos", "Floor", "Ceil", "Round", "Sign", "Not",
         "IsNaN", "IsInf", "ThresholdedRelu", "Celu", "Dropout", "Atan", "Acos", "Asin", "Sinh",
         "Cosh", "Asinh", "Acosh", "Atanh", "Tan"}
ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less",
               "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "PRelu", "Mod"}
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}

RULES = {
    **{op: unary for op in UNARY},
    **{op: elementwise for op in ELEMENTWISE},
    **{op: reduce for op in REDUCE},
    **{op: single_axis for op in ("Softmax", "LogSoftmax", "Hardmax", "ArgMax", "ArgMin")},
    "Concat": concat,
    "Split": split,
    "Pad": pad,
    "Slice": slice_,
    "Squeeze": squeeze,
    "Unsqueeze": unsqueeze,
    "Resize": resize,
    "LayerNormalization": layer_norm,
    "MatMul": matmul,
    "Einsum": absorb_inputs,
    "Reshape": reshape,
    "Flatten": reshape,
}

# ops a Transpose may move up through toward a graph input (transpose._hoist)
HOISTABLE = UNARY | ELEMENTWISE | {"Pad"}
