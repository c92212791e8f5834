"""Every case of every family, at every supported opset, against the outputs
real Keras computed (fixtures from tests/make_fixtures.py)."""
import os

import pytest

import bridge
from bridge.validate import compare, load_reference
from tests.cases import all_cases
from tests.helpers import OPSETS, assert_fully_shaped, fixture

CASES = all_cases()


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.family}/{c.name}")
def test_parity_with_keras(case, opset):
    h5, npz = fixture(case)
    assert os.path.exists(h5) and os.path.exists(npz), (
        f"fixture for {case.name} missing: run python tests/make_fixtures.py --case {case.name}")
    proto = bridge.to_onnx(h5, opset=opset)
    ins, outs = load_reference(npz)
    result = bridge.run(proto, ins, provider="cpu")
    report = compare(result.outputs, outs, rtol=case.rtol, atol=0.0)
    assert report.passed, str(report)
    assert list(result.outputs) == list(outs), "output names differ from Keras's"
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


def test_every_fixture_has_a_case():
    from tests.cases import EXTRA_FAMILIES, FAMILIES
    from tests.helpers import FIXTURES
    names = {(c.family, c.name) for c in all_cases(FAMILIES + EXTRA_FAMILIES)}
    for fam in FAMILIES + EXTRA_FAMILIES:
        folder = os.path.join(FIXTURES, fam)
        for f in os.listdir(folder) if os.path.isdir(folder) else ():
            stem, ext = os.path.splitext(f)
            if ext == ".h5":
                assert (fam, stem) in names, f"fixture {fam}/{f} has no case in tests/cases"
