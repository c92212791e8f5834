"""Opset builders. Each class changes only what its ONNX opset changed:

  13  base: Squeeze/Unsqueeze/ReduceSum take axes as an input, other Reduce*
      ops an attribute; Clip min/max are inputs
  14  HardSwish
  17  LayerNormalization
  18  every Reduce* takes axes as an input; Mish
  (all) ReduceLogSumExp is written out (logsumexp), which every runtime runs right
  19  float8 types: rounding to float8 is a Cast there and back
  20  Gelu
  28  QuantizeLinear widened its types; ONNX Runtime (1.32) has no kernel for
      it, so a quantize-dequantize pair becomes its arithmetic
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from .graph import Graph

_SQRT_HALF = np.float32(1.0 / np.sqrt(2.0))

# float8 formats: (mantissa bits, exponent of the smallest normal, of the largest)
FLOAT8_FORMATS = {"e4m3fn": (3, -6, 8), "e5m2": (2, -14, 15)}


class Opset13:
    version = 13

    def __init__(self, graph: Graph, opset: int):
        self.graph = graph
        self.opset = opset
        self.scope = "graph"

    # -- plumbing -------------------------------------------------------
    def op(self, op_type: str, *inputs, n_out: int = 1, name: str | None = None, **attrs):
        """Append one node; returns its output name (or a list when n_out > 1)."""
        base = name or f"{self.scope}/{op_type}"
        node_name = self.graph.fresh(base)
        outs = [node_name if i == 0 else self.graph.fresh(f"{node_name}:{i}") for i in range(n_out)]
        names = [i if i is not None else "" for i in inputs]
        # Omit trailing absent optionals: runtimes treat a present-but-empty
        # input differently (ONNX Runtime will not fuse Conv+BN over one).
        while names and names[-1] == "":
            names.pop()
        self.graph.node(op_type, names, outs, node_name, **attrs)
        return outs[0] if n_out == 1 else outs

    def const(self, array, name: str) -> str:
        return self.graph.initializer(np.asarray(array), name)

    def f32(self, values, name: str | None = None) -> str:
        arr = np.asarray(values, dtype=np.float32)
        return self.const(arr, name or "const_f32_" + _key(arr))

    def i64(self, values) -> str:
        """A shared int64 constant (shapes, axes, pads)."""
        arr = np.asarray(values, dtype=np.int64)
        return self.const(arr, "const_i64_" + _key(arr))

    # -- ops whose signature moved between opsets -------------------------
    def squeeze(self, x, axes):
        return self.op("Squeeze", x, self.i64(axes))

    def unsqueeze(self, x, axes):
        return self.op("Unsqueeze", x, self.i64(axes))

    def reduce(self, op_type: str, x, axes, *, keepdims: bool):
        if op_type == "ReduceLogSumExp":
            return self.logsumexp(x, axes, keepdims=keepdims)
        return self._reduce_node(op_type, x, axes, keepdims=keepdims)

    def _reduce_node(self, op_type: str, x, axes, *, keepdims: bool):
        if op_type == "ReduceSum":
            return self.op(op_type, x, self.i64(axes), keepdims=int(keepdims))
        return self.op(op_type, x, axes=list(axes), keepdims=int(keepdims))

    def logsumexp(self, x, axes, *, keepdims: bool):
        """log(sum(exp(x - m))) + m with m the finite max, as TensorFlow's
        reduce_logsumexp computes it. Not ReduceLogSumExp: OpenVINO reduces
        that over every axis whatever `axes` says."""
        m = self._reduce_node("ReduceMax", x, axes, keepdims=True)
        d = self.op("Sub", m, m)                 # 0 where finite, nan where +-inf (IsInf
        finite = self.op("Equal", d, d)          # takes no float16 before opset 20)
        m = self.op("Where", finite, m, self.f32(0.0))
        s = self._reduce_node("ReduceSum", self.op("Exp", self.op("Sub", x, m)), axes,
                              keepdims=keepdims)
        return self.op("Add", self.op("Log", s), m if keepdims else self.squeeze(m, axes))

    def clip(self, x, lo=None, hi=None):
        lo_name = self.f32(lo) if lo is not None else ""
        hi_name = self.f32(hi) if hi is not None else ""
        return self.op("Clip", x, lo_name, hi_name)

    def pad(self, x, pads, *, mode: str = "constant", value: float | None = None):
        inputs = [x, self.i64(pads)]
        if value is not None:
            inputs.append(self.f32(value))
        return self.op("Pad", *inputs, mode=mode)

    def resize(self, x, *, scales=None, sizes=None, mode: str, coordinate_transformation_mode: str,
               nearest_mode: str | None = None, cubic_coeff_a: float | None = None,
               exclude_outside: int | None = None):
        s = self.f32(scales) if scales is not None else ""
        z = self.i64(sizes) if sizes is not None else ""
        return self.op("Resize", x, "", s, z, mode=mode,
                       coordinate_transformation_mode=coordinate_transformation_mode,
                       nearest_mode=nearest_mode, cubic_coeff_a=cubic_coeff_a,
                       exclude_outside=exclude_outside)

    def quantize_dequantize(self, x, scale, zero_point):
        """DequantizeLinear(QuantizeLinear(x)) with a scalar float `scale` and a
        numpy int8/uint8 `zero_point`: round(x / scale) half to even, plus the
        zero point, saturated to its integer type, back to float."""
        s = self.f32(scale)
        zp = self.const(np.asarray(zero_point), f"const_{np.asarray(zero_point).dtype}_"
                        f"{int(zero_point)}")
        return self.op("DequantizeLinear", self.op("QuantizeLinear", x, s, zp), s, zp)

    def float8_round(self, x, *, fmt: str, casts: bool = True):
        """float32 `x`, already within the float8 format's finite range, rounded
        to the nearest value of `fmt` ('e4m3fn' or 'e5m2'), ties to even, as
        float32. Before float8 types (or without `casts`, for runtimes that
        lack them): round(x / step) * step, with step the
        spacing of x's binade (fixed below the smallest normal), found by
        counting the powers of two at or below |x| (exact, no logarithm)."""
        mbits, emin, emax = FLOAT8_FORMATS[fmt]
        bounds = np.ldexp(np.float32(1.0), np.arange(emin + 1, emax + 1)).astype(np.float32)
        steps = np.ldexp(np.float32(1.0), np.arange(emin, emax + 1) - mbits).astype(np.float32)
        above = self.op("GreaterOrEqual", self.unsqueeze(self.op("Abs", x), [-1]), self.f32(bounds))
        k = self.reduce("ReduceSum", self.op("Cast", above, to=TensorProto.INT64), [-1],
                        keepdims=False)
        step = self.op("Gather", self.f32(steps), k, axis=0)
        return self.op("Mul", self.op("Round", self.op("Div", x, step)), step)

    # -- composite activations that later opsets made native ---------------
    def hard_swish(self, x):
        return self.op("Mul", x, self.op("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5))

    def mish(self, x):
        return self.op("Mul", x, self.op("Tanh", self.op("Softplus", x)))

    def gelu(self, x, *, approximate: bool):
        if approximate:
            # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = self.op("Mul", self.op("Mul", x, x), x)
            inner = self.op("Add", x, self.op("Mul", cube, self.f32(0.044715)))
            t = self.op("Tanh", self.op("Mul", inner, self.f32(np.sqrt(2.0 / np.pi))))
        else:
            t = self.op("Erf", self.op("Mul", x, self.f32(_SQRT_HALF)))
        half_x = self.op("Mul", x, self.f32(0.5))
        return self.op("Mul", half_x, self.op("Add", t, self.f32(1.0)))

    def layer_norm(self, x, scale, bias, *, axis: int, rank: int, epsilon: float):
        """Normalize over axes [axis, rank); scale/bias broadcast over those."""
        axes = list(range(axis, rank))
        mean = self.reduce("ReduceMean", x, axes, keepdims=True)
        d = self.op("Sub", x, mean)
        var = self.reduce("ReduceMean", self.op("Mul", d, d), axes, keepdims=True)
        y = self.op("Div", d, self.op("Sqrt", self.op("Add", var, self.f32(epsilon))))
        if scale:
            y = self.op("Mul", y, scale)
        if bias:
            y = self.op("Add", y, bias)
        return y


class Opset14(Opset13):
    version = 14

    def hard_swish(self, x):
        return self.op("HardSwish", x)


class Opset17(Opset14):
    version = 17

    def layer_norm(self, x, scale, bias, *, axis: int, rank: int, epsilon: float):
        if not scale:
            raise ValueError("native LayerNormalization needs a scale input")
        return self.op("LayerNormalization", x, scale, bias or "", axis=axis, epsilon=epsilon)


class Opset18(Opset17):
    version = 18

    def _reduce_node(self, op_type: str, x, axes, *, keepdims: bool):
        return self.op(op_type, x, self.i64(axes), keepdims=int(keepdims))

    def mish(self, x):
        return self.op("Mish", x)


class Opset19(Opset18):
    version = 19

    def float8_round(self, x, *, fmt: str, casts: bool = True):
        if not casts:
            return super().float8_round(x, fmt=fmt)
        to = {"e4m3fn": TensorProto.FLOAT8E4M3FN, "e5m2": TensorProto.FLOAT8E5M2}[fmt]
        return self.op("Cast", self.op("Cast", x, to=to), to=TensorProto.FLOAT)


class Opset20(Opset19):
    version = 20

    def gelu(self, x, *, approximate: bool):
        return self.op("Gelu", x, approximate="tanh" if approximate else "none")


class Opset28(Opset20):
    version = 28

    def quantize_dequantize(self, x, scale, zero_point):
        info = np.iinfo(np.asarray(zero_point).dtype)
        zp = int(zero_point)
        q = self.clip(self.op("Round", self.op("Div", x, self.f32(scale))), info.min - zp,
                      info.max - zp)
        return self.op("Mul", q, self.f32(scale))



# Every builder class, oldest first: the opsets at which something changed.
BUILDERS = (Opset13, Opset14, Opset17, Opset18, Opset19, Opset20, Opset28)


def builder_for(opset: int, graph: Graph | None = None) -> Opset13:
    """The builder of the highest class at or below `opset`."""
    cls = max((c for c in BUILDERS if c.version <= opset), key=lambda c: c.version)
    return cls(graph or Graph(), opset)


def _key(arr: np.ndarray) -> str:
    flat = arr.reshape(-1)
    if flat.size <= 8:
        body = "_".join(str(v).replace("-", "m").replace(".", "p") for v in flat.tolist())
    else:
        import hashlib
        body = hashlib.sha1(arr.tobytes()).hexdigest()[:12]
    return f"{'x'.join(map(str, arr.shape)) or 's'}_{body}"
