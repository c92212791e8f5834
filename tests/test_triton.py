"""Triton model repositories (bridge.deploy.triton, `bridge convert
--triton-repo`): config.pbtxt is parsed with Triton's own ModelConfig schema
(tritonclient's model_config_pb2) and must agree with the written graph's
names, dims and data types (Triton's own numpy -> Triton type mapping)."""
import os

import onnx
import pytest
from onnx import helper

from bridge import cli
from bridge.deploy.triton import to_triton
from bridge.errors import OptionError
from tests.helpers import FIXTURES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "small_cnn.h5")

CASES = [
    # id, Keras file, to_triton options
    ("one input", EXAMPLE, {}),
    ("max batch 32", EXAMPLE, {"max_batch": 32, "name": "cnn"}),
    ("no batching", EXAMPLE, {"max_batch": 0}),
    ("several inputs and outputs", os.path.join(FIXTURES, "models", "multi_io_shared_dense.h5"), {}),
    ("int input, free time axis", os.path.join(FIXTURES, "recurrent", "mask_dynamic_time.h5"), {}),
    ("free time axis, no batching", os.path.join(FIXTURES, "recurrent", "mask_dynamic_time.h5"),
     {"max_batch": 0}),
]
FP16 = ("float16 inputs and outputs", EXAMPLE, {"precision": "fp16", "keep_io_types": False})


def _parse(path):
    mc = pytest.importorskip("tritonclient.grpc.model_config_pb2",
                             reason="tritonclient[grpc] (the test extra) parses config.pbtxt")
    from google.protobuf import text_format
    with open(path) as fh:
        return text_format.Parse(fh.read(), mc.ModelConfig()), mc


def _agrees(config_path, model_path, name, max_batch):
    from tritonclient.utils import np_to_triton_dtype
    cfg, mc = _parse(config_path)
    assert cfg.name == name and cfg.platform == "onnxruntime_onnx"
    assert cfg.max_batch_size == max_batch
    assert cfg.HasField("dynamic_batching") == (max_batch > 0)
    g = onnx.load(model_path).graph
    for entries, values in ((cfg.input, g.input), (cfg.output, g.output)):
        assert [e.name for e in entries] == [v.name for v in values]
        for e, v in zip(entries, values):
            t = v.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
            assert list(e.dims) == (dims[1:] if max_batch > 0 else dims), e.name
            np_type = helper.tensor_dtype_to_np_dtype(t.elem_type)
            assert mc.DataType.Name(e.data_type) == "TYPE_" + np_to_triton_dtype(np_type)


@pytest.mark.parametrize("src, opts", [c[1:] for c in CASES + [FP16]], ids=[c[0] for c in CASES + [FP16]])
def test_repository_parses_and_agrees(src, opts, tmp_path):
    if opts.get("precision") == "fp16":
        pytest.importorskip("onnxconverter_common")
    model_path, config_path = to_triton(src, tmp_path / "repo", **opts)
    name = opts.get("name") or os.path.splitext(os.path.basename(src))[0]
    assert model_path == os.path.join(tmp_path, "repo", name, "1", "model.onnx")
    assert config_path == os.path.join(tmp_path, "repo", name, "config.pbtxt")
    _agrees(config_path, model_path, name, opts.get("max_batch", 8))


def test_cli_one_and_many(tmp_path, capsys):
    repo = tmp_path / "repo"
    assert cli.main(["convert", EXAMPLE, "--triton-repo", str(repo), "--name", "cnn",
                     "--max-batch", "4", "--check"]) == 0
    assert "PASS" in capsys.readouterr().out
    _agrees(repo / "cnn" / "config.pbtxt", repo / "cnn" / "1" / "model.onnx", "cnn", 4)
    other = os.path.join(FIXTURES, "models", "multi_io_shared_dense.h5")
    assert cli.main(["convert", EXAMPLE, other, "--triton-repo", str(repo), "--jobs", "2"]) == 0
    for stem in ("small_cnn", "multi_io_shared_dense"):
        _agrees(repo / stem / "config.pbtxt", repo / stem / "1" / "model.onnx", stem, 8)


ERRORS = [
    (["--triton-repo", "{repo}", "-o", "{tmp}/m.onnx"], "not both"),
    (["--triton-repo", "{repo}", "--name", "a/b"], "not a folder name"),
    (["--triton-repo", "{repo}", "--max-batch", "-1"], "--max-batch -1"),
]


@pytest.mark.parametrize("argv, text", ERRORS, ids=[e[1] for e in ERRORS])
def test_cli_errors(argv, text, tmp_path, capsys):
    argv = [a.format(repo=tmp_path / "repo", tmp=tmp_path) for a in argv]
    assert cli.main(["convert", EXAMPLE, *argv]) == 2
    assert text in capsys.readouterr().err
    assert not (tmp_path / "repo").exists() and not (tmp_path / "m.onnx").exists()


def test_output_without_a_batch_axis_cannot_be_batched():
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3])
    proto = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y]))
    from bridge.deploy.triton import model_config
    with pytest.raises(OptionError, match="--max-batch 0"):
        model_config(proto, "m", 8)
    assert "dims: [ 3 ]" in model_config(proto, "m", 0)
