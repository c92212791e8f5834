"""Reshaping: Flatten, Reshape, Permute, RepeatVector, ZeroPadding,
Cropping, UpSampling (every tf-keras 2.21 option: the int / tuple /
tuple-of-tuples forms, data_format, every UpSampling2D interpolation), plus
layouts flowing in from channels-first spatial layers."""
from . import Case, chain_case, layer_case

CF = "channels_first"


def _pool(k, **kw):
    return k.layers.MaxPooling2D(2, **kw)


def _up(name, shape, **kw):
    return layer_case(name, lambda k: k.layers.UpSampling2D(**kw), shape)


def _masked_flatten(keras):
    """Flatten drops the Keras mask; Dense after it sees every step."""
    inp = keras.Input(shape=(4,), dtype="int32", name="ids")
    h = keras.layers.Embedding(5, 3, mask_zero=True)(inp)
    h = keras.layers.Flatten()(h)
    return keras.Model(inp, keras.layers.Dense(2)(h))


CASES = [
    # Flatten
    layer_case("flatten_3d", lambda k: k.layers.Flatten(), (3, 4)),
    layer_case("flatten_2d", lambda k: k.layers.Flatten(), (5,)),
    layer_case("flatten_cf", lambda k: k.layers.Flatten(data_format=CF), (3, 4, 5)),
    layer_case("flatten_cf_3d", lambda k: k.layers.Flatten(data_format=CF), (3, 4)),
    layer_case("flatten_dynamic", lambda k: k.layers.Flatten(), (None, 3)),
    chain_case("flatten_after_pool", _pool, lambda k: k.layers.Flatten(), shape=(4, 6, 3)),
    chain_case("flatten_after_pool_dense", _pool, lambda k: k.layers.Flatten(), lambda k: k.layers.Dense(4),
           shape=(4, 4, 3)),
    chain_case("flatten_cf_after_pool_cf", lambda k: _pool(k, data_format=CF),
           lambda k: k.layers.Flatten(data_format=CF), shape=(3, 4, 6)),
    chain_case("flatten_cf_after_pool_cl", _pool, lambda k: k.layers.Flatten(data_format=CF), shape=(4, 6, 3)),
    chain_case("flatten_after_pool3d", lambda k: k.layers.MaxPooling3D(2), lambda k: k.layers.Flatten(),
           shape=(4, 4, 2, 3)),
    # Reshape
    layer_case("reshape_basic", lambda k: k.layers.Reshape((4, 6)), (2, 3, 4)),
    layer_case("reshape_minus1", lambda k: k.layers.Reshape((-1, 3)), (4, 6)),
    layer_case("reshape_flat", lambda k: k.layers.Reshape((-1,)), (2, 3, 2)),
    layer_case("reshape_dynamic", lambda k: k.layers.Reshape((-1, 2)), (None, 4)),
    chain_case("reshape_after_pool", _pool, lambda k: k.layers.Reshape((2, -1, 3)), shape=(4, 8, 3)),
    # Permute
    layer_case("permute_2d", lambda k: k.layers.Permute((2, 1)), (3, 4)),
    layer_case("permute_3d", lambda k: k.layers.Permute((3, 1, 2)), (2, 3, 4)),
    layer_case("permute_4d", lambda k: k.layers.Permute((2, 4, 1, 3)), (2, 3, 4, 5)),
    chain_case("permute_twice", lambda k: k.layers.Permute((2, 1)), lambda k: k.layers.Permute((2, 1)),
           shape=(3, 4)),
    chain_case("permute_then_dense", lambda k: k.layers.Permute((2, 1)), lambda k: k.layers.Dense(3),
           shape=(3, 4)),
    chain_case("permute_after_pool", _pool, lambda k: k.layers.Permute((3, 1, 2)), shape=(4, 6, 3)),
    chain_case("permute_then_pool", lambda k: k.layers.Permute((2, 3, 1)), _pool,
           lambda k: k.layers.Flatten(), shape=(3, 4, 6)),
    chain_case("permute_then_reshape", lambda k: k.layers.Permute((2, 1, 3)),
           lambda k: k.layers.Reshape((-1,)), shape=(2, 3, 4)),
    # RepeatVector
    layer_case("repeat_vector", lambda k: k.layers.RepeatVector(3), (4,)),
    chain_case("repeat_vector_dense", lambda k: k.layers.RepeatVector(2), lambda k: k.layers.Dense(3),
           shape=(5,)),
    # ZeroPadding
    layer_case("zero_pad1d_int", lambda k: k.layers.ZeroPadding1D(2), (4, 3)),
    layer_case("zero_pad1d_tuple", lambda k: k.layers.ZeroPadding1D((1, 3)), (4, 3)),
    layer_case("zero_pad2d_default", lambda k: k.layers.ZeroPadding2D(), (3, 4, 2)),
    layer_case("zero_pad2d_tuple", lambda k: k.layers.ZeroPadding2D((1, 2)), (3, 4, 2)),
    layer_case("zero_pad2d_tuples", lambda k: k.layers.ZeroPadding2D(((1, 0), (2, 3))), (3, 4, 2)),
    layer_case("zero_pad2d_cf", lambda k: k.layers.ZeroPadding2D(((0, 1), (2, 0)), data_format=CF), (2, 3, 4)),
    layer_case("zero_pad3d_int", lambda k: k.layers.ZeroPadding3D(1), (2, 3, 2, 2)),
    layer_case("zero_pad3d_tuple", lambda k: k.layers.ZeroPadding3D((1, 0, 2)), (2, 3, 2, 2)),
    layer_case("zero_pad3d_tuples_cf", lambda k: k.layers.ZeroPadding3D(((1, 0), (0, 2), (1, 1)), data_format=CF),
               (2, 2, 3, 2)),
    chain_case("zero_pad_after_pool", _pool, lambda k: k.layers.ZeroPadding2D(((1, 0), (0, 2))),
           lambda k: k.layers.Flatten(), shape=(4, 4, 3)),
    # Cropping
    layer_case("crop1d_default", lambda k: k.layers.Cropping1D(), (5, 3)),
    layer_case("crop1d_tuple", lambda k: k.layers.Cropping1D((2, 0)), (5, 3)),
    layer_case("crop1d_dynamic", lambda k: k.layers.Cropping1D((1, 2)), (None, 3)),
    layer_case("crop2d_int", lambda k: k.layers.Cropping2D(1), (4, 5, 2)),
    layer_case("crop2d_tuple", lambda k: k.layers.Cropping2D((1, 2)), (4, 6, 2)),
    layer_case("crop2d_tuples", lambda k: k.layers.Cropping2D(((1, 0), (0, 2))), (4, 5, 2)),
    layer_case("crop2d_cf", lambda k: k.layers.Cropping2D(((0, 1), (2, 1)), data_format=CF), (2, 4, 5)),
    layer_case("crop3d_default", lambda k: k.layers.Cropping3D(), (3, 4, 5, 2)),
    layer_case("crop3d_tuple", lambda k: k.layers.Cropping3D((0, 1, 2)), (3, 4, 5, 2)),
    layer_case("crop3d_tuples_cf", lambda k: k.layers.Cropping3D(((1, 0), (0, 0), (2, 1)), data_format=CF),
               (2, 3, 4, 5)),
    # tf-keras Cropping3D slices as Python does: an axis cropped to (or past)
    # nothing is empty, and Keras returns the empty tensor
    layer_case("crop3d_empty", lambda k: k.layers.Cropping3D(((2, 2), (2, 2), (2, 2))), (4, 4, 4, 4)),
    layer_case("crop3d_empty_axis", lambda k: k.layers.Cropping3D(((2, 2), (0, 0), (1, 1))), (3, 4, 4, 4)),
    layer_case("crop3d_past_end", lambda k: k.layers.Cropping3D(((3, 3), (5, 0), (0, 1))), (4, 4, 4, 2)),
    layer_case("crop3d_empty_cf", lambda k: k.layers.Cropping3D(((2, 2), (1, 1), (0, 0)), data_format=CF),
               (2, 4, 3, 4)),
    chain_case("crop3d_empty_dense", lambda k: k.layers.Cropping3D(((1, 1), (2, 2), (0, 0))),
               lambda k: k.layers.Dense(3), shape=(3, 4, 2, 2)),
    chain_case("crop_after_pool", _pool, lambda k: k.layers.Cropping2D(((1, 0), (0, 1))), shape=(6, 6, 3)),
    # UpSampling
    layer_case("upsample1d_default", lambda k: k.layers.UpSampling1D(), (3, 2)),
    layer_case("upsample1d_3", lambda k: k.layers.UpSampling1D(3), (3, 2)),
    _up("upsample2d_default", (3, 4, 2)),
    _up("upsample2d_size", (3, 4, 2), size=(2, 3)),
    _up("upsample2d_cf", (2, 3, 4), size=(3, 1), data_format=CF),
    _up("upsample2d_bilinear", (3, 4, 2), interpolation="bilinear"),
    _up("upsample2d_bilinear_cf", (2, 3, 4), size=(3, 2), interpolation="bilinear", data_format=CF),
    _up("upsample2d_bilinear_dynamic", (None, None, 2), size=(2, 3), interpolation="bilinear"),
    _up("upsample2d_bicubic", (4, 5, 2), interpolation="bicubic"),
    _up("upsample2d_bicubic_odd", (4, 5, 2), size=(3, 2), interpolation="bicubic"),
    _up("upsample2d_area", (3, 4, 2), size=(2, 3), interpolation="area"),
    _up("upsample2d_lanczos3", (4, 5, 2), size=(2, 3), interpolation="lanczos3"),
    _up("upsample2d_lanczos5", (4, 3, 2), size=(3, 2), interpolation="lanczos5"),
    _up("upsample2d_gaussian", (4, 5, 2), interpolation="gaussian"),
    _up("upsample2d_mitchellcubic_cf", (2, 4, 5), size=(2, 3), interpolation="mitchellcubic", data_format=CF),
    layer_case("upsample3d_default", lambda k: k.layers.UpSampling3D(), (2, 3, 2, 2)),
    layer_case("upsample3d_cf", lambda k: k.layers.UpSampling3D((1, 2, 3), data_format=CF), (2, 2, 3, 2)),
    chain_case("conv_flatten_dense", lambda k: k.layers.Conv2D(4, 3), lambda k: k.layers.Conv2D(3, 2, padding="same"),
           lambda k: k.layers.Flatten(), lambda k: k.layers.Dense(5), shape=(6, 5, 2)),
    chain_case("conv_reshape", lambda k: k.layers.Conv2D(4, 3, padding="same"), lambda k: k.layers.Reshape((-1, 4)),
           shape=(4, 5, 2)),
    chain_case("conv_pad_crop_up_conv", lambda k: k.layers.Conv2D(3, 3),
           lambda k: k.layers.ZeroPadding2D(((1, 2), (0, 1))),
           lambda k: k.layers.Cropping2D(((0, 1), (1, 0))), lambda k: k.layers.UpSampling2D(interpolation="bilinear"),
           lambda k: k.layers.Conv2D(2, 3, padding="same"), shape=(6, 6, 2)),
    chain_case("conv_permute_dense", lambda k: k.layers.Conv1D(4, 2), lambda k: k.layers.Permute((2, 1)),
           lambda k: k.layers.Dense(3), shape=(5, 3)),
    chain_case("conv_upsample1d", lambda k: k.layers.Conv1D(3, 2), lambda k: k.layers.UpSampling1D(2),
           lambda k: k.layers.Cropping1D((1, 0)), shape=(5, 2)),
    Case("masked_flatten", _masked_flatten, input_kinds=(("int", 5),)),
    chain_case("upsample_after_pool", _pool, lambda k: k.layers.UpSampling2D(interpolation="bilinear"),
           lambda k: k.layers.UpSampling2D((1, 2)), shape=(4, 4, 3)),
]
