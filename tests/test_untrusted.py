"""The pieces that keep a hostile file harmless, one by one (the fuzz test,
tests/test_fuzz.py, runs whole files): limits and how to raise them, JSON
measured before parsing, one-line bounded messages, the checks on the
exported graph and on the destination."""
from __future__ import annotations

import json
import os
import shutil
import stat

import h5py
import pytest
from onnx import TensorProto, helper

import bridge
from bridge import safety
from bridge.convert import graph_problems
from bridge.errors import OptionError, one_line, short
from bridge.readers.guard import json_shape
from tests.helpers import FIXTURES

DENSE = os.path.join(FIXTURES, "models", "intermediate_output.h5")

# (text, deepest nesting, lists and objects)
JSON_SHAPES = [
    (b'{"a": [1, 2, {"b": []}]}', 4, 4),
    (b'"[[[[{{{{"', 0, 0),                                     # brackets inside a string
    (b'["\\"[[[", ["]"]]', 2, 2),                              # an escaped quote inside a string
    (b'["\\\\", [[]]]', 3, 3),                                 # an escaped backslash before a quote
    (b"[" * 5000 + b"]" * 5000, 5000, 5000),
    (b'{"k": "' + b"x" * (3 << 20) + b'", "v": [[1]]}', 3, 3),  # across numpy chunks
]


@pytest.mark.parametrize("text,depth,items", JSON_SHAPES, ids=range(len(JSON_SHAPES)))
def test_json_is_measured_outside_strings(text, depth, items):
    assert json_shape(text) == (depth, items)


SETTINGS = [
    ("max_weight_bytes=8GiB", ("max_weight_bytes", 8 << 30)),
    ("max_config_bytes=512MiB", ("max_config_bytes", 512 << 20)),
    ("max-layers=200_000", ("max_layers", 200_000)),
    ("hdf5_probe_seconds=2.5", ("hdf5_probe_seconds", 2.5)),
    ("max_json_depth = 400", ("max_json_depth", 400)),
]


@pytest.mark.parametrize("text,want", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_limit_settings(text, want):
    assert safety.parse_setting(text) == want


@pytest.mark.parametrize("text", ["max_weight_bytes", "no_such_limit=3", "max_layers=lots"])
def test_bad_limit_settings(text):
    with pytest.raises(OptionError, match="--limit"):
        safety.parse_setting(text)


def _deep_config(tmp_path, depth):
    """The Dense fixture, its hidden layer's config nested `depth` lists deep."""
    p = tmp_path / "deep.h5"
    shutil.copy(DENSE, p)
    with h5py.File(p, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        cfg["config"]["layers"][1]["config"]["deep"] = 0
        text = json.dumps(cfg).replace('"deep": 0', '"deep": ' + "[" * depth + "]" * depth)
        f.attrs["model_config"] = text
    return p


def test_a_limit_refuses_and_can_be_raised(tmp_path):
    """Over a limit: a LimitError-like error naming it and how to raise it;
    raised for one conversion (keyword or --limit), the file converts."""
    src = _deep_config(tmp_path, 300)
    with pytest.raises(bridge.LimitError, match=r"max_json_depth \(200\).*--limit max_json_depth"):
        bridge.to_onnx(src)
    assert bridge.to_onnx(src, limits=bridge.Limits(max_json_depth=400)).graph.node
    assert bridge.to_onnx(src, limits={"max_json_depth": 400}).graph.node
    from bridge import cli
    assert cli.main(["convert", str(src), "-o", str(tmp_path / "o.onnx"),
                     "--limit", "max_json_depth=400"]) == 0


def test_the_process_default_is_bridge_limits(tmp_path):
    src = _deep_config(tmp_path, 300)
    saved = bridge.limits.max_json_depth
    bridge.limits.max_json_depth = 400
    try:
        assert bridge.to_onnx(src).graph.node
    finally:
        bridge.limits.max_json_depth = saved


def test_limits_are_per_conversion():
    with safety.applied(bridge.Limits(max_layers=7)):
        assert safety.current().max_layers == 7
    assert safety.current().max_layers == bridge.Limits().max_layers


# (message, what str() of a BridgeError holding it must be)
MESSAGES = [
    ("plain", "plain"),
    ("a listing:\n    line 1\r\n    line 2\nend\x00", "a listing: | line 1 | line 2 | end\\x00"),
    ("sep\u2028arated\x85", "sep\\u2028arated\\x85"),
]


@pytest.mark.parametrize("raw,shown", MESSAGES, ids=range(len(MESSAGES)))
def test_messages_are_one_line(raw, shown):
    assert str(bridge.ConfigError(raw)) == shown


def test_messages_and_names_are_bounded():
    long = "f.h5: " + "x" * 100_000 + " do this"
    msg = str(bridge.ConfigError(long))
    assert len(msg) <= 4000 and msg.startswith("f.h5: xxx") and msg.endswith(" do this")
    assert len(short("n" * 1000)) == 80
    assert one_line("abc", 10) == "abc"


def _graph(nodes, inputs=("x",), outputs=("y",), inits=()):
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in inputs]
    vo = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in outputs]
    ti = [helper.make_tensor(n, TensorProto.FLOAT, [1], [0.0]) for n in inits]
    return helper.make_graph([helper.make_node(*n) for n in nodes], "g", vi, vo, ti)


# (graph, the problem found, or None)
GRAPHS = [
    (_graph([("Relu", ["x"], ["y"])]), None),
    (_graph([("Add", ["x", "w"], ["y"])], inits=["w"]), None),
    (_graph([("Relu", ["x"], ["y"])], outputs=()), "no outputs"),
    (_graph([("Relu", ["x"], ["z"])]), "output y is never made"),
    (_graph([("Relu", ["ghost"], ["y"])]), "reads ghost"),
    (_graph([("Relu", ["x"], ["y"]), ("Relu", ["x"], ["y"])]), "made twice"),
]


@pytest.mark.parametrize("graph,problem", GRAPHS, ids=range(len(GRAPHS)))
def test_graph_problems(graph, problem):
    found = graph_problems(graph)
    assert (found == []) if problem is None else any(problem in p for p in found), found


def test_written_file_mode_follows_umask(tmp_path):
    old = os.umask(0o027)
    try:
        bridge.to_onnx(DENSE, tmp_path / "new.onnx")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.onnx").st_mode) == 0o640


def test_replaced_file_keeps_its_mode(tmp_path):
    dst = tmp_path / "old.onnx"
    dst.write_bytes(b"old")
    os.chmod(dst, 0o604)
    bridge.to_onnx(DENSE, dst)
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o604 and dst.read_bytes() != b"old"


def test_the_output_may_not_replace_the_input(tmp_path):
    src = tmp_path / "m.h5"
    shutil.copy(DENSE, src)
    with pytest.raises(bridge.OutputError, match="replace the model"):
        bridge.to_onnx(src, src)
    with h5py.File(src, "r") as f:        # untouched
        assert "model_config" in f.attrs


def test_refused_dataset_names_the_limit(tmp_path):
    """A dataset declaring far more than its storage: refused before it is
    read, the error naming the limit to raise."""
    src = tmp_path / "m.h5"
    shutil.copy(DENSE, src)
    with h5py.File(src, "r+") as f:
        g = f["model_weights/hidden/hidden"]
        del g["kernel:0"]
        g.create_dataset("kernel:0", shape=(1 << 20, 1 << 10), dtype="f4", chunks=(1024, 64))
    with pytest.raises(bridge.LimitError, match="max_inflation"):
        bridge.to_onnx(src)
