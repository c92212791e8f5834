"""Built-in emitters, one module per layer family. Importing this package
registers them all in bridge.registry.REGISTRY."""
from . import (  # noqa: F401
    activations,
    applications,
    attention,
    conv,
    core,
    einsum,
    legacy,
    locally_connected,
    merging,
    normalization,
    norm_layers,
    pooling,
    preprocessing,
    recurrent, recurrent_scan, conv_lstm, embedding, wrappers,  # the sequence family
    reshaping,
    tfops,
)
from . import libraries  # noqa: F401,E402  (after the built-ins they reuse)
