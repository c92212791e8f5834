"""Post-training int8 (bridge.quantize / `bridge quantize`) through ONNX
Runtime's quantizer: dynamic, and static calibrated on a .npz, each checked
against the outputs real Keras computed for the fixture, at the int8
tolerance. Whole networks are in the slow tier (tests/test_deploy_networks.py)."""
import importlib.util
import os

import numpy as np
import onnx
import pytest

import bridge
from bridge import cli
from bridge.errors import BridgeError, OptionError
from bridge.validate import DEFAULT_RTOLS, find_reference_beside, load_reference, precision_of
from tests.helpers import FIXTURES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "small_cnn.h5")

CASES = [
    # (Keras file, calibrate?, ops the int8 model must hold)
    (EXAMPLE, False, {"DynamicQuantizeLinear", "ConvInteger", "MatMulInteger"}),
    (EXAMPLE, True, {"QuantizeLinear", "DequantizeLinear", "Conv", "Gemm"}),
    (os.path.join(FIXTURES, "core", "dense_3d.h5"), False, {"MatMulInteger"}),
    (os.path.join(FIXTURES, "recurrent", "text_classifier.h5"), False, {"DynamicQuantizeLinear"}),
    (os.path.join(FIXTURES, "recurrent", "text_classifier.h5"), True, {"QuantizeLinear"}),
    (os.path.join(FIXTURES, "attention", "mha_axis2.h5"), True, {"QuantizeLinear"}),
    (os.path.join(FIXTURES, "recurrent", "lstm_scan_swish.h5"), False, {"MatMulInteger"}),
]


def _export(src, tmp_path):
    out = tmp_path / (os.path.splitext(os.path.basename(src))[0] + ".onnx")
    bridge.to_onnx(src, out)
    return out


def _calibration(src, tmp_path):
    ins, _ = load_reference(find_reference_beside(src))
    path = tmp_path / "calibration.npz"
    np.savez(path, **{f"input:{k}": v for k, v in ins.items()})
    return path


@pytest.mark.parametrize("src, calibrate, ops", CASES,
                         ids=[f"{os.path.basename(c[0])}-{'static' if c[1] else 'dynamic'}" for c in CASES])
def test_quantize_against_keras(src, calibrate, ops, tmp_path):
    f32 = _export(src, tmp_path)
    ref = find_reference_beside(src)
    out = tmp_path / "int8.onnx"
    report = bridge.quantize(f32, out, calibration=_calibration(src, tmp_path) if calibrate else None,
                             reference=ref)
    assert report.passed and report.rtol == DEFAULT_RTOLS["int8"], str(report)
    assert report.reference == ref
    q = onnx.load(str(out))
    assert ops <= {n.op_type for n in q.graph.node}
    assert precision_of(q) == "int8"
    assert bridge.check(src, out, ref).rtol == DEFAULT_RTOLS["int8"]


def test_weights_shrink(tmp_path):
    f32 = _export(EXAMPLE, tmp_path)
    bridge.quantize(f32, tmp_path / "q.onnx")
    assert os.path.getsize(tmp_path / "q.onnx") < 0.35 * os.path.getsize(f32)


def test_without_reference_compares_with_the_float_model(tmp_path):
    f32 = _export(EXAMPLE, tmp_path)          # no .npz beside it in tmp_path
    report = bridge.quantize(f32, tmp_path / "q.onnx")
    assert "float32 model on 2 random inputs" in report.reference and report.passed
    assert "vs float32" in str(report)
    report = bridge.quantize(f32, tmp_path / "q.onnx", calibration=_calibration(EXAMPLE, tmp_path))
    assert "calibration inputs" in report.reference and report.passed


CLI_CASES = [
    # extra argv, exit code, text
    ([], 0, "int8 dynamic"),
    (["--calibration", "{cal}", "--reference", "{ref}"], 0, "int8 static, calibrated on"),
    (["--no-per-channel"], 0, "PASS"),
    (["--reference", "{bad}"], 1, "MISMATCH"),
    (["--reference", "{bad}", "--rtol", "3"], 0, "PASS"),
    (["--calibration", "{missing}"], 2, "no such file"),
    (["--calibration", "{wrong}"], 2, "do not match the model"),
]


@pytest.mark.parametrize("argv, rc, text", CLI_CASES, ids=[" ".join(c[0]) or "dynamic" for c in CLI_CASES])
def test_cli(argv, rc, text, tmp_path, capsys):
    f32 = _export(EXAMPLE, tmp_path)
    ins, outs = load_reference(find_reference_beside(EXAMPLE))
    np.savez(tmp_path / "bad.npz", **{f"input:{k}": v for k, v in ins.items()},
             **{f"output:{k}": -v for k, v in outs.items()})
    np.savez(tmp_path / "wrong.npz", **{"input:nope": ins["image"], "input:other": ins["image"]})
    paths = {"cal": _calibration(EXAMPLE, tmp_path), "ref": find_reference_beside(EXAMPLE),
             "bad": tmp_path / "bad.npz", "missing": tmp_path / "none.npz", "wrong": tmp_path / "wrong.npz"}
    argv = [a.format(**paths) for a in argv]
    out = tmp_path / "q.onnx"
    assert cli.main(["quantize", str(f32), "-o", str(out), *argv]) == rc
    captured = capsys.readouterr()
    assert text in captured.out + captured.err
    assert out.exists() == (rc != 2)


def test_float16_model_is_refused(tmp_path):
    pytest.importorskip("onnxconverter_common")
    f16 = tmp_path / "m16.onnx"
    bridge.to_onnx(EXAMPLE, f16, precision="fp16")
    with pytest.raises(OptionError, match="already fp16.*float32 export"):
        bridge.quantize(f16, tmp_path / "q.onnx")
    assert not (tmp_path / "q.onnx").exists()


def test_missing_model(tmp_path):
    with pytest.raises(BridgeError, match="no such file"):
        bridge.quantize(tmp_path / "none.onnx", tmp_path / "q.onnx")


def test_precision_read_from_the_graph_without_metadata(tmp_path):
    f32 = _export(EXAMPLE, tmp_path)
    bridge.quantize(f32, tmp_path / "q.onnx")
    models = {"fp32": onnx.load(str(f32)), "int8": onnx.load(str(tmp_path / "q.onnx"))}
    if importlib.util.find_spec("onnxconverter_common"):
        models["fp16"] = bridge.to_onnx(EXAMPLE, precision="fp16")
    for precision, proto in models.items():
        del proto.metadata_props[:]
        assert precision_of(proto) == precision


def test_not_an_onnx_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nonsense")
    assert cli.main(["quantize", str(bad), "-o", str(tmp_path / "q.onnx")]) == 2
    assert not (tmp_path / "q.onnx").exists()
