"""KerasHub layers (tests/cases/keras_hub.py) as Keras 3 saves them, at every
supported opset, against what KerasHub's own predict() computed (fixtures
from tests/make_keras_hub_fixtures.py); plus the registered-name rules."""
import os

import pytest

import bridge
from bridge.errors import UnsupportedError
from bridge.convert import read_model
from bridge.validate import compare
from tests.cases.keras_hub import CASES
from tests.helpers import at_every_opset, keras3_fixture, OPSETS, assert_fully_shaped
from tests.make_keras_hub_fixtures import FOLDER


def _reference(name):
    return keras3_fixture(FOLDER, name, "make_keras_hub_fixtures.py")


@at_every_opset
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_keras_hub_parity(case, opset):
    path, ins, outs = _reference(case.name)
    proto = bridge.to_onnx(path, opset=opset)
    got = list(bridge.run(proto, ins, provider="cpu").outputs.values())
    assert len(got) == len(outs)
    names = [f"out{i}" for i in range(len(outs))]
    report = compare(dict(zip(names, got)), dict(zip(names, outs)), rtol=case.rtol, atol=0.0)
    assert report.passed, str(report)
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


def test_every_keras_hub_fixture_has_a_case():
    names = {c.name for c in CASES}
    for f in os.listdir(FOLDER):
        stem, ext = os.path.splitext(f)
        if ext == ".keras":
            assert stem in names, f"fixture keras_hub/{f} has no case"


def test_registered_names_keep_their_package():
    """Keras 3 writes class_name 'TransformerEncoder' with registered_name
    'keras_hub>TransformerEncoder'; the reader keeps the package, so a user's
    own TransformerEncoder class is not taken for KerasHub's."""
    model = read_model(os.path.join(FOLDER, "hub_encoder.keras"))
    assert [lyr.class_name for lyr in model.layers][1:] == ["keras_hub>TransformerEncoder"]
    from bridge.registry import REGISTRY
    assert REGISTRY.lookup("keras_nlp>TransformerEncoder", 17) is not None
    assert REGISTRY.lookup("TransformerEncoder", 17) is None


def test_unknown_registered_class_says_which_name_to_register():
    model = read_model(os.path.join(FOLDER, "hub_encoder.keras"))
    model.layers[1].class_name = "my_lib>Frobnicator"
    from bridge.convert import build
    with pytest.raises(UnsupportedError, match=r"'my_lib>Frobnicator' \(or 'Frobnicator'\)"):
        build(model, 17)


def test_a_registered_name_matches_without_its_package():
    """@bridge.register('Frobnicator') converts a file's 'my_lib>Frobnicator'."""
    model = read_model(os.path.join(FOLDER, "hub_fnet.keras"))
    model.layers[1].class_name = "my_lib>Frobnicator"

    @bridge.register("Frobnicator")
    def _identity(layer, inputs, ctx):
        return list(inputs)
    try:
        from bridge.convert import build
        proto = build(model, 17)
        assert [n.op_type for n in proto.graph.node] == ["Identity"]
    finally:
        bridge.registry.REGISTRY.unregister("Frobnicator")
