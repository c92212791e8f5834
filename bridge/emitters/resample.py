"""TensorFlow's resampling weights (tf.image.resize, ScaleAndTranslate,
ResizeArea, ResizeBicubic), one (n_out, n_in) float32 matrix per image axis.

Shared by UpSampling2D, Resizing and the tf.image.resize op layer wherever
ONNX Resize cannot reproduce TensorFlow (its kernels other than bilinear,
antialiasing, and bicubic at factors whose taps TensorFlow reads from its
1024-entry table)."""
from __future__ import annotations

import math

import numpy as np


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
    s = float(np.float32(n_in) / np.float32(n_out))
    m = np.zeros((n_out, n_in))
    for y in range(n_out):
        a = float(np.float32(y * s))
        b = float(np.float32((y + 1) * s))
        for i in range(math.floor(a), math.ceil(b)):
            w = (min(i + 1, b) - max(i, a))
            m[y, min(i, n_in - 1)] += w / s
    return m.astype(np.float32)


def nearest_indices(n_in, n_out):
    """tf.raw_ops.ResizeNearestNeighbor(half_pixel_centers=True) source indices."""
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
