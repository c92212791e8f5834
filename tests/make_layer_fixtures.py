"""Make the fixtures of the per-layer check: every case of
tests/cases/layer_check.py built with tf-keras (saved as <case>.h5) and with
Keras 3 (saved as <case>_k3.keras), random well-scaled weights
(tests/make_fixtures.randomize: BatchNormalization statistics and biases
random too), and beside each a reference .npz that the same Keras computed
with `bridge.make_reference(..., layers=True)`: 'input:<name>',
'output:<name>' and every layer's output 'layer:<path>' (Keras's probe of
each layer's first call; nested models' layers as 'outer/inner').

    python tests/make_layer_fixtures.py            # all cases, both Kerases
    python tests/make_layer_fixtures.py --case cnn
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

from tests.cases.layer_check import CASES  # noqa: E402

FOLDER = os.path.join(HERE, "fixtures", "layer_check")


def paths(case, keras3: bool) -> tuple:
    stem = os.path.join(FOLDER, case.name + ("_k3" if keras3 else ""))
    return stem + (".keras" if keras3 else ".h5"), stem + ".npz"


def make(case, keras, keras3: bool) -> None:
    import bridge
    from tests.make_fixtures import randomize
    seed = sum(map(ord, case.name))
    keras.utils.set_random_seed(seed)
    model = case.build(keras)
    randomize(model, np.random.default_rng(seed))
    src, ref = paths(case, keras3)
    model.save(src)
    keras.backend.clear_session()
    # computed by the Keras that reads the file, from the file as saved
    bridge.make_reference(src, ref, layers=True, seed=seed)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.makedirs(FOLDER, exist_ok=True)
    import keras
    import tf_keras
    for c in CASES:
        if a.case and c.name not in a.case:
            continue
        for k, keras3 in ((tf_keras, False), (keras, True)):
            make(c, k, keras3)
            print(os.path.relpath(paths(c, keras3)[0], HERE))


if __name__ == "__main__":
    main()
