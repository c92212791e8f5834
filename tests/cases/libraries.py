"""Models built with the third-party quantization libraries: QKeras, the
TensorFlow Model Optimization toolkit (quantization-aware training, pruning,
clustering) and Larq. Each case builds from a tf-keras module handed to it
and imports its library inside the build, so nothing here needs them
installed: tests/make_library_fixtures.py builds the cases (with the
libraries) and saves what the library's own predict computed.

Input kinds: "float" standard normal; "grid", values on a 1/8 grid, so that
quantizers meet exact rounding ties (half to even against half up).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class LibCase:
    name: str
    library: str               # qkeras | tfmot | larq
    build: Callable            # keras module -> keras.Model
    shape: tuple = ()          # one input, without the batch axis
    inputs: str = "float"      # "float" | "grid"
    scale: float = 1.0         # input standard deviation
    rtol: float = 1e-5
    why: str = ""              # why a looser rtol
    archive: bool = False      # also saved as a tf-keras .keras archive
    extra: dict = field(default_factory=dict)

    @property
    def family(self) -> str:
        return f"libraries/{self.library}"


def _model(keras, shape, *layers):
    inp = keras.Input(shape=shape, name="x")
    h = inp
    for layer in layers:
        h = layer(h)
    return keras.Model(inp, h)


# -- QKeras -------------------------------------------------------------------------

def _q_dense_bits(keras):
    """quantized_bits as kernel (alpha unset -> auto_po2), numeric-alpha and
    plain bias quantizers, activations in several configs."""
    import qkeras as q
    L = keras.layers
    return _model(
        keras, (10,),
        q.QDense(12, kernel_quantizer=q.quantized_bits(4, 0, 1),
                 bias_quantizer=q.quantized_bits(6, 2, 1, alpha=1), name="d1"),
        q.QActivation("quantized_bits(4,1)", name="a1"),
        q.QDense(10, kernel_quantizer="quantized_bits(6,1,0,alpha='auto')",
                 bias_quantizer="quantized_bits(8,3)", name="d2",
                 activation="quantized_bits(5,2,1,keep_negative=False)"),
        q.QDense(8, kernel_quantizer=q.quantized_bits(3, 0, 1, alpha="auto_po2"), name="d3"),
        q.QActivation(q.quantized_bits(8, 2, 0, alpha="auto"), name="a3"),
        q.QDense(6, kernel_quantizer=q.quantized_bits(8, 0, 0, alpha=1), name="d4",
                 activation=q.quantized_bits(1, 0, keep_negative=True, alpha=1)),
        L.Dense(4, name="out"))


def _q_bits_activations(keras):
    """quantized_bits on activations only: signed / unsigned, symmetric,
    fractional and integer bits, 8 and 10 bits (QuantizeLinear and the
    arithmetic form), qnoise_factor < 1."""
    import qkeras as q
    L = keras.layers
    inp = keras.Input(shape=(16,), name="x")
    outs = [q.QActivation(s, name=f"a{i}")(inp) for i, s in enumerate([
        "quantized_bits(4,0)", "quantized_bits(4,2,1)", "quantized_bits(8,3)",
        "quantized_bits(10,4,1)", "quantized_bits(6,1,0,keep_negative=False)",
        "quantized_bits(5,0,alpha=0.5)", "quantized_bits(4,1,qnoise_factor=0.5)",
        "quantized_bits(2,1,1)"])]
    return keras.Model(inp, L.Concatenate(name="out")(outs))


def _q_relu(keras):
    import qkeras as q
    L = keras.layers
    inp = keras.Input(shape=(16,), name="x")
    outs = [q.QActivation(s, name=f"a{i}")(inp) for i, s in enumerate([
        "quantized_relu(4,0)", "quantized_relu(3,1)", "quantized_relu(8,2)",
        "quantized_relu(4,1,negative_slope=0.25)", "quantized_relu(4,2,1)",
        "quantized_relu(5,1,1,0.5)", "quantized_relu(10,3)",
        "quantized_relu(6,2,relu_upper_bound=1.5)"])]
    return keras.Model(inp, L.Concatenate(name="out")(outs))


def _q_squash(keras):
    """quantized_tanh / sigmoid / ulaw / hswish, QKeras's own functions and a
    Keras activation given by name."""
    import qkeras as q
    L = keras.layers
    inp = keras.Input(shape=(16,), name="x")
    outs = [q.QActivation(s, name=f"a{i}")(inp) for i, s in enumerate([
        "quantized_tanh(4)", "quantized_tanh(6,symmetric=True)", "quantized_tanh(3,use_real_tanh=True)",
        "quantized_sigmoid(4)", "quantized_sigmoid(8,use_real_sigmoid=True)",
        "quantized_sigmoid(5,symmetric=True)", "quantized_ulaw(8,0)", "quantized_hswish(6,2)",
        "hard_sigmoid", "smooth_sigmoid", "binary_sigmoid", "binary_tanh", "hard_tanh",
        "smooth_tanh", "relu", "softsign"])]
    return keras.Model(inp, L.Concatenate(name="out")(outs))


def _q_po2(keras):
    import qkeras as q
    L = keras.layers
    inp = keras.Input(shape=(16,), name="x")
    outs = [q.QActivation(s, name=f"a{i}")(inp) for i, s in enumerate([
        "quantized_po2(4)", "quantized_po2(5,1)", "quantized_po2(4,4,quadratic_approximation=True)",
        "quantized_po2(6,log2_rounding='floor')", "quantized_relu_po2(4)",
        "quantized_relu_po2(5,2)", "quantized_relu_po2(4,negative_slope=0.5)",
        "quantized_relu_po2(6,quadratic_approximation=True)"])]
    return keras.Model(inp, L.Concatenate(name="out")(outs))


def _q_binary(keras):
    """binary / ternary / stochastic quantizers as activations (deterministic at
    inference), with fixed and fitted alpha."""
    import qkeras as q
    L = keras.layers
    inp = keras.Input(shape=(16,), name="x")
    outs = [q.QActivation(s, name=f"a{i}")(inp) for i, s in enumerate([
        "binary", "binary(use_01=True)", "binary(alpha=0.5)", "binary(alpha='auto')",
        "binary(alpha='auto_po2')", "ternary", "ternary(threshold=0.5)", "ternary(alpha=2.0,threshold=0.3)",
        "ternary(alpha='auto')", "ternary(alpha='auto_po2')", "stochastic_binary",
        "stochastic_ternary(alpha='auto_po2')"])]
    return keras.Model(inp, L.Concatenate(name="out")(outs))


def _q_conv(keras):
    """QConv2D -> QDepthwiseConv2D -> QSeparableConv2D -> QConv2DTranspose, each
    with a different kernel quantizer."""
    import qkeras as q
    L = keras.layers
    return _model(
        keras, (8, 8, 3),
        q.QConv2D(6, 3, padding="same", kernel_quantizer=q.quantized_bits(4, 0, 1, alpha="auto_po2"),
                  bias_quantizer=q.quantized_bits(8, 2), activation="quantized_relu(6,1)", name="c1"),
        q.QDepthwiseConv2D(3, depth_multiplier=2, depthwise_quantizer=q.binary(alpha="auto_po2"),
                           bias_quantizer="quantized_bits(6,2)", name="dw",
                           activation=q.quantized_tanh(5)),
        q.QSeparableConv2D(5, 3, padding="same", depthwise_quantizer=q.ternary(),
                           pointwise_quantizer=q.quantized_po2(5, 1), name="sep",
                           bias_quantizer=q.quantized_bits(6, 2, 1)),
        q.QActivation("quantized_relu(4,2)", name="a"),
        q.QConv2DTranspose(3, 3, strides=2, kernel_quantizer=q.stochastic_ternary(alpha="auto"),
                           bias_quantizer=q.quantized_po2(6), name="up"),
        L.Conv2D(2, 1, name="out"))


def _q_conv1d(keras):
    import qkeras as q
    return _model(
        keras, (12, 3),
        q.QConv1D(4, 3, padding="causal", kernel_quantizer=q.quantized_bits(5, 1, 1),
                  bias_quantizer=q.quantized_bits(5, 1), activation="quantized_relu(4,1)", name="c1"),
        q.QSeparableConv1D(4, 3, padding="same", depthwise_quantizer=q.quantized_bits(4, 0, 1, alpha=1),
                           pointwise_quantizer=q.stochastic_binary(alpha="auto"), name="sep"),
        q.QConv1D(3, 2, strides=2, kernel_quantizer=q.quantized_relu_po2(4, 1),
                  activation="quantized_bits(6,2,1)", name="c2"))


def _q_batchnorm(keras):
    """QBatchNormalization with its default quantizers and with explicit ones,
    QConv2DBatchnorm and QDepthwiseConv2DBatchnorm (folded, then quantized)."""
    import qkeras as q
    L = keras.layers
    return _model(
        keras, (7, 7, 3),
        q.QConv2DBatchnorm(6, 3, padding="same", kernel_quantizer=q.quantized_bits(6, 0, 1, alpha="auto_po2"),
                           bias_quantizer=q.quantized_bits(8, 3), name="cbn"),
        q.QActivation("quantized_relu(6,2)", name="a1"),
        q.QDepthwiseConv2DBatchnorm(3, depthwise_quantizer=q.quantized_bits(6, 2, 1, alpha=1),
                                    bias_quantizer=q.quantized_bits(8, 3), use_bias=False, name="dbn"),
        q.QBatchNormalization(name="qbn1"),
        q.QActivation("quantized_bits(6,2)", name="a2"),
        q.QBatchNormalization(beta_quantizer=q.quantized_bits(6, 2), gamma_quantizer=q.quantized_bits(6, 2, alpha=1),
                              mean_quantizer=q.quantized_bits(8, 3), variance_quantizer=q.quantized_relu(8, 3),
                              name="qbn2"),
        q.QBatchNormalization(gamma_quantizer=None, variance_quantizer=None, center=False, name="qbn3"),
        L.Conv2D(2, 1, name="out"))


def _q_pooling(keras):
    import qkeras as q
    L = keras.layers
    inp = keras.Input(shape=(6, 6, 3), name="x")
    c = q.QConv2D(4, 3, padding="same", kernel_quantizer=q.quantized_bits(6, 0, alpha=1), name="c")(inp)
    a = q.QAveragePooling2D(3, average_quantizer=q.quantized_bits(8, 0, alpha=1),
                            activation="quantized_bits(6,2)", name="avg")(c)
    b = q.QAveragePooling2D(2, padding="same", average_quantizer="quantized_bits(4,0,alpha=1)",
                            name="avg_same")(c)
    g = q.QGlobalAveragePooling2D(average_quantizer=q.quantized_bits(5, 0, alpha=1), name="gap",
                                  activation="quantized_relu(6,1)")(c)
    out = L.Concatenate(name="out")([L.Flatten()(a), L.Flatten()(b), g])
    return keras.Model(inp, out)


def _q_mlp(keras):
    """An hls4ml-style jet-tagging MLP: QDense -> QBatchNormalization ->
    QActivation three times, as a Sequential model."""
    import qkeras as q
    layers = []
    for i, units in enumerate((32, 24, 16)):
        layers += [q.QDense(units, kernel_quantizer=q.quantized_bits(6, 0, alpha=1),
                            bias_quantizer=q.quantized_bits(6, 0, alpha=1), name=f"fc{i}",
                            **({"input_shape": (16,)} if i == 0 else {})),
                   q.QBatchNormalization(name=f"bn{i}"),
                   q.QActivation("quantized_relu(6,2)", name=f"relu{i}")]
    layers.append(q.QDense(5, kernel_quantizer=q.quantized_bits(6, 0, alpha=1), name="logits"))
    return keras.Sequential(layers, name="jet_mlp")


# -- the Model Optimization toolkit ------------------------------------------------------

def _t_cnn(keras):
    """quantize_model on a CNN: QuantizeLayer, per-axis Conv2D / DepthwiseConv2D
    kernels, Conv2D + BatchNormalization + ReLU, Conv2DTranspose, pooling,
    Dense with tanh (quantized before the activation), softmax."""
    import tensorflow_model_optimization as tfmot
    L = keras.layers
    inp = keras.Input(shape=(8, 8, 3), name="x")
    h = L.Conv2D(6, 3, activation="relu", name="c1")(inp)
    h = L.Conv2D(6, 3, padding="same", name="c2")(h)
    h = L.BatchNormalization(name="bn")(h)
    h = L.ReLU(name="r")(h)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(h)
    h = L.Conv2DTranspose(4, 3, strides=2, name="up")(h)
    h = L.AveragePooling2D(2, name="avg")(h)
    h = L.Conv2D(4, 1, name="c3")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    h = L.Dense(6, activation="tanh", name="d")(h)
    h = L.Dense(4, name="logits")(h)
    return tfmot.quantization.keras.quantize_model(keras.Model(inp, h))


def _t_dense(keras):
    """A dense net: Concatenate and Add (output quantized), relu, sigmoid (pre)."""
    import tensorflow_model_optimization as tfmot
    L = keras.layers
    inp = keras.Input(shape=(12,), name="x")
    a = L.Dense(10, activation="relu", name="a")(inp)
    b = L.Dense(10, activation="sigmoid", name="b")(inp)
    h = L.Add(name="add")([a, b])
    h = L.Concatenate(name="cat")([h, a])
    h = L.Dense(8, name="d")(h)
    h = L.Activation("relu", name="act")(h)
    h = L.Reshape((2, 4), name="rs")(h)
    h = L.Flatten(name="fl")(h)
    return tfmot.quantization.keras.quantize_model(keras.Model(inp, L.Dense(5, name="out")(h)))


def _t_nbit(keras):
    """The experimental n-bit scheme: 4-bit weights, 6-bit activations."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.quantization.keras.experimental.default_n_bit \
        import default_n_bit_quantize_scheme as nbit
    L = keras.layers
    inp = keras.Input(shape=(6, 6, 2), name="x")
    h = L.Conv2D(4, 3, activation="relu", name="c")(inp)
    h = L.Flatten(name="f")(h)
    h = L.Dense(5, name="d")(h)
    model = keras.Model(inp, h)
    annotated = tfmot.quantization.keras.quantize_annotate_model(model)
    scheme = nbit.DefaultNBitQuantizeScheme(num_bits_weight=4, num_bits_activation=6)
    return tfmot.quantization.keras.quantize_apply(annotated, scheme)


def _t_mobilenet(keras):
    """quantize_model on a small MobileNetV2-like net: inverted residual blocks
    (1x1 expand, depthwise, 1x1 project with BatchNormalization and ReLU6,
    residual Add), global pooling, logits."""
    import tensorflow_model_optimization as tfmot
    L = keras.layers

    def conv_bn(h, filters, kernel, name, strides=1, relu=True, depthwise=False):
        if depthwise:
            h = L.DepthwiseConv2D(kernel, strides=strides, padding="same", use_bias=False,
                                  name=name)(h)
        else:
            h = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                         name=name)(h)
        h = L.BatchNormalization(name=name + "_bn")(h)
        return L.ReLU(6.0, name=name + "_relu")(h) if relu else h

    inp = keras.Input(shape=(16, 16, 3), name="x")
    h = conv_bn(inp, 8, 3, "stem", strides=2)
    for i, (expand, out, stride) in enumerate([(16, 8, 1), (24, 12, 2), (36, 12, 1)]):
        skip = h
        h = conv_bn(h, expand, 1, f"b{i}_expand")
        h = conv_bn(h, expand, 3, f"b{i}_dw", strides=stride, depthwise=True)
        h = conv_bn(h, out, 1, f"b{i}_project", relu=False)
        if stride == 1 and skip.shape[-1] == out:
            h = L.Add(name=f"b{i}_add")([skip, h])
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return tfmot.quantization.keras.quantize_model(keras.Model(inp, L.Dense(6, name="logits")(h)))


def _t_fixed_range(keras):
    """fix_input_output_range: FixedQuantizer at the input, FixedQuantizeConfig
    (fixed output range, no stored variables) on the last layer."""
    import tensorflow_model_optimization as tfmot
    L = keras.layers
    inp = keras.Input(shape=(10,), name="x")
    h = L.Dense(8, activation="relu", name="a")(inp)
    h = L.Dense(6, name="out")(h)
    q = tfmot.quantization.keras.quantize_model(keras.Model(inp, h))
    with tfmot.quantization.keras.quantize_scope():
        return tfmot.quantization.keras.fix_input_output_range(
            q, num_bits=8, input_min=-2.0, input_max=2.5, output_min=-1.5, output_max=1.0)


def _t_prune(keras):
    import tensorflow_model_optimization as tfmot
    L = keras.layers
    prune = tfmot.sparsity.keras.prune_low_magnitude
    inp = keras.Input(shape=(8, 8, 3), name="x")
    h = prune(L.Conv2D(4, 3, activation="relu", name="c"))(inp)
    h = prune(L.DepthwiseConv2D(3, name="dw"))(h)
    h = prune(L.SeparableConv2D(4, 3, name="sep"))(h)
    h = prune(L.Flatten(name="f"))(h)
    h = prune(L.Dense(6, name="d"))(h)
    return keras.Model(inp, h)


def _t_cluster(keras):
    """Clustered Conv2D (per tensor and per channel) and Dense, each with its
    own centroid initialization (clustering needs built layers: a clone)."""
    import tensorflow_model_optimization as tfmot
    L = keras.layers
    cl = tfmot.clustering.keras
    init = cl.CentroidInitialization
    inp = keras.Input(shape=(8, 8, 3), name="x")
    h = L.Conv2D(6, 3, activation="relu", name="c")(inp)
    h = L.Conv2D(4, 3, name="c_pc")(h)
    h = L.Flatten(name="f")(h)
    base = keras.Model(inp, L.Dense(5, name="d")(h))
    options = {"c": dict(number_of_clusters=5, cluster_centroids_init=init.LINEAR),
               "c_pc": dict(number_of_clusters=3, cluster_per_channel=True,
                            cluster_centroids_init=init.KMEANS_PLUS_PLUS),
               "d": dict(number_of_clusters=4, cluster_centroids_init=init.DENSITY_BASED)}

    def clone(layer):
        if layer.name in options:
            return cl.cluster_weights(layer, **options[layer.name])
        return layer.__class__.from_config(layer.get_config())
    return keras.models.clone_model(base, clone_function=clone)


# -- Larq --------------------------------------------------------------------------------

def _l_conv(keras):
    """A binary CNN: ste_sign inputs and kernels, pad_values 1 and -1,
    magnitude-aware and ternary kernels, approx/swish sign inputs,
    BatchNormalization; the output also carries a real-valued intermediate,
    which the final binarizations would hide."""
    import larq as lq
    L = keras.layers
    inp = keras.Input(shape=(8, 8, 3), name="x")
    h = lq.layers.QuantConv2D(8, 3, kernel_quantizer="ste_sign", padding="same", pad_values=1.0,
                              use_bias=False, name="c1")(inp)
    h = L.BatchNormalization(name="bn1")(h)
    h = lq.layers.QuantConv2D(8, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                              padding="same", pad_values=1.0, strides=2, name="c2")(h)
    h = L.BatchNormalization(name="bn2")(h)
    h = lq.layers.QuantDepthwiseConv2D(3, input_quantizer="approx_sign", padding="same",
                                       depthwise_quantizer="magnitude_aware_sign",
                                       pad_values=-1.0, name="dw")(h)
    mid = L.BatchNormalization(name="bn3")(h)
    h = lq.layers.QuantSeparableConv2D(6, 3, input_quantizer="swish_sign", depthwise_quantizer="ste_tern",
                                       pointwise_quantizer=lq.quantizers.SteTern(ternary_weight_networks=True),
                                       name="sep")(mid)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    h = lq.layers.QuantDense(5, input_quantizer="ste_heaviside", kernel_quantizer="ste_sign",
                             kernel_constraint="weight_clip", name="d")(h)
    return keras.Model(inp, L.Concatenate(name="out")([L.Flatten(name="f")(mid), h]))


def _l_dorefa(keras):
    """DoReFa activations and weights, Conv1D / transposed / 3-D / locally connected."""
    import larq as lq
    L = keras.layers
    inp = keras.Input(shape=(10, 4), name="x")
    h = lq.layers.QuantConv1D(6, 3, input_quantizer=lq.quantizers.DoReFa(3, mode="activations"),
                              kernel_quantizer=lq.quantizers.DoReFa(2, mode="weights"),
                              padding="same", pad_values=0.5, name="c1")(inp)
    h = lq.layers.QuantSeparableConv1D(4, 3, input_quantizer="dorefa_quantizer",
                                       depthwise_quantizer="ste_sign", pointwise_quantizer="ste_sign",
                                       name="sep")(h)
    h = lq.layers.QuantLocallyConnected1D(3, 2, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                          name="lc")(h)
    h = L.Reshape((7, 3, 1), name="rs")(h)
    h = lq.layers.QuantConv2DTranspose(2, 2, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                       strides=2, name="up")(h)
    h = L.Reshape((14, 6, 2, 1), name="rs3")(h)
    h = lq.layers.QuantConv3D(2, 2, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                              padding="same", pad_values=1.0, name="c3d")(h)
    return keras.Model(inp, L.Flatten(name="out")(h))


def _l_dense(keras):
    import larq as lq
    L = keras.layers
    return _model(
        keras, (20,),
        lq.layers.QuantDense(16, kernel_quantizer="ste_sign", name="d1"),
        L.BatchNormalization(name="bn"),
        lq.layers.QuantDense(12, input_quantizer="ste_sign", kernel_quantizer="magnitude_aware_sign",
                             name="d2"),
        lq.layers.QuantDense(8, input_quantizer=lq.quantizers.SteTern(threshold_value=0.3),
                             kernel_quantizer=lq.quantizers.SteTern(ternary_weight_networks=True), name="d3"),
        lq.layers.QuantDense(6, input_quantizer="magnitude_aware_sign",
                             kernel_quantizer=lq.quantizers.NoOp(precision=1), name="d4"),
        L.Dense(4, name="out"))


QKERAS = [
    LibCase("qdense_bits", "qkeras", _q_dense_bits, (10,), archive=True),
    LibCase("qbits_activations", "qkeras", _q_bits_activations, (16,), scale=3.0),
    LibCase("qbits_activations_grid", "qkeras", _q_bits_activations, (16,), inputs="grid", scale=3.0),
    LibCase("qrelu", "qkeras", _q_relu, (16,), scale=2.0),
    LibCase("qrelu_grid", "qkeras", _q_relu, (16,), inputs="grid", scale=2.0),
    LibCase("qsquash", "qkeras", _q_squash, (16,), scale=2.0),
    LibCase("qpo2", "qkeras", _q_po2, (16,), scale=2.0),
    LibCase("qbinary", "qkeras", _q_binary, (16,)),
    LibCase("qconv", "qkeras", _q_conv, (8, 8, 3), archive=True),
    LibCase("qconv1d", "qkeras", _q_conv1d, (12, 3), archive=True),
    LibCase("qbatchnorm", "qkeras", _q_batchnorm, (7, 7, 3)),
    LibCase("qpooling", "qkeras", _q_pooling, (6, 6, 3)),
    LibCase("qmlp", "qkeras", _q_mlp, (16,), archive=True),
]
TFMOT = [
    LibCase("tfmot_cnn", "tfmot", _t_cnn, (8, 8, 3)),
    LibCase("tfmot_dense", "tfmot", _t_dense, (12,)),
    LibCase("tfmot_nbit", "tfmot", _t_nbit, (6, 6, 2)),
    LibCase("tfmot_fixed_range", "tfmot", _t_fixed_range, (10,)),
    LibCase("tfmot_mobilenet", "tfmot", _t_mobilenet, (16, 16, 3), extra={"calibrate": True}),
    LibCase("tfmot_prune", "tfmot", _t_prune, (8, 8, 3)),
    LibCase("tfmot_cluster", "tfmot", _t_cluster, (8, 8, 3)),
]
LARQ = [
    LibCase("larq_conv", "larq", _l_conv, (8, 8, 3), archive=True),
    LibCase("larq_dorefa", "larq", _l_dorefa, (10, 4), archive=True),
    LibCase("larq_dense", "larq", _l_dense, (20,), archive=True),
]
CASES = QKERAS + TFMOT + LARQ
