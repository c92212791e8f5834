"""Custom layers: the seeds' MyActivation and MyCustomLayer (examples/, saved
by tf-keras and Keras 3 with the outputs Keras's predict gave) convert with
emitters given per call, through `bridge convert --plugin` and through an
installed package's entry point; weights by position in every format;
Keras 3 registered names with or without their package."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import bridge
from bridge.registry import REGISTRY, EmitterRegistry, load_plugins

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
sys.path.insert(0, EXAMPLES)
from custom_layers import EMITTERS, my_activation, my_custom_layer  # noqa: E402

FILES = [("custom_layers_k2.h5", "custom_layers_k2.npz"), ("custom_layers_k3.keras", "custom_layers_k3.npz")]


def _parity(src, proto, ref):
    r = np.load(os.path.join(EXAMPLES, ref))
    out = bridge.run(proto.SerializeToString(), [r["input:features"]]).outputs["projection"]
    report = bridge.validate.compare({"y": out}, {"y": r["output:projection"]}, rtol=1e-5, atol=0.0)
    assert report.passed, str(report)


@pytest.mark.parametrize("model,ref", FILES)
def test_emitters_per_call(model, ref):
    src = os.path.join(EXAMPLES, model)
    proto = bridge.to_onnx(src, emitters=EMITTERS)
    _parity(src, proto, ref)
    assert REGISTRY.lookup("MyCustomLayer", 17) is None       # the global registry is untouched
    with pytest.raises(bridge.UnsupportedError, match=r"emitters=\{'MyActivation': fn\}"):
        bridge.to_onnx(src)


@pytest.mark.parametrize("model,ref", FILES)
def test_layer_name_comes_before_class_name(model, ref):
    def wrong(layer, inputs, ctx):
        raise AssertionError("the class-name emitter ran for a layer given by name")
    src = os.path.join(EXAMPLES, model)
    proto = bridge.to_onnx(src, emitters={"gate": my_activation, "MyActivation": wrong,
                                          "projection": my_custom_layer})
    _parity(src, proto, ref)


def test_weight_by_name_where_stored_and_error_in_keras_terms():
    def by_name(name):
        def emit(layer, inputs, ctx):
            w = ctx.weight(layer, name)
            return [bridge.Tensor(name=ctx.g.op("MatMul", inputs[0].name, ctx.const(w, "w")),
                                  shape=(None, w.shape[1]))]
        return emit
    h5 = os.path.join(EXAMPLES, "custom_layers_k2.h5")
    _parity(h5, bridge.to_onnx(h5, emitters={"MyActivation": my_activation, "MyCustomLayer": by_name("Variable")}),
            "custom_layers_k2.npz")
    k3 = os.path.join(EXAMPLES, "custom_layers_k3.keras")
    with pytest.raises(bridge.WeightsError) as e:
        bridge.to_onnx(k3, emitters={"MyActivation": my_activation, "MyCustomLayer": by_name("w")})
    msg = str(e.value)
    assert "layer 'projection' (MyCustomLayer) has no 'w' weight" in msg
    assert "[0] (6, 4)" in msg and "ctx.weight(layer, i)" in msg and "var_0" not in msg


def test_plugin_on_the_command_line(tmp_path):
    out = tmp_path / "m.onnx"
    r = subprocess.run([sys.executable, "-m", "bridge", "convert", "custom_layers_k3.keras", "-o", str(out),
                        "--plugin", "custom_layers_plugin", "--check"], cwd=EXAMPLES, capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "PASS" in r.stdout and out.exists()
    r = subprocess.run([sys.executable, "-m", "bridge", "convert", "custom_layers_k3.keras", "-o", str(out),
                        "--plugin", "no_such_plugin"], cwd=EXAMPLES, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": ROOT})
    assert r.returncode == 2 and "--plugin no_such_plugin" in r.stderr


def test_entry_point_group(tmp_path, monkeypatch):
    """A package declaring its emitters under 'bridge.emitters' is loaded before converting."""
    (tmp_path / "my_layers_pkg.py").write_text(
        "import bridge\nfrom custom_layers import EMITTERS\n"
        "for k, fn in EMITTERS.items():\n    bridge.register(k, replace=True)(fn)\n")
    info = tmp_path / "my_layers_pkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-layers-pkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[bridge.emitters]\nmy_layers = my_layers_pkg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        src = os.path.join(EXAMPLES, "custom_layers_k3.keras")
        proto = bridge.to_onnx(src)
        _parity(src, proto, "custom_layers_k3.npz")
        assert "my_layers" not in load_plugins()       # once per process
    finally:
        REGISTRY.unregister("MyActivation")
        REGISTRY.unregister("MyCustomLayer")


def test_registered_names_with_or_without_package():
    reg = EmitterRegistry()
    reg.register("my_pkg>Foo")(my_activation)
    reg.register("Bar")(my_activation)
    # a bare 'Foo' in a file is a class of its own, not the package's
    assert reg.lookup("Foo", 17) is None
    assert reg.lookup("my_pkg>Foo", 17).fn is my_activation
    assert reg.lookup("other>Bar", 17).fn is my_activation
    assert reg.lookup("Baz", 17) is None
    with REGISTRY.given({"Foo": my_activation}):
        assert REGISTRY.lookup("my_pkg>Foo", 17, "layer_1").fn is my_activation
    assert REGISTRY.lookup("my_pkg>Foo", 17, "layer_1") is None


def test_public_names():
    for name in ("Tensor", "Context", "BridgeError", "UnsupportedError", "WeightsError", "register"):
        assert hasattr(bridge, name) and name in bridge.__all__
