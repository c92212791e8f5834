"""Make the fixtures of `.keras` archives written by tf.keras 2.13 to 2.15,
which Keras 3 no longer reads: tf.keras 2.13 keeps a model's layers under
`_layer_checkpoint_dependencies/`, numbering a layer with weights twice
(2.14 and 2.15: under `layers/`, as Keras 3), and all three keep
MultiHeadAttention's projections as `_query_dense`, `_key_dense`,
`_value_dense`, `_output_dense`.

Each case is built with the tf.keras of the running TensorFlow, given random
well-scaled weights, run with tf.keras's own predict(), and saved as
tests/fixtures/formats/tf<version>_<case>.keras with .npz beside it
('input:<name>' / 'output:<name>').

The `_windows` variants: tf.keras joined the HDF5 group path of each object
with os.path.join, so a model saved on Windows has root groups named
'layers\\conv1d' holding 'vars/0'. There is no Windows here, so
`--windows` rewrites the real archives written above: every variable's
group path (everything before 'vars/<i>') becomes one root group whose name
joins the parts with backslashes, exactly what os.path.join gives on
Windows; config.json, metadata.json and the values are copied unchanged,
and the npz is the same.

Made on Python 3.11, each TensorFlow in a virtual environment of its own:

    python3.11 -m venv /tmp/tf213 && /tmp/tf213/bin/pip install "tensorflow-cpu==2.13.1" "numpy<2" h5py
    python3.11 -m venv /tmp/tf214 && /tmp/tf214/bin/pip install "tensorflow-cpu==2.14.1" "numpy<2" h5py
    python3.11 -m venv /tmp/tf215 && /tmp/tf215/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" h5py
    /tmp/tf213/bin/python tests/make_old_keras_fixtures.py --windows     # and likewise tf214, tf215
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "formats")
BATCH = 3
VERSIONS = ("2.13", "2.14", "2.15")


def _cnn(keras):
    """Three layers of one class with weights (tf.keras 2.13 numbers them
    dense, dense_2, dense_4: it listed each twice), two without."""
    L = keras.layers
    x = keras.Input((12, 3), name="x")
    h = L.Conv1D(6, 3, activation="relu", name="conv1d")(x)
    h = L.MaxPooling1D(2)(h)
    h = L.BatchNormalization()(h)
    h = L.Dropout(0.5)(L.Flatten()(h))
    h = L.Dense(8, activation="relu")(L.Dropout(0.5)(L.Dense(10, activation="relu")(h)))
    return keras.Model(x, L.Dense(4)(L.BatchNormalization()(h)))


def _attention(keras):
    """Self- and cross-attention (with a key), a transformer block."""
    L = keras.layers
    q = keras.Input((5, 8), name="q")
    v = keras.Input((4, 6), name="v")
    h = L.MultiHeadAttention(2, 4, name="self_attention")(q, q)
    h = L.LayerNormalization()(L.Add()([q, h]))
    c = L.MultiHeadAttention(3, 2, value_dim=3, name="cross_attention")(h, v, key=v)
    h = L.LayerNormalization()(L.Add()([h, c]))
    return keras.Model([q, v], L.Dense(3)(L.Dense(16, activation="gelu")(h)))


def _nested(keras):
    """A nested Sequential, a nested functional model, TimeDistributed and a
    Bidirectional LSTM: the sub-groups that nest further."""
    L = keras.layers
    x = keras.Input((6, 4), name="x")
    seq = keras.Sequential([L.Dense(5, activation="tanh"), L.BatchNormalization()], name="inner_seq")
    i = keras.Input((6, 5))
    func = keras.Model(i, L.Dense(4)(L.LayerNormalization()(i)), name="inner_func")
    h = func(seq(x))
    h = L.Bidirectional(L.LSTM(3, return_sequences=True))(h)
    return keras.Model(x, L.TimeDistributed(L.Dense(2))(h))


CASES = {"cnn": _cnn, "attention": _attention, "nested": _nested}


def names(version: str) -> list:
    tag = "tf" + version.replace(".", "")
    return [f"{tag}_{c}" for c in CASES] + [f"{tag}_{c}_windows" for c in CASES]


def make(version: str) -> list:
    import tensorflow as tf
    from tests.make_format_fixtures import inputs_for, randomize_tfk, save_ref
    keras = tf.keras
    made = []
    for case, build in CASES.items():
        name = f"tf{version.replace('.', '')}_{case}"
        seed = sum(map(ord, name))
        keras.utils.set_random_seed(seed)
        m = build(keras)
        rng = np.random.default_rng(seed)
        randomize_tfk(m, rng)
        xs = inputs_for(m, rng)
        ys = m.predict(xs, verbose=0)
        m.save(os.path.join(OUT, name + ".keras"))
        save_ref(name, m, xs, ys)
        made.append(name)
    return made


def windows(src: str, dst: str) -> None:
    """Rewrite archive `src` as tf.keras on Windows would have written it."""
    import h5py
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    old = h5py.File(io.BytesIO(members["model.weights.h5"]), "r")
    groups = []
    old.visititems(lambda n, o: groups.append(n) if isinstance(o, h5py.Group) and n.endswith("vars") else None)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as new:
        if "vars" in old:
            new.create_group("vars")
        for g in groups:
            path = g[:-len("vars")].rstrip("/")
            if not path:
                continue
            target = new.create_group(path.replace("/", "\\")).create_group("vars")
            for k, d in old[g].items():
                target.create_dataset(k, data=d[()])
    old.close()
    members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(dst, "w") as zout:
        for n, data in members.items():
            zout.writestr(n, data)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--windows", action="store_true", help="also write the _windows variants")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")    # here, not on import: the tests import it
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    sys.path.insert(0, os.path.dirname(HERE))
    import shutil

    import tensorflow as tf
    version = ".".join(tf.__version__.split(".")[:2])
    if version not in VERSIONS:
        sys.exit(f"TensorFlow {tf.__version__}: these fixtures are for tf.keras {', '.join(VERSIONS)}")
    made = make(version)
    if a.windows:
        for name in list(made):
            windows(os.path.join(OUT, name + ".keras"), os.path.join(OUT, name + "_windows.keras"))
            shutil.copy(os.path.join(OUT, name + ".npz"), os.path.join(OUT, name + "_windows.npz"))
            made.append(name + "_windows")
    for n in made:
        print(f"formats/{n}")
    print(f"{len(made)} fixtures written with TensorFlow {tf.__version__}")


if __name__ == "__main__":
    main()
