"""One quantizer formula, two evaluators.

The quantization libraries apply the same quantizer to weights (constants:
folded here, at conversion, so the wrapped layer's built-in emitter gets a
plain kernel) and to activations (ONNX nodes). Each quantizer is written once
against `Ops` and run by `NumpyOps` (float32 numpy, the arithmetic of
TensorFlow's CPU kernels, op for op) or `GraphOps` (the same ops as ONNX
nodes). Rounding: tf.round, numpy's round and ONNX Round are all
half-to-even; everything stays float32.

`Ops.quantize_step(v, step, lo, hi)` is the uniform quantizer
step * clip(round(v / step), lo, hi) with a power-of-two step. Dividing by a
power of two is exact, so it equals ONNX QuantizeLinear/DequantizeLinear
(round half to even, saturate) behind a Clip to [lo*step, hi*step] whenever
[lo, hi] fits int8 or uint8: the graph uses that pair there.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

F32 = np.float32
EPSILON = F32(1e-7)          # keras.backend.epsilon()
LOG2 = F32(np.log(2.0))      # np.log(2.0) as TensorFlow casts it into a float32 graph


class NumpyOps:
    """Evaluates a formula on float32 numpy arrays in Keras layout."""

    def __init__(self, rank: int):
        self.rank = rank

    @staticmethod
    def v(a):
        return np.asarray(a, dtype=F32) if not isinstance(a, np.ndarray) or a.dtype != F32 else a

    def add(self, a, b):
        return self.v(self.v(a) + self.v(b))

    def sub(self, a, b):
        return self.v(self.v(a) - self.v(b))

    def mul(self, a, b):
        return self.v(self.v(a) * self.v(b))

    def div(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.v(self.v(a) / self.v(b))

    def neg(self, a):
        return -self.v(a)

    def abs(self, a):
        return np.abs(self.v(a))

    def sign(self, a):
        return np.sign(self.v(a))

    def round(self, a):
        return np.round(self.v(a))

    def floor(self, a):
        return np.floor(self.v(a))

    def log(self, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(self.v(a))

    def tanh(self, a):
        return np.tanh(self.v(a))

    def sqrt(self, a):
        return np.sqrt(self.v(a))

    def sigmoid(self, a):
        return self.v(1.0 / (1.0 + np.exp(-self.v(a))))

    def relu(self, a):
        return np.maximum(self.v(a), F32(0))

    def pow2(self, a):
        return np.power(F32(2), self.v(a))

    def minimum(self, a, b):
        return np.minimum(self.v(a), self.v(b))

    def maximum(self, a, b):
        return np.maximum(self.v(a), self.v(b))

    def clip(self, a, lo, hi):
        """tf.clip_by_value (and keras.backend.clip, which lifts hi to lo)."""
        return np.minimum(np.maximum(self.v(a), F32(lo)), F32(max(hi, lo)))

    def where(self, cond, a, b):
        return self.v(np.where(cond, self.v(a), self.v(b)))

    def lt(self, a, b):
        return self.v(a) < self.v(b)

    def le(self, a, b):
        return self.v(a) <= self.v(b)

    def ge(self, a, b):
        return self.v(a) >= self.v(b)

    def logical_or(self, a, b):
        return np.logical_or(a, b)

    def to_float(self, cond):
        return np.asarray(cond, dtype=F32)

    def reduce_max(self, a, axes, keepdims=True):
        return np.max(self.v(a), axis=tuple(axes), keepdims=keepdims)

    def reduce_mean(self, a, axes, keepdims=True):
        return self.v(np.mean(self.v(a), axis=tuple(axes), keepdims=keepdims, dtype=F32))

    def reduce_sum(self, a, axes, keepdims=True):
        return self.v(np.sum(self.v(a), axis=tuple(axes), keepdims=keepdims, dtype=F32))

    def size(self, a):
        return F32(np.size(a))

    def quantize_step(self, v, step, lo, hi):
        return self.mul(self.clip(self.round(self.div(v, step)), lo, hi), step)


class GraphOps:
    """Emits a formula as ONNX nodes on values laid out like `like` (a
    Tensor): elementwise ops keep the layout, reductions name Keras axes."""

    def __init__(self, g, like):
        self.g = g
        self.like = like
        self.rank = like.rank

    def v(self, a):
        if isinstance(a, str):
            return a
        return self.g.f32(np.asarray(a, dtype=F32))

    def _op(self, op, *args, **attrs):
        return self.g.op(op, *[self.v(a) for a in args], **attrs)

    def add(self, a, b):
        return self._op("Add", a, b)

    def sub(self, a, b):
        return self._op("Sub", a, b)

    def mul(self, a, b):
        return self._op("Mul", a, b)

    def div(self, a, b):
        return self._op("Div", a, b)

    def neg(self, a):
        return self._op("Neg", a)

    def abs(self, a):
        return self._op("Abs", a)

    def sign(self, a):
        return self._op("Sign", a)

    def round(self, a):
        return self._op("Round", a)

    def floor(self, a):
        return self._op("Floor", a)

    def log(self, a):
        return self._op("Log", a)

    def tanh(self, a):
        return self._op("Tanh", a)

    def sqrt(self, a):
        return self._op("Sqrt", a)

    def sigmoid(self, a):
        return self._op("Sigmoid", a)

    def relu(self, a):
        return self._op("Relu", a)

    def pow2(self, a):
        return self._op("Pow", 2.0, a)

    def minimum(self, a, b):
        return self._op("Min", a, b)

    def maximum(self, a, b):
        return self._op("Max", a, b)

    def clip(self, a, lo, hi):
        return self.g.clip(self.v(a), float(lo), float(max(hi, lo)))

    def where(self, cond, a, b):
        return self._op("Where", cond, a, b)

    def lt(self, a, b):
        return self._op("Less", a, b)

    def le(self, a, b):
        return self._op("LessOrEqual", a, b)

    def ge(self, a, b):
        return self._op("GreaterOrEqual", a, b)

    def logical_or(self, a, b):
        return self.g.op("Or", a, b)

    def to_float(self, cond):
        return self.g.op("Cast", cond, to=TensorProto.FLOAT)

    def _axes(self, axes):
        return sorted(self.like.onnx_axis(a) for a in axes)

    def reduce_max(self, a, axes, keepdims=True):
        return self.g.reduce("ReduceMax", self.v(a), self._axes(axes), keepdims=keepdims)

    def reduce_mean(self, a, axes, keepdims=True):
        return self.g.reduce("ReduceMean", self.v(a), self._axes(axes), keepdims=keepdims)

    def reduce_sum(self, a, axes, keepdims=True):
        return self.g.reduce("ReduceSum", self.v(a), self._axes(axes), keepdims=keepdims)

    def size(self, a):
        return self.g.op("Cast", self.g.op("Size", a), to=TensorProto.FLOAT)

    def quantize_step(self, v, step, lo, hi):
        step, lo, hi = F32(step), int(lo), int(hi)
        if -128 <= lo and hi <= 127:
            zero = np.int8(0)
        elif 0 <= lo and hi <= 255:
            zero = np.uint8(0)
        else:
            return self.mul(self.clip(self.round(self.div(v, step)), lo, hi), step)
        return self.g.quantize_dequantize(self.clip(v, F32(lo) * step, F32(hi) * step), step, zero)
