"""Make the Lambda fixtures: each body below is written as Python source,
turned into a function by exec in a namespace holding the modules Lambda
bodies use (K = the Keras backend, tf, np, ops = keras.ops, keras, math),
wrapped in a Lambda layer and saved:

- "k2" bodies by tf-keras (`model.save("<case>.h5")`, Keras 2 HDF5: the
  function as base64 marshal in the config);
- "k3" bodies by Keras 3 (`model.save("<case>.keras")`: the function as a
  `__lambda__` code object in config.json).

Expected values: the model's own `predict` on random inputs, saved beside
it as <case>.npz (arrays input_0.., output_0.. by position). HARD bodies
(loops, helpers, branches on tensors, comprehensions, unknown globals) are
saved without expected values: the converter must refuse them.

    python tests/make_lambda_fixtures.py               # every case
    python tests/make_lambda_fixtures.py --case scale_255

The old-Python Lambda files of the corpus (space_to_depth, Python 3.6 byte
code, Keras 1.2.2 and 2.1.3) cannot be loaded by any Keras here, so their
expected values are made by `--corpus CORPUS_DIR`: a tf-keras model that
recreates each Lambda by hand (the body the corpus file holds, as shown by
`bridge inspect`: `tf.space_to_depth(x, block_size=2)`, i.e.
tf.nn.space_to_depth) around the same layers, run on random inputs, saved as
tests/fixtures/lambdas/corpus/<file stem>.npz.

Needs the '.[keras]' extra (tensorflow-cpu, tf-keras, keras 3).
"""
from __future__ import annotations

import argparse
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "fixtures", "lambdas")
BATCH = 3

# (name, formats, input shapes without the batch axis, body, Lambda options)
CASES = [
    ("scale_255", "k2 k3", [(6,)], "lambda x: x / 255.0 - 0.5", {}),
    ("scale_127", "k2 k3", [(4, 4, 3)], "lambda x: x / 127.5 - 1.0", {}),
    ("negate", "k2 k3", [(5,)], "lambda x: -x", {}),
    ("square_plus", "k2 k3", [(5,)], "lambda x: x ** 2 + 1", {}),
    ("mean_axis1", "k2", [(4, 5)], "lambda x: K.mean(x, axis=1)", {}),
    ("mean_keepdims", "k2", [(4, 5)], "lambda x: K.mean(x, axis=-1, keepdims=True)", {}),
    ("sum_axis1", "k2", [(4, 5)], "lambda x: K.sum(x, axis=1)", {}),
    ("k_square", "k2", [(5,)], "lambda x: K.square(x)", {}),
    ("k_sqrt_abs", "k2", [(5,)], "lambda x: K.sqrt(K.abs(x))", {}),
    ("k_sqrt_negative", "k2", [(5,)], "lambda x: K.sqrt(x)", {}),
    ("k_exp", "k2", [(5,)], "lambda x: K.exp(x)", {}),
    ("k_log", "k2", [(5,)], "lambda x: K.log(K.abs(x) + 1e-3)", {}),
    ("euclidean", "k2", [(8,), (8,)],
     "lambda v: K.sqrt(K.maximum(K.sum(K.square(v[0] - v[1]), axis=1, keepdims=True), K.epsilon()))", {}),
    ("euclidean_def", "k2", [(8,), (8,)], """
def euclidean_distance(vects):
    x, y = vects
    sum_square = K.sum(K.square(x - y), axis=1, keepdims=True)
    return K.sqrt(K.maximum(sum_square, K.epsilon()))
""", {}),
    ("l2_normalize", "k2", [(6,)], "lambda x: K.l2_normalize(x, axis=1)", {}),
    ("image_resize", "k2 k3", [(4, 4, 3)], "lambda x: tf.image.resize(x, (8, 8))", {}),
    ("expand_dims", "k2", [(5,)], "lambda x: K.expand_dims(x, 1)", {}),
    ("squeeze", "k2", [(1, 5)], "lambda x: K.squeeze(x, 1)", {}),
    ("k_reshape", "k2", [(12,)], "lambda x: K.reshape(x, (-1, 4, 3))", {}),
    ("permute", "k2", [(3, 4)], "lambda x: K.permute_dimensions(x, (0, 2, 1))", {}),
    ("concatenate", "k2", [(3,), (4,)], "lambda v: K.concatenate([v[0], v[1]], axis=-1)", {}),
    ("stack", "k2", [(3,), (3,)], "lambda v: K.stack([v[0], v[1]], axis=1)", {}),
    ("first_column", "k2 k3", [(4, 3)], "lambda x: x[:, 0]", {}),
    ("reverse_channels", "k2 k3", [(4, 4, 3)], "lambda x: x[..., ::-1]", {}),
    ("slice_middle", "k2 k3", [(6, 3)], "lambda x: x[:, 1:4, :]", {}),
    ("tf_relu", "k2 k3", [(5,)], "lambda x: tf.nn.relu(x)", {}),
    ("k_clip", "k2", [(5,)], "lambda x: K.clip(x, -0.5, 0.5)", {}),
    ("k_maximum", "k2", [(5,)], "lambda x: K.maximum(x, 0.1)", {}),
    ("k_pow", "k2", [(5,)], "lambda x: K.pow(x, 2)", {}),
    ("reduce_max", "k2 k3", [(4, 5)], "lambda x: tf.reduce_max(x, axis=1)", {}),
    ("arguments", "k2 k3", [(5,)], "lambda x, scale, shift: x * scale + shift",
     {"arguments": {"scale": 3.0, "shift": -1.0}}),
    ("default_args", "k2 k3", [(5,)], "lambda x, a=2.0, b=1.0: a * x + b", {}),
    ("closure", "k2 k3", [(5,)], """
def make(s):
    return lambda x: x * s
fn = make(3.0)
""", {}),
    ("tuple_output", "k2 k3", [(5,)], "lambda x: (x * 2.0, x + 1.0)", {}),
    ("list_output", "k2 k3", [(4,)], "lambda x: [x[:, :2], x[:, 2:]]", {}),
    ("def_locals", "k2", [(5,)], """
def centre(x):
    y = x * 2.0
    return y - K.mean(y, axis=-1, keepdims=True)
""", {}),
    ("tf_math", "k2 k3", [(5,)], "lambda x: tf.math.add(tf.math.square(x), 1.0)", {}),
    ("k_max_min", "k2", [(4, 5)], "lambda x: K.max(x, axis=1) - K.min(x, axis=1)", {}),
    ("split", "k2 k3", [(6,)], "lambda x: tf.split(x, 2, axis=-1)", {}),
    ("k_softmax", "k2", [(5,)], "lambda x: K.softmax(x) + K.sigmoid(x) + K.tanh(x)", {}),
    ("import_inside", "k2", [(4, 4, 8)], """
def space_to_depth_x2(x):
    import tensorflow as tf
    return tf.nn.space_to_depth(x, block_size=2)
""", {}),
    ("batch_flatten", "k2", [(3, 4)], "lambda x: K.batch_flatten(x)", {}),
    ("mask_positive", "k2", [(5,)], "lambda x: K.cast(x > 0, 'float32') * x", {}),
    ("numpy_constants", "k2 k3", [(5,)], "lambda x: x * np.pi + np.sqrt(2.0)", {}),
    ("int_shape", "k2", [(3, 4)], "lambda x: K.reshape(x, (-1, K.int_shape(x)[1] * K.int_shape(x)[2]))", {}),
    ("shape_attr", "k2 k3", [(3, 4)], "lambda x: tf.reshape(x, (-1, x.shape[1] * x.shape[2]))", {}),
    ("ops_mean", "k3", [(4, 5)], "lambda x: ops.mean(x, axis=1)", {}),
    ("ops_keepdims", "k3", [(4, 5)], "lambda x: x - ops.max(x, axis=-1, keepdims=True)", {}),
    ("ops_euclidean", "k3", [(8,), (8,)],
     "lambda v: ops.sqrt(ops.maximum(ops.sum(ops.square(v[0] - v[1]), axis=1, keepdims=True), 1e-7))", {}),
    ("ops_concatenate", "k3", [(3,), (4,)], "lambda v: ops.concatenate([v[0], v[1]], axis=-1)", {}),
    ("ops_reshape", "k3", [(12,)], "lambda x: ops.reshape(x, (-1, 4, 3))", {}),
    ("ops_transpose", "k3", [(3, 4)], "lambda x: ops.transpose(x, (0, 2, 1))", {}),
    ("ops_clip_abs", "k3", [(5,)], "lambda x: ops.clip(ops.abs(x), 0.1, 0.8)", {}),
    ("ops_expand_squeeze", "k3", [(5,)], "lambda x: ops.squeeze(ops.expand_dims(x, 1), 1) * 2.0", {}),
    ("ops_stack", "k3", [(3,), (3,)], "lambda v: ops.stack([v[0], v[1]], axis=1)", {}),
    ("ops_softmax", "k3", [(5,)], "lambda x: ops.softmax(x) + ops.sigmoid(x)", {}),
    ("ops_l2", "k3", [(6,)], "lambda x: x / ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True))", {}),
    ("tf_l2", "k3", [(6,)], "lambda x: tf.math.l2_normalize(x, axis=1)", {}),
]

# (name, formats, shapes, body) the converter must refuse, naming the layer
HARD = [
    ("hard_loop", "k2 k3", [(5,)], """
def repeat_double(x):
    for _ in range(3):
        x = x * 2.0
    return x
"""),
    ("hard_helper", "k2 k3", [(5,)], """
def helper(x):
    return x * 2.0
fn = lambda x: helper(x) + 1.0
"""),
    ("hard_branch", "k2 k3", [(5,)], "lambda x: x * 2.0 if x.shape[-1] > 3 else -x"),
    ("hard_comprehension", "k2", [(4,)], "lambda x: K.concatenate([x[:, i:i + 1] for i in range(2)])"),
    ("hard_while", "k2 k3", [(5,)], """
def halve(x):
    n = 0
    while n < 2:
        x = x / 2.0
        n += 1
    return x
"""),
]


def _function(source: str, namespace: dict):
    ns = dict(namespace)
    source = source.strip("\n")
    if source.startswith("lambda"):
        return eval(source, ns)
    exec(source, ns)
    if "fn" in ns:
        return ns["fn"]
    return ns[source.split("def ", 1)[1].split("(", 1)[0]]


def _inputs(shapes, rng):
    return [rng.normal(size=(BATCH,) + tuple(s)).astype(np.float32) for s in shapes]


def _build(fmt, name, shapes, source, options):
    import tensorflow as tf
    if fmt == "k2":
        import tf_keras as keras
        namespace = {"K": keras.backend, "tf": tf, "np": np, "math": math, "keras": keras}
    else:
        import keras
        namespace = {"ops": keras.ops, "tf": tf, "np": np, "math": math, "keras": keras}
    fn = _function(source, namespace)
    ins = [keras.Input(shape=s, name=f"x{i}") for i, s in enumerate(shapes)]
    lam = keras.layers.Lambda(fn, name=name, **options)
    out = lam(ins[0] if len(ins) == 1 else ins)
    return keras.Model(ins, out)


def make(fmt, name, shapes, source, options, hard=False):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    model = _build(fmt, name, shapes, source, options)
    ext = ".h5" if fmt == "k2" else ".keras"
    os.makedirs(FOLDER, exist_ok=True)
    path = os.path.join(FOLDER, f"{name}_{fmt}{ext}")
    model.save(path)
    if hard:
        return path
    xs = _inputs(shapes, rng)
    ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    arrays = {f"input_{i}": x for i, x in enumerate(xs)}
    arrays.update({f"output_{i}": np.asarray(y) for i, y in enumerate(ys)})
    np.savez(os.path.join(FOLDER, f"{name}_{fmt}.npz"), **arrays)
    return path


def make_corpus(corpus: str):
    """Expected outputs for the corpus's space_to_depth Lambda files (see the module doc)."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as keras
    out_dir = os.path.join(FOLDER, "corpus")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(9)

    def s2d(x):
        return tf.nn.space_to_depth(x, block_size=2)
    # space_to_depth_simple_*: Input(6, 6, 4) -> Lambda(space_to_depth_x2)
    x = keras.Input((6, 6, 4))
    simple = keras.Model(x, keras.layers.Lambda(s2d)(x))
    # space_to_depth_graph_tensorflow_2: [Input(6, 6, 4) -> Lambda, Input(3, 3, 16)] -> Concatenate
    a, b = keras.Input((6, 6, 4)), keras.Input((3, 3, 16))
    graph = keras.Model([a, b], keras.layers.Concatenate(axis=-1)([keras.layers.Lambda(s2d)(a), b]))
    for stem, model in (("space_to_depth_simple_tensorflow_1", simple),
                        ("space_to_depth_simple_tensorflow_2", simple),
                        ("space_to_depth_graph_tensorflow_2", graph)):
        if not os.path.exists(os.path.join(corpus, "dl4j", stem + ".h5")):
            continue
        xs = [rng.normal(size=(BATCH,) + tuple(i.shape[1:])).astype(np.float32) for i in model.inputs]
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        arrays = {f"input_{i}": v for i, v in enumerate(xs)}
        arrays["output_0"] = ys
        np.savez(os.path.join(out_dir, stem + ".npz"), **arrays)
        print("corpus", stem)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case")
    ap.add_argument("--corpus", help="the shared corpus folder: make its Lambda files' expected outputs")
    a = ap.parse_args()
    if a.corpus:
        make_corpus(a.corpus)
        return
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    for name, fmts, shapes, source, options in CASES:
        for fmt in fmts.split():
            if a.case in (None, name):
                print(make(fmt, name, shapes, source, options))
    for name, fmts, shapes, source in HARD:
        for fmt in fmts.split():
            if a.case in (None, name):
                print(make(fmt, name, shapes, source, {}, hard=True))


if __name__ == "__main__":
    main()
