"""A plugin module for `bridge convert --plugin custom_layers_plugin`:
importing it registers the emitters of examples/custom_layers.py for the
classes MyActivation and MyCustomLayer.

    cd examples && bridge convert custom_layers_k3.keras --plugin custom_layers_plugin --check

A package can ship such emitters without --plugin: declare the module under
the entry-point group 'bridge.emitters' in its pyproject.toml,

    [project.entry-points."bridge.emitters"]
    my_layers = "my_package.bridge_emitters"

and bridge imports it before every conversion.
"""
import bridge

try:
    from custom_layers import EMITTERS           # run from examples/
except ImportError:                               # imported as examples.custom_layers_plugin
    from examples.custom_layers import EMITTERS

for _cls, _fn in EMITTERS.items():
    bridge.register(_cls, replace=True)(_fn)
