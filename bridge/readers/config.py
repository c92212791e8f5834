"""Keras model config (the JSON of model.to_json() / the `model_config`
attribute) -> IR graph. Sequential models become functional graphs, so every
later stage sees one shape of model."""
from __future__ import annotations

from ..errors import ConfigError
from ..ir import Call, Layer, Model, TensorRef

MODEL_CLASSES = ("Sequential", "Model", "Functional")


def parse_model(cfg: dict, source: str) -> Model:
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        raise ConfigError(f"{source}: the model config has no 'class_name': this is not a Keras "
                          f"model config (expected the JSON of model.to_json())")
    cls = cfg["class_name"]
    body = cfg.get("config")
    if cls == "Sequential":
        return _sequential(body, source)
    if cls in ("Model", "Functional"):
        return _functional(body, source)
    raise ConfigError(f"{source}: the top-level class is {cls!r}, not a Keras Sequential or "
                      f"functional Model; subclassed models cannot be read from their config: "
                      f"rebuild it as a functional model and save again")


def _layer(spec: dict, source: str) -> Layer:
    try:
        cls = spec["class_name"]
        conf = spec.get("config") or {}
        name = spec.get("name") or conf["name"]
    except (KeyError, TypeError) as e:
        raise ConfigError(f"{source}: a layer entry in the model config lacks {e}: the config is "
                          f"malformed; re-export it with model.to_json()") from None
    layer = Layer(name=name, class_name=cls, config=conf)
    if cls in MODEL_CLASSES:
        layer.inner = parse_model({"class_name": cls, "config": conf}, source)
    return layer


def _sequential(body, source: str) -> Model:
    # Keras 2.0-2.1 wrote the layer list directly; later versions a dict.
    if isinstance(body, list):
        specs, name = body, "sequential"
    elif isinstance(body, dict) and isinstance(body.get("layers"), list):
        specs, name = body["layers"], body.get("name", "sequential")
    else:
        raise ConfigError(f"{source}: the Sequential config has no layer list; the config is malformed")
    if not specs:
        raise ConfigError(f"{source}: the Sequential model '{name}' has no layers")
    layers = [_layer(s, source) for s in specs]
    if layers[0].class_name != "InputLayer":
        first = layers[0]
        shape = _declared_input_shape(first)
        if shape is None:
            raise ConfigError(f"{source}: the Sequential model '{name}' does not declare its input "
                              f"shape (first layer '{first.name}' has no batch_input_shape); build "
                              f"the model with an Input or input_shape= before saving")
        inp = Layer(name=f"{first.name}_input", class_name="InputLayer",
                    config={"batch_input_shape": shape, "dtype": first.config.get("dtype", "float32"),
                            "name": f"{first.name}_input"})
        layers.insert(0, inp)
    prev = TensorRef(layers[0].name, 0, 0)
    for l in layers[1:]:
        l.calls.append(Call((prev,), {}))
        prev = TensorRef(l.name, 0, 0)
    return Model(name=name, layers=layers, inputs=[TensorRef(layers[0].name, 0, 0)], outputs=[prev])


def _declared_input_shape(layer: Layer):
    c = layer.config
    if c.get("batch_input_shape") is not None:
        return list(c["batch_input_shape"])
    if c.get("batch_shape") is not None:
        return list(c["batch_shape"])
    if c.get("input_shape") is not None:
        return [None] + list(c["input_shape"])
    if layer.inner is not None and layer.inner.layers and layer.inner.layers[0].class_name == "InputLayer":
        return _declared_input_shape(layer.inner.layers[0])
    return None


def _refs(value, source: str, what: str) -> list:
    """[["name", node, tensor], ...] or a single ["name", node, tensor]."""
    if not isinstance(value, list):
        raise ConfigError(f"{source}: the model config's {what} is not a list; the config is malformed")
    if value and isinstance(value[0], str):
        value = [value]
    out = []
    for v in value:
        if not (isinstance(v, list) and len(v) >= 3 and isinstance(v[0], str)):
            raise ConfigError(f"{source}: the model config's {what} entry {v!r} is not "
                              f"[layer, node, tensor]; the config is malformed")
        out.append(TensorRef(v[0], int(v[1]), int(v[2])))
    return out


def _functional(body, source: str) -> Model:
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise ConfigError(f"{source}: the functional model config has no layer list; the config is malformed")
    layers = []
    names = set()
    for spec in body["layers"]:
        layer = _layer(spec, source)
        if layer.name in names:
            raise ConfigError(f"{source}: two layers are named '{layer.name}'; the config is malformed")
        names.add(layer.name)
        for node in spec.get("inbound_nodes") or []:
            layer.calls.append(_call(node, layer, source))
        layers.append(layer)
    model = Model(name=body.get("name", "model"), layers=layers,
                  inputs=_refs(body.get("input_layers", []), source, "input_layers"),
                  outputs=_refs(body.get("output_layers", []), source, "output_layers"))
    _renumber_nested_calls(model)
    for ref in model.inputs + model.outputs:
        if ref.layer not in names:
            raise ConfigError(f"{source}: the model's inputs/outputs name a layer '{ref.layer}' that "
                              f"is not in the config; the config is malformed")
    return model


_CONSTANT = "_CONSTANT_VALUE"   # tf.keras: a constant inside an op layer's first argument


def _is_entry(v) -> bool:
    return isinstance(v, list) and len(v) in (3, 4) and isinstance(v[0], str)


def _is_ref(v) -> bool:
    return (isinstance(v, list) and len(v) >= 3 and isinstance(v[0], str)
            and isinstance(v[1], int) and isinstance(v[2], int))


def map_refs(value, fn):
    """`value` (call kwargs or arguments) with every TensorRef replaced by fn(ref)."""
    if isinstance(value, TensorRef):
        return fn(value)
    if isinstance(value, list):
        return [map_refs(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_refs(v, fn) for k, v in value.items()}
    return value


def _call(node, layer: Layer, source: str) -> Call:
    # Keras 2: [[name, node_index, tensor_index, kwargs], ...]. Op layers
    # (TFOpLambda) keep their first argument's structure: one bare entry, or
    # nested lists, with constants as ["_CONSTANT_VALUE", -1, value, kwargs].
    # Tensors named in kwargs ([name, node, tensor]) become TensorRefs in
    # Call.kwargs and join Call.inputs after the positional ones. A first
    # argument that is not a plain list of tensors is kept, as the list of
    # positional arguments, in kwargs["__args__"] (TensorRefs and constants).
    if not isinstance(node, list):
        raise ConfigError(f"{source}: layer '{layer.name}' ({layer.class_name}) has inbound nodes in a "
                          f"format this reader does not know ({type(node).__name__}); re-save the model "
                          f"with tf.keras as .h5")
    refs, kwargs = [], {}

    def arg(entry):
        if _is_entry(entry):
            if len(entry) > 3 and isinstance(entry[3], dict):
                kwargs.update(entry[3])
            if entry[0] == _CONSTANT:
                return ("const", entry[2])
            try:
                ref = TensorRef(entry[0], int(entry[1]), int(entry[2]))
            except (TypeError, ValueError):
                ref = None
            if ref is not None:
                refs.append(ref)
                return ref
        elif isinstance(entry, list):
            return [arg(e) for e in entry]
        raise ConfigError(f"{source}: layer '{layer.name}' ({layer.class_name}) has an "
                          f"inbound node entry {entry!r} that is not [layer, node, tensor]")

    first = arg(node) if _is_entry(node) else [arg(e) for e in node]
    plain = isinstance(first, list) and all(isinstance(a, TensorRef) for a in first)

    def unconst(v):
        if isinstance(v, tuple):
            return v[1]
        return [unconst(x) for x in v] if isinstance(v, list) else v

    def tensors(v):
        if _is_ref(v):
            ref = TensorRef(v[0], v[1], v[2])
            refs.append(ref)
            return ref
        if isinstance(v, list):
            return [tensors(x) for x in v]
        if isinstance(v, dict):
            return {k: tensors(x) for k, x in v.items()}
        return v

    kwargs = tensors(kwargs)
    if not plain:
        kwargs["__args__"] = [unconst(first)]
    return Call(tuple(refs), kwargs)


def _renumber_nested_calls(model: Model) -> None:
    """tf.keras numbers a nested model's calls from 1 when the model was built
    on its own Input (node 0 is that construction and is not serialized);
    Keras 2.2 and older numbered them from 0. Refer to calls by position."""
    refs = [r for l in model.layers for c in l.calls for r in c.inputs] + model.outputs
    by_name = {l.name: l for l in model.layers}
    shifted = {name for name, l in by_name.items()
               if l.inner is not None and any(r.layer == name and r.call >= len(l.calls) for r in refs)}
    if not shifted:
        return

    def fix(r: TensorRef) -> TensorRef:
        return TensorRef(r.layer, r.call - 1, r.index) if r.layer in shifted else r

    for l in model.layers:
        l.calls = [Call(tuple(fix(r) for r in c.inputs), map_refs(c.kwargs, fix)) for c in l.calls]
    model.outputs = [fix(r) for r in model.outputs]
