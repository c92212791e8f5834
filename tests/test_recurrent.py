"""Recurrent family: graph structure (one ONNX LSTM / GRU / RNN node per
standard layer, one bidirectional node per Bidirectional, Scan only where the
ONNX nodes cannot express the layer), masks, stateful layers' state ports, the inspect
hook, and the recurrent files of the shared conformance corpus.

Values are checked against real Keras: the case fixtures in test_layers.py,
here the corpus files' stored predictions or, for the Keras 2 files that
have none, live tf-keras (in this process when importable, else the Python
named by BRIDGE_KERAS_PYTHON; skipped when neither is there).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pytest

import bridge
from bridge.emitters.recurrent import fallback_reason, rnn_cells
from bridge.ir import Layer
from bridge.convert import read_model
from bridge.validate import load_reference
from tests.cases import all_cases
from tests.helpers import CORPUS, OPSETS, assert_parity, fixture

CASES = all_cases(["recurrent"])
RNN_OPS = ("LSTM", "GRU", "RNN")
RECURRENT_CLASSES = ("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU")

# Cases whose Bidirectional cannot be one node: the two directions differ in
# kind, or the forward layer itself goes backwards.
TWO_NODE_BIDIRECTIONAL = {"bi_backward_gru", "bi_forward_goes_backwards", "mask_bi_backward_gru"}


def _convert(case, opset=17):
    h5, _ = fixture(case)
    return bridge.to_onnx(h5, opset=opset)


def _expected_nodes(case):
    """(RNN-family nodes, bidirectional nodes, needs a Scan) from the Keras config."""
    model = read_model(fixture(case)[0])
    nodes = bidi = 0
    scan = False
    for layer in model.walk():
        cells = rnn_cells(layer.class_name, layer.config)
        if cells:   # RNN(cell or StackedRNNCells): a node or a Scan per cell
            for cls, cfg in cells:
                reason = fallback_reason(Layer(name="", class_name=cls, config=cfg))
                scan |= reason is not None
                nodes += reason is None
            continue
        if fallback_reason(layer) is not None:
            scan = True
            continue
        cls = layer.class_name
        inner = layer.config.get("layer") if cls in ("Bidirectional", "TimeDistributed") else None
        if cls in RECURRENT_CLASSES:
            nodes += 1
        elif cls == "Bidirectional" and case.name in TWO_NODE_BIDIRECTIONAL:
            nodes += 2
        elif cls == "Bidirectional":
            nodes += 1
            bidi += 1
        elif cls == "TimeDistributed" and inner["class_name"] in RECURRENT_CLASSES:
            nodes += 1
    return nodes, bidi, scan


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_node_structure(case):
    proto = _convert(case)
    ops = [n.op_type for n in proto.graph.node]
    nodes, bidi, scan = _expected_nodes(case)
    assert "Loop" not in ops
    assert sum(ops.count(o) for o in RNN_OPS) == nodes, ops
    directions = [a.s.decode() for n in proto.graph.node if n.op_type in RNN_OPS
                  for a in n.attribute if a.name == "direction"]
    assert directions.count("bidirectional") == bidi, directions
    assert ("Scan" in ops) == scan, ops


def test_scan_only_for_what_the_nodes_cannot_express():
    names = {c.name for c in CASES if _expected_nodes(c)[2]}
    assert names == {c.name for c in CASES if "scan" in c.name or "convlstm" in c.name}


def test_masked_layers_stay_single_nodes_with_sequence_lens():
    for name in ("mask_lstm_seq", "mask_bi_lstm_seq", "mask_gru_seq", "text_model"):
        case = next(c for c in CASES if c.name == name)
        proto = _convert(case)
        rnn = [n for n in proto.graph.node if n.op_type in RNN_OPS]
        assert rnn and "Scan" not in [n.op_type for n in proto.graph.node]
        assert all(len(n.input) > 4 and n.input[4] for n in rnn), "sequence_lens not used"


def test_stacked_recurrent_layers_need_no_transpose_between_them():
    case = next(c for c in CASES if c.name == "stack_mixed")
    ops = [n.op_type for n in _convert(case).graph.node]
    assert ops.count("Transpose") == 2, ops   # the input once, inside the Bidirectional merge once


def test_gate_order_and_bias_layout():
    """Keras i,f,c,o -> ONNX i,o,f,c; the bias in the input half."""
    case = next(c for c in CASES if c.name == "lstm_last")
    proto = _convert(case)
    model = read_model(fixture(case)[0])
    layer = next(lyr for lyr in model.layers if lyr.class_name == "LSTM")
    k, b = layer.weight("kernel"), layer.weight("bias")
    u = b.shape[0] // 4
    inits = {t.name: t for t in proto.graph.initializer}
    node = next(n for n in proto.graph.node if n.op_type == "LSTM")
    from onnx import numpy_helper
    w = numpy_helper.to_array(inits[node.input[1]])[0]
    bb = numpy_helper.to_array(inits[node.input[3]])[0]
    i, f, c, o = np.split(k, 4, axis=1)
    np.testing.assert_array_equal(w, np.concatenate([i, o, f, c], axis=1).T)
    bi, bf, bc, bo = np.split(b, 4)
    np.testing.assert_array_equal(bb, np.concatenate([bi, bo, bf, bc, np.zeros(4 * u)]))


def test_gru_reset_after_maps_to_linear_before_reset():
    for name, lbr in (("gru_last", 1), ("gru_reset_before", 0)):
        node = next(n for n in _convert(next(c for c in CASES if c.name == name)).graph.node
                    if n.op_type == "GRU")
        assert {a.name: a.i for a in node.attribute}["linear_before_reset"] == lbr


def _edited_copy(src, tmp_path, edit_config=None, attrs=None):
    dst = os.path.join(tmp_path, os.path.basename(src))
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        if edit_config is not None:
            cfg = json.loads(f.attrs["model_config"])
            edit_config(cfg)
            f.attrs["model_config"] = json.dumps(cfg)
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
    return dst


def _set_in_layers(key, value, classes):
    def edit(cfg):
        for spec in cfg["config"]["layers"]:
            if spec["class_name"] in classes:
                spec["config"][key] = value
            inner = spec["config"].get("layer")
            if isinstance(inner, dict) and inner.get("class_name") in classes:
                inner["config"][key] = value
    return edit


@pytest.mark.parametrize("name,cls", [("lstm_last", "LSTM"), ("bi_gru_none_last", "GRU"),
                                      ("convlstm2d_last", "ConvLSTM2D")])
def test_stateful_carries_its_states_as_graph_inputs_and_outputs(tmp_path, name, cls):
    """stateful=True: the layer's two states (LSTM h, c; each direction's GRU
    h) become inputs and outputs named after it (tests/test_stateful.py runs them)."""
    case = next(c for c in CASES if c.name == name)
    src = _edited_copy(fixture(case)[0], str(tmp_path), _set_in_layers("stateful", True, (cls,)))
    proto = bridge.to_onnx(src)
    layer = next(lyr for lyr in read_model(src).layers if lyr.class_name != "InputLayer")
    assert [i.name for i in proto.graph.input][-2:] == [f"{layer.name}/state_in/{k}" for k in (0, 1)]
    assert [o.name for o in proto.graph.output][-2:] == [f"{layer.name}/state_out/{k}" for k in (0, 1)]


def test_hard_sigmoid_follows_the_saving_keras(tmp_path):
    case = next(c for c in CASES if c.name == "lstm_hard_sigmoid_relu")

    def alpha(proto):
        node = next(n for n in proto.graph.node if n.op_type == "LSTM")
        attrs = {a.name: a for a in node.attribute}
        assert [s.decode() for s in attrs["activations"].strings] == ["HardSigmoid", "Relu", "Relu"]
        return attrs["activation_alpha"].floats[0], attrs["activation_beta"].floats[0]

    assert alpha(_convert(case)) == pytest.approx((0.2, 0.5))
    k3 = _edited_copy(fixture(case)[0], str(tmp_path), attrs={"keras_version": "3.3.0"})
    assert alpha(bridge.to_onnx(k3)) == pytest.approx((1.0 / 6.0, 0.5))


def test_fallback_reason_names_the_activation():
    by_name = {c.name: c for c in CASES}

    def layer_of(name, cls):
        return next(lyr for lyr in read_model(fixture(by_name[name])[0]).walk() if lyr.class_name == cls)

    assert fallback_reason(layer_of("lstm_last", "LSTM")) is None
    assert fallback_reason(layer_of("bi_lstm_concat_seq", "Bidirectional")) is None
    assert "swish" in fallback_reason(layer_of("lstm_scan_swish", "LSTM"))
    assert "Scan" in fallback_reason(layer_of("lstm_scan_swish", "LSTM"))
    assert "gelu" in fallback_reason(layer_of("lstm_scan_gelu_gate", "LSTM"))
    assert "swish" in fallback_reason(layer_of("bi_lstm_scan_swish", "Bidirectional"))
    assert "Scan" in fallback_reason(layer_of("convlstm2d_last", "ConvLSTM2D"))
    assert fallback_reason(layer_of("td_lstm", "TimeDistributed")) is None


@pytest.mark.parametrize("name", ["mask_bi_lstm_seq", "mask_lstm_scan_swish", "convlstm2d_last",
                                  "seq2seq", "td_conv2d"])
def test_variable_batch(name):
    """Rows are independent: a batch of 1 or 7 built from the fixture's rows
    gives Keras's outputs for those rows."""
    case = next(c for c in CASES if c.name == name)
    proto = _convert(case)
    ins, outs = load_reference(fixture(case)[1])
    for n in (1, 7):
        feed = {k: np.concatenate([v] * 3)[:n] for k, v in ins.items()}
        got = bridge.run(proto, feed, provider="cpu").outputs
        for g, w in zip(got.values(), outs.values()):
            np.testing.assert_allclose(g, np.concatenate([w] * 3)[:n], rtol=1e-5, atol=1e-6)


# -- the shared conformance corpus --------------------------------------------

DL4J = os.path.join(CORPUS, "dl4j")
FAMILIES = ["lstm", "simple_rnn", "embedding_lstm", "bidirectional_lstm",
            "bidirectional_lstm_no_return_sequences"]
CORPUS_FILES = [f"{fam}_{be}_{v}.h5" for fam in FAMILIES for be in ("tensorflow", "theano")
                for v in (1, 2)]
EXAMPLES = os.path.join(DL4J, "examples", "simple_lstm")


def _corpus(name):
    path = os.path.join(DL4J, name)
    if not os.path.exists(path):
        pytest.skip(f"conformance corpus not found at {DL4J} (set BRIDGE_CORPUS)")
    return path


def _random_inputs(proto, path, seed=0):
    rng = np.random.default_rng(seed)
    feed = {}
    for vi in proto.graph.input:
        shape = [3 if not d.dim_value else d.dim_value for d in vi.type.tensor_type.shape.dim]
        if "embedding" in os.path.basename(path):
            feed[vi.name] = rng.integers(0, 4, shape).astype(np.float32)
        else:
            feed[vi.name] = rng.standard_normal(shape).astype(np.float32)
    return feed


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_converts_to_single_nodes(name):
    path = _corpus(name)
    for opset in (OPSETS[0], OPSETS[-1]):
        proto = bridge.to_onnx(path, opset=opset)
        ops = [n.op_type for n in proto.graph.node]
        assert "Scan" not in ops and "Loop" not in ops
        rnn = [n for n in proto.graph.node if n.op_type in RNN_OPS]
        assert len(rnn) == 1, ops
        direction = {a.name: a.s.decode() for a in rnn[0].attribute}["direction"]
        assert direction == ("bidirectional" if name.startswith("bidirectional") else "forward")
        out = bridge.run(proto, _random_inputs(proto, path), provider="cpu").outputs
        assert all(np.isfinite(v).all() for v in out.values())


@pytest.mark.parametrize("variant", ["tf_keras_1", "th_keras_1"])
def test_corpus_examples_match_stored_predictions(variant):
    model = os.path.join(EXAMPLES, f"simple_lstm_{variant}_model.h5")
    if not os.path.exists(model):
        pytest.skip(f"conformance corpus not found at {DL4J} (set BRIDGE_CORPUS)")
    ins, outs = load_reference(os.path.join(EXAMPLES, f"simple_lstm_{variant}_inputs_and_outputs.h5"))
    for opset in OPSETS:
        proto = bridge.to_onnx(model, opset=opset)
        assert_parity(proto, list(ins.values()), outs, context=f"opset {opset}")   # inputs by position


_LIVE = r"""
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
import numpy as np, tf_keras
src, ins, out = sys.argv[1:4]
m = tf_keras.models.load_model(src, compile=False)
with np.load(ins) as z:
    xs = [z[f"x{i}"] for i in range(len(z.files))]
ys = m.predict(xs if len(xs) > 1 else xs[0], verbose=0)
ys = ys if isinstance(ys, list) else [ys]
np.savez(out, **{f"y{i}": y for i, y in enumerate(ys)})
"""


def _live_keras(path, xs):
    """Predictions of tf-keras for the model file, or skip."""
    try:
        import tf_keras  # noqa: F401
        python = sys.executable
    except ImportError:
        python = os.environ.get("BRIDGE_KERAS_PYTHON")
        if not python:
            pytest.skip("tf-keras is not importable and BRIDGE_KERAS_PYTHON is not set")
    with tempfile.TemporaryDirectory() as tmp:
        script, ins, out = (os.path.join(tmp, n) for n in ("live.py", "in.npz", "out.npz"))
        with open(script, "w") as fh:
            fh.write(_LIVE)
        np.savez(ins, **{f"x{i}": x for i, x in enumerate(xs)})
        subprocess.run([python, script, path, ins, out], check=True, capture_output=True)
        with np.load(out) as z:
            return [z[f"y{i}"] for i in range(len(z.files))]


KERAS2 = [n for n in CORPUS_FILES if n.endswith("_2.h5")] + ["examples/simple_lstm/simple_lstm_tf_keras_2_model.h5"]


@pytest.mark.parametrize("name", KERAS2)
def test_corpus_keras2_matches_live_keras(name):
    path = _corpus(name)
    proto = bridge.to_onnx(path)
    feed = _random_inputs(proto, path)
    want = _live_keras(path, list(feed.values()))
    got = list(bridge.run(proto, feed, provider="cpu").outputs.values())
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert np.linalg.norm(g - w) <= 1e-5 * np.linalg.norm(w)
