"""TimeDistributed: any convertible layer (or nested model) applied to every
step of a sequence. The wrapped layer, with the wrapper's weights, is
`layer.wrapped[0]` (bridge.normalize made it).

The batch and time axes are merged into one (a Reshape, no Transpose: when
the sequence is time-major, e.g. straight from a recurrent layer, the merged
axis is simply time-major too), the wrapped layer's own emitter runs on
(B*T, ...), and the result is split back, keeping whatever layout the
wrapped layer chose (a wrapped Conv2D stays channels-first).
"""
from __future__ import annotations

from ..context import Tensor, is_identity
from ..errors import ConfigError, layer_where, malformed, same_kind
from ..ir import Layer
from ..registry import REGISTRY, register
from ..walk import emit_inner
from .common.rnn import fallback_reason, split_inputs


def wrapped_problems(inner: Layer, opset: int) -> list:
    """What keeps a wrapped layer (a nested model's layers included) from converting."""
    em = REGISTRY.lookup(inner.class_name, opset, inner.name)
    if em is None:
        low = REGISTRY.min_opset(inner.class_name)
        return [f"wrapped layer class {inner.class_name} has no converter" if low is None
                else f"wrapped {inner.class_name} needs opset {low}: re-run with --opset {low}"]
    if inner.inner is not None:
        return [same_kind(p, f"{lyr.name}: {p}") for lyr in inner.inner.walk() if lyr.inner is None
                for p in wrapped_problems(lyr, opset)]
    return list(em.check(inner, opset)) if em.check is not None else []


def _check(layer, opset) -> list:
    if not layer.wrapped:
        return [malformed("the config has no wrapped 'layer'; the config is malformed")]
    inner = layer.wrapped[0]
    return [same_kind(p, f"wrapped {inner.class_name}: {p}") for p in wrapped_problems(inner, opset)]


@register("TimeDistributed", check=_check, note=fallback_reason, layout="any")
def time_distributed(layer, inputs, ctx):
    """TimeDistributed(layer): the wrapped layer on every (batch, step) item."""
    g = ctx.g
    x, _ = split_inputs(ctx, inputs)
    if x.rank < 3:
        raise ConfigError(f"{layer_where(layer)} gets an input of shape {x.shape}; it needs at "
                          f"least (batch, time, features)")
    perm = x.perm or tuple(range(x.rank))
    if set(perm[:2]) != {0, 1}:
        x = ctx.keras(x)
        perm = tuple(range(x.rank))
    rest = [x.shape[p] for p in perm[2:]]
    if None in rest:
        shape = g.op("Concat", g.i64([-1]), g.op("Slice", g.op("Shape", x.name), g.i64([2]),
                                                 g.i64([x.rank])), axis=0)
    else:
        shape = g.i64([-1] + rest)
    inner_perm = (0,) + tuple(p - 1 for p in perm[2:])
    t_in = Tensor(name=g.op("Reshape", x.name, shape), shape=(None,) + tuple(x.shape[2:]),
                  perm=None if is_identity(inner_perm) else inner_perm, dtype=x.dtype)
    y = emit_inner(ctx, layer.wrapped[0], [t_in])[0]
    if y.perm and y.perm[0] != 0:
        y = ctx.keras(y)
    yperm = y.perm or tuple(range(y.rank))
    y_rest = [y.shape[p] for p in yperm[1:]]
    lead = [x.shape[perm[0]], x.shape[perm[1]]]
    if None not in y_rest and lead.count(None) <= 1:
        back = g.i64([-1 if d is None else d for d in lead] + y_rest)
    else:
        tail = g.i64(y_rest) if None not in y_rest else g.op(
            "Slice", g.op("Shape", y.name), g.i64([1]), g.i64([y.rank]))
        back = g.op("Concat", g.op("Slice", g.op("Shape", x.name), g.i64([0]), g.i64([2])), tail,
                    axis=0)
    out_perm = tuple(perm[:2]) + tuple(p + 1 for p in yperm[1:])
    return [Tensor(name=g.op("Reshape", y.name, back), shape=tuple(x.shape[:2]) + tuple(y.shape[1:]),
                   perm=None if is_identity(out_perm) else out_perm, dtype=y.dtype, mask=x.mask)]
