"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding,
Cropping and UpSampling (1D/2D/3D).

Layout: padding, cropping and nearest upsampling act on named axes, so they
work on the ONNX value in whatever layout it is in and pass that layout on
(no Transpose). Permute only composes the layout permutation (no node at
all). Flatten and Reshape depend on Keras's element order and ask for it.
Interpolating UpSampling2D computes channels-first. No layer here passes a
Keras mask on (tf-keras drops it).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..context import Tensor, is_identity
from ..errors import ConfigError, UnsupportedError, layer_where, malformed
from ..registry import register
from ..safety import check_count
from .common import spatial as sp
from .common.spatial import data_format_problems
from .common.resample import resize_weights

_I64_MAX = np.iinfo(np.int64).max


def _unmasked(t: Tensor) -> Tensor:
    return replace(t, mask=None)


def _spatial_axes(layer, n: int) -> list:
    """Keras axes of the n spatial dims (1D layers have no data_format)."""
    return list(range(1, n + 1)) if sp.channels_last(layer) else list(range(2, n + 2))


# -- Flatten, Reshape, Permute, RepeatVector -----------------------------------

@register("Flatten", check=lambda layer, opset: data_format_problems(layer), layout="any", weights=())
def flatten(layer, inputs, ctx):
    """Flatten(data_format): channels_last flattens in Keras order; a
    channels_first Flatten moves the channels last first, as tf-keras does."""
    t = inputs[0]
    r = t.rank
    if r == 1:
        y = ctx.g.unsqueeze(ctx.keras(t).name, [1])
        return [Tensor(name=y, shape=(t.shape[0], 1), dtype=t.dtype)]
    want = None if sp.channels_last(layer) else (0,) + tuple(range(2, r)) + (1,)
    x = ctx.to_perm(t, want)
    rest = t.shape[1:]
    n = None if None in rest else int(np.prod(rest, dtype=np.int64))
    if r == 2:
        return [Tensor(name=x.name, shape=t.shape, dtype=t.dtype)]
    y = ctx.g.op("Flatten", x.name, axis=1)
    return [Tensor(name=y, shape=(t.shape[0], n), dtype=t.dtype)]


def reshape_target(layer, in_shape: tuple) -> tuple:
    """Keras's output shape (without batch): -1 resolved when the input is static."""
    target = tuple(int(d) for d in layer.config["target_shape"])
    if target.count(-1) > 1 or any(d < -1 or d == 0 for d in target):
        raise ConfigError(f"{layer_where(layer)}: target_shape {target} may hold one "
                          f"-1 and otherwise positive sizes; the config is malformed")
    rest = in_shape[1:]
    if None in rest:
        return tuple(None if d == -1 else d for d in target)
    total = int(np.prod(rest, dtype=np.int64))
    known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
    if -1 in target:
        if known == 0 or total % known:
            raise ConfigError(f"{layer_where(layer)}: cannot reshape {rest} "
                              f"({total} values) to {target}; the config does not fit the model")
        return tuple(total // known if d == -1 else d for d in target)
    if known != total:
        raise ConfigError(f"{layer_where(layer)}: cannot reshape {rest} "
                          f"({total} values) to {target}; the config does not fit the model")
    return target


def _check_reshape(layer, opset) -> list:
    target = layer.config.get("target_shape")
    if not isinstance(target, (list, tuple)) or not all(isinstance(d, int) for d in target):
        return [malformed(f"target_shape {target!r} is not a list of integers; the config is "
                          f"malformed")]
    if list(target).count(-1) > 1 or any(d < -1 or d == 0 for d in target):
        return [malformed(f"target_shape {tuple(target)} may hold one -1 and otherwise positive "
                          f"sizes; the config is malformed")]
    return []


@register("Reshape", check=_check_reshape, layout="keras", weights=())
def reshape(layer, inputs, ctx):
    """Reshape(target_shape) in Keras's (row-major, Keras layout) order; one
    -1 allowed. The batch size is copied (ONNX 0)."""
    t = inputs[0]
    out = reshape_target(layer, t.shape)
    dims = [0] + [-1 if d is None else d for d in out]   # at most one None: the -1
    y = ctx.g.op("Reshape", t.name, ctx.g.i64(dims))   # allowzero (opset 14) stays 0
    return [Tensor(name=y, shape=(t.shape[0],) + tuple(out), dtype=t.dtype)]


def _check_permute(layer, opset) -> list:
    dims = layer.config.get("dims")
    try:
        ok = sorted(int(d) for d in dims) == list(range(1, len(dims) + 1))
    except (TypeError, ValueError):
        ok = False
    return [] if ok else [malformed(f"dims {dims!r} is not a permutation of 1..n; the config is "
                                    f"malformed")]


@register("Permute", check=_check_permute, layout="any", weights=())
def permute(layer, inputs, ctx):
    """Permute(dims): free. The Keras output is transpose(input, (0,) + dims);
    the ONNX value stays the same, only its layout permutation changes."""
    t = inputs[0]
    q = (0,) + tuple(int(d) for d in layer.config["dims"])
    if len(q) != t.rank:
        raise ConfigError(f"{ctx.where()}: dims {q[1:]} do not fit an input of rank {t.rank}")
    inv_q = [int(i) for i in np.argsort(q)]
    p = t.perm or tuple(range(t.rank))
    perm = tuple(inv_q[a] for a in p)
    shape = tuple(t.shape[a] for a in q)
    return [Tensor(name=t.name, shape=shape, perm=None if is_identity(perm) else perm, dtype=t.dtype)]


@register("RepeatVector", layout="keras", weights=())
def repeat_vector(layer, inputs, ctx):
    """RepeatVector(n): (batch, f) -> (batch, n, f)."""
    t = inputs[0]
    n = int(layer.config["n"])
    check_count(n, "RepeatVector's copies")
    g = ctx.g
    # n copies concatenated, not Expand or Tile: tract moves a following
    # MatMul before those and then mis-shapes it
    u = g.unsqueeze(t.name, [1])
    y = g.op("Concat", *[u] * n, axis=1) if n > 1 else u
    return [Tensor(name=y, shape=(t.shape[0], n, t.shape[1]), dtype=t.dtype)]


# -- ZeroPadding and Cropping ---------------------------------------------------

def pairs(value, n: int, what: str) -> list:
    """Keras's forms: int; n ints (symmetric per axis); n (begin, end) pairs.
    For n == 1 (ZeroPadding1D, Cropping1D) a pair is (begin, end)."""
    try:
        if isinstance(value, (int, float)):
            v = int(value)
            return [(v, v)] * n
        value = list(value)
        if n == 1:
            if len(value) == 1:
                value = [value[0], value[0]]
            if len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
                return [(int(value[0]), int(value[1]))]
            raise ValueError
        if len(value) != n:
            raise ValueError
        out = []
        for v in value:
            if isinstance(v, (int, float)):
                out.append((int(v), int(v)))
            else:
                b, e = v
                out.append((int(b), int(e)))
        return out
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not an int, {n} ints or {n} (begin, end) pairs; "
                         f"the config is malformed") from None


_PAD_CROP = {"ZeroPadding1D": 1, "ZeroPadding2D": 2, "ZeroPadding3D": 3,
             "Cropping1D": 1, "Cropping2D": 2, "Cropping3D": 3}


def _key(layer) -> str:
    return "padding" if layer.class_name.startswith("ZeroPadding") else "cropping"


def _default(layer):
    n = _PAD_CROP[layer.class_name]
    if layer.class_name.startswith("ZeroPadding"):
        return 1
    return 0 if n == 2 else 1   # Cropping2D defaults to no crop, 1D/3D to 1


def _check_pad_crop(layer, opset) -> list:
    problems = data_format_problems(layer)
    try:
        ps = pairs(layer.config.get(_key(layer), _default(layer)), _PAD_CROP[layer.class_name],
                   _key(layer))
    except ValueError as e:
        return problems + [malformed(str(e))]
    if any(v < 0 for p in ps for v in p):
        problems.append(malformed(f"{_key(layer)} {ps} has a negative size"))
    return problems


def _pairs_of(layer, ctx) -> list:
    try:
        return pairs(layer.config.get(_key(layer), _default(layer)), _PAD_CROP[layer.class_name],
                     _key(layer))
    except ValueError as e:
        raise ConfigError(f"{ctx.where()}: {e}") from None


@register("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", check=_check_pad_crop, layout="any", weights=())
def zero_padding(layer, inputs, ctx):
    """ZeroPadding 1D/2D/3D: padding (int, per-axis ints, or (begin, end)
    pairs), data_format (2D/3D). Pads the ONNX value in its own layout."""
    t = inputs[0]
    n = _PAD_CROP[layer.class_name]
    ps = _pairs_of(layer, ctx)
    axes = _spatial_axes(layer, n)
    begin, end = [0] * t.rank, [0] * t.rank
    shape = list(t.shape)
    for a, (b, e) in zip(axes, ps):
        begin[t.onnx_axis(a)], end[t.onnx_axis(a)] = b, e
        shape[a] = None if shape[a] is None else shape[a] + b + e
    if not any(begin + end):
        return [_unmasked(t)]
    y = ctx.g.pad(t.name, begin + end, mode="constant")
    return [_unmasked(t.like(y, shape))]


@register("Cropping1D", "Cropping2D", "Cropping3D", check=_check_pad_crop, layout="any", weights=())
def cropping(layer, inputs, ctx):
    """Cropping 1D/2D/3D: cropping (int, per-axis ints, or (begin, end)
    pairs), data_format (2D/3D). Slices the ONNX value in its own layout."""
    t = inputs[0]
    n = _PAD_CROP[layer.class_name]
    ps = _pairs_of(layer, ctx)
    axes = _spatial_axes(layer, n)
    starts, ends, onnx_axes = [], [], []
    shape = list(t.shape)
    for a, (b, e) in zip(axes, ps):
        if shape[a] is not None:
            # tf-keras's Cropping3D (and Keras 2's 1D/2D) slice as Python does:
            # cropping all of an axis, or more, leaves it empty, not an error
            shape[a] = max(0, shape[a] - b - e)
        if shape[a] == 0:
            # [0:0], not [b:-e] past each other: tract refuses start > end
            starts.append(0)
            ends.append(0)
            onnx_axes.append(t.onnx_axis(a))
        elif b or e:
            starts.append(b)
            ends.append(-e if e else _I64_MAX)
            onnx_axes.append(t.onnx_axis(a))
    if not onnx_axes:
        return [_unmasked(t)]
    g = ctx.g
    y = g.op("Slice", t.name, g.i64(starts), g.i64(ends), g.i64(onnx_axes))
    return [_unmasked(t.like(y, shape))]


# -- UpSampling ----------------------------------------------------------------

# tf-keras 2.21 backend.resize_images accepts these; 'nearest' and 'area' are
# a plain repeat for integer factors, 'bilinear' is ONNX linear/half_pixel,
# 'bicubic' is ONNX cubic (a=-0.5, exclude_outside) when TensorFlow's
# 1024-entry coefficient table is exact (power-of-two factors), the rest are
# separable resampling matrices built exactly as TensorFlow's
# scale_and_translate (antialias off) builds its weights.
INTERPOLATIONS = ("nearest", "area", "bilinear", "bicubic", "lanczos3", "lanczos5", "gaussian",
                  "mitchellcubic")


def _nearest(ctx, t: Tensor, axes, factors) -> Tensor:
    """Repeat each Keras axis in `axes` by its factor, in t's own layout."""
    scales = [1.0] * t.rank
    shape = list(t.shape)
    for a, f in zip(axes, factors):
        scales[t.onnx_axis(a)] = float(f)
        shape[a] = None if shape[a] is None else shape[a] * f
    if all(s == 1.0 for s in scales):
        return _unmasked(t)
    if t.rank == 5 and scales[1] != 1.0 and scales[4] == 1.0 and not ctx.target.resize_any_axes:
        t = ctx.channels_first(t)
        scales = [1.0] * t.rank
        for a, f in zip(axes, factors):
            scales[t.onnx_axis(a)] = float(f)
    # half_pixel + round_prefer_floor picks source floor(i / f) with a margin of
    # 0.5 / f either way, so no runtime rounding can pick a neighbour.
    y = ctx.g.resize(t.name, scales=scales, mode="nearest",
                     coordinate_transformation_mode="half_pixel",
                     nearest_mode="round_prefer_floor")
    return _unmasked(t.like(y, shape))


def _sizes(layer, n):
    return sp.as_tuple(layer.config.get("size", 2), n)


def _check_upsampling(layer, opset) -> list:
    problems = data_format_problems(layer)
    n = {"UpSampling1D": 1, "UpSampling2D": 2, "UpSampling3D": 3}[layer.class_name]
    try:
        size = _sizes(layer, n)
        if len(size) != n or min(size) < 1:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(malformed(f"size {layer.config.get('size')!r} is not {n} positive integers"))
    if layer.class_name == "UpSampling2D":
        interp = str(layer.config.get("interpolation", "nearest")).lower()
        if interp not in INTERPOLATIONS:
            problems.append(malformed(f"interpolation {interp!r} is not one Keras offers "
                                      f"({', '.join(INTERPOLATIONS)}); the config is malformed"))
    return problems


@register("UpSampling1D", "UpSampling3D", check=_check_upsampling, layout="any", weights=())
def upsampling_repeat(layer, inputs, ctx):
    """UpSampling1D(size) repeats the steps; UpSampling3D(size, data_format)
    repeats the three spatial axes."""
    t = inputs[0]
    n = 1 if layer.class_name == "UpSampling1D" else 3
    return [_nearest(ctx, t, _spatial_axes(layer, n), _sizes(layer, n))]


@register("UpSampling2D", check=_check_upsampling, layout="any", weights=())
def upsampling_2d(layer, inputs, ctx):
    """UpSampling2D(size, data_format, interpolation): tf.image.resize to
    size * (H, W) with the interpolation's kernel (half-pixel centers)."""
    t = inputs[0]
    fh, fw = _sizes(layer, 2)
    interp = str(layer.config.get("interpolation", "nearest")).lower()
    axes = _spatial_axes(layer, 2)
    if interp in ("nearest", "area"):
        return [_nearest(ctx, t, axes, (fh, fw))]
    if ctx.model.backend not in ("tensorflow", "", None):
        ctx.warn(f"{ctx.where()}: interpolation '{interp}' is converted with TensorFlow's "
                 f"tf.image.resize semantics; the file was saved under the "
                 f"'{ctx.model.backend}' backend, whose resize may differ at the borders")
    x = sp.to_channels_first(ctx, t, layer)
    h, w = sp.spatial_dims(t, layer)
    out_shape = sp.keras_shape(t.shape[0], (h and h * fh, w and w * fw),
                               sp.channels(t, layer), layer)
    g = ctx.g
    if interp == "bilinear":
        y = g.resize(x.name, scales=[1.0, 1.0, float(fh), float(fw)], mode="linear",
                     coordinate_transformation_mode=_bilinear_coordinates(ctx))
    elif interp == "bicubic" and 512 % fh == 0 and 512 % fw == 0 and (h is None or w is None):
        # Only for a dynamic image size: a static one takes the matrices below,
        # which every runtime computes right (OpenVINO's cubic Resize differs
        # at the borders; ONNX Runtime 1.12-1.20 refuse a cubic Resize
        # between two Transposes).
        y = g.resize(x.name, scales=[1.0, 1.0, float(fh), float(fw)], mode="cubic",
                     coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.5,
                     exclude_outside=1)
    else:
        if h is None or w is None:
            raise UnsupportedError([
                f"{ctx.where()}: interpolation '{interp}' with size ({fh}, {fw}) is converted "
                f"with resampling matrices, which need a static height and width (this input "
                f"has {(h, w)}); give the model's Input a fixed spatial shape"
                + (" or use power-of-two sizes" if interp == "bicubic" else "")])
        # (N, C, H, W) @ (W, W') then, with no Transpose, (H', H) @ (N, C, H, W')
        y = x.name
        if fw != 1:
            y = g.op("MatMul", y, ctx.const(resize_weights(interp, w, w * fw).T.copy(), "cols"))
        if fh != 1:
            y = g.op("MatMul", ctx.const(resize_weights(interp, h, h * fh), "rows"), y)
    return [replace(sp.from_channels_first(y, out_shape, layer, t), mask=None)]


def _bilinear_coordinates(ctx) -> str:
    """tf-keras and Keras 3 resize with half-pixel centers (tf.image.resize).
    Standalone Keras 2.2.x called TF1's tf.image.resize_bilinear with its
    defaults (no half-pixel centers): ONNX 'asymmetric'. tf.keras 2.2.4-tf
    served TensorFlow 1.13 and 1.14, which differ here: warn."""
    v = ctx.model.keras_version or ""
    parts = v.split("-")[0].split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        return "half_pixel"
    if (major, minor) == (2, 2) and "tf" not in v:
        return "asymmetric"
    if major == 2 and minor < 3 and "tf" in v:
        ctx.warn(f"{ctx.where()}: bilinear upsampling saved by tf.keras {v}: TensorFlow 1.13 "
                 f"resized without half-pixel centers, 1.14 and later with them; the export uses "
                 f"half-pixel centers: check it with the validator against this model's outputs")
    return "half_pixel"
