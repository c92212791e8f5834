"""keras-cv-attention-models layers and small models of the library's own
(tests/cases/kcv.py), saved by the library with tf-keras, at every supported
opset, against the library's own predict() (fixtures from
tests/make_kcv_fixtures.py)."""
import os

import pytest

import bridge
from bridge.validate import compare, load_reference
from tests.cases.kcv import CASES
from tests.helpers import at_every_opset, OPSETS, assert_fully_shaped, count_ops
from tests.make_kcv_fixtures import FOLDER


def _paths(name):
    h5, npz = os.path.join(FOLDER, name + ".h5"), os.path.join(FOLDER, name + ".npz")
    assert os.path.exists(h5) and os.path.exists(npz), (
        f"fixture for {name} missing: run tests/make_kcv_fixtures.py --case {name}")
    return h5, npz


@at_every_opset
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_kcv_parity(case, opset):
    h5, npz = _paths(case.name)
    proto = bridge.to_onnx(h5, opset=opset)
    ins, outs = load_reference(npz)
    report = compare(bridge.run(proto, ins, provider="cpu").outputs, outs, rtol=case.rtol, atol=0.0)
    assert report.passed, str(report)
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


def test_every_kcv_fixture_has_a_case():
    names = {c.name for c in CASES}
    for f in os.listdir(FOLDER):
        stem, ext = os.path.splitext(f)
        if ext == ".h5":
            assert stem in names, f"fixture kcv/{f} has no case"


def test_channel_affine_keeps_a_conv_stack_channels_first():
    """The broadcast weight is laid out for the tensor's own layout: the only
    Transposes are where the image enters and leaves the conv stack."""
    proto = bridge.to_onnx(_paths("kcv_channel_affine_conv")[0])
    assert count_ops(proto, "Transpose") == 2


def test_relative_position_bias_is_one_add():
    """The relative-position gather is done once, on the stored table."""
    proto = bridge.to_onnx(_paths("kcv_rel_pos_cls")[0])
    assert [n.op_type for n in proto.graph.node if n.op_type != "Identity"] == ["Add"]
