"""Keras model config (the JSON of model.to_json() / the `model_config`
attribute / a `.keras` archive's config.json) -> IR graph. Sequential models
become functional graphs, so every later stage sees one shape of model.

Understands the config formats of every Keras version: Keras 1 (Sequential
as a bare list, the legacy Sequential whose first layer merges whole
branches, inbound nodes as [layer, node, tensor]), Keras 2 / tf.keras
([layer, node, tensor, kwargs]) and Keras 3 (module / registered_name,
inbound nodes as {"args": [...__keras_tensor__...], "kwargs": {...}},
inputs/outputs possibly as dicts). Layer *configs* are kept as written; the
normalize package turns them into the one schema emitters read.
"""
from __future__ import annotations

from .. import safety
from ..errors import ConfigError, short
from ..ir import Call, Layer, Model, TensorRef

MODEL_CLASSES = ("Sequential", "Model", "Functional")
_KERAS_TENSOR = "__keras_tensor__"


def parse_model(cfg: dict, source: str) -> Model:
    """The IR graph of a model config, within the limits on its size."""
    model = _parse(cfg, source)
    check_size(model, source)
    return model


def _parse(cfg: dict, source: str) -> Model:
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        raise ConfigError(f"{source}: the model config has no 'class_name': this is not a Keras "
                          f"model config (expected the JSON of model.to_json())")
    cls = cfg["class_name"]
    body = cfg.get("config")
    if cls == "Sequential":
        return _sequential(body, source)
    if cls in ("Model", "Functional"):
        return _functional(body, source)
    raise ConfigError(f"{source}: the top-level class is {short(repr(cls))}, not a Keras Sequential or "
                      f"functional Model; subclassed models cannot be read from their config: "
                      f"rebuild it as a functional model and save again")


def check_size(model: Model, source: str) -> None:
    """Refuse a model past the limits on nesting, layers and calls (before
    anything walks it recursively)."""
    lim = safety.current()
    layers = calls = 0
    stack = [(model, 1)]
    while stack:
        m, depth = stack.pop()
        if depth > lim.max_model_depth:
            raise safety.refuse(f"{source}: models are nested more than {lim.max_model_depth} deep",
                                "max_model_depth")
        for layer in m.layers:
            layers += 1
            calls += len(layer.calls)
            if layer.inner is not None:
                stack.append((layer.inner, depth + 1))
        if layers > lim.max_layers:
            raise safety.refuse(f"{source}: the model has more than {lim.max_layers} layers", "max_layers")
        if calls > lim.max_calls:
            raise safety.refuse(f"{source}: the model's layers are called more than {lim.max_calls} "
                                f"times", "max_calls")


def _model_name(body: dict, default: str, source: str) -> str:
    name = body.get("name") or default
    if not isinstance(name, str):
        raise ConfigError(f"{source}: a model's name is {short(repr(name))}, not a string; the config "
                          f"is malformed: re-export it with model.to_json()")
    return name


def _legacy_spec(spec):
    """Keras 0.x / early 1.x Sequential entries: {"name": "Dense", "custom_name": "dense_1", ...}."""
    if isinstance(spec, dict) and "class_name" not in spec and "custom_name" in spec:
        conf = dict(spec)
        cls = conf.pop("name")
        conf["name"] = conf.pop("custom_name")
        return {"class_name": cls, "config": conf}
    return spec


def _layer(spec: dict, source: str) -> Layer:
    spec = _legacy_spec(spec)
    try:
        cls = spec["class_name"]
        conf = spec.get("config") or {}
        name = spec.get("name") or conf["name"]
        if str(spec.get("module") or "").startswith(("keras.src.ops", "keras.ops")):
            cls = "ops." + cls   # a Keras 3 operation (ops.Add), not the layer of that name (Add)
        registered = spec.get("registered_name")
        if isinstance(registered, str) and registered.rpartition(">")[2] == cls:
            # Keras 3 names a registered class 'package>Class' apart from its
            # class_name (tf.keras wrote it as the class_name itself): keep the
            # package, so that emitters can tell libraries' layers apart
            cls = registered
    except (KeyError, TypeError) as e:
        raise ConfigError(f"{source}: a layer entry in the model config lacks {short(e)}: the config "
                          f"is malformed; re-export it with model.to_json()") from None
    if not isinstance(cls, str) or not isinstance(name, str) or not isinstance(conf, (dict, list)):
        raise ConfigError(f"{source}: a layer entry in the model config has a class_name "
                          f"{short(repr(cls))}, name {short(repr(name))} or config of a type Keras never "
                          f"writes; the config is malformed: re-export it with model.to_json()")
    if isinstance(conf, list):          # a Keras 1 / 2.0 nested Sequential: config is the layer list
        conf = {"name": name, "layers": conf}
    layer = Layer(name=name, class_name=cls, config=conf)
    if cls in MODEL_CLASSES:
        layer.inner = _parse({"class_name": cls, "config": conf}, source)
    return layer


def _sequential(body, source: str) -> Model:
    # Keras 1 and 2.0-2.1 wrote the layer list directly; later versions a dict.
    if isinstance(body, list):
        specs, name, build_shape = body, "sequential", None
    elif isinstance(body, dict) and isinstance(body.get("layers"), list):
        specs, name = body["layers"], _model_name(body, "sequential", source)
        build_shape = body.get("build_input_shape")
    else:
        raise ConfigError(f"{source}: the Sequential config has no layer list; the config is malformed")
    if not specs:
        raise ConfigError(f"{source}: the Sequential model '{name}' has no layers")
    specs = [_legacy_spec(s) for s in specs]
    first_spec = specs[0]
    if (isinstance(first_spec, dict) and first_spec.get("class_name") == "Merge"
            and isinstance((first_spec.get("config") or {}).get("layers"), list)):
        return _legacy_merge_sequential(specs, name, source)
    layers = [_layer(s, source) for s in specs]
    if layers[0].class_name != "InputLayer":
        first = layers[0]
        shape = _declared_input_shape(first)
        if shape is None and isinstance(build_shape, list):
            shape = list(build_shape)
        if shape is None:
            raise ConfigError(f"{source}: the Sequential model '{name}' does not declare its input "
                              f"shape (first layer '{first.name}' has no batch_input_shape); build "
                              f"the model with an Input or input_shape= before saving")
        inp = Layer(name=f"{first.name}_input", class_name="InputLayer",
                    config={"batch_input_shape": shape, "dtype": _declared_dtype(first),
                            "name": f"{first.name}_input"}, input_for=first.class_name)
        layers.insert(0, inp)
    prev = TensorRef(layers[0].name, 0, 0)
    for lyr in layers[1:]:
        lyr.calls.append(Call((prev,), {}))
        prev = TensorRef(lyr.name, 0, 0)
    return Model(name=name, layers=layers, inputs=[TensorRef(layers[0].name, 0, 0)], outputs=[prev])


def _legacy_merge_sequential(specs, name: str, source: str) -> Model:
    """Keras 1: Sequential([Merge([branch_1, branch_2, ...], mode=...), ...]).

    Each branch (usually a Sequential) is inlined as its own input and chain
    of layers; the Merge layer then takes the branch outputs. This is also
    the order Keras 1 wrote their weights in (`flattened_layers`)."""
    merge_conf = dict(specs[0].get("config") or {})
    branches = merge_conf.pop("layers")
    layers, inputs, outs = [], [], []
    for b in branches:
        b = _legacy_spec(b)
        if not isinstance(b, dict) or "class_name" not in b:
            raise ConfigError(f"{source}: a branch of the Merge layer in Sequential '{name}' is not "
                              f"a layer config; the config is malformed")
        if b["class_name"] in MODEL_CLASSES:
            sub = _parse(b, source)
        else:  # a single layer with its own input shape
            sub = _sequential([b], source)
        layers.extend(sub.layers)
        inputs.extend(sub.inputs)
        outs.extend(sub.outputs)
    merge_name = merge_conf.get("name") or "merge"
    merge = Layer(name=merge_name, class_name="Merge", config=merge_conf)
    merge.calls.append(Call(tuple(outs), {}))
    layers.append(merge)
    prev = TensorRef(merge_name, 0, 0)
    for s in specs[1:]:
        lyr = _layer(s, source)
        lyr.calls.append(Call((prev,), {}))
        layers.append(lyr)
        prev = TensorRef(lyr.name, 0, 0)
    _check_unique(layers, source)
    return Model(name=name, layers=layers, inputs=inputs, outputs=[prev])


def _declared_input_shape(layer: Layer):
    c = layer.config
    if c.get("batch_input_shape") is not None:
        return list(c["batch_input_shape"])
    if c.get("batch_shape") is not None:
        return list(c["batch_shape"])
    if c.get("input_shape") is not None:
        return [None] + list(c["input_shape"])
    if c.get("input_dim") is not None and layer.class_name not in ("Embedding",):
        # Keras 1: Dense(input_dim=...), LSTM(input_dim=, input_length=)
        if c.get("input_length", "absent") != "absent":
            return [None, c.get("input_length"), c["input_dim"]]
        return [None, c["input_dim"]]
    if layer.inner is not None and layer.inner.layers and layer.inner.layers[0].class_name == "InputLayer":
        return _declared_input_shape(layer.inner.layers[0])
    return None


def _declared_dtype(layer: Layer):
    c = layer.config
    if layer.inner is not None and layer.inner.layers and layer.inner.layers[0].class_name == "InputLayer":
        return _declared_dtype(layer.inner.layers[0])
    return c.get("input_dtype") or c.get("dtype") or "float32"


def _is_ref(v) -> bool:
    return (isinstance(v, list) and len(v) >= 3 and isinstance(v[0], str)
            and isinstance(v[1], int) and isinstance(v[2], int))


def _refs(value, source: str, what: str) -> list:
    """[["name", node, tensor], ...], a single ["name", node, tensor], or
    (Keras 3) a dict or nested list of them, in order."""
    if not isinstance(value, (list, dict)):
        raise ConfigError(f"{source}: the model config's {what} is not a list; the config is malformed")
    out = []

    def walk(v):
        if _is_ref(v):
            out.append(TensorRef(v[0], int(v[1]), int(v[2])))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list) and v and not isinstance(v[0], str):
            for x in v:
                walk(x)
        else:
            raise ConfigError(f"{source}: the model config's {what} entry {v!r} is not "
                              f"[layer, node, tensor]; the config is malformed")

    if isinstance(value, list) and not value:
        return out
    walk(value)
    return out


def _check_unique(layers, source):
    seen = set()
    for lyr in layers:
        if lyr.name in seen:
            raise ConfigError(f"{source}: two layers are named '{lyr.name}'; the config is malformed")
        seen.add(lyr.name)


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
    model = Model(name=_model_name(body, "model", source), layers=layers,
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


def _call(node, layer: Layer, source: str) -> Call:
    # Keras 1: [[name, node_index, tensor_index], ...]
    # Keras 2: [[name, node_index, tensor_index, kwargs], ...]. Op layers
    # (TFOpLambda) keep their first argument's structure: one bare entry, or
    # nested lists, with constants as ["_CONSTANT_VALUE", -1, value, kwargs].
    # Tensors named in kwargs ([name, node, tensor]) become TensorRefs in
    # Call.kwargs and join Call.inputs after the positional ones. A first
    # argument that is not a plain list of tensors is kept, as the list of
    # positional arguments, in Call.args (TensorRefs and constants).
    # Keras 3: {"args": [...], "kwargs": {...}}, read into the same form.
    if isinstance(node, dict) and ("args" in node or "kwargs" in node):
        return _keras3_call(node, layer)
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
    return Call(tuple(refs), kwargs, None if plain else [unconst(first)])


def _keras_tensor(v):
    if isinstance(v, dict) and v.get("class_name") == _KERAS_TENSOR:
        kh = (v.get("config") or {}).get("keras_history")
        if isinstance(kh, list) and len(kh) >= 3:
            return TensorRef(str(kh[0]), int(kh[1]), int(kh[2]))
    return None


def _keras3_call(node: dict, layer: Layer) -> Call:
    """Keras 3 node -> the Keras 2 form above. Positional args that are one
    tensor or one list of tensors are the plain case; anything else is kept
    in Call.args. Tensors in kwargs become TensorRefs joining the
    inputs. MultiHeadAttention-style calls (query, value, key) keep the query
    as the positional input and pass value / key by keyword, as tf.keras
    wrote them."""
    refs = []

    def conv(v):
        t = _keras_tensor(v)
        if t is not None:
            refs.append(t)
            return t
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict) and v.get("class_name") is None:
            return {k: conv(x) for k, x in v.items()}
        return v

    args = list(node.get("args") or [])
    kwargs = dict(node.get("kwargs") or {})
    if (layer.class_name in ("MultiHeadAttention", "GroupedQueryAttention") and len(args) > 1
            and all(_keras_tensor(a) is not None or a is None for a in args)):
        for key, a in zip(("value", "key"), args[1:]):
            if a is not None:
                kwargs.setdefault(key, a)
        args = args[:1]
    cargs = [conv(a) for a in args]
    plain_one = len(cargs) == 1 and (isinstance(cargs[0], TensorRef) or (
        isinstance(cargs[0], list) and cargs[0] and all(isinstance(x, TensorRef) for x in cargs[0])))
    ckwargs = {k: conv(v) for k, v in kwargs.items()}
    return Call(tuple(refs), ckwargs, cargs if not plain_one and cargs else None)


def _renumber_nested_calls(model: Model) -> None:
    """tf.keras numbers a nested model's calls from 1 when the model was built
    on its own Input (node 0 is that construction and is not serialized);
    Keras 2.2 and older numbered them from 0. Refer to calls by position."""
    refs = [r for lyr in model.layers for c in lyr.calls for r in c.inputs] + model.outputs
    by_name = {lyr.name: lyr for lyr in model.layers}
    shifted = {name for name, lyr in by_name.items()
               if lyr.inner is not None and any(r.layer == name and r.call >= len(lyr.calls) for r in refs)}
    if not shifted:
        return

    def fix(r: TensorRef) -> TensorRef:
        return TensorRef(r.layer, r.call - 1, r.index) if r.layer in shifted else r

    for lyr in model.layers:
        lyr.calls = [c.map_refs(fix) for c in lyr.calls]
    model.outputs = [fix(r) for r in model.outputs]
