"""Keras 3 quantized models (`model.quantize("int8" | "int4" | "float8")`):
Dense, EinsumDense, Embedding and MultiHeadAttention's projections, against
what Keras computed for the quantized model (fixtures from
tests/make_quantized_fixtures.py), at every supported opset; and the pieces
whose exactness the parity rests on: float8 rounding against ml_dtypes (the
float8 types Keras and TensorFlow use), int4 unpacking against Keras's own
pack_int4."""
import os

import numpy as np
import onnx
import pytest

import bridge
from bridge.emitters.common.quantized import bfloat16_round, float8_round_array, unpack_int4
from bridge.errors import UnsupportedError
from tests.helpers import at_every_opset, keras3_fixture, FIXTURES, assert_fully_shaped, assert_parity
from tests.make_quantized_fixtures import CASES, FOLDER

# Measured: int8 is exact but for the float activations; int4 and float8 multiply
# in float32 in another order than TensorFlow.
RTOL = 1e-5


def _reference(case):
    return keras3_fixture(FOLDER, case.name, "make_quantized_fixtures.py")


@at_every_opset
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_quantized_parity(case, opset):
    path, ins, outs = _reference(case)
    proto = bridge.to_onnx(path, opset=opset)
    assert_parity(proto, ins, {f"out{i}": o for i, o in enumerate(outs)}, rtol=RTOL, by_position=True)


@pytest.mark.parametrize("case", [c for c in CASES if c.mode != "float8"], ids=lambda c: c.name)
def test_quantized_weights_stay_small(case):
    """int8 and int4 kernels and tables are stored as int8 in the ONNX file
    (of the layers quantized: every initializer of 64 values or more but
    the scales and zero points)."""
    proto = bridge.to_onnx(os.path.join(FOLDER, case.name + ".keras"))
    assert_fully_shaped(proto)
    big = [i for i in proto.graph.initializer if np.prod(i.dims) >= 64
           and not any(i.name.startswith(f"{layer}/") for layer in case.skip)
           and not any(k in i.name for k in ("_scale", "_zero", "g_idx"))]
    assert big and all(i.data_type == onnx.TensorProto.INT8 for i in big), [
        (i.name, i.data_type) for i in big]


def test_int8_uses_integer_matmul():
    proto = bridge.to_onnx(os.path.join(FOLDER, "dense_int8.keras"))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("MatMulInteger") == 2 and "DynamicQuantizeLinear" not in ops


def test_unsupported_mode_is_named(tmp_path):
    from bridge.convert import build, read_model
    from bridge.ir import Quantization
    model = read_model(os.path.join(FOLDER, "dense_int8.keras"))
    layer = next(lyr for lyr in model.walk() if lyr.class_name == "Dense")
    layer.quantization = Quantization(mode="gptq/4/128")
    with pytest.raises(UnsupportedError, match=f"'{layer.name}' \\(Dense\\).*gptq"):
        build(model, 17)


def test_fixture_folder_is_the_one_the_script_writes():
    assert os.path.samefile(FOLDER, os.path.join(FIXTURES, "quantized"))


def test_every_fixture_has_a_case():
    names = {c.name for c in CASES}
    for f in os.listdir(FOLDER):
        stem, ext = os.path.splitext(f)
        if ext == ".keras":
            assert stem in names, f"fixture quantized/{f} has no case"


# -- the exact pieces, against the libraries Keras uses ------------------------

def _float8_samples(ml_dtypes):
    grid = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e4m3fn).astype(np.float32)
    grid = np.sort(grid[np.isfinite(grid)])
    mids = (grid[1:] + grid[:-1]) / 2          # every tie, and its two neighbours
    rng = np.random.default_rng(0)
    x = np.concatenate([grid, mids, np.nextafter(mids, np.float32(np.inf)),
                        np.nextafter(mids, np.float32(-np.inf)),
                        rng.normal(0.0, 100.0, 5000).astype(np.float32),
                        rng.normal(0.0, 0.01, 5000).astype(np.float32)])
    return np.clip(x, -448.0, 448.0).astype(np.float32)


def test_float8_rounding_of_constants_matches_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = _float8_samples(ml_dtypes)
    want = x.astype(ml_dtypes.float8_e4m3fn).astype(np.float32)
    np.testing.assert_array_equal(float8_round_array(x), want)


@at_every_opset
def test_float8_rounding_in_the_graph_matches_ml_dtypes(opset):
    """The builders' float8_round: a Cast pair from opset 19, arithmetic before."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    import opsets
    x = _float8_samples(ml_dtypes)
    for fmt, dtype in (("e4m3fn", ml_dtypes.float8_e4m3fn), ("e5m2", ml_dtypes.float8_e5m2)):
        top = float(ml_dtypes.finfo(dtype).max)
        xs = np.clip(x * (1.0 if fmt == "e4m3fn" else 100.0), -top, top).astype(np.float32)
        g = opsets.builder_for(opset)
        g.graph.reserve("x")
        g.graph.node("Identity", [g.float8_round("x", fmt=fmt)], ["y"], "out")
        graph = helper.make_graph(g.graph.nodes, "f8", [helper.make_tensor_value_info(
            "x", TensorProto.FLOAT, [len(xs)])], [helper.make_tensor_value_info(
                "y", TensorProto.FLOAT, [len(xs)])],
            initializer=[numpy_helper.from_array(a, k) for k, a in g.graph.initializers.items()])
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = helper.find_min_ir_version_for(m.opset_import)
        onnx.checker.check_model(m, full_check=True)
        got = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]
                                   ).run(None, {"x": xs})[0]
        np.testing.assert_array_equal(got, xs.astype(dtype).astype(np.float32), err_msg=fmt)


def test_bfloat16_rounding_matches_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = np.random.default_rng(1).normal(0.0, 3.0, 20000).astype(np.float32)
    np.testing.assert_array_equal(bfloat16_round(x), x.astype(ml_dtypes.bfloat16).astype(np.float32))


def test_int4_unpacking_matches_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3."):
        pytest.skip("needs Keras 3")
    from keras import quantizers
    values = np.random.default_rng(2).integers(-8, 8, (5, 9)).astype(np.int8)
    packed, _, _ = quantizers.pack_int4(values, axis=-1)
    np.testing.assert_array_equal(unpack_int4(np.asarray(packed), 9), values)


def test_check_holds_keras_quantized_exports_to_float32_parity(tmp_path):
    """The export reproduces Keras's quantized arithmetic, so `bridge check`
    keeps the float32 tolerance (not the 5e-2 of ORT's post-training int8)."""
    from bridge.validate import default_rtol
    path, ins, outs = _reference(next(c for c in CASES if c.name == "dense_int8"))
    dst = str(tmp_path / "m.onnx")
    bridge.to_onnx(path, dst)
    assert default_rtol(dst) == 1e-5
    ref = str(tmp_path / "ref.npz")
    np.savez(ref, **{"input:x": ins["x"], "output:logits": outs[0]})
    assert bridge.check(path, dst, ref).passed
    assert default_rtol(bridge.to_onnx(os.path.join(FIXTURES, "core", "dense_2d.h5"))) == 1e-5


def test_float16_export_of_a_quantized_model_has_one_precision():
    proto = bridge.to_onnx(os.path.join(FOLDER, "text_int4.keras"), precision="fp16")
    keys = [p.value for p in proto.metadata_props if p.key == "bridge.precision"]
    assert keys == ["fp16"]
