"""float16 export (bridge.deploy.fp16): every fixture converts with
precision="fp16" into a model that passes the full checker, keeps float32
inputs and outputs, leaves no redundant Casts, and matches what real Keras
computed (the fixtures' float32 outputs) within 5e-3. The whole-network
sizes and errors are in the slow tier (tests/test_deploy_networks.py)."""
import os
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto

import bridge
from bridge import cli
from bridge.errors import DependencyError, OptionError
from bridge.validate import DEFAULT_RTOLS, compare, load_reference, precision_of
from tests.cases import all_cases
from tests.helpers import at_every_opset, FIXTURES, OPSETS, assert_fully_shaped, fixture
from tests.make_keras3_fixtures import FOLDER as KERAS3, keras3_cases

pytest.importorskip("onnxconverter_common", reason="the fp16 extra (onnxconverter-common)")

RTOL = DEFAULT_RTOLS["fp16"]
EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(FIXTURES)), "examples", "small_cnn.h5")

# Outputs left out of the comparison, and why: floor and ceil of a value
# rounded to float16 land on the other integer where it lies that close to one.
DISCONTINUOUS = {"tfop_unary": {"tf.math.floor", "tf.math.ceil"}}

# One case for each thing the float16 rewrite must get right, at every opset.
FOCUS = {
    "conv/conv2d_chain": "plain convolution weights",
    "recurrent/lstm_scan_swish": "a Scan subgraph stays float32 with its own initializers",
    "recurrent/gru_initial_state_from_dense": "an omitted optional output ('') of GRU",
    "activations/relu_threshold": "the model's own Cast to float32 becomes float16",
    "pooling/masked_gap1d": "a mask Cast and a ReduceSum kept float32",
    "attention/att_masks": "the 1e9 mask constant keeps its arithmetic float32",
    "attention/mha_mask_scores": "Transpose -> MatMul (onnxruntime's fusion) and softmax",
    "norm_layers/ln_conv_channels": "LayerNormalization statistics in float32",
    "models/multi_io_shared_dense": "several inputs and outputs",
}


def _cases(names=None):
    cases = all_cases()
    if names is not None:
        cases = [c for c in cases if f"{c.family}/{c.name}" in names]
        assert len(cases) == len(names), "a FOCUS case was renamed"
    return cases


def _structure(proto):
    """Float inputs/outputs stay float32; no Cast(float16) -> Cast(float)
    pair and no two Casts of one value to one type are left."""
    g = proto.graph
    for v in list(g.input) + list(g.output):
        assert v.type.tensor_type.elem_type != TensorProto.FLOAT16, f"{v.name} is float16"
    producers = {o: n for n in g.node for o in n.output}
    casts = set()
    for n in g.node:
        if n.op_type != "Cast":
            continue
        to = n.attribute[0].i
        assert (n.input[0], to) not in casts, f"duplicate Cast of {n.input[0]}"
        casts.add((n.input[0], to))
        first = producers.get(n.input[0])
        assert not (first is not None and first.op_type == "Cast" and to == TensorProto.FLOAT
                    and first.attribute[0].i == TensorProto.FLOAT16), f"Cast pair at {n.name}"
    weights = {t.name: t.data_type for t in g.initializer}
    for n in g.node:
        if n.op_type in ("Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM", "GRU", "RNN"):
            kept = [i for i in n.input if weights.get(i) == TensorProto.FLOAT]
            assert not kept, f"{n.op_type} {n.name} keeps float32 weights {kept}"
    assert precision_of(proto) == "fp16"


def _parity(case, proto):
    ins, outs = load_reference(fixture(case)[1])
    outs = {k: v for k, v in outs.items() if k not in DISCONTINUOUS.get(case.name, ())}
    report = compare(bridge.run(proto, ins, provider="cpu").outputs, outs, rtol=RTOL, atol=0.0)
    assert report.passed, str(report)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c.family}/{c.name}")
def test_every_fixture_in_fp16(case):
    proto = bridge.to_onnx(fixture(case)[0], precision="fp16")   # runs the full checker
    _structure(proto)
    _parity(case, proto)


@at_every_opset
@pytest.mark.parametrize("case", _cases(FOCUS), ids=lambda c: f"{c.family}/{c.name}")
def test_focus_cases_at_every_opset(case, opset):
    proto = bridge.to_onnx(fixture(case)[0], opset=opset, precision="fp16")
    _structure(proto)
    _parity(case, proto)
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


@pytest.mark.parametrize("case", keras3_cases(), ids=lambda c: f"{c.family}/{c.name}")
def test_keras3_fixtures_in_fp16(case):
    path, npz = os.path.join(KERAS3, case.name + ".keras"), os.path.join(KERAS3, case.name + ".npz")
    data = np.load(npz)
    ins = {k.split(":", 1)[1]: data[k] for k in data.files if k.startswith("input:")}
    outs = [data[k] for k in sorted((k for k in data.files if k.startswith("output:")),
                                    key=lambda k: int(k.split(":")[1]))]
    proto = bridge.to_onnx(path, precision="fp16")
    _structure(proto)
    got = list(bridge.run(proto, ins, provider="cpu").outputs.values())
    names = [f"out{i}" for i in range(len(outs))]
    report = compare(dict(zip(names, got)), dict(zip(names, outs)), rtol=RTOL, atol=0.0)
    assert report.passed, str(report)


def test_weights_halve():
    p32 = bridge.to_onnx(EXAMPLE)
    p16 = bridge.to_onnx(EXAMPLE, precision="fp16")
    assert p16.ByteSize() <= 0.6 * p32.ByteSize()
    assert p16.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT


def test_float16_inputs_and_outputs_when_asked(tmp_path):
    case = next(c for c in _cases({"conv/conv2d_chain"}))
    proto = bridge.to_onnx(fixture(case)[0], precision="fp16", keep_io_types=False)
    g = proto.graph
    assert {v.type.tensor_type.elem_type for v in list(g.input) + list(g.output)} == {TensorProto.FLOAT16}
    ins, outs = load_reference(fixture(case)[1])
    got = bridge.run(proto, {k: v.astype(np.float16) for k, v in ins.items()}, provider="cpu").outputs
    assert all(v.dtype == np.float16 for v in got.values())
    assert compare(got, outs, rtol=RTOL, atol=0.0).passed


def test_check_picks_the_fp16_tolerance(tmp_path):
    out = tmp_path / "m.onnx"
    bridge.to_onnx(EXAMPLE, out, precision="fp16")
    report = bridge.check(EXAMPLE, out)
    assert report.rtol == RTOL and report.passed, str(report)
    assert bridge.check(EXAMPLE, out, rtol=1e-6).passed is False   # an explicit rtol wins


CLI_CASES = [
    # argv after MODEL, exit code, text in stdout, input type of the file written
    (["--precision", "fp16", "--check"], 0, "rtol 0.005", TensorProto.FLOAT),
    (["--precision", "fp16", "--no-keep-io-types", "--check"], 0, "PASS", TensorProto.FLOAT16),
    (["--precision", "fp16", "--check", "--rtol", "1e-6"], 1, "MISMATCH", TensorProto.FLOAT),
    (["--check"], 0, "rtol 1e-05", TensorProto.FLOAT),
]


@pytest.mark.parametrize("argv, rc, text, in_type", CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_cli(argv, rc, text, in_type, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert cli.main(["convert", EXAMPLE, "-o", str(out), *argv]) == rc
    assert text in capsys.readouterr().out
    assert onnx.load(str(out)).graph.input[0].type.tensor_type.elem_type == in_type


def test_unknown_precision_is_refused(tmp_path):
    with pytest.raises(OptionError, match="'int4'.*'fp32' or 'fp16'"):
        bridge.to_onnx(EXAMPLE, tmp_path / "m.onnx", precision="int4")
    assert not (tmp_path / "m.onnx").exists()


def test_missing_extra_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxconverter_common", None)   # import fails
    with pytest.raises(DependencyError, match=r"keras-onnx-bridge\[fp16\]"):
        bridge.to_onnx(EXAMPLE, tmp_path / "m.onnx", precision="fp16")
    assert not (tmp_path / "m.onnx").exists()
