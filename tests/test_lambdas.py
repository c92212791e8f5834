"""Lambda layers translated from their byte code, checked against Keras's
own predict (fixtures by tests/make_lambda_fixtures.py), refused cleanly
where the body cannot be proven, and never executed."""
from __future__ import annotations

import base64
import builtins
import marshal
import os
import sys
import types

import numpy as np
import onnx
import pytest

import bridge
from bridge.emitters.lambdas import opcodes, read_function
from bridge.emitters.lambdas.unmarshal import MarshalError, read_code
from bridge.validate import compare
from tests.make_lambda_fixtures import CASES, FOLDER, HARD

CORPUS = os.environ.get("BRIDGE_CORPUS", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "..", "shared", "corpus"))
OPSETS = (13, 17)


def _cases():
    for name, fmts, _, _, _ in CASES:
        for fmt in fmts.split():
            yield f"{name}_{fmt}"


def _path(case):
    return os.path.join(FOLDER, case + (".h5" if case.endswith("_k2") else ".keras"))


def _check(path, npz, opset=17):
    ref = np.load(npz)
    proto = bridge.to_onnx(path, opset=opset)
    onnx.checker.check_model(proto, full_check=True)
    ins = [ref[f"input_{i}"] for i in range(sum(k.startswith("input_") for k in ref.files))]
    result = bridge.run(proto.SerializeToString(), ins)
    outs = list(result.outputs.values())
    expected = {f"output_{i}": ref[f"output_{i}"] for i in range(sum(k.startswith("output_") for k in ref.files))}
    assert len(outs) == len(expected)
    report = compare({f"output_{i}": o for i, o in enumerate(outs)}, expected, rtol=1e-5, atol=0.0)
    assert report.passed, str(report)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", sorted(_cases()))
def test_lambda_matches_keras(case, opset):
    _check(_path(case), os.path.join(FOLDER, case + ".npz"), opset)


HARD_CASES = [f"{name}_{fmt}" for name, fmts, _, _ in HARD for fmt in fmts.split()]


@pytest.mark.parametrize("case", HARD_CASES)
def test_hard_bodies_are_refused(case, tmp_path):
    dst = tmp_path / "out.onnx"
    with pytest.raises(bridge.UnsupportedError) as e:
        bridge.to_onnx(_path(case), dst)
    msg = str(e.value)
    name = case.rsplit("_", 1)[0]
    assert f"layer '{name}' (Lambda)" in msg
    assert "emitters={'" + name + "': fn}" in msg
    if case.endswith("_k3") and "lambda" not in dict((h[0], h[3]) for h in HARD)[name]:
        assert "records only the name of function" in msg    # Keras 3 saves a def by name only
    else:
        assert "cannot translate" in msg and ("LOAD_FAST" in msg or "LOAD_GLOBAL" in msg)   # the body
    assert not dst.exists()


def test_hard_reasons():
    reasons = {"hard_loop_k2": "a loop", "hard_helper_k2": "global name 'helper'",
               "hard_branch_k2": "a branch", "hard_comprehension_k2": "comprehension",
               "hard_while_k2": "a branch or a loop"}
    for case, why in reasons.items():
        with pytest.raises(bridge.UnsupportedError, match=why):
            bridge.to_onnx(_path(case))


@pytest.mark.parametrize("stem", ["space_to_depth_simple_tensorflow_1", "space_to_depth_simple_tensorflow_2",
                                  "space_to_depth_graph_tensorflow_2"])
def test_old_python_corpus_lambdas(stem):
    """Python 3.6 byte code (Keras 1.2.2 and 2.1.3 files): expected values
    from a tf-keras model rebuilding the Lambda by hand (make_lambda_fixtures --corpus)."""
    path = os.path.join(CORPUS, "dl4j", stem + ".h5")
    if not os.path.exists(path):
        pytest.skip("the shared corpus is not here (set BRIDGE_CORPUS)")
    fn = read_function(_layer(path))
    assert fn.code.version == "3.6" and fn.code.name == "space_to_depth_x2"
    _check(path, os.path.join(FOLDER, "corpus", stem + ".npz"))


def _layer(path):
    from bridge.convert import read_model
    return next(lyr for lyr in read_model(path).walk() if lyr.class_name == "Lambda")


def test_conversion_never_runs_file_code(tmp_path, monkeypatch):
    """A body whose code would write a file if run: converting it runs none
    of it; marshal.loads, exec, eval and building functions are off limits."""
    canary = tmp_path / "ran"
    # The code object of `lambda x: open(canary, 'w') or x`, made here and never called.
    code = compile(f"lambda x: (open({str(canary)!r}, 'w'), x)[1]", "<evil>", "eval").co_consts[0]
    path = tmp_path / "evil.h5"
    _evil_h5(path, code)

    def forbidden(*a, **k):
        raise AssertionError("the converter tried to run code from the file")
    monkeypatch.setattr(marshal, "loads", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(types, "FunctionType", forbidden)
    with pytest.raises(bridge.UnsupportedError, match="global name 'open'|builtin open"):
        bridge.to_onnx(str(path))
    assert not canary.exists()
    # and the bodies that do convert, with the same guards up
    _check(_path("closure_k2"), os.path.join(FOLDER, "closure_k2.npz"))
    _check(_path("default_args_k3"), os.path.join(FOLDER, "default_args_k3.npz"))


def _evil_h5(path, code):
    """scale_255_k2.h5 with its Lambda's code replaced."""
    import json
    import shutil

    import h5py
    shutil.copy(_path("scale_255_k2"), path)
    with h5py.File(path, "r+") as f:
        conf = json.loads(f.attrs["model_config"])
        for spec in conf["config"]["layers"]:
            if spec["class_name"] == "Lambda":
                spec["config"]["function"] = [base64.b64encode(marshal.dumps(code)).decode("ascii"), None, None]
        f.attrs["model_config"] = json.dumps(conf)


def test_inspect_shows_bodies():
    from bridge.inspect import inspect_model
    text = inspect_model(_path("euclidean_def_k2"))
    assert "def euclidean_distance(vects)" in text and "LOAD_GLOBAL" in text
    text = inspect_model(_path("hard_loop_k2"))
    assert "a loop" in text and "FOR_ITER" in text


def test_vae_sampling_warns_and_samples(tmp_path):
    """VAE sampling at inference: RandomNormalLike, with a BridgeWarning; the
    draws have the requested mean and spread."""
    pytest.importorskip("tf_keras")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tf_keras as keras
    K = keras.backend
    ns = {"K": K}
    exec("def sampling(args):\n"
         "    z_mean, z_log_var = args\n"
         "    batch = K.shape(z_mean)[0]\n"
         "    dim = K.int_shape(z_mean)[1]\n"
         "    epsilon = K.random_normal(shape=(batch, dim))\n"
         "    return z_mean + K.exp(0.5 * z_log_var) * epsilon\n", ns)
    a, b = keras.Input((4000,)), keras.Input((4000,))
    model = keras.Model([a, b], keras.layers.Lambda(ns["sampling"], name="z")([a, b]))
    path = str(tmp_path / "vae.h5")
    model.save(path)
    with pytest.warns(bridge.BridgeWarning, match="random"):
        proto = bridge.to_onnx(path)
    mean, log_var = np.full((2, 4000), 3.0, np.float32), np.full((2, 4000), np.log(4.0), np.float32)
    z = bridge.run(proto.SerializeToString(), [mean, log_var]).outputs["z"]
    assert z.shape == (2, 4000)
    assert abs(z.mean() - 3.0) < 0.1 and abs(z.std() - 2.0) < 0.1


# -- decoding ----------------------------------------------------------------------------------------
def test_running_pythons_table_matches_its_opcode_module():
    import opcode
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    table = next((v for v, span in opcodes.SPANS.items() if here in span or span == here), None)
    if table is None:
        pytest.skip(f"Python {here} has no table of its own")
    names = opcodes.OPNAMES[table]
    wrong = {n: v for n, v in opcode.opmap.items() if v < 256 and names.get(v) != n
             and not n.startswith("INSTRUMENTED_")}
    assert not wrong


def test_reads_this_pythons_code_without_marshal():
    f = lambda x, y=2: (x[:, 1:3] * y, {"a": 1.5, "b": (None, ...)})   # noqa: E731
    code = read_code(marshal.dumps(f.__code__))
    assert code.argcount == 2 and code.varnames[:2] == ("x", "y")
    assert 1.5 in code.consts or any(1.5 in c for c in code.consts if isinstance(c, tuple))
    version, instrs = opcodes.detect(code)
    assert instrs[-1].name in ("RETURN_VALUE", "RETURN_CONST")


@pytest.mark.parametrize("data", [b"", b"not code", marshal.dumps((1, 2)),
                                  marshal.dumps(compile("1", "", "eval"))[:20]])
def test_bad_bytes_are_refused(data):
    with pytest.raises((MarshalError, opcodes.DecodeError)):
        opcodes.detect(read_code(data))
