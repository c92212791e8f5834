"""Built-in emitters, one module per layer family; importing this package
registers them all in bridge.registry.REGISTRY.

Where a layer is converted: `bridge layers` (or the README's table) names the
module of every registered Keras class. Helpers the families share, and no
layers, are in common/.
"""
from . import (  # noqa: F401
    activations,
    applications,
    attention,
    batch_norm,
    conv,
    conv_lstm,
    core,
    embedding,
    lambdas,
    layer_norm,
    legacy,
    locally_connected,
    merging,
    pooling,
    preprocessing,
    recurrent,
    reshaping,
    tfops,
    wrappers,
)
from .libraries import kcv, keras_hub, larq, qkeras, tfmot  # noqa: F401,E402  (third-party layer libraries)
