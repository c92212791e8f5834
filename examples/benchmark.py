"""Benchmark: bridge against tf2onnx on the same Keras models, in one run.

    pip install '.[keras]'          # tensorflow-cpu, tf-keras, tf2onnx
    python examples/benchmark.py [--models small_cnn,mobilenet_v2,resnet50] [--runs 30]

For each model it reports, as bridge / tf2onnx ratios (below 1 means bridge
is smaller or faster):
  convert  file -> ONNX in memory: bridge reads the .h5 with h5py; tf2onnx
           needs the model loaded in TensorFlow first, and that load is
           counted, since it is what a user of tf2onnx pays
  run      median ONNX Runtime (CPU) latency of the exported graph
  nodes    node count of the exported graph; size: serialized bytes
and the relative error of each export against Keras's own output.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def build(name, keras):
    if name == "small_cnn":
        return keras.models.load_model(os.path.join(HERE, "small_cnn.h5"), compile=False)
    if name == "mobilenet_v2":
        return keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    if name == "resnet50":
        return keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    if name == "vgg16":
        return keras.applications.VGG16(weights=None, input_shape=(224, 224, 3))
    raise SystemExit(f"unknown model {name}")


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def ort_latency(proto, feed, runs):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    sess.run(None, feed)
    t, out = timed(lambda: sess.run(None, feed), runs)
    return t, out[0]


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="small_cnn,mobilenet_v2,resnet50")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--opset", type=int, default=17)
    a = p.parse_args()

    import tensorflow as tf
    import tf2onnx
    import tf_keras as keras

    import bridge
    from tests.make_fixtures import randomize

    rows = []
    tmp = tempfile.mkdtemp()
    for name in a.models.split(","):
        rng = np.random.default_rng(0)
        model = build(name, keras)
        if name != "small_cnn":
            randomize(model, rng)
        path = os.path.join(tmp, name + ".h5")
        model.save(path)
        x = rng.standard_normal((1,) + tuple(model.input_shape[1:])).astype("float32")
        expected = model.predict(x, verbose=0)

        t_ours, ours = timed(lambda: bridge.to_onnx(path, opset=a.opset), 3)

        def tf2onnx_convert():
            m = keras.models.load_model(path, compile=False)
            spec = (tf.TensorSpec((None,) + tuple(m.input_shape[1:]), tf.float32, name="x"),)
            proto, _ = tf2onnx.convert.from_keras(m, input_signature=spec, opset=a.opset)
            return proto
        t_theirs, theirs = timed(tf2onnx_convert, 3)

        run_ours, y_ours = ort_latency(ours, {ours.graph.input[0].name: x}, a.runs)
        run_theirs, y_theirs = ort_latency(theirs, {theirs.graph.input[0].name: x}, a.runs)
        rows.append((name, t_ours, t_theirs, run_ours, run_theirs,
                     len(ours.graph.node), len(theirs.graph.node),
                     ours.ByteSize(), theirs.ByteSize(), rel(y_ours, expected), rel(y_theirs, expected)))

    print(f"opset {a.opset}, ONNX Runtime CPU, 1 thread, batch 1, median of {a.runs} runs")
    print(f"{'model':14} {'convert s (ours/tf2onnx = ratio)':36} {'run ms (ours/tf2onnx = ratio)':34} "
          f"{'nodes':14} {'size ratio':10} {'rel err ours / tf2onnx'}")
    for (n, co, ct, ro, rt, no, nt, so, st, eo, et) in rows:
        print(f"{n:14} {co:7.3f} / {ct:7.3f} = {co / ct:6.3f}        "
              f"{ro * 1e3:7.2f} / {rt * 1e3:7.2f} = {ro / rt:5.3f}       "
              f"{no:4d} / {nt:4d}    {so / st:6.3f}     {eo:.1e} / {et:.1e}")


if __name__ == "__main__":
    main()
