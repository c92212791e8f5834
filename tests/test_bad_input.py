"""Every bad input a user can hand over gets a BridgeError subclass whose
message names the file (and the layer, where there is one) and what to do,
the CLI prints one line and exits 2, and nothing is left at the output path."""
import errno
import json
import os
import shutil

import h5py
import numpy as np
import pytest

import bridge
from bridge import cli
from bridge.errors import (ConfigError, InputFileError, OpsetError, UnsupportedError,
                           WeightsError)
from tests.helpers import FIXTURES

DENSE = os.path.join(FIXTURES, "models", "intermediate_output.h5")


def _copy(tmp_path, name="m.h5"):
    dst = tmp_path / name
    shutil.copy(DENSE, dst)
    return dst


def _edit_config(path, edit):
    with h5py.File(path, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        edit(cfg)
        f.attrs["model_config"] = json.dumps(cfg)


def missing(tmp_path):
    return tmp_path / "nope.h5"


def directory(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    return d


def saved_model_dir(tmp_path):
    d = tmp_path / "sm"
    d.mkdir()
    (d / "saved_model.pb").write_bytes(b"\x08\x01")
    return d


def empty(tmp_path):
    p = tmp_path / "empty.h5"
    p.write_bytes(b"")
    return p


def random_bytes(tmp_path):
    p = tmp_path / "random.h5"
    p.write_bytes(np.random.default_rng(0).bytes(4096))
    return p


def truncated(tmp_path):
    p = tmp_path / "truncated.h5"
    p.write_bytes(open(DENSE, "rb").read()[:3000])
    return p


def not_keras_hdf5(tmp_path):
    p = tmp_path / "data.h5"
    with h5py.File(p, "w") as f:
        f["x"] = np.arange(3)
    return p


def weights_only(tmp_path):
    p = tmp_path / "w.h5"
    with h5py.File(DENSE, "r") as src, h5py.File(p, "w") as f:
        for k, v in src["model_weights"].attrs.items():
            f.attrs[k] = v
        for k in src["model_weights"]:
            src.copy(src["model_weights"][k], f, k)
    return p


def bad_json_attr(tmp_path):
    p = _copy(tmp_path)
    with h5py.File(p, "r+") as f:
        f.attrs["model_config"] = "{\"class_name\": \"Functional\", "
    return p


def not_a_model_config(tmp_path):
    p = _copy(tmp_path)
    with h5py.File(p, "r+") as f:
        f.attrs["model_config"] = json.dumps({"hello": 1})
    return p


def malformed_json_file(tmp_path):
    p = tmp_path / "arch.json"
    p.write_text('{"class_name": "Sequential", "config": {"layers": [')
    return p


def dangling_input(tmp_path):
    p = _copy(tmp_path)

    def edit(cfg):
        cfg["config"]["layers"][1]["inbound_nodes"] = [[["ghost", 0, 0, {}]]]
    _edit_config(p, edit)
    return p


def malformed_configs(tmp_path):
    """Two layers with values Keras itself refuses: both reported at once."""
    p = tmp_path / "cnn.h5"
    shutil.copy(os.path.join(os.path.dirname(FIXTURES), "..", "examples", "small_cnn.h5"), p)

    def edit(cfg):
        layers = {lyr["config"]["name"]: lyr for lyr in cfg["config"]["layers"]}
        layers["conv1"]["config"]["padding"] = "full"
        layers["pool2"]["config"]["strides"] = [2, 0]
    _edit_config(p, edit)
    return p


def groups_not_dividing_the_channels(tmp_path):
    """A value that only the input's shape shows wrong is found while
    emitting, and still reported with the file and the layer."""
    p = tmp_path / "cnn.h5"
    shutil.copy(os.path.join(os.path.dirname(FIXTURES), "..", "examples", "small_cnn.h5"), p)

    def edit(cfg):
        layers = {lyr["config"]["name"]: lyr for lyr in cfg["config"]["layers"]}
        layers["conv1"]["config"]["groups"] = 2     # divides the 16 filters, not the 3 channels
    _edit_config(p, edit)
    return p


def unknown_layers(tmp_path):
    p = _copy(tmp_path)

    def edit(cfg):
        cfg["config"]["layers"][1]["class_name"] = "MyCustomLayer"
        cfg["config"]["layers"][2]["class_name"] = "AnotherCustom"
    _edit_config(p, edit)
    return p


def wrong_weight_shape(tmp_path):
    p = _copy(tmp_path)

    def edit(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = 7
    _edit_config(p, edit)
    return p


def foreign_weights(tmp_path):
    p = _copy(tmp_path)
    with h5py.File(p, "r+") as f:
        g = f["model_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["layer_names"]]
        g.attrs["layer_names"] = [n.replace("hidden", "other").encode() for n in names]
        g.move("hidden", "other")
    return p


def missing_weight_group(tmp_path):
    p = _copy(tmp_path)
    with h5py.File(p, "r+") as f:
        del f["model_weights"]["head"]
    return p


# (maker, error class, words the message must contain, layer named)
CASES = [
    (missing, InputFileError, ["no such file"]),
    (directory, InputFileError, ["directory"]),
    (saved_model_dir, InputFileError, ["SavedModel", "model.save("]),
    (empty, InputFileError, ["empty"]),
    (random_bytes, InputFileError, ["not a Keras model file"]),
    (truncated, InputFileError, ["truncated"]),
    (not_keras_hdf5, InputFileError, ["no Keras model config"]),
    (weights_only, InputFileError, ["weights only", "--weights"]),
    (bad_json_attr, ConfigError, ["not valid JSON"]),
    (not_a_model_config, ConfigError, ["class_name"]),
    (malformed_json_file, ConfigError, ["not valid JSON"]),
    (dangling_input, ConfigError, ["'hidden' (Dense)", "ghost"]),
    (malformed_configs, ConfigError, ["2 layer configs are malformed", "'conv1' (Conv2D)",
                                      "padding 'full'", "'pool2' (MaxPooling2D)", "strides"]),
    (groups_not_dividing_the_channels, ConfigError, ["'conv1' (Conv2D)", "groups=2", "3 input channels"]),
    (unknown_layers, UnsupportedError, ["2 layers are not supported", "'hidden' (MyCustomLayer)",
                                        "'head' (AnotherCustom)", "bridge.register"]),
    (wrong_weight_shape, WeightsError, ["'hidden' (Dense)", "(5, 6)", "(5, 7)"]),
    (foreign_weights, WeightsError, ["other"]),
    (missing_weight_group, WeightsError, ["head", "truncated or damaged"]),
]


@pytest.mark.parametrize("make,error,words", CASES, ids=[c[0].__name__ for c in CASES])
def test_api_error(tmp_path, make, error, words):
    src = make(tmp_path)
    dst = tmp_path / "out.onnx"
    with pytest.raises(error) as info:
        bridge.to_onnx(src, dst)
    msg = str(info.value)
    assert str(src) in msg, msg
    for w in words:
        assert w in msg, msg
    assert isinstance(info.value, bridge.BridgeError)
    assert not dst.exists()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".onnx"] == []


@pytest.mark.parametrize("make,error,words", CASES, ids=[c[0].__name__ for c in CASES])
def test_cli_error_is_one_line(tmp_path, capsys, make, error, words):
    src = make(tmp_path)
    dst = tmp_path / "out.onnx"
    rc = cli.main(["convert", str(src), "-o", str(dst)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not dst.exists()


@pytest.mark.parametrize("opset", [12, 99, "x"])
def test_bad_opset(tmp_path, opset):
    with pytest.raises(OpsetError, match="opsets 13 to|not a number"):
        bridge.to_onnx(DENSE, tmp_path / "o.onnx", opset=opset)
    assert not (tmp_path / "o.onnx").exists()


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def boom(data, fh=None):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(bridge.OutputError, match="disk is full"):
        bridge.to_onnx(DENSE, tmp_path / "o.onnx")
    assert list(tmp_path.iterdir()) == []


def test_nested_model_called_in_training_mode_is_refused(tmp_path):
    src = tmp_path / "m.h5"
    shutil.copy(os.path.join(FIXTURES, "models", "nested_bn_training_false.h5"), src)

    def edit(cfg):
        base = [lyr for lyr in cfg["config"]["layers"] if lyr["name"] == "base"][0]
        base["inbound_nodes"][0][0][3]["training"] = True
    _edit_config(src, edit)
    with pytest.raises(UnsupportedError, match=r"'base' \(Functional\).*training=True.*batch_normalization"):
        bridge.to_onnx(src, tmp_path / "o.onnx")
    assert not (tmp_path / "o.onnx").exists()
