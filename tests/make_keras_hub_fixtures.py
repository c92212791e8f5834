"""Make the KerasHub fixtures: every case of tests/cases/keras_hub.py is built
with KerasHub on Keras 3 (the TensorFlow backend), given random well-scaled
weights, run on random inputs with the model's own predict(), and saved as
tests/fixtures/libraries/keras_hub/<case>.keras with <case>.npz beside it
('input:<name>' and 'output:<i>:<name>', outputs in the model's order).

Made with keras-hub 0.32.0, keras 3.15.1, tensorflow-cpu 2.21.0 on Python
3.11, in a virtual environment of their own (keras-hub pulls tensorflow-text,
which the project's own environment does not need):

    python3.11 -m venv /tmp/hubenv
    /tmp/hubenv/bin/pip install keras-hub==0.32.0 keras==3.15.1 tensorflow-cpu==2.21.0
    /tmp/hubenv/bin/python tests/make_keras_hub_fixtures.py              # all cases
    /tmp/hubenv/bin/python tests/make_keras_hub_fixtures.py --case hub_fnet
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

from tests.cases.keras_hub import CASES, NO_RELOAD  # noqa: E402
from tests.make_keras3_fixtures import save_reference  # noqa: E402

FOLDER = os.path.join(HERE, "fixtures", "libraries", "keras_hub")
BATCH = 3


def randomize(model, rng) -> None:
    """Well-scaled random weights (tests/make_fixtures.randomize's rules, by
    the Keras 3 variable path): LayerNormalization gamma near 1, biases and
    betas random, kernels and tables by fan-in."""
    for v in model.weights:
        shape = tuple(int(d) for d in v.shape)
        name = v.path.rsplit("/", 1)[-1]
        if name == "gamma":
            a = rng.uniform(0.5, 1.5, shape)
        elif name in ("beta", "bias") or "bias" in name:
            a = rng.normal(0.0, 0.5, shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1]))
            if "embeddings" in name or any(p in v.path for p in ("query", "key", "value")):
                fan_in = shape[-1] if "embeddings" in name else shape[0]
            a = rng.normal(0.0, 1.0 / np.sqrt(max(fan_in, 1)), shape)
        else:
            a = rng.normal(0.0, 0.5, shape)
        v.assign(a.astype(str(v.dtype)))


def _padded_rows(steps, rng):
    """Per row, how many leading steps are real: row 0 all, the others fewer."""
    return [steps] + [int(rng.integers(1, steps)) for _ in range(BATCH - 1)]


def make_inputs(model, case, rng) -> list:
    xs = []
    for i, t in enumerate(model.inputs):
        shape = [BATCH] + [int(d) if d is not None else 5 for d in t.shape[1:]]
        kind = case.input_kinds[i] if i < len(case.input_kinds) else "float"
        dtype = str(getattr(t.dtype, "name", t.dtype))
        if isinstance(kind, tuple) and kind[0] == "int":
            xs.append(rng.integers(0, kind[1], shape).astype(dtype))
        elif isinstance(kind, tuple) and kind[0] == "ids":
            ids = rng.integers(1, kind[1], shape)
            for row, n in enumerate(_padded_rows(shape[1], rng)):
                ids[row, n:] = 0
            xs.append(ids.astype(dtype))
        elif isinstance(kind, tuple) and kind[0] == "keep":
            keep = np.zeros(shape, np.int64)
            for row, n in enumerate(_padded_rows(shape[1], rng)):
                keep[row, :n] = 1
            xs.append(keep.astype(dtype))
        elif isinstance(kind, tuple) and kind[0] == "pos":
            xs.append(rng.integers(0, kind[1], shape).astype(dtype))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    return xs


def make(case, keras) -> None:
    seed = sum(map(ord, case.name)) + 5
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = case.build(keras)
    randomize(model, rng)
    xs = make_inputs(model, case, rng)
    ys = model.predict(xs, verbose=0)
    ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    os.makedirs(FOLDER, exist_ok=True)
    path = os.path.join(FOLDER, case.name + ".keras")
    model.save(path)
    if case.name not in NO_RELOAD:
        # the saved file must give what was measured (a layer whose weights
        # did not round-trip would make the fixture meaningless)
        again = keras.models.load_model(path)
        ys2 = again.predict(xs, verbose=0)
        ys2 = list(ys2) if isinstance(ys2, (list, tuple)) else [ys2]
        for a, b in zip(ys, ys2):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    save_reference(os.path.join(FOLDER, case.name + ".npz"), model, xs, ys)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import keras_hub
    cases = [c for c in CASES if not a.case or c.name in a.case]
    failed = []
    for c in cases:
        try:
            make(c, keras)
            print(f"keras_hub/{c.name}")
        except Exception as e:  # report and go on: the test lists what must exist
            failed.append(f"{c.name}: {type(e).__name__}: {str(e)[:400]}")
    for f in failed:
        print("FAILED", f)
    print(f"{len(cases) - len(failed)} fixtures written with keras-hub {keras_hub.__version__}, "
          f"Keras {keras.__version__}")


if __name__ == "__main__":
    main()
