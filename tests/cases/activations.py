"""Activation (every built-in of tf-keras) and the advanced activation layers."""
from . import layer_case

_BUILTINS = ["relu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "selu", "elu",
             "exponential", "hard_sigmoid", "linear", "swish", "gelu", "mish", "relu6",
             "silu", "log_softmax"]


def _act(name):
    return lambda k: k.layers.Activation(name)


CASES = [layer_case(f"activation_{a}", _act(a), (3, 5)) for a in _BUILTINS] + [
    layer_case("dense_softmax_2d", lambda k: k.layers.Dense(6, activation="softmax"), (4,)),
    layer_case("relu_plain", lambda k: k.layers.ReLU(), (10,)),
    layer_case("relu_max6", lambda k: k.layers.ReLU(max_value=6.0), (10,)),
    layer_case("relu_max_value", lambda k: k.layers.ReLU(max_value=0.7), (10,)),
    layer_case("relu_negative_slope", lambda k: k.layers.ReLU(negative_slope=0.2), (10,)),
    layer_case("relu_threshold", lambda k: k.layers.ReLU(threshold=0.4), (10,)),
    layer_case("relu_all_options", lambda k: k.layers.ReLU(max_value=1.2, negative_slope=0.1,
                                                           threshold=0.3), (10,)),
    layer_case("relu_slope_max", lambda k: k.layers.ReLU(max_value=0.8, negative_slope=0.25), (10,)),
    layer_case("leaky_relu_default", lambda k: k.layers.LeakyReLU(), (10,)),
    layer_case("leaky_relu_alpha", lambda k: k.layers.LeakyReLU(alpha=0.05), (10,)),
    layer_case("elu_default", lambda k: k.layers.ELU(), (10,)),
    layer_case("elu_alpha", lambda k: k.layers.ELU(alpha=0.4), (10,)),
    layer_case("thresholded_relu", lambda k: k.layers.ThresholdedReLU(theta=0.3), (10,)),
    layer_case("softmax_axis_last", lambda k: k.layers.Softmax(), (3, 4)),
    layer_case("softmax_axis_1", lambda k: k.layers.Softmax(axis=1), (3, 4)),
    layer_case("prelu", lambda k: k.layers.PReLU(), (3, 4)),
    layer_case("prelu_shared", lambda k: k.layers.PReLU(shared_axes=[1, 2]), (3, 4, 5)),
]
