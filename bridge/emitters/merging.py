"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate and Dot.

Layout: inputs that share a layout are merged in it (a merge of two
channels-first conv outputs stays channels-first, no Transpose); inputs in
different layouts are brought to the layout most of them already have.

Elementwise merges follow tf-keras's _Merge: an input of lower rank gets
size-1 axes inserted right after the batch axis (tf.expand_dims(x, 1)) until
it has the highest rank, then the usual size-1 broadcasting applies. The
inserted axes are placed directly in the target layout (an Unsqueeze), so a
(batch, C) gate multiplying a channels-first (N, C, H, W) tensor becomes a
(N, C, 1, 1) Unsqueeze, not an Unsqueeze plus a Transpose.

Masks (Embedding(mask_zero) / Masking upstream) are merged as Keras merges
them: the elementwise merges AND the masks of the inputs that have one;
Concatenate concatenates them (all-true for unmasked inputs) along its axis,
or ANDs them when it joins the last axis; Dot drops the mask.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from onnx import TensorProto, helper

from ..context import Tensor, is_identity
from ..errors import ConfigError, layer_where, malformed
from ..registry import register


def _where(ctx, layer) -> str:
    """'file: layer 'name' (Class)' for messages."""
    return f"{ctx.model.source}: {layer_where(layer)}" if ctx.model.source else layer_where(layer)


# -- layout helpers ---------------------------------------------------------
def _layout(t: Tensor):
    return None if is_identity(t.perm) else tuple(t.perm)


def _to(ctx, t: Tensor, perm) -> Tensor:
    """ctx.to_perm, treating an identity perm as Keras's own layout."""
    perm = None if is_identity(perm) else tuple(perm)
    if _layout(t) == perm:
        return replace(t, perm=perm)
    return ctx.to_perm(t, perm)


def _common_perm(tensors) -> tuple | None:
    """The layout most of the highest-rank inputs have. On a tie a transposed
    (channels-first) layout wins over Keras's own, since the values around a
    merge of conv outputs mostly feed further spatial layers; then the first
    input's."""
    rank = max(t.rank for t in tensors)
    perms = [_layout(t) for t in tensors if t.rank == rank]
    counts = Counter(perms)
    best = max(counts.values())
    tied = [p for p in perms if counts[p] == best]
    return next((p for p in tied if p is not None), tied[0])


def _aligned(ctx, t: Tensor, rank: int, perm) -> str:
    """t's ONNX value as a rank-`rank` value in layout `perm`: Keras's
    expand_dims(x, 1) for each missing axis, placed where `perm` puts it."""
    if t.rank == rank:
        return _to(ctx, t, perm).name
    k = rank - t.rank
    target = perm or tuple(range(rank))
    order, inserted = [], []
    for pos, a in enumerate(target):
        if 1 <= a <= k:
            inserted.append(pos)
        else:
            order.append(0 if a == 0 else a - k)
    src = _to(ctx, t, tuple(order))
    return ctx.g.unsqueeze(src.name, inserted)


def _broadcast_shape(ctx, layer, shapes) -> tuple:
    """_Merge._compute_elemwise_op_output_shape over the non-batch axes."""
    out = tuple(shapes[0][1:])
    for s in shapes[1:]:
        a, b = out, tuple(s[1:])
        if len(a) < len(b):
            a, b = b, a
        if not b:
            out = a
            continue
        res = list(a[:len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if i is None or j is None:
                res.append(None)
            elif i == 1:
                res.append(j)
            elif j == 1 or i == j:
                res.append(i)
            else:
                raise ConfigError(f"{_where(ctx, layer)}: inputs of shapes "
                                  f"{[tuple(x) for x in shapes]} cannot be merged elementwise; "
                                  f"the config does not match the model")
        out = tuple(res)
    return (None,) + out


def _and_masks(ctx, masks):
    masks = list(dict.fromkeys(m for m in masks if m is not None))
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = ctx.g.op("And", out, m)
    return out


# -- elementwise merges -----------------------------------------------------
def _elementwise(layer, inputs, ctx, combine):
    if not inputs:
        raise ConfigError(f"{_where(ctx, layer)}: a merge layer needs at least one input; the "
                          f"config is malformed")
    rank = max(t.rank for t in inputs)
    perm = _common_perm(inputs)
    names = [_aligned(ctx, t, rank, perm) for t in inputs]
    shape = _broadcast_shape(ctx, layer, [t.shape for t in inputs])
    y = combine(ctx.g, names) if len(names) > 1 else names[0]
    return [Tensor(name=y, shape=shape, perm=perm, dtype=inputs[0].dtype,
                   mask=_and_masks(ctx, [t.mask for t in inputs]))]


def _fold(op_type):
    def combine(g, names):
        y = names[0]
        for n in names[1:]:
            y = g.op(op_type, y, n)
        return y
    return combine


def _variadic(op_type, binary):
    """One ONNX variadic node (Sum, Max, Min) for 3+ inputs, the binary op for 2."""
    def combine(g, names):
        return g.op(binary if len(names) == 2 else op_type, *names)
    return combine


def _check_two_inputs(layer, opset) -> list:
    bad = [i for i, call in enumerate(layer.calls) if len(call.inputs) != 2]
    if bad:
        return [malformed(f"call {bad[0]} has {len(layer.calls[bad[0]].inputs)} inputs; this layer "
                          f"takes exactly 2 (the config is malformed)")]
    return []


def _check_dot(layer, opset) -> list:
    axes = layer.config.get("axes")
    pair = isinstance(axes, (list, tuple)) and len(axes) == 2 and all(
        isinstance(a, int) and not isinstance(a, bool) for a in axes)
    if not (isinstance(axes, int) and not isinstance(axes, bool)) and not pair:
        return [malformed(f"axes={axes!r} is neither an int nor a pair of ints; the config is "
                          f"malformed")] + _check_two_inputs(layer, opset)
    return _check_two_inputs(layer, opset)


@register("Add", layout="any", weights=())
def add(layer, inputs, ctx):
    """Add(): the sum of the inputs. No config key."""
    return _elementwise(layer, inputs, ctx, _variadic("Sum", "Add"))


@register("Subtract", check=_check_two_inputs, layout="any", weights=())
def subtract(layer, inputs, ctx):
    """Subtract(): inputs[0] - inputs[1]. No config key."""
    return _elementwise(layer, inputs, ctx, lambda g, n: g.op("Sub", n[0], n[1]))


@register("Multiply", layout="any", weights=())
def multiply(layer, inputs, ctx):
    """Multiply(): the product of the inputs, in Keras's order. No config key."""
    return _elementwise(layer, inputs, ctx, _fold("Mul"))


@register("Average", layout="any", weights=())
def average(layer, inputs, ctx):
    """Average(): the mean of the inputs. No config key."""
    return _elementwise(layer, inputs, ctx, lambda g, n: g.op("Mean", *n))


@register("Maximum", layout="any", weights=())
def maximum(layer, inputs, ctx):
    """Maximum(): the elementwise maximum. No config key."""
    return _elementwise(layer, inputs, ctx, _variadic("Max", "Max"))


@register("Minimum", layout="any", weights=())
def minimum(layer, inputs, ctx):
    """Minimum(): the elementwise minimum. No config key."""
    return _elementwise(layer, inputs, ctx, _variadic("Min", "Min"))


# -- Concatenate ------------------------------------------------------------
@register("Concatenate", layout="any", weights=())
def concatenate(layer, inputs, ctx):
    """Concatenate(axis): joins the inputs along `axis` (negative allowed),
    in the layout they share."""
    axis = int(layer.config.get("axis", -1))
    rank = inputs[0].rank
    if any(t.rank != rank for t in inputs) or not -rank <= axis < rank:
        raise ConfigError(f"{_where(ctx, layer)}: cannot concatenate shapes "
                          f"{[t.shape for t in inputs]} along axis {axis}; the config does not "
                          f"match the model")
    axis %= rank
    if axis == 0:
        raise ConfigError(f"{_where(ctx, layer)}: concatenating along the batch axis (axis=0) "
                          f"changes the batch size, which this converter does not support; "
                          f"concatenate along another axis")
    perm = _common_perm(inputs)
    ts = [_to(ctx, t, perm) for t in inputs]
    shape = list(inputs[0].shape)
    sizes = [t.shape[axis] for t in inputs]
    shape[axis] = None if None in sizes else sum(sizes)
    onnx_axis = ts[0].onnx_axis(axis)
    y = ctx.g.op("Concat", *[t.name for t in ts], axis=onnx_axis) if len(ts) > 1 else ts[0].name
    mask = _concat_mask(layer, ts, axis, ctx)
    return [Tensor(name=y, shape=tuple(shape), perm=perm, dtype=inputs[0].dtype, mask=mask)]


def _concat_mask(layer, ts, axis, ctx):
    """Concatenate.compute_mask for (batch, ...) masks one rank below the inputs."""
    if all(t.mask is None for t in ts):
        return None
    rank = ts[0].rank
    if axis == rank - 1:
        # concat of (..., 1) masks and all-true masks along -1, then all(-1).
        return _and_masks(ctx, [t.mask for t in ts])
    g = ctx.g
    parts = []
    for t in ts:
        if t.mask is not None:
            parts.append(t.mask)
            continue
        if t.shape[-1] != 1:
            raise ConfigError(f"{_where(ctx, layer)}: Keras cannot combine the mask of one input "
                              f"with an unmasked input of shape {t.shape} along axis {axis}; the "
                              f"model does not run in Keras either")
        # ones_like(input) with its size-1 last axis dropped, in Keras order
        dims = g.op("Gather", g.op("Shape", t.name), g.i64([t.onnx_axis(a) for a in range(rank - 1)]))
        parts.append(g.op("ConstantOfShape", dims,
                          value=helper.make_tensor("one", TensorProto.BOOL, [1], [True])))
    return g.op("Concat", *parts, axis=axis)


# -- Dot --------------------------------------------------------------------
def _dot_axes(ctx, layer, r1: int, r2: int) -> tuple:
    axes = layer.config.get("axes")
    if isinstance(axes, int) and not isinstance(axes, bool):
        a = (axes % r1, axes % r2) if axes < 0 else (axes, axes)
    elif isinstance(axes, (list, tuple)) and len(axes) == 2 and all(isinstance(a, int) for a in axes):
        a = (axes[0] % r1 if axes[0] < 0 else axes[0], axes[1] % r2 if axes[1] < 0 else axes[1])
    else:
        raise ConfigError(f"{_where(ctx, layer)}: axes={axes!r} is neither an int nor a pair of "
                          f"ints; the config is malformed")
    if not (0 <= a[0] < r1 and 0 <= a[1] < r2):
        raise ConfigError(f"{_where(ctx, layer)}: axes={axes!r} is out of range for inputs of rank "
                          f"{r1} and {r2}; the config does not match the model")
    if 0 in a:
        raise ConfigError(f"{_where(ctx, layer)}: axes={axes!r} includes the batch axis, which "
                          f"Keras's batch_dot refuses; the model does not run in Keras either")
    return a


def _l2_normalize(g, t: Tensor, axis: int) -> str:
    """tf.linalg.l2_normalize: x * rsqrt(max(sum(x^2, axis), 1e-12))."""
    ax = t.onnx_axis(axis)
    ss = g.reduce("ReduceSum", g.op("Mul", t.name, t.name), [ax], keepdims=True)
    return g.op("Div", t.name, g.op("Sqrt", g.op("Max", ss, g.f32(1e-12))))


@register("Dot", check=_check_dot, layout="any", weights=())
def dot(layer, inputs, ctx):
    """Dot(axes, normalize): Keras's batch_dot of two inputs. Output shape
    (batch, x's other axes..., y's other axes...), (batch, 1) when nothing
    is left. A plain (b, n, d) x (b, d, m) product is a MatMul, two 2-D
    inputs a Mul and ReduceSum, anything else one Einsum that reads each
    input in its own layout."""
    x, y = inputs
    g = ctx.g
    a0, a1 = _dot_axes(ctx, layer, x.rank, y.rank)
    if x.shape[a0] is not None and y.shape[a1] is not None and x.shape[a0] != y.shape[a1]:
        raise ConfigError(f"{_where(ctx, layer)}: axis {a0} of {x.shape} and axis {a1} of "
                          f"{y.shape} differ in size; the config does not match the model")
    xn, yn = x.name, y.name
    if layer.config.get("normalize", False):
        xn, yn = _l2_normalize(g, x, a0), _l2_normalize(g, y, a1)
    x, y = x.like(xn), y.like(yn)
    x_rest = [x.shape[i] for i in range(1, x.rank) if i != a0]
    y_rest = [y.shape[i] for i in range(1, y.rank) if i != a1]
    shape = (None,) + tuple(x_rest) + tuple(y_rest)
    if len(shape) == 1:
        shape = (None, 1)

    if x.rank == 2 and y.rank == 2:
        x, y = _to(ctx, x, None), _to(ctx, y, None)
        out = g.reduce("ReduceSum", g.op("Mul", x.name, y.name), [1], keepdims=True)
    elif x.rank == 3 and y.rank == 3 and a0 == 2 and a1 == 1 \
            and _layout(x) is None and _layout(y) is None:
        out = g.op("MatMul", x.name, y.name)
    else:
        letters = iter("bcdefghijklmnopqrstuvwxy")
        xl = ["a"] + [next(letters) if i != a0 else "z" for i in range(1, x.rank)]
        yl = ["a"] + [next(letters) if i != a1 else "z" for i in range(1, y.rank)]
        def onnx_order(t, labels):      # t's labels in the order its ONNX value holds them
            return "".join(labels[p] for p in (t.perm or range(t.rank)))
        res = "a" + "".join(c for i, c in enumerate(xl) if i not in (0, a0)) \
                  + "".join(c for i, c in enumerate(yl) if i not in (0, a1))
        out = g.op("Einsum", x.name, y.name,
                   equation=f"{onnx_order(x, xl)},{onnx_order(y, yl)}->{res}")
        if len(res) == 1:
            out = g.unsqueeze(out, [1])
    return [Tensor(name=out, shape=shape, dtype=x.dtype)]
