"""Structure of the pooling and reshaping exports (layouts flow without
Transpose pairs, Permute is free, the right ONNX ops and attributes), the
masked GlobalAveragePooling1D path, and the errors users can cause.

The masked-mean reference was computed by tf-keras itself; regenerate it with
a Python that has tf-keras (tests/requirements-fixtures.txt; or run
tests/make_all_fixtures.py, which runs this too):

    python tests/test_reshape_layout.py

(writes tests/fixtures/pooling/masked_mean_reference.npz, and
tests/fixtures/reshaping/legacy_bilinear.npz: TF1's tf.image.resize_bilinear
with its defaults, which standalone Keras 2.2.x's UpSampling2D called). Parity of every layer
option against real Keras lives in the case tables (tests/cases/pooling.py,
tests/cases/reshaping.py) run by tests/test_layers.py.
"""
from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MASKED = os.path.join(HERE, "fixtures", "pooling", "masked_mean_reference.npz")
LEGACY_BILINEAR = os.path.join(HERE, "fixtures", "reshaping", "legacy_bilinear.npz")


def _make_masked_reference() -> None:
    """tf-keras GlobalAveragePooling1D called with an explicit mask."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tf_keras as keras
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 5, 3)).astype("float32")
    mask = rng.random((4, 5)) < 0.6
    mask[:, 0] = True             # no fully masked row (Keras gives 0/0 = NaN there)
    mask[1] = True                # one row unmasked
    out = {"x": x, "mask": mask}
    for fmt in ("channels_last", "channels_first"):
        xin = x if fmt == "channels_last" else x.transpose(0, 2, 1).copy()
        out[f"x:{fmt}"] = xin
        for keep in (False, True):
            layer = keras.layers.GlobalAveragePooling1D(data_format=fmt, keepdims=keep)
            out[f"y:{fmt}:{keep}"] = layer(xin, mask=mask).numpy()
    np.savez(MASKED, **out)
    print(f"wrote {MASKED} with tf-keras {keras.__version__}")


def _make_legacy_bilinear_reference() -> None:
    """Keras 2.2.x (TensorFlow backend) UpSampling2D(interpolation='bilinear')
    was tf.image.resize_bilinear(x, new_shape) with TF1's defaults."""
    import tensorflow as tf
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 4, 2)).astype("float32")
    y = tf.compat.v1.image.resize_bilinear(x, (9, 8), align_corners=False,
                                           half_pixel_centers=False).numpy()
    np.savez(LEGACY_BILINEAR, x=x, y=y)
    print(f"wrote {LEGACY_BILINEAR} with tensorflow {tf.__version__}")


if __name__ == "__main__":
    _make_masked_reference()
    _make_legacy_bilinear_reference()
    sys.exit(0)

# --- the tests (system python: onnx + onnxruntime, no TensorFlow) ----------------

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pytest  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import bridge  # noqa: E402
import opsets  # noqa: E402
from bridge.context import Context, Tensor  # noqa: E402
from bridge.convert import build  # noqa: E402
from bridge.errors import ConfigError, UnsupportedError  # noqa: E402
from bridge.ir import Call, Layer, Model, TensorRef  # noqa: E402
from bridge.registry import REGISTRY  # noqa: E402
from bridge.validate import load_reference  # noqa: E402
from tests.helpers import FIXTURES, OPSETS, count_ops  # noqa: E402


def _export(family: str, case: str, opset: int = 17) -> onnx.ModelProto:
    return bridge.to_onnx(os.path.join(FIXTURES, family, case + ".h5"), opset=opset)


def _nodes(proto, op_type):
    return [n for n in proto.graph.node if n.op_type == op_type]


def _attr(node, name):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return None


# --- layout: one Transpose at each boundary at most ------------------------------

@pytest.mark.parametrize("family,case,transposes", [
    ("pooling", "max_pool2d_default", 2),       # in and out, nothing between
    ("pooling", "pool_chain_2d", 2),            # three pooling layers share one layout
    ("pooling", "pool_chain_1d", 1),            # global pooling ends in (batch, C): no exit Transpose
    ("pooling", "pool_then_dense", 1),
    ("pooling", "pool_two_outputs", 2),         # the pooled output; the reduced one needs none
    ("pooling", "max_pool2d_cf_same", 0),       # channels_first Keras data is already NCHW
    ("pooling", "gmp2d_keep", 0),               # reductions work in any layout
    ("reshaping", "permute_twice", 0),          # Permute is free
    ("reshaping", "permute_after_pool", 1),     # NCHW pooled value *is* Permute((3,1,2))'s output
    ("reshaping", "permute_then_pool", 1),      # Permute((2,3,1)) of NCHW data is NHWC: pool needs none
    ("reshaping", "permute_3d", 1),             # one Transpose, at the output
    ("reshaping", "zero_pad2d_tuples", 0),      # pad / crop / nearest upsampling keep any layout
    ("reshaping", "zero_pad3d_tuples_cf", 0),
    ("reshaping", "crop2d_tuples", 0),
    ("reshaping", "crop3d_tuples_cf", 0),
    ("reshaping", "upsample2d_size", 0),
    ("reshaping", "upsample3d_default", 0),
    ("reshaping", "upsample1d_3", 0),
    ("reshaping", "zero_pad_after_pool", 2),    # in; back to Keras order for Flatten
    ("reshaping", "crop_after_pool", 2),
    ("reshaping", "upsample_after_pool", 2),    # pool, bilinear and nearest all in NCHW
    ("reshaping", "flatten_after_pool", 2),     # Flatten must see (H, W, C) order
    ("reshaping", "flatten_cf_after_pool_cf", 1),
    ("reshaping", "flatten_3d", 0),
    ("pooling", "conv_pool_gap", 1),            # conv, pools and the global mean share NCHW
    ("reshaping", "conv_flatten_dense", 2),     # in; (H, W, C) order for Flatten
    ("reshaping", "conv_pad_crop_up_conv", 2),  # pad, crop, bilinear between convs: none
    ("reshaping", "conv_permute_dense", 1),     # NCW Conv1D output is Permute((2,1))'s output
    ("pooling", "masked_pool_drops_mask", 1),
    ("reshaping", "reshape_basic", 0),
])
def test_transpose_count(family, case, transposes):
    proto = _export(family, case)
    assert count_ops(proto, "Transpose") == transposes, [n.op_type for n in proto.graph.node]


def test_permute_emits_no_node():
    proto = _export("reshaping", "permute_twice")
    assert [n.op_type for n in proto.graph.node] == ["Identity"]


def test_flatten_after_pool_restores_keras_order():
    """The Transpose in front of Flatten undoes the NCHW layout: NCHW -> NHWC."""
    proto = _export("reshaping", "flatten_after_pool")
    flat = _nodes(proto, "Flatten")[0]
    producer = {o: n for n in proto.graph.node for o in n.output}[flat.input[0]]
    assert producer.op_type == "Transpose" and list(_attr(producer, "perm")) == [0, 2, 3, 1]


# --- the ONNX ops and attributes ---------------------------------------------------

def test_average_pool_excludes_padding_with_explicit_pads():
    for case in ("avg_pool1d_same", "avg_pool2d_same", "avg_pool3d_same", "avg_pool2d_cf_same"):
        (node,) = _nodes(_export("pooling", case), "AveragePool")
        assert _attr(node, "count_include_pad") == 0
        assert _attr(node, "auto_pad") is None and _attr(node, "pads") is not None


def test_same_pads_put_the_extra_at_the_end():
    (node,) = _nodes(_export("pooling", "avg_pool2d_same"), "AveragePool")
    # H=7, W=8, pool 3, stride 2 -> 4 x 4 out: total pads 2 and 1 -> (1, 1) and (0, 1)
    assert list(_attr(node, "pads")) == [1, 0, 1, 1]


def test_unknown_sizes_use_same_upper():
    (node,) = _nodes(_export("pooling", "avg_pool2d_dynamic_same"), "AveragePool")
    assert _attr(node, "auto_pad") == b"SAME_UPPER" or _attr(node, "auto_pad") == "SAME_UPPER"
    assert _attr(node, "count_include_pad") == 0


@pytest.mark.parametrize("case,ops", [
    ("upsample2d_bilinear", {"Resize"}),
    # a static size: TensorFlow's table as matrices (a cubic Resize between
    # Transposes: OpenVINO differs at the borders, ORT 1.12-1.20 refuse it)
    ("upsample2d_bicubic", {"MatMul"}),
    ("upsample2d_bicubic_odd", {"MatMul"}),         # factor 3: TensorFlow's table, as matrices
    ("upsample2d_lanczos3", {"MatMul"}),
    ("upsample2d_mitchellcubic_cf", {"MatMul"}),
    ("upsample2d_area", {"Resize"}),
])
def test_upsampling_decomposition(case, ops):
    proto = _export("reshaping", case)
    assert {n.op_type for n in proto.graph.node} - {"Transpose"} == ops


def test_bicubic_resize_attributes():
    # power-of-two factors of a dynamic size: ONNX cubic is exact
    m = _model("UpSampling2D", {"size": [2, 4], "interpolation": "bicubic"}, (None, None, 2))
    (node,) = _nodes(build(m, 17), "Resize")
    assert _attr(node, "mode") == b"cubic"
    assert _attr(node, "cubic_coeff_a") == pytest.approx(-0.5)
    assert _attr(node, "exclude_outside") == 1
    assert _attr(node, "coordinate_transformation_mode") == b"half_pixel"


# --- masked GlobalAveragePooling1D -----------------------------------------------------

def _emit_one(layer: Layer, x: Tensor, opset: int, extra_inputs) -> onnx.ModelProto:
    """Run one registered emitter on graph inputs and wrap it as a model."""
    g = opsets.builder_for(opset)
    model = Model(name="m", layers=[], inputs=[], outputs=[], keras_version="2.21.0")
    ctx = Context(g, model, opset, warn=lambda m: None)
    for name, _, _ in extra_inputs:
        g.graph.reserve(name)
    ctx.layer = layer
    reg = REGISTRY.lookup(layer.class_name, opset)
    (out,) = reg.fn(layer, [ctx.to_layout(x, reg.layout, layer)], ctx)
    out = ctx.keras(out)
    dims = ["batch"] + [d if d is not None else f"d{i}" for i, d in enumerate(out.shape[1:])]
    g.graph.node("Identity", [out.name], ["y"], "out")
    ins = [helper.make_tensor_value_info(n, dt, shape) for n, dt, shape in extra_inputs]
    graph = helper.make_graph(g.graph.nodes, "m", ins,
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)],
                              initializer=list(g.graph.initializers.values()))
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    onnx.checker.check_model(proto, full_check=True)
    return proto


@pytest.mark.parametrize("opset", [OPSETS[0], 17, 18, OPSETS[-1]])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("onnx_channels_first", [False, True])
def test_masked_global_average_pooling1d(opset, fmt, keepdims, onnx_channels_first):
    """sum(x * mask) / sum(mask) over the steps, as tf-keras computes it, with the
    ONNX value in Keras layout or transposed (as a Conv1D leaves it)."""
    ref = np.load(MASKED)
    xk = ref[f"x:{fmt}"]
    perm = (0, 2, 1) if onnx_channels_first else None
    xo = xk.transpose(perm) if perm else xk
    layer = Layer(name="gap", class_name="GlobalAveragePooling1D",
                  config={"data_format": fmt, "keepdims": keepdims})
    x = Tensor(name="x", shape=(None,) + xk.shape[1:], perm=perm, mask="mask")
    proto = _emit_one(layer, x, opset, [("x", TensorProto.FLOAT, list(xo.shape)),
                                        ("mask", TensorProto.BOOL, list(ref["mask"].shape))])
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": xo, "mask": ref["mask"]})
    want = ref[f"y:{fmt}:{keepdims}"]
    assert y.shape == want.shape
    assert np.linalg.norm(y - want) / np.linalg.norm(want) <= 1e-6


def test_unmasked_input_is_a_plain_mean():
    layer = Layer(name="gap", class_name="GlobalAveragePooling1D", config={})
    proto = _emit_one(layer, Tensor(name="x", shape=(None, 5, 3)), 17,
                      [("x", TensorProto.FLOAT, [2, 5, 3])])
    assert [n.op_type for n in proto.graph.node] == ["ReduceMean", "Identity"]


# --- errors a user can cause ------------------------------------------------------------

def _model(cls, config, input_shape, keras_version="2.21.0"):
    """Input(input_shape) -> one layer, as IR."""
    inp = Layer(name="x", class_name="InputLayer",
                config={"name": "x", "batch_input_shape": [None, *input_shape]})
    layer = Layer(name="l", class_name=cls, config={"name": "l", **config},
                  calls=[Call((TensorRef("x"),))])
    return Model(name="m", layers=[inp, layer], inputs=[TensorRef("x")],
                 outputs=[TensorRef("l")], keras_version=keras_version, source="m.h5")


def test_standalone_keras_22_bilinear_has_no_half_pixel_centers():
    ref = np.load(LEGACY_BILINEAR)
    m = _model("UpSampling2D", {"size": [3, 2], "interpolation": "bilinear"}, (3, 4, 2),
               keras_version="2.2.4")
    proto = build(m, 17)
    (node,) = _nodes(proto, "Resize")
    assert _attr(node, "coordinate_transformation_mode") == b"asymmetric"
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": ref["x"]})
    assert np.linalg.norm(y - ref["y"]) / np.linalg.norm(ref["y"]) <= 1e-6


def test_tf_keras_bilinear_uses_half_pixel_centers():
    m = _model("UpSampling2D", {"size": [2, 2], "interpolation": "bilinear"}, (3, 4, 2))
    (node,) = _nodes(build(m, 17), "Resize")
    assert _attr(node, "coordinate_transformation_mode") == b"half_pixel"


def test_unknown_interpolation_is_reported_before_emitting():
    m = _model("UpSampling2D", {"size": [2, 2], "interpolation": "cubic-spline"}, (4, 4, 2))
    with pytest.raises(ConfigError, match="interpolation 'cubic-spline'.*UpSampling2D|"
                                               "UpSampling2D.*interpolation 'cubic-spline'"):
        build(m, 17)


def test_matrix_interpolation_needs_static_sizes():
    m = _model("UpSampling2D", {"size": [3, 2], "interpolation": "bicubic"}, (None, None, 2))
    with pytest.raises(UnsupportedError, match="bicubic.*static height and width"):
        build(m, 17)


def test_bad_padding_is_reported():
    m = _model("MaxPooling2D", {"pool_size": [2, 2], "padding": "full"}, (4, 4, 2))
    with pytest.raises(ConfigError, match="'l' \\(MaxPooling2D\\).*padding 'full'"):
        build(m, 17)


def test_crop_larger_than_input_is_an_empty_axis():
    """The TensorFlow backend slices as Python does (tf-keras Cropping3D
    lets such a model be built; its parity cases are crop3d_empty*)."""
    m = _model("Cropping2D", {"cropping": [[2, 3], [0, 0]]}, (4, 4, 2))
    proto = build(m, 17)
    dims = [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim[1:]]
    assert dims == [0, 4, 2]


def test_reshape_that_does_not_fit():
    m = _model("Reshape", {"target_shape": [5, -1]}, (4, 3))
    with pytest.raises(ConfigError, match="cannot reshape"):
        build(m, 17)


@pytest.mark.parametrize("cls,config", [
    ("ZeroPadding2D", {"padding": [1, 2, 3]}),
    ("Cropping3D", {"cropping": "a"}),
    ("Permute", {"dims": [1, 3]}),
    ("UpSampling3D", {"size": [2, 0, 2]}),
])
def test_malformed_options_are_reported(cls, config):
    shape = (4, 4, 4, 2) if cls.endswith("3D") else (4, 4, 2)
    with pytest.raises(ConfigError, match=f"'l' \\({cls}\\)"):
        build(_model(cls, config, shape), 17)


def test_padding_forms():
    """An int, per-axis ints and (begin, end) pairs all mean what Keras means."""
    from bridge.emitters.reshaping import pairs
    assert pairs(2, 2, "padding") == [(2, 2), (2, 2)]
    assert pairs([1, 2], 2, "padding") == [(1, 1), (2, 2)]
    assert pairs([[1, 0], [0, 3]], 2, "padding") == [(1, 0), (0, 3)]
    assert pairs([1, 3], 1, "padding") == [(1, 3)]
    assert pairs(2, 1, "padding") == [(2, 2)]
    assert pairs([1, 2, [0, 1]], 3, "padding") == [(1, 1), (2, 2), (0, 1)]


EMPTY_CROPS = ["crop3d_empty", "crop3d_empty_axis", "crop3d_past_end", "crop3d_empty_cf",
               "crop3d_empty_dense"]


@pytest.mark.parametrize("name", EMPTY_CROPS)
def test_cropping_to_nothing_gives_keras_empty_tensor(name):
    """tf-keras Cropping3D returns an empty tensor where the crop takes a
    whole axis (or more): the export declares and returns that same shape
    and dtype, and what follows (a Dense) runs on the empty tensor too."""
    from tests.cases import all_cases
    from tests.helpers import fixture
    case = next(c for c in all_cases(["reshaping"]) if c.name == name)
    h5, npz = fixture(case)
    proto = bridge.to_onnx(h5)
    ins, outs = load_reference(npz)
    (want,) = outs.values()
    assert want.size == 0
    dims = [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim[1:]]
    assert dims == list(want.shape[1:])
    (got,) = bridge.run(proto, ins, provider="cpu").outputs.values()
    assert got.shape == want.shape and got.dtype == want.dtype
