"""One const: initializers are content-addressed, so a name never stands
for two different arrays."""
import numpy as np
from onnx import numpy_helper

import opsets
from bridge.context import Context
from bridge.ir import Layer, Model
from opsets.graph import Graph


def _value(g: Graph, name: str) -> np.ndarray:
    return numpy_helper.to_array(g.initializers[name])


def test_same_bytes_same_tag_is_one_initializer():
    g = Graph()
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert g.initializer(a, "k") == g.initializer(a.copy(), "k") == "k"
    assert list(g.initializers) == ["k"]


def test_reused_tag_with_other_bytes_gets_its_own_name():
    g = Graph()
    a = np.zeros((2, 3), np.float32)
    b = np.ones((2, 3), np.float32)
    c = np.zeros((3, 2), np.float32)            # same bytes, other shape
    d = np.zeros((2, 3), np.float64)            # same values, other dtype
    names = [g.initializer(x, "k") for x in (a, b, c, d)]
    assert len(set(names)) == 4 and names[0] == "k"
    for name, x in zip(names, (a, b, c, d)):
        got = _value(g, name)
        assert got.dtype == x.dtype and got.shape == x.shape and np.array_equal(got, x)
    assert g.initializer(b, "k") == names[1]    # asked again: the same one


def test_nan_constants_compare_equal():
    g = Graph()
    a = np.array([np.nan, 1.0], np.float32)
    assert g.initializer(a, "k") == g.initializer(a.copy(), "k")


def test_context_const_is_named_after_the_layer_and_content_addressed():
    model = Model("m", [], [], [])
    ctx = Context(opsets.builder_for(13), model, 13, warn=lambda m: None)
    ctx.layer = Layer("dense", "Dense", {})
    ctx.scope = ("outer",)
    k1 = ctx.const(np.eye(2, dtype=np.float32), "kernel")
    k2 = ctx.const(np.eye(2, dtype=np.float32), "kernel")
    k3 = ctx.const(np.ones((2, 2), np.float32), "kernel")
    assert k1 == k2 == "outer/dense/kernel" and k3.startswith("outer/dense/kernel_") and k3 != k1
