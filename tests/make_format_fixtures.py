"""Make the file-format fixtures with real Keras: Keras 3 (.keras archives,
.weights.h5 beside a JSON config, Keras 3 legacy .h5) and tf-keras (JSON +
save_weights() HDF5, float16 and mixed-precision models, a tf-keras .keras).
Each fixture's inputs and the outputs Keras computed are saved beside it in
<name>.npz ('input:<name>' / 'output:<name>').

    python tests/make_format_fixtures.py          # all
    python tests/make_format_fixtures.py --only k3_cnn

Needs a Python (3.11) with tensorflow-cpu, tf-keras and keras 3, the
versions in tests/requirements-fixtures.txt (pip install -r
tests/requirements-fixtures.txt; tests/make_all_fixtures.py runs every
fixture maker). Writes tests/fixtures/formats/.
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "formats")
BATCH = 3


# -- shared helpers ---------------------------------------------------------------

def _value(name, shape, rng):
    if "moving_variance" in name or "gamma" in name:
        return rng.uniform(0.5, 1.5, shape)
    if "moving_mean" in name or "beta" in name or "bias" in name:
        return rng.normal(0.0, 0.5, shape)
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[:-1])) or 1
        return rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
    return rng.normal(0.0, 0.5, shape)


def randomize_k3(model, rng):
    for v in model.weights:
        shape = tuple(int(d) for d in v.shape)
        if shape == () or "count" in v.path or "seed" in v.path:
            continue
        v.assign(_value(v.path, shape, rng).astype(str(v.dtype)))


def randomize_tfk(model, rng):
    for w in model.weights:
        shape = tuple(int(d) for d in w.shape)
        w.assign(_value(w.name, shape, rng).astype(w.dtype.name))


def inputs_for(model, rng, ints=None):
    xs = []
    for i, t in enumerate(model.inputs):
        shape = [BATCH] + [int(d) if d is not None else 5 for d in t.shape[1:]]
        if ints and i in ints:
            xs.append(rng.integers(0, ints[i], shape).astype("int32"))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    return xs


def _names(model, which):
    ts = model.inputs if which == "in" else model.outputs
    if hasattr(model, "input_names") and which == "in":
        return list(model.input_names)
    if hasattr(model, "output_names") and which == "out" and model.output_names:
        return list(model.output_names)
    return [t.name.split(":")[0].split("/")[0] for t in ts]


def save_ref(name, model, xs, ys, in_names=None, out_names=None):
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    in_names = in_names or _names(model, "in")
    out_names = out_names or _names(model, "out")
    arrays = {f"input:{n}": np.asarray(x) for n, x in zip(in_names, xs)}
    arrays.update({f"output:{n}": np.asarray(y, dtype=np.float32) for n, y in zip(out_names, ys)})
    np.savez(os.path.join(OUT, name + ".npz"), **arrays)


def k3_layer_names(model, which):
    """Keras 3 input / output layer names, as the config's input_layers / output_layers."""
    cfg = model.get_config()
    key = "input_layers" if which == "in" else "output_layers"
    v = cfg.get(key)
    if v is None:   # Sequential
        layers = cfg["layers"]
        return [layers[0]["config"]["name"]] if which == "in" else [layers[-1]["config"]["name"]]
    out = []

    def walk(x):
        if isinstance(x, list) and x and isinstance(x[0], str):
            out.append(x[0])
        elif isinstance(x, dict):
            for y in x.values():
                walk(y)
        elif isinstance(x, list):
            for y in x:
                walk(y)
    walk(v)
    return out


# -- Keras 3 -----------------------------------------------------------------------

def k3_cnn(keras):
    L = keras.layers
    x = keras.Input((9, 9, 3), name="image")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="c1")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(h)
    h = L.SeparableConv2D(5, 3, padding="same", name="sep")(h)
    h = L.MaxPooling2D(2, name="pool")(h)
    h = L.Conv2DTranspose(3, 2, strides=2, name="up")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    y = L.Dense(4, activation="softmax", name="head")(h)
    return keras.Model(x, y, name="k3_cnn")


def k3_nested(keras):
    L = keras.layers
    x = keras.Input((6,), name="x")
    i = keras.Input((6,))
    inner = keras.Model(i, L.Dense(6, activation="tanh")(i), name="block")
    seq = keras.Sequential([keras.Input((6,)), L.Dense(5, activation="relu"), L.Dense(3)], name="seq")
    shared = L.Dense(6, name="shared")
    a = inner(shared(x))
    b = inner(shared(a))           # the nested model and the shared layer, called twice
    y1 = seq(L.Add(name="add")([a, b]))
    y2 = L.Concatenate(name="cat")([a, y1])
    return keras.Model(x, [y1, y2], name="k3_nested")


def k3_rnn(keras):
    L = keras.layers
    t = keras.Input((7,), dtype="int32", name="tokens")
    h = L.Embedding(11, 4, name="emb")(t)
    h = L.Bidirectional(L.LSTM(3, return_sequences=True), name="bilstm")(h)
    h = L.GRU(4, return_sequences=True, name="gru")(h)
    h = L.TimeDistributed(L.Dense(2), name="td")(h)
    y = L.SimpleRNN(3, name="rnn")(h)
    return keras.Model(t, y, name="k3_rnn")


def k3_sequential(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((5, 4)), L.Conv1D(3, 2, activation="hard_sigmoid"),
                             L.LeakyReLU(negative_slope=0.2), L.Flatten(), L.Dense(2)],
                            name="k3_sequential")


def k3_attention(keras):
    L = keras.layers
    x = keras.Input((5, 6), name="seq")
    h = L.MultiHeadAttention(2, 3, name="mha")(x, x)
    h = L.LayerNormalization(name="ln")(L.Add()([x, h]))
    return keras.Model(x, L.Dense(2, name="out")(h), name="k3_attention")


def k3_dict_io(keras):
    L = keras.layers
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    h = L.Concatenate(name="cat")([L.Dense(5, name="da")(a), L.Dense(5, name="db")(b)])
    return keras.Model({"a": a, "b": b}, {"first": L.Dense(2, name="o1")(h),
                                          "second": L.Dense(3, name="o2")(h)}, name="k3_dict_io")


def k3_wrapped_model(keras):
    L = keras.layers
    i = keras.Input((6, 6, 2))
    inner = keras.Model(i, L.Conv2D(3, 3, name="inner_conv")(i), name="frame_net")
    return keras.Sequential([keras.Input((4, 6, 6, 2)), L.TimeDistributed(L.Conv2D(2, 3, padding="same")),
                             L.TimeDistributed(inner), L.Reshape((4, -1)), L.GRU(3)],
                            name="k3_wrapped_model")


def k3_masked_bidirectional(keras):
    L = keras.layers
    x = keras.Input((6,), dtype="int32", name="ids")
    e = L.Embedding(7, 3, mask_zero=True)(x)
    h = L.Bidirectional(L.LSTM(2, return_sequences=True),
                        backward_layer=L.GRU(2, return_sequences=True, go_backwards=True))(e)
    return keras.Model(x, L.GlobalAveragePooling1D()(h), name="k3_masked_bidirectional")


def make_k3(only):
    import keras
    made = []

    def archive(name, build, ints=None, tol=None):
        if only and name not in only:
            return
        keras.utils.set_random_seed(7)
        model = build(keras)
        rng = np.random.default_rng(sum(map(ord, name)))
        randomize_k3(model, rng)
        xs = inputs_for(model, rng, ints)
        ys = model.predict(xs, verbose=0)
        model.save(os.path.join(OUT, name + ".keras"))
        save_ref(name, model, xs, ys, k3_layer_names(model, "in"), k3_layer_names(model, "out"))
        made.append(name)
        return model, xs, ys

    archive("k3_cnn", k3_cnn)
    archive("k3_nested", k3_nested)
    archive("k3_rnn", k3_rnn, ints={0: 11})
    archive("k3_sequential", k3_sequential)
    archive("k3_attention", k3_attention)
    archive("k3_wrapped_model", k3_wrapped_model)
    archive("k3_masked_bidirectional", k3_masked_bidirectional, ints={0: 7})
    name = "k3_dict_io"
    if not only or name in only:
        keras.utils.set_random_seed(9)
        model = k3_dict_io(keras)
        rng = np.random.default_rng(9)
        randomize_k3(model, rng)
        xs = {"a": rng.standard_normal((BATCH, 4)).astype("float32"),
              "b": rng.standard_normal((BATCH, 3)).astype("float32")}
        ys = model.predict(xs, verbose=0)
        model.save(os.path.join(OUT, name + ".keras"))
        save_ref(name, model, [xs["a"], xs["b"]], [ys["first"], ys["second"]], ["a", "b"], ["o1", "o2"])
        made.append(name)

    # float16 end to end, bfloat16 weights, and a mixed-precision policy
    def typed(dtype):
        def build(keras):
            L = keras.layers
            x = keras.Input((6,), name="x", dtype=None if dtype.startswith("mixed") else dtype)
            kw = {} if dtype.startswith("mixed") else {"dtype": dtype}
            h = L.Dense(5, activation="relu", name="d1", **kw)(x)
            y = L.Dense(3, name="d2", dtype="float32")(h)
            return keras.Model(x, y, name=f"k3_{dtype}")
        return build

    for dtype in ("float16", "bfloat16", "mixed_float16"):
        name = f"k3_{dtype}"
        if only and name not in only:
            continue
        if dtype.startswith("mixed"):
            keras.config.set_dtype_policy(dtype)
        try:
            archive(name, typed(dtype))
        finally:
            keras.config.set_dtype_policy("float32")

    # architecture JSON + .weights.h5, and the legacy .h5 Keras 3 still writes
    name = "k3_json"
    if not only or name in only:
        keras.utils.set_random_seed(3)
        model = k3_cnn(keras)
        rng = np.random.default_rng(5)
        randomize_k3(model, rng)
        xs = inputs_for(model, rng)
        ys = model.predict(xs, verbose=0)
        with open(os.path.join(OUT, name + ".json"), "w") as fh:
            fh.write(model.to_json())
        model.save_weights(os.path.join(OUT, name + ".weights.h5"))
        model.save(os.path.join(OUT, "k3_legacy.h5"))
        save_ref(name, model, xs, ys, k3_layer_names(model, "in"), k3_layer_names(model, "out"))
        save_ref("k3_legacy", model, xs, ys, k3_layer_names(model, "in"), k3_layer_names(model, "out"))
        made += [name, "k3_legacy"]
    return made


# -- tf-keras ------------------------------------------------------------------------

def tfk_small(keras, n):
    L = keras.layers
    x = keras.Input((6, 6, 2), name="img")
    h = L.Conv2D(3, 3, activation="relu")(x)
    h = L.BatchNormalization()(h)
    h = L.Flatten()(h)
    h = L.Dense(5, activation="tanh")(h)
    return keras.Model(x, L.Dense(2)(h), name=f"tfk_small_{n}")


def tfk_nested(keras):
    L = keras.layers
    inner = keras.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(3)],
                             name="inner")
    x = keras.Input((3,), name="x")
    return keras.Model(x, L.Dense(2)(inner(x)), name="tfk_nested")


def make_tfk(only):
    import tf_keras as keras
    from tf_keras import mixed_precision
    made = []

    # JSON + save_weights() where the two come from models built in one
    # session, so every auto-generated layer name differs (Keras matches the
    # weights by position): the weights of model A, the JSON of model B.
    name = "tfk_json_renamed"
    if not only or name in only:
        keras.utils.set_random_seed(1)
        a = tfk_small(keras, "a")
        b = tfk_small(keras, "b")
        rng = np.random.default_rng(11)
        randomize_tfk(a, rng)
        b.set_weights(a.get_weights())
        xs = inputs_for(a, rng)
        ys = a.predict(xs, verbose=0)
        assert [lyr.name for lyr in a.layers] != [lyr.name for lyr in b.layers]
        with open(os.path.join(OUT, name + ".json"), "w") as fh:
            fh.write(b.to_json())
        a.save_weights(os.path.join(OUT, name + "_weights.h5"))
        save_ref(name, b, xs, ys)
        made.append(name)

    name = "tfk_json_nested"
    if not only or name in only:
        keras.utils.set_random_seed(2)
        m = tfk_nested(keras)
        rng = np.random.default_rng(12)
        randomize_tfk(m, rng)
        xs = inputs_for(m, rng)
        ys = m.predict(xs, verbose=0)
        with open(os.path.join(OUT, name + ".json"), "w") as fh:
            fh.write(m.to_json())
        m.save_weights(os.path.join(OUT, name + "_weights.h5"))
        save_ref(name, m, xs, ys)
        made.append(name)

    # a model whose layers compute in float16 end to end, and a mixed-precision one
    for name, policy in (("tfk_float16", "float16"), ("tfk_mixed_float16", "mixed_float16")):
        if only and name not in only:
            continue
        keras.utils.set_random_seed(3)
        mixed_precision.set_global_policy(policy)
        try:
            L = keras.layers
            x = keras.Input((6,), name="x")
            h = L.Dense(5, activation="relu")(x)
            y = L.Dense(3, dtype="float32")(h)
            m = keras.Model(x, y, name=name)
        finally:
            mixed_precision.set_global_policy("float32")
        rng = np.random.default_rng(13)
        randomize_tfk(m, rng)
        xs = inputs_for(m, rng)
        ys = m.predict(xs, verbose=0)
        m.save(os.path.join(OUT, name + ".h5"))
        save_ref(name, m, xs, ys)
        made.append(name)

    # tf-keras can write the .keras zip format too (keras_version 2.x inside)
    name = "tfk_archive"
    if not only or name in only:
        keras.utils.set_random_seed(4)
        m = tfk_small(keras, "z")
        rng = np.random.default_rng(14)
        randomize_tfk(m, rng)
        xs = inputs_for(m, rng)
        ys = m.predict(xs, verbose=0)
        m.save(os.path.join(OUT, name + ".keras"))
        save_ref(name, m, xs, ys)
        made.append(name)

    # the weights of another architecture, for the error tests
    name = "tfk_other_weights"
    if not only or name in only:
        keras.utils.set_random_seed(5)
        L = keras.layers
        x = keras.Input((4,))
        m = keras.Model(x, L.Dense(2)(L.Dense(7)(x)))
        m.save_weights(os.path.join(OUT, name + ".h5"))
        made.append(name)
    return made


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", help="fixture name (repeatable)")
    p.add_argument("--skip-keras3", action="store_true")
    p.add_argument("--skip-tf-keras", action="store_true")
    a = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    made = []
    if not a.skip_keras3:
        made += make_k3(a.only)
    if not a.skip_tf_keras:
        made += make_tfk(a.only)
    for n in made:
        print(f"formats/{n}")
    print(f"{len(made)} fixtures written to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
