"""Keras 1 (1.0 to 1.2.2) -> the Keras 2 / tf.keras schema.

Class names (Convolution2D -> Conv2D, Merge -> Add / Concatenate / Dot ...),
config keys (nb_filter -> filters, border_mode -> padding, dim_ordering ->
data_format, output_dim -> units, inner_activation -> recurrent_activation,
...) and weights (layer_W -> kernel, per-gate LSTM/GRU arrays -> kernel /
recurrent_kernel / bias in Keras 2 gate order, 'th' kernel layouts ->
(spatial..., in, out)), as Keras 2's own legacy loader converted them
(keras/legacy/interfaces.py and preprocess_weights_for_loading).

Layers with no Keras 2 class keep a name of their own and have emitters in
bridge/emitters/legacy.py: Highway, MaxoutDense, ParametricSoftplus, SReLU,
Keras1BatchNormalization (modes 1 and 2) and Merge (its 'cos' mode).

Keras 1 did not save dim_ordering for UpSampling2D/3D, ZeroPadding2D/3D,
Cropping2D/3D and SpatialDropout2D/3D: they get the ordering the rest of the
model records (a model whose convolutions say 'th' computed them
channels-first), channels_last when nothing says.
"""
from __future__ import annotations

from ..errors import ConfigError, layer_where
from ..ir import Call, Model, TensorRef
from .keras1_weights import convert_weights

_DF = {"th": "channels_first", "tf": "channels_last",
       "channels_first": "channels_first", "channels_last": "channels_last"}


_SPATIAL_NO_ORDERING = ("UpSampling2D", "UpSampling3D", "ZeroPadding2D", "ZeroPadding3D",
                        "Cropping2D", "Cropping3D", "SpatialDropout2D", "SpatialDropout3D")


class Keras1Context:
    def __init__(self, model: Model):
        self.source = model.source
        votes = [_DF.get(o) for o in _orderings(model) if _DF.get(o)]
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
    for l in model.walk():
        yield from from_conf(l.config)


def looks_like_keras1(model: Model) -> bool:
    """A config with Keras 1 names (for files that do not record a version)."""
    k1_classes = {"Convolution1D", "Convolution2D", "Convolution3D", "AtrousConvolution1D",
                  "AtrousConvolution2D", "Deconvolution2D", "SeparableConvolution2D", "Merge",
                  "TimeDistributedDense", "Highway", "MaxoutDense"}
    k1_keys = {"output_dim", "nb_filter", "border_mode", "dim_ordering", "input_dtype",
               "inner_activation", "W_regularizer"}
    for l in model.walk():
        if l.class_name in k1_classes:
            return True
        if k1_keys & set(l.config):
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
            taken = {l.name for l in model.layers}
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
        layer.calls = [Call(tuple(fix(r) for r in c.inputs), c.kwargs) for c in layer.calls]
    model.inputs = [fix(r) for r in model.inputs]
    model.outputs = [fix(r) for r in model.outputs]


def _normalize(model: Model, ctx: Keras1Context) -> None:
    for layer in model.layers:
        if layer.inner is not None:
            _normalize(layer.inner, ctx)
            continue
        old_cls, old_conf = layer.class_name, layer.config
        cls, conf = convert_config(old_cls, old_conf, ctx, layer)
        weights = layer.weights
        if weights:
            layer.weights = convert_weights(old_cls, old_conf, cls, conf, weights, layer.name, ctx,
                                            layer)
        layer.class_name, layer.config = cls, conf


# -- configs --------------------------------------------------------------------

def _base(c: dict) -> dict:
    out = {"name": c.get("name"), "trainable": c.get("trainable", True)}
    if c.get("batch_input_shape") is not None:
        out["batch_input_shape"] = list(c["batch_input_shape"])
    dt = c.get("input_dtype") or c.get("dtype")
    if dt is not None:
        out["dtype"] = dt
    return out


def _df(c: dict, ctx: Keras1Context) -> str:
    v = c.get("dim_ordering")
    return _DF.get(v, ctx.default_df) if v not in (None, "default") else ctx.default_df


def _pair(v, n: int) -> list:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v]
    return [int(v)] * n


def _padding(mode, where: str) -> str:
    mode = mode or "valid"
    if mode not in ("valid", "same", "full"):
        raise ConfigError(f"{where}: border_mode {mode!r} is not one Keras knows "
                          f"('valid', 'same', 'full'); the config is damaged")
    return mode


def convert_config(cls: str, c: dict, ctx: Keras1Context, layer=None) -> tuple:
    """(Keras 1 class, config) -> (Keras 2 class, config)."""
    c = dict(c or {})
    where = f"{ctx.source}: " + (layer_where(layer) if layer is not None else f"a {cls} layer")
    out = _base(c)
    act = c.get("activation", "linear")

    if cls in ("Convolution1D", "AtrousConvolution1D"):
        pad = _padding(c.get("border_mode"), where)
        out.update(filters=c["nb_filter"], kernel_size=[int(c["filter_length"])],
                   strides=_pair(c.get("subsample_length", 1), 1), padding=pad,
                   data_format="channels_last", dilation_rate=_pair(c.get("atrous_rate", 1), 1),
                   groups=1, activation=act, use_bias=c.get("bias", True))
        return _full_padding("Conv1D", out)
    if cls in ("Convolution2D", "AtrousConvolution2D"):
        out.update(filters=c["nb_filter"], kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
                   strides=_pair(c.get("subsample", (1, 1)), 2),
                   padding=_padding(c.get("border_mode"), where), data_format=_df(c, ctx),
                   dilation_rate=_pair(c.get("atrous_rate", (1, 1)), 2), groups=1,
                   activation=act, use_bias=c.get("bias", True))
        return _full_padding("Conv2D", out)
    if cls == "Convolution3D":
        out.update(filters=c["nb_filter"],
                   kernel_size=[int(c["kernel_dim1"]), int(c["kernel_dim2"]), int(c["kernel_dim3"])],
                   strides=_pair(c.get("subsample", (1, 1, 1)), 3),
                   padding=_padding(c.get("border_mode"), where), data_format=_df(c, ctx),
                   dilation_rate=[1, 1, 1], groups=1, activation=act, use_bias=c.get("bias", True))
        return _full_padding("Conv3D", out)
    if cls == "Deconvolution2D":
        k = [int(c["nb_row"]), int(c["nb_col"])]
        s = _pair(c.get("subsample", (1, 1)), 2)
        pad = _padding(c.get("border_mode"), where)
        if pad == "full":
            raise ConfigError(f"{where}: Deconvolution2D with border_mode 'full' is not supported; "
                              f"rebuild the layer with 'valid' or 'same'")
        df = _df(c, ctx)
        out.update(filters=c["nb_filter"], kernel_size=k, strides=s, padding=pad, data_format=df,
                   dilation_rate=[1, 1], groups=1, activation=act, use_bias=c.get("bias", True),
                   output_padding=_deconv_output_padding(c.get("output_shape"), k, s, pad, df))
        return "Conv2DTranspose", out
    if cls == "SeparableConvolution2D":
        out.update(filters=c["nb_filter"], kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
                   strides=_pair(c.get("subsample", (1, 1)), 2),
                   padding=_padding(c.get("border_mode"), where), data_format=_df(c, ctx),
                   dilation_rate=[1, 1], depth_multiplier=int(c.get("depth_multiplier", 1)),
                   groups=1, activation=act, use_bias=c.get("bias", True))
        return _full_padding("SeparableConv2D", out)

    if cls in ("MaxPooling1D", "AveragePooling1D"):
        size = int(c.get("pool_length", 2))
        stride = c.get("stride")
        out.update(pool_size=[size], strides=[int(stride) if stride is not None else size],
                   padding=c.get("border_mode", "valid"), data_format="channels_last")
        return cls, out
    if cls in ("MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D"):
        n = 2 if cls.endswith("2D") else 3
        size = _pair(c.get("pool_size", 2), n)
        strides = _pair(c.get("strides"), n) or size
        out.update(pool_size=size, strides=strides, padding=c.get("border_mode", "valid"),
                   data_format=_df(c, ctx))
        return cls, out
    if cls in ("GlobalMaxPooling1D", "GlobalAveragePooling1D"):
        out.update(data_format="channels_last", keepdims=False)
        return cls, out
    if cls in ("GlobalMaxPooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling3D",
               "GlobalAveragePooling3D"):
        out.update(data_format=_df(c, ctx), keepdims=False)
        return cls, out

    if cls == "UpSampling1D":
        out.update(size=int(c.get("length", c.get("size", 2))))
        return cls, out
    if cls in ("UpSampling2D", "UpSampling3D"):
        n = 2 if cls.endswith("2D") else 3
        out.update(size=_pair(c.get("size", 2), n), data_format=_df(c, ctx))
        if n == 2:
            out["interpolation"] = "nearest"
        return cls, out
    if cls == "ZeroPadding1D":
        out.update(padding=_pad1d(c.get("padding", 1)))
        return cls, out
    if cls == "ZeroPadding2D":
        out.update(padding=_pad2d(c.get("padding", (1, 1))), data_format=_df(c, ctx))
        return cls, out
    if cls == "ZeroPadding3D":
        p = _pair(c.get("padding", (1, 1, 1)), 3)
        out.update(padding=[[x, x] for x in p] if len(p) == 3 else [list(x) for x in p],
                   data_format=_df(c, ctx))
        return cls, out
    if cls == "Cropping1D":
        out.update(cropping=[int(x) for x in c.get("cropping", (1, 1))])
        return cls, out
    if cls in ("Cropping2D", "Cropping3D"):
        out.update(cropping=[[int(a), int(b)] for a, b in c.get("cropping")], data_format=_df(c, ctx))
        return cls, out

    if cls in ("Dense", "TimeDistributedDense"):
        out.update(units=int(c["output_dim"]), activation=act, use_bias=c.get("bias", True))
        return "Dense", out
    if cls in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"):
        out.update(rate=float(c.get("p", c.get("rate", 0.0))), noise_shape=None, seed=None)
        if cls in ("SpatialDropout2D", "SpatialDropout3D"):
            out["data_format"] = _df(c, ctx)
        return cls, out
    if cls == "GaussianNoise":
        out.update(stddev=float(c.get("sigma", c.get("stddev", 0.0))), seed=None)
        return cls, out
    if cls == "GaussianDropout":
        out.update(rate=float(c.get("p", c.get("rate", 0.0))), seed=None)
        return cls, out
    if cls == "Activation":
        out.update(activation=act)
        return cls, out
    if cls == "Reshape":
        out.update(target_shape=list(c["target_shape"]))
        return cls, out
    if cls == "Permute":
        out.update(dims=list(c["dims"]))
        return cls, out
    if cls == "Flatten":
        # Keras 1 flattens in the tensor's own order, channels-first included.
        out.update(data_format="channels_last")
        return cls, out
    if cls == "RepeatVector":
        out.update(n=int(c["n"]))
        return cls, out
    if cls == "Masking":
        out.update(mask_value=c.get("mask_value", 0.0))
        return cls, out
    if cls == "ActivityRegularization":
        out.update(l1=c.get("l1", 0.0), l2=c.get("l2", 0.0))
        return cls, out
    if cls == "Embedding":
        out.update(input_dim=int(c["input_dim"]), output_dim=int(c["output_dim"]),
                   input_length=c.get("input_length"), mask_zero=bool(c.get("mask_zero", False)))
        return cls, out

    if cls in ("SimpleRNN", "GRU", "LSTM"):
        out.update(units=int(c["output_dim"]), activation=c.get("activation", "tanh"),
                   return_sequences=bool(c.get("return_sequences", False)), return_state=False,
                   go_backwards=bool(c.get("go_backwards", False)),
                   stateful=bool(c.get("stateful", False)), unroll=bool(c.get("unroll", False)),
                   time_major=False, use_bias=True, dropout=float(c.get("dropout_W", 0.0)),
                   recurrent_dropout=float(c.get("dropout_U", 0.0)))
        if cls != "SimpleRNN":
            out.update(recurrent_activation=c.get("inner_activation", "hard_sigmoid"),
                       implementation=1)
        if cls == "GRU":
            out["reset_after"] = False
        if cls == "LSTM":
            out["unit_forget_bias"] = True
        return cls, out
    if cls == "ConvLSTM2D":
        out.update(filters=int(c["nb_filter"]), kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
                   strides=_pair(c.get("subsample", (1, 1)), 2),
                   padding=_padding(c.get("border_mode"), where), data_format=_df(c, ctx),
                   dilation_rate=[1, 1], activation=c.get("activation", "tanh"),
                   recurrent_activation=c.get("inner_activation", "hard_sigmoid"),
                   return_sequences=bool(c.get("return_sequences", False)), return_state=False,
                   go_backwards=bool(c.get("go_backwards", False)),
                   stateful=bool(c.get("stateful", False)), use_bias=True, unit_forget_bias=True,
                   dropout=0.0, recurrent_dropout=0.0, unroll=False, time_major=False)
        return cls, out
    if cls == "BatchNormalization":
        mode = int(c.get("mode", 0))
        out.update(axis=int(c.get("axis", -1)), epsilon=float(c.get("epsilon", 1e-3)),
                   momentum=float(c.get("momentum", 0.99)), center=True, scale=True)
        if mode == 0:
            return cls, out
        if mode not in (1, 2):
            raise ConfigError(f"{where}: BatchNormalization mode {mode} does not exist in Keras 1 "
                              f"(modes are 0, 1 and 2); the config is damaged")
        out["mode"] = mode
        return "Keras1BatchNormalization", out

    if cls in ("LeakyReLU", "ELU"):
        out.update(alpha=float(c.get("alpha", 0.3 if cls == "LeakyReLU" else 1.0)))
        return cls, out
    if cls == "ThresholdedReLU":
        out.update(theta=float(c.get("theta", 1.0)))
        return cls, out
    if cls == "PReLU":
        out.update(shared_axes=None)
        return cls, out
    if cls in ("ParametricSoftplus", "SReLU"):
        return cls, out

    if cls == "LocallyConnected1D":
        out.update(filters=int(c["nb_filter"]), kernel_size=[int(c["filter_length"])],
                   strides=_pair(c.get("subsample_length", 1), 1),
                   padding=c.get("border_mode", "valid"), data_format="channels_last",
                   activation=act, use_bias=c.get("bias", True), implementation=1)
        return cls, out
    if cls == "LocallyConnected2D":
        out.update(filters=int(c["nb_filter"]), kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
                   strides=_pair(c.get("subsample", (1, 1)), 2),
                   padding=c.get("border_mode", "valid"), data_format=_df(c, ctx),
                   activation=act, use_bias=c.get("bias", True), implementation=1)
        return cls, out
    if cls == "Highway":
        out.update(activation=act, use_bias=c.get("bias", True))
        return cls, out
    if cls == "MaxoutDense":
        out.update(units=int(c["output_dim"]), nb_feature=int(c.get("nb_feature", 4)),
                   use_bias=c.get("bias", True))
        return cls, out

    if cls == "Merge":
        return _merge(c, out, where)
    if cls in ("TimeDistributed", "Bidirectional"):
        inner = c.get("layer") or {}
        icls, iconf = convert_config(inner.get("class_name"), inner.get("config") or {}, ctx)
        out["layer"] = {"class_name": icls, "config": iconf}
        if cls == "Bidirectional":
            out["merge_mode"] = c.get("merge_mode", "concat")
        return cls, out
    if cls == "InputLayer":
        out.update(sparse=bool(c.get("sparse", False)))
        out.setdefault("dtype", "float32")
        return cls, out
    # Anything else (Lambda, custom layers) keeps its config: the support
    # check reports it if nothing can emit it.
    return cls, dict(c)


def _full_padding(cls: str, out: dict) -> tuple:
    """border_mode 'full' pads dilated_kernel - 1 on each side: explicit
    padding before a 'valid' convolution (bridge.normalize inserts it)."""
    if out.get("padding") == "full":
        k = out["kernel_size"]
        d = out.get("dilation_rate") or [1] * len(k)
        out["padding"] = "valid"
        out["_bridge_pre_pad"] = [[(kk - 1) * dd, (kk - 1) * dd] for kk, dd in zip(k, d)]
    return cls, out


def _deconv_output_padding(shape, k, s, pad, df):
    """Keras 1 Deconvolution2D took the output shape; Keras 2 derives it from
    output_padding. Pick the output_padding that gives the same size."""
    if not isinstance(shape, (list, tuple)) or len(shape) != 4:
        return None
    sizes = shape[2:] if df == "channels_first" else shape[1:3]
    if any(v is None for v in sizes):
        return None
    ops, default = [], True
    for L, kk, ss in zip(sizes, k, s):
        L = int(L)
        if pad == "same":
            n = -(-L // ss)
            ops.append(L - ((n - 1) * ss + kk - 2 * (kk // 2)))
            default = default and L == n * ss
        else:
            n = (L - kk) // ss + 1
            ops.append(L - ((n - 1) * ss + kk))
            default = default and L == n * ss + max(kk - ss, 0)
    return None if default else ops   # None: the size Keras 2 computes by itself


def _pad1d(p) -> list:
    if isinstance(p, dict):
        return [int(p.get("left_pad", 0)), int(p.get("right_pad", 0))]
    if isinstance(p, (list, tuple)):
        return [int(p[0]), int(p[1])]
    return [int(p), int(p)]


def _pad2d(p) -> list:
    if isinstance(p, dict):
        return [[int(p.get("top_pad", 0)), int(p.get("bottom_pad", 0))],
                [int(p.get("left_pad", 0)), int(p.get("right_pad", 0))]]
    p = list(p)
    if len(p) == 2 and all(isinstance(x, (list, tuple)) for x in p):
        return [[int(a), int(b)] for a, b in p]
    if len(p) == 2:
        return [[int(p[0]), int(p[0])], [int(p[1]), int(p[1])]]
    if len(p) == 4:
        return [[int(p[0]), int(p[1])], [int(p[2]), int(p[3])]]
    raise ConfigError(f"ZeroPadding2D padding {p!r} is not 2 or 4 integers; the config is damaged")


_MERGE = {"sum": "Add", "mul": "Multiply", "ave": "Average", "max": "Maximum"}


def _merge(c: dict, out: dict, where: str) -> tuple:
    mode = c.get("mode", "sum")
    if c.get("mode_type", "raw") != "raw" or not isinstance(mode, str):
        out.update(mode=mode, mode_type=c.get("mode_type"))
        return "Merge", out          # a Python function: the support check reports it
    if mode in _MERGE:
        return _MERGE[mode], out
    if mode == "concat":
        out["axis"] = int(c.get("concat_axis", -1))
        return "Concatenate", out
    if mode == "dot":
        axes = c.get("dot_axes", -1)
        out.update(axes=axes if isinstance(axes, int) else [int(a) for a in axes], normalize=False)
        return "Dot", out
    if mode == "cos":
        out.update(mode="cos", mode_type="raw", dot_axes=c.get("dot_axes", -1))
        return "Merge", out
    raise ConfigError(f"{where}: Merge mode {mode!r} is not one Keras 1 knows (sum, mul, ave, max, "
                      f"concat, dot, cos); the config is damaged")
