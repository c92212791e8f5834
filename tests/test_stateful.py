"""Stateful recurrent layers (`stateful=True`) exported for streaming: the
states Keras keeps in the layer between predict() calls are graph inputs
`<layer>/state_in/<k>` after the model's inputs and outputs
`<layer>/state_out/<k>` after its outputs, stateful layer by stateful layer
in model order, each layer's in Keras's order. Fed zeros (reset_states())
and then each run's state outputs, the model reproduces Keras's stateful
predict over consecutive chunks: outputs and states, every chunk, every
opset (fixtures from tests/make_stateful_fixtures.py, tf-keras HDF5 and
Keras 3 .keras)."""
import os

import numpy as np
import pytest

import bridge
from bridge.errors import UnsupportedError
from tests.helpers import at_every_opset, FIXTURES, assert_fully_shaped, assert_parity
from tests.make_stateful_fixtures import CASES, CHUNKS, FOLDER

FILES = [(c, major) for major in (2, 3) for c in CASES if major in c.keras]


def _file(case, major):
    stem = case.name if major == 2 else case.name + "_k3"
    path = os.path.join(FOLDER, stem + (".h5" if major == 2 else ".keras"))
    npz = os.path.join(FOLDER, stem + ".stream.npz")
    assert os.path.exists(path) and os.path.exists(npz), (
        f"fixture {stem} missing: run python tests/make_stateful_fixtures.py --case {case.name}")
    return path, dict(np.load(npz))


def _states(data, chunk):
    """{'<layer>/state_*/<k>': state after `chunk`}, in the file's (model) order."""
    out = {}
    for key in data:
        if key.startswith("state:"):
            layer, k, c = key[len("state:"):].rsplit(":", 2)
            if int(c) == chunk:
                out[(layer, int(k))] = data[key]
    return out


def _ids(case, major):
    return f"{case.name}-k{major}"


@at_every_opset
@pytest.mark.parametrize("case,major", FILES, ids=[_ids(c, m) for c, m in FILES])
def test_streaming_reproduces_keras_chunk_after_chunk(case, major, opset):
    path, data = _file(case, major)
    proto = bridge.to_onnx(path, opset=opset)
    first = _states(data, 0)
    layers = [(layer, k) for layer, k in first]
    ins = [i.name for i in proto.graph.input]
    outs = [o.name for o in proto.graph.output]
    n_in = len(ins) - len(layers)
    n_out = len(outs) - len(layers)
    assert ins[n_in:] == [f"{layer}/state_in/{k}" for layer, k in layers]
    assert outs[n_out:] == [f"{layer}/state_out/{k}" for layer, k in layers]
    feeds = {f"{layer}/state_in/{k}": np.zeros_like(v) for (layer, k), v in first.items()}
    for c in range(CHUNKS):
        model_ins = sorted(k for k in data if k.startswith("input:") and k.endswith(f":{c}"))
        for name, key in zip(ins[:n_in], model_ins):
            feeds[name] = data[key]
        want = {outs[i]: data[f"output:{i}:{c}"] for i in range(n_out)}
        want.update({f"{layer}/state_out/{k}": v for (layer, k), v in _states(data, c).items()})
        got = assert_parity(proto, feeds, want, context=f"chunk {c}").outputs
        feeds.update({f"{layer}/state_in/{k}": got[f"{layer}/state_out/{k}"] for layer, k in layers})


@pytest.mark.parametrize("case,major", [f for f in FILES if f[0].name in ("lstm_seq", "bi_lstm_seq")],
                         ids=lambda v: v.name if hasattr(v, "name") else f"k{v}")
def test_state_inputs_and_outputs_are_shaped(case, major):
    """(batch, units) states, the batch dynamic like the model's inputs."""
    path, _ = _file(case, major)
    proto = bridge.to_onnx(path)
    assert_fully_shaped(proto)
    for v in list(proto.graph.input) + list(proto.graph.output):
        if "/state_" in v.name:
            dims = v.type.tensor_type.shape.dim
            assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [4]


def test_a_stateless_model_has_no_state_ports():
    proto = bridge.to_onnx(os.path.join(FIXTURES, "recurrent", "lstm_seq.h5"))
    assert not [v for v in list(proto.graph.input) + list(proto.graph.output) if "/state_" in v.name]


def test_stateful_layer_given_initial_state_is_refused(tmp_path):
    """Keras ignores the carried state when initial_state is passed: refused."""
    keras = pytest.importorskip("tf_keras")
    x = keras.Input(batch_shape=(2, 3, 2), name="x")
    h0 = keras.Input(batch_shape=(2, 4), name="h0")
    y = keras.layers.GRU(4, stateful=True, name="gru")(x, initial_state=h0)
    path = str(tmp_path / "m.h5")
    keras.Model([x, h0], y).save(path)
    with pytest.raises(UnsupportedError, match="'gru' \\(GRU\\) is stateful and also given initial_state"):
        bridge.to_onnx(path)


def test_check_starts_from_reset_states(tmp_path):
    """`bridge check` against a reference of a fresh model's predict (states
    reset): the state inputs it lacks are zeros, the state outputs unchecked."""
    case = next(c for c in CASES if c.name == "stacked_lstm_gru")
    path, data = _file(case, 2)
    dst = str(tmp_path / "m.onnx")
    bridge.to_onnx(path, dst)
    ref = str(tmp_path / "ref.npz")
    np.savez(ref, **{"input:x": data["input:x:0"], "output:head": data["output:0:0"]})
    report = bridge.check(path, dst, ref)
    assert report.passed and [o.name for o in report.outputs] == ["head"]
    np.savez(ref, **{"input:x": data["input:x:1"], "output:head": data["output:0:1"]})
    assert not bridge.check(path, dst, ref).passed      # the second chunk needs the carried states


def test_a_fixed_batch_fixes_the_states_too():
    case = next(c for c in CASES if c.name == "lstm_seq")
    path, _ = _file(case, 3)
    proto = bridge.to_onnx(path, batch_size=3)
    for v in list(proto.graph.input) + list(proto.graph.output):
        assert v.type.tensor_type.shape.dim[0].dim_value == 3, v.name
