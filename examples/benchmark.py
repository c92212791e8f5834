"""Benchmark: bridge against tf2onnx on the same Keras models, in one run.

    pip install '.[keras]'          # tensorflow-cpu, tf-keras, tf2onnx
    python examples/benchmark.py [--models resnet50,mobilenet_v2,...] [--runs 50] [--opset 17]

Each model is built by tf-keras (random, well-scaled weights) and saved as
.h5, or by Keras 3 as .keras for the names ending in _k3; then each
converter runs as a whole process of its own, as a user runs it: `bridge
convert model.h5`, and a Python process that loads the file with tf-keras
and calls tf2onnx.convert.from_keras (Keras 3: its call, frozen, to
tf2onnx.convert.from_graph_def; loading TensorFlow is part of what tf2onnx
costs). Both run from byte code, as pip installs them (bridge's is compiled
first). Per model it prints, as bridge / tf2onnx:

  convert   wall time of the whole converting process (imports included)
  memory    its peak resident memory
  nodes     node count of the exported graph; Transposes in it
  session   ONNX Runtime (CPU, 1 thread) InferenceSession creation, median
            CPU time, the two models taking turns
  latency   ONNX Runtime (CPU, 1 thread, batch 1) run time, median, the two
            models' runs interleaved
and each export's relative error against tf-keras's own predict. Ratios
below 1 mean bridge is smaller or faster; the last line is their geometric
mean. A converter that fails on a model gets "failed" and no ratio.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

from tests.measure import BRIDGE_CLI, run_measured  # noqa: E402

MODELS = {
    # name: (keras.applications class or builder in tests/test_applications.py, input size);
    # a name ending in _k3 is the same network built and saved (.keras) by Keras 3
    "small_cnn": (None, None),
    "resnet50": ("ResNet50", 224),
    "resnet50_v2": ("ResNet50V2", 224),
    "mobilenet_v2": ("MobileNetV2", 224),
    "mobilenet_v3_small": ("MobileNetV3Small", 224),
    "densenet121": ("DenseNet121", 224),
    "efficientnet_b0": ("EfficientNetB0", 224),
    "vgg16": ("VGG16", 224),
    "inception_v3": ("InceptionV3", 299),
    "xception": ("Xception", 299),
    "convnext_tiny": ("ConvNeXtTiny", 224),
    "unet": ("_unet", None),
    "vit": ("_vit", None),
}
MODELS.update({f"{k}_k3": v for k, v in list(MODELS.items()) if k != "small_cnn"})
DEFAULT = ("small_cnn,resnet50,resnet50_v2,mobilenet_v2,mobilenet_v3_small,densenet121,"
           "efficientnet_b0,efficientnet_b0_k3,inception_v3,xception,unet,vit,convnext_tiny,"
           "convnext_tiny_k3,vit_k3")

# Made in a subprocess so that this process never loads TensorFlow.
MAKE = """
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
key, name, size, out = sys.argv[2:6]
k3 = key.endswith("_k3")
if k3:
    import keras
else:
    import tf_keras as keras
from tests import test_applications as apps
if key == "small_cnn":
    model = keras.models.load_model(sys.argv[1] + "/examples/small_cnn.h5", compile=False)
elif name.startswith("_"):
    model = getattr(apps, name)(keras)
else:
    model = getattr(keras.applications, name)(weights=None, input_shape=(int(size), int(size), 3))
rng = np.random.default_rng(0)
if key != "small_cnn":
    apps._randomize(model, rng)
x = rng.standard_normal((1,) + tuple(model.input_shape[1:])).astype("float32")
np.savez(out + ".npz", x=x, y=model.predict(x, verbose=0))
model.save(out + (".keras" if k3 else ".h5"))
"""

# tf2onnx 1.17 has no handler for Erfc, which TF 2.16+'s gelu computes with:
# its export of a GELU network (ViT, ConvNeXt) does not load. Given one
# (1 - Erf) here, so that those networks compare too.
ERFC = """
import numpy as np
from tf2onnx import utils
from tf2onnx.handler import tf_op

@tf_op("Erfc")
class _Erfc:
    @classmethod
    def version_9(cls, ctx, node, **kwargs):
        node.type = "Erf"
        dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.output[0]))
        one = ctx.make_const(utils.make_name("one"), np.array(1, dtype))
        ctx.insert_new_node_on_output("Sub", node.output[0], name=utils.make_name(node.name),
                                      inputs=[one.output[0], node.output[0]])
"""

TF2ONNX = ERFC + """
import sys
import tensorflow as tf, tf2onnx, tf_keras as keras
custom = {}
try:
    from tf_keras.src.applications.convnext import LayerScale
    custom["LayerScale"] = LayerScale
except ImportError:
    pass
m = keras.models.load_model(sys.argv[1], compile=False, custom_objects=custom)
spec = tuple(tf.TensorSpec((None,) + tuple(i.shape[1:]), i.dtype, name=f"input_{k}")
             for k, i in enumerate(m.inputs))
tf2onnx.convert.from_keras(m, input_signature=spec, opset=int(sys.argv[3]), output_path=sys.argv[2])
"""

# A Keras 3 model goes to tf2onnx as its call, a tf.function, frozen (from_keras
# takes tf.keras models; Keras 3's own model.export(format="onnx") leaves
# captured constants, such as EfficientNet's Normalization statistics, as graph
# inputs).
TF2ONNX_K3 = ERFC + """
import sys
import tensorflow as tf, tf2onnx, keras
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
m = keras.saving.load_model(sys.argv[1], compile=False)
spec = [tf.TensorSpec((None,) + tuple(i.shape[1:]), i.dtype, name=f"input_{k}") for k, i in enumerate(m.inputs)]
fn = tf.function(lambda *xs: m(xs[0] if len(xs) == 1 else list(xs), training=False))
frozen = convert_variables_to_constants_v2(fn.get_concrete_function(*spec))
tf2onnx.convert.from_graph_def(frozen.graph.as_graph_def(), input_names=[t.name for t in frozen.inputs],
                               output_names=[t.name for t in frozen.outputs], opset=int(sys.argv[3]),
                               output_path=sys.argv[2])
"""


def _ops(path):
    import onnx
    m = onnx.load(path, load_external_data=False)
    return len(m.graph.node), sum(n.op_type == "Transpose" for n in m.graph.node)


def _session(path):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def _creation(paths, repeat=9):
    """Median CPU time of creating each model's session, the models taking
    turns (CPU time: what creating costs, less what other processes on the
    machine cost it; a 1-thread session creates on this thread)."""
    times = [[] for _ in paths]
    for r in range(repeat):
        for i in (range(len(paths)) if r % 2 else reversed(range(len(paths)))):
            t0 = time.process_time()
            _session(paths[i])
            times[i].append(time.process_time() - t0)
    return [statistics.median(t) for t in times]


def _latencies(paths, x, runs):
    """Median run time of each model, their runs interleaved (so that load
    on the machine falls on both alike); and each model's output."""
    sessions = [_session(p) for p in paths]
    feeds = [{s.get_inputs()[0].name: x} for s in sessions]
    outs = [s.run(None, f)[0] for s, f in zip(sessions, feeds)]
    times = [[] for _ in paths]
    for r in range(runs):
        order = range(len(paths)) if r % 2 else reversed(range(len(paths)))
        for i in order:
            t0 = time.perf_counter()
            sessions[i].run(None, feeds[i])
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times], outs


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def bench(name, work, runs, opset):
    cls, size = MODELS[name]
    base = os.path.join(work, name)
    run_measured(MAKE, [ROOT, name, cls or "-", size or 0, base])
    src = base + (".keras" if name.endswith("_k3") else ".h5")
    with np.load(base + ".npz") as z:
        x, y = z["x"], z["y"]
    row = {"name": name}
    sides = {}
    ours = base + ".bridge.onnx"
    m = run_measured(BRIDGE_CLI, ["convert", src, "-o", ours, "--opset", opset])
    sides["bridge"] = (ours, m)
    theirs = base + ".tf2onnx.onnx"
    try:
        m = run_measured(TF2ONNX_K3 if name.endswith("_k3") else TF2ONNX, [src, theirs, opset])
        sess = _session(theirs)
        extra = [i.name for i in sess.get_inputs()[1:]]
        if extra:   # (Keras 3's EfficientNet: the Normalization's constants become inputs)
            raise RuntimeError(f"its export asks for more inputs than the model has: {', '.join(extra)}")
        sides["tf2onnx"] = (theirs, m)
    except Exception as e:   # tf2onnx fails on some models (or exports one ORT cannot run)
        lines = [ln for ln in str(e).strip().splitlines() if ln and not ln.startswith(("I0000", "W0000"))]
        row["tf2onnx_error"] = (lines[-1] if lines else "killed (out of memory?)")[:100]
    paths = [p for p, _ in sides.values()]
    lat, outs = _latencies(paths, x, runs)
    created = _creation(paths)
    for (side, (path, m)), t, c, out in zip(sides.items(), lat, created, outs):
        nodes, transposes = _ops(path)
        row[side] = dict(convert=m.seconds, memory=m.peak_bytes, nodes=nodes, transposes=transposes,
                         session=c, latency=t, error=_rel(out, y))
    return row


COLUMNS = [("convert", "convert s", "{:.2f}"), ("memory", "memory MB", "{:.0f}"),
           ("nodes", "nodes", "{:d}"), ("transposes", "Transposes", "{:d}"),
           ("session", "session ms", "{:.1f}"), ("latency", "latency ms", "{:.2f}")]
SCALE = {"memory": 1 / 2 ** 20, "session": 1e3, "latency": 1e3}


def report(rows, opset, runs, out=sys.stdout):
    def say(line):
        print(line, file=out, flush=True)
    say(f"\nbridge / tf2onnx, opset {opset}; ONNX Runtime CPU, 1 thread, batch 1, median of {runs} runs")
    head = f"{'model':20}" + "".join(f"{title:>24}" for _, title, _ in COLUMNS) + "   rel. error vs Keras"
    say(head)
    ratios = {k: [] for k, _, _ in COLUMNS}
    for row in rows:
        ours, theirs = row["bridge"], row.get("tf2onnx")
        cells = []
        for key, _, fmt in COLUMNS:
            a = ours[key] * SCALE.get(key, 1)
            a = int(a) if fmt == "{:d}" else a
            if theirs is None:
                cells.append(f"{fmt.format(a)} / failed")
                continue
            b = theirs[key] * SCALE.get(key, 1)
            b = int(b) if fmt == "{:d}" else b
            ratio = a / b if b else (0.0 if not a else math.inf)
            if b:
                ratios[key].append(ratio)
            cells.append(f"{fmt.format(a)} / {fmt.format(b)} = {ratio:.2f}" if b
                         else f"{fmt.format(a)} / {fmt.format(b)}")
        err = f"{ours['error']:.1e} / " + (f"{theirs['error']:.1e}" if theirs else "-")
        say(f"{row['name']:20}" + "".join(f"{c:>24}" for c in cells) + f"   {err}")
        if "tf2onnx_error" in row:
            say(f"{'':20}tf2onnx: {row['tf2onnx_error']}")
    geo = [f"{math.exp(sum(map(math.log, v)) / len(v)):.3f}" if v and all(r > 0 for r in v) else "-"
           for v in ratios.values()]
    say(f"{'geometric mean':20}" + "".join(f"{g:>24}" for g in geo))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=DEFAULT, help=f"comma-separated, from {', '.join(MODELS)}")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--opset", default="17")
    a = p.parse_args()
    # byte code, as pip compiles it for an installed package (tf2onnx and
    # TensorFlow have theirs): a checkout run with PYTHONDONTWRITEBYTECODE
    # would otherwise compile bridge from source in every conversion
    import compileall
    for package in ("bridge", "opsets"):
        compileall.compile_dir(os.path.join(ROOT, package), quiet=1)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in a.models.split(","):
            if name not in MODELS:
                raise SystemExit(f"unknown model {name}; pick from {', '.join(MODELS)}")
            print(f"{name} ...", file=sys.stderr, flush=True)
            rows.append(bench(name, work, a.runs, a.opset))
            report(rows[-1:], a.opset, a.runs, out=sys.stderr)     # as it goes
    report(rows, a.opset, a.runs)


if __name__ == "__main__":
    main()
