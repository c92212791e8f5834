"""What an emitter works with: tensors that remember their layout, and the
context that hands out weights, constants and layout conversions.

Layout: a Keras tensor may live in the ONNX graph transposed (a channels_last
conv stack computes in NCHW). `Tensor.perm` says how: the ONNX value equals
numpy.transpose(keras_value, perm); None means the Keras layout itself.
Emitters that care ask for the layout they need (`ctx.keras(t)`,
`ctx.channels_first(t)`); the context inserts one Transpose per tensor and
layout, shared by every consumer.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
from onnx import TensorProto

from .errors import WeightsError, layer_where
from .safety import check_elements
from .ir import Layer, Model


@dataclass(frozen=True)
class Tensor:
    name: str                       # ONNX value name
    shape: tuple                    # Keras shape in Keras layout; None = unknown
    perm: Optional[tuple] = None    # ONNX value = transpose(Keras value, perm)
    dtype: int = TensorProto.FLOAT
    # Keras mask (Embedding(mask_zero), Masking): the ONNX name of a bool
    # (batch, time) value that travels with the tensor; None when unmasked.
    mask: Optional[str] = None

    @property
    def rank(self) -> int:
        return len(self.shape)

    def like(self, name: str, shape: Optional[tuple] = None) -> "Tensor":
        """A tensor in the same layout (an elementwise result)."""
        return replace(self, name=name, shape=self.shape if shape is None else tuple(shape))

    @property
    def onnx_shape(self) -> tuple:
        return tuple(self.shape[p] for p in self.perm) if self.perm else tuple(self.shape)

    def onnx_axis(self, keras_axis: int) -> int:
        """Where a Keras axis sits in the ONNX value."""
        a = keras_axis % self.rank
        return self.perm.index(a) if self.perm else a


def floating(w: np.ndarray, what: str) -> np.ndarray:
    """A weight an emitter computes with, as float32; weights of any other
    kind (integers, booleans: a damaged or foreign file) are refused."""
    if w.dtype.kind != "f":
        raise WeightsError(f"{what} holds {w.dtype} values, but the layer computes with floating-point "
                           f"weights (float16, bfloat16, float32 or float64); the file is damaged or "
                           f"not written by Keras: re-save the model")
    return w if w.dtype == np.float32 else w.astype(np.float32)


def channels_first_perm(rank: int) -> tuple:
    """(0, r-1, 1, ..., r-2): NHWC -> NCHW for any rank."""
    return (0, rank - 1) + tuple(range(1, rank - 1))


def is_identity(perm) -> bool:
    return perm is None or tuple(perm) == tuple(range(len(perm)))


class Context:
    """Passed to every emitter; one per conversion."""

    def __init__(self, g, model: Model, opset: int, warn):
        self.g = g                    # an opsets builder
        self.model = model            # the outermost model (version, backend)
        self.opset = opset
        self.warn = warn
        self.scope: tuple = ()        # names of enclosing nested models
        self.layer: Optional[Layer] = None
        self._transposed: dict = {}
        self.call = None
        self.tolerant = None          # inspect: {(scope, layer, call): shapes}

    # -- layout ---------------------------------------------------------
    def to_perm(self, t: Tensor, perm) -> Tensor:
        perm = None if is_identity(perm) else tuple(perm)
        if (None if is_identity(t.perm) else tuple(t.perm)) == perm:
            return t if t.perm == perm else replace(t, perm=perm)
        cur = t.perm or tuple(range(t.rank))
        want = perm or tuple(range(t.rank))
        inv = np.argsort(cur)
        step = [int(inv[a]) for a in want]
        key = (t.name, tuple(step))
        if key not in self._transposed:
            self._transposed[key] = self.g.op("Transpose", t.name, perm=step,
                                              name=f"{t.name}/Transpose")
        return replace(t, name=self._transposed[key], perm=perm)

    def keras(self, t: Tensor) -> Tensor:
        return self.to_perm(t, None)

    def channels_first(self, t: Tensor) -> Tensor:
        """The tensor with its last (channels) axis moved to axis 1."""
        return self.to_perm(t, channels_first_perm(t.rank))

    # -- weights and constants ------------------------------------------
    def weight(self, layer: Layer, short: str, shape: Optional[tuple] = None,
               required: bool = True) -> Optional[np.ndarray]:
        w = layer.weight(short)
        if w is None and self.tolerant is not None and shape is not None and None not in shape:
            check_elements(shape, f"weight '{short}'")
            return np.zeros(shape, np.float32)  # inspect without weights: shapes only
        if w is None:
            if not required:
                return None
            have = ", ".join(x.short for x in layer.weights) or "none"
            raise WeightsError(f"{self.model.source}: {layer_where(layer)} has no '{short}' weight "
                               f"(stored: {have}); the weights do not belong to this architecture: "
                               f"re-save the model with model.save()")
        if shape is not None and tuple(w.shape) != tuple(shape):
            raise WeightsError(f"{self.model.source}: {layer_where(layer)} weight '{short}' has shape "
                               f"{tuple(w.shape)} but the architecture needs {tuple(shape)}; the "
                               f"weights file does not match this architecture")
        return floating(w, f"{self.model.source}: {layer_where(layer)} weight '{short}'")

    def const(self, array, tag: str) -> str:
        """An initializer named after the current layer; shared-layer calls reuse it."""
        path = "/".join(self.scope + ((self.layer.name,) if self.layer else ()) + (tag,))
        return self.g.const(np.asarray(array), path)

    # -- messages -------------------------------------------------------
    def where(self) -> str:
        return layer_where(self.layer) if self.layer else "model"
