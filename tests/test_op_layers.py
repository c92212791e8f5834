"""What the op-layer and preprocessing emitters refuse, and how: every refusal
is a BridgeError naming the layer, its class and the operation, reported
before anything is emitted. The models are read from the families' fixtures
and edited in memory (nothing here needs Keras but the one live test)."""
import os

import numpy as np
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
    return next(lyr for lyr in model.walk() if lyr.class_name == class_name)


def test_documented_lists():
    for symbol in ("math.add", "__operators__.add", "nn.relu", "reshape", "concat",
                   "compat.v1.transpose", "__operators__.getitem", "linalg.matmul", "split",
                   "expand_dims", "compat.v1.squeeze", "math.reduce_mean", "cast", "clip_by_value"):
        assert symbol in tfops.SUPPORTED_FUNCTIONS, symbol
    for op in ("AddV2", "Mul", "ConcatV2", "Reshape", "Transpose", "Mean", "BatchMatMulV2"):
        assert op in tfops.SUPPORTED_RAW_OPS, op
    for op in ("Add", "Multiply", "Reshape", "Transpose", "Einsum", "GetItem", "Softmax"):
        assert op in tfops.SUPPORTED_KERAS_OPS, op


def test_a_second_registration_raises():
    """One op table: an op or a spelling registered twice is an error, as in
    the layer registry, unless replace=True says it is meant."""
    def add(ctx, x, y):
        raise AssertionError("never called")
    with pytest.raises(ValueError, match="'add' is already registered"):
        tfops.TABLE.register("add")(add)
    with pytest.raises(ValueError, match="'math.add' is already mapped"):
        tfops.FRONTENDS["tf"].spell("math.add", op="add")
    table = tfops.OpTable()
    table.register("add")(add)
    table.register("add", replace=True)(add)
    with pytest.raises(ValueError, match="already registered"):
        table.register("add")(add)
    with pytest.raises(TypeError, match="by name"):
        table.register("n_ary")(lambda ctx, *xs: None)


@pytest.mark.parametrize("view", ["SUPPORTED_FUNCTIONS", "SUPPORTED_RAW_OPS", "SUPPORTED_KERAS_OPS"])
def test_every_supported_name_is_an_op_of_the_table(view):
    """Each documented name resolves to a table op, and each argument its
    spelling takes is one the op declares."""
    names = getattr(tfops, view)
    assert len(names) > 50
    for name in names:
        sp = names[name]
        op = tfops.TABLE[sp.op]
        for p in sp.params:
            p = p.lstrip("*")
            if p == "name" or p in sp.ignore or p in sp.only_default:
                continue
            assert sp.rename.get(p, p) in op.params, (view, name, p, op.params)


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


@pytest.mark.live
def test_keras_ops_options_held_in_the_config(tmp_path):
    """keras.ops options the operation's config holds are honoured (elu's
    alpha, argmax's keepdims, numpy's short tile repeats), against Keras 3
    live; argmax over the flattened tensor (axis=None) is refused."""
    keras = pytest.importorskip("keras")
    if int(keras.__version__.split(".")[0]) < 3:
        pytest.skip("needs Keras 3")
    from bridge.validate import compare
    ops = keras.ops
    x = keras.Input((4, 6), name="x")
    outs = [ops.elu(x, alpha=0.5), ops.cast(ops.argmax(x, axis=1, keepdims=True), "float32"),
            ops.tile(x, (2,)), ops.leaky_relu(x, negative_slope=0.3)]
    model = keras.Model(x, outs)
    xs = np.random.default_rng(7).standard_normal((3, 4, 6)).astype("float32")
    ys = [np.asarray(y) for y in model.predict(xs, verbose=0)]
    path = tmp_path / "ops.keras"
    model.save(path)
    proto = bridge.to_onnx(path, opset=17)
    names = [o.name for o in proto.graph.output]
    got = bridge.run(proto, {"x": xs}, provider="cpu").outputs
    report = compare(got, dict(zip(names, ys)), rtol=1e-5, atol=0.0)
    assert report.passed, str(report)

    flat = keras.Model(x, ops.argmax(x))
    flat.save(tmp_path / "flat.keras")
    with pytest.raises(UnsupportedError, match=r"keras\.ops\.argmax with axis=None"):
        bridge.to_onnx(tmp_path / "flat.keras", opset=17)
