"""Built-in emitters, one module per layer family, registered in
bridge.registry.REGISTRY.

The families most models use are imported with this package. The others
(op layers and Lambda, layer libraries, preprocessing, recurrent and
attention layers, Keras 1 leftovers) are imported when a model first needs
one of their classes: LAZY (lazy_index.py, made by
tests/make_emitter_index.py and checked by tests/test_emitter_index.py) says
which module registers which class, so converting a CNN does not pay for
loading them.

Where a layer is converted: `bridge layers` (or the README's table) names the
module of every registered Keras class. Helpers the families share, and no
layers, are in common/.
"""
import importlib

from ..registry import REGISTRY
from . import (  # noqa: F401
    activations,
    applications,
    batch_norm,
    conv,
    core,
    embedding,
    layer_norm,
    merging,
    pooling,
    reshaping,
    wrappers,
)
from .lazy_index import LAZY, LAZY_MODULES


def load(class_name=None) -> None:
    """Import the family registering class_name (None: every lazy family)."""
    names = LAZY_MODULES if class_name is None else [LAZY[class_name]] if class_name in LAZY else []
    for module in names:
        importlib.import_module(f"{__name__}.{module}")


REGISTRY.set_loader(load)
