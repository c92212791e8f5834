"""Make the test fixtures with real Keras (tf-keras): every case in
tests/cases is built, given random well-scaled weights, saved as HDF5, and
run on random inputs; Keras's outputs are saved beside it.

Needs a Python (3.11) with tf-keras; the committed fixtures were made with
the versions in tests/requirements-fixtures.txt (tests/make_all_fixtures.py
runs this script and the other fixture makers):

    pip install -r tests/requirements-fixtures.txt
    python tests/make_fixtures.py                 # all families
    python tests/make_fixtures.py --family conv   # one family
    python tests/make_fixtures.py --case dense_2d # one case

Writes tests/fixtures/<family>/<case>.h5 and <case>.npz (arrays
'input:<keras input name>' and 'output:<keras output name>').
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tests.cases import EXTRA_FAMILIES, FAMILIES, all_cases  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
BATCH = 3


def randomize(model, rng) -> None:
    """Random weights at a scale that keeps activations O(1) through the net,
    with BatchNormalization statistics and biases random too, so that a wrong
    conversion cannot hide behind near-constant outputs."""
    for w in model.weights:
        name = w.name.split("/")[-1]
        shape = tuple(int(d) for d in w.shape)
        if "moving_variance" in name:
            v = rng.uniform(0.5, 1.5, shape)
        elif "gamma" in name:
            v = rng.uniform(0.5, 1.5, shape)
        elif "moving_mean" in name or "beta" in name or "bias" in name:
            v = rng.normal(0.0, 0.5, shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) or 1
            v = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        else:
            v = rng.normal(0.0, 0.5, shape)
        w.assign(v.astype(w.dtype.name if hasattr(w.dtype, "name") else "float32"))


def make_inputs(model, case, rng) -> list:
    xs = []
    for i, t in enumerate(model.inputs):
        shape = [BATCH] + [int(d) if d is not None else 5 for d in t.shape[1:]]
        kind = case.input_kinds[i] if i < len(case.input_kinds) else "float"
        if isinstance(kind, tuple) and kind[0] == "int":
            xs.append(rng.integers(0, kind[1], shape).astype(t.dtype.name))
        elif isinstance(kind, tuple) and kind[0] in ("int_padded", "int_padded_empty"):
            keep = _steps_kept(shape[0], shape[1], rng, empty_row=kind[0] == "int_padded_empty")
            ids = rng.integers(1, kind[1], shape) * keep.reshape(keep.shape + (1,) * (len(shape) - 2))
            xs.append(ids.astype(t.dtype.name))
        elif isinstance(kind, tuple) and kind[0] == "float_masked":
            keep = _steps_kept(shape[0], shape[1], rng).reshape(shape[:2] + [1] * (len(shape) - 2))
            x = rng.standard_normal(shape).astype("float32")
            xs.append(np.where(keep, x, np.float32(kind[1])).astype("float32"))
        elif kind == "negative":   # so that a max over real values alone is below zero
            xs.append(-np.abs(rng.standard_normal(shape)).astype("float32"))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    return xs


def _steps_kept(batch, steps, rng, empty_row=False):
    """(batch, steps) bool: which steps a mask keeps. Row 0 is padded at the
    start, row 1 at the end and in the middle, row 2 has scattered gaps (or
    none kept, with empty_row), further rows repeat the pattern."""
    keep = np.ones((batch, steps), bool)
    cut = max(1, steps // 3)
    for b in range(batch):
        kind = b % 3
        if kind == 0:
            keep[b, :cut] = False
        elif kind == 1:
            keep[b, steps - cut:] = False
            keep[b, steps // 2 - 1] = False
        elif empty_row:
            keep[b] = False
        else:
            keep[b] = rng.random(steps) > 0.4
            keep[b, rng.integers(0, steps)] = True
    return keep


def make(case, keras) -> None:
    seed = sum(map(ord, case.name))
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = case.build(keras)
    randomize(model, rng)
    xs = make_inputs(model, case, rng)
    ys = model.predict(xs, verbose=0)
    if not isinstance(ys, list):
        ys = [ys]
    folder = os.path.join(FIXTURES, case.family)
    os.makedirs(folder, exist_ok=True)
    model.save(os.path.join(folder, case.name + ".h5"))
    arrays = {f"input:{n}": x for n, x in zip(model.input_names, xs)}
    arrays.update({f"output:{n}": y for n, y in zip(model.output_names, ys)})
    np.savez(os.path.join(folder, case.name + ".npz"), **arrays)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--family", action="append")
    p.add_argument("--case", action="append")
    a = p.parse_args()
    import tf_keras as keras
    cases = [c for c in all_cases(a.family or FAMILIES + EXTRA_FAMILIES) if not a.case or c.name in a.case]
    for c in cases:
        make(c, keras)
        print(f"{c.family}/{c.name}")
    print(f"{len(cases)} fixtures written with tf-keras {keras.__version__}")


if __name__ == "__main__":
    main()
