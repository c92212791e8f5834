"""Dense and the inference-time identity layers."""
from . import Case, layer_case


def _dense_stack(keras):
    inp = keras.Input(shape=(6,), name="x")
    h = keras.layers.Dense(8, activation="relu", name="d1")(inp)
    h = keras.layers.Dropout(0.5)(h)
    h = keras.layers.GaussianNoise(1.0)(h)
    h = keras.layers.GaussianDropout(0.3)(h)
    h = keras.layers.AlphaDropout(0.3)(h)
    h = keras.layers.ActivityRegularization(l1=0.1)(h)
    return keras.Model(inp, keras.layers.Dense(4, name="d2")(h))


CASES = [
    layer_case("dense_2d", lambda k: k.layers.Dense(5), (7,)),
    layer_case("dense_no_bias", lambda k: k.layers.Dense(5, use_bias=False), (7,)),
    layer_case("dense_3d", lambda k: k.layers.Dense(4, activation="tanh"), (3, 6)),
    layer_case("dense_4d", lambda k: k.layers.Dense(3), (2, 3, 5)),
    layer_case("spatial_dropout1d", lambda k: k.layers.SpatialDropout1D(0.5), (4, 3)),
    layer_case("spatial_dropout2d", lambda k: k.layers.SpatialDropout2D(0.5), (4, 4, 3)),
    layer_case("spatial_dropout3d", lambda k: k.layers.SpatialDropout3D(0.5), (2, 4, 4, 3)),
    Case("dense_identities", _dense_stack),
]
