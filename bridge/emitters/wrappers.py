"""TimeDistributed: any convertible layer (or nested model) applied to every
step of a sequence.

The batch and time axes are merged into one (a Reshape, no Transpose: when
the sequence is time-major, e.g. straight from a recurrent layer, the merged
axis is simply time-major too), the wrapped layer's own emitter runs on
(B*T, ...), and the result is split back, keeping whatever layout the
wrapped layer chose (a wrapped Conv2D stays channels-first).
"""
from __future__ import annotations

from ..context import Tensor, is_identity
from ..errors import ConfigError, layer_where
from ..ir import Call, Layer
from ..readers.config import MODEL_CLASSES, parse_model
from ..registry import REGISTRY, register
from .rnn_common import fallback_reason, split_inputs


def inner_layer(layer: Layer, source: str = "") -> Layer:
    """The wrapped layer (config key `layer`) as a layer of its own, holding
    the wrapper's weights (distributed over its layers for a nested model)."""
    spec = layer.config.get("layer")
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ConfigError(f"{layer_where(layer)} has no wrapped 'layer' in its config; the config "
                          f"is malformed")
    cls, cfg = spec["class_name"], spec.get("config") or {}
    name = f"{layer.name}/{cfg.get('name', cls.lower()) if isinstance(cfg, dict) else cls.lower()}"
    inner = Layer(name=name, class_name=cls, config=cfg, weights=list(layer.weights))
    if cls in MODEL_CLASSES:
        inner.inner = parse_model({"class_name": cls, "config": cfg}, source)
        if layer.weights:
            from ..readers.hdf5 import _distribute
            _distribute(inner.inner, list(layer.weights), source)
    return inner


def layer_problems(cls: str, cfg: dict, opset: int) -> list:
    """What keeps a layer of class `cls` with config `cfg` from converting."""
    em = REGISTRY.lookup(cls, opset)
    if em is None:
        low = REGISTRY.min_opset(cls)
        return [f"wrapped layer class {cls} has no converter" if low is None
                else f"wrapped {cls} needs opset {low}: re-run with --opset {low}"]
    if cls in MODEL_CLASSES:
        try:
            model = parse_model({"class_name": cls, "config": cfg}, "")
        except Exception as e:  # a malformed nested config is reported as a problem
            return [str(e)]
        out = []
        for l in model.walk():
            if l.class_name not in MODEL_CLASSES:
                out += [f"{l.name}: {p}" for p in layer_problems(l.class_name, l.config, opset)]
        return out
    tmp = Layer(name="", class_name=cls, config=cfg)
    return list(em.check(tmp, opset)) if em.check is not None else []


def _check(layer, opset) -> list:
    spec = layer.config.get("layer")
    if not isinstance(spec, dict) or "class_name" not in spec:
        return ["the config has no wrapped 'layer'; the config is malformed"]
    return [f"wrapped {spec['class_name']}: {p}"
            for p in layer_problems(spec["class_name"], spec.get("config") or {}, opset)]


def emit_inner(ctx, inner: Layer, ins: list, call: Call = None) -> list:
    """Run the emitter of a layer that lives inside another one (called as
    `call` says, with `ins` for its TensorRefs; by default on `ins` alone)."""
    em = REGISTRY.lookup(inner.class_name, ctx.opset)
    saved = ctx.layer, ctx.call, ctx.g.scope
    ctx.layer, ctx.call = inner, call if call is not None else Call((), {})
    ctx.g.scope = "/".join(ctx.scope + (inner.name,))
    try:
        return list(em.fn(inner, ins, ctx))
    finally:
        ctx.layer, ctx.call, ctx.g.scope = saved


@register("TimeDistributed", check=_check, note=fallback_reason)
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
    y = emit_inner(ctx, inner_layer(layer, ctx.model.source), [t_in])[0]
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
