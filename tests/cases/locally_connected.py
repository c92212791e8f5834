"""LocallyConnected1D/2D: implementations 1, 2 and 3 (each stores its kernel
differently), padding valid and same (same needs implementation 2 or 3),
strides, both data formats, activation, use_bias."""
from . import Case, layer_case

CF = "channels_first"


def _lc(rank, name, shape, **kw):
    cls = "LocallyConnected1D" if rank == 1 else "LocallyConnected2D"
    return layer_case(name, lambda k: getattr(k.layers, cls)(**kw), shape)


def _after_conv(keras):
    """Input already channels-first inside the graph: read in place."""
    L = keras.layers
    inp = keras.Input(shape=(7, 6, 2), name="x")
    h = L.Conv2D(3, 2, name="c")(inp)
    h = L.LocallyConnected2D(4, 2, strides=(1, 2), implementation=3, activation="relu",
                             name="lc")(h)
    return keras.Model(inp, L.Conv2D(2, 2, name="c2")(h))


def _after_conv_cf(keras):
    L = keras.layers
    inp = keras.Input(shape=(7, 6, 2), name="x")
    h = L.Conv2D(3, 2, name="c")(inp)
    h = L.LocallyConnected2D(4, 3, padding="same", data_format=CF, implementation=2, name="lc")(h)
    return keras.Model(inp, h)


CASES = []
for impl in (1, 2, 3):
    CASES += [
        _lc(1, f"lc1d_impl{impl}", (8, 3), filters=4, kernel_size=3, implementation=impl),
        _lc(1, f"lc1d_impl{impl}_strides", (9, 2), filters=3, kernel_size=2, strides=3,
            implementation=impl, activation="tanh"),
        _lc(1, f"lc1d_impl{impl}_cf", (3, 8), filters=4, kernel_size=3, strides=2,
            data_format=CF, implementation=impl),
        _lc(2, f"lc2d_impl{impl}", (6, 5, 3), filters=4, kernel_size=(3, 2),
            implementation=impl),
        _lc(2, f"lc2d_impl{impl}_strides_no_bias", (7, 7, 2), filters=3, kernel_size=3,
            strides=(2, 3), use_bias=False, activation="relu", implementation=impl),
        _lc(2, f"lc2d_impl{impl}_cf", (3, 6, 5), filters=4, kernel_size=(2, 3), strides=(2, 1),
            data_format=CF, implementation=impl),
    ]
for impl in (2, 3):
    CASES += [
        _lc(1, f"lc1d_impl{impl}_same", (8, 3), filters=4, kernel_size=4, padding="same",
            strides=2, implementation=impl),
        _lc(1, f"lc1d_impl{impl}_same_cf", (3, 7), filters=2, kernel_size=3, padding="same",
            data_format=CF, implementation=impl),
        _lc(2, f"lc2d_impl{impl}_same", (6, 5, 2), filters=3, kernel_size=3, padding="same",
            strides=(2, 1), implementation=impl),
        _lc(2, f"lc2d_impl{impl}_same_cf", (2, 5, 6), filters=3, kernel_size=(2, 3),
            padding="same", strides=(1, 2), data_format=CF, implementation=impl),
    ]
CASES += [Case("lc2d_between_convs", _after_conv), Case("lc2d_cf_after_conv", _after_conv_cf)]
