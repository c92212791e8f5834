"""The graph walker's order: Keras's deserialization order (passes over the
config's layer list), computed in one sweep however the layers are listed."""
import pytest

from bridge.convert import build
from bridge.errors import ConfigError
from bridge.ir import Call, Layer, Model, TensorRef
from bridge.walk import schedule


def _chain(n: int, reverse: bool) -> Model:
    """Input -> a0 -> a1 -> ... -> a(n-1), the layers listed in order or backwards."""
    inp = Layer("x", "InputLayer", {"batch_input_shape": [None, 3], "dtype": "float32"})
    acts = []
    prev = TensorRef("x")
    for i in range(n):
        acts.append(Layer(f"a{i}", "Activation", {"activation": "relu"}, calls=[Call((prev,), {})]))
        prev = TensorRef(f"a{i}")
    layers = [inp] + (acts[::-1] if reverse else acts)
    return Model("chain", layers, inputs=[TensorRef("x")], outputs=[prev])


@pytest.mark.parametrize("reverse", [False, True])
def test_long_chain_in_either_order(reverse):
    model = _chain(10_000, reverse)
    order, stuck = schedule(model)
    assert not stuck
    assert [layer.name for layer, _ in order] == [f"a{i}" for i in range(10_000)]


def test_in_order_model_keeps_the_config_order():
    model = _chain(50, reverse=False)
    proto = build(model, 13)
    relus = [n.name for n in proto.graph.node if n.op_type == "Relu"]
    assert relus == [f"a{i}/Relu" for i in range(50)]


def test_passes_follow_keras():
    """b is listed before its producer a: a pass over the list emits a and c
    (c only needs the input), the next pass b."""
    inp = Layer("x", "InputLayer", {"batch_input_shape": [None, 3]})
    b = Layer("b", "Activation", {"activation": "relu"}, calls=[Call((TensorRef("a"),), {})])
    a = Layer("a", "Activation", {"activation": "relu"}, calls=[Call((TensorRef("x"),), {})])
    c = Layer("c", "Activation", {"activation": "relu"}, calls=[Call((TensorRef("x"),), {})])
    model = Model("m", [inp, b, a, c], inputs=[TensorRef("x")], outputs=[TensorRef("b"), TensorRef("c")])
    order, stuck = schedule(model)
    assert [layer.name for layer, _ in order] == ["a", "c", "b"] and not stuck


def test_unproduced_input_and_cycle_are_stuck():
    inp = Layer("x", "InputLayer", {"batch_input_shape": [None, 3]})
    p = Layer("p", "Activation", {}, calls=[Call((TensorRef("q"),), {})])
    q = Layer("q", "Activation", {}, calls=[Call((TensorRef("p"),), {})])
    r = Layer("r", "Activation", {}, calls=[Call((TensorRef("nowhere"),), {})])
    model = Model("m", [inp, p, q, r], inputs=[TensorRef("x")], outputs=[TensorRef("r")])
    order, stuck = schedule(model)
    assert not order and [layer.name for layer, _ in stuck] == ["p", "q", "r"]
    with pytest.raises(ConfigError, match=r"layer 'p' \(Activation\) takes tensor q\[0\]\[0\]"):
        build(model, 13)
