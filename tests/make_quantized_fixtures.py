"""Make the fixtures of Keras 3 quantized models: each case is built with
Keras 3 (`import keras`, the TensorFlow backend), given random well-scaled
weights, quantized with Keras's own `model.quantize(mode, config)`, run on
random inputs, and saved as tests/fixtures/quantized/<case>.keras with
<case>.npz beside it ('input:<name>' and 'output:<i>:<name>', Keras's
predict of the quantized model).

    python tests/make_quantized_fixtures.py              # all cases
    python tests/make_quantized_fixtures.py --case dense_int8

float8 layers are created with scales of one (Keras updates them only while
training): they are set here to what a calibration would give, a little
below max|x| / 448, so that the float8 clipping and rounding both matter
(but for one case left with Keras's scales of one).
The model is saved, loaded back and run again; the two predictions must
agree (models Keras itself cannot load back are predicted before saving).
Nothing here imports Keras at module level: the test reads the case list.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

FOLDER = os.path.join(HERE, "fixtures", "quantized")
BATCH = 4


@dataclass(frozen=True)
class QCase:
    name: str
    build: Callable                  # keras -> keras.Model
    mode: str                        # model.quantize(mode)
    config: Optional[Callable] = None  # keras -> QuantizationConfig
    ids: Optional[int] = None        # integer inputs in [0, ids)
    skip: tuple = ()                 # layers left unquantized
    calibrate: bool = True           # float8: set the scales (else Keras's initial ones)
    reloads: bool = True             # Keras can load the file back


# -- models ------------------------------------------------------------------------

def _mlp(width_in, hidden=16, out=5, act="relu"):
    def build(keras):
        L = keras.layers
        x = keras.Input(shape=(width_in,), name="x")
        h = L.Dense(hidden, activation=act, name="hidden")(x)
        return keras.Model(x, L.Dense(out, name="logits")(h))
    return build


def _dense_seq(keras):
    """Dense on a 3-D input: the inputs' scale is per (batch, step) row."""
    L = keras.layers
    x = keras.Input(shape=(5, 12), name="x")
    h = L.Dense(9, activation="tanh", name="d1")(x)
    h = L.Dense(7, use_bias=False, name="d2")(h)
    return keras.Model(x, L.Dense(3, name="logits")(L.Flatten()(h)))


def _text(mha: bool):
    """Embedding, a self-attention block of EinsumDense projections (or a
    MultiHeadAttention), a feed-forward EinsumDense pair, pooled logits."""
    def build(keras):
        L, ops = keras.layers, keras.ops
        ids = keras.Input(shape=(7,), dtype="int32", name="ids")
        h = L.Embedding(40, 16, name="embed")(ids)
        if mha:
            a = L.MultiHeadAttention(num_heads=2, key_dim=8, name="mha")(h, h)
        else:
            q = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 8), bias_axes="de", name="q")(h)
            k = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 8), bias_axes="de", name="k")(h)
            v = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 8), name="v")(h)
            s = ops.softmax(ops.einsum("aecd,abcd->acbe", k, q) * (1.0 / np.sqrt(8.0)), axis=-1)
            o = ops.einsum("acbe,aecd->abcd", s, v)
            a = L.EinsumDense("abcd,cde->abe", output_shape=(None, 16), bias_axes="e", name="o")(o)
        h = L.LayerNormalization(name="ln")(h + a)
        f = L.EinsumDense("abc,cd->abd", output_shape=(None, 32), bias_axes="d", activation="gelu",
                          name="ff1")(h)
        f = L.EinsumDense("abc,cd->abd", output_shape=(None, 16), bias_axes="d", name="ff2")(f)
        h = L.GlobalAveragePooling1D(name="pool")(h + f)
        return keras.Model(ids, L.Dense(3, name="logits")(h))
    return build


def _wide_embedding(keras):
    """An Embedding wider than int4's group of 128 columns: three groups."""
    L = keras.layers
    ids = keras.Input(shape=(5,), dtype="int32", name="ids")
    h = L.GlobalAveragePooling1D(name="pool")(L.Embedding(30, 300, name="embed")(ids))
    return keras.Model(ids, L.Dense(3, name="logits")(h))


def _einsum_variants(keras):
    """EinsumDense equations beyond the dense ones: a transposed kernel, a
    reordered output, a 2-D input, two contracted axes."""
    L = keras.layers
    x = keras.Input(shape=(4, 6), name="x")
    h = L.EinsumDense("abc,dc->abd", output_shape=(4, 5), bias_axes="d", name="transposed")(x)
    h = L.EinsumDense("abc,cd->adb", output_shape=(3, 4), bias_axes="d", name="reordered")(h)
    h = L.EinsumDense("abc,bcd->ad", output_shape=(7,), bias_axes="d", name="two_axes")(h)
    return keras.Model(x, L.EinsumDense("ab,bc->ac", output_shape=(2,), name="plain")(h))


def _int4(block_size):
    return lambda keras: keras.quantizers.Int4QuantizationConfig(block_size=block_size)


def _int8_weight_only(keras):
    return keras.quantizers.Int8QuantizationConfig(activation_quantizer=None)


def _int4_with_inputs(keras):
    return keras.quantizers.Int4QuantizationConfig(
        block_size=-1, weight_quantizer=keras.quantizers.AbsMaxQuantizer(axis=0, value_range=(-8, 7)),
        activation_quantizer=keras.quantizers.AbsMaxQuantizer())


CASES = [
    QCase("dense_int8", _mlp(10), "int8"),
    QCase("dense_int8_seq", _dense_seq, "int8"),
    QCase("dense_int8_weight_only", _mlp(10), "int8", config=_int8_weight_only),
    QCase("dense_int4", _mlp(300, hidden=24, out=7, act="gelu"), "int4"),
    QCase("dense_int4_seq", _dense_seq, "int4"),
    QCase("dense_int4_block_32", _mlp(100, out=7), "int4", config=_int4(32)),
    QCase("dense_int4_per_channel", _mlp(10, out=7), "int4", config=_int4(-1)),
    QCase("dense_int4_inputs_quantized", _mlp(10, out=7), "int4", config=_int4_with_inputs,
          reloads=False),
    QCase("dense_float8", _mlp(10), "float8"),
    QCase("dense_float8_seq", _dense_seq, "float8"),
    QCase("dense_float8_unit_scales", _mlp(10), "float8", calibrate=False),
    QCase("einsum_int8", _einsum_variants, "int8"),
    QCase("einsum_int4", _einsum_variants, "int4"),
    QCase("einsum_int4_block_4", _einsum_variants, "int4", config=_int4(4)),
    QCase("einsum_float8", _einsum_variants, "float8"),
    QCase("embedding_int4_groups", _wide_embedding, "int4", ids=30),
    QCase("embedding_int4_per_channel", _wide_embedding, "int4", config=_int4(-1), ids=30),
    QCase("text_int8", _text(False), "int8", ids=40),
    QCase("text_int4", _text(False), "int4", ids=40),
    QCase("text_int4_per_channel", _text(False), "int4", config=_int4(-1), ids=40),
    QCase("text_int4_inputs_quantized", _text(False), "int4", config=_int4_with_inputs, ids=40,
          skip=("embed",), reloads=False),
    QCase("text_int8_weight_only", _text(False), "int8", config=_int8_weight_only, ids=40),
    QCase("text_float8", _text(False), "float8", ids=40),
    QCase("text_mha_int8", _text(True), "int8", ids=40, reloads=False),
    QCase("text_mha_int4", _text(True), "int4", ids=40, reloads=False),
    QCase("text_mha_float8", _text(True), "float8", ids=40, reloads=False),
]


# -- making them ---------------------------------------------------------------------

def _calibrate_float8(model, xs):
    """Scales as a calibration would set them, a little below max|value| / 448
    so that the largest values clip (inputs of layers inside a
    MultiHeadAttention, which the functional graph does not show: 3 / 448)."""
    import keras
    layers = _float8_layers(model)
    seen = [layer for layer in layers if layer._inbound_nodes]
    ins = keras.Model(model.inputs, [layer.input for layer in seen]).predict(xs, verbose=0)
    ins = dict(zip([id(layer) for layer in seen], ins if isinstance(ins, list) else [ins]))
    for layer in layers:
        amax = np.max(np.abs(ins[id(layer)])) if id(layer) in ins else 3.0
        layer.inputs_scale.assign(np.float32(amax / 448.0 * 0.8))
        kernel = np.asarray(layer._kernel)
        layer.kernel_scale.assign(np.float32(np.max(np.abs(kernel)) / 448.0 * 0.9))


def _float8_layers(model):
    return [layer for layer in model._flatten_layers()
            if getattr(layer, "quantization_mode", None) == "float8"]


def make(case: QCase, keras) -> None:
    from tests.make_keras3_fixtures import randomize, save_reference
    seed = sum(map(ord, case.name)) + 11
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = case.build(keras)
    randomize(keras, model, rng)
    xs = []
    for t in model.inputs:
        shape = [BATCH] + [int(d) for d in t.shape[1:]]
        if case.ids:
            xs.append(rng.integers(0, case.ids, shape).astype("int32"))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    model.quantize(case.mode, config=case.config(keras) if case.config else None,
                   filters=lambda layer: layer.name not in case.skip)
    feed = xs[0] if len(xs) == 1 else xs
    if case.mode == "float8" and case.calibrate:
        _calibrate_float8(model, feed)
    ys = model.predict(feed, verbose=0)
    ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    os.makedirs(FOLDER, exist_ok=True)
    path = os.path.join(FOLDER, case.name + ".keras")
    model.save(path)
    if case.reloads:
        again = keras.saving.load_model(path).predict(feed, verbose=0)
        again = list(again) if isinstance(again, (list, tuple)) else [again]
        for a, b in zip(ys, again):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    save_reference(os.path.join(FOLDER, case.name + ".npz"), model, xs, ys)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import warnings
    warnings.filterwarnings("ignore", message=".*does not have a `quantize` method.*")
    import keras
    cases = [c for c in CASES if not a.case or c.name in a.case]
    for c in cases:
        make(c, keras)
        print(f"quantized/{c.name}")
    print(f"{len(cases)} fixtures written with Keras {keras.__version__}")


if __name__ == "__main__":
    main()
