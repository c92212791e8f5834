"""Every case of every family against the outputs real Keras computed
(fixtures from tests/make_fixtures.py): at each opset where what the
converter emits can change (BRIDGE_ALL_OPSETS=1: at every supported opset),
and once more with the inputs held channels-first inside the graph, so that
every emitter also meets tensors that are not in Keras's layout."""
import os

import numpy as np
import pytest

import bridge
from bridge.validate import load_reference
from tests.cases import all_cases
from tests.helpers import (OPSETS, assert_fully_shaped, assert_parity, at_every_opset,
                           convert_held_channels_first, fixture)

CASES = all_cases()


def _held_cases() -> list:
    """The cases with an input that has a channel axis to move (rank >= 3)."""
    out = []
    for case in CASES:
        npz = fixture(case)[1]
        if os.path.exists(npz):
            with np.load(npz) as z:
                if any(z[k].ndim >= 3 for k in z.files if k.startswith("input")):
                    out.append(case)
    return out


@at_every_opset
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.family}/{c.name}")
def test_parity_with_keras(case, opset):
    h5, npz = fixture(case)
    assert os.path.exists(h5) and os.path.exists(npz), (
        f"fixture for {case.name} missing: run python tests/make_fixtures.py --case {case.name}")
    proto = bridge.to_onnx(h5, opset=opset)
    ins, outs = load_reference(npz)
    result = assert_parity(proto, ins, outs, rtol=case.rtol)
    assert list(result.outputs) == list(outs), "output names differ from Keras's"
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


@pytest.mark.parametrize("case", _held_cases(), ids=lambda c: f"{c.family}/{c.name}")
def test_parity_with_inputs_held_channels_first(case):
    h5, npz = fixture(case)
    ins, outs = load_reference(npz)
    for opset in (OPSETS[0], OPSETS[-1]):
        proto = convert_held_channels_first(h5, opset)
        assert_parity(proto, ins, outs, rtol=case.rtol,
                      context=f"opset {opset}, inputs held channels-first")


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
