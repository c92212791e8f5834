"""The parity helper itself: what passes and what does not."""
import numpy as np
import pytest

from bridge.validate import compare, compare_one

CASES = [
    # name, actual, expected, rtol, atol, passes
    ("equal", [1.0, 2.0], [1.0, 2.0], 1e-5, 0.0, True),
    ("tiny relative error", [1.0, 2.0 + 1e-6], [1.0, 2.0], 1e-5, 0.0, True),
    ("relative error over rtol", [1.0, 2.1], [1.0, 2.0], 1e-5, 0.0, False),
    ("atol rescues a zero reference", [1e-9, 0.0], [0.0, 0.0], 1e-5, 1e-8, True),
    ("zero reference, no atol", [1e-9, 0.0], [0.0, 0.0], 1e-5, 0.0, False),
    ("same infinities", [np.inf, -np.inf, 1.0], [np.inf, -np.inf, 1.0], 1e-5, 0.0, True),
    ("inf where Keras is finite", [np.inf, 1.0], [5.0, 1.0], 1e-5, 0.0, False),
    ("sign of inf differs", [-np.inf, 1.0], [np.inf, 1.0], 1e-5, 0.0, False),
    ("nan matches nan", [np.nan, 1.0], [np.nan, 1.0], 1e-5, 0.0, True),
    ("nan where Keras is finite", [np.nan, 1.0], [0.0, 1.0], 1e-5, 0.0, False),
    ("finite where Keras has nan", [0.0, 1.0], [np.nan, 1.0], 1e-5, 0.0, False),
    ("shape differs", [1.0, 2.0, 3.0], [1.0, 2.0], 1e-5, 0.0, False),
]


@pytest.mark.parametrize("name,actual,expected,rtol,atol,passes", CASES, ids=[c[0] for c in CASES])
def test_compare_one(name, actual, expected, rtol, atol, passes):
    r = compare_one("y", np.array(actual, np.float32), np.array(expected, np.float32), rtol=rtol, atol=atol)
    assert r.passed is passes, r.line()


def test_worst_element_and_missing_output():
    a = np.zeros((2, 3), np.float32)
    e = a.copy()
    e[1, 2] = 0.25
    rep = compare({"y": a}, {"y": e, "z": e}, rtol=1e-5, atol=0.0)
    y, z = rep.outputs
    assert y.worst_index == (1, 2) and y.max_abs == pytest.approx(0.25)
    assert y.rel == pytest.approx(1.0)
    assert not z.passed and "no such output" in z.problem
    assert not rep.passed
