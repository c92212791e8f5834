"""`bridge inspect`: what a model holds and what converts."""
from __future__ import annotations

import numpy as np

import opsets

from . import targets
from .context import Context
from .convert import read_model, resolve_opset
from .emit import input_tensors
from .emitters.lambdas import describe as describe_lambda
from .registry import REGISTRY
from .walk import emit_graph


def inspect_model(src, *, weights=None, opset=None, backend=None, target=None) -> str:
    """A table of the model's layers; with `target`, which layers take an
    explicit recurrence for that runtime (bridge/targets.py)."""
    opset = resolve_opset(opset)
    tgt = targets.get(target)
    model = read_model(src, weights=weights, backend=backend)
    g = opsets.builder_for(opset)
    ctx = Context(g, model, opset, warn=lambda m: None, target=tgt)
    ctx.tolerant = {}
    emit_graph(model, ctx, input_tensors(model))

    rows = [("layer", "class", "output shape", "params", f"opset {opset}")]
    gaps = 0

    def add(m, scope, depth):
        nonlocal gaps
        for layer in m.layers:
            params = sum(int(np.prod(w.array.shape)) for w in layer.weights)
            shapes = [ctx.tolerant.get((scope, layer.name, i)) for i in range(max(1, len(layer.calls)))]
            if layer.class_name == "InputLayer":
                shape_txt = _shape(next((t.shape for t in input_tensors(m) if t.name == layer.name), None))
            else:
                shape_txt = ", ".join(_shapes(s) for s in shapes)
            em = REGISTRY.lookup(layer.class_name, opset, layer.name)
            problems = [] if em is None or em.check is None else em.check(layer, opset)
            errors = [s for s in shapes if isinstance(s, str)]
            if em is None or problems or errors:
                gaps += 1
                why = problems or errors or [
                    f"needs opset {REGISTRY.min_opset(layer.class_name)}"
                    if REGISTRY.min_opset(layer.class_name) else "no emitter"]
                status = "no: " + "; ".join(w.splitlines()[0] for w in why)   # bodies are shown below
            else:
                notes = [em.note(layer, model.keras_major, tgt) if em.note else None,
                         ctx.fallbacks.get((scope, layer.name))]
                note = "; ".join(dict.fromkeys(n for n in notes if n)) or None
                status = f"yes ({note})" if note else "yes"
            rows.append(("  " * depth + layer.name, layer.class_name, shape_txt, str(params), status))
            if layer.inner is not None:
                add(layer.inner, scope + (layer.name,), depth + 1)

    add(model, (), 0)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"{model.source}: Keras {model.keras_version or '?'}, backend "
             f"{model.backend or '?'}, {len(model.inputs)} input(s), {len(model.outputs)} output(s), "
             f"target {tgt.name}"]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    lines.append(f"{gaps} layer(s) cannot be converted at opset {opset}" if gaps
                 else f"all layers convert at opset {opset}")
    for layer in model.walk():
        if layer.class_name == "Lambda":      # what its function does, as read from the byte code
            lines.append(f"Lambda '{layer.name}':\n{describe_lambda(layer)}")
    return "\n".join(lines)


def _shape(s) -> str:
    if s is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ")"


def _shapes(s) -> str:
    if s is None or isinstance(s, str):
        return "?"
    return ", ".join(_shape(x) for x in s)
