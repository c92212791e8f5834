"""Pooling: Max/AveragePooling1D/2D/3D and the global poolings, every
tf-keras 2.21 option (pool_size, strides incl. None, padding valid/same,
data_format, keepdims), plus layouts flowing in from other spatial layers."""
from . import Case, chain_case, layer_case

CF = "channels_first"


def _two_outputs(keras):
    """One pooled tensor read by a global pooling and returned itself."""
    inp = keras.Input(shape=(6, 6, 3), name="x")
    p = keras.layers.MaxPooling2D(2, name="pool")(inp)
    g = keras.layers.GlobalAveragePooling2D(name="gap")(p)
    return keras.Model(inp, [p, g])


def _masked(name, *makers, steps=6):
    """Integer ids -> Embedding(mask_zero=True) (id 0 masked) -> the layers."""
    def build(keras):
        inp = keras.Input(shape=(steps,), dtype="int32", name="ids")
        h = keras.layers.Embedding(5, 4, mask_zero=True)(inp)
        for mk in makers:
            h = mk(keras)(h)
        return keras.Model(inp, h, name=name)
    return Case(name=name, build=build, input_kinds=(("int", 5),))


CASES = [
    # windowed 1D
    layer_case("max_pool1d_default", lambda k: k.layers.MaxPooling1D(), (8, 3)),
    layer_case("max_pool1d_same_stride", lambda k: k.layers.MaxPooling1D(3, strides=2, padding="same"),
               (7, 3)),
    layer_case("max_pool1d_cf", lambda k: k.layers.MaxPooling1D(2, strides=1, data_format=CF), (3, 8)),
    layer_case("max_pool1d_dynamic_same", lambda k: k.layers.MaxPooling1D(2, padding="same"), (None, 3)),
    layer_case("avg_pool1d_same", lambda k: k.layers.AveragePooling1D(3, strides=1, padding="same"), (7, 3)),
    layer_case("avg_pool1d_valid_stride", lambda k: k.layers.AveragePooling1D(3, strides=2), (9, 2)),
    layer_case("avg_pool1d_cf_same", lambda k: k.layers.AveragePooling1D(2, strides=3, padding="same", data_format=CF),
               (3, 7)),
    layer_case("avg_pool1d_dynamic_same", lambda k: k.layers.AveragePooling1D(4, strides=2, padding="same"),
               (None, 2)),
    # windowed 2D
    layer_case("max_pool2d_default", lambda k: k.layers.MaxPooling2D(), (6, 6, 3)),
    layer_case("max_pool2d_strides_none", lambda k: k.layers.MaxPooling2D(pool_size=(2, 3), strides=None),
               (6, 7, 2)),
    layer_case("max_pool2d_same_asym", lambda k: k.layers.MaxPooling2D((3, 2), strides=(2, 1), padding="same"),
               (7, 6, 2)),
    layer_case("max_pool2d_stride_gt_pool", lambda k: k.layers.MaxPooling2D(2, strides=3, padding="same"),
               (8, 7, 2)),
    layer_case("max_pool2d_cf_same", lambda k: k.layers.MaxPooling2D(3, strides=2, padding="same", data_format=CF),
               (3, 7, 7)),
    layer_case("avg_pool2d_same", lambda k: k.layers.AveragePooling2D(3, strides=2, padding="same"),
               (7, 8, 2)),
    layer_case("avg_pool2d_valid", lambda k: k.layers.AveragePooling2D((2, 2), strides=(1, 2)), (5, 6, 3)),
    layer_case("avg_pool2d_cf_same", lambda k: k.layers.AveragePooling2D((2, 3), padding="same", data_format=CF),
               (2, 5, 7)),
    layer_case("avg_pool2d_dynamic_same", lambda k: k.layers.AveragePooling2D(3, strides=2, padding="same"),
               (None, None, 2)),
    # windowed 3D
    layer_case("max_pool3d_default", lambda k: k.layers.MaxPooling3D(), (4, 4, 4, 2)),
    layer_case("max_pool3d_cf_same", lambda k: k.layers.MaxPooling3D((2, 3, 2), strides=(1, 2, 2), padding="same",
                                                                         data_format=CF),
               (2, 5, 5, 5)),
    layer_case("avg_pool3d_same", lambda k: k.layers.AveragePooling3D(3, strides=2, padding="same"),
               (5, 5, 5, 2)),
    layer_case("avg_pool3d_cf_valid", lambda k: k.layers.AveragePooling3D((2, 2, 3), strides=(2, 1, 1), data_format=CF),
               (2, 4, 4, 5)),
    # global
    layer_case("gmp1d", lambda k: k.layers.GlobalMaxPooling1D(), (5, 3)),
    layer_case("gmp1d_keep_cf", lambda k: k.layers.GlobalMaxPooling1D(data_format=CF, keepdims=True), (3, 5)),
    layer_case("gap1d", lambda k: k.layers.GlobalAveragePooling1D(), (5, 3)),
    layer_case("gap1d_keep", lambda k: k.layers.GlobalAveragePooling1D(keepdims=True), (5, 3)),
    layer_case("gap1d_cf", lambda k: k.layers.GlobalAveragePooling1D(data_format=CF), (3, 5)),
    layer_case("gmp2d", lambda k: k.layers.GlobalMaxPooling2D(), (4, 5, 3)),
    layer_case("gmp2d_keep", lambda k: k.layers.GlobalMaxPooling2D(keepdims=True), (4, 5, 3)),
    layer_case("gmp2d_cf", lambda k: k.layers.GlobalMaxPooling2D(data_format=CF), (3, 4, 5)),
    layer_case("gap2d", lambda k: k.layers.GlobalAveragePooling2D(), (4, 5, 3)),
    layer_case("gap2d_keep_cf", lambda k: k.layers.GlobalAveragePooling2D(data_format=CF, keepdims=True),
               (3, 4, 5)),
    layer_case("gmp3d", lambda k: k.layers.GlobalMaxPooling3D(), (3, 4, 2, 3)),
    layer_case("gmp3d_keep_cf", lambda k: k.layers.GlobalMaxPooling3D(data_format=CF, keepdims=True),
               (3, 3, 4, 2)),
    layer_case("gap3d", lambda k: k.layers.GlobalAveragePooling3D(), (3, 4, 2, 3)),
    layer_case("gap3d_keep", lambda k: k.layers.GlobalAveragePooling3D(keepdims=True), (3, 4, 2, 3)),
    layer_case("gap3d_cf", lambda k: k.layers.GlobalAveragePooling3D(data_format=CF), (3, 3, 4, 2)),
    # layouts flowing between layers
    chain_case("pool_chain_2d", lambda k: k.layers.MaxPooling2D(2, padding="same"),
           lambda k: k.layers.AveragePooling2D(2, strides=1, padding="same"),
           lambda k: k.layers.GlobalMaxPooling2D(keepdims=True), shape=(7, 6, 3)),
    chain_case("pool_chain_1d", lambda k: k.layers.MaxPooling1D(2),
           lambda k: k.layers.GlobalAveragePooling1D(), shape=(8, 4)),
    chain_case("pool_then_dense", lambda k: k.layers.MaxPooling2D(2),
           lambda k: k.layers.GlobalAveragePooling2D(),
           lambda k: k.layers.Dense(3), shape=(6, 6, 4)),
    chain_case("pool_cf_then_cl", lambda k: k.layers.MaxPooling2D(2, data_format=CF),
           lambda k: k.layers.AveragePooling2D(2, padding="same"), shape=(4, 6, 6)),
    Case("pool_two_outputs", _two_outputs),
    chain_case("conv_pool_gap", lambda k: k.layers.Conv2D(4, 3, padding="same"),
           lambda k: k.layers.MaxPooling2D(2), lambda k: k.layers.AveragePooling2D(2, padding="same"),
           lambda k: k.layers.GlobalAveragePooling2D(), shape=(8, 8, 3)),
    chain_case("conv1d_gmp_keep", lambda k: k.layers.Conv1D(4, 3), lambda k: k.layers.MaxPooling1D(2),
           lambda k: k.layers.GlobalMaxPooling1D(keepdims=True), shape=(9, 2)),
    # the Keras mask: GlobalAveragePooling1D averages the unmasked steps only;
    # GlobalMaxPooling1D ignores the mask; windowed pooling drops it
    _masked("masked_gap1d", lambda k: k.layers.GlobalAveragePooling1D()),
    _masked("masked_gap1d_keepdims", lambda k: k.layers.GlobalAveragePooling1D(keepdims=True)),
    _masked("masked_gmp1d", lambda k: k.layers.GlobalMaxPooling1D()),
    _masked("masked_pool_drops_mask", lambda k: k.layers.MaxPooling1D(2, padding="same"),
            lambda k: k.layers.GlobalAveragePooling1D()),
]


def _zero_pad_then_max(pad, pool, shape):
    def build(keras):
        n = len(shape) - 1
        x = keras.Input(shape=shape, name="x")
        # a 1-wide average pool: the identity, but it leaves the tensor
        # channels-first inside, where Pad and MaxPool meet directly
        h = getattr(keras.layers, f"AveragePooling{n}D")(1)(x)
        h = getattr(keras.layers, f"ZeroPadding{n}D")(pad)(h)
        return keras.Model(x, pool(keras)(h))
    return build


# Negative inputs: a window reaching into the zeros must give 0 (ONNX
# Runtime would fold the Pad into MaxPool's -inf padding).
CASES += [
    Case("zero_pad_maxpool1d_negative",
         _zero_pad_then_max(2, lambda k: k.layers.MaxPooling1D(3, strides=2), (7, 3)),
         input_kinds=("negative",)),
    Case("zero_pad_maxpool2d_negative",
         _zero_pad_then_max(((1, 2), (2, 1)), lambda k: k.layers.MaxPooling2D(3, strides=2), (6, 7, 2)),
         input_kinds=("negative",)),
    Case("zero_pad_maxpool2d_same_negative",
         _zero_pad_then_max(1, lambda k: k.layers.MaxPooling2D(2, padding="same"), (5, 5, 2)),
         input_kinds=("negative",)),
    Case("zero_pad_maxpool3d_negative",
         _zero_pad_then_max(1, lambda k: k.layers.MaxPooling3D(2), (3, 4, 4, 2)),
         input_kinds=("negative",)),
]
