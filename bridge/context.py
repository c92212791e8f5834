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

from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence, Union

import numpy as np
from onnx import TensorProto

from opsets import Opset13

from . import targets
from .errors import UnsupportedError, WeightsError, layer_where
from .ir import Call, Layer, Model
from .safety import check_elements


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


def floating(w: np.ndarray, what: str, quantized: bool = False) -> np.ndarray:
    """A weight an emitter computes with: floating point, as float32; or, in
    a quantized layer, integers as stored. Any other kind (integers in a
    float layer, booleans: a damaged or foreign file) is refused."""
    if w.dtype.kind == "f":
        return w if w.dtype == np.float32 else w.astype(np.float32)
    if quantized and w.dtype.kind in "iu":
        return w
    raise WeightsError(f"{what} holds {w.dtype} values, but the layer computes with floating-point "
                       f"weights (float16, bfloat16, float32 or float64); the file is damaged or not "
                       f"written by Keras: re-save the model")


@dataclass
class StatePort:
    """A state a stateful recurrent layer (`stateful=True`) carries from one
    run of the model to the next: the graph input `<layer>/state_in/<k>` a
    run starts from and the value it ends with, which bridge.emit makes the
    graph output `<layer>/state_out/<k>`."""
    layer: str                        # the layer's name, scoped by enclosing models
    index: int                        # the state's place in Keras's order for the layer
    input: Tensor                     # Keras layout, (batch, ...)
    output: Optional[Tensor] = None   # set by the emitter once the layer ran


def stored_weights(layer: Layer) -> str:
    """A layer's weights as Keras lists them (`layer.weights` order), for
    messages: "[0] kernel (6, 4), [1] bias (4,)"; formats that store no
    names (Keras 3 `vars/<i>`) say so."""
    if not layer.weights:
        return "none"
    nameless = all(w.short.startswith("var_") or w.short.isdigit() for w in layer.weights)
    items = ", ".join(f"[{i}] " + ("" if nameless else f"{w.short} ") + str(tuple(w.array.shape))
                      for i, w in enumerate(layer.weights))
    return items + ("; this format stores no weight names (vars/<i>): ask by position, "
                    "ctx.weight(layer, i)" if nameless else "")


def channels_first_perm(rank: int) -> tuple:
    """(0, r-1, 1, ..., r-2): NHWC -> NCHW for any rank."""
    return (0, rank - 1) + tuple(range(1, rank - 1))


def is_identity(perm) -> bool:
    return perm is None or tuple(perm) == tuple(range(len(perm)))


class Context:
    """What an emitter works with; one per conversion.

    g        the opset's node builder (opsets/builders.py): g.op("Relu", x),
             g.i64([...]) / g.f32(...) shared constants, and the ops whose
             signature moved between opsets (g.squeeze, g.reduce, g.clip ...)
    model    the outermost IR model (keras_version, backend, source file)
    opset    the target ONNX opset
    layer    the layer being emitted, `call` the call of it (kwargs, args)
    warn     warn(message): a BridgeWarning the user sees after converting
    target   what the runtime converted for runs right (bridge/targets.py)
    weight(layer, "kernel" | i), const(array, tag), keras(t),
    channels_first(t), to_perm(t, perm): weights, initializers, layouts.
    """

    def __init__(self, g: Opset13, model: Model, opset: int, warn: Callable[[str], None],
                 target: Optional["targets.Target"] = None):
        self.g = g
        self.model = model
        self.opset = opset
        self.warn = warn
        self.scope: tuple = ()        # names of enclosing nested models
        self.layer: Optional[Layer] = None
        self.call: Optional[Call] = None
        self._transposed: dict = {}
        self.tolerant: Optional[dict] = None   # inspect: {(scope, layer, call): shapes}
        self.target = target or targets.get(None)   # what the runtime runs right
        self.fallbacks: dict = {}     # (scope, layer name) -> why it took an explicit recurrence
        self.taps = None              # a bridge.taps.TapRecorder while layer outputs are recorded
        self.state_ports: list = []   # StatePort of every stateful layer, in emission order
        self._state_alias: Optional[tuple] = None   # states_of: (owner name, first index)

    # -- layout ---------------------------------------------------------
    def to_perm(self, t: Tensor, perm: Optional[Sequence[int]]) -> Tensor:
        """t held in layout `perm` (None: Keras's own), through one Transpose
        per tensor and layout, shared by every consumer."""
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
        """t in Keras's own order."""
        return self.to_perm(t, None)

    def channels_first(self, t: Tensor) -> Tensor:
        """The tensor with its last (channels) axis moved to axis 1."""
        return self.to_perm(t, channels_first_perm(t.rank))

    def to_layout(self, t: Tensor, layout: str, layer: Optional[Layer] = None) -> Tensor:
        """t as an emitter registered with `layout` takes it (bridge.registry):
        "keras" Keras's order; "channels_first" channels at axis 1 for the
        layer's data_format (a channels_first layer's tensor is already so
        in Keras's order); "any" as it is."""
        if layout == "keras":
            return self.keras(t)
        if layout == "channels_first":
            config = layer.config if layer is not None else {}
            if config.get("data_format", "channels_last") == "channels_first":
                return self.keras(t)
            return self.channels_first(t)
        return t

    # -- weights and constants ------------------------------------------
    def weight(self, layer: Layer, key: Union[str, int], shape: Optional[tuple] = None,
               required: bool = True) -> Optional[np.ndarray]:
        """A weight of `layer` as float32 (other float widths are widened):
        by its Keras name ('kernel', 'gamma', ...) where the file records or
        the registration declares names, or by its position `i` in Keras's
        `layer.weights` order, which every format keeps. With `shape`, a
        weight of another shape is refused. A missing weight raises, naming
        what is stored, unless `required=False` (then None)."""
        if isinstance(key, int):
            w = layer.weights[key].array if -len(layer.weights) <= key < len(layer.weights) else None
            what = f"no weight {key}" if key >= 0 else f"no weight at index {key}"
            label = f"weight {key}"
        else:
            w = layer.weight(key)
            what, label = f"no '{key}' weight", f"weight '{key}'"
        if w is None and self.tolerant is not None and shape is not None and None not in shape:
            check_elements(shape, label)
            return np.zeros(shape, np.float32)  # inspect without weights: shapes only
        if w is None:
            if not required:
                return None
            have = stored_weights(layer)
            raise WeightsError(f"{self.model.source}: {layer_where(layer)} has {what} "
                               f"(stored: {have}); the weights do not belong to "
                               f"this architecture: re-save the model with model.save()")
        if shape is not None and tuple(w.shape) != tuple(shape):
            raise WeightsError(f"{self.model.source}: {layer_where(layer)} {label} has shape "
                               f"{tuple(w.shape)} but the architecture needs {tuple(shape)}; the "
                               f"weights file does not match this architecture")
        return floating(w, f"{self.model.source}: {layer_where(layer)} {label}",
                        quantized=layer.quantization is not None)

    def const(self, array: "np.typing.ArrayLike", tag: str) -> str:
        """An initializer named '<scope>/<layer>/<tag>'. Content-addressed:
        the same array under the same tag (a shared layer's kernel, asked for
        once per call) is one initializer; a different array under a tag
        already used gets a name of its own."""
        path = "/".join(self.scope + ((self.layer.name,) if self.layer else ()) + (tag,))
        return self.g.const(np.asarray(array), path)

    # -- states carried between runs (stateful recurrent layers) -----------
    def state_inputs(self, layer: Layer, shapes: list) -> list:
        """Graph inputs for the states `layer` carries between runs, one per
        Keras state shape (batch left out) in Keras's order: Tensors named
        `<layer>/state_in/<k>`, in Keras layout."""
        base, first = self._state_owner(layer)
        if any(p.layer == base and p.index >= first for p in self.state_ports):
            raise UnsupportedError([f"{layer_where(layer)} is stateful and called more than once; "
                                    f"Keras would carry one state through every call: give each "
                                    f"call a layer of its own"], self.model.source)
        out = []
        for k, shape in enumerate(shapes):
            name = f"{base}/state_in/{first + k}"
            self.g.graph.reserve(name)
            t = Tensor(name=name, shape=(None,) + tuple(shape))
            self.state_ports.append(StatePort(base, first + k, t))
            out.append(t)
        return out

    def state_outputs(self, layer: Layer, states: list) -> None:
        """The states `layer` ends a run with (Tensors, in state_inputs' order)."""
        base, first = self._state_owner(layer)
        ports = {p.index: p for p in self.state_ports if p.layer == base}
        for k, t in enumerate(states):
            ports[first + k].output = self.keras(t)

    @contextmanager
    def states_of(self, wrapper: Layer, first: int):
        """Within: the states a wrapped layer carries are its wrapper's, from
        index `first` (a Bidirectional's backward layer: after the forward's)."""
        saved = self._state_alias
        self._state_alias = ("/".join(self.scope + (wrapper.name,)), first)
        try:
            yield
        finally:
            self._state_alias = saved

    def _state_owner(self, layer: Layer) -> tuple:
        return self._state_alias or ("/".join(self.scope + (layer.name,)), 0)

    # -- messages -------------------------------------------------------
    def where(self) -> str:
        return layer_where(self.layer) if self.layer else "model"
