"""Live tier: where tf-keras is importable, every case is built afresh with
weights and inputs the fixtures never saw, saved, converted, and compared with
what Keras computes right now."""
import os

import numpy as np
import pytest

import bridge
from tests.cases import all_cases
from tests.helpers import OPSETS, assert_parity

pytestmark = pytest.mark.live
keras = pytest.importorskip("tf_keras")

from tests.make_fixtures import make_inputs, randomize  # noqa: E402


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: f"{c.family}/{c.name}")
def test_live_parity(case, tmp_path):
    rng = np.random.default_rng(12345 + sum(map(ord, case.name)))
    keras.utils.set_random_seed(1)
    model = case.build(keras)
    randomize(model, rng)
    xs = make_inputs(model, case, rng)
    ys = model.predict(xs, verbose=0)
    ys = ys if isinstance(ys, list) else [ys]
    path = os.path.join(tmp_path, case.name + ".h5")
    model.save(path)
    expected = dict(zip(model.output_names, ys))
    for opset in (OPSETS[0], OPSETS[-1]):
        proto = bridge.to_onnx(path, opset=opset)
        assert_parity(proto, dict(zip(model.input_names, xs)), expected, rtol=case.rtol,
                      context=f"opset {opset}")
