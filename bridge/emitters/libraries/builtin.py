"""Reuse of the built-in emitters by the library layers.

A quantized or wrapped layer computes what a built-in Keras layer computes,
only with transformed weights (quantized, masked, clustered, folded). It is
emitted by that layer's own emitter, handed a derived layer: the built-in
class name, a config, and the transformed weights under their usual names.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ...ir import Layer, Weight
from ...registry import REGISTRY
from ...walk import emit_inner


def derived(layer: Layer, class_name: str, config: dict, weights: dict) -> Layer:
    """`layer` as a built-in `class_name` with `config` and `weights` {short name: array}."""
    cfg = dict(config)
    cfg["name"] = layer.name
    return Layer(name=layer.name, class_name=class_name, config=cfg,
                 weights=[Weight(f"{layer.name}/{k}:0", v) for k, v in weights.items() if v is not None])


def emit_builtin(ctx, layer: Layer, class_name: str, config: dict, weights: dict, inputs) -> list:
    """Outputs of the built-in `class_name` emitter run on the derived layer."""
    return emit_inner(ctx, derived(layer, class_name, config, weights), list(inputs))


def builtin_problems(class_name: str, config: dict, opset: int) -> list:
    """What keeps the built-in `class_name` with `config` from converting."""
    em = REGISTRY.lookup(class_name, opset)
    if em is None:
        low = REGISTRY.min_opset(class_name)
        return [f"layer class {class_name} has no converter" if low is None
                else f"{class_name} needs opset {low}: re-run with --opset {low}"]
    layer = Layer(name="", class_name=class_name, config=config)
    return list(em.check(layer, opset)) if em.check is not None else []


def wrapped_layer(layer: Layer):
    """The layer a library wrapper holds (config key `layer`) with the
    wrapper's weights, or None when the config has none."""
    spec = layer.config.get("layer")
    if not isinstance(spec, dict) or "class_name" not in spec:
        return None
    cls, cfg = spec["class_name"], spec.get("config") or {}
    return Layer(name=f"{layer.name}/{cfg.get('name', cls.lower())}", class_name=cls, config=cfg,
                 weights=list(layer.weights))


_POSITIONAL = re.compile(r"var_\d+$")


def by_position(layer: Layer, names: list) -> Layer:
    """`layer` with its weights named `names` in order when the file stored
    them by position only (a tf-keras `.keras` archive keeps no names for a
    class it does not know: vars/0, vars/1, ...); else `layer` itself."""
    if not layer.weights or not all(_POSITIONAL.match(w.short) for w in layer.weights) \
            or len(layer.weights) != len(names):
        return layer
    return replace(layer, weights=[Weight(f"{layer.name}/{n}:0", w.array)
                                   for n, w in zip(names, layer.weights)])
