"""Preprocessing layers at inference, and the layers that are identities there.

- Identity, and the random augmentation layers (RandomFlip, RandomRotation,
  RandomZoom, RandomTranslation, RandomContrast, RandomBrightness,
  RandomHeight, RandomWidth, Keras 3's colour / geometry augmentations):
  identities at inference (cast to float32 as Keras casts them). A call with
  training=True (random at predict time too) is refused.
- RandomCrop: tf-keras resizes at inference (smart_resize: a centred crop to
  the target aspect ratio, then bilinear); Keras 3 passes the images through.
- Rescaling(scale, offset): x * scale + offset, scale/offset scalars or
  per-channel lists, in the tensor's own layout.
- Normalization(axis, mean, variance, invert): (x - mean) / max(sqrt(var),
  1e-7) (invert: mean + x * max(sqrt(var), 1e-7)), mean/variance from the
  config or the stored weights (an adapted layer).
- Resizing(height, width, interpolation, crop_to_aspect_ratio; Keras 3:
  antialias, data_format): tf.image.resize. bilinear is ONNX Resize (linear,
  half-pixel); nearest a Gather of TensorFlow's source indices; area,
  bicubic, lanczos3/5, gaussian, mitchellcubic and every antialiased kernel
  are TensorFlow's own resampling weights as two MatMuls (static height and
  width needed).
- CenterCrop(height, width): a crop, or (smaller input) smart_resize.
- CategoryEncoding(num_tokens, output_mode one_hot/multi_hot/count),
  Discretization(bin_boundaries, output_mode) and IntegerLookup (a
  vocabulary list in the config; masks, OOV indices, invert, encoded
  outputs) are exact; StringLookup, TextVectorization, Hashing and
  HashedCrossing (strings, FarmHash) are refused with a message saying why.

Images are (batch, height, width, channels) unless a Keras 3 layer says
data_format='channels_first'.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from onnx import TensorProto

from ..context import Tensor
from ..dtypes import numpy_dtype, onnx_dtype
from ..errors import ConfigError, UnsupportedError, layer_where, malformed
from ..registry import register
from ..safety import check_elements
from .common.calls import forced_training, refuse_training
from .common.resample import aspect_crop, crop_image, resize_image, smart_resize, to_nchw

_FLOAT = TensorProto.FLOAT


def _float(ctx, t: Tensor) -> Tensor:
    """t cast to float32 (Keras's convert_inputs to the compute dtype)."""
    if t.dtype == _FLOAT:
        return t
    return replace(t, name=ctx.g.op("Cast", t.name, to=_FLOAT), dtype=_FLOAT)


def _no_training(ctx) -> None:
    if forced_training(ctx):
        refuse_training(ctx, "applies the random transformation")


# -- identities ------------------------------------------------------------------
_RANDOM = ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
           "RandomBrightness", "RandomHeight", "RandomWidth",
           # Keras 3 augmentations whose inference path returns the images
           "RandomGrayscale", "RandomHue", "RandomSaturation", "RandomSharpness", "RandomShear",
           "RandomColorJitter", "RandomColorDegeneration", "RandomPosterization", "RandomInvert",
           "RandomErasing", "RandomGaussianBlur", "RandomPerspective", "RandomElasticTransform",
           "Solarization", "Equalization", "MixUp", "CutMix", "AugMix", "RandAugment")


@register("Identity", layout="any", weights=())
def identity(layer, inputs, ctx):
    """Identity: no config key matters."""
    return list(inputs)


@register(*_RANDOM, layout="any", weights=())
def random_augmentation(layer, inputs, ctx):
    """The identity at inference (the input cast to float32); no config key matters."""
    _no_training(ctx)
    return [_float(ctx, inputs[0])]


# -- Rescaling -----------------------------------------------------------------------
def _broadcast_const(ctx, t: Tensor, value, tag: str) -> str:
    """A Keras-broadcast constant (scalar or trailing-aligned array) in t's layout."""
    a = np.asarray(value, dtype=np.float64).astype(np.float32)
    if a.ndim == 0:
        return ctx.g.f32(float(a))
    if a.ndim > t.rank:
        raise ConfigError(f"{ctx.where()}: {tag} has shape {a.shape}, which does not broadcast "
                          f"against the input shape {t.shape}")
    a = a.reshape((1,) * (t.rank - a.ndim) + a.shape)
    if t.perm:
        a = np.transpose(a, t.perm)
    while a.ndim > 1 and a.shape[0] == 1:
        a = a[0]
    return ctx.const(np.ascontiguousarray(a), tag)


@register("Rescaling", layout="any", weights=())
def rescaling(layer, inputs, ctx):
    """Rescaling(scale, offset): x * scale + offset."""
    t = _float(ctx, inputs[0])
    g = ctx.g
    c = layer.config
    y = g.op("Mul", t.name, _broadcast_const(ctx, t, c.get("scale", 1.0), "scale"))
    offset = c.get("offset", 0.0)
    if np.any(np.asarray(offset, np.float64) != 0):
        y = g.op("Add", y, _broadcast_const(ctx, t, offset, "offset"))
    return [t.like(y)]


# -- Normalization ---------------------------------------------------------------------
def _check_normalization(layer, opset) -> list:
    c = layer.config
    if (c.get("mean") is None) != (c.get("variance") is None):
        return [malformed("has only one of mean / variance in its config; the config is malformed")]
    return []


@register("Normalization", check=_check_normalization, layout="any",
          weights=("mean", "variance", "count"))
def normalization(layer, inputs, ctx):
    """Normalization(axis, mean, variance, invert), or the stored mean /
    variance of an adapted layer; epsilon is Keras's backend.epsilon() 1e-7."""
    t = _float(ctx, inputs[0])
    g = ctx.g
    c = layer.config
    axis = c.get("axis", -1)
    axes = () if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    keep = sorted(a % t.rank for a in axes)
    if any(t.shape[a] is None for a in keep):
        raise ConfigError(f"{layer_where(layer)}: a kept axis of {axes!r} has an unknown size in "
                          f"the input shape {t.shape}; the config is malformed")
    kept_shape = tuple(t.shape[a] for a in keep)
    full = tuple(t.shape[i] if i in keep else 1 for i in range(t.rank))
    if c.get("mean") is not None:
        check_elements(kept_shape, "the normalization statistics")
        mean = np.asarray(c["mean"], np.float64) * np.ones(kept_shape)
        var = np.asarray(c["variance"], np.float64) * np.ones(kept_shape)
    else:
        mean = np.asarray(ctx.weight(layer, "mean"), np.float64)
        var = np.asarray(ctx.weight(layer, "variance"), np.float64)
        if mean.size != int(np.prod(kept_shape)) or var.size != mean.size:
            raise ConfigError(f"{layer_where(layer)}: stored mean {mean.shape} / variance "
                              f"{var.shape} do not fit the kept axes {kept_shape}")
    mean = mean.reshape(full).astype(np.float32)
    var = var.reshape(full).astype(np.float32)
    # float32 sqrt and max, as Keras computes them
    denom = np.maximum(np.sqrt(var), np.float32(1e-7)).astype(np.float32)
    m = _broadcast_const(ctx, t, mean, "mean")
    d = _broadcast_const(ctx, t, denom, "stddev")
    if c.get("invert"):
        y = g.op("Add", m, g.op("Mul", t.name, d))
    else:
        y = g.op("Div", g.op("Sub", t.name, m), d)
    return [t.like(y)]


# -- resampling --------------------------------------------------------------------------
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                   "mitchellcubic")


def _check_resizing(layer, opset) -> list:
    c = layer.config
    problems = []
    interp = str(c.get("interpolation", "bilinear")).lower()
    if interp not in _INTERPOLATIONS:
        problems.append(f"interpolation {interp!r} is not one tf.image.resize offers "
                        f"({', '.join(_INTERPOLATIONS)})")
    if c.get("pad_to_aspect_ratio"):
        problems.append("pad_to_aspect_ratio=True is not supported yet; resize without it")
    for key in ("height", "width"):
        if not isinstance(c.get(key), int) or c.get(key) < 1:
            problems.append(malformed(f"{key}={c.get(key)!r} is not a positive integer; the config "
                                      f"is malformed"))
    return problems


@register("Resizing", check=_check_resizing, layout="any", weights=())
def resizing(layer, inputs, ctx):
    """Resizing(height, width, interpolation, crop_to_aspect_ratio; Keras 3:
    antialias, data_format)."""
    c = layer.config
    t = _float(ctx, inputs[0])
    h, w = int(c["height"]), int(c["width"])
    interp = str(c.get("interpolation", "bilinear")).lower()
    x = to_nchw(ctx, t, layer)
    if c.get("crop_to_aspect_ratio"):
        x = aspect_crop(ctx, x, h, w, layer, "crop_to_aspect_ratio")
    # tf.image.resize ignores antialias for nearest and area
    antialias = bool(c.get("antialias", False)) and interp not in ("nearest", "area")
    return [resize_image(ctx, x, h, w, interp, layer, antialias=antialias)]


def _check_crop(layer, opset) -> list:
    problems = []
    for key in ("height", "width"):
        if not isinstance(layer.config.get(key), int):
            problems.append(malformed(f"{key}={layer.config.get(key)!r} is not an integer; the "
                                      f"config is malformed"))
    return problems


@register("CenterCrop", check=_check_crop, layout="any", weights=())
def center_crop(layer, inputs, ctx):
    """CenterCrop(height, width): the centred crop, or smart_resize when the
    image is smaller than the target."""
    c = layer.config
    t = _float(ctx, inputs[0])
    h, w = int(c["height"]), int(c["width"])
    x = to_nchw(ctx, t, layer)
    H, W = x.onnx_shape[-2:]
    if H is None or W is None:
        raise UnsupportedError([f"{layer_where(layer)}: CenterCrop needs a static image size to "
                                f"choose between cropping and resizing (the input has {(H, W)}); "
                                f"give the model's Input a fixed image size"])
    if H >= h and W >= w:
        return [crop_image(ctx, x, int((H - h) / 2), int((W - w) / 2), h, w, layer)]
    if ctx.model.keras_major >= 3:
        # Keras 3: resize with crop_to_aspect_ratio=True (bilinear)
        return [smart_resize(ctx, x, h, w, "bilinear", layer)]
    return [smart_resize(ctx, x, h, w, "bilinear", layer)]


@register("RandomCrop", check=_check_crop, layout="any", weights=())
def random_crop(layer, inputs, ctx):
    """RandomCrop(height, width) at inference: tf-keras smart_resize (bilinear),
    Keras 3 the images unchanged."""
    _no_training(ctx)
    t = _float(ctx, inputs[0])
    if ctx.model.keras_major >= 3:
        return [t]
    c = layer.config
    return [smart_resize(ctx, to_nchw(ctx, t, layer), int(c["height"]), int(c["width"]),
                          "bilinear", layer)]


# -- categorical ------------------------------------------------------------------------
def _check_category_encoding(layer, opset) -> list:
    c = layer.config
    problems = []
    mode = c.get("output_mode", "multi_hot")
    if mode not in ("one_hot", "multi_hot", "count", "binary"):
        problems.append(f"output_mode={mode!r} is not one_hot, multi_hot or count")
    if c.get("sparse"):
        problems.append("sparse=True outputs a SparseTensor, which ONNX has no equivalent of; "
                        "use sparse=False")
    return problems


def _encode(ctx, layer, idx: Tensor, depth: int, mode: str, weights=None, out_dtype="float32"):
    """Keras's encode_categorical_inputs(idx, mode, depth) for dense inputs."""
    g = ctx.g
    t = ctx.keras(idx)
    x = t.name
    shape = list(t.shape)
    if mode == "one_hot" and shape[-1] != 1:
        x = g.unsqueeze(x, [t.rank])
        shape.append(1)
    if len(shape) == 1:
        raise UnsupportedError([f"{layer_where(layer)}: output_mode={mode!r} on a batch of scalars "
                                f"counts over the whole batch in Keras; give the input a feature "
                                f"axis (shape (batch, n))"])
    if len(shape) > 2:
        raise ConfigError(f"{layer_where(layer)}: output_mode={mode!r} supports inputs of rank 2 "
                          f"at most (Keras refuses {tuple(t.shape)} too)")
    check_elements(depth, f"{depth} tokens")
    tok = ctx.const(np.arange(depth, dtype=numpy_dtype(t.dtype)), f"tokens_{depth}")
    hits = g.op("Cast", g.op("Equal", g.unsqueeze(x, [2]), tok), to=_FLOAT)   # (B, n, depth)
    if weights is not None:
        hits = g.op("Mul", hits, g.unsqueeze(ctx.keras(weights).name, [2]))
    if mode in ("multi_hot", "one_hot", "binary"):
        y = g.reduce("ReduceMax", hits, [1], keepdims=False)
    else:
        y = g.reduce("ReduceSum", hits, [1], keepdims=False)
    dt = onnx_dtype(out_dtype, _FLOAT)
    if dt != _FLOAT:
        y = g.op("Cast", y, to=dt)
    return Tensor(name=y, shape=(shape[0], depth), dtype=dt)


def _dtype_name(layer, default):
    dt = layer.config.get("dtype") or default
    if isinstance(dt, dict):
        dt = (dt.get("config") or {}).get("name", default)
    return {"mixed_float16": "float32", "mixed_bfloat16": "float32"}.get(dt, dt)


@register("CategoryEncoding", check=_check_category_encoding, layout="keras")
def category_encoding(layer, inputs, ctx):
    """CategoryEncoding(num_tokens, output_mode, sparse=False) and the call's
    count_weights."""
    c = layer.config
    _, kw = _call_kwargs(ctx, inputs)
    mode = c.get("output_mode", "multi_hot")
    depth = int(c["num_tokens"] if c.get("num_tokens") is not None else c.get("max_tokens"))
    x = inputs[0]
    return [_encode(ctx, layer, x, depth, mode, kw.get("count_weights"),
                    _dtype_name(layer, "float32"))]


def _call_kwargs(ctx, inputs):
    from .common.calls import bound_call
    return bound_call(ctx.call, inputs)


def _check_discretization(layer, opset) -> list:
    c = layer.config
    problems = []
    if c.get("bin_boundaries") is None:
        problems.append("has no bin_boundaries in its config (it was adapted: its boundaries are "
                        "only in its summary state); rebuild it with "
                        "Discretization(bin_boundaries=layer.bin_boundaries) and save again")
    mode = c.get("output_mode", "int")
    if mode not in ("int", "one_hot", "multi_hot", "count"):
        problems.append(f"output_mode={mode!r} is not int, one_hot, multi_hot or count")
    if c.get("sparse"):
        problems.append("sparse=True outputs a SparseTensor, which ONNX has no equivalent of")
    return problems


@register("Discretization", check=_check_discretization, layout="keras")
def discretization(layer, inputs, ctx):
    """Discretization(bin_boundaries, output_mode): tf.raw_ops.Bucketize (the
    number of boundaries <= x), then the categorical encoding."""
    g = ctx.g
    c = layer.config
    t = inputs[0]
    b = np.asarray(c["bin_boundaries"], np.float32).reshape(-1)
    x = t.name if t.dtype == _FLOAT else g.op("Cast", t.name, to=_FLOAT)
    ge = g.op("Cast", g.op("GreaterOrEqual", g.unsqueeze(x, [t.rank]), ctx.const(b, "bin_boundaries")),
              to=TensorProto.INT64)
    idx = g.reduce("ReduceSum", ge, [t.rank], keepdims=False)
    mode = c.get("output_mode", "int")
    if mode == "int":
        dt = onnx_dtype(_dtype_name(layer, "int64"), TensorProto.INT64)
        if dt != TensorProto.INT64:
            idx = g.op("Cast", idx, to=dt)
        return [Tensor(name=idx, shape=t.shape, dtype=dt)]
    return [_encode(ctx, layer, Tensor(name=idx, shape=t.shape, dtype=TensorProto.INT64),
                    len(b) + 1, mode, None, _dtype_name(layer, "float32"))]


# -- refused --------------------------------------------------------------------------------
_LOOKUP_WHY = {
    "StringLookup": "maps strings through a vocabulary table; ONNX Runtime's standard operators "
                    "have no string hash table",
    "TextVectorization": "splits and normalizes strings with TensorFlow's text ops, which have no "
                         "ONNX equivalent",
    "Hashing": "hashes with FarmHash / SipHash, which no ONNX operator computes",
    "HashedCrossing": "hashes feature crosses with FarmHash, which no ONNX operator computes",
}


def _refuse(layer, opset) -> list:
    return [f"{_LOOKUP_WHY[layer.class_name]}; keep it outside the exported model (apply it to the "
            f"data before calling the ONNX model) and export the rest"]


@register(*_LOOKUP_WHY, check=_refuse, layout="keras")
def _lookup(layer, inputs, ctx):   # never reached: check() refuses the layer first
    raise UnsupportedError([f"{layer_where(layer)}: {_refuse(layer, ctx.opset)[0]}"])


# -- IntegerLookup ------------------------------------------------------------------------
def _check_integer_lookup(layer, opset) -> list:
    c = layer.config
    problems = []
    vocab = c.get("vocabulary")
    if not isinstance(vocab, list):
        what = "a vocabulary file" if isinstance(vocab, str) else "no vocabulary in its config (it was adapted)"
        problems.append(f"has {what}; the exported model needs the vocabulary itself: rebuild it "
                        f"with IntegerLookup(vocabulary=layer.get_vocabulary(include_special_tokens="
                        f"False), ...) and save again")
    mode = c.get("output_mode", "int")
    if mode not in ("int", "one_hot", "multi_hot", "count"):
        problems.append(f"output_mode={mode!r} is not exported (int, one_hot, multi_hot and count are)")
    if c.get("sparse"):
        problems.append("sparse=True outputs a SparseTensor, which ONNX has no equivalent of")
    if c.get("invert") and mode != "int":
        problems.append("invert=True with an encoded output is not a layer Keras can build")
    return problems


@register("IntegerLookup", check=_check_integer_lookup, layout="keras")
def integer_lookup(layer, inputs, ctx):
    """IntegerLookup(vocabulary (a list), num_oov_indices, mask_token, oov_token,
    invert, output_mode, max_tokens, pad_to_max_tokens): the vocabulary's
    index table as Keras builds it (mask, OOV indices, then the tokens)."""
    g = ctx.g
    c = layer.config
    t = inputs[0]
    vocab = [int(v) for v in c["vocabulary"]]
    mode = c.get("output_mode", "int")
    n_oov = int(c.get("num_oov_indices", 1))
    mask_token = c.get("mask_token")
    oov_start = 1 if mask_token is not None and mode == "int" else 0
    start = oov_start + n_oov
    out_dt = onnx_dtype(_dtype_name(layer, "int64"), TensorProto.INT64) if mode == "int" \
        else TensorProto.INT64
    x = t.name if t.dtype == TensorProto.INT64 else g.op("Cast", t.name, to=TensorProto.INT64)
    if c.get("invert"):
        oov_token = int(c.get("oov_token", -1))
        table = ([int(mask_token)] if oov_start else []) + [oov_token] * n_oov + vocab
        tab = ctx.const(np.asarray(table, np.int64), "inverse_vocabulary")
        inside = g.op("And", g.op("GreaterOrEqual", x, g.i64(0)), g.op("Less", x, g.i64(len(table))))
        safe = g.op("Where", inside, x, g.i64(0))
        y = g.op("Where", inside, g.op("Gather", tab, safe, axis=0), g.i64(oov_token))
        if out_dt != TensorProto.INT64:
            y = g.op("Cast", y, to=out_dt)
        return [Tensor(name=y, shape=t.shape, dtype=out_dt)]
    keys = ctx.const(np.asarray(vocab, np.int64), "vocabulary")
    hits = g.op("Equal", g.unsqueeze(x, [t.rank]), keys)                   # (..., V)
    found = g.reduce("ReduceMax", g.op("Cast", hits, to=TensorProto.INT32), [t.rank], keepdims=False)
    pos = g.op("ArgMax", g.op("Cast", hits, to=TensorProto.INT32), axis=t.rank, keepdims=0)
    if n_oov == 0:
        oov = g.i64(-1)
    elif n_oov == 1:
        oov = g.i64(oov_start)
    else:
        oov = g.op("Add", g.op("Mod", x, g.i64(n_oov), fmod=0), g.i64(oov_start))
    y = g.op("Where", g.op("Cast", found, to=TensorProto.BOOL), g.op("Add", pos, g.i64(start)), oov)
    if mask_token is not None:
        masked = g.op("Equal", x, g.i64(int(mask_token)))
        fill = 0 if mode == "int" else np.iinfo(np.int64).max
        y = g.op("Where", masked, g.i64(fill), y)
    if mode == "int":
        if out_dt != TensorProto.INT64:
            y = g.op("Cast", y, to=out_dt)
        return [Tensor(name=y, shape=t.shape, dtype=out_dt)]
    depth = int(c["max_tokens"]) if c.get("pad_to_max_tokens") else start + len(vocab)
    return [_encode(ctx, layer, Tensor(name=y, shape=t.shape, dtype=TensorProto.INT64), depth, mode,
                    None, _dtype_name(layer, "float32"))]
