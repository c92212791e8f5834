"""The check-support stage: before anything is emitted, every reason the
model cannot be converted at the target opset, all at once (as Keras itself
reports every problem of a file it cannot load)."""
from __future__ import annotations

from .errors import BridgeError, UnsupportedError, WeightsError, layer_where, short
from .ir import Model
from .registry import REGISTRY


def support_problems(model: Model, opset: int) -> list:
    """Every reason the model cannot be converted at this opset, all at once."""
    problems = []
    for layer in model.walk():
        em = REGISTRY.lookup(layer.class_name, opset)
        if em is None:
            lowest = REGISTRY.min_opset(layer.class_name)
            if lowest is None:
                problems.append(f"{layer_where(layer)}: no converter for this layer class; for a "
                                f"custom layer, register an emitter with @bridge.register("
                                f"'{layer.class_name}')")
            else:
                problems.append(f"{layer_where(layer)}: supported from opset {lowest}: re-run "
                                f"with --opset {lowest}")
            continue
        if em.check is not None:
            problems.extend(f"{layer_where(layer)}: {p}" for p in _check(em, layer, opset))
    return problems


def _check(em, layer, opset: int) -> list:
    """The emitter's check; one that fails on the config (a value of a type
    Keras never writes) reports that as the layer's problem."""
    try:
        return list(em.check(layer, opset))
    except BridgeError as e:
        return [str(e)]
    except Exception as e:  # noqa: BLE001 -- a config the check did not foresee
        return [f"the config is malformed ({type(e).__name__}: {short(e, 200)})"]


def require_support(model: Model, opset: int) -> None:
    """Raise one error naming every gap: missing weights, then each layer
    that has no emitter at this opset or whose emitter's check refuses it."""
    if model.weights_missing:
        raise WeightsError(f"{model.source}: an architecture without weights cannot be converted; "
                           f"pass the weights file too: --weights weights.h5")
    problems = support_problems(model, opset)
    if problems:
        raise UnsupportedError(problems, model.source)
