"""`.keras` archives written by tf.keras 2.13, 2.14 and 2.15 (which Keras 3
no longer reads), as saved on Linux and as laid out when saved on Windows,
at the lowest and highest supported opsets, against tf.keras's own
predict() (fixtures from tests/make_old_keras_fixtures.py)."""
import os

import pytest

import bridge
from bridge.convert import read_model
from bridge.validate import compare, load_reference
from tests.helpers import FIXTURES, OPSETS, assert_fully_shaped
from tests.make_old_keras_fixtures import VERSIONS, names

F = os.path.join(FIXTURES, "formats")
NAMES = [n for v in VERSIONS for n in names(v)]


@pytest.mark.parametrize("opset", [OPSETS[0], OPSETS[-1]])
@pytest.mark.parametrize("name", NAMES)
def test_old_keras_archive_parity(name, opset):
    path = os.path.join(F, name + ".keras")
    assert os.path.exists(path), f"fixture {name} missing: run tests/make_old_keras_fixtures.py"
    proto = bridge.to_onnx(path, opset=opset)
    ins, outs = load_reference(os.path.join(F, name + ".npz"))
    result = bridge.run(proto, ins, provider="cpu")
    report = compare(result.outputs, outs, rtol=1e-5, atol=0.0)
    assert report.passed, str(report)
    assert list(result.outputs) == list(outs), "output names differ from tf.keras's"
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


@pytest.mark.parametrize("name", [n for n in NAMES if "attention" in n])
def test_attention_projections_are_read_from_underscored_groups(name):
    """tf.keras 2.13-2.15 stored MultiHeadAttention's projections as
    `_query_dense`...; all four, kernel and bias, reach the layer."""
    model = read_model(os.path.join(F, name + ".keras"))
    mha = [lyr for lyr in model.layers if lyr.class_name == "MultiHeadAttention"]
    assert len(mha) == 2
    for layer in mha:
        assert sorted(w.name.split("/", 1)[1] for w in layer.weights) == sorted(
            f"{p}/{k}" for p in ("query", "key", "value", "attention_output") for k in ("kernel", "bias"))


def test_windows_variant_has_backslashed_group_names():
    """The fixture really is laid out as Windows wrote it."""
    import io
    import zipfile

    import h5py
    with zipfile.ZipFile(os.path.join(F, "tf213_cnn_windows.keras")) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            assert "_layer_checkpoint_dependencies\\conv1d" in f
            assert "_layer_checkpoint_dependencies" not in f
