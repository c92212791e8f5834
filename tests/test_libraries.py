"""Models made with QKeras, the TensorFlow Model Optimization toolkit and Larq,
converted without those libraries, at every supported opset, against what
the library's own predict() computed (fixtures from
tests/make_library_fixtures.py)."""
import os
import sys

import pytest

import bridge
from bridge.validate import compare, load_reference
from tests.cases.libraries import CASES
from tests.helpers import FIXTURES, OPSETS, assert_fully_shaped, count_ops


def _paths(case):
    base = os.path.join(FIXTURES, case.family, case.name)
    return base + ".h5", base + ".npz"


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.library}/{c.name}")
def test_library_parity(case, opset):
    h5, npz = _paths(case)
    assert os.path.exists(h5) and os.path.exists(npz), (
        f"fixture for {case.name} missing: run tests/make_library_fixtures.py --case {case.name}")
    proto = bridge.to_onnx(h5, opset=opset)
    ins, outs = load_reference(npz)
    result = bridge.run(proto, ins, provider="cpu")
    report = compare(result.outputs, outs, rtol=case.rtol, atol=0.0)
    assert report.passed, str(report)
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


def test_every_library_fixture_has_a_case():
    names = {(c.family, c.name) for c in CASES}
    for lib in sorted({c.library for c in CASES}):
        folder = os.path.join(FIXTURES, "libraries", lib)
        for f in os.listdir(folder):
            stem, ext = os.path.splitext(f)
            if ext == ".h5":
                assert (f"libraries/{lib}", stem) in names, f"fixture {lib}/{f} has no case"


def test_no_library_is_imported():
    """The converter reads these files without the libraries."""
    for name in ("qkeras", "larq", "tensorflow_model_optimization", "tensorflow", "tf_keras"):
        assert name not in sys.modules or name in ("tensorflow", "tf_keras"), name
    import bridge.emitters.libraries  # noqa: F401
    assert "qkeras" not in sys.modules and "larq" not in sys.modules


def test_quantizers_use_quantize_linear():
    """Power-of-two uniform quantizers of 8 bits or fewer become
    QuantizeLinear/DequantizeLinear pairs: five of qrelu's eight (not the two
    sigmoid-based ones, nor the 10-bit one)."""
    case = next(c for c in CASES if c.name == "qrelu")
    proto = bridge.to_onnx(_paths(case)[0], opset=17)
    assert count_ops(proto, "QuantizeLinear") == count_ops(proto, "DequantizeLinear") == 5
