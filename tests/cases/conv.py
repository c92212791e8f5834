"""Convolutions: Conv1D/2D/3D, their transposes, depthwise and separable
convolutions, every option tf-keras 2.21 offers (channels_first included:
tf-keras runs those on CPU through oneDNN)."""
from . import Case, layer_case

CF = "channels_first"


def _chain(keras):
    """A plain conv stack: one Transpose in, one out, none in between."""
    L = keras.layers
    inp = keras.Input(shape=(8, 8, 3), name="x")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inp)
    h = L.Conv2D(5, 3, strides=2, name="c2")(h)
    h = L.Conv2D(3, 1, activation="tanh", name="c3")(h)
    return keras.Model(inp, h)


def _mixed_chain(keras):
    """Every conv kind in one channels_last stack."""
    L = keras.layers
    inp = keras.Input(shape=(9, 9, 3), name="x")
    h = L.Conv2D(4, 3, padding="same", name="c")(inp)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu", name="dw")(h)
    h = L.SeparableConv2D(6, 3, padding="same", name="sep")(h)
    h = L.Conv2DTranspose(3, 3, strides=2, padding="same", name="up")(h)
    return keras.Model(inp, L.Conv2D(2, 2, groups=1, name="out")(h))


def _chain_1d(keras):
    L = keras.layers
    inp = keras.Input(shape=(12, 3), name="x")
    h = L.Conv1D(4, 3, padding="causal", name="c1")(inp)
    h = L.SeparableConv1D(4, 3, padding="same", name="s1")(h)
    h = L.DepthwiseConv1D(3, name="d1")(h)
    return keras.Model(inp, L.Conv1DTranspose(2, 2, strides=2, name="t1")(h))


def _chain_cf(keras):
    """channels_first throughout: no Transpose at all."""
    L = keras.layers
    inp = keras.Input(shape=(3, 8, 8), name="x")
    h = L.Conv2D(4, 3, padding="same", data_format=CF, name="c1")(inp)
    h = L.DepthwiseConv2D(3, data_format=CF, name="d1")(h)
    return keras.Model(inp, L.Conv2D(2, 1, data_format=CF, name="c2")(h))


def c(name, make, shape):
    return layer_case(name, make, shape)


CASES = [
    # Conv1D
    c("conv1d_valid", lambda k: k.layers.Conv1D(4, 3), (9, 3)),
    c("conv1d_same_stride_even", lambda k: k.layers.Conv1D(5, 4, strides=2, padding="same"), (9, 3)),
    c("conv1d_causal_dilated", lambda k: k.layers.Conv1D(4, 3, padding="causal", dilation_rate=2,
                                                         activation="relu"), (10, 3)),
    c("conv1d_groups_no_bias", lambda k: k.layers.Conv1D(6, 3, groups=3, use_bias=False), (8, 6)),
    c("conv1d_cf_same_stride", lambda k: k.layers.Conv1D(4, 3, strides=2, padding="same",
                                                         data_format=CF), (3, 9)),
    c("conv1d_cf_causal", lambda k: k.layers.Conv1D(4, 2, padding="causal", dilation_rate=3,
                                                    data_format=CF), (3, 9)),
    c("conv1d_unknown_length", lambda k: k.layers.Conv1D(4, 3, padding="same", dilation_rate=2),
      (None, 3)),
    c("conv1d_unknown_length_stride", lambda k: k.layers.Conv1D(3, 4, strides=3, padding="same"),
      (None, 2)),
    c("conv1d_extra_batch_axis", lambda k: k.layers.Conv1D(4, 3, padding="same"), (4, 7, 3)),
    c("conv1d_extra_batch_axis_unknown", lambda k: k.layers.Conv1D(4, 3, strides=2),
      (None, 7, 3)),
    # Conv2D
    c("conv2d_valid", lambda k: k.layers.Conv2D(4, 3), (6, 6, 3)),
    c("conv2d_same_even_kernel_strides", lambda k: k.layers.Conv2D(5, (2, 4), strides=(2, 3),
                                                                   padding="same"), (7, 8, 3)),
    c("conv2d_valid_strides", lambda k: k.layers.Conv2D(3, (3, 2), strides=(2, 3)), (8, 9, 2)),
    c("conv2d_dilated_same", lambda k: k.layers.Conv2D(4, 3, dilation_rate=(2, 1), padding="same",
                                                       activation="tanh"), (7, 7, 2)),
    c("conv2d_groups", lambda k: k.layers.Conv2D(6, 3, groups=2, padding="same"), (6, 6, 4)),
    c("conv2d_no_bias", lambda k: k.layers.Conv2D(4, 2, use_bias=False, activation="sigmoid"),
      (5, 5, 3)),
    c("conv2d_cf", lambda k: k.layers.Conv2D(4, (3, 2), strides=2, padding="same", data_format=CF),
      (3, 7, 6)),
    c("conv2d_cf_groups_dilated", lambda k: k.layers.Conv2D(4, 3, groups=2, dilation_rate=2,
                                                            data_format=CF), (4, 7, 7)),
    c("conv2d_unknown_hw", lambda k: k.layers.Conv2D(4, 3, strides=2, padding="same"),
      (None, None, 3)),
    c("conv2d_unknown_hw_dilated", lambda k: k.layers.Conv2D(3, 2, dilation_rate=2, padding="same"),
      (None, None, 2)),
    c("conv2d_extra_batch_axis", lambda k: k.layers.Conv2D(3, 2, strides=2), (2, 5, 5, 3)),
    Case("conv2d_chain", _chain),
    Case("conv2d_mixed_chain", _mixed_chain),
    Case("conv1d_chain", _chain_1d),
    Case("conv2d_chain_cf", _chain_cf),
    # Conv3D
    c("conv3d_valid", lambda k: k.layers.Conv3D(4, 3), (4, 5, 5, 2)),
    c("conv3d_same_strides", lambda k: k.layers.Conv3D(3, (2, 3, 3), strides=(1, 2, 2),
                                                       padding="same", activation="elu"),
      (5, 6, 6, 2)),
    c("conv3d_cf_groups_dilated", lambda k: k.layers.Conv3D(4, 2, groups=2, dilation_rate=2,
                                                            data_format=CF), (4, 5, 5, 5)),
    c("conv3d_unknown", lambda k: k.layers.Conv3D(2, 3, strides=2, padding="same"),
      (None, None, None, 2)),
    # Conv1DTranspose
    c("conv1d_transpose_valid", lambda k: k.layers.Conv1DTranspose(4, 3), (6, 3)),
    c("conv1d_transpose_same_stride", lambda k: k.layers.Conv1DTranspose(4, 4, strides=2,
                                                                         padding="same"), (6, 3)),
    c("conv1d_transpose_output_padding", lambda k: k.layers.Conv1DTranspose(
        4, 3, strides=3, output_padding=2), (5, 3)),
    c("conv1d_transpose_same_output_padding", lambda k: k.layers.Conv1DTranspose(
        3, 5, strides=3, padding="same", output_padding=1), (5, 2)),
    c("conv1d_transpose_dilated", lambda k: k.layers.Conv1DTranspose(4, 3, dilation_rate=2,
                                                                     padding="same"), (7, 3)),
    c("conv1d_transpose_cf", lambda k: k.layers.Conv1DTranspose(4, 3, strides=2, data_format=CF,
                                                                use_bias=False), (3, 6)),
    # Conv2DTranspose
    c("conv2d_transpose_valid", lambda k: k.layers.Conv2DTranspose(4, 3), (5, 5, 3)),
    c("conv2d_transpose_kernel_below_stride", lambda k: k.layers.Conv2DTranspose(
        3, 2, strides=3), (4, 4, 2)),
    c("conv2d_transpose_same", lambda k: k.layers.Conv2DTranspose(4, 3, strides=2, padding="same",
                                                                  activation="relu"), (4, 5, 3)),
    c("conv2d_transpose_same_even", lambda k: k.layers.Conv2DTranspose(4, (4, 2), strides=(2, 3),
                                                                       padding="same"), (4, 4, 2)),
    c("conv2d_transpose_same_output_padding", lambda k: k.layers.Conv2DTranspose(
        4, 3, strides=2, padding="same", output_padding=1), (4, 4, 3)),
    c("conv2d_transpose_valid_output_padding", lambda k: k.layers.Conv2DTranspose(
        3, (3, 2), strides=(2, 3), output_padding=(1, 2)), (4, 4, 2)),
    c("conv2d_transpose_dilated", lambda k: k.layers.Conv2DTranspose(4, 3, dilation_rate=2),
      (5, 5, 2)),
    c("conv2d_transpose_dilated_same", lambda k: k.layers.Conv2DTranspose(
        4, 3, dilation_rate=2, padding="same"), (5, 5, 2)),
    c("conv2d_transpose_cf_dilated", lambda k: k.layers.Conv2DTranspose(
        3, 3, dilation_rate=2, padding="same", data_format=CF), (2, 5, 5)),
    c("conv2d_transpose_cf_strided", lambda k: k.layers.Conv2DTranspose(
        3, 3, strides=2, output_padding=1, data_format=CF), (2, 4, 5)),
    c("conv2d_transpose_unknown_hw", lambda k: k.layers.Conv2DTranspose(3, 3, strides=2,
                                                                        padding="same"),
      (None, None, 2)),
    # Conv3DTranspose
    c("conv3d_transpose_valid", lambda k: k.layers.Conv3DTranspose(3, 2, strides=2), (3, 3, 3, 2)),
    c("conv3d_transpose_same_output_padding", lambda k: k.layers.Conv3DTranspose(
        3, 3, strides=(1, 2, 2), padding="same", output_padding=(0, 1, 1)), (3, 3, 4, 2)),
    # tf-keras ignores dilation_rate here and does not save it
    c("conv3d_transpose_dilation_not_saved", lambda k: k.layers.Conv3DTranspose(
        2, 3, dilation_rate=2), (3, 3, 3, 2)),
    c("conv3d_transpose_cf", lambda k: k.layers.Conv3DTranspose(3, 2, strides=2, padding="same",
                                                                data_format=CF), (2, 3, 3, 3)),
    # DepthwiseConv1D
    c("depthwise_conv1d", lambda k: k.layers.DepthwiseConv1D(3, depth_multiplier=2), (8, 3)),
    c("depthwise_conv1d_same_stride", lambda k: k.layers.DepthwiseConv1D(
        4, strides=2, padding="same", activation="relu6"), (9, 3)),
    c("depthwise_conv1d_cf_dilated", lambda k: k.layers.DepthwiseConv1D(
        3, dilation_rate=2, depth_multiplier=3, data_format=CF, use_bias=False), (2, 9)),
    # DepthwiseConv2D
    c("depthwise_conv2d", lambda k: k.layers.DepthwiseConv2D(3), (6, 6, 3)),
    c("depthwise_conv2d_mult_same_stride", lambda k: k.layers.DepthwiseConv2D(
        3, strides=2, padding="same", depth_multiplier=2), (7, 6, 3)),
    c("depthwise_conv2d_dilated", lambda k: k.layers.DepthwiseConv2D(
        (3, 2), dilation_rate=(2, 3), padding="same", activation="relu"), (7, 8, 2)),
    c("depthwise_conv2d_cf", lambda k: k.layers.DepthwiseConv2D(
        3, depth_multiplier=2, strides=2, data_format=CF, use_bias=False), (3, 7, 7)),
    c("depthwise_conv2d_unknown_hw", lambda k: k.layers.DepthwiseConv2D(
        3, padding="same", strides=2), (None, None, 3)),
    # SeparableConv1D
    c("separable_conv1d_causal", lambda k: k.layers.SeparableConv1D(
        5, 3, padding="causal", dilation_rate=2, depth_multiplier=2), (10, 3)),
    c("separable_conv1d_same_stride", lambda k: k.layers.SeparableConv1D(
        4, 4, strides=2, padding="same", activation="tanh"), (9, 3)),
    c("separable_conv1d_cf", lambda k: k.layers.SeparableConv1D(
        4, 3, data_format=CF, use_bias=False), (3, 8)),
    # SeparableConv2D
    c("separable_conv2d", lambda k: k.layers.SeparableConv2D(4, 3), (6, 6, 3)),
    c("separable_conv2d_mult_same_stride", lambda k: k.layers.SeparableConv2D(
        5, 3, strides=2, padding="same", depth_multiplier=2), (7, 7, 3)),
    c("separable_conv2d_dilated_no_bias", lambda k: k.layers.SeparableConv2D(
        3, 3, dilation_rate=2, padding="same", use_bias=False, activation="relu"), (7, 7, 2)),
    c("separable_conv2d_cf", lambda k: k.layers.SeparableConv2D(
        4, (2, 3), strides=(1, 2), data_format=CF, depth_multiplier=2), (3, 6, 7)),
    c("separable_conv2d_unknown_hw", lambda k: k.layers.SeparableConv2D(
        3, 3, padding="same"), (None, None, 2)),
]


def _zero_pad_conv(keras):
    """The MobileNet / ResNet stem pattern: Conv -> ZeroPadding -> strided Conv."""
    x = keras.Input(shape=(9, 9, 3), name="x")
    h = keras.layers.Conv2D(4, 3, padding="same")(x)
    h = keras.layers.ZeroPadding2D(((0, 1), (0, 1)))(h)
    return keras.Model(x, keras.layers.Conv2D(5, 3, strides=2)(h))


CASES.append(Case("zero_pad_conv2d", _zero_pad_conv))
