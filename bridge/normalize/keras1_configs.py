"""Keras 1 layer configs -> Keras 2 classes and configs, one small rule per
Keras 1 class (as Keras 2's own legacy interfaces converted them:
keras/legacy/interfaces.py): nb_filter -> filters, border_mode -> padding,
dim_ordering -> data_format, output_dim -> units, inner_activation ->
recurrent_activation, Convolution2D -> Conv2D, Merge -> Add / Concatenate /
Dot ... A class with no rule (Lambda, custom layers) keeps its config: the
support check reports it if nothing can emit it.

    @rule("Convolution2D", "AtrousConvolution2D")
    def _conv2d(x: Old) -> Keras2:
        return x.to("Conv2D", filters=x.c["nb_filter"], ...)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..errors import ConfigError, layer_where

DATA_FORMATS = {"th": "channels_first", "tf": "channels_last",
                "channels_first": "channels_first", "channels_last": "channels_last"}


@dataclass
class Keras2:
    """A Keras 1 layer in Keras 2 terms: its class and config, and the
    explicit padding a border_mode='full' convolution needs in front of it
    ([[before, after], ...] per spatial axis; normalize inserts a
    ZeroPadding layer there)."""
    class_name: str
    config: dict
    pre_pad: Optional[list] = None


class Old:
    """One Keras 1 layer being converted: its class `cls` and config `c`,
    `out` the start of its Keras 2 config (name, trainable, input shape,
    dtype), `where` for messages (the file and the layer), `default_df` the
    model's ordering."""

    def __init__(self, cls: str, c: dict, default_df: str, source: str, where: str):
        self.cls, self.c, self.default_df, self.source, self.where = cls, c, default_df, source, where
        self.out = _base(c)
        self.act = c.get("activation", "linear")

    def to(self, cls: str, **config) -> Keras2:
        """The Keras 2 layer of class `cls`, `config` added to `out`."""
        self.out.update(config)
        return Keras2(cls, self.out)

    def same(self, **config) -> Keras2:
        """The Keras 2 layer of the same class."""
        return self.to(self.cls, **config)

    def df(self) -> str:
        """data_format from dim_ordering; the model's ordering where the
        layer saved none (Keras 1 did not for UpSampling2D/3D, ZeroPadding2D/3D,
        Cropping2D/3D and SpatialDropout2D/3D)."""
        v = self.c.get("dim_ordering")
        return DATA_FORMATS.get(v, self.default_df) if v not in (None, "default") else self.default_df

    def padding(self) -> str:
        mode = self.c.get("border_mode") or "valid"
        if mode not in ("valid", "same", "full"):
            raise ConfigError(f"{self.where}: border_mode {mode!r} is not one Keras knows "
                              f"('valid', 'same', 'full'); the config is damaged")
        return mode


RULES: dict = {}


def rule(*classes: str) -> Callable:
    """Register `fn(Old) -> Keras2` as the conversion of these Keras 1 classes."""
    def deco(fn):
        for cls in classes:
            if cls in RULES:
                raise ValueError(f"a Keras 1 rule for {cls!r} exists already "
                                 f"({RULES[cls].__name__})")
            RULES[cls] = fn
        return fn
    return deco


def convert_config(cls: str, c: dict, default_df: str, source: str, layer=None) -> Keras2:
    """(Keras 1 class, config) -> the Keras 2 layer; `layer` names it in messages."""
    c = dict(c or {})
    fn = RULES.get(cls)
    if fn is None:
        return Keras2(cls, dict(c))
    where = f"{source}: " + (layer_where(layer) if layer is not None else f"a {cls} layer")
    try:
        return fn(Old(cls, c, default_df, source, where))
    except KeyError as e:
        raise ConfigError(f"{where}: the Keras 1 config has no {e}; the config is "
                          f"malformed") from None


def _base(c: dict) -> dict:
    out = {"name": c.get("name"), "trainable": c.get("trainable", True)}
    if c.get("batch_input_shape") is not None:
        out["batch_input_shape"] = list(c["batch_input_shape"])
    dt = c.get("input_dtype") or c.get("dtype")
    if dt is not None:
        out["dtype"] = dt
    return out


def _pair(v, n: int) -> list:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v]
    return [int(v)] * n


def _full_padding(k: Keras2) -> Keras2:
    """border_mode 'full' pads dilated_kernel - 1 on each side: explicit
    padding before a 'valid' convolution."""
    out = k.config
    if out.get("padding") == "full":
        ks = out["kernel_size"]
        d = out.get("dilation_rate") or [1] * len(ks)
        out["padding"] = "valid"
        k.pre_pad = [[(kk - 1) * dd, (kk - 1) * dd] for kk, dd in zip(ks, d)]
    return k


# -- convolutions -----------------------------------------------------------------

@rule("Convolution1D", "AtrousConvolution1D")
def _conv1d(x: Old) -> Keras2:
    c = x.c
    pad = x.padding()
    return _full_padding(x.to(
        "Conv1D", filters=c["nb_filter"], kernel_size=[int(c["filter_length"])],
        strides=_pair(c.get("subsample_length", 1), 1), padding=pad, data_format="channels_last",
        dilation_rate=_pair(c.get("atrous_rate", 1), 1), groups=1, activation=x.act,
        use_bias=c.get("bias", True)))


@rule("Convolution2D", "AtrousConvolution2D")
def _conv2d(x: Old) -> Keras2:
    c = x.c
    return _full_padding(x.to(
        "Conv2D", filters=c["nb_filter"], kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
        strides=_pair(c.get("subsample", (1, 1)), 2), padding=x.padding(), data_format=x.df(),
        dilation_rate=_pair(c.get("atrous_rate", (1, 1)), 2), groups=1, activation=x.act,
        use_bias=c.get("bias", True)))


@rule("Convolution3D")
def _conv3d(x: Old) -> Keras2:
    c = x.c
    return _full_padding(x.to(
        "Conv3D", filters=c["nb_filter"],
        kernel_size=[int(c["kernel_dim1"]), int(c["kernel_dim2"]), int(c["kernel_dim3"])],
        strides=_pair(c.get("subsample", (1, 1, 1)), 3), padding=x.padding(), data_format=x.df(),
        dilation_rate=[1, 1, 1], groups=1, activation=x.act, use_bias=c.get("bias", True)))


@rule("Deconvolution2D")
def _deconv2d(x: Old) -> Keras2:
    c = x.c
    k = [int(c["nb_row"]), int(c["nb_col"])]
    s = _pair(c.get("subsample", (1, 1)), 2)
    pad = x.padding()
    if pad == "full":
        raise ConfigError(f"{x.where}: Deconvolution2D with border_mode 'full' is not supported; "
                          f"rebuild the layer with 'valid' or 'same'")
    df = x.df()
    return x.to("Conv2DTranspose", filters=c["nb_filter"], kernel_size=k, strides=s, padding=pad,
                data_format=df, dilation_rate=[1, 1], groups=1, activation=x.act,
                use_bias=c.get("bias", True),
                output_padding=_deconv_output_padding(c.get("output_shape"), k, s, pad, df))


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


@rule("SeparableConvolution2D")
def _separable2d(x: Old) -> Keras2:
    c = x.c
    return _full_padding(x.to(
        "SeparableConv2D", filters=c["nb_filter"], kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
        strides=_pair(c.get("subsample", (1, 1)), 2), padding=x.padding(), data_format=x.df(),
        dilation_rate=[1, 1], depth_multiplier=int(c.get("depth_multiplier", 1)), groups=1,
        activation=x.act, use_bias=c.get("bias", True)))


@rule("LocallyConnected1D")
def _locally1d(x: Old) -> Keras2:
    c = x.c
    return x.same(filters=int(c["nb_filter"]), kernel_size=[int(c["filter_length"])],
                  strides=_pair(c.get("subsample_length", 1), 1),
                  padding=c.get("border_mode", "valid"), data_format="channels_last",
                  activation=x.act, use_bias=c.get("bias", True), implementation=1)


@rule("LocallyConnected2D")
def _locally2d(x: Old) -> Keras2:
    c = x.c
    return x.same(filters=int(c["nb_filter"]), kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
                  strides=_pair(c.get("subsample", (1, 1)), 2),
                  padding=c.get("border_mode", "valid"), data_format=x.df(),
                  activation=x.act, use_bias=c.get("bias", True), implementation=1)


# -- pooling, padding, cropping, upsampling ---------------------------------------------

@rule("MaxPooling1D", "AveragePooling1D")
def _pool1d(x: Old) -> Keras2:
    size = int(x.c.get("pool_length", 2))
    stride = x.c.get("stride")
    return x.same(pool_size=[size], strides=[int(stride) if stride is not None else size],
                  padding=x.c.get("border_mode", "valid"), data_format="channels_last")


@rule("MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D")
def _pool(x: Old) -> Keras2:
    n = 2 if x.cls.endswith("2D") else 3
    size = _pair(x.c.get("pool_size", 2), n)
    strides = _pair(x.c.get("strides"), n) or size
    return x.same(pool_size=size, strides=strides, padding=x.c.get("border_mode", "valid"),
                  data_format=x.df())


@rule("GlobalMaxPooling1D", "GlobalAveragePooling1D")
def _global_pool1d(x: Old) -> Keras2:
    return x.same(data_format="channels_last", keepdims=False)


@rule("GlobalMaxPooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling3D")
def _global_pool(x: Old) -> Keras2:
    return x.same(data_format=x.df(), keepdims=False)


@rule("UpSampling1D")
def _upsampling1d(x: Old) -> Keras2:
    return x.same(size=int(x.c.get("length", x.c.get("size", 2))))


@rule("UpSampling2D", "UpSampling3D")
def _upsampling(x: Old) -> Keras2:
    n = 2 if x.cls.endswith("2D") else 3
    k = x.same(size=_pair(x.c.get("size", 2), n), data_format=x.df())
    if n == 2:
        k.config["interpolation"] = "nearest"
    return k


@rule("ZeroPadding1D")
def _zero_padding1d(x: Old) -> Keras2:
    p = x.c.get("padding", 1)
    if isinstance(p, dict):
        pads = [int(p.get("left_pad", 0)), int(p.get("right_pad", 0))]
    elif isinstance(p, (list, tuple)):
        pads = [int(p[0]), int(p[1])]
    else:
        pads = [int(p), int(p)]
    return x.same(padding=pads)


@rule("ZeroPadding2D")
def _zero_padding2d(x: Old) -> Keras2:
    return x.same(padding=_pad2d(x.c.get("padding", (1, 1))), data_format=x.df())


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


@rule("ZeroPadding3D")
def _zero_padding3d(x: Old) -> Keras2:
    p = _pair(x.c.get("padding", (1, 1, 1)), 3)
    return x.same(padding=[[v, v] for v in p] if len(p) == 3 else [list(v) for v in p],
                  data_format=x.df())


@rule("Cropping1D")
def _cropping1d(x: Old) -> Keras2:
    return x.same(cropping=[int(v) for v in x.c.get("cropping", (1, 1))])


@rule("Cropping2D", "Cropping3D")
def _cropping(x: Old) -> Keras2:
    return x.same(cropping=[[int(a), int(b)] for a, b in x.c.get("cropping")], data_format=x.df())


# -- core -------------------------------------------------------------------------------

@rule("Dense", "TimeDistributedDense")
def _dense(x: Old) -> Keras2:
    return x.to("Dense", units=int(x.c["output_dim"]), activation=x.act,
                use_bias=x.c.get("bias", True))


@rule("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
def _dropout(x: Old) -> Keras2:
    k = x.same(rate=float(x.c.get("p", x.c.get("rate", 0.0))), noise_shape=None, seed=None)
    if x.cls in ("SpatialDropout2D", "SpatialDropout3D"):
        k.config["data_format"] = x.df()
    return k


@rule("GaussianNoise")
def _gaussian_noise(x: Old) -> Keras2:
    return x.same(stddev=float(x.c.get("sigma", x.c.get("stddev", 0.0))), seed=None)


@rule("GaussianDropout")
def _gaussian_dropout(x: Old) -> Keras2:
    return x.same(rate=float(x.c.get("p", x.c.get("rate", 0.0))), seed=None)


@rule("Activation")
def _activation(x: Old) -> Keras2:
    return x.same(activation=x.act)


@rule("Reshape")
def _reshape(x: Old) -> Keras2:
    return x.same(target_shape=list(x.c["target_shape"]))


@rule("Permute")
def _permute(x: Old) -> Keras2:
    return x.same(dims=list(x.c["dims"]))


@rule("Flatten")
def _flatten(x: Old) -> Keras2:
    # Keras 1 flattens in the tensor's own order, channels-first included.
    return x.same(data_format="channels_last")


@rule("RepeatVector")
def _repeat_vector(x: Old) -> Keras2:
    return x.same(n=int(x.c["n"]))


@rule("Masking")
def _masking(x: Old) -> Keras2:
    return x.same(mask_value=x.c.get("mask_value", 0.0))


@rule("ActivityRegularization")
def _activity_regularization(x: Old) -> Keras2:
    return x.same(l1=x.c.get("l1", 0.0), l2=x.c.get("l2", 0.0))


@rule("Embedding")
def _embedding(x: Old) -> Keras2:
    c = x.c
    return x.same(input_dim=int(c["input_dim"]), output_dim=int(c["output_dim"]),
                  input_length=c.get("input_length"), mask_zero=bool(c.get("mask_zero", False)))


@rule("InputLayer")
def _input_layer(x: Old) -> Keras2:
    k = x.same(sparse=bool(x.c.get("sparse", False)))
    k.config.setdefault("dtype", "float32")
    return k


# -- recurrent ----------------------------------------------------------------------------

@rule("SimpleRNN", "GRU", "LSTM")
def _rnn(x: Old) -> Keras2:
    c = x.c
    k = x.same(units=int(c["output_dim"]), activation=c.get("activation", "tanh"),
               return_sequences=bool(c.get("return_sequences", False)), return_state=False,
               go_backwards=bool(c.get("go_backwards", False)),
               stateful=bool(c.get("stateful", False)), unroll=bool(c.get("unroll", False)),
               time_major=False, use_bias=True, dropout=float(c.get("dropout_W", 0.0)),
               recurrent_dropout=float(c.get("dropout_U", 0.0)))
    if x.cls != "SimpleRNN":
        k.config.update(recurrent_activation=c.get("inner_activation", "hard_sigmoid"),
                        implementation=1)
    if x.cls == "GRU":
        k.config["reset_after"] = False
    if x.cls == "LSTM":
        k.config["unit_forget_bias"] = True
    return k


@rule("ConvLSTM2D")
def _conv_lstm2d(x: Old) -> Keras2:
    c = x.c
    return x.same(filters=int(c["nb_filter"]), kernel_size=[int(c["nb_row"]), int(c["nb_col"])],
                  strides=_pair(c.get("subsample", (1, 1)), 2), padding=x.padding(),
                  data_format=x.df(), dilation_rate=[1, 1], activation=c.get("activation", "tanh"),
                  recurrent_activation=c.get("inner_activation", "hard_sigmoid"),
                  return_sequences=bool(c.get("return_sequences", False)), return_state=False,
                  go_backwards=bool(c.get("go_backwards", False)),
                  stateful=bool(c.get("stateful", False)), use_bias=True, unit_forget_bias=True,
                  dropout=0.0, recurrent_dropout=0.0, unroll=False, time_major=False)


@rule("TimeDistributed", "Bidirectional")
def _wrapper(x: Old) -> Keras2:
    inner = x.c.get("layer") or {}
    k2 = convert_config(inner.get("class_name"), inner.get("config") or {}, x.default_df, x.source)
    k = x.same(layer={"class_name": k2.class_name, "config": k2.config})
    if x.cls == "Bidirectional":
        k.config["merge_mode"] = x.c.get("merge_mode", "concat")
    return k


# -- normalization, activations, Keras 1 only layers ----------------------------------------

@rule("BatchNormalization")
def _batch_norm(x: Old) -> Keras2:
    c = x.c
    mode = int(c.get("mode", 0))
    k = x.same(axis=int(c.get("axis", -1)), epsilon=float(c.get("epsilon", 1e-3)),
               momentum=float(c.get("momentum", 0.99)), center=True, scale=True)
    if mode == 0:
        return k
    if mode not in (1, 2):
        raise ConfigError(f"{x.where}: BatchNormalization mode {mode} does not exist in Keras 1 "
                          f"(modes are 0, 1 and 2); the config is damaged")
    k.config["mode"] = mode
    k.class_name = "Keras1BatchNormalization"
    return k


@rule("LeakyReLU", "ELU")
def _alpha_activation(x: Old) -> Keras2:
    return x.same(alpha=float(x.c.get("alpha", 0.3 if x.cls == "LeakyReLU" else 1.0)))


@rule("ThresholdedReLU")
def _thresholded_relu(x: Old) -> Keras2:
    return x.same(theta=float(x.c.get("theta", 1.0)))


@rule("PReLU")
def _prelu(x: Old) -> Keras2:
    return x.same(shared_axes=None)


@rule("ParametricSoftplus", "SReLU")
def _keras1_activation(x: Old) -> Keras2:
    return x.same()


@rule("Highway")
def _highway(x: Old) -> Keras2:
    return x.same(activation=x.act, use_bias=x.c.get("bias", True))


@rule("MaxoutDense")
def _maxout_dense(x: Old) -> Keras2:
    return x.same(units=int(x.c["output_dim"]), nb_feature=int(x.c.get("nb_feature", 4)),
                  use_bias=x.c.get("bias", True))


_MERGE = {"sum": "Add", "mul": "Multiply", "ave": "Average", "max": "Maximum"}


@rule("Merge")
def _merge(x: Old) -> Keras2:
    c = x.c
    mode = c.get("mode", "sum")
    if c.get("mode_type", "raw") != "raw" or not isinstance(mode, str):
        # a Python function: the support check reports it
        return x.same(mode=mode, mode_type=c.get("mode_type"))
    if mode in _MERGE:
        return x.to(_MERGE[mode])
    if mode == "concat":
        return x.to("Concatenate", axis=int(c.get("concat_axis", -1)))
    if mode == "dot":
        axes = c.get("dot_axes", -1)
        return x.to("Dot", axes=axes if isinstance(axes, int) else [int(a) for a in axes],
                    normalize=False)
    if mode == "cos":
        return x.same(mode="cos", mode_type="raw", dot_axes=c.get("dot_axes", -1))
    raise ConfigError(f"{x.where}: Merge mode {mode!r} is not one Keras 1 knows (sum, mul, ave, max, "
                      f"concat, dot, cos); the config is damaged")
