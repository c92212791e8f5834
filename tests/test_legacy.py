"""Keras 1.2.2 and standalone Keras 2.1.6 files, saved and run by those
Keras versions on Theano 1.0.5 (tests/make_legacy_fixtures.py): Keras 1
class names, configs and weight layouts, the legacy Sequential Merge, 'th'
dim ordering, Theano's true convolutions and its own 'same' padding for
convolutions, transposed convolutions and pooling."""
import os
import warnings

import numpy as np
import pytest

import bridge
from bridge.convert import read_model
from bridge.validate import load_reference
from tests.helpers import FIXTURES, OPSETS, assert_fully_shaped, assert_parity

F = os.path.join(FIXTURES, "legacy")

def _cases():
    out = []
    if not os.path.isdir(F):
        return out
    for f in sorted(os.listdir(F)):
        if not f.endswith(".npz"):
            continue
        name = f[:-4]
        out.append((name, name + ".h5", None))
        if os.path.exists(os.path.join(F, name + ".json")):
            out.append((name, name + ".json", name + "_weights.h5"))
    return out


CASES = _cases()


@pytest.mark.parametrize("opset", [OPSETS[0], OPSETS[-1]])
@pytest.mark.parametrize("name,src,weights", CASES, ids=[c[1] for c in CASES])
def test_legacy_parity(name, src, weights, opset):
    with warnings.catch_warnings():
        warnings.simplefilter("error", bridge.BridgeWarning)    # the backend is never guessed here
        # an opset above what every ONNX Runtime reads is warned about, and honoured
        warnings.filterwarnings("ignore", "opset .* is newer than", bridge.BridgeWarning)
        proto = bridge.to_onnx(os.path.join(F, src),
                               weights=os.path.join(F, weights) if weights else None, opset=opset)
    ins, outs = load_reference(os.path.join(F, name + ".npz"))
    # Keras 1 named a Sequential's input '<class>_input_<n>' with a per-session
    # counter: feed by position.
    assert_parity(proto, list(ins.values()), outs, by_position=True)
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


def test_keras1_files_are_read_as_keras1_on_theano():
    m = read_model(os.path.join(F, "k1_th_cnn.h5"))
    assert m.keras_major == 1 and (m.backend, m.backend_source) == ("theano", "weight names")
    classes = [lyr.class_name for lyr in m.walk()]
    assert "Conv2D" in classes and "Convolution2D" not in classes
    conv = next(lyr for lyr in m.walk() if lyr.class_name == "Conv2D")
    assert conv.config["data_format"] == "channels_first" and conv.config["filters"] == 4
    # ZeroPadding2D / UpSampling2D did not save their ordering: the model's is used
    pads = [lyr for lyr in m.walk() if lyr.class_name in ("ZeroPadding2D", "UpSampling2D")]
    assert pads and all(lyr.config["data_format"] == "channels_first" for lyr in pads)
    assert m.inputs[0].layer == "convolution2d_input_1"


def test_keras1_weights_become_keras2_layouts():
    m = read_model(os.path.join(F, "k1_rnn.h5"))
    lstm = next(lyr for lyr in m.walk() if lyr.class_name == "LSTM")
    assert [w.short for w in lstm.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert lstm.weight("kernel").shape == (3, 20)
    gru = next(lyr for lyr in m.walk() if lyr.class_name == "GRU")
    assert gru.config["reset_after"] is False and gru.weight("bias").shape == (12,)
    merge = read_model(os.path.join(F, "k1_merge.h5"))
    assert {"Add", "Multiply", "Average", "Maximum", "Concatenate", "Dot"} <= {
        lyr.class_name for lyr in merge.walk()}
    legacy = read_model(os.path.join(F, "k1_legacy_merge.h5"))
    assert len(legacy.inputs) == 2 and any(lyr.class_name == "Concatenate" for lyr in legacy.walk())


@pytest.mark.parametrize("name", ["k1_th_cnn", "k2th_cnn", "k2th_conv3d"])
def test_reading_theano_files_as_tensorflow_changes_the_function(name):
    ins, outs = load_reference(os.path.join(F, name + ".npz"))
    x = list(ins.values())
    theano = bridge.run(bridge.to_onnx(os.path.join(F, name + ".h5")), x, provider="cpu").outputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bridge.BridgeWarning)
        tf = bridge.run(bridge.to_onnx(os.path.join(F, name + ".h5"), backend="tensorflow"), x,
                        provider="cpu").outputs
    keras = list(outs.values())[0]
    rel = lambda a: np.linalg.norm(list(a.values())[0] - keras) / np.linalg.norm(keras)  # noqa: E731
    assert rel(theano) <= 1e-5 < 1e-2 < rel(tf)


def test_theano_same_padding_is_explicit():
    m = read_model(os.path.join(F, "k2th_cnn.h5"))
    pads = [lyr for lyr in m.walk() if lyr.class_name == "ZeroPadding2D"]
    assert pads, "strided / even-kernel 'same' convolutions get Theano's padding"
    pool = read_model(os.path.join(F, "k2th_pool_same.h5"))
    assert {lyr.class_name for lyr in pool.walk()} >= {"TheanoSamePooling"}


def test_keras1_rules_are_one_per_class():
    from bridge.normalize.keras1_configs import RULES, rule
    assert RULES["AtrousConvolution2D"] is RULES["Convolution2D"]
    with pytest.raises(ValueError, match="Convolution2D"):
        rule("Convolution2D")(lambda x: x)


def test_keras1_config_missing_a_key_is_a_config_error():
    from bridge.errors import ConfigError
    from bridge.normalize.keras1_configs import convert_config
    with pytest.raises(ConfigError, match=r"m\.h5: a Convolution2D layer: the Keras 1 config has no 'nb_filter'"):
        convert_config("Convolution2D", {"nb_row": 3, "nb_col": 3}, "channels_last", "m.h5")
