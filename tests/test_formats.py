"""Every file format a Keras model comes in, against what real Keras computed:
Keras 3 .keras archives, a Keras 3 .weights.h5 beside its JSON config, the
legacy .h5 Keras 3 still writes, tf-keras JSON + save_weights() (layers
matched by position as Keras does), a tf-keras .keras, float16 / bfloat16 /
mixed-precision models; and the errors for weights that do not fit.

Fixtures: tests/make_format_fixtures.py (tf-keras and Keras 3).
"""
import os
import shutil
import warnings
import zipfile

import h5py
import numpy as np
import pytest

import bridge
from bridge.cli import main as cli_main
from bridge.errors import ConfigError, InputFileError, WeightsError
from bridge.convert import read_model
from bridge.validate import compare, load_reference
from tests.helpers import FIXTURES, OPSETS, assert_fully_shaped, assert_parity

F = os.path.join(FIXTURES, "formats")


def p(name):
    return os.path.join(F, name)


# (name, model file, weights file or None, rtol)
# float16 / bfloat16 / mixed_float16: Keras computed in 16-bit floats, the
# converted graph computes in float32 (bridge.normalize documents it), so
# they agree to 16-bit rounding, not to 1e-5.
CASES = [
    ("k3_cnn", "k3_cnn.keras", None, 1e-5),
    ("k3_nested", "k3_nested.keras", None, 1e-5),
    ("k3_rnn", "k3_rnn.keras", None, 1e-5),
    ("k3_sequential", "k3_sequential.keras", None, 1e-5),
    ("k3_attention", "k3_attention.keras", None, 1e-5),
    ("k3_wrapped_model", "k3_wrapped_model.keras", None, 1e-5),
    ("k3_masked_bidirectional", "k3_masked_bidirectional.keras", None, 1e-5),
    ("k3_dict_io", "k3_dict_io.keras", None, 1e-5),
    ("k3_json", "k3_json.json", "k3_json.weights.h5", 1e-5),
    ("k3_legacy", "k3_legacy.h5", None, 1e-5),
    ("tfk_json_renamed", "tfk_json_renamed.json", "tfk_json_renamed_weights.h5", 1e-5),
    ("tfk_json_nested", "tfk_json_nested.json", "tfk_json_nested_weights.h5", 1e-5),
    ("tfk_archive", "tfk_archive.keras", None, 1e-5),
    ("k3_float16", "k3_float16.keras", None, 2e-3),
    ("k3_bfloat16", "k3_bfloat16.keras", None, 1e-2),
    ("k3_mixed_float16", "k3_mixed_float16.keras", None, 2e-3),
    ("tfk_float16", "tfk_float16.h5", None, 2e-3),
    ("tfk_mixed_float16", "tfk_mixed_float16.h5", None, 2e-3),
]


@pytest.mark.parametrize("opset", [OPSETS[0], OPSETS[-1]])
@pytest.mark.parametrize("name,src,weights,rtol", CASES, ids=[c[0] for c in CASES])
def test_format_parity(name, src, weights, rtol, opset):
    with warnings.catch_warnings():
        warnings.simplefilter("error", bridge.BridgeWarning)   # no backend guess for these
        # an opset above what every ONNX Runtime reads is warned about, and honoured
        warnings.filterwarnings("ignore", "opset .* is newer than", bridge.BridgeWarning)
        proto = bridge.to_onnx(p(src), weights=p(weights) if weights else None, opset=opset)
    ins, outs = load_reference(p(name + ".npz"))
    result = assert_parity(proto, ins, outs, rtol=rtol)
    assert list(result.outputs) == list(outs), "output names differ from Keras's"
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


def test_sixteen_bit_models_are_not_exact_by_accident():
    """The 16-bit fixtures really differ from float32 (else the loose
    tolerance above would hide nothing)."""
    ins, outs = load_reference(p("k3_float16.npz"))
    got = bridge.run(bridge.to_onnx(p("k3_float16.keras")), ins, provider="cpu").outputs
    rel = compare(got, outs, rtol=1e-5, atol=0).outputs[0].rel
    assert 1e-6 < rel < 2e-3


def test_sixteen_bit_weights_and_inputs_become_float32():
    m = read_model(p("k3_bfloat16.keras"))
    arrays = [w.array for lyr in m.walk() for w in lyr.weights]
    assert arrays and all(a.dtype == np.float32 for a in arrays)
    assert m.layer("x").config["dtype"] == "float32"
    assert any("bfloat16" in n for n in m.precision_notes)
    proto = bridge.to_onnx(p("k3_mixed_float16.keras"))
    assert proto.graph.input[0].type.tensor_type.elem_type == 1   # FLOAT


def test_keras3_versions_and_backends_are_read():
    m = read_model(p("k3_cnn.keras"))
    assert m.keras_major == 3 and m.backend == "tensorflow"
    # Keras 3 calls DepthwiseConv2D's kernel 'kernel'; the schema says depthwise_kernel
    dw = m.layer("dw")
    assert [w.short for w in dw.weights] == ["depthwise_kernel", "bias"]
    legacy = read_model(p("k3_legacy.h5"))
    assert [w.short for w in legacy.layer("dw").weights] == ["depthwise_kernel", "bias"]
    assert read_model(p("tfk_archive.keras")).keras_major == 2


def test_keras3_nested_models_and_shared_layers():
    m = read_model(p("k3_nested.keras"))
    block = m.layer("block")
    assert block.inner is not None and len(block.calls) == 2
    assert len(m.layer("shared").calls) == 2
    assert all(lyr.weights for lyr in block.inner.layers if lyr.class_name == "Dense")


def test_json_without_weights_inspects_but_does_not_convert(capsys):
    from bridge.inspect import inspect_model
    text = inspect_model(p("k3_json.json"))
    assert "Conv2D" in text and "SeparableConv2D" in text
    with pytest.raises(WeightsError, match="--weights"):
        bridge.to_onnx(p("k3_json.json"))
    assert cli_main(["inspect", p("tfk_json_renamed.json")]) == 0
    assert "Dense" in capsys.readouterr().out


def test_cli_json_plus_weights(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    rc = cli_main(["convert", p("tfk_json_renamed.json"), "--weights",
                   p("tfk_json_renamed_weights.h5"), "-o", str(out)])
    assert rc == 0 and out.exists()
    ins, outs = load_reference(p("tfk_json_renamed.npz"))
    assert_parity(str(out), ins, outs)


def test_weights_of_another_architecture_are_refused():
    with pytest.raises(WeightsError) as e:
        bridge.to_onnx(p("tfk_json_renamed.json"), weights=p("tfk_other_weights.h5"))
    msg = str(e.value)
    assert "2 layer(s)" in msg and "4 layer(s)" in msg and "position" in msg


def test_weights_with_the_wrong_shapes_are_refused(tmp_path):
    # same number of weighted layers, other shapes: caught per layer
    src = tmp_path / "w.h5"
    shutil.copy(p("tfk_json_renamed_weights.h5"), src)
    with h5py.File(src, "r+") as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]]
        dense = [n for n in names if n.startswith("dense") and len(f[n].attrs["weight_names"])][0]
        g = f[dense]
        k = [n for n in g.attrs["weight_names"]][0]
        k = k.decode() if isinstance(k, bytes) else k
        data = np.asarray(g[k])
        del g[k]
        g[k] = np.zeros((data.shape[0] + 1,) + data.shape[1:], data.dtype)
    with pytest.raises(WeightsError, match=r"shape"):
        bridge.to_onnx(p("tfk_json_renamed.json"), weights=str(src))


def test_keras3_weights_of_another_model_are_refused(tmp_path):
    with pytest.raises(WeightsError):
        bridge.to_onnx(p("k3_json.json"), weights=p("tfk_other_weights.h5"))
    with pytest.raises(WeightsError):
        bridge.to_onnx(p("tfk_json_nested.json"), weights=p("k3_json.weights.h5"))


def test_weights_file_alone_says_what_to_pass():
    with pytest.raises(InputFileError, match="--weights"):
        bridge.to_onnx(p("k3_json.weights.h5"))
    with pytest.raises(InputFileError, match="--weights"):
        bridge.to_onnx(p("tfk_other_weights.h5"))


def test_keras_archive_takes_no_weights_argument():
    with pytest.raises(InputFileError, match="drop --weights"):
        bridge.to_onnx(p("k3_cnn.keras"), weights=p("k3_json.weights.h5"))


def test_damaged_archives(tmp_path):
    cut = tmp_path / "cut.keras"
    cut.write_bytes(open(p("k3_cnn.keras"), "rb").read()[:2000])
    with pytest.raises(InputFileError, match="damaged|truncated"):
        bridge.to_onnx(str(cut))
    hollow = tmp_path / "hollow.keras"
    with zipfile.ZipFile(p("k3_cnn.keras")) as zin, zipfile.ZipFile(hollow, "w") as zout:
        for n in zin.namelist():
            if n != "model.weights.h5":
                zout.writestr(n, zin.read(n))
    with pytest.raises(InputFileError, match="model.weights.h5"):
        bridge.to_onnx(str(hollow))
    not_keras = tmp_path / "other.keras"
    with zipfile.ZipFile(not_keras, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(InputFileError, match="config.json"):
        bridge.to_onnx(str(not_keras))


def test_unknown_backend_argument():
    with pytest.raises(ConfigError, match="tensorflow, theano, cntk"):
        bridge.to_onnx(p("k3_cnn.keras"), backend="mxnet")


def test_json_string_of_json(tmp_path):
    """json.dump(model.to_json(), f) writes a JSON string holding the JSON."""
    import json
    src = tmp_path / "twice.json"
    with open(p("tfk_json_nested.json")) as fh, open(src, "w") as out:
        json.dump(fh.read(), out)
    proto = bridge.to_onnx(str(src), weights=p("tfk_json_nested_weights.h5"))
    ins, outs = load_reference(p("tfk_json_nested.npz"))
    assert_parity(proto, ins, outs)


# -- live Keras 3: whole application models, saved and converted afresh ------------

APPS = {
    "MobileNetV2": dict(input_shape=(96, 96, 3), alpha=0.35),
    "EfficientNetB0": dict(input_shape=(64, 64, 3)),
    "MobileNetV3Small": dict(input_shape=(64, 64, 3)),
}


@pytest.mark.live
@pytest.mark.parametrize("app", sorted(APPS))
def test_live_keras3_applications(app, tmp_path):
    keras = pytest.importorskip("keras")
    if int(keras.__version__.split(".")[0]) < 3:
        pytest.skip("needs Keras 3")
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, app)(weights=None, classes=7, **APPS[app])
    rng = np.random.default_rng(0)
    for v in model.weights:     # random BatchNormalization statistics
        if "moving_variance" in v.path:
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        elif "moving_mean" in v.path:
            v.assign(rng.normal(0.0, 0.3, v.shape).astype("float32"))
    x = (rng.standard_normal((2,) + tuple(model.input_shape[1:])) * 50 + 100).astype("float32")
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / f"{app}.keras")
    model.save(path)
    got = bridge.run(bridge.to_onnx(path), [x], provider="cpu").outputs
    rel = np.linalg.norm(list(got.values())[0] - expected) / np.linalg.norm(expected)
    assert rel <= 1e-5
