"""Matrix products and band masks: matmul, einsum, band_part.

tf.linalg.matmul and numpy's matmul multiply the last two axes and
broadcast the leading ones, as ONNX MatMul does; transpose_* / adjoint_*
(the same for real numbers) become a layout change of the operand. ONNX
Einsum takes lowercase labels only, so equations are relabelled.
"""
from __future__ import annotations

import numpy as np

from ...context import Tensor
from ...safety import check_elements
from ..common.einsum import relabel
from .table import TABLE
from .values import as_tensor, broadcast_shapes, cast, constant, is_tensor, refuse

op = TABLE.register


@op("matmul")
def matmul(ctx, a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False):
    ta, tb = as_tensor(ctx, a), as_tensor(ctx, b)
    dtype = ta.dtype if is_tensor(a) else tb.dtype
    ta, tb = cast(ctx, ta, dtype), cast(ctx, tb, dtype)

    def arranged(t, flip):
        if not flip:
            return ctx.keras(t), t.shape
        perm = list(range(t.rank - 2)) + [t.rank - 1, t.rank - 2]
        return ctx.to_perm(t, perm), tuple(t.shape[i] for i in perm)
    at, ash = arranged(ta, transpose_a or adjoint_a)
    bt, bsh = arranged(tb, transpose_b or adjoint_b)
    batch = broadcast_shapes(ctx, [ash[:-2], bsh[:-2]]) if len(ash) > 2 or len(bsh) > 2 else ()
    shape = tuple(batch) + (ash[-2], bsh[-1])
    return Tensor(name=ctx.g.op("MatMul", at.name, bt.name), shape=shape, dtype=dtype)


@op("einsum")
def einsum(ctx, equation, operands):
    """einsum(equation, [operands]): explicit output ("ij,jk->ik"), no ellipsis."""
    eq = str(equation).replace(" ", "")
    if "..." in eq:
        refuse(ctx, f"einsum {eq!r} with an ellipsis is not supported")
    if "->" not in eq:
        refuse(ctx, f"einsum {eq!r} without an explicit output ('->') is not supported")
    ins, out = eq.split("->")
    terms = ins.split(",")
    ts = [ctx.keras(as_tensor(ctx, v)) for v in operands]
    rel = relabel(*terms, out)
    y = ctx.g.op("Einsum", *[t.name for t in ts], equation=",".join(rel[:-1]) + "->" + rel[-1])
    sizes = {}
    for term, t in zip(terms, ts):
        for ch, d in zip(term, t.shape):
            if d is not None:
                sizes[ch] = d
    return Tensor(name=y, shape=tuple(sizes.get(ch) for ch in out), dtype=ts[0].dtype)


@op("band_part")
def band_part(ctx, input, num_lower, num_upper):
    """tf.linalg.band_part: keep the band of each matrix (a negative width: all)."""
    x = ctx.keras(input)
    lo, hi = num_lower, num_upper
    m, n = x.shape[-2], x.shape[-1]
    if is_tensor(lo) or is_tensor(hi) or m is None or n is None:
        refuse(ctx, "band_part needs constant band widths and a static matrix size")
    check_elements((m, n), "band_part's mask")
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi))
    y = ctx.g.op("Where", ctx.const(keep, f"band_{m}x{n}_{lo}_{hi}"), x.name, constant(ctx, 0, x.dtype).name)
    return x.like(y)
