"""Slow tier: whole keras.applications networks (random well-scaled weights,
built and run live by tf-keras and Keras 3, as in tests/test_applications.py)
exported in float16 and quantized to int8, against the float32 logits Keras
computed.

float16: float32 inputs, at most 60% of the float32 file, within 5e-3.
int8 (ONNX Runtime's quantizer, dynamic and static calibrated on inputs
from the same distribution): at most 30% of the file, within 5e-2.
"""
from __future__ import annotations

import gc
import os

import numpy as np
import onnx
import pytest

import bridge
from bridge.validate import DEFAULT_RTOLS, compare
from tests.test_applications import _app, _randomize

pytestmark = pytest.mark.slow

FP16_NETWORKS = [("mobilenet_v2", "MobileNetV2"), ("resnet50", "ResNet50"),
                 ("efficientnet_b0", "EfficientNetB0"), ("convnext_tiny", "ConvNeXtTiny")]


def _saved(keras, name, ctor, tmp_path, ext):
    """(path, inputs, Keras's logits) for a randomized network saved as `ext`."""
    seed = sum(map(ord, name))
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = _app(ctor)(keras)
    _randomize(model, rng)
    x = rng.standard_normal((2,) + tuple(int(d) for d in model.inputs[0].shape[1:])).astype("float32")
    y = np.asarray(model.predict(x, verbose=0))
    path = str(tmp_path / f"{name}{ext}")
    model.save(path)
    del model
    keras.backend.clear_session()
    gc.collect()
    assert np.std(y) > 1e-3, "the random network's logits collapsed; the check would be vacuous"
    return path, x, y


def _fp16(path, x, y, tmp_path):
    pytest.importorskip("onnxconverter_common")
    f32, f16 = tmp_path / "m32.onnx", tmp_path / "m16.onnx"
    bridge.to_onnx(path, f32)
    proto = bridge.to_onnx(path, f16, precision="fp16")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    ratio = os.path.getsize(f16) / os.path.getsize(f32)
    assert ratio <= 0.6, f"float16 file is {ratio:.0%} of the float32 one"
    got = list(bridge.run(str(f16), [x], provider="cpu").outputs.values())[0]
    report = compare({"logits": got}, {"logits": y}, rtol=DEFAULT_RTOLS["fp16"], atol=0.0)
    assert report.passed, str(report)


@pytest.mark.parametrize("name, ctor", FP16_NETWORKS, ids=[n for n, _ in FP16_NETWORKS])
def test_fp16_tf_keras(name, ctor, tmp_path):
    keras = pytest.importorskip("tf_keras")
    _fp16(*_saved(keras, name, ctor, tmp_path, ".h5"), tmp_path)


@pytest.mark.parametrize("name, ctor", FP16_NETWORKS[:1], ids=[n for n, _ in FP16_NETWORKS[:1]])
def test_fp16_keras3(name, ctor, tmp_path):
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3"):
        pytest.skip("needs Keras 3")
    _fp16(*_saved(keras, name, ctor, tmp_path, ".keras"), tmp_path)


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_int8_mobilenet_v2(static, tmp_path):
    keras = pytest.importorskip("tf_keras")
    path, x, y = _saved(keras, "mobilenet_v2", "MobileNetV2", tmp_path, ".h5")
    f32, q = tmp_path / "m32.onnx", tmp_path / "int8.onnx"
    bridge.to_onnx(path, f32)
    ref = tmp_path / "ref.npz"
    np.savez(ref, input_0=x, output_0=y)
    cal = None
    if static:
        cal = tmp_path / "calibration.npz"
        np.savez(cal, input_0=np.random.default_rng(1).standard_normal((16,) + x.shape[1:])
                 .astype("float32"))
    report = bridge.quantize(f32, q, calibration=cal, reference=ref)
    assert report.passed, str(report)
    assert os.path.getsize(q) <= 0.3 * os.path.getsize(f32)
