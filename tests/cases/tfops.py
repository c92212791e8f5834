"""TensorFlow operations in tf.keras functional models (TFOpLambda,
SlicingOpLambda) and TF 2.0-2.3's TensorFlowOpLayer: arithmetic with
tensors and constants on either side, floor division / modulo, comparisons
and logic, unary math, activations, reductions, shapes (reshape, transpose,
expand/squeeze, concat, stack, split, unstack, tile, pad, gather, slicing),
matmul, cast, clip, and the layout they keep after convolutions."""
from . import Case

_I = ("int", 10)


def _ops(name, fn, shapes=((4, 6), (4, 6)), ints=False):
    """x, y (float) (+ i: int32 (3,)) -> fn(tf, keras, x, y[, i]) -> outputs."""
    def build(keras):
        import tensorflow as tf
        ins = [keras.Input(shape=s, name=n) for s, n in zip(shapes, "xy")]
        if ints:
            ins.append(keras.Input(shape=(3,), name="i", dtype="int32"))
        outs = fn(tf, keras, *ins)
        return keras.Model(ins, outs, name=name)
    kinds = tuple(["float"] * len(shapes) + ([_I] if ints else []))
    return Case(name=name, build=build, input_kinds=kinds)


def _arith(tf, keras, x, y):
    return [x + 3.0, 2.0 * x, x - y, x / y, x * y, -x, abs(x), x ** 2, tf.maximum(x, 0.5),
            tf.minimum(x, y), tf.math.squared_difference(x, y), 1.0 - x, 3.0 / (abs(x) + 1.0),
            x ** y ** 0 + x, tf.math.add_n([x, y, x]), tf.math.divide_no_nan(x, tf.nn.relu(y))]


def _floor(tf, keras, x, y, i):
    j = i - 5
    return [x // 0.7, x % 0.7, tf.math.floormod(x, -0.6), 1.5 // (abs(x) + 0.1),
            tf.cast(j // 3, tf.float32), tf.cast(j % 3, tf.float32), tf.cast(j % -4, tf.float32),
            tf.cast(7 // (i + 1), tf.float32)]


def _compare(tf, keras, x, y, i):
    f = tf.float32
    return [tf.cast(x > y, f), tf.cast(x >= 0, "float32"), tf.cast(x < 0.3, f),
            tf.cast(x <= y, f), tf.cast(tf.logical_and(x > 0, y < 0), f),
            tf.cast(tf.logical_or(x > 1, y < -1), f), tf.cast(tf.logical_not(x > 0), f),
            tf.cast(tf.math.not_equal(i, 2), f), tf.cast(tf.equal(i, 3), f), tf.where(x > y, x, y),
            tf.where(x > 0, x, 0.0)]


def _unary(tf, keras, x, y):
    a = abs(x)
    return [tf.exp(x / 4), tf.math.log(a + 1), tf.sqrt(a), tf.math.rsqrt(a + 1), tf.square(x),
            tf.math.reciprocal(a + 1), tf.sign(x), tf.floor(x * 3), tf.math.ceil(x * 3),
            tf.round(x * 3), tf.sin(x), tf.cos(x), tf.tanh(x), tf.sigmoid(x), tf.math.erf(x),
            tf.math.softplus(x), tf.math.log1p(a), tf.math.expm1(x / 4), tf.math.log_sigmoid(x),
            tf.identity(x), tf.math.atan(x), tf.math.sinh(x / 2)]


def _acts(tf, keras, x, y):
    return [tf.nn.relu(x), tf.nn.relu6(x * 4), tf.nn.elu(x), tf.nn.selu(x), tf.nn.gelu(x),
            tf.nn.gelu(x, approximate=True), tf.nn.silu(x), tf.nn.leaky_relu(x, 0.1),
            tf.nn.leaky_relu(x), tf.nn.softmax(x), tf.nn.softmax(x, axis=1),
            tf.nn.log_softmax(x), tf.math.l2_normalize(x, axis=-1), tf.nn.softsign(x),
            tf.math.l2_normalize(x, axis=[1, 2])]


def _l2_zero_epsilon(tf, keras, x, y):
    """epsilon=0.0 is kept, not taken for the default 1e-12: TensorFlow
    normalizes an all-zero row to nan (0 * rsqrt(max(0, 0)))."""
    z = tf.concat([x, x * 0.0], axis=1)
    return [tf.math.l2_normalize(z, axis=-1, epsilon=0.0), tf.math.l2_normalize(x, axis=1, epsilon=0.0)]


def _reductions(tf, keras, x, y):
    return [tf.reduce_sum(x, -1), tf.reduce_mean(x, [1], keepdims=True), tf.reduce_max(x, 1),
            tf.reduce_min(x, axis=-1, keepdims=True), tf.reduce_prod(x, 2),
            tf.reduce_logsumexp(x, -1), tf.math.reduce_std(x, 1), tf.math.reduce_variance(x, -1),
            tf.cast(tf.argmax(x, axis=-1), tf.float32), tf.cast(tf.math.argmin(x, 1), tf.float32),
            x * tf.reduce_sum(x), tf.cast(tf.reduce_any(x > 1.5, axis=-1), tf.float32),
            tf.cast(tf.reduce_all(x > -1.5, axis=1), tf.float32),
            tf.math.cumsum(x, axis=1), tf.math.cumsum(x, axis=-1, exclusive=True, reverse=True)]


def _shapes(tf, keras, x, y):
    return [tf.reshape(x, (-1, 24)), tf.reshape(x, [-1, 2, 12]), tf.transpose(x, [0, 2, 1]),
            tf.expand_dims(x, -1), tf.expand_dims(x, 1), tf.squeeze(x[:, :1], axis=1),
            tf.concat([x, y], axis=-1), tf.concat([x, y], 1), tf.stack([x, y], axis=1),
            tf.stack([x, y], axis=-1), tf.split(x, 2, axis=-1)[1], tf.split(x, [2, -1], axis=1)[0],
            tf.unstack(x, axis=1)[2], tf.tile(x, [1, 2, 1]),
            tf.pad(x, [[0, 0], [1, 2], [0, 1]]), tf.pad(x, [[0, 0], [1, 1], [2, 0]], mode="REFLECT"),
            tf.pad(x, [[0, 0], [0, 1], [1, 0]], constant_values=1.5),
            tf.gather(x, [0, 2, 2], axis=2), tf.gather(x, [3, 0], axis=1),
            tf.reshape(x, tf.shape(y)), tf.squeeze(tf.expand_dims(x, 2))]


def _slices(tf, keras, x, y):
    return [x[:, 1:3], x[..., ::2], x[:, -1], x[:, None, 0], x[:, ::-1], x[:, 1:, -2:],
            x[..., tf.newaxis, -1], x[:, 3:0:-2, 1::3], x[:, -3:-1], x[:, 2], x[:, :, 5]]


def _matmul(tf, keras, x, y):
    return [x @ tf.transpose(y, [0, 2, 1]), tf.linalg.matmul(x, y, transpose_b=True),
            tf.matmul(tf.transpose(x, [0, 2, 1]), x), tf.linalg.matmul(x, x, transpose_a=True)]


def _cast_clip(tf, keras, x, y, i):
    return [tf.cast(i, tf.float32), tf.cast(tf.cast(x * 3, tf.int32), tf.float32),
            tf.clip_by_value(x, -0.5, 0.5), tf.clip_by_value(x, y - 1.0, y + 1.0),
            tf.cast(tf.cast(x, tf.bool), tf.float32), tf.cast(i, "float32") * 0.5]


def _misc(tf, keras, x, y, i):
    return [tf.zeros_like(x) + x, tf.ones_like(x) * y, tf.one_hot(i, 12), tf.one_hot(i, 10, axis=1),
            tf.nn.bias_add(x, [0.1, 0.2, 0.3, -0.1, -0.2, -0.3]),
            tf.cast(tf.shape(x), tf.float32) * tf.reduce_mean(x),
            tf.broadcast_to(x[:, :1, :], tf.shape(x)), tf.one_hot(i, 3, on_value=5.0, off_value=-1.0)]


def _extra(tf, keras, x, img):
    pos = tf.cast(tf.range(tf.shape(x)[1]), tf.float32)
    return [x + pos[:, None], tf.linalg.band_part(x, 1, 2), tf.linalg.band_part(x, -1, 0),
            tf.image.resize(img, (9, 4)), tf.image.resize(img, (3, 5), method="bicubic"),
            tf.image.resize(img, (4, 8), method="nearest"),
            tf.image.resize(img, (3, 3), method="lanczos3", antialias=True),
            tf.nn.depth_to_space(img, 2), tf.nn.space_to_depth(img, 2),
            tf.math.reduce_euclidean_norm(x, axis=-1)]


def _conv_layout(keras):
    """conv -> elementwise ops, a reduction over H and W -> Dense: the ops
    stay in the channels-first layout, the reduction remaps its axes."""
    import tensorflow as tf
    L = keras.layers
    x = keras.Input(shape=(6, 6, 3), name="x")
    h = L.Conv2D(4, 3, padding="same", name="c")(x)
    h = tf.nn.relu(h * 0.5 + 1.0)
    h = h * tf.constant([1.0, 2.0, -1.0, 0.5])
    g = tf.reduce_mean(h, axis=[1, 2])
    h2 = tf.reduce_max(h, axis=[1, 2], keepdims=True) * h
    return keras.Model(x, [L.Dense(2, name="d")(g), L.Conv2D(2, 1, name="c2")(h2)])


def _transpose_chain(keras):
    """Transposes that only retag the layout, then Dense on the result."""
    import tensorflow as tf
    L = keras.layers
    x = keras.Input(shape=(3, 4, 5), name="x")
    h = tf.transpose(x, [0, 3, 1, 2])
    h = tf.transpose(h * 2.0, [0, 2, 3, 1])
    h = tf.transpose(h, [0, 1, 3, 2])
    return keras.Model(x, L.Dense(2, name="d")(h))


def _hard_swish(keras):
    """MobileNetV3's hard_sigmoid / hard_swish, written as Keras does."""
    L = keras.layers
    x = keras.Input(shape=(5, 5, 3), name="x")
    h = L.Conv2D(4, 3, padding="same", name="c")(x)
    hs = L.ReLU(6.0)(h + 3.0) * (1.0 / 6.0)
    h = L.Multiply()([h, hs])
    return keras.Model(x, L.Conv2D(2, 1, name="c2")(h))


def _raw_layers(keras):
    """TF 2.0-2.3 TensorFlowOpLayers, built from their NodeDefs."""
    import numpy as np
    from tf_keras.src.engine.base_layer import TensorFlowOpLayer

    def op(name, op_type, inputs, attr=None, constants=None):
        node = {"name": name, "op": op_type, "input": inputs,
                "attr": {"T": {"type": "DT_FLOAT"}, **(attr or {})}}
        return TensorFlowOpLayer(node, name=name, constants=constants or {})

    x = keras.Input(shape=(4, 6), name="x")
    y = keras.Input(shape=(4, 6), name="y")
    a = op("AddV2", "AddV2", ["x", "AddV2/y"], constants={1: np.float32(3.0)})(x)
    b = op("Mul", "Mul", ["x", "y"])([a, y])
    r = op("Relu", "Relu", ["b"])(b)
    m = op("Mean", "Mean", ["r", "Mean/reduction_indices"],
           attr={"keep_dims": {"b": True}, "Tidx": {"type": "DT_INT32"}},
           constants={1: np.array([-1], np.int32)})(r)
    s = op("Sub", "Sub", ["r", "m"])([r, m])
    t = op("Transpose", "Transpose", ["s", "Transpose/perm"], attr={"Tperm": {"type": "DT_INT32"}},
           constants={1: np.array([0, 2, 1], np.int32)})(s)
    cc = op("ConcatV2", "ConcatV2", ["x", "y", "ConcatV2/axis"],
            attr={"N": {"i": "2"}, "Tidx": {"type": "DT_INT32"}},
            constants={2: np.int32(-1)})([x, y])
    rs = op("Reshape", "Reshape", ["cc", "Reshape/shape"], attr={"Tshape": {"type": "DT_INT32"}},
            constants={1: np.array([-1, 48], np.int32)})(cc)
    mm = op("BatchMatMulV2", "BatchMatMulV2", ["x", "y"], attr={"adj_y": {"b": True}})([x, y])
    sg = op("Sigmoid", "Sigmoid", ["mm"])(mm)
    return keras.Model([x, y], [t, rs, sg])


def _drops_mask(keras):
    """Embedding(mask_zero) -> an op layer -> GlobalAveragePooling1D: op
    layers drop the Keras mask, so the pooling averages every step."""
    L = keras.layers
    x = keras.Input(shape=(5,), name="x", dtype="int32")
    e = L.Embedding(6, 3, mask_zero=True, name="emb")(x)
    return keras.Model(x, [L.GlobalAveragePooling1D(name="op_pool")(e * 2.0),
                           L.GlobalAveragePooling1D(name="masked_pool")(e)])


CASES = [
    _ops("tfop_arith", _arith),
    _ops("tfop_floor", _floor, ints=True),
    _ops("tfop_compare", _compare, ints=True),
    _ops("tfop_unary", _unary),
    _ops("tfop_activations", _acts),
    _ops("tfop_l2_zero_epsilon", _l2_zero_epsilon),
    _ops("tfop_reductions", _reductions),
    _ops("tfop_shapes", _shapes),
    _ops("tfop_slices", _slices),
    _ops("tfop_matmul", _matmul, shapes=((4, 6), (5, 6))),
    _ops("tfop_cast_clip", _cast_clip, ints=True),
    _ops("tfop_misc", _misc, ints=True),
    _ops("tfop_extra", _extra, shapes=((4, 6), (6, 6, 4))),
    Case("tfop_conv_layout", _conv_layout),
    Case("tfop_transpose_chain", _transpose_chain),
    Case("tfop_hard_swish", _hard_swish),
    Case("tfop_drops_mask", _drops_mask, input_kinds=(("int", 3),)),
    Case("tf_op_layer_raw", _raw_layers),
]
