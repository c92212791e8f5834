"""Make the keras-cv-attention-models fixtures: every case of tests/cases/kcv.py
is built with the library on its TensorFlow backend (which, on TensorFlow
2.16 and later, is tf-keras: the library sets TF_USE_LEGACY_KERAS=1), given
random well-scaled weights, run with the model's own predict(), and saved as
tests/fixtures/libraries/kcv/<case>.h5 with <case>.npz beside it.

Made with keras-cv-attention-models 1.4.3, tensorflow-cpu 2.21.0 and
tf-keras 2.21.0 on Python 3.11, in a virtual environment of their own:

    python3.11 -m venv /tmp/kcvenv
    /tmp/kcvenv/bin/pip install keras-cv-attention-models==1.4.3 tensorflow-cpu==2.21.0 tf-keras==2.21.0
    /tmp/kcvenv/bin/python tests/make_kcv_fixtures.py                # all cases
    /tmp/kcvenv/bin/python tests/make_kcv_fixtures.py --case kcv_beit
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

from tests.cases.kcv import CASES  # noqa: E402

FOLDER = os.path.join(HERE, "fixtures", "libraries", "kcv")
BATCH = 3


def randomize(model, rng) -> None:
    """tests/make_fixtures.randomize, plus the library's own weight names:
    ChannelAffine 'weight' near 1, token and position tables, relative
    position biases and BiasLayer 'bias' random at a moderate scale."""
    for w in model.weights:
        name = w.name.split("/")[-1].split(":")[0]
        shape = tuple(int(d) for d in w.shape)
        if name in ("moving_variance", "gamma", "weight"):
            v = rng.uniform(0.5, 1.5, shape)
        elif name in ("moving_mean", "beta", "bias") or "bias" in name:
            v = rng.normal(0.0, 0.5, shape)
        elif name in ("tokens", "positional_embedding"):
            v = rng.normal(0.0, 0.5, shape)
        elif len(shape) >= 2:
            v = rng.normal(0.0, 1.0 / np.sqrt(int(np.prod(shape[:-1])) or 1), shape)
        else:
            v = rng.normal(0.0, 0.5, shape)
        w.assign(v.astype(w.dtype.name))


def make(case, keras) -> None:
    seed = sum(map(ord, case.name)) + 7
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = case.build(keras)
    randomize(model, rng)
    xs = [rng.standard_normal([BATCH] + [int(d) for d in t.shape[1:]]).astype("float32")
          for t in model.inputs]
    ys = model.predict(xs, verbose=0)
    ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    os.makedirs(FOLDER, exist_ok=True)
    model.save(os.path.join(FOLDER, case.name + ".h5"))
    arrays = {f"input:{n}": x for n, x in zip(model.input_names, xs)}
    arrays.update({f"output:{n}": y for n, y in zip(model.output_names, ys)})
    np.savez(os.path.join(FOLDER, case.name + ".npz"), **arrays)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append")
    a = p.parse_args()
    # set here, not on import: the tests import this module for FOLDER
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")     # what the library itself sets
    # oneDNN's CPU softmax takes at most 5-D inputs; VOLO's outlook attention is 6-D
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras_cv_attention_models as kecam
    from keras_cv_attention_models import backend
    import tf_keras as keras
    assert backend.models.__name__.startswith("tf_keras"), "the library is not on tf-keras"
    cases = [c for c in CASES if not a.case or c.name in a.case]
    failed = []
    for c in cases:
        try:
            make(c, keras)
            print(f"kcv/{c.name}")
        except Exception as e:  # report and go on: the test lists what must exist
            failed.append(f"{c.name}: {type(e).__name__}: {str(e)[:400]}")
    for f in failed:
        print("FAILED", f)
    print(f"{len(cases) - len(failed)} fixtures written with keras-cv-attention-models "
          f"{kecam.__version__}, tf-keras {keras.__version__}")


if __name__ == "__main__":
    main()
