"""Make the fixtures of the quantization libraries (tests/cases/libraries.py):
every case is built with its library (QKeras, the TensorFlow Model
Optimization toolkit, Larq) on tf-keras, given random well-scaled weights,
biting quantizer ranges and random pruning masks and cluster centroids, run
on random inputs, and saved as tests/fixtures/libraries/<library>/<case>.h5
with what the library's own predict() computed in <case>.npz (arrays
'input:<name>' and 'output:<name>'); cases marked `archive` are also saved as
tf-keras .keras archives (<case>.keras, the same model and outputs).

None of these libraries supports Keras 3, so they run on tf-keras
(TF_USE_LEGACY_KERAS=1, set here) and save Keras 2 HDF5 files. They need a
Python 3.11 virtual environment of their own, outside the repository, with
the versions pinned in tests/requirements-fixtures-libraries.txt:

    python3.11 -m venv ../venvs/libs
    ../venvs/libs/bin/pip install -r tests/requirements-fixtures-libraries.txt
    ../venvs/libs/bin/python tests/make_library_fixtures.py              # all cases
    ../venvs/libs/bin/python tests/make_library_fixtures.py --case qconv # one case
    ../venvs/libs/bin/python tests/make_library_fixtures.py --library larq
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tests.cases.libraries import CASES  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
BATCH = 3


def _kernel_range(kernel, per_channel, rng):
    """Symmetric [min, max] inside the kernel's own range, so that it clamps."""
    k = np.abs(np.asarray(kernel))
    m = k.reshape(-1, k.shape[-1]).max(axis=0) if per_channel else k.max()
    f = rng.uniform(0.6, 0.95, np.shape(m))
    return (-f * m).astype("float32"), (f * m).astype("float32")


def _set_ranges(model, rng) -> None:
    """Quantizer min/max variables of the Model Optimization toolkit: kernel
    ranges inside the kernel's values, activation ranges that clamp O(1)
    activations and leave steps of a few hundredths."""
    for layer in model.layers:
        inner = getattr(layer, "layer", None)
        for w in layer.weights:
            name = w.name.split("/")[-1].split(":")[0]
            if not name.endswith("_min"):
                continue
            base = name[:-4]
            w_max = next(v for v in layer.weights if v.name.split("/")[-1].split(":")[0] == base + "_max")
            kernel = getattr(inner, base, None) if inner is not None else None
            if kernel is not None and hasattr(kernel, "numpy"):
                lo, hi = _kernel_range(kernel.numpy(), len(w.shape) == 1, rng)
            else:
                lo = -rng.uniform(1.0, 3.0, tuple(w.shape))
                hi = rng.uniform(1.0, 3.0, tuple(w.shape))
            w.assign(np.asarray(lo, "float32"))
            w_max.assign(np.asarray(hi, "float32"))


def randomize(model, rng) -> None:
    """Random weights at a scale that keeps activations O(1); BatchNormalization
    statistics and biases random too; pruning masks random 0/1; cluster
    centroids spread over their kernel's values. Integer variables (steps,
    indices) are left alone."""
    for w in model.weights:
        if not w.dtype.is_floating:
            continue
        name = w.name.split("/")[-1].split(":")[0]
        shape = tuple(int(d) for d in w.shape)
        if name.endswith(("_min", "_max")):
            continue
        if "moving_variance" in name or "gamma" in name:
            v = rng.uniform(0.5, 1.5, shape)
        elif "moving_mean" in name or "beta" in name or "bias" in name:
            v = rng.normal(0.0, 0.5, shape)
        elif name == "mask":
            v = (rng.random(shape) > 0.4).astype("float32")
        elif name == "threshold":
            continue
        elif name.startswith("cluster_centroids"):
            v = np.sort(rng.normal(0.0, 0.3, shape), axis=-1)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) or 1
            v = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        else:
            v = rng.normal(0.0, 0.5, shape)
        w.assign(v.astype("float32"))
    _set_ranges(model, rng)


def calibrate(model, x) -> None:
    """Set every activation range of a quantization-aware model to what one
    training step on x sees (the moving-average quantizers would need
    thousands): MovingAverageQuantizer runs as LastValueQuantizer meanwhile.
    Only the stored ranges change; inference arithmetic is the library's."""
    from tensorflow_model_optimization.python.core.quantization.keras import quant_ops, quantizers
    original = quantizers.MovingAverageQuantizer.__call__

    def last_value(self, inputs, training, weights, **kwargs):
        return quant_ops.LastValueQuantize(inputs, weights["min_var"], weights["max_var"],
                                           is_training=training, num_bits=self.num_bits,
                                           per_channel=self.per_axis, symmetric=self.symmetric,
                                           narrow_range=self.narrow_range)
    quantizers.MovingAverageQuantizer.__call__ = last_value
    try:
        model(x, training=True)
    finally:
        quantizers.MovingAverageQuantizer.__call__ = original


def make_input(case, rng) -> np.ndarray:
    x = rng.standard_normal((BATCH,) + tuple(case.shape)) * case.scale
    if case.inputs == "grid":
        x = np.round(x * 8.0) / 8.0
    return x.astype("float32")


def _patch_qkeras() -> None:
    """QKeras 0.9's QConv2DTranspose calls array_ops.stack, which TensorFlow
    2.13 moved to array_ops_stack; restore the name (same function)."""
    from tensorflow.python.ops import array_ops, array_ops_stack
    if not hasattr(array_ops, "stack"):
        array_ops.stack = array_ops_stack.stack


def make(case, keras) -> str:
    seed = sum(map(ord, case.name))
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = case.build(keras)
    randomize(model, rng)
    x = make_input(case, rng)
    if case.extra.get("calibrate"):
        calibrate(model, x)
    y = model.predict(x, verbose=0)
    folder = os.path.join(FIXTURES, case.family)
    os.makedirs(folder, exist_ok=True)
    model.save(os.path.join(folder, case.name + ".h5"))
    if case.archive:
        model.save(os.path.join(folder, case.name + ".keras"))
    np.savez(os.path.join(folder, case.name + ".npz"),
             **{f"input:{model.input_names[0]}": x, f"output:{model.output_names[0]}": y})
    return f"{case.family}/{case.name}"


def versions() -> str:
    import importlib.metadata as md
    import tensorflow as tf
    names = ["tf-keras", "QKeras", "tensorflow-model-optimization", "larq"]
    return f"tensorflow {tf.__version__}, " + ", ".join(f"{n} {md.version(n)}" for n in names)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append")
    p.add_argument("--library", action="append")
    a = p.parse_args()
    import tf_keras as keras
    cases = [c for c in CASES if (not a.case or c.name in a.case)
             and (not a.library or c.library in a.library)]
    if any(c.library == "qkeras" for c in cases):
        _patch_qkeras()
    for c in cases:
        print(make(c, keras))
    print(f"{len(cases)} fixtures written with {versions()}")


if __name__ == "__main__":
    main()
