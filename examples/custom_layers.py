"""Your own layers, converted: the emitters for the two custom layers of
examples/custom_layers_k2.h5 (tf-keras) and custom_layers_k3.keras (Keras 3),
made by examples/custom_layers_make.py.

- MyActivation computes relu(x) * sigmoid(x) and has no weights;
- MyCustomLayer computes matmul(x, w): one kernel made by add_weight with
  no name (Keras 3 stores it as `vars/0`, tf-keras as 'Variable'), so it is
  asked for by position, as Keras's `layer.weights` lists it.

    python examples/custom_layers.py          # converts both files and checks them

The emitters are given for this conversion only (`emitters=`, keyed by
layer name or class name); examples/custom_layers_plugin.py registers the
same functions for `bridge convert --plugin custom_layers_plugin`.
"""
from __future__ import annotations

import os
import tempfile

import bridge


def my_activation(layer, inputs, ctx: bridge.Context) -> list:
    """MyActivation: relu(x) * sigmoid(x), elementwise, so any layout will do."""
    x: bridge.Tensor = inputs[0]
    y = ctx.g.op("Mul", ctx.g.op("Relu", x.name), ctx.g.op("Sigmoid", x.name))
    return [x.like(y)]


def my_custom_layer(layer, inputs, ctx: bridge.Context) -> list:
    """MyCustomLayer(units): x @ w, with w the layer's first weight (in_features, units)."""
    x = ctx.keras(inputs[0])                       # MatMul needs Keras's own axis order
    units = int(layer.config["units"])
    w = ctx.weight(layer, 0, shape=(x.shape[-1], units))
    y = ctx.g.op("MatMul", x.name, ctx.const(w, "w"))
    return [bridge.Tensor(name=y, shape=x.shape[:-1] + (units,), dtype=x.dtype)]


EMITTERS = {"MyActivation": my_activation, "MyCustomLayer": my_custom_layer}


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for model, ref in (("custom_layers_k2.h5", "custom_layers_k2.npz"),
                       ("custom_layers_k3.keras", "custom_layers_k3.npz")):
        src = os.path.join(here, model)
        out = os.path.join(tempfile.mkdtemp(), os.path.splitext(model)[0] + ".onnx")
        bridge.to_onnx(src, out, emitters=EMITTERS)
        report = bridge.check(src, out, os.path.join(here, ref))
        print(model, "->", os.path.basename(out), "passed" if report.passed else "MISMATCH")
        assert report.passed, str(report)


if __name__ == "__main__":
    main()
