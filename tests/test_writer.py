"""Writing exported models: inline or with external data, atomically, and
from concurrent writers (bridge/writer.py, to_onnx(external_data=),
--external-data)."""
from __future__ import annotations

import os
import threading

import numpy as np
import onnx
import pytest

import bridge
from bridge import writer
from bridge.cli import main
from tests.helpers import FIXTURES, HERE

CNN = os.path.join(HERE, "..", "examples", "small_cnn.h5")                  # weights of some size
TWO = os.path.join(FIXTURES, "models", "intermediate_output.h5")            # two outputs


def _outputs(path_or_proto, x):
    return list(bridge.run(path_or_proto, [x], provider="cpu").outputs.values())


def _input(proto):
    dims = [d.dim_value or 2 for d in proto.graph.input[0].type.tensor_type.shape.dim]
    return np.random.default_rng(0).standard_normal(dims).astype(np.float32)


def _leftovers(folder):
    return [f for f in os.listdir(folder) if f.startswith(".bridge-")]


@pytest.mark.parametrize("src", [CNN, TWO], ids=["cnn", "two_outputs"])
def test_external_data_on_request(src, tmp_path):
    inline = bridge.to_onnx(src)
    dst = tmp_path / "m.onnx"
    proto = bridge.to_onnx(src, dst, external_data=True)
    assert os.path.exists(str(dst) + ".data")
    big = [t for t in proto.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer
               if np.prod(t.dims) * 4 >= 1024)      # smaller ones stay inline, as onnx does it
    assert all(e.value == "m.onnx.data" for t in big for e in t.external_data if e.key == "location")
    onnx.checker.check_model(str(dst), full_check=True)
    x = _input(inline)
    for got, want in zip(_outputs(str(dst), x), _outputs(inline, x)):
        np.testing.assert_array_equal(got, want)
    if big:
        with pytest.raises(bridge.BridgeError, match="path"):
            bridge.run(proto, [x])       # the weights are in the file beside it


def test_inline_file_is_the_model(tmp_path):
    """The hand-framed initializers read back as the model built in memory."""
    dst = tmp_path / "m.onnx"
    bridge.to_onnx(CNN, dst)
    written, built = onnx.load(str(dst)), bridge.convert.build(bridge.convert.read_model(CNN), 17)
    assert [n.op_type for n in written.graph.node] == [n.op_type for n in built.graph.node]
    got = {t.name: onnx.numpy_helper.to_array(t) for t in written.graph.initializer}
    want = {t.name: onnx.numpy_helper.to_array(t) for t in built.graph.initializer}
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


def test_external_data_when_the_weights_need_it(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "INLINE_LIMIT", 1000)
    dst = tmp_path / "m.onnx"
    bridge.to_onnx(CNN, dst)
    assert os.path.exists(str(dst) + ".data")


def test_cli_external_data(tmp_path, capsys):
    dst = tmp_path / "m.onnx"
    assert main(["convert", CNN, "-o", str(dst), "--external-data"]) == 0
    assert "m.onnx.data" in capsys.readouterr().out
    assert main(["check", CNN, str(dst), "--reference", CNN.replace(".h5", ".npz")]) == 0


def test_failed_check_leaves_nothing(tmp_path):
    proto = bridge.to_onnx(CNN)
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    del proto.graph.initializer[:]

    def refuse(path):
        assert os.path.exists(path)
        raise ValueError("no")
    for external in (False, True):
        with pytest.raises(ValueError):
            writer.save(proto, dict(consts), tmp_path / "m.onnx", external=external, check=refuse)
    assert os.listdir(tmp_path) == []


def test_a_big_inline_model_is_checked_through_its_stand_in(tmp_path, monkeypatch):
    """Past CHECK_STAND_IN the checker sees the graph with its large weights
    as references into a sparse file: it still runs (and refuses a bad graph),
    and the file written is the same inline model."""
    monkeypatch.setattr(writer, "CHECK_STAND_IN", 0)
    proto = bridge.to_onnx(CNN)
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    del proto.graph.initializer[:]
    seen = []

    def check(path):
        seen.append(path)
        stand_in = onnx.load(path, load_external_data=False)
        assert any(t.data_location == onnx.TensorProto.EXTERNAL for t in stand_in.graph.initializer)
        bridge.convert.verify(path)
    dst = tmp_path / "m.onnx"
    writer.save(proto, dict(consts), dst, external=False, check=check)
    assert seen and os.path.basename(seen[0]) == "model.onnx" and not os.path.exists(str(dst) + ".data")
    written = onnx.load(str(dst))
    assert {t.name for t in written.graph.initializer} == set(consts)
    x = _input(written)
    np.testing.assert_array_equal(_outputs(str(dst), x)[0], _outputs(bridge.to_onnx(CNN), x)[0])
    broken = onnx.ModelProto()
    broken.CopyFrom(proto)
    broken.graph.node[0].op_type = "NoSuchOp"
    with pytest.raises(bridge.ConfigError, match="checker"):
        writer.save(broken, dict(consts), tmp_path / "b.onnx", external=False,
                    check=bridge.convert.verify)
    assert not os.path.exists(tmp_path / "b.onnx") and not _leftovers(tmp_path)
    for name in ("check", "out", "model.onnx"):     # names the private folders use inside
        bridge.to_onnx(CNN, tmp_path / name)
        onnx.checker.check_model(str(tmp_path / name), full_check=True)


def test_concurrent_writers_leave_one_consistent_pair(tmp_path):
    """8 writers, inline and external, two different models, one destination:
    the result is one writer's model with that writer's weights."""
    dst = str(tmp_path / "m.onnx")
    sources = [CNN, TWO] * 4
    errors = []

    def write(i):
        try:
            bridge.to_onnx(sources[i], dst, external_data=bool(i % 3 == 0))
        except Exception as e:   # reported below
            errors.append(e)
    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert not _leftovers(tmp_path)
    onnx.checker.check_model(dst, full_check=True)
    final = onnx.load(dst)        # loads the data file too, when it refers to one
    src = TWO if len(final.graph.output) == 2 else CNN
    x = _input(final)
    for got, want in zip(_outputs(dst, x), _outputs(bridge.to_onnx(src), x)):
        np.testing.assert_array_equal(got, want)


def test_progress_display(tmp_path):
    """Shown once a conversion takes a while, on a terminal only; cleared at the end."""
    import io

    from bridge.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True
    shown = Tty()
    with Progress(shown, delay=0.0, interval=0.01) as p:
        bridge.convert.convert_file(CNN, tmp_path / "m.onnx", progress=p)
        import time
        time.sleep(0.05)
    text = shown.getvalue()
    assert "bridge: " in text and text.endswith("\r\033[K")
    assert Progress(io.StringIO()).enabled is False            # not a terminal: nothing
    quiet = Progress(Tty(), delay=60.0)
    quiet.close()
    assert quiet.stream.getvalue() == ""                        # done before the delay: nothing
