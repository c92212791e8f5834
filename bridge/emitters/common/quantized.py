"""Keras 3 quantized layers (`model.quantize("int8" | "int4" | "float8")`):
Dense, EinsumDense and Embedding computing what Keras computes at inference
(keras/src/layers/core/dense.py `_int8_call`, `_int4_call`, `_float8_call`,
einsum_dense.py, embedding.py; keras/src/quantizers/quantizers.py). The
Dense / EinsumDense / Embedding emitters hand a layer with a
`Layer.quantization` to the functions here.

int8    Keras quantizes the inputs at run time, per row (AbsMaxQuantizer over
        the contracted axes: scale = 127 / (max|x| + 1e-7), q = clip(round(x *
        scale), -127, 127), rounding half to even), multiplies int8 by int8
        into int32, and divides by inputs_scale * kernel_scale. The same
        float32 steps here (ReduceMax(Abs), Add, Div, Mul, Round, Clip, Cast to
        int8), MatMulInteger for the product (int8 x int8 -> int32, exact as
        Keras's int32 accumulation), then Cast and the one Div: the numbers
        Keras computes, to the bit before the bias and activation.
        DynamicQuantizeLinear does not fit: it quantizes to uint8 with a zero
        point and scale (max - min) / 255, not Keras's symmetric abs-max.
int4    weight-only by default: the kernel's nibbles are unpacked (low nibble
        first) into an int8 initializer; per channel x @ q / kernel_scale, per
        group of `block_size` input rows (Keras's default, 128) x @ ((q -
        zero[g_idx]) * scale[g_idx]). The dequantization is graph arithmetic
        on constants, which ONNX Runtime folds when it loads the model: the
        file keeps the int8 values, the session the float kernel.
float8  inputs and kernel go through float8 e4m3fn: x / scale, clipped to
        +-448, rounded to the nearest float8 value (a Cast there and back from
        opset 19, the builder's exact arithmetic before), times scale; the
        kernel is rounded once here; the bias is rounded to bfloat16 as
        Keras's float8 call does; the product is float32.
Embedding: the int8 / int4 rows are gathered, then dequantized by their
        row's scale (and zero points per group of output columns).

Config keys read: units, equation, output_shape, bias_axes, activation,
use_bias, input_dim, output_dim; the quantized variables are named as Keras
names them (kernel, kernel_scale, kernel_zero, g_idx, inputs_scale, ...).
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
from onnx import TensorProto

from ...context import Tensor
from ...errors import ConfigError, layer_where
from ...ir import AbsMax
from .activation_functions import apply_activation
from .einsum import GraphKernel, einsum_with_kernel, parse_equation

MODES = ("int8", "int4", "float8")
FLOAT8_MAX = 448.0          # ml_dtypes.finfo(float8_e4m3fn).max


def check(layer, opset) -> list:
    """What keeps a quantized layer from converting (nothing for a plain one)."""
    q = layer.quantization
    if q is None:
        return []
    if q.mode not in MODES:
        return [f"quantization mode '{q.mode}' is not supported (int8, int4 and float8 are); "
                f"quantize the float model with model.quantize('int8') instead"]
    if layer.class_name == "Embedding" and q.mode == "float8":
        return ["Keras has no float8 Embedding; the dtype policy is inconsistent"]
    if isinstance(q.inputs, str):
        return [f"the inputs' quantizer {q.inputs} is not supported (AbsMaxQuantizer is); "
                f"quantize with the default Int8QuantizationConfig"]
    return []


# -- numbers fixed at conversion -----------------------------------------------

def unpack_int4(packed: np.ndarray, n: int) -> np.ndarray:
    """Keras's unpack_int4 along the last axis: two signed nibbles per byte,
    the low one first; the padding nibble past `n` dropped."""
    bits = packed.astype(np.int8).view(np.uint8)
    low = (bits & 0x0F).astype(np.int8)
    high = (bits >> 4).astype(np.int8)
    both = np.stack([(low ^ 8) - 8, (high ^ 8) - 8], axis=-1).astype(np.int8)
    return both.reshape(packed.shape[:-1] + (-1,))[..., :n]


def float8_round_array(a: np.ndarray) -> np.ndarray:
    """float32 values within +-448 rounded to float8 e4m3fn (nearest, ties to
    even), as float32: the numpy twin of the builders' float8_round, for
    constants."""
    a = np.asarray(a, np.float32)
    _, e = np.frexp(a)
    step = np.ldexp(np.float32(1.0), np.maximum(e - 1, -6) - 3).astype(np.float32)
    return (np.round(a / step) * step).astype(np.float32)


def bfloat16_round(a: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 -> float32 (nearest, ties to even), as TensorFlow casts."""
    bits = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def _qdq_kernel(kernel: np.ndarray, scale) -> np.ndarray:
    """Keras's quantize_and_dequantize of the float8 kernel."""
    s = np.float32(scale)
    x = np.clip(np.divide(kernel.astype(np.float32), s), -FLOAT8_MAX, FLOAT8_MAX)
    return np.multiply(float8_round_array(x), s).astype(np.float32)


# -- graph pieces ----------------------------------------------------------------

def _quantize_inputs(ctx, x: str, axes, q: AbsMax):
    """Keras's abs_max_quantize of the inputs over `axes` (keepdims): (int8
    values, float scale)."""
    g = ctx.g
    amax = g.reduce("ReduceMax", g.op("Abs", x), axes, keepdims=True)
    scale = g.op("Div", g.f32(float(q.hi)), g.op("Add", amax, g.f32(q.epsilon)))
    v = g.clip(g.op("Round", g.op("Mul", x, scale)), float(q.lo), float(q.hi))
    return g.op("Cast", v, to=TensorProto.INT8), scale


def _float8_inputs(ctx, x: str, scale) -> str:
    """Keras's quantize_and_dequantize(x, scale, "float8_e4m3fn")."""
    g = ctx.g
    s = g.f32(np.float32(scale))
    v = g.clip(g.op("Div", x, s), -FLOAT8_MAX, FLOAT8_MAX)
    return g.op("Mul", g.float8_round(v, fmt="e4m3fn", casts=ctx.target.float8_casts), s)


def _dequantized(ctx, layer, q_values: np.ndarray, scale: np.ndarray, group_axis: int,
                 tag: str) -> str:
    """The float kernel of int4 values, in the graph: q / scale per
    channel; (q - zero[g_idx]) * scale[g_idx] per group, the groups along
    `group_axis` (Keras's dequantize_with_sz_map)."""
    g = ctx.g
    qf = g.op("Cast", ctx.const(q_values, tag), to=TensorProto.FLOAT)
    if layer.quantization.block_size is None:
        return g.op("Div", qf, ctx.const(scale.astype(np.float32), tag + "_scale"))
    zero = ctx.weight(layer, "kernel_zero").astype(np.float32)
    groups = ctx.weight(layer, "g_idx").astype(np.int64)
    zeros = g.op("Gather", ctx.const(zero, tag + "_zero"), ctx.const(groups, "g_idx"),
                 axis=group_axis)
    scales = g.op("Gather", ctx.const(scale.astype(np.float32), tag + "_scale"),
                  ctx.const(groups, "g_idx"), axis=group_axis)
    return g.op("Mul", g.op("Sub", qf, zeros), scales)


def _finish(ctx, layer, t):
    """+ bias (when the layer has one), then the activation."""
    c = layer.config
    bias = ctx.weight(layer, "bias", required=False)
    if bias is not None:
        if layer.quantization.mode == "float8":
            bias = bfloat16_round(bias)
        b = np.asarray(bias, np.float32)
        if t.perm:
            b = np.transpose(b.reshape((1,) * (t.rank - b.ndim) + b.shape), t.perm)
            while b.ndim > 1 and b.shape[0] == 1:
                b = b[0]
        t = t.like(ctx.g.op("Add", t.name, ctx.const(b, "bias")))
    return apply_activation(ctx, t, c.get("activation"))


# -- Dense -------------------------------------------------------------------------

def dense(layer, inputs, ctx):
    """A quantized Dense(units, activation, use_bias) on the last axis."""
    g = ctx.g
    q = layer.quantization
    t = ctx.keras(inputs[0])
    units = int(layer.config["units"])
    n_in = t.shape[-1]
    shape = t.shape[:-1] + (units,)
    if q.mode == "float8":
        k = _qdq_kernel(ctx.weight(layer, "kernel"), ctx.weight(layer, "kernel_scale"))
        x = _float8_inputs(ctx, t.name, ctx.weight(layer, "inputs_scale"))
        return [_finish(ctx, layer, t.like(g.op("MatMul", x, ctx.const(k, "kernel")), shape))]
    kernel = ctx.weight(layer, "kernel")
    scale = ctx.weight(layer, "kernel_scale").astype(np.float32)
    if q.mode == "int4":
        kernel = unpack_int4(kernel, units)
        if q.block_size is not None:     # per group: the kernel dequantized, then x @ it
            w = _dequantized(ctx, layer, kernel, scale, 0, "kernel")
            return [_finish(ctx, layer, t.like(g.op("MatMul", t.name, w), shape))]
    if n_in is not None and kernel.shape != (n_in, units):
        raise ConfigError(f"{ctx.model.source}: {layer_where(layer)} has a quantized kernel of "
                          f"shape {kernel.shape}, not ({n_in}, {units}); the weights do not fit")
    k = ctx.const(kernel.astype(np.int8), "kernel")
    if q.inputs is None:     # weight-only: x @ float(q), then / kernel_scale
        y = g.op("MatMul", t.name, g.op("Cast", k, to=TensorProto.FLOAT))
        y = g.op("Div", y, ctx.const(scale, "kernel_scale"))
    else:
        xq, xs = _quantize_inputs(ctx, t.name, [t.rank - 1], q.inputs)
        acc = g.op("Cast", g.op("MatMulInteger", xq, k), to=TensorProto.FLOAT)
        y = g.op("Div", acc, g.op("Mul", ctx.const(scale, "kernel_scale"), xs))
    return [_finish(ctx, layer, t.like(y, shape))]


# -- EinsumDense ---------------------------------------------------------------------

def _input_scale_plan(X: str, Y: str):
    """Keras's _analyze_quantization_info, input side: the reduced axes, and
    the transpose / expand_dims / squeeze that align the inputs' scale with
    the output (einsum_dense.py, _adjust_scale_for_quant)."""
    reduced = [i for i, c in enumerate(X) if c not in Y]
    expand = [i for i, c in enumerate(Y) if c not in X]
    transpose = [X.index(c) for c in Y if c in X]
    squeeze = []
    for ori in reduced:
        try:
            index = expand.pop(0)
        except IndexError:
            squeeze.append(ori)
        transpose.insert(index, ori)
    return reduced, transpose, expand, squeeze


def _aligned_scale(ctx, scale: str, X: str, Y: str) -> str:
    g = ctx.g
    _, transpose, expand, squeeze = _input_scale_plan(X, Y)
    if transpose and transpose != list(range(len(transpose))):
        scale = g.op("Transpose", scale, perm=transpose)
    if expand:
        scale = g.unsqueeze(scale, expand)
    if squeeze:
        scale = g.squeeze(scale, squeeze)
    return scale


def _kernel_shape(layer, X: str, W: str, Y: str, x_shape) -> tuple:
    """The float kernel's shape, which an int4 kernel (flattened to (rows,
    columns) and packed) no longer shows: contracted and batch labels from
    the input, the others from output_shape as Keras's _analyze_split_string
    places them."""
    c = layer.config
    partial = c.get("output_shape")
    partial = [partial] if isinstance(partial, int) else list(partial or [])
    written = re.sub(r"\.\.\.", "0", str(c["equation"]).replace(" ", "")).split("->")[1]
    left = written.startswith("0")
    spec = written.replace("0", "")
    dims = []
    for ch in W:
        if ch in X and x_shape[X.index(ch)] is not None:
            dims.append(int(x_shape[X.index(ch)]))
            continue
        i = spec.index(ch) if ch in spec else -1
        j = i if left else i - 1
        if i < 0 or not 0 <= j < len(partial) or partial[j] is None:
            raise ConfigError(f"{layer_where(layer)}: the size of kernel axis '{ch}' of the int4 "
                              f"kernel is not in output_shape {c.get('output_shape')}; the config "
                              f"is malformed")
        dims.append(int(partial[j]))
    return tuple(dims)


def einsum_dense(layer, inputs, ctx):
    """A quantized EinsumDense(equation, output_shape, bias_axes, activation)."""
    g = ctx.g
    q = layer.quantization
    c = layer.config
    x = ctx.keras(inputs[0])
    X, W, Y = parse_equation(layer, c["equation"], x.rank)
    if q.mode == "float8":
        k = _qdq_kernel(ctx.weight(layer, "kernel"), ctx.weight(layer, "kernel_scale"))
        xf = x.like(_float8_inputs(ctx, x.name, ctx.weight(layer, "inputs_scale")))
        return [_finish(ctx, layer, einsum_with_kernel(ctx, xf, X, W, Y, k))]
    kernel = ctx.weight(layer, "kernel")
    scale = ctx.weight(layer, "kernel_scale").astype(np.float32)
    if q.mode == "int4":     # the kernel dequantized (per channel or group), then the einsum
        shape = _kernel_shape(layer, X, W, Y, x.shape)
        columns = int(np.prod([d for ch, d in zip(W, shape) if ch in Y], dtype=np.int64))
        flat = _dequantized(ctx, layer, unpack_int4(kernel, columns), scale, 0, "kernel")
        w = GraphKernel(g.op("Reshape", flat, g.i64(list(shape))), shape)
        if q.block_size is not None or q.inputs is None:
            return [_finish(ctx, layer, einsum_with_kernel(ctx, x, X, W, Y, w))]
        xq, xs = _quantize_inputs(ctx, x.name, _input_scale_plan(X, Y)[0], q.inputs)
        xf = x.like(g.op("Cast", xq, to=TensorProto.FLOAT))
        y = ctx.keras(einsum_with_kernel(ctx, xf, X, W, Y, w))
        return [_finish(ctx, layer, y.like(g.op("Div", y.name, _aligned_scale(ctx, xs, X, Y))))]
    if kernel.ndim != len(W):
        raise ConfigError(f"{layer_where(layer)}: the kernel has shape {kernel.shape} but the "
                          f"equation {c['equation']!r} names {len(W)} kernel axes")
    k8 = kernel.astype(np.int8)
    if q.inputs is None:     # weight-only: einsum(x, float(q)), then / kernel_scale
        w = GraphKernel(g.op("Cast", ctx.const(k8, "kernel"), to=TensorProto.FLOAT), k8.shape)
        y = ctx.keras(einsum_with_kernel(ctx, x, X, W, Y, w))
        return [_finish(ctx, layer, y.like(g.op("Div", y.name, ctx.const(scale, "kernel_scale"))))]
    xq, xs = _quantize_inputs(ctx, x.name, _input_scale_plan(X, Y)[0], q.inputs)
    xq = replace(x, name=xq, dtype=TensorProto.INT8)
    acc = ctx.keras(einsum_with_kernel(ctx, xq, X, W, Y, k8, integer=True))
    denom = g.op("Mul", _aligned_scale(ctx, xs, X, Y), ctx.const(scale, "kernel_scale"))
    y = g.op("Div", g.op("Cast", acc.name, to=TensorProto.FLOAT), denom)
    return [_finish(ctx, layer, Tensor(name=y, shape=acc.shape))]


# -- Embedding -------------------------------------------------------------------------

def embedding_lookup(ctx, layer, ids: str) -> tuple:
    """(rows as float, output_dim) of a quantized Embedding for int64 `ids`."""
    g = ctx.g
    q = layer.quantization
    c = layer.config
    table = ctx.weight(layer, "embeddings")
    scale = ctx.weight(layer, "embeddings_scale").astype(np.float32)
    n_out = int(c["output_dim"]) if c.get("output_dim") is not None else table.shape[1]
    if q.mode == "int4":
        table = unpack_int4(table, n_out)
    rows = g.op("Cast", g.op("Gather", ctx.const(table.astype(np.int8), "embeddings"), ids, axis=0),
                to=TensorProto.FLOAT)
    if q.mode == "int4" and q.block_size is not None:
        s = g.op("Gather", ctx.const(scale, "embeddings_scale"), ids, axis=0)
        z = g.op("Gather", ctx.const(ctx.weight(layer, "embeddings_zero").astype(np.float32),
                                 "embeddings_zero"), ids, axis=0)
        groups = ctx.const(ctx.weight(layer, "g_idx").astype(np.int64), "g_idx")
        zs = g.op("Gather", z, groups, axis=-1)
        ss = g.op("Gather", s, groups, axis=-1)
        return g.op("Mul", g.op("Sub", rows, zs), ss), n_out
    s = g.op("Gather", ctx.const(scale.reshape(-1), "embeddings_scale"), ids, axis=0)
    return g.op("Div", rows, g.unsqueeze(s, [-1])), n_out
