"""The attention, normalization, preprocessing and op-layer families as Keras 3
saves them (.keras), at every supported opset, against what Keras 3 computed
(fixtures from tests/make_keras3_fixtures.py). Outputs are compared in the
model's order."""
import os

import pytest

import bridge
from bridge.convert import build, read_model
from bridge.errors import UnsupportedError
from tests.helpers import at_every_opset, keras3_fixture, FIXTURES, assert_parity
from tests.make_keras3_fixtures import FOLDER, keras3_cases

CASES = keras3_cases()


def _reference(case):
    return keras3_fixture(FOLDER, case.name, "make_keras3_fixtures.py")


@at_every_opset
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.family}/{c.name}")
def test_keras3_parity(case, opset):
    path, ins, outs = _reference(case)
    proto = bridge.to_onnx(path, opset=opset)
    assert_parity(proto, ins, {f"out{i}": o for i, o in enumerate(outs)}, rtol=case.rtol,
                  by_position=True)


def test_every_keras3_fixture_has_a_case():
    names = {c.name for c in CASES}
    for f in os.listdir(FOLDER):
        stem, ext = os.path.splitext(f)
        if ext == ".keras":
            assert stem in names, f"fixture keras3/{f} has no case"


def test_unknown_keras_operation_is_named(tmp_path):
    """A keras.ops operation the converter does not know is refused by name."""
    from bridge.registry import REGISTRY
    assert REGISTRY.lookup("ops.Add", 13) is not None
    path = os.path.join(FOLDER, "k3ops_arith.keras")
    model = read_model(path)
    layer = next(lyr for lyr in model.walk() if lyr.class_name == "ops.Add")
    layer.class_name = "ops.Frobnicate"
    with pytest.raises(UnsupportedError, match="ops.Frobnicate"):
        build(model, 17)


def test_fixture_folder_is_the_one_the_script_writes():
    assert os.path.samefile(FOLDER, os.path.join(FIXTURES, "keras3"))
