"""Models for the per-layer check (bridge check --layers), and the wrong
emitters it must name.

tests/make_layer_fixtures.py builds every case with tf-keras (.h5) and with
Keras 3 (.keras), randomizes it, and saves it beside a reference .npz that
Keras computed: inputs, outputs, and every layer's output ('layer:<path>').
tests/test_layer_check.py converts each correctly (no layer may diverge)
and once per WRONG entry with that class's emitter made slightly wrong
(output k times 1.001): the check must name exactly that layer.
"""
from __future__ import annotations

from tests.cases import Case


def _cnn(keras):
    """Convolutions held channels-first, BatchNormalization a pass could fuse
    into them, a zero padding before a max pooling, a residual Add."""
    L = keras.layers
    x = keras.Input((16, 16, 3), name="img")
    h = L.Conv2D(8, 3, padding="same", name="c1")(x)
    h = L.BatchNormalization(name="bn1")(h)
    h = L.ReLU(name="r1")(h)
    h = L.ZeroPadding2D(1, name="zp")(h)
    h = L.MaxPooling2D(2, name="mp")(h)
    h2 = L.Conv2D(8, 3, padding="same", name="c2")(h)
    h2 = L.BatchNormalization(name="bn2")(h2)
    h = L.Add(name="res")([h, h2])
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(x, L.Dense(5, name="logits")(h), name="cnn")


def _nested(keras):
    """A functional model called twice as a layer, a Sequential head."""
    L = keras.layers
    i = keras.Input((8, 8, 4))
    t = L.Conv2D(4, 3, padding="same", name="ic")(i)
    t = L.BatchNormalization(name="ibn")(t)
    block = keras.Model(i, L.Activation("swish", name="iact")(t), name="block")
    head = keras.Sequential([keras.Input((4,)), L.Dense(6, name="sd1"), L.Dense(3, name="sd2")],
                            name="head")
    x = keras.Input((8, 8, 3), name="img")
    h = L.Conv2D(4, 1, name="stem")(x)
    h = block(block(h))
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(x, head(h), name="nested")


def _shared(keras):
    """One Dense called on two inputs; its second call is a model output."""
    L = keras.layers
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    d = L.Dense(4, name="shared")
    u, v = d(a), d(b)
    s = L.Subtract(name="sub")([u, v])
    return keras.Model([a, b], [L.Dense(2, name="out")(s), v], name="shared_layer")


def _multi(keras):
    """An LSTM with three outputs, a TimeDistributed Dense on its time-major
    sequence."""
    L = keras.layers
    x = keras.Input((5, 3), name="seq")
    seqs, h, c = L.LSTM(4, return_sequences=True, return_state=True, name="lstm")(x)
    t = L.TimeDistributed(L.Dense(2, name="tdd"), name="td")(seqs)
    f = L.Flatten(name="flat")(t)
    return keras.Model(x, L.Concatenate(name="cat")([f, h, c]), name="multi_output")


def _squeeze_excite(keras):
    """EfficientNet's squeeze-and-excitation: a mean over many positions
    (which amplifies its inputs' rounding), a 1x1 convolution on (1, 1, C)."""
    L = keras.layers
    x = keras.Input((24, 24, 8), name="img")
    h = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    h = L.Activation("swish", name="act")(h)
    s = L.GlobalAveragePooling2D(name="squeeze")(h)
    s = L.Reshape((1, 1, 8), name="se_reshape")(s)
    s = L.Conv2D(2, 1, activation="swish", name="se_reduce")(s)
    s = L.Conv2D(8, 1, activation="sigmoid", name="se_expand")(s)
    h = L.Multiply(name="excite")([h, s])
    return keras.Model(x, L.Conv2D(4, 1, name="project")(h), name="squeeze_excite")


def _sequential(keras):
    L = keras.layers
    """A Sequential; LayerNormalization has a second built-in emitter from
    opset 17 (a replacement must still be the one used)."""
    return keras.Sequential([keras.Input((10,), name="x"), L.Dense(8, activation="tanh", name="d1"),
                             L.LayerNormalization(name="ln"), L.Dropout(0.5, name="drop"),
                             L.Dense(3, name="d2")], name="plain")


def _ops(keras):
    """Arithmetic on tensors: op layers in tf-keras (TFOpLambda), operations
    that are not layers in Keras 3 (keras.ops in the graph)."""
    L = keras.layers
    x = keras.Input((6,), name="x")
    h = L.Dense(5, name="d")(x)
    h = h * 2.0 + 1.0
    return keras.Model(x, L.Dense(3, activation="tanh", name="out")(h), name="ops")


CASES = [Case("cnn", _cnn), Case("nested", _nested), Case("shared", _shared),
         Case("multi", _multi), Case("squeeze_excite", _squeeze_excite),
         Case("sequential", _sequential), Case("ops", _ops)]

# (case, Keras class whose emitter is made wrong, output it spoils, the layer
# the check must name: the first of that class in graph order)
WRONG = [
    ("cnn", "Conv2D", 0, "c1"),
    ("cnn", "BatchNormalization", 0, "bn1"),
    ("cnn", "MaxPooling2D", 0, "mp"),
    ("cnn", "Add", 0, "res"),
    ("cnn", "Dense", 0, "logits"),
    ("nested", "BatchNormalization", 0, "block/ibn"),
    ("nested", "Activation", 0, "block/iact"),
    ("nested", "Dense", 0, "head/sd1"),
    ("nested", "GlobalAveragePooling2D", 0, "gap"),
    ("shared", "Dense", 0, "shared"),
    ("shared", "Subtract", 0, "sub"),
    ("multi", "LSTM", 0, "lstm"),
    ("multi", "LSTM", 2, "lstm"),
    ("multi", "Dense", 0, "td/tdd"),
    ("multi", "Flatten", 0, "flat"),
    ("squeeze_excite", "GlobalAveragePooling2D", 0, "squeeze"),
    ("squeeze_excite", "Multiply", 0, "excite"),
    ("sequential", "Dense", 0, "d1"),
    ("sequential", "Dropout", 0, "drop"),
    ("sequential", "LayerNormalization", 0, "ln"),
    ("ops", "Dense", 0, "d"),
]
