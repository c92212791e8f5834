"""Whole-model structure: several inputs and outputs, shared layers, models
nested as layers, Sequential without an InputLayer, chunked HDF5 attributes,
optimizer state in the file."""
import numpy as np

from . import Case


def _multi_io(keras):
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(4,), name="b")
    shared = keras.layers.Dense(3, name="shared")
    ya, yb = shared(a), shared(b)
    return keras.Model([a, b], [keras.layers.Activation("tanh", name="ta")(ya), yb])


def _intermediate_output(keras):
    x = keras.Input(shape=(5,), name="x")
    h = keras.layers.Dense(6, activation="relu", name="hidden")(x)
    y = keras.layers.Dense(2, name="head")(h)
    return keras.Model(x, [h, y])


def _nested_sequential(keras):
    inner = keras.Sequential([keras.layers.Dense(5, activation="relu", input_shape=(4,)),
                              keras.layers.Dense(3)], name="inner_seq")
    x = keras.Input(shape=(4,), name="x")
    return keras.Model(x, keras.layers.Dense(2, name="out")(inner(x)))


def _nested_shared_functional(keras):
    i = keras.Input(shape=(3,), name="inner_in")
    inner = keras.Model(i, keras.layers.Dense(4, activation="tanh", name="inner_dense")(i),
                        name="encoder")
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(3,), name="b")
    ea, eb = inner(a), inner(b)
    return keras.Model([a, b], [keras.layers.Dense(2, name="head_a")(ea), eb])


def _nested_deep(keras):
    i0 = keras.Input(shape=(3,))
    level0 = keras.Model(i0, keras.layers.Dense(3, activation="elu")(i0), name="level0")
    i1 = keras.Input(shape=(3,))
    level1 = keras.Model(i1, keras.layers.Dense(4)(level0(i1)), name="level1")
    x = keras.Input(shape=(3,), name="x")
    return keras.Model(x, keras.layers.Dense(2, name="out")(level1(x)))


def _sequential_in_sequential(keras):
    inner = keras.Sequential([keras.layers.Dense(4, activation="relu")], name="block")
    return keras.Sequential([keras.Input(shape=(3,)), inner, keras.layers.Dense(2)], name="outer")


def _sequential_without_input(keras):
    return keras.Sequential([keras.layers.Dense(4, activation="sigmoid", input_shape=(3,)),
                             keras.layers.Dense(2)])


def _chunked_names(keras):
    # Keras splits an HDF5 attribute over 64 KB into layer_names0, layer_names1, ...
    x = keras.Input(shape=(2,), name="x")
    h = x
    for i in range(300):
        h = keras.layers.Dense(2, name=f"dense_{i:03d}_" + "n" * 230)(h)
    return keras.Model(x, h)


def _with_optimizer(keras):
    x = keras.Input(shape=(4,), name="x")
    m = keras.Model(x, keras.layers.Dense(3, name="out")(keras.layers.Dense(5, activation="relu")(x)))
    m.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    m.fit(rng.standard_normal((8, 4)), rng.standard_normal((8, 3)), epochs=1, verbose=0)
    return m


CASES = [
    Case("multi_io_shared_dense", _multi_io),
    Case("intermediate_output", _intermediate_output),
    Case("nested_sequential", _nested_sequential),
    Case("nested_shared_functional", _nested_shared_functional),
    Case("nested_deep", _nested_deep),
    Case("sequential_in_sequential", _sequential_in_sequential),
    Case("sequential_without_input", _sequential_without_input),
    Case("chunked_layer_names", _chunked_names),
    Case("with_optimizer_state", _with_optimizer),
]


def _nested_bn(keras):
    """Transfer-learning style: a nested model with BatchNormalization and
    Dropout called with training=False."""
    i = keras.Input(shape=(4,))
    h = keras.layers.BatchNormalization()(keras.layers.Dense(5)(i))
    base = keras.Model(i, keras.layers.Dropout(0.5)(h), name="base")
    x = keras.Input(shape=(4,), name="x")
    return keras.Model(x, keras.layers.Dense(2, name="head")(base(x, training=False)))


CASES.append(Case("nested_bn_training_false", _nested_bn))
