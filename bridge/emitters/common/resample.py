"""tf.image.resize in ONNX: TensorFlow's resampling weights (ScaleAndTranslate,
ResizeArea, ResizeBicubic), one (n_out, n_in) float32 matrix per image axis,
and the image resize / crop / smart_resize steps built on them.

Shared by UpSampling2D, Resizing, CenterCrop, RandomCrop and the
tf.image.resize op layer. ONNX Resize serves where it reproduces TensorFlow
(bilinear, half-pixel); the matrices serve where it cannot (the other
kernels, antialiasing, and bicubic at factors whose taps TensorFlow reads
from its 1024-entry table)."""
from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto

from ...context import Tensor
from ...errors import UnsupportedError, layer_where
from ...safety import check_count, check_elements

_FLOAT = TensorProto.FLOAT


def _kernel(name):
    """TensorFlow's sampling kernels (sampling_kernels.h): (function, radius)."""
    if name in ("lanczos3", "lanczos5"):
        r = 3 if name == "lanczos3" else 5
        pi = 3.14159265359

        def lanczos(x):
            x = abs(x)
            if x > r:
                return 0.0
            if x <= 1e-3:
                return 1.0
            return r * math.sin(pi * x) * math.sin(pi * x / r) / (pi * pi * x * x)
        return lanczos, float(r)
    if name == "gaussian":
        return (lambda x: 0.0 if abs(x) >= 1.5 else math.exp(-x * x / (2.0 * 0.25))), 1.5
    if name == "mitchellcubic":
        def mitchell(x):
            x = abs(x)
            if x >= 2.0:
                return 0.0
            if x >= 1.0:
                return (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
            return (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
        return mitchell, 2.0
    if name == "keyscubic":
        def keys(x):
            x = abs(x)
            if x >= 2.0:
                return 0.0
            if x >= 1.0:
                return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
            return ((1.5 * x - 2.5) * x) * x + 1.0
        return keys, 2.0
    if name == "triangle":
        return (lambda x: max(0.0, 1.0 - abs(x))), 1.0
    raise KeyError(name)


def _span_matrix(kernel_name, n_in, n_out, antialias):
    """(n_out, n_in) weights of tf.raw_ops.ScaleAndTranslate (translation 0)."""
    check_matrix(n_in, n_out)
    kernel, radius = _kernel(kernel_name)
    f32 = np.float32
    scale = f32(n_out) / f32(n_in)
    inv_scale = f32(1.0 / float(scale))
    kscale = max(inv_scale, f32(1.0)) if antialias else f32(1.0)
    one_over = f32(1.0) / kscale
    r = f32(radius) * kscale
    m = np.zeros((n_out, n_in))
    tiny = 1000.0 * np.finfo(np.float32).tiny
    for x in range(n_out):
        c = f32(f32(x) + f32(0.5)) * inv_scale          # float32, as TensorFlow computes it
        if c < 0 or c > n_in:
            continue
        lo = min(max(math.ceil(f32(c - r) - f32(0.5)), 0), n_in - 1)
        hi = min(max(math.floor(f32(c + r) - f32(0.5)), 0), n_in - 1) + 1
        ws = np.array([kernel(float(abs(f32(f32(f32(j) + f32(0.5)) - c) * one_over)))
                       for j in range(lo, hi)], np.float32)
        total = float(np.sum(ws, dtype=np.float32))
        if abs(total) >= tiny:
            m[x, lo:hi] = ws * np.float32(1.0 / total)
    return m.astype(np.float32)


def _area_matrix(n_in, n_out):
    """(n_out, n_in) weights of tf.raw_ops.ResizeArea (no half-pixel centers)."""
    check_matrix(n_in, n_out)
    s = float(np.float32(n_in) / np.float32(n_out))
    m = np.zeros((n_out, n_in))
    for y in range(n_out):
        a = float(np.float32(y * s))
        b = float(np.float32((y + 1) * s))
        for i in range(math.floor(a), math.ceil(b)):
            w = (min(i + 1, b) - max(i, a))
            m[y, min(i, n_in - 1)] += w / s
    return m.astype(np.float32)


def check_matrix(n_in: int, n_out: int) -> None:
    """A resampling matrix is built row by row in Python: its size, and the
    rows (a few thousand elements' work each), within the limits."""
    check_elements((n_out, n_in), "the resampling matrix")
    check_count(n_out, "the resampling matrix's rows (each a loop in Python)")


def nearest_indices(n_in, n_out):
    """tf.raw_ops.ResizeNearestNeighbor(half_pixel_centers=True) source indices."""
    check_elements(n_out, "the resized axis")
    s = np.float32(n_in) / np.float32(n_out)
    idx = np.floor((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * s).astype(np.int64)
    return np.clip(idx, 0, n_in - 1)


def resize_weights(interp, n_in, n_out, antialias=False):
    """(n_out, n_in) float32 resampling weights of one axis of tf.image.resize."""
    if interp == "area":
        return _area_matrix(n_in, n_out)
    if interp == "bilinear":
        return _span_matrix("triangle", n_in, n_out, antialias)
    if interp == "bicubic":
        if antialias:
            return _span_matrix("keyscubic", n_in, n_out, True)
        return bicubic_matrix(n_in, n_out)
    return _span_matrix(interp, n_in, n_out, antialias)


def bicubic_matrix(n_in: int, n_out: int, a: float = -0.5, table: int = 1024) -> np.ndarray:
    """TensorFlow's ResizeBicubic (half-pixel centers): Keys cubic a=-0.5
    read from a 1024-entry table, taps outside the image dropped and the rest
    renormalized."""
    check_matrix(n_in, n_out)
    x = np.arange(table + 1, dtype=np.float32) / np.float32(table)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x1 = x + 1
    far = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a
    scale = np.float32(n_in) / np.float32(n_out)
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        f = np.float32((o + np.float32(0.5)) * scale - np.float32(0.5))
        base = math.floor(f)
        off = int(np.rint((f - base) * table))
        taps = [(base - 1, far[off]), (base, near[off]), (base + 1, near[table - off]),
                (base + 2, far[table - off])]
        taps = [(i, float(w)) for i, w in taps if 0 <= i < n_in]
        total = sum(w for _, w in taps)
        for i, w in taps:
            m[o, i] += w / total
    return m.astype(np.float32)


# -- images: (..., H, W) ONNX values ---------------------------------------------

def image_axes(layer):
    """(height axis, width axis) of the Keras layout."""
    if layer.config.get("data_format") == "channels_first":
        return -2, -1
    return -3, -2


def to_nchw(ctx, t: Tensor, layer) -> Tensor:
    """t with its image axes last in ONNX: (..., C, H, W)."""
    if layer.config.get("data_format") == "channels_first":
        return ctx.keras(t)
    return ctx.channels_first(t)


def wrap_image(name, x: Tensor, h, w, layer) -> Tensor:
    shape = list(x.shape)
    ha, wa = image_axes(layer)
    shape[ha], shape[wa] = h, w
    return Tensor(name=name, shape=tuple(shape), perm=x.perm, dtype=_FLOAT)


def crop_image(ctx, x: Tensor, h0, w0, h, w, layer) -> Tensor:
    """x[..., h0:h0+h, w0:w0+w, ...] on an (..., H, W) ONNX value."""
    H, W = x.onnx_shape[-2:]
    if (h0, w0, h, w) == (0, 0, H, W):
        return x
    r = x.rank
    y = ctx.g.op("Slice", x.name, ctx.g.i64([h0, w0]), ctx.g.i64([h0 + h, w0 + w]),
                 ctx.g.i64([r - 2, r - 1]))
    return wrap_image(y, x, h, w, layer)


def resize_image(ctx, x: Tensor, h, w, interp, layer, antialias=False) -> Tensor:
    """tf.image.resize of the (..., H, W) ONNX value x to (h, w)."""
    g = ctx.g
    H, W = x.onnx_shape[-2:]
    if (H, W) == (h, w) and interp in ("bilinear", "nearest", "bicubic", "area"):
        return x      # half-pixel sampling at the same size is the identity
    if interp == "bilinear" and not antialias:
        # ONNX Resize (linear, half-pixel): constant scales when the image
        # size is static (sizes computed from the batch size at run time are
        # more than tract and some compilers take), else sizes
        if H is not None and W is not None:
            scales = [1.0] * (x.rank - 2) + [exact_scale(H, h), exact_scale(W, w)]
            y = g.resize(x.name, scales=scales, mode="linear",
                         coordinate_transformation_mode="half_pixel")
            return wrap_image(y, x, h, w, layer)
        lead = g.op("Slice", g.op("Shape", x.name), g.i64([0]), g.i64([x.rank - 2]))
        y = g.op("Resize", x.name, "", "", g.op("Concat", lead, g.i64([h, w]), axis=0),
                 mode="linear", coordinate_transformation_mode="half_pixel")
        return wrap_image(y, x, h, w, layer)
    if H is None or W is None:
        raise UnsupportedError([f"{layer_where(layer)}: interpolation '{interp}'"
                                f"{' with antialias' if antialias else ''} is exported with "
                                f"TensorFlow's resampling weights, which need a static height and "
                                f"width (the input has {(H, W)}); give the model's Input a fixed "
                                f"image size"])
    y = x.name
    if interp == "nearest" and not antialias:
        if w != W:
            y = g.op("Gather", y, ctx.const(nearest_indices(W, w), f"cols_{W}_{w}"), axis=x.rank - 1)
        if h != H:
            y = g.op("Gather", y, ctx.const(nearest_indices(H, h), f"rows_{H}_{h}"), axis=x.rank - 2)
        return wrap_image(y, x, h, w, layer)
    exact_same = interp in ("bilinear", "bicubic", "area")   # same size: identity weights
    if w != W or not exact_same:
        y = g.op("MatMul", y, ctx.const(resize_weights(interp, W, w, antialias).T.copy(),
                                        f"cols_{interp}_{W}_{w}"))
    if h != H or not exact_same:
        y = g.op("MatMul", ctx.const(resize_weights(interp, H, h, antialias),
                                     f"rows_{interp}_{H}_{h}"), y)
    return wrap_image(y, x, h, w, layer)


def exact_scale(n_in: int, n_out: int) -> float:
    """A float32 scale whose product with n_in floors to n_out whether a
    runtime multiplies in float32 or float64 (ONNX Resize's output size is
    floor(n_in * scale))."""
    s = np.float32(n_out / n_in)
    for _ in range(8):
        if (math.floor(float(np.float32(n_in) * s)) == n_out
                and math.floor(n_in * float(s)) == n_out):
            return float(s)
        s = np.nextafter(s, np.float32(np.inf))
    return float(np.float32(n_out / n_in))


def aspect_crop_box(H, W, h, w):
    """smart_resize's centred crop to the target aspect ratio: (h0, w0, ch, cw)."""
    ch = int(np.float32(W * h) / np.float32(w))
    cw = int(np.float32(H * w) / np.float32(h))
    ch, cw = max(min(H, ch), 1), max(min(W, cw), 1)
    return int(np.float32(H - ch) / np.float32(2)), int(np.float32(W - cw) / np.float32(2)), ch, cw


def aspect_crop(ctx, x: Tensor, h, w, layer, what: str) -> Tensor:
    """x cropped (centred) to the aspect ratio of h x w; needs a static size."""
    H, W = x.onnx_shape[-2:]
    if H is None or W is None:
        raise UnsupportedError([f"{layer_where(layer)}: {what} needs a static image size (the "
                                f"input has {(H, W)}); give the model's Input a fixed image size"])
    h0, w0, ch, cw = aspect_crop_box(H, W, h, w)
    return crop_image(ctx, x, h0, w0, ch, cw, layer)


def smart_resize(ctx, x: Tensor, h, w, interp, layer) -> Tensor:
    x = aspect_crop(ctx, x, h, w, layer, "cropping to the target aspect ratio")
    return resize_image(ctx, x, h, w, interp, layer)
