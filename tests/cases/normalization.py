"""BatchNormalization: every axis form, center/scale, epsilon, the
training-only options (renorm, virtual batches, synchronized, momentum,
initializers, regularizers, constraints), training=True calls, and the
channels-first layout after convolutions."""
from . import Case, layer_case


def _bn(**kw):
    return lambda k: k.layers.BatchNormalization(**kw)


def _after_conv(name, conv="Conv2D", shape=(6, 6, 3), **bn):
    """conv -> BN -> conv: the BN works on the channels-first value."""
    def build(keras):
        L = keras.layers
        inp = keras.Input(shape=shape, name="x")
        h = getattr(L, conv)(4, 3, padding="same", name="c1")(inp)
        h = L.BatchNormalization(name="bn", **bn)(h)
        h = L.Activation("relu")(h)
        return keras.Model(inp, getattr(L, conv)(3, 1, name="c2")(h), name=name)
    return Case(name=name, build=build)


def _training_call(name, shape, trainable=True, **bn):
    """BN(x, training=True): Keras's predict normalizes with batch statistics
    (unless the layer is frozen)."""
    def build(keras):
        inp = keras.Input(shape=shape, name="x")
        layer = keras.layers.BatchNormalization(name="bn", **bn)
        layer.trainable = trainable
        return keras.Model(inp, layer(inp, training=True), name=name)
    return Case(name=name, build=build)


def _training_after_conv(keras):
    L = keras.layers
    inp = keras.Input(shape=(5, 5, 3), name="x")
    h = L.Conv2D(4, 3, padding="same", name="c1")(inp)
    h = L.BatchNormalization(name="bn", center=False)(h, training=True)
    return keras.Model(inp, L.Conv2D(2, 1, name="c2")(h))


def _shared(keras):
    """One BN layer called on a plain and a channels-first tensor."""
    L = keras.layers
    inp = keras.Input(shape=(4, 4, 3), name="x")
    bn = L.BatchNormalization(name="bn")
    a = bn(inp)
    b = bn(L.Conv2D(3, 1, name="c")(inp))
    return keras.Model(inp, [L.Activation("tanh", name="out_a")(a),
                             L.Activation("tanh", name="out_b")(b)])


def _sync(keras):
    inp = keras.Input(shape=(4, 5), name="x")
    return keras.Model(inp, keras.layers.experimental.SyncBatchNormalization(name="sbn")(inp))


def _masked(keras):
    """BN keeps the Embedding mask for the LSTM after it."""
    L = keras.layers
    inp = keras.Input(shape=(6,), name="x", dtype="int32")
    h = L.Embedding(5, 4, mask_zero=True, name="emb")(inp)
    h = L.BatchNormalization(name="bn")(h)
    return keras.Model(inp, L.LSTM(3, name="lstm")(h))


CASES = [
    # axis forms, plain Keras-layout inputs
    layer_case("bn_2d", _bn(), (6,)),
    layer_case("bn_2d_axis1", _bn(axis=1), (6,)),
    layer_case("bn_3d_last", _bn(), (4, 6)),
    layer_case("bn_3d_axis1", _bn(axis=1), (4, 6)),
    layer_case("bn_3d_axis_neg2", _bn(axis=-2), (4, 6)),
    layer_case("bn_4d_last", _bn(), (3, 4, 5)),
    layer_case("bn_4d_axis1", _bn(axis=1), (3, 4, 5)),
    layer_case("bn_4d_axis2", _bn(axis=2), (3, 4, 5)),
    layer_case("bn_4d_axis_neg3", _bn(axis=-3), (3, 4, 5)),
    layer_case("bn_5d_last", _bn(), (2, 3, 4, 3)),
    layer_case("bn_5d_axis1", _bn(axis=1), (3, 2, 3, 4)),
    layer_case("bn_multi_axis", _bn(axis=[1, 2]), (3, 4, 5)),
    layer_case("bn_multi_axis_neg", _bn(axis=[-1, -3]), (3, 4, 5)),
    layer_case("bn_multi_axis_3d", _bn(axis=[1, 2]), (4, 5)),
    # center / scale / epsilon
    layer_case("bn_no_center", _bn(center=False), (6,)),
    layer_case("bn_no_scale", _bn(scale=False), (6,)),
    layer_case("bn_no_center_no_scale", _bn(center=False, scale=False), (4, 6)),
    layer_case("bn_no_scale_axis1", _bn(scale=False, axis=1), (3, 4, 5)),
    layer_case("bn_epsilon_large", _bn(epsilon=0.7), (3, 4, 5)),
    layer_case("bn_epsilon_small", _bn(epsilon=1e-6, axis=1), (4, 6)),
    # options that only act while training
    layer_case("bn_training_options", _bn(
        momentum=0.5, beta_initializer="random_normal", gamma_initializer="random_uniform",
        moving_mean_initializer="random_normal", moving_variance_initializer="ones",
        beta_regularizer="l2", gamma_regularizer="l1", beta_constraint="non_neg",
        gamma_constraint="max_norm", fused=False), (3, 4, 5)),
    layer_case("bn_renorm", _bn(renorm=True, renorm_clipping={"rmax": 3.0, "rmin": 0.3, "dmax": 5.0},
                                renorm_momentum=0.9), (3, 4, 5)),
    layer_case("bn_renorm_2d", _bn(renorm=True), (6,)),
    layer_case("bn_virtual_batch_2d", _bn(virtual_batch_size=3), (6,)),
    layer_case("bn_virtual_batch_4d", _bn(virtual_batch_size=1, axis=-1), (3, 4, 5)),
    layer_case("bn_virtual_batch_axis1", _bn(virtual_batch_size=3, axis=1, center=False), (4, 6)),
    layer_case("bn_synchronized", _bn(synchronized=True), (4, 5)),
    Case("bn_sync_class", _sync),
    # training=True calls
    _training_call("bn_training_true_2d", (6,)),
    _training_call("bn_training_true_3d", (4, 6), axis=1, scale=False),
    _training_call("bn_training_true_4d", (3, 4, 5)),
    _training_call("bn_training_true_frozen", (3, 4, 5), trainable=False),
    _training_call("bn_training_true_multi_axis", (3, 4, 5), axis=[1, 3]),
    Case("bn_training_true_after_conv", _training_after_conv),
    # channels-first values after convolutions
    _after_conv("bn_after_conv2d"),
    _after_conv("bn_after_conv2d_axis1", axis=1),
    _after_conv("bn_after_conv2d_multi_axis", axis=[2, 3]),
    _after_conv("bn_after_conv2d_no_center_scale", center=False, scale=False, epsilon=0.01),
    _after_conv("bn_after_conv1d", conv="Conv1D", shape=(7, 3)),
    _after_conv("bn_after_conv3d", conv="Conv3D", shape=(4, 4, 4, 2)),
    _after_conv("bn_after_conv2d_virtual_batch", virtual_batch_size=3),
    Case("bn_shared_two_layouts", _shared),
    Case("bn_masked_input", _masked, input_kinds=(("int", 5),)),
]
