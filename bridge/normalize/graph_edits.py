"""Layers the normalizers add to a model graph: explicit padding in front of
a layer (Keras 1 border_mode='full', Theano's own 'same'), and a cropping
after one (Theano's 'same' transposed convolutions)."""
from __future__ import annotations

from ..ir import Call, Layer, Model, TensorRef

_PAD_CLASS = {1: "ZeroPadding1D", 2: "ZeroPadding2D", 3: "ZeroPadding3D"}


def models(model: Model):
    """The model and every model nested in it, outermost first."""
    yield model
    for layer in model.layers:
        if layer.inner is not None:
            yield from models(layer.inner)


def _free_name(m: Model, name: str) -> str:
    taken = {layer.name for layer in m.layers}
    while name in taken:
        name += "_"
    return name


def insert_padding(m: Model, layer: Layer, pads: list) -> None:
    """A ZeroPadding layer ([[before, after], ...] per spatial axis) in front
    of every call of `layer`, a layer of model `m`."""
    n = len(pads)
    name = _free_name(m, f"{layer.name}_pad")
    cfg = {"name": name, "trainable": False,
           "padding": [list(p) for p in pads] if n > 1 else list(pads[0])}
    if n > 1:
        cfg["data_format"] = layer.config.get("data_format", "channels_last")
    pad = Layer(name=name, class_name=_PAD_CLASS[n], config=cfg)
    new_calls = []
    for i, call in enumerate(layer.calls):
        pad.calls.append(Call(call.inputs, {}))
        new_calls.append(Call((TensorRef(name, i, 0),) + tuple(call.inputs[1:]), call.kwargs,
                              call.args))
    layer.calls = new_calls
    m.layers.insert(m.layers.index(layer), pad)


def crop_after(m: Model, layer: Layer, crops: list) -> None:
    """`layer` becomes 'valid' and is renamed; a Cropping layer with its old
    name takes its outputs, so every consumer now reads the cropped tensor."""
    n = len(crops)
    old = layer.name
    new = _free_name(m, f"{old}_full")
    layer.name = new
    layer.config = dict(layer.config, name=new, padding="valid")
    cfg = {"name": old, "trainable": False,
           "cropping": [list(c) for c in crops] if n > 1 else list(crops[0])}
    if n > 1:
        cfg["data_format"] = layer.config.get("data_format", "channels_last")
    crop = Layer(name=old, class_name=f"Cropping{n}D", config=cfg)
    crop.calls = [Call((TensorRef(new, i, 0),), {}) for i in range(len(layer.calls))]
    m.layers.insert(m.layers.index(layer) + 1, crop)
