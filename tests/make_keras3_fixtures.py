"""Make the Keras 3 fixtures of the attention / normalization / preprocessing /
op-layer families: every case is built with Keras 3 (`import keras`, the
TensorFlow backend), given random well-scaled weights, run on random inputs,
and saved as tests/fixtures/keras3/<case>.keras with <case>.npz beside it
(arrays 'input:<name>' and 'output:<name>', outputs in the model's order).

Needs a Python (3.11) with Keras 3 and TensorFlow; the committed fixtures
were made with the versions in tests/requirements-fixtures.txt
(tests/make_all_fixtures.py runs every fixture maker):

    python tests/make_keras3_fixtures.py             # all cases
    python tests/make_keras3_fixtures.py --case ln_2d

The cases are the tf-keras case tables of those families (the ones Keras 3
can build: KERAS3_SKIP says why the others are left out) plus CASES_K3, the
options and operations only Keras 3 has (rms_scaling, antialias,
data_format, keras.ops in functional graphs, adapted Normalization, ...).
Nothing here imports Keras at module level: the test reads the case list.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

from tests.cases import Case, all_cases, layer_case  # noqa: E402
from tests.cases.recurrent import _bi_conv_lstm  # noqa: E402
from tests.cases.tfops import _drops_mask  # noqa: E402

FOLDER = os.path.join(HERE, "fixtures", "keras3")
FAMILIES = ["norm_layers", "attention", "preprocessing"]
BATCH = 3

# tf-keras cases Keras 3 cannot build, and why.
KERAS3_SKIP = {
    "random_identities": "Keras 3 has no RandomHeight / RandomWidth",
    "mha_mask_robust": "Keras 3 MultiHeadAttention has no softmax_robust_masking (it always selects)",
    "random_crop_resize": "Keras 3 RandomCrop is the identity at inference (random_crop_k3 covers it)",
    "random_crop_upsize": "Keras 3 RandomCrop is the identity at inference (random_crop_k3 covers it)",
    "resize_unknown_size": "Keras 3 Resizing needs a static input size to build",
    "category_count_weights": "Keras 3 CategoryEncoding takes count_weights only for rank-1 inputs",
    **{f"resize_{d}_{i}": "Keras 3 Resizing has no gaussian / mitchellcubic interpolation"
       for d in ("down", "up") for i in ("gaussian", "mitchellcubic")},
}


# -- Keras 3 only ----------------------------------------------------------------
def _ops_model(name, fn, shapes=((4, 6), (4, 6))):
    def build(keras):
        ins = [keras.Input(shape=s, name=n) for s, n in zip(shapes, "xy")]
        return keras.Model(ins, fn(keras.ops, keras, *ins), name=name)
    return Case(name=name, build=build)


def _ops_arith(ops, keras, x, y):
    return [x + 1.0, 2.0 * x, x - y, x / (ops.abs(y) + 1.0), ops.maximum(x, 0.5), ops.minimum(x, y),
            -x, ops.abs(x), ops.square(x), ops.sqrt(ops.abs(x)), ops.exp(x / 4), ops.log(ops.abs(x) + 1),
            ops.power(x, 2), ops.where(x > y, x, y), ops.cast(x > 0, "float32"), ops.clip(x, -0.5, 0.5),
            ops.tanh(x), ops.sigmoid(x), ops.relu(x), ops.gelu(x), ops.gelu(x, approximate=False),
            ops.silu(x), ops.softmax(x, axis=-1), ops.log_softmax(x), ops.erf(x), ops.rsqrt(ops.abs(x) + 1)]


def _ops_shapes(ops, keras, x, y):
    return [ops.mean(x, axis=-1, keepdims=True), ops.sum(x, axis=1), ops.max(x, axis=-1), ops.var(x, axis=1),
            ops.reshape(x, (-1, 24)), ops.transpose(x, (0, 2, 1)), ops.expand_dims(x, 1),
            ops.squeeze(x[:, :1], axis=1), ops.concatenate([x, y], axis=-1), ops.stack([x, y], axis=1),
            ops.split(x, 2, axis=-1)[0], ops.matmul(x, ops.transpose(y, (0, 2, 1))),
            ops.einsum("bij,bkj->bik", x, y), x[:, 1:3], x[..., ::2], x[:, -1], ops.swapaxes(x, 1, 2),
            ops.tile(x, (1, 2, 1)), ops.take(x, [0, 2], axis=2), ops.argmax(x, axis=-1),
            ops.normalize(x, axis=-1)]


def _ops_after_conv(keras):
    """conv -> keras.ops elementwise and reductions -> Dense (layout kept)."""
    L, ops = keras.layers, keras.ops
    x = keras.Input(shape=(6, 6, 3), name="x")
    h = L.Conv2D(4, 3, padding="same", name="c")(x)
    h = ops.relu(h * 0.5 + 1.0)
    g = ops.mean(h, axis=[1, 2])
    return keras.Model(x, L.Dense(2, name="d")(g))


def _norm_adapted(axis, shape):
    def build(keras):
        x = keras.Input(shape=shape, name="x")
        layer = keras.layers.Normalization(axis=axis, name="norm")
        layer.adapt(np.random.default_rng(0).normal(1.0, 2.0, (16,) + shape).astype("float32"))
        return keras.Model(x, layer(x))
    return build


def _img(name, make, shape=(8, 8, 3), data_format=None):
    def build(keras):
        L = keras.layers
        x = keras.Input(shape=shape, name="x")
        h = make(keras)(x)
        return keras.Model(x, L.Conv2D(2, 1, name="c", data_format=data_format)(h), name=name)
    return Case(name=name, build=build)


def _k3_random(keras):
    L = keras.layers
    x = keras.Input(shape=(8, 8, 3), name="x")
    h = x
    for cls in ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
                "RandomBrightness", "RandomGrayscale", "RandomHue", "RandomSaturation",
                "RandomSharpness", "RandomShear", "RandomColorJitter", "RandomColorDegeneration",
                "RandomPosterization", "RandomInvert", "RandomErasing", "RandomGaussianBlur",
                "RandomPerspective", "RandomElasticTransform"):
        if not hasattr(L, cls):
            continue
        kw = {"RandomRotation": (0.2,), "RandomZoom": (0.2,), "RandomTranslation": (0.1, 0.1),
              "RandomContrast": (0.3,), "RandomBrightness": (0.2,), "RandomHue": (0.2, (0, 1)),
              "RandomSaturation": (0.2,), "RandomSharpness": (0.2,), "RandomShear": (0.2,),
              "RandomPosterization": ((1, 8),)}.get(cls, ())
        try:
            h = getattr(L, cls)(*kw)(h)
        except (TypeError, ValueError):
            h = getattr(L, cls)(0.2)(h)
    h = L.RandomCrop(8, 8)(h)
    return keras.Model(x, L.Conv2D(2, 1, name="c")(h))


CASES_K3 = [
    layer_case("ln_rms_scaling", lambda k: k.layers.LayerNormalization(rms_scaling=True), (4, 6)),
    layer_case("ln_rms_scaling_axes", lambda k: k.layers.LayerNormalization(axis=[1, 2], rms_scaling=True),
               (3, 4, 5)),
    layer_case("rms_norm", lambda k: k.layers.RMSNormalization(), (4, 6)),
    layer_case("rms_norm_eps", lambda k: k.layers.RMSNormalization(epsilon=0.1), (3, 4, 6)),
    _img("rms_norm_conv", lambda k: k.layers.RMSNormalization()),
    Case("norm_adapted_k3", _norm_adapted(-1, (5, 3))),
    Case("norm_adapted_axis1_k3", _norm_adapted(1, (4, 3))),
    *[_img(f"resize_antialias_{i}", lambda k, i=i: k.layers.Resizing(5, 3, interpolation=i, antialias=True))
      for i in ("bilinear", "bicubic", "lanczos3", "lanczos5", "nearest", "area")],
    _img("resize_channels_first", lambda k: k.layers.Resizing(5, 7, data_format="channels_first"),
         shape=(3, 8, 8), data_format="channels_first"),
    _img("center_crop_channels_first", lambda k: k.layers.CenterCrop(5, 4, data_format="channels_first"),
         shape=(3, 8, 8), data_format="channels_first"),
    _img("center_crop_upsize_k3", lambda k: k.layers.CenterCrop(10, 6)),
    _img("random_crop_k3", lambda k: k.layers.RandomCrop(6, 4)),
    Case("random_identities_k3", _k3_random),
    _ops_model("k3ops_arith", _ops_arith),
    _ops_model("k3ops_shapes", _ops_shapes),
    Case("k3ops_after_conv", _ops_after_conv),
    Case("k3ops_drops_mask", _drops_mask, input_kinds=(("int", 3),)),
    Case("bn_training_true_k3", lambda k: _bn_training(k)),
    *[Case(f"{c.name}_k3", c.build) for c in _bi_conv_lstm
      if c.name in ("bi_convlstm2d_concat_seq", "bi_convlstm2d_sum_seq", "bi_convlstm2d_none_last",
                    "bi_convlstm2d_state", "bi_convlstm2d_channels_first",
                    "bi_convlstm2d_backward_layer", "bi_convlstm1d_seq", "bi_convlstm3d_last",
                    "bi_convlstm2d_model")],
]


def _bn_training(keras):
    """Keras 3 records training=True in the call, but predict() uses the
    moving statistics anyway (tf.keras would normalize with the batch's)."""
    x = keras.Input(shape=(4, 3), name="x")
    h = keras.layers.BatchNormalization()(x, training=True)
    return keras.Model(x, keras.layers.Dense(2)(h))


def keras3_cases() -> list:
    base = [c for c in all_cases(FAMILIES) if c.name not in KERAS3_SKIP]
    return base + [Case(**{**c.__dict__, "family": "keras3"}) for c in CASES_K3]


# -- making them ---------------------------------------------------------------------
def randomize(keras, model, rng) -> None:
    """tests/make_fixtures.randomize, then positive variances for adapted
    Normalization layers, whose cached statistics are refreshed."""
    from tests.make_fixtures import randomize as base
    base(model, rng)
    for layer in model._flatten_layers() if hasattr(model, "_flatten_layers") else model.layers:
        if type(layer).__name__ == "Normalization" and getattr(layer, "adapt_variance", None) is not None:
            layer.adapt_mean.assign(rng.normal(0.0, 0.5, layer.adapt_mean.shape).astype("float32"))
            layer.adapt_variance.assign(rng.uniform(0.5, 1.5, layer.adapt_variance.shape).astype("float32"))
            layer.finalize_state()


def make_inputs(model, case, rng) -> list:
    """tests/make_fixtures.make_inputs for Keras 3 (dtypes are strings)."""
    xs = []
    for i, t in enumerate(model.inputs):
        shape = [BATCH] + [int(d) if d is not None else 5 for d in t.shape[1:]]
        kind = case.input_kinds[i] if i < len(case.input_kinds) else "float"
        dtype = str(getattr(t.dtype, "name", t.dtype))
        if isinstance(kind, tuple) and kind[0] == "int":
            xs.append(rng.integers(0, kind[1], shape).astype(dtype))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    return xs


def make(case, keras) -> None:
    seed = sum(map(ord, case.name)) + 3
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = case.build(keras)
    randomize(keras, model, rng)
    xs = make_inputs(model, case, rng)
    ys = model.predict(xs, verbose=0)
    ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    os.makedirs(FOLDER, exist_ok=True)
    model.save(os.path.join(FOLDER, case.name + ".keras"))
    save_reference(os.path.join(FOLDER, case.name + ".npz"), model, xs, ys)


def save_reference(path: str, model, xs, ys) -> None:
    """What Keras 3 computed, as tests/helpers.keras3_fixture reads it:
    'input:<name>' and 'output:<index>:<name>' arrays."""
    arrays = {f"input:{t.name}": x for t, x in zip(model.inputs, xs)}
    names = [getattr(o, "name", f"output_{i}") for i, o in enumerate(model.outputs)]
    for i, (n, y) in enumerate(zip(names, ys)):
        arrays[f"output:{i}:{n}"] = np.asarray(y)
    np.savez(path, **arrays)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    cases = [c for c in keras3_cases() if not a.case or c.name in a.case]
    failed = []
    for c in cases:
        try:
            make(c, keras)
            print(f"keras3/{c.name}")
        except Exception as e:  # report and go on: the test lists what must exist
            failed.append(f"{c.name}: {type(e).__name__}: {str(e)[:300]}")
    for f in failed:
        print("FAILED", f)
    print(f"{len(cases) - len(failed)} fixtures written with Keras {keras.__version__}")


if __name__ == "__main__":
    main()
