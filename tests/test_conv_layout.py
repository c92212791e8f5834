"""Convolutions compute channels-first and keep that layout between layers:
a plain conv stack gets one Transpose in and one out, none in between; a
channels_first stack gets none. Also the option errors of the conv family."""
import os

import pytest

import bridge
from bridge.convert import build
from bridge.errors import ConfigError, UnsupportedError
from bridge.convert import read_model
from tests.helpers import FIXTURES, OPSETS, count_ops

# fixture -> (Transposes, the op that must appear, how often)
EXPECTED = {
    "conv/conv2d_chain": (2, "Conv", 3),
    "conv/conv2d_mixed_chain": (2, "ConvTranspose", 1),
    "conv/conv1d_chain": (2, "ConvTranspose", 1),
    "conv/conv2d_chain_cf": (0, "Conv", 3),
    "conv/separable_conv2d_cf": (0, "Conv", 2),
    "locally_connected/lc2d_cf_after_conv": (2, "Gather", 1),
    "locally_connected/lc2d_impl1": (0, "Gather", 1),
}


def _h5(name):
    path = os.path.join(FIXTURES, name + ".h5")
    if not os.path.exists(path):
        pytest.skip(f"fixture {name} missing: run python tests/make_fixtures.py")
    return path


@pytest.mark.parametrize("opset", [OPSETS[0], OPSETS[-1]])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_transpose_count(name, opset):
    proto = bridge.to_onnx(_h5(name), opset=opset)
    n_transpose, op, n_op = EXPECTED[name]
    ops = [n.op_type for n in proto.graph.node]
    assert count_ops(proto, "Transpose") == n_transpose, ops
    assert count_ops(proto, op) == n_op, ops


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_transpose_of_a_transpose(name):
    proto = bridge.to_onnx(_h5(name))
    made_by = {o: n.op_type for n in proto.graph.node for o in n.output}
    for n in proto.graph.node:
        if n.op_type == "Transpose":
            assert made_by.get(n.input[0]) != "Transpose", n.name


def _model_with(fixture, **config):
    model = read_model(_h5(fixture))
    layer = [lyr for lyr in model.layers if lyr.class_name != "InputLayer"][0]
    layer.config.update(config)
    return model, layer


# A value Keras itself refuses makes the config malformed (ConfigError); an
# activation this converter does not know is unsupported.
@pytest.mark.parametrize("fixture, config, words, error", [
    ("conv/conv2d_valid", {"padding": "causal"}, "causal", ConfigError),
    ("conv/conv2d_transpose_valid", {"padding": "causal"}, "padding 'causal'", ConfigError),
    ("conv/depthwise_conv2d", {"padding": "full"}, "padding 'full'", ConfigError),
    ("conv/conv1d_valid", {"activation": "no_such_thing"}, "no_such_thing", UnsupportedError),
    ("conv/separable_conv2d", {"data_format": "NHWC"}, "data_format", ConfigError),
    ("locally_connected/lc2d_impl2", {"implementation": 4}, "implementation", ConfigError),
    ("conv/conv2d_valid", {"groups": 5}, "groups=5", ConfigError),
    ("conv/conv2d_valid", {"kernel_size": [3, 0]}, "kernel_size", ConfigError),
])
def test_bad_options_are_reported_by_name_before_emitting(fixture, config, words, error):
    model, layer = _model_with(fixture, **config)
    with pytest.raises(error) as e:
        build(model, OPSETS[-1])
    assert layer.name in str(e.value) and layer.class_name in str(e.value)
    assert words in str(e.value)
