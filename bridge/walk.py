"""The graph walker: every call of every layer of a model, each once its
inputs exist, through the emitter registered for the layer's class.

One walker serves the whole model (bridge/emit.py), models nested as layers
(emitters/core.py) and layers held by wrappers (emitters/wrappers.py), so
the bookkeeping around an emitter -- which layer and call it is working on,
the name scope of the nodes it makes, the `inspect` mode that carries on
past failures -- lives here only.

The order is Keras's own deserialization order: a pass over the layers as
the config lists them emits every call whose inputs exist, and passes repeat
until nothing is left. It is computed once, in one topological sweep (a call
runs in pass max(pass of each producer, plus one when the producer comes
later in the list)), so a model listed backwards costs no more than one
listed in order, and a model listed in order is emitted in exactly that order.
"""
from __future__ import annotations

from .context import Context, Tensor
from .errors import BridgeError, ConfigError, UnsupportedError, layer_where
from .ir import Call, Layer, Model, TensorRef
from .registry import REGISTRY, Registration


def schedule(model: Model) -> tuple:
    """(order, stuck): the (layer, call index) pairs in emission order, and
    those that can never run (an input no call produces, or a cycle)."""
    calls = [(layer, i) for layer in model.layers for i in range(len(layer.calls))]
    position = {}
    for k, (layer, i) in enumerate(calls):
        position.setdefault((layer.name, i), k)
    given = set(model.inputs)
    users: list = [[] for _ in calls]
    missing = [0] * len(calls)          # producers not yet scheduled
    blocked = [False] * len(calls)      # an input no call produces
    for k, (layer, i) in enumerate(calls):
        for ref in layer.calls[i].inputs:
            if ref in given:
                continue
            d = position.get((ref.layer, ref.call))
            if d is None:
                blocked[k] = True
            else:
                users[d].append(k)
                missing[k] += 1
    passes = [1] * len(calls)
    ready = [k for k in range(len(calls)) if missing[k] == 0 and not blocked[k]]
    done = []
    while ready:
        d = ready.pop()
        done.append(d)
        for k in users[d]:
            # a producer listed after its user is reached one pass later
            passes[k] = max(passes[k], passes[d] + (d > k))
            missing[k] -= 1
            if missing[k] == 0 and not blocked[k]:
                ready.append(k)
    done.sort(key=lambda k: (passes[k], k))
    scheduled = set(done)
    return ([calls[k] for k in done],
            [calls[k] for k in range(len(calls)) if k not in scheduled])


def emit_graph(model: Model, ctx: Context, inputs: list) -> list:
    """Emit the model's graph on `inputs` (Tensors for model.inputs) and
    return its output Tensors."""
    env = dict(zip(model.inputs, inputs))
    order, stuck = schedule(model)
    for layer, i in order:
        call = layer.calls[i]
        if not all(r in env for r in call.inputs):
            stuck.append((layer, i))    # an output index its producer does not have
            continue
        outs = emit_call(ctx, layer, i, [env[r] for r in call.inputs])
        for j, t in enumerate(outs):
            env[TensorRef(layer.name, i, j)] = t
    if stuck:
        index = {id(layer): n for n, layer in enumerate(model.layers)}
        layer, i = min(stuck, key=lambda c: (index[id(c[0])], c[1]))
        ref = [r for r in layer.calls[i].inputs if r not in env][0]
        raise ConfigError(f"{ctx.model.source or model.source}: {layer_where(layer)} takes tensor "
                          f"{ref.layer}[{ref.call}][{ref.index}], which no layer "
                          f"produces; the config is malformed")
    try:
        return [env[r] for r in model.outputs]
    except KeyError as e:
        raise ConfigError(f"{ctx.model.source or model.source}: model output {e.args[0]} is never "
                          f"computed; the config is malformed") from None


def emit_call(ctx: Context, layer: Layer, i: int, ins: list) -> list:
    """Call `i` of `layer` on the Tensors `ins`."""
    em = REGISTRY.lookup(layer.class_name, ctx.opset, layer.name)
    with _working_on(ctx, layer, layer.calls[i], first=i == 0, ins=ins):
        if ctx.tolerant is not None:
            return _emit_tolerant(em, layer, i, ins, ctx)
        outs = _run(em, layer, ins, ctx)
    if ctx.taps is not None:
        ctx.taps.record(ctx.scope + (layer.name,), layer.class_name, i, ins, outs)
    return outs


def emit_nested(ctx: Context, layer: Layer, inputs: list) -> list:
    """A model used as a layer: its graph, in the scope of the layer's name."""
    ctx.scope = ctx.scope + (layer.name,)
    try:
        return emit_graph(layer.inner, ctx, list(inputs))
    finally:
        ctx.scope = ctx.scope[:-1]


def emit_inner(ctx: Context, inner: Layer, ins: list, call: Call = None) -> list:
    """A layer that lives inside another one (a wrapper's), called once on
    `ins` (as `call` says, with `ins` for its TensorRefs; by default on `ins` alone)."""
    em = REGISTRY.lookup(inner.class_name, ctx.opset, inner.name)
    outer = ctx.layer
    with _working_on(ctx, inner, call if call is not None else Call((), {}), first=True, ins=ins):
        outs = _run(em, inner, ins, ctx)
    if ctx.taps is not None and outer is not None:
        # normalize names a wrapped layer '<wrapper>/<inner>' already
        own = (inner.name,) if inner.name.startswith(outer.name + "/") else (outer.name, inner.name)
        ctx.taps.record(ctx.scope + own, inner.class_name, 0, ins, outs, wrapped=True)
    return outs


def _run(em: Registration, layer: Layer, ins: list, ctx: Context) -> list:
    """The emitter on its inputs, each in the layout it was registered for.
    What it refuses is reported with the file name."""
    try:
        return list(em.fn(layer, [ctx.to_layout(t, em.layout, layer) for t in ins], ctx))
    except BridgeError as e:
        raise _with_source(e, ctx.model.source) from None


def _with_source(e: BridgeError, source: str) -> BridgeError:
    """`e`, its message starting with the file name."""
    if not source or str(e).startswith(source):
        return e
    if isinstance(e, UnsupportedError):
        return UnsupportedError(e.problems, source)
    try:
        return type(e)(f"{source}: {e}")
    except TypeError:      # a subclass with a constructor of its own
        return e


class _working_on:
    """ctx.layer / ctx.call / the node name scope while an emitter runs (and,
    when taps are recorded, whether this is a layer's first call)."""

    def __init__(self, ctx: Context, layer: Layer, call: Call, first: bool, ins: list):
        self.ctx, self.layer, self.call, self.first, self.ins = ctx, layer, call, first, ins

    def __enter__(self):
        ctx = self.ctx
        self.saved = ctx.layer, ctx.call, ctx.g.scope
        ctx.layer, ctx.call = self.layer, self.call
        ctx.g.scope = "/".join(ctx.scope + (self.layer.name,))
        if ctx.taps is not None:
            ctx.taps.enter(self.first, self.ins)

    def __exit__(self, kind, exc, tb):
        ctx = self.ctx
        ctx.layer, ctx.call, ctx.g.scope = self.saved
        if ctx.taps is not None:
            ctx.taps.leave()
        if exc is not None and not hasattr(exc, "bridge_layer"):
            # the innermost layer an error came out of, for emit.located
            exc.bridge_layer = ("/".join(ctx.scope + (self.layer.name,)), self.layer.class_name)
        return False


UNKNOWN = Tensor(name="", shape=())


def _emit_tolerant(em, layer: Layer, i: int, ins: list, ctx: Context) -> list:
    """For `inspect`: carry on past what cannot be emitted, recording shapes."""
    outs = [UNKNOWN]
    if em is not None and all(t is not UNKNOWN for t in ins):
        try:
            outs = _run(em, layer, ins, ctx)
        except BridgeError as e:
            ctx.tolerant[(ctx.scope, layer.name, i)] = str(e)
        except Warning:
            raise
        except Exception as e:  # noqa: BLE001 -- a config the emitter did not foresee
            ctx.tolerant[(ctx.scope, layer.name, i)] = f"the config is malformed ({type(e).__name__})"
    if layer.inner is None:
        ctx.tolerant[(ctx.scope, layer.name, i)] = [None if t is UNKNOWN else t.shape for t in outs]
    return outs
