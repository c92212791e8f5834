"""Wrappers -> the layers they wrap, as IR layers of their own
(`Layer.wrapped`) holding their share of the wrapper's weights, so that the
emitters and checks of TimeDistributed and Bidirectional work on ordinary
layers and nothing is parsed or handed out while emitting.

Runs last in normalize: configs and weights are already in the one schema
(a Keras 1 wrapper's inner config converted, Theano kernels flipped).

  TimeDistributed(layer)            wrapped = [layer], every weight of the
                                    wrapper; a wrapped model is parsed and
                                    its weights handed to its own layers
  Bidirectional(layer,              wrapped = [forward, backward]; weights
                backward_layer)     split by their forward_ / backward_
                                    scope, else in halves; without a
                                    backward_layer the backward one is the
                                    forward config with go_backwards flipped
"""
from __future__ import annotations

from ..ir import Layer, Model
from ..readers.config import MODEL_CLASSES, parse_model
from ..readers.keras3 import quantization_of
from ..readers.store import distribute_nested


def unwrap(model: Model, source: str = "") -> None:
    """Set `wrapped` on every wrapper of the model, nested models included."""
    for layer in model.layers:
        _unwrap_layer(layer, source or model.source)


def _unwrap_layer(layer: Layer, source: str) -> None:
    if layer.class_name == "TimeDistributed":
        layer.wrapped = _time_distributed(layer, source)
    elif layer.class_name == "Bidirectional":
        layer.wrapped = _bidirectional(layer)
    for inner in layer.wrapped:
        _unwrap_layer(inner, source)
    if layer.inner is not None:
        unwrap(layer.inner, source)


def _spec(value):
    return value if isinstance(value, dict) and "class_name" in value else None


def _time_distributed(layer: Layer, source: str) -> list:
    spec = _spec(layer.config.get("layer"))
    if spec is None:
        return []                      # the support check reports it
    cls, cfg = spec["class_name"], spec.get("config") or {}
    name = f"{layer.name}/{cfg.get('name', cls.lower()) if isinstance(cfg, dict) else cls.lower()}"
    inner = Layer(name=name, class_name=cls, config=cfg, weights=list(layer.weights),
                  quantization=quantization_of(cfg) if isinstance(cfg, dict) else None)
    if cls in MODEL_CLASSES:
        inner.inner = parse_model({"class_name": cls, "config": cfg}, source)
        if layer.weights:
            distribute_nested(inner.inner, list(layer.weights), source)
    return [inner]


def _direction_of(weight_name: str):
    for part in weight_name.split("/"):
        if part.startswith("forward_"):
            return "forward"
        if part.startswith("backward_"):
            return "backward"
    return None


def _bidirectional(layer: Layer) -> list:
    c = layer.config
    spec = _spec(c.get("layer"))
    if spec is None:
        return []                      # the support check reports it
    fcls, fcfg = spec["class_name"], dict(spec.get("config") or {})
    bspec = _spec(c.get("backward_layer"))
    if bspec is not None:
        bcls, bcfg = bspec["class_name"], dict(bspec.get("config") or {})
    else:
        go_backwards = fcfg.get("go_backwards", False)
        bcls, bcfg = fcls, dict(fcfg, go_backwards=not (False if go_backwards is None else bool(go_backwards)))
    ws = layer.weights
    dirs = [_direction_of(w.name) for w in ws]
    if ws and all(dirs):
        fw = [w for w, d in zip(ws, dirs) if d == "forward"]
        bw = [w for w, d in zip(ws, dirs) if d == "backward"]
    else:
        fw, bw = ws[:len(ws) // 2], ws[len(ws) // 2:]
    return [Layer(name=f"{layer.name}/forward", class_name=fcls, config=fcfg, weights=fw),
            Layer(name=f"{layer.name}/backward", class_name=bcls, config=bcfg, weights=bw)]
