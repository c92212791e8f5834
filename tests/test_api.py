"""The public API: to_onnx, run, check, the registry, and the README's
custom-emitter example run as written."""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import pytest

import bridge
from bridge.registry import EmitterRegistry
from bridge.validate import compare, load_reference
from tests.helpers import FIXTURES, assert_parity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(FIXTURES, "models", "multi_io_shared_dense.h5")
REF = os.path.join(FIXTURES, "models", "multi_io_shared_dense.npz")


def test_import_pulls_in_no_keras_or_tensorflow():
    code = ("import sys, bridge, bridge.cli, bridge.inspect; "
            "bad = [m for m in ('tensorflow', 'keras', 'tf_keras', 'torch', 'jax') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_to_onnx_returns_and_writes(tmp_path):
    dst = tmp_path / "m.onnx"
    proto = bridge.to_onnx(MODEL, dst)
    assert isinstance(proto, onnx.ModelProto)
    assert onnx.load(str(dst)) == proto
    assert [i.name for i in proto.graph.input] == ["a", "b"]
    assert [o.name for o in proto.graph.output] == ["ta", "shared"]
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.HasField("dim_value")


def test_run_inputs_by_dict_list_and_provider():
    ins, outs = load_reference(REF)
    proto = bridge.to_onnx(MODEL)
    by_dict = bridge.run(proto, ins, provider="cpu")
    by_list = bridge.run(proto, [ins["a"], ins["b"]], provider="auto")
    assert by_dict.provider == "CPUExecutionProvider"
    assert by_list.provider in ("CPUExecutionProvider", "CUDAExecutionProvider")
    for name in outs:
        np.testing.assert_array_equal(by_dict.outputs[name], by_list.outputs[name])
    with pytest.raises(bridge.BridgeError, match="missing"):
        bridge.run(proto, {"a": ins["a"]})


def test_cuda_provider_is_used_or_refused_clearly():
    import onnxruntime as ort
    proto = bridge.to_onnx(MODEL)
    ins, outs = load_reference(REF)
    if "CUDAExecutionProvider" in ort.get_available_providers():
        r = bridge.run(proto, ins, provider="cuda")
        assert r.provider == "CUDAExecutionProvider"
        assert compare(r.outputs, outs, rtol=1e-5, atol=0.0).passed
    else:
        with pytest.raises(bridge.BridgeError, match="onnxruntime-gpu"):
            bridge.run(proto, ins, provider="cuda")


def test_check_report(tmp_path):
    dst = tmp_path / "m.onnx"
    bridge.to_onnx(MODEL, dst)
    report = bridge.check(MODEL, dst, REF, rtol=1e-5, atol=0.0)
    assert report.passed
    assert [o.name for o in report.outputs] == ["ta", "shared"]
    text = str(report)
    assert "rel" in text and "max abs" in text and "PASS" in text


def test_check_finds_the_reference_beside_the_model(tmp_path):
    dst = tmp_path / "m.onnx"
    bridge.to_onnx(MODEL, dst)
    assert bridge.check(MODEL, dst).reference == REF


def test_check_reports_a_mismatch_and_where(tmp_path):
    ins, outs = load_reference(REF)
    outs["shared"] = outs["shared"].copy()
    outs["shared"][1, 2] += 0.5
    ref = tmp_path / "bad.npz"
    np.savez(ref, **{f"input:{k}": v for k, v in ins.items()}, **{f"output:{k}": v for k, v in outs.items()})
    dst = tmp_path / "m.onnx"
    bridge.to_onnx(MODEL, dst)
    report = bridge.check(MODEL, dst, ref, rtol=1e-5, atol=0.0)
    assert not report.passed
    bad = [o for o in report.outputs if not o.passed]
    assert [o.name for o in bad] == ["shared"]
    assert bad[0].worst_index == (1, 2)
    assert bad[0].max_abs == pytest.approx(0.5, rel=1e-5)


def test_positional_reference_names(tmp_path):
    ins, outs = load_reference(REF)
    ref = tmp_path / "pos.npz"
    np.savez(ref, input_0=ins["a"], input_1=ins["b"], output_0=outs["ta"], output_1=outs["shared"])
    dst = tmp_path / "m.onnx"
    bridge.to_onnx(MODEL, dst)
    assert bridge.check(MODEL, dst, ref, rtol=1e-5, atol=0.0).passed


def test_dl4j_style_reference(tmp_path):
    import h5py
    ins, outs = load_reference(REF)
    ref = tmp_path / "m_inputs_and_outputs.h5"
    with h5py.File(ref, "w") as f:
        for k, v in ins.items():
            f[f"inputs/{k}"] = v
        for k, v in outs.items():
            f[f"predictions/{k}"] = v
            f[f"outputs/{k}"] = np.zeros_like(v)   # training targets: must be ignored
    dst = tmp_path / "m.onnx"
    bridge.to_onnx(MODEL, dst)
    assert bridge.check(MODEL, dst, ref, rtol=1e-5, atol=0.0).passed


def _readme_example() -> str:
    text = open(os.path.join(ROOT, "README.md")).read()
    block = text.split("<!-- custom-emitter-example -->", 1)[1]
    return re.search(r"```python\n(.*?)```", block, re.S).group(1)


def test_readme_custom_emitter_example(tmp_path, monkeypatch):
    src = os.path.join(FIXTURES, "custom", "custom_relu_sigmoid.h5")
    with pytest.raises(bridge.BridgeError, match="ReluSigmoid"):
        bridge.to_onnx(src)
    monkeypatch.chdir(tmp_path)
    os.symlink(src, tmp_path / "custom_model.h5")
    try:
        exec(compile(_readme_example(), "README.md", "exec"), {})
        ins, outs = load_reference(src.replace(".h5", ".npz"))
        assert_parity(str(tmp_path / "custom_model.onnx"), ins, outs)
    finally:
        bridge.REGISTRY.unregister("ReluSigmoid")


def test_registry_rejects_duplicates_and_picks_by_opset():
    reg = EmitterRegistry()

    @reg.register("X")
    def x13(layer, inputs, ctx):
        return inputs

    with pytest.raises(ValueError, match="already registered"):
        reg.register("X")(x13)

    @reg.register("X", min_opset=18)
    def x18(layer, inputs, ctx):
        return inputs

    assert reg.lookup("X", 13).fn is x13
    assert reg.lookup("X", 17).fn is x13
    assert reg.lookup("X", 21).fn is x18
    assert reg.lookup("Y", 21) is None


def test_a_replaced_emitter_keeps_the_weight_names():
    """Keras 3 files store variables by position; the names come from the
    registration, and a user's replacement (replace=True) must not lose them."""
    reg = EmitterRegistry()
    reg.register("Y", weights=("kernel", "bias"))(lambda layer, inputs, ctx: inputs)
    reg.register("Y", replace=True)(lambda layer, inputs, ctx: inputs)
    assert reg.lookup("Y", 17).weights == ("kernel", "bias")
    reg.register("Y", replace=True, weights=("kernel",))(lambda layer, inputs, ctx: inputs)
    assert reg.lookup("Y", 17).weights == ("kernel",)


def test_a_replaced_emitter_is_used_from_its_opset_up():
    """bridge.register(cls, replace=True) means 'use mine': a built-in for a
    later opset (LayerNormalization's native one from 17) no longer wins."""
    reg = EmitterRegistry()
    old13, old17, new13, new17 = (lambda layer, inputs, ctx: inputs for _ in range(4))
    reg.register("Z")(old13)
    reg.register("Z", min_opset=17)(old17)
    reg.register("Z", replace=True)(new13)
    assert reg.lookup("Z", 13).fn is new13 and reg.lookup("Z", 21).fn is new13
    reg.register("Z", min_opset=17)(old17)          # without replace: beside it, as before
    reg.register("Z", min_opset=17, replace=True)(new17)
    assert reg.lookup("Z", 13).fn is new13 and reg.lookup("Z", 17).fn is new17


def test_opset_sets_model_and_ir_version():
    proto = bridge.to_onnx(MODEL, opset=13)
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 13)]
    assert proto.ir_version == 7
