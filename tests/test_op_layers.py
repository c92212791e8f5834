"""What the op-layer and preprocessing emitters refuse, and how: every refusal
is a BridgeError naming the layer, its class and the operation, reported
before anything is emitted. The models are read from the families' fixtures
and edited in memory (nothing here needs Keras)."""
import os

import pytest

import bridge
from bridge.convert import build
from bridge.emitters import tfops
from bridge.errors import BridgeError, UnsupportedError
from bridge.ir import Call
from bridge.convert import read_model
from tests.helpers import FIXTURES


def _model(family, case):
    return read_model(os.path.join(FIXTURES, family, case + ".h5"))


def _first(model, class_name):
    return next(l for l in model.walk() if l.class_name == class_name)


def test_documented_lists():
    for symbol in ("math.add", "__operators__.add", "nn.relu", "reshape", "concat",
                   "compat.v1.transpose", "__operators__.getitem", "linalg.matmul", "split",
                   "expand_dims", "compat.v1.squeeze", "math.reduce_mean", "cast", "clip_by_value"):
        assert symbol in tfops.SUPPORTED_FUNCTIONS, symbol
    for op in ("AddV2", "Mul", "ConcatV2", "Reshape", "Transpose", "Mean", "BatchMatMulV2"):
        assert op in tfops.SUPPORTED_RAW_OPS, op
    for op in ("Add", "Multiply", "Reshape", "Transpose", "Einsum", "GetItem", "Softmax"):
        assert op in tfops.SUPPORTED_KERAS_OPS, op


def test_unknown_tf_function_is_named():
    model = _model("tfops", "tfop_unary")
    layer = _first(model, "TFOpLambda")
    layer.config["function"] = "math.bessel_i0e"
    with pytest.raises(UnsupportedError, match=r"tf\.math\.bessel_i0e") as e:
        build(model, 17)
    assert layer.name in str(e.value) and "TFOpLambda" in str(e.value)


def test_unknown_raw_op_is_named():
    model = _model("tfops", "tf_op_layer_raw")
    layer = _first(model, "TensorFlowOpLayer")
    layer.config["node_def"]["op"] = "Lgamma"
    with pytest.raises(UnsupportedError, match="'Lgamma'"):
        build(model, 17)


def test_einsum_op_layer_is_refused_with_the_reason():
    model = _model("tfops", "tfop_unary")
    layer = _first(model, "TFOpLambda")
    layer.config["function"] = "einsum"
    with pytest.raises(BridgeError, match="einsum.*without its operands"):
        build(model, 17)


@pytest.mark.parametrize("cls", ["StringLookup", "TextVectorization", "Hashing", "HashedCrossing"])
def test_lookup_layers_are_refused_with_the_reason(cls):
    model = _model("preprocessing", "rescaling_scale")
    layer = _first(model, "Rescaling")
    layer.class_name = cls
    with pytest.raises(UnsupportedError, match=f"{cls}.*outside the exported model"):
        build(model, 17)


def test_adapted_integer_lookup_is_refused():
    model = _model("preprocessing", "int_lookup")
    layer = _first(model, "IntegerLookup")
    layer.config["vocabulary"] = None
    with pytest.raises(UnsupportedError, match="IntegerLookup.*vocabulary"):
        build(model, 17)


def test_random_layer_called_with_training_true_is_refused():
    """tf.keras keeps an explicit training=True at predict time."""
    model = _model("preprocessing", "random_flip_uint8")
    layer = _first(model, "RandomFlip")
    call = layer.calls[0]
    layer.calls[0] = Call(call.inputs, {**call.kwargs, "training": True})
    with pytest.raises(UnsupportedError, match="training=True"):
        build(model, 17)


def test_adapted_discretization_is_refused():
    model = _model("preprocessing", "discretize")
    layer = _first(model, "Discretization")
    layer.config["bin_boundaries"] = None
    with pytest.raises(UnsupportedError, match="bin_boundaries"):
        build(model, 17)


def test_resampling_needs_static_sizes():
    model = _model("preprocessing", "resize_unknown_size")
    layer = _first(model, "Resizing")
    layer.config["interpolation"] = "lanczos3"
    with pytest.raises(UnsupportedError, match="static height and width"):
        build(model, 17)


def test_causal_attention_over_other_axes_is_refused():
    model = _model("attention", "mha_axis2")
    layer = _first(model, "MultiHeadAttention")
    call = layer.calls[0]
    layer.calls[0] = Call(call.inputs, {**call.kwargs, "use_causal_mask": True})
    with pytest.raises(UnsupportedError, match="use_causal_mask"):
        build(model, 17)


def test_no_partial_output_on_refusal(tmp_path):
    model_path = os.path.join(FIXTURES, "tfops", "tfop_unary.h5")
    out = tmp_path / "m.onnx"
    bridge.to_onnx(model_path, out, opset=13)
    assert out.exists()
