"""Keras 1 (1.0 to 1.2.2) models -> the Keras 2 / tf.keras schema: each
layer's class and config by the rules of keras1_configs.py (Convolution2D ->
Conv2D, nb_filter -> filters, ...), its weights by keras1_weights.py
(layer_W -> kernel, per-gate LSTM/GRU arrays -> kernel / recurrent_kernel /
bias in Keras 2 gate order, 'th' kernel layouts -> (spatial..., in, out)),
as Keras 2's own legacy loader converted them (keras/legacy/interfaces.py
and preprocess_weights_for_loading); a border_mode='full' convolution gets
an explicit ZeroPadding layer in front.

Layers with no Keras 2 class keep a name of their own and have emitters in
bridge/emitters/legacy.py: Highway, MaxoutDense, ParametricSoftplus, SReLU,
Keras1BatchNormalization (modes 1 and 2) and Merge (its 'cos' mode).

Keras 1 did not save dim_ordering for UpSampling2D/3D, ZeroPadding2D/3D,
Cropping2D/3D and SpatialDropout2D/3D: they get the ordering the rest of the
model records (a model whose convolutions say 'th' computed them
channels-first), channels_last when nothing says.
"""
from __future__ import annotations

from ..ir import Call, Model, TensorRef
from .graph_edits import insert_padding
from .keras1_configs import DATA_FORMATS, convert_config
from .keras1_weights import convert_weights


class Keras1Context:
    def __init__(self, model: Model):
        self.source = model.source
        votes = [DATA_FORMATS.get(o) for o in _orderings(model) if DATA_FORMATS.get(o)]
        first = votes.count("channels_first")
        self.default_df = "channels_first" if first > len(votes) - first else "channels_last"


def _orderings(model: Model):
    def from_conf(c):
        if isinstance(c, dict):
            if "dim_ordering" in c:
                yield c["dim_ordering"]
            inner = c.get("layer")
            if isinstance(inner, dict):
                yield from from_conf(inner.get("config"))
    for lyr in model.walk():
        yield from from_conf(lyr.config)


def looks_like_keras1(model: Model) -> bool:
    """A config with Keras 1 names (for files that do not record a version)."""
    k1_classes = {"Convolution1D", "Convolution2D", "Convolution3D", "AtrousConvolution1D",
                  "AtrousConvolution2D", "Deconvolution2D", "SeparableConvolution2D", "Merge",
                  "TimeDistributedDense", "Highway", "MaxoutDense"}
    k1_keys = {"output_dim", "nb_filter", "border_mode", "dim_ordering", "input_dtype",
               "inner_activation", "W_regularizer"}
    for lyr in model.walk():
        if lyr.class_name in k1_classes:
            return True
        if k1_keys & set(lyr.config):
            return True
    return False


# -- the model ------------------------------------------------------------------

def normalize_model(model: Model) -> None:
    ctx = Keras1Context(model)
    _name_inputs(model, {})
    _normalize(model, ctx)


def _name_inputs(model: Model, uids: dict) -> None:
    """Keras 1 named a Sequential's implicit input '<class>_input_<uid>'
    (Layer.create_input_layer), e.g. 'lstm_input_1', 'dense_input_2'."""
    renames = {}
    for layer in model.layers:
        first_cls = layer.input_for if layer.class_name == "InputLayer" else None
        if first_cls:
            prefix = f"{first_cls.lower()}_input_"
            uids[prefix] = uids.get(prefix, 0) + 1
            new = f"{prefix}{uids[prefix]}"
            taken = {lyr.name for lyr in model.layers}
            if new not in taken:
                renames[layer.name] = new
                layer.name = new
                layer.config["name"] = new
        if layer.inner is not None:
            _name_inputs(layer.inner, uids)
    if not renames:
        return

    def fix(r):
        return TensorRef(renames.get(r.layer, r.layer), r.call, r.index)

    for layer in model.layers:
        layer.calls = [Call(tuple(fix(r) for r in c.inputs), c.kwargs, c.args) for c in layer.calls]
    model.inputs = [fix(r) for r in model.inputs]
    model.outputs = [fix(r) for r in model.outputs]


def _normalize(model: Model, ctx: Keras1Context) -> None:
    for layer in list(model.layers):
        if layer.inner is not None:
            _normalize(layer.inner, ctx)
            continue
        old_cls, old_conf = layer.class_name, layer.config
        k2 = convert_config(old_cls, old_conf, ctx.default_df, ctx.source, layer)
        weights = layer.weights
        if weights:
            layer.weights = convert_weights(old_cls, old_conf, k2.class_name, k2.config, weights,
                                            layer.name, ctx, layer)
        layer.class_name, layer.config = k2.class_name, k2.config
        if k2.pre_pad is not None:
            insert_padding(model, layer, k2.pre_pad)
