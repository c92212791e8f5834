"""The conformance corpus: Keras files written by other people (Deeplearning4j's
Keras-import test resources; see ../shared/corpus/README.md), saved by Keras
1.2.2 and 2.x under TensorFlow and Theano. The folder is not part of the
repository: these tests skip when it is absent (set BRIDGE_CORPUS to point
at it elsewhere).

What is checked, and why each check is valid:
- every file converts (Lambda bodies too, from their Python 3.6 byte code;
  tests/test_lambdas.py checks their values);
- examples/ hold what Keras computed (predictions/): both the full model and
  the JSON + weights pair must reproduce it within 1e-5;
- NAME_theano_K / NAME_tensorflow_K hold the same stored arrays where the
  generator used fixed weights, yet (README) compute different functions:
  a Theano file read as if it were TensorFlow must equal its TensorFlow twin,
  and read as Theano must not (its convolutions are true convolutions);
- a Keras 1 file and its Keras 2 twin, where their weights are the same
  arrays, compute the same function under the same backend;
- live tier (where tf-keras is importable): every Keras 2 file against what
  tf-keras computes from it, and every Keras 1 file against tf-keras running
  its Keras 2 twin's architecture with the Keras 1 weights converted by
  tf-keras's own legacy loader. tf-keras no longer flips Theano kernels on
  load (standalone Keras 2 did, with conv_utils.convert_kernel); the live
  reference for a Theano file applies that same flip to the loaded model.
"""
import glob
import os
import shutil
import warnings

import h5py
import numpy as np
import pytest

import bridge
from bridge.support import support_problems
from bridge.convert import read_model
from bridge.validate import load_reference
from tests.helpers import CORPUS, OPSETS, assert_parity

DL4J = os.path.join(CORPUS, "dl4j")
HAVE_CORPUS = os.path.isdir(DL4J)
pytestmark = pytest.mark.skipif(not HAVE_CORPUS, reason=f"corpus not found at {DL4J} "
                                                        f"(set BRIDGE_CORPUS)")


def _files(pattern):
    return sorted(glob.glob(os.path.join(DL4J, pattern))) if HAVE_CORPUS else []


MODEL_FILES = _files("*.h5") + _files("*.hdf5") + _files("examples/*/*_model.h5")
EXAMPLES = [f[:-len("_inputs_and_outputs.h5")] for f in _files("examples/*/*_inputs_and_outputs.h5")]
# Files that hold a Python function (a Lambda layer): their twins differ in it.
LAMBDA = {"space_to_depth_graph_tensorflow_2.h5", "space_to_depth_simple_tensorflow_1.h5",
          "space_to_depth_simple_tensorflow_2.h5"}
TWINS = [f for f in _files("*_2.h5") if os.path.exists(f.replace("_2.h5", "_1.h5"))
         and os.path.basename(f) not in LAMBDA]
THEANO = [f for f in _files("*_theano_*.h5")]


def _rel(path):
    return os.path.relpath(path, DL4J)


def _convert(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bridge.BridgeWarning)
        return bridge.to_onnx(path, **kw)


def _xfail_if_unconvertible(path, **kw):
    """A layer class nobody has written an emitter for yet is an xfail with
    its name, not a failure of the readers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bridge.BridgeWarning)
        model = read_model(path, **kw)
    problems = support_problems(model, OPSETS[-1])
    if problems:
        pytest.xfail("no emitter yet: " + "; ".join(problems))


def _inputs(proto, seed=0):
    """Random inputs; integer-valued ones in range for an Embedding."""
    model_in = {}
    rng = np.random.default_rng(seed)
    for i in proto.graph.input:
        t = i.type.tensor_type
        shape = [3 if j == 0 else d.dim_value for j, d in enumerate(t.shape.dim)]
        model_in[i.name] = rng.standard_normal(shape).astype(np.float32)
    return model_in


def _embedding_range(path):
    m = read_model(path, backend="tensorflow")
    dims = [int(lyr.config["input_dim"]) for lyr in m.walk() if lyr.class_name == "Embedding"]
    return dims[0] if dims else None


def _feeds(path, proto, seed=0):
    feeds = _inputs(proto, seed)
    vocab = _embedding_range(path)
    if vocab:
        rng = np.random.default_rng(seed)
        for k, v in feeds.items():
            feeds[k] = rng.integers(0, vocab, v.shape).astype(v.dtype)
    return feeds


def _outputs(proto, feeds):
    return list(bridge.run(proto, feeds, provider="cpu").outputs.values())


def _relerr(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / max(np.linalg.norm(b), 1e-30))


# -- every file -----------------------------------------------------------------------

@pytest.mark.parametrize("path", MODEL_FILES, ids=_rel)
def test_every_file_converts(path):
    _xfail_if_unconvertible(path)
    proto = _convert(path)
    feeds = _feeds(path, proto)
    outs = _outputs(proto, feeds)
    assert all(np.isfinite(o).all() for o in outs)


@pytest.mark.parametrize("base", EXAMPLES, ids=_rel)
def test_examples_configs_inspect_without_weights(base):
    from bridge.inspect import inspect_model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bridge.BridgeWarning)
        text = inspect_model(base + "_config.json")
    assert "Dense" in text


# -- against what Keras computed (predictions/) ---------------------------------------

def _has_predictions(base):
    with h5py.File(base + "_inputs_and_outputs.h5", "r") as f:
        return "predictions" in f


@pytest.mark.parametrize("opset", [OPSETS[0], OPSETS[-1]])
@pytest.mark.parametrize("form", ["model", "json+weights"])
@pytest.mark.parametrize("base", EXAMPLES, ids=_rel)
def test_examples_match_keras_predictions(base, form, opset):
    if not _has_predictions(base):
        pytest.skip("no predictions/ in this reference (README: it cannot serve as one)")
    if form == "model":
        proto = _convert(base + "_model.h5", opset=opset)
    else:
        proto = _convert(base + "_config.json", weights=base + "_weights.h5", opset=opset)
    ins, outs = load_reference(base + "_inputs_and_outputs.h5")
    assert_parity(proto, list(ins.values()), outs, by_position=True)


# -- Theano / TensorFlow twins ---------------------------------------------------------

def _stored(path):
    """Stored arrays by (layer position, weight position), as written."""
    from bridge.readers import read_raw
    m = read_raw(path)
    return [w.array for lyr in m.walk() for w in lyr.weights]


def _same_arrays(a, b):
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


def _has_conv(path):
    m = read_model(path, backend="tensorflow")
    return any(lyr.class_name.startswith(("Conv", "SeparableConv", "DepthwiseConv")) for lyr in m.walk())


@pytest.mark.parametrize("theano_path", THEANO, ids=_rel)
def test_theano_file_against_its_tensorflow_twin(theano_path):
    tf_path = theano_path.replace("_theano_", "_tensorflow_")
    if not os.path.exists(tf_path):
        pytest.skip("no TensorFlow twin")
    _xfail_if_unconvertible(theano_path)
    as_theano = _convert(theano_path)
    as_tf = _convert(theano_path, backend="tensorflow")
    feeds = _feeds(theano_path, as_theano)
    y_theano, y_tf = _outputs(as_theano, feeds)[0], _outputs(as_tf, feeds)[0]
    if _has_conv(theano_path):
        # a true convolution is not a cross-correlation: the backend matters
        assert _relerr(y_theano, y_tf) > 1e-3
    else:
        assert _relerr(y_theano, y_tf) == 0.0
    if _same_arrays(_stored(theano_path), _stored(tf_path)):
        twin = _outputs(_convert(tf_path), list(feeds.values()))[0]
        assert _relerr(y_tf, twin) <= 1e-6       # same arrays, same backend: same function
        if _has_conv(theano_path):
            assert _relerr(y_theano, twin) > 1e-3


def test_backend_is_read_or_inferred():
    if not os.path.exists(os.path.join(DL4J, "conv2d_theano_1.h5")):
        pytest.skip("conv2d files absent")
    assert read_model(os.path.join(DL4J, "conv2d_theano_2.h5")).backend_source == "file"
    k1 = read_model(os.path.join(DL4J, "conv2d_theano_1.h5"))
    assert (k1.backend, k1.backend_source) == ("theano", "weight names")
    assert read_model(os.path.join(DL4J, "conv2d_tensorflow_1.h5")).backend == "tensorflow"
    forced = read_model(os.path.join(DL4J, "conv2d_theano_1.h5"), backend="tensorflow")
    assert (forced.backend, forced.backend_source) == ("tensorflow", "argument")


def test_unknown_keras1_backend_warns_and_says_how_to_override(tmp_path):
    src = os.path.join(DL4J, "conv2d_tensorflow_1.h5")
    if not os.path.exists(src):
        pytest.skip("conv2d files absent")
    dst = tmp_path / "unsure.h5"
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:     # one name TensorFlow-style, one not: no inference
        g = f["model_weights/convolution2d_1"]
        names = [n.decode() for n in g.attrs["weight_names"]]
        g.move(names[1], "convolution2d_1_b")
        g.attrs["weight_names"] = [names[0].encode(), b"convolution2d_1_b"]
    with pytest.warns(bridge.BridgeWarning, match="--backend theano"):
        m = read_model(str(dst))
    assert m.backend == "tensorflow"
    with warnings.catch_warnings():
        warnings.simplefilter("error", bridge.BridgeWarning)
        assert read_model(str(dst), backend="theano").backend == "theano"


@pytest.mark.parametrize("k2_path", TWINS, ids=_rel)
def test_keras1_file_equals_keras2_twin_when_weights_agree(k2_path):
    k1_path = k2_path.replace("_2.h5", "_1.h5")
    backend = "theano" if "_theano_" in k2_path else "tensorflow"
    m1, m2 = read_model(k1_path), read_model(k2_path)
    w1 = [w.array for lyr in m1.walk() for w in lyr.weights]
    w2 = [w.array for lyr in m2.walk() for w in lyr.weights]
    if not _same_arrays(w1, w2):
        pytest.skip("the generator gave this pair different weights")
    assert m1.backend == m2.backend == backend
    _xfail_if_unconvertible(k2_path)
    p1, p2 = _convert(k1_path), _convert(k2_path)
    feeds = _feeds(k2_path, p2)
    xs = list(feeds.values())          # by position: the two name their inputs differently
    assert _relerr(_outputs(p1, xs)[0], _outputs(p2, xs)[0]) <= 1e-6


# -- live tf-keras --------------------------------------------------------------------

KERAS2 = [f for f in _files("*_2.h5") + _files("*.hdf5") + _files("issue_9560.h5")
          + _files("keras-attention.h5") if os.path.basename(f) not in LAMBDA]


def _tf_keras():
    return pytest.importorskip("tf_keras")


def _flip_like_keras2_loader(model):
    """What standalone Keras 2's loader did to a Theano file's kernels
    (conv_utils.convert_kernel on Conv1D/2D/3D, Conv2DTranspose, ConvLSTM2D)."""
    for layer in model.layers:
        cls = type(layer).__name__
        if cls in ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "ConvLSTM2D"):
            ws = layer.get_weights()
            n = ws[0].ndim - 2
            ws[0] = np.ascontiguousarray(ws[0][(slice(None, None, -1),) * n])
            if cls == "ConvLSTM2D":
                ws[1] = np.ascontiguousarray(ws[1][(slice(None, None, -1),) * n])
            layer.set_weights(ws)


def _live_feeds(model, path, seed=0):
    rng = np.random.default_rng(seed)
    vocab = _embedding_range(path)
    xs = []
    for t in model.inputs:
        shape = [3] + [int(d) for d in t.shape[1:]]
        xs.append(rng.integers(0, vocab, shape).astype(np.float32) if vocab
                  else rng.standard_normal(shape).astype(np.float32))
    return xs


def _ours(path, xs):
    proto = _convert(path)
    feeds = {i.name: x for i, x in zip(proto.graph.input, xs)}
    for i in proto.graph.input:
        if i.type.tensor_type.elem_type in (6, 7):
            feeds[i.name] = feeds[i.name].astype(np.int32 if i.type.tensor_type.elem_type == 6
                                                 else np.int64)
    return _outputs(proto, feeds)


@pytest.mark.live
@pytest.mark.parametrize("path", KERAS2, ids=_rel)
def test_live_keras2_files(path):
    keras = _tf_keras()
    _xfail_if_unconvertible(path)
    model = keras.models.load_model(path, compile=False)
    if "_theano_" in path:
        _flip_like_keras2_loader(model)
    xs = _live_feeds(model, path)
    ref = model.predict(xs, verbose=0)
    ref = ref if isinstance(ref, list) else [ref]
    for got, exp in zip(_ours(path, xs), ref):
        assert _relerr(got, exp) <= 1e-5


@pytest.mark.live
@pytest.mark.parametrize("k2_path", TWINS, ids=_rel)
def test_live_keras1_files(k2_path):
    keras = _tf_keras()
    from tf_keras.src.saving.legacy import hdf5_format
    k1_path = k2_path.replace("_2.h5", "_1.h5")
    _xfail_if_unconvertible(k1_path)
    model = keras.models.load_model(k2_path, compile=False)
    with h5py.File(k1_path, "r") as f:     # Keras's own Keras 1 -> 2 weight conversion
        hdf5_format.load_weights_from_hdf5_group(f["model_weights"], model)
    if "_theano_" in k1_path:
        _flip_like_keras2_loader(model)
    xs = _live_feeds(model, k1_path)
    ref = model.predict(xs, verbose=0)
    ref = ref if isinstance(ref, list) else [ref]
    for got, exp in zip(_ours(k1_path, xs), ref):
        assert _relerr(got, exp) <= 1e-5
