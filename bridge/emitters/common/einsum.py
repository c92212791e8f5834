"""The einsum-with-a-constant-kernel lowering that EinsumDense (core.py) and
MultiHeadAttention's projections (attention.py) share.

`x (labels X) , kernel (labels W) -> output (labels Y)` becomes, whenever
every label is either a batch label (X and Y), a contracted label (X and W)
or a kernel label (W and Y):

    x in (batch..., contracted...) order      (a Transpose only when x's
                                               ONNX layout is not already so)
    -> Reshape(batch..., prod(contracted))    (only with != 1 contracted axes)
    -> MatMul(kernel as (prod(contracted), prod(kernel labels)))
    -> Reshape(batch..., kernel labels...)    (only with != 1 kernel axes)

The result keeps the batch labels in x's ONNX order and is tagged with the
permutation to Keras's output order, so no Transpose is spent on it. Any
other equation (a label in all three terms, a label summed away) is emitted
as one ONNX Einsum in Keras's layout.

Quantized layers (quantized.py) use two variants: an int8 x int8 product
accumulated in int32 (`integer=True`: MatMulInteger, or an int32 Einsum),
and a kernel computed in the graph (a GraphKernel, e.g. dequantized int4),
whose re-layout is then Transpose / Reshape nodes on constants that ONNX
Runtime folds when it loads the model.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np
from onnx import TensorProto

from ...context import Tensor, is_identity
from ...errors import ConfigError, layer_where

EQUATION = re.compile(r"^([a-zA-Z.]+),([a-zA-Z]+)->([a-zA-Z.]+)$")


def parse_equation(layer, equation: str, rank: int):
    """(X, W, Y) label strings for an input of `rank`, the ellipsis expanded
    into fresh labels, as tf.einsum reads it."""
    m = EQUATION.match(str(equation).replace(" ", ""))
    if not m:
        raise ConfigError(f"{layer_where(layer)}: einsum equation {equation!r} is not of the form "
                          f"'ab,bc->ac' (an ellipsis allowed in the input and output); the config "
                          f"is malformed")
    x, w, o = m.groups()
    if x.count("...") != o.count("...") or x.count("...") > 1 or x.replace("...", "").count(".") \
            or o.replace("...", "").count("."):
        raise ConfigError(f"{layer_where(layer)}: einsum equation {equation!r} has a malformed "
                          f"ellipsis; the config is malformed")
    if "..." in x:
        used = set(x + w + o)
        fresh = [c for c in string.ascii_letters if c not in used]
        n = rank - (len(x) - 3)
        if n < 0:
            raise ConfigError(f"{layer_where(layer)}: einsum equation {equation!r} does not fit an "
                              f"input of rank {rank}")
        ell = "".join(fresh[:n])
        x, o = x.replace("...", ell), o.replace("...", ell)
    if len(x) != rank:
        raise ConfigError(f"{layer_where(layer)}: einsum equation {equation!r} names {len(x)} input "
                          f"axes but the input has rank {rank}; the config does not match the model")
    return x, w, o


def relabel(*terms):
    """The same terms over lowercase letters only (ONNX Einsum)."""
    letters = {}
    for c in "".join(terms):
        letters.setdefault(c, string.ascii_lowercase[len(letters)])
    return ["".join(letters[c] for c in t) for t in terms]


@dataclass(frozen=True)
class GraphKernel:
    """A kernel that is an ONNX value (of constants only), in Keras's layout."""
    name: str
    shape: tuple

    @property
    def ndim(self) -> int:
        return len(self.shape)


def _kernel(ctx, kernel, tag: str, perm=None, shape2d=None, integer: bool = False) -> str:
    """The kernel as an ONNX value, transposed by `perm` and reshaped to
    `shape2d` when given."""
    g = ctx.g
    if isinstance(kernel, GraphKernel):
        k = kernel.name
        if perm is not None and list(perm) != list(range(kernel.ndim)):
            k = g.op("Transpose", k, perm=list(perm))
        if shape2d is not None:
            k = g.op("Reshape", k, g.i64(list(shape2d)))
        return g.op("Cast", k, to=TensorProto.INT32) if integer and shape2d is None else k
    k = np.transpose(kernel, perm) if perm is not None else np.asarray(kernel)
    if shape2d is not None:
        k = np.ascontiguousarray(k.reshape(shape2d))
    elif integer:
        k = k.astype(np.int32)
    return ctx.const(k, tag)


def output_shape(x: Tensor, X, W, Y, kernel) -> tuple:
    return tuple(x.shape[X.index(c)] if c in X else int(kernel.shape[W.index(c)]) for c in Y)


def einsum_with_kernel(ctx, x: Tensor, X: str, W: str, Y: str, kernel, bias=None,
                       tag: str = "kernel", *, integer: bool = False) -> Tensor:
    """x (labels X) times the constant kernel (labels W: a numpy array or a
    GraphKernel) -> labels Y, plus an optional bias broadcast against the
    Keras-layout output. `integer`: x and kernel hold int8 values, the
    result is their exact int32 product (Keras's int8 x int8 einsum)."""
    g = ctx.g
    out_dtype = TensorProto.INT32 if integer else x.dtype
    shape = output_shape(x, X, W, Y, kernel)
    batch = [c for c in X if c in Y and c not in W]
    contr = [c for c in X if c in W and c not in Y]
    free = [c for c in W if c in Y and c not in X]
    lowerable = len(batch) + len(contr) == len(X) and len(free) == len(W) - len(contr) \
        and len(batch) + len(free) == len(Y) and len(set(X)) == len(X) and len(set(W)) == len(W)
    if not lowerable:
        xk = ctx.keras(x)
        eq = "{},{}->{}".format(*relabel(X, W, Y))
        xn = g.op("Cast", xk.name, to=TensorProto.INT32) if integer else xk.name
        y = g.op("Einsum", xn, _kernel(ctx, kernel, tag, integer=integer), equation=eq)
        out = Tensor(name=y, shape=shape, perm=None, dtype=out_dtype)
    else:
        onnx_labels = [X[p] for p in (x.perm or range(x.rank))]
        b_order = [c for c in onnx_labels if c in batch]
        c_order = [c for c in onnx_labels if c in contr]
        want = b_order + c_order
        if want != onnx_labels:
            x = ctx.to_perm(x, [X.index(c) for c in want])
        f_order = [c for c in Y if c in free]
        kc = int(np.prod([kernel.shape[W.index(c)] for c in c_order], dtype=np.int64))
        kf = int(np.prod([kernel.shape[W.index(c)] for c in f_order], dtype=np.int64))
        nb = len(b_order)
        y = x.name
        if len(c_order) != 1:
            y = g.op("Reshape", y, g.i64([0] * nb + [kc]))
        k = _kernel(ctx, kernel, tag, [W.index(c) for c in c_order + f_order], (kc, kf))
        y = g.op("MatMulInteger" if integer else "MatMul", y, k)
        if len(f_order) != 1:
            y = g.op("Reshape", y, g.i64([0] * nb + [int(kernel.shape[W.index(c)]) for c in f_order]))
        perm = [Y.index(c) for c in b_order + f_order]
        out = Tensor(name=y, shape=shape, perm=None if is_identity(perm) else tuple(perm),
                     dtype=out_dtype)
    if bias is not None:
        b = np.asarray(bias, np.float32)
        b = b.reshape((1,) * (len(Y) - b.ndim) + b.shape)
        if out.perm:
            b = np.transpose(b, out.perm)
        while b.ndim > 1 and b.shape[0] == 1:
            b = b[0]
        out = out.like(g.op("Add", out.name, ctx.const(b, tag.replace("kernel", "bias")
                                                        if "kernel" in tag else tag + "_bias")))
    return out
