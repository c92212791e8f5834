"""Other runtimes: exports made for OpenVINO, tract and onnx.reference run
there and match what Keras computed; the default export loads and matches in
ONNX Runtime for Node; the target table and its options.

Every fixture model runs on each Python runtime installed here (pip
install '.[runtimes]'; about a minute in all); ONNX Runtime for Node
(tests/node_runtime.py) takes every BRIDGE_RUNTIME_EVERY-th model (default
6; 1 for every one). tests/runtime_matrix.py runs them all at several
opsets and prints the README's table.
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest

import bridge
from bridge import cli
from bridge import runtimes, targets
from bridge.errors import RuntimeMissingError, RuntimeRunError, TargetError
from bridge.validate import compare, load_reference
from tests import node_runtime
from tests.helpers import FIXTURES
from tests.runtime_matrix import models, rtol_for

EVERY = int(os.environ.get("BRIDGE_RUNTIME_EVERY", "6"))
RTOL = 1e-5
# What a runtime is known to get wrong even in the export made for it, with
# the reason (README, "Runtimes"); such a model must still fail there, so
# that a fixed runtime shows up here.
KNOWN = {
    ("openvino", "recurrent/seq_consumers.h5"): "OpenVINO's bidirectional GRU beside an LSTM",
    ("openvino", "libraries/qkeras/qpooling.h5"):
        "OpenVINO's low-precision ClampTransformation fails its own min <= max check on a Clip",
    ("openvino", "quantized/text_mha_int8.keras"): "OpenVINO's int8 attention (rel 1.1e-4)",
}


ALL = models()
SUBSET = ALL[::EVERY] if EVERY > 1 else ALL
PY_RUNTIMES = ["openvino", "tract", "reference"]


def _feed_and_expected(proto, ref):
    from tests.runtime_matrix import _expected, _feed
    ins, outs = load_reference(ref)
    return _feed(proto, ins), _expected(proto, outs)


def _convert(src, weights, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bridge.BridgeWarning)
        return bridge.to_onnx(src, weights=weights, **kw)


@pytest.mark.parametrize("label,src,weights,ref", ALL, ids=[m[0] for m in ALL])
def test_target_export_matches_keras_on_its_runtime(label, src, weights, ref):
    here = [rt for rt in PY_RUNTIMES if runtimes.available(rt)]
    if not here:
        pytest.skip(f"none of {', '.join(PY_RUNTIMES)} is installed (pip install '.[runtimes]')")
    rtol = rtol_for(label, RTOL)
    failed = [f"{rt}: {why}" for rt in here if (why := _fails_on(rt, label, src, weights, ref, rtol))]
    assert not failed, "\n".join(failed)


def _fails_on(runtime, label, src, weights, ref, rtol) -> str:
    """What goes wrong with the export for `runtime` there ('' when it
    matches Keras, and still matches in ONNX Runtime)."""
    proto = _convert(src, weights, target=runtime)
    feed, expected = _feed_and_expected(proto, ref)
    if (runtime, label) in KNOWN:
        try:
            got = bridge.run(proto, feed, runtime=runtime).outputs
        except RuntimeRunError:
            return ""
        passed = compare(got, expected, rtol=rtol, atol=0.0).passed
        return "it now runs the model: drop it from KNOWN" if passed else ""
    try:
        got = bridge.run(proto, feed, runtime=runtime).outputs
    except RuntimeRunError as e:
        return str(e)
    report = compare(got, expected, rtol=rtol, atol=0.0)
    if not report.passed:
        return str(report)
    # the export for another runtime still matches in ONNX Runtime
    report = compare(bridge.run(proto, feed, provider="cpu").outputs, expected, rtol=rtol, atol=0.0)
    return "" if report.passed else f"its export fails in ONNX Runtime: {report}"


def test_default_exports_match_in_onnxruntime_for_node(tmp_path):
    if not node_runtime.available():
        pytest.skip("node or onnxruntime-node not found (npm install --prefix DIR "
                    "onnxruntime-node --ignore-scripts; BRIDGE_NODE_MODULES=DIR/node_modules)")
    jobs, expects = [], []
    for k, (label, src, weights, ref) in enumerate(SUBSET):
        proto = _convert(src, weights)
        path = tmp_path / f"m{k}.onnx"
        onnx.save(proto, str(path))
        feed, expected = _feed_and_expected(proto, ref)
        jobs.append((str(path), list(runtimes.feed_for(proto, feed).items())))
        expects.append((label, expected))
    results = node_runtime.run_batch(jobs, str(tmp_path / "work"))
    failed = []
    for (label, expected), got in zip(expects, results):
        if isinstance(got, str):
            failed.append(f"{label}: {got}")
            continue
        report = compare(got, expected, rtol=rtol_for(label, RTOL), atol=0.0)
        if not report.passed:
            failed.append(f"{label}: {report}")
    assert not failed, f"{len(failed)} of {len(jobs)} fail in ONNX Runtime for Node " \
                       f"{node_runtime.version()}:\n" + "\n".join(failed[:10])


# -- the options --------------------------------------------------------------

MODEL = os.path.join(FIXTURES, "models", "nested_shared_functional.h5")
LSTM_HARD_SIGMOID = os.path.join(FIXTURES, "recurrent", "lstm_hard_sigmoid_relu.h5")
MASKED = os.path.join(FIXTURES, "recurrent", "mask_lstm_seq.h5")

# target, model, does the LSTM take the explicit recurrence (Scan)?
SCAN_CASES = [
    ("onnxruntime", LSTM_HARD_SIGMOID, False),
    ("openvino", LSTM_HARD_SIGMOID, True),
    ("tract", LSTM_HARD_SIGMOID, True),
    ("reference", LSTM_HARD_SIGMOID, True),
    ("portable", LSTM_HARD_SIGMOID, True),
    ("onnxruntime", MASKED, False),
    ("openvino", MASKED, True),
    ("tract", MASKED, True),
]


@pytest.mark.parametrize("target,src,scan", SCAN_CASES,
                         ids=[f"{c[0]}-{os.path.basename(c[1])}" for c in SCAN_CASES])
def test_target_picks_the_recurrence(target, src, scan, capsys):
    proto = _convert(src, None, target=target)
    ops = {n.op_type for n in proto.graph.node}
    assert ("Scan" in ops) is scan and ("LSTM" in ops) is not scan
    assert cli.main(["inspect", src, "--target", target]) == 0
    text = capsys.readouterr().out
    assert f"target {target}" in text
    assert ("explicit recurrence" in text) is scan


def test_default_export_reads_in_onnxruntime_everywhere():
    top = targets.get(None)
    for opset in (None, top.max_opset):
        proto = _convert(MODEL, None, opset=opset)
        assert proto.ir_version <= top.max_ir and proto.opset_import[0].version <= top.max_opset


def test_an_opset_newer_than_the_target_reads_is_warned_about():
    import opsets
    if opsets.max_opset() <= targets.get(None).max_opset:
        pytest.skip("the installed onnxruntime reads no opset past the target's")
    with pytest.warns(bridge.BridgeWarning, match="Node and web"):
        bridge.to_onnx(MODEL, opset=opsets.max_opset())


def test_batch_size_fixes_the_batch_dimension():
    proto = bridge.to_onnx(MODEL, batch_size=3)
    for v in list(proto.graph.input) + list(proto.graph.output):
        assert v.type.tensor_type.shape.dim[0].dim_value == 3
    ins, outs = load_reference(MODEL[:-3] + ".npz")
    assert next(iter(ins.values())).shape[0] == 3
    assert compare(bridge.run(proto, ins).outputs, outs, rtol=RTOL, atol=0.0).passed


# quantized layers: QuantizeLinear / DequantizeLinear, which onnx.reference runs from opset 19
# only, and float8 rounding, which from opset 19 is a Cast pair tract and OpenVINO get wrong
QUANTIZED = [m for m in ALL if m[0] in ("libraries/qkeras/qconv.h5", "libraries/qkeras/qdense_bits.h5",
                                        "quantized/dense_float8.keras", "quantized/text_mha_float8.keras")]


@pytest.mark.parametrize("label,src,weights,ref", QUANTIZED, ids=[m[0] for m in QUANTIZED])
def test_the_portable_export_runs_everywhere(label, src, weights, ref):
    here = [rt for rt in PY_RUNTIMES if runtimes.available(rt)]
    if not here:
        pytest.skip(f"none of {', '.join(PY_RUNTIMES)} is installed (pip install '.[runtimes]')")
    proto = _convert(src, weights, target="portable")
    feed, expected = _feed_and_expected(proto, ref)
    for rt in ["onnxruntime"] + here:
        report = compare(bridge.run(proto, feed, runtime=rt).outputs, expected, rtol=RTOL, atol=0.0)
        assert report.passed, f"{rt}: {report}"


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", True])
def test_batch_size_must_be_a_positive_integer(bad):
    with pytest.raises(TargetError, match="batch_size"):
        bridge.to_onnx(MODEL, batch_size=bad)


def test_unknown_target_and_runtime():
    with pytest.raises(TargetError, match="portable"):
        bridge.to_onnx(MODEL, target="tensorrt")
    with pytest.raises(RuntimeMissingError, match="openvino"):
        bridge.run(bridge.to_onnx(MODEL), np.zeros((1, 3), np.float32), runtime="mxnet")


def test_missing_runtime_names_the_extra(tmp_path):
    # a Python where importing tract fails, as where it is not installed
    code = ("import sys, numpy as np, bridge\n"
            "sys.modules['tract'] = None\n"
            "try:\n"
            f"    bridge.run(bridge.to_onnx({MODEL!r}), np.zeros((1, 3), np.float32), runtime='tract')\n"
            "except bridge.BridgeError as e:\n"
            "    print(type(e).__name__, e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert "RuntimeMissingError" in r.stdout and "[runtimes]" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("runtime", ["onnxruntime"] + PY_RUNTIMES)
def test_cli_check_on_a_runtime(runtime, tmp_path, capsys):
    if not runtimes.available(runtime):
        pytest.skip(f"{runtime} is not installed")
    out = tmp_path / "m.onnx"
    assert cli.main(["convert", MODEL, "-o", str(out), "--target",
                            "portable" if runtime == "onnxruntime" else runtime]) == 0
    assert cli.main(["check", MODEL, str(out), "--runtime", runtime]) == 0
    text = capsys.readouterr().out
    assert "PASS" in text and (runtime in text or runtime == "onnxruntime")
