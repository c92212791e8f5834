"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum (two or
more inputs, Keras's rank and size-1 broadcasting), Concatenate (every axis
form) and Dot (int and pair axes, negative axes, normalize, 2-D to 4-D
inputs), on plain inputs and on channels-first values after convolutions."""
from . import Case


def _merge(name, cls, shapes, **kw):
    """Inputs of the given shapes -> one merge layer."""
    def build(keras):
        ins = [keras.Input(shape=s, name=f"in{i}") for i, s in enumerate(shapes)]
        out = getattr(keras.layers, cls)(name="merge", **kw)(ins)
        return keras.Model(ins, out, name=name)
    return Case(name=name, build=build)


def _conv(L, x, filters, name, **kw):
    return L.Conv2D(filters, 3, padding="same", name=name, **kw)(x)


def _merge_convs(name, cls, n=2, **kw):
    """n channels-first conv outputs merged, then a conv: no Transpose between."""
    def build(keras):
        L = keras.layers
        inp = keras.Input(shape=(5, 5, 3), name="x")
        hs = [_conv(L, inp, 4, f"c{i}") for i in range(n)]
        h = getattr(L, cls)(name="merge", **kw)(hs)
        return keras.Model(inp, L.Conv2D(2, 1, name="out")(h), name=name)
    return Case(name=name, build=build)


def _conv_and_plain(name, cls, **kw):
    """A channels-first conv output merged with a plain (channels-last) input."""
    def build(keras):
        L = keras.layers
        x = keras.Input(shape=(5, 5, 3), name="x")
        y = keras.Input(shape=(5, 5, 4), name="y")
        h = getattr(L, cls)(name="merge", **kw)([_conv(L, x, 4, "c"), y])
        return keras.Model([x, y], h, name=name)
    return Case(name=name, build=build)


def _conv_and_plain_majority(keras):
    """Two channels-first values and one plain one: the plain one is converted."""
    L = keras.layers
    x = keras.Input(shape=(5, 5, 3), name="x")
    y = keras.Input(shape=(5, 5, 4), name="y")
    h = L.Add(name="merge")([_conv(L, x, 4, "c0"), y, _conv(L, x, 4, "c1")])
    return keras.Model([x, y], L.Conv2D(2, 1, name="out")(h))


def _gate(name, cls, gate_shape):
    """A lower-rank gate merged into a conv output (squeeze-excite style):
    Keras inserts the missing axes after the batch axis."""
    def build(keras):
        L = keras.layers
        x = keras.Input(shape=(5, 5, 3), name="x")
        gate = keras.Input(shape=gate_shape, name="gate")
        h = getattr(L, cls)(name="merge")([_conv(L, x, 4, "c"), gate])
        return keras.Model([x, gate], L.Conv2D(2, 1, name="out")(h), name=name)
    return Case(name=name, build=build)


def _se_block(keras):
    """Squeeze-and-excitation: conv -> pooled gate -> Multiply."""
    L = keras.layers
    x = keras.Input(shape=(6, 6, 3), name="x")
    h = _conv(L, x, 8, "c", activation="relu")
    s = L.GlobalAveragePooling2D(name="squeeze")(h)
    s = L.Dense(2, activation="relu", name="fc1")(s)
    s = L.Dense(8, activation="sigmoid", name="fc2")(s)
    h = L.Multiply(name="excite")([h, s])
    return keras.Model(x, L.Conv2D(3, 1, name="out")(h))


def _residual(keras):
    """conv -> BN -> relu -> conv -> BN, added to the block input."""
    L = keras.layers
    x = keras.Input(shape=(6, 6, 4), name="x")
    s = _conv(L, x, 4, "stem")
    h = _conv(L, s, 4, "c1")
    h = L.BatchNormalization(name="bn1")(h)
    h = L.Activation("relu")(h)
    h = _conv(L, h, 4, "c2")
    h = L.BatchNormalization(name="bn2")(h)
    h = L.Add(name="residual")([s, h])
    return keras.Model(x, L.Activation("relu", name="out")(h))


def _dot_after_conv(keras):
    """Dot on channels-first rank-3 values (Conv1D outputs): an Einsum that
    reads them in their own layout."""
    L = keras.layers
    x = keras.Input(shape=(6, 3), name="x")
    a = L.Conv1D(4, 3, padding="same", name="ca")(x)
    b = L.Conv1D(4, 3, padding="same", name="cb")(x)
    return keras.Model(x, L.Dot(axes=2, name="dot")([a, b]))


def _concat_three_layouts(keras):
    L = keras.layers
    x = keras.Input(shape=(5, 5, 3), name="x")
    y = keras.Input(shape=(5, 5, 2), name="y")
    h = L.Concatenate(name="merge")([_conv(L, x, 4, "c0"), y, _conv(L, x, 3, "c1")])
    return keras.Model([x, y], L.Conv2D(2, 1, name="out")(h))


def _nested_merges(keras):
    """Merges feeding merges, with a shared input."""
    L = keras.layers
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(4,), name="b")
    s = L.Subtract(name="sub")([a, b])
    m = L.Multiply(name="mul")([s, a])
    c = L.Concatenate(name="cat")([m, s, L.Maximum(name="max")([a, b, m])])
    return keras.Model([a, b], L.Dense(3, name="out")(c))


def _masked(name, merge, **kw):
    """Embedding(mask_zero) values merged, then a masked LSTM: the merged
    mask decides which steps the LSTM skips."""
    def build(keras):
        L = keras.layers
        a = keras.Input(shape=(6,), name="a", dtype="int32")
        b = keras.Input(shape=(6,), name="b", dtype="int32")
        ea = L.Embedding(5, 4, mask_zero=True, name="ea")(a)
        eb = L.Embedding(5, 4, mask_zero=merge != "Concatenate_unmasked", name="eb")(b)
        cls = "Concatenate" if merge.startswith("Concatenate") else merge
        h = getattr(L, cls)(name="merge", **kw)([ea, eb])
        return keras.Model([a, b], L.LSTM(3, name="lstm")(h), name=name)
    return Case(name=name, build=build, input_kinds=(("int", 5), ("int", 5)))


def _masked_concat_time_unmasked(keras):
    """Concatenate along time of a masked and an unmasked (batch, steps, 1)
    value: Keras concatenates the mask with all-true steps."""
    L = keras.layers
    a = keras.Input(shape=(6,), name="a", dtype="int32")
    b = keras.Input(shape=(4, 1), name="b")
    ea = L.Embedding(5, 1, mask_zero=True, name="ea")(a)
    h = L.Concatenate(axis=1, name="merge")([ea, b])
    return keras.Model([a, b], L.LSTM(3, name="lstm")(h))


CASES = [
    # elementwise, same shapes, 2 and more inputs
    _merge("add_2", "Add", [(4,), (4,)]),
    _merge("add_3_3d", "Add", [(3, 4), (3, 4), (3, 4)]),
    _merge("add_1_input", "Add", [(4,)]),
    _merge("subtract", "Subtract", [(3, 4), (3, 4)]),
    _merge("multiply_2", "Multiply", [(5,), (5,)]),
    _merge("multiply_4", "Multiply", [(2, 3), (2, 3), (2, 3), (2, 3)]),
    _merge("average_2", "Average", [(5,), (5,)]),
    _merge("average_3", "Average", [(2, 3, 2), (2, 3, 2), (2, 3, 2)]),
    _merge("maximum_2", "Maximum", [(5,), (5,)]),
    _merge("maximum_3", "Maximum", [(3, 4), (3, 4), (3, 4)]),
    _merge("minimum_2", "Minimum", [(5,), (5,)]),
    _merge("minimum_3", "Minimum", [(3, 4), (3, 4), (3, 4)]),
    # Keras broadcasting: size-1 axes and lower ranks
    _merge("add_broadcast_ones", "Add", [(1, 4), (3, 1)]),
    _merge("multiply_broadcast_rank", "Multiply", [(3, 4), (4,)]),
    _merge("subtract_broadcast_rank", "Subtract", [(4,), (2, 3, 4)]),
    _merge("average_broadcast_rank", "Average", [(2, 3, 4), (3, 4), (4,)]),
    _merge("maximum_broadcast_rank", "Maximum", [(1, 4), (2, 3, 1), (4,)]),
    _merge("minimum_broadcast_rank", "Minimum", [(3, 1), (2, 1, 5)]),
    _merge("multiply_per_sample_scalar", "Multiply", [(3, 4), ()]),
    # Concatenate
    _merge("concat_2d", "Concatenate", [(3,), (5,)]),
    _merge("concat_3_last", "Concatenate", [(2, 3), (2, 4), (2, 1)]),
    _merge("concat_axis1", "Concatenate", [(2, 3), (4, 3)], axis=1),
    _merge("concat_axis_neg3", "Concatenate", [(2, 3, 4), (1, 3, 4)], axis=-3),
    _merge("concat_4d_axis2", "Concatenate", [(2, 3, 4), (2, 1, 4)], axis=2),
    _merge("concat_1_input", "Concatenate", [(3, 4)]),
    # Dot
    _merge("dot_2d", "Dot", [(5,), (5,)], axes=1),
    _merge("dot_2d_neg", "Dot", [(5,), (5,)], axes=-1),
    _merge("dot_2d_normalize", "Dot", [(5,), (5,)], axes=1, normalize=True),
    _merge("dot_3d_matmul", "Dot", [(3, 4), (4, 5)], axes=(2, 1)),
    _merge("dot_3d_axes_2", "Dot", [(3, 4), (5, 4)], axes=2),
    _merge("dot_3d_axes_1", "Dot", [(4, 3), (4, 5)], axes=1),
    _merge("dot_3d_pair", "Dot", [(4, 3), (5, 4)], axes=(1, 2)),
    _merge("dot_3d_neg_int", "Dot", [(3, 4), (5, 4)], axes=-1),
    _merge("dot_3d_neg_pair", "Dot", [(3, 4), (4, 5)], axes=(-1, -2)),
    _merge("dot_3d_normalize", "Dot", [(3, 4), (5, 4)], axes=(2, 2), normalize=True),
    _merge("dot_2d_3d", "Dot", [(4,), (4, 5)], axes=(1, 1)),
    _merge("dot_3d_2d", "Dot", [(3, 4), (4,)], axes=(2, 1)),
    _merge("dot_2d_3d_neg", "Dot", [(4,), (3, 4)], axes=-1),
    _merge("dot_3d_2d_normalize", "Dot", [(4, 3), (4,)], axes=(1, 1), normalize=True),
    _merge("dot_4d_3d", "Dot", [(2, 3, 4), (4, 5)], axes=(3, 1)),
    _merge("dot_4d_4d", "Dot", [(2, 3, 4), (3, 4, 5)], axes=(2, 1)),
    # merges of channels-first values (after Conv2D)
    _merge_convs("add_convs", "Add"),
    _merge_convs("add_3_convs", "Add", n=3),
    _merge_convs("subtract_convs", "Subtract"),
    _merge_convs("multiply_convs", "Multiply"),
    _merge_convs("average_convs", "Average", n=3),
    _merge_convs("maximum_convs", "Maximum"),
    _merge_convs("minimum_convs", "Minimum", n=3),
    _merge_convs("concat_convs", "Concatenate"),
    _merge_convs("concat_convs_axis1", "Concatenate", axis=1),
    _merge_convs("concat_convs_axis_neg2", "Concatenate", axis=-2),
    _conv_and_plain("add_conv_and_plain", "Add"),
    _conv_and_plain("concat_conv_and_plain", "Concatenate"),
    _conv_and_plain("concat_conv_and_plain_axis2", "Concatenate", axis=2),
    Case("add_conv_and_plain_majority", _conv_and_plain_majority),
    Case("concat_three_layouts", _concat_three_layouts),
    _gate("multiply_conv_gate_2d", "Multiply", (4,)),
    _gate("add_conv_gate_3d", "Add", (5, 4)),
    _gate("subtract_conv_gate_ones", "Subtract", (1, 1, 4)),
    Case("se_block", _se_block),
    Case("residual_block", _residual),
    Case("dot_after_conv1d", _dot_after_conv),
    Case("nested_merges", _nested_merges),
    # masks
    _masked("masked_add", "Add"),
    _masked("masked_concat_last", "Concatenate"),
    _masked("masked_concat_time", "Concatenate", axis=1),
    _masked("masked_concat_one_unmasked", "Concatenate_unmasked"),
    Case("masked_concat_time_unmasked", _masked_concat_time_unmasked, input_kinds=(("int", 5), "float")),
]
