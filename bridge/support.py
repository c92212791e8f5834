"""The check-support stage: before anything is emitted, every reason the
model cannot be converted at the target opset, all at once (as Keras itself
reports every problem of a file it cannot load)."""
from __future__ import annotations

from .errors import (BridgeError, ConfigError, Malformed, UnsupportedError, WeightsError, layer_where,
                     malformed, same_kind, short)
from .ir import Model
from .registry import REGISTRY


def support_problems(model: Model, opset: int) -> list:
    """Every reason the model cannot be converted at this opset, all at once
    (the malformed ones marked errors.Malformed)."""
    problems = []
    for layer in model.walk():
        em = REGISTRY.lookup(layer.class_name, opset, layer.name)
        if em is None:
            lowest = REGISTRY.min_opset(layer.class_name)
            if lowest is None:
                bare = layer.class_name.split(">", 1)[-1]
                problems.append(f"{layer_where(layer)}: no converter for this layer class; for a "
                                f"custom layer, register an emitter with @bridge.register("
                                f"{_register_names(layer.class_name)}), or pass one for this "
                                f"conversion: bridge.to_onnx(..., emitters={{'{bare}': fn}}) / "
                                f"bridge convert --plugin MODULE")
            else:
                problems.append(f"{layer_where(layer)}: supported from opset {lowest}: re-run "
                                f"with --opset {lowest}")
            continue
        if em.check is not None:
            problems.extend(same_kind(p, f"{layer_where(layer)}: {p}") for p in _check(em, layer, opset))
    return problems


def _register_names(class_name: str) -> str:
    """'pkg>Cls' or 'Cls': a registered name matches either way."""
    short = class_name.rpartition(">")[2]
    return f"'{class_name}'" + (f" (or '{short}')" if short != class_name else "")


def _check(em, layer, opset: int) -> list:
    """The emitter's check; one that fails on the config (a value of a type
    Keras never writes) reports that as the layer's malformed config."""
    try:
        return list(em.check(layer, opset))
    except Warning:
        raise
    except BridgeError as e:
        return [malformed(str(e))]
    except Exception as e:  # noqa: BLE001 -- a config the check did not foresee
        return [malformed(f"the config is malformed ({type(e).__name__}: {short(e, 200)})")]


def require_support(model: Model, opset: int) -> None:
    """Raise one error naming every gap: missing weights; else every
    malformed layer config (ConfigError); else every layer that has no
    emitter at this opset or whose emitter's check refuses it
    (UnsupportedError)."""
    if model.weights_missing:
        raise WeightsError(f"{model.source}: an architecture without weights cannot be converted; "
                           f"pass the weights file too: --weights weights.h5")
    problems = support_problems(model, opset)
    bad = [p for p in problems if isinstance(p, Malformed)]
    if bad:
        head = "1 layer config is malformed" if len(bad) == 1 else f"{len(bad)} layer configs are malformed"
        prefix = f"{model.source}: " if model.source else ""
        raise ConfigError(prefix + head + ": " + "; ".join(bad))
    if problems:
        raise UnsupportedError(problems, model.source)
