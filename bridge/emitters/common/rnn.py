"""What the recurrent emitters share: a layer's cell read into one canonical
form (Keras gate order), and the time-major plumbing (reversal, masks,
dynamic sizes) around the ONNX LSTM / GRU / RNN nodes and the Scan fallback.

Every recurrent computation here runs time-major: an ONNX value (T, B, ...)
whose Keras tensor is (B, T, ...) is tagged with perm (1, 0, ...), so stacked
recurrent layers hand their sequences to each other without a Transpose.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
from onnx import TensorProto

from ...context import Tensor
from ...errors import ConfigError, layer_where, malformed
from ...ir import Layer
from .activation_functions import activation_name

INT64_MIN = int(np.iinfo(np.int64).min)

# Keras class -> (ONNX op, gates, weights per layer with bias)
KINDS = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN", "CuDNNLSTM": "LSTM",
         "CuDNNGRU": "GRU", "LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "RNN"}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
CUDNN = ("CuDNNLSTM", "CuDNNGRU")


@dataclass
class Cell:
    """One recurrent layer (or one direction of a Bidirectional), Keras layout:
    kernel (in, G*u), recurrent (u, G*u), gates in Keras order (LSTM i,f,c,o;
    GRU z,r,h). bias_in is added to x.W, bias_rec to h.R (GRU reset_after and
    the CuDNN layers have both)."""
    layer: Layer
    kind: str                          # LSTM | GRU | RNN
    units: int
    kernel: np.ndarray
    recurrent: np.ndarray
    bias_in: Optional[np.ndarray]
    bias_rec: Optional[np.ndarray]
    activation: object                 # Keras activation spec
    recurrent_activation: object       # None for RNN
    reset_after: bool = False
    go_backwards: bool = False
    return_sequences: bool = False
    return_state: bool = False
    time_major: bool = False
    zero_output: bool = False          # Keras zero_output_for_mask
    tag: str = ""                      # initializer name prefix

    @property
    def n_states(self) -> int:
        return 2 if self.kind == "LSTM" else 1


def flag(cfg: dict, key: str, default=False) -> bool:
    v = cfg.get(key, default)
    return default if v is None else bool(v)


def read_cell(ctx, layer: Layer, n_in, *, tag: str = "", zero_output=None) -> Cell:
    """The Cell of an LSTM / GRU / SimpleRNN / CuDNNLSTM / CuDNNGRU layer
    (config keys: units, activation, recurrent_activation, use_bias,
    reset_after, go_backwards, return_sequences, return_state, time_major,
    zero_output_for_mask; weights kernel, recurrent_kernel, bias)."""
    cls = layer.class_name
    kind = KINDS[cls]
    c = layer.config
    try:
        u = int(c["units"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{layer_where(layer)} has no integer 'units' in its config; the config "
                          f"is malformed") from None
    gu = GATES[kind] * u
    kernel = ctx.weight(layer, "kernel", shape=None if n_in is None else (n_in, gu))
    if kernel.ndim != 2 or kernel.shape[1] != gu:
        raise ConfigError(f"{layer_where(layer)}: kernel has shape {kernel.shape}, not (input, "
                          f"{gu}) for {u} units; the weights do not fit the config")
    rec = ctx.weight(layer, "recurrent_kernel", shape=(u, gu))
    cudnn = cls in CUDNN
    use_bias = True if cudnn else flag(c, "use_bias", True)
    bias_in = bias_rec = None
    reset_after = False
    if kind == "GRU" and not cudnn:
        reset_after = c.get("reset_after")
    if use_bias:
        b = ctx.weight(layer, "bias")
        if cudnn:
            if b.shape != (2 * gu,):
                raise ConfigError(f"{layer_where(layer)}: bias has shape {b.shape}, not "
                                  f"({2 * gu},) (input and recurrent biases); the weights do not "
                                  f"fit the config")
            bias_in, bias_rec = b[:gu], b[gu:]
        elif kind == "GRU" and b.shape == (2, gu):
            bias_in, bias_rec = b[0], b[1]
            if reset_after is None:
                reset_after = True
        elif b.shape == (gu,):
            bias_in = b
        else:
            raise ConfigError(f"{layer_where(layer)}: bias has shape {b.shape}, which does not "
                              f"fit {u} units; the weights do not fit the config")
        if kind == "GRU" and not cudnn and bool(reset_after) != (bias_rec is not None):
            raise ConfigError(f"{layer_where(layer)}: reset_after={reset_after} but the bias has "
                              f"shape {b.shape}; the weights do not fit the config")
    reset_after = True if cudnn and kind == "GRU" else bool(reset_after)
    if cudnn:
        kernel, rec = cudnn_kernels(kernel, rec, GATES[kind])
        act, rec_act = "tanh", "sigmoid"
    else:
        act = c.get("activation", "tanh")
        rec_act = c.get("recurrent_activation", "sigmoid") if kind != "RNN" else None
    zo = flag(c, "zero_output_for_mask") if zero_output is None else zero_output
    return Cell(layer=layer, kind=kind, units=u, kernel=kernel, recurrent=rec, bias_in=bias_in,
                bias_rec=bias_rec, activation=act, recurrent_activation=rec_act,
                reset_after=reset_after, go_backwards=flag(c, "go_backwards"),
                return_sequences=flag(c, "return_sequences"), return_state=flag(c, "return_state"),
                time_major=flag(c, "time_major"), zero_output=zo, tag=tag)


def cudnn_kernels(kernel: np.ndarray, rec: np.ndarray, gates: int):
    """CuDNNLSTM / CuDNNGRU weights -> the plain layer's (x.K, h.R) kernels.

    The CuDNN layers hand each gate's slice to cuDNN flattened as it lies in
    memory, which cuDNN reads as an (out, in) matrix: an (in, u) input slice
    is really u rows of `in`, and a recurrent slice is transposed. This is the
    conversion Keras's own HDF5 loader applies when it loads CuDNN weights
    into LSTM / GRU (saving/legacy/hdf5_format.py, _convert_rnn_weights)."""
    n_in, u = kernel.shape[0], rec.shape[0]
    ks = [k.reshape(u, n_in).T for k in np.split(kernel, gates, axis=1)]
    rs = [r.T for r in np.split(rec, gates, axis=1)]
    return np.ascontiguousarray(np.hstack(ks)), np.ascontiguousarray(np.hstack(rs))


def rnn_config_problems(cfg: dict, cls: str) -> list:
    """Problems of an LSTM / GRU / SimpleRNN / CuDNN config, before emission."""
    from .activation_functions import activation_problems
    problems = []
    if cls not in CUDNN:
        problems += activation_problems(cfg.get("activation", "tanh"))
        if KINDS.get(cls) != "RNN":
            problems += activation_problems(cfg.get("recurrent_activation", "sigmoid"))
    if "units" not in cfg:
        problems.append(malformed("the config has no 'units'; the config is malformed"))
    return problems


# -- activations the ONNX recurrent ops take in their `activations` attribute --

def onnx_activation(spec, keras3: bool):
    """(ONNX name, alpha, beta) for a Keras activation an ONNX LSTM/GRU/RNN node
    computes itself, None for one it cannot (which then takes the Scan)."""
    name = activation_name(spec)
    if name == "hard_sigmoid":
        return ("HardSigmoid", 1.0 / 6.0, 0.5) if keras3 else ("HardSigmoid", 0.2, 0.5)
    return {"sigmoid": ("Sigmoid", None, None), "tanh": ("Tanh", None, None),
            "relu": ("Relu", None, None), "linear": ("Affine", 1.0, 0.0),
            "elu": ("Elu", 1.0, None), "softsign": ("Softsign", None, None),
            "softplus": ("Softplus", None, None)}.get(name)


def cell_activations(cell: Cell) -> list:
    """The Keras activation specs in ONNX's (f, g, h) order."""
    if cell.kind == "LSTM":
        return [cell.recurrent_activation, cell.activation, cell.activation]
    if cell.kind == "GRU":
        return [cell.recurrent_activation, cell.activation]
    return [cell.activation]


def scan_reason(cell_like_cfg: dict, cls: str, keras3: bool, target=None) -> Optional[str]:
    """Why this layer config needs the Scan fallback (None: one ONNX node),
    for every runtime or for `target` (bridge.targets.Target)."""
    kind = KINDS.get(cls)
    if kind is None:
        return None
    if cls in CUDNN:
        specs = [("recurrent_activation", "sigmoid"), ("activation", "tanh")]
    else:
        specs = [("activation", cell_like_cfg.get("activation", "tanh"))]
        if kind != "RNN":
            specs.insert(0, ("recurrent_activation", cell_like_cfg.get("recurrent_activation", "sigmoid")))
    bad = [f"{k} '{activation_name(v)}'" for k, v in specs if onnx_activation(v, keras3) is None]
    if bad:
        return (f"{' and '.join(bad)} has no ONNX {kind} activation: unrolled as an ONNX Scan "
                f"instead of one {kind} node")
    if target is not None:
        onnx_specs = [onnx_activation(v, keras3)[0] for _, v in specs]
        order = {"LSTM": [0, 1, 1], "GRU": [0, 1], "RNN": [0]}[kind]
        why = target.rnn_node_reason(kind, [onnx_specs[i] for i in order])
        if why:
            return f"{why}: an explicit recurrence (ONNX Scan) instead of one {kind} node"
    return None


# -- time-major plumbing ------------------------------------------------------

@dataclass
class Seq:
    """The input of a recurrent layer, time-major: X (T, B, F...) and the
    Keras mask as (T, B) bool (None when unmasked)."""
    x: str
    mask: Optional[str]
    steps: Optional[int]               # T when static
    keras_shape: tuple                 # the Keras input shape
    time_major: bool = False


def time_major_input(ctx, t: Tensor, time_major: bool) -> Seq:
    """The layer input as a time-major ONNX value (no Transpose when it already is)."""
    g = ctx.g
    if time_major:
        x = ctx.keras(t).name
        steps = t.shape[0]
        mask = t.mask
    else:
        perm = (1, 0) + tuple(range(2, t.rank))
        x = ctx.to_perm(t, perm).name
        steps = t.shape[1]
        mask = cached(ctx, ("mask_tm", t.mask), lambda: g.op("Transpose", t.mask, perm=[1, 0])) \
            if t.mask else None
    return Seq(x=x, mask=mask, steps=steps, keras_shape=t.shape, time_major=time_major)


def cached(ctx, key, make):
    """One value per key and conversion (a mask's derived values are shared by
    every layer that consumes the mask)."""
    store = ctx.g.graph.memo.setdefault("rnn", {})
    if key not in store:
        store[key] = make()
    return store[key]


def split_inputs(ctx, inputs: list):
    """(x, initial states) of a recurrent call. tf.keras lists initial states
    as extra positional inputs; Keras 3 passes initial_state= and mask= by
    keyword (an explicit mask tensor then replaces the one x carries)."""
    from .calls import bound_call
    args, kw = bound_call(ctx.call, inputs)
    first = args[0] if args else inputs[0]
    if isinstance(first, list):
        x, states = first[0], list(first[1:])
    else:
        x, states = first, []
    init = kw.get("initial_state")
    if isinstance(init, Tensor):
        states.append(init)
    elif isinstance(init, list):
        states += [t for t in init if isinstance(t, Tensor)]
    mask = kw.get("mask")
    if isinstance(mask, list):
        mask = mask[0] if mask else None
    if isinstance(mask, Tensor):
        name = mask.name if mask.dtype == TensorProto.BOOL else ctx.g.op(
            "Cast", mask.name, to=TensorProto.BOOL)
        x = replace(x, mask=name)
    return x, states


def reverse_time(ctx, name: str, steps: Optional[int] = None) -> str:
    """Reverse a time-major value along axis 0: a Gather of the steps in
    reverse when their number is static (tract mis-plans a negative-step
    Slice behind a Reshape), else a Slice with step -1."""
    g = ctx.g
    if steps is not None:
        return cached(ctx, ("reverse", name), lambda: g.op(
            "Gather", name, g.i64(np.arange(steps - 1, -1, -1)), axis=0))
    return cached(ctx, ("reverse", name), lambda: g.op(
        "Slice", name, g.i64([-1]), g.i64([INT64_MIN]), g.i64([0]), g.i64([-1])))


def reversed_seq(ctx, s: Seq) -> Seq:
    return replace(s, x=reverse_time(ctx, s.x, s.steps),
                   mask=reverse_time(ctx, s.mask, s.steps) if s.mask else None)


def scalar_i64(g, value: int) -> str:
    """A 0-d int64 constant (Gather indices, Range bounds, CumSum axis); a
    Constant node, since the shared initializer path stores 0-d arrays as 1-d."""
    from onnx import helper
    cache = g.graph.memo.setdefault("scalar_i64", {})
    if value not in cache:
        cache[value] = g.op("Constant", value=helper.make_tensor("value", TensorProto.INT64, [],
                                                                 [int(value)]),
                            name=f"const_i64_scalar_{value}".replace("-", "m"))
    return cache[value]


def dims(ctx, name: str, start: int, end: Optional[int] = None) -> str:
    """Shape(name)[start:end] as a 1-D int64 value."""
    g = ctx.g
    args = [g.op("Shape", name), g.i64([start])]
    args.append(g.i64([end]) if end is not None else g.i64([np.iinfo(np.int64).max]))
    return g.op("Slice", *args)


def zeros_state(ctx, x_tm: str, tail: tuple) -> str:
    """Zeros of shape (B,) + tail, B read from the time-major x (T, B, ...)."""
    g = ctx.g
    shape = g.op("Concat", dims(ctx, x_tm, 1, 2), g.i64(list(tail)), axis=0)
    return g.op("ConstantOfShape", shape, value=_zero_attr())


def _zero_attr():
    from onnx import helper
    return helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0])


def keras_perm_seq(rank: int, time_major: bool):
    """Perm of a time-major (T, B, ...) ONNX value whose Keras tensor is (B, T, ...)."""
    if time_major:
        return None
    return (1, 0) + tuple(range(2, rank))


def carried_states(ctx, layer: Layer, given, shapes: list, *, stateful: bool):
    """The states a call starts from: `given` (initial_state=..., ONNX names
    in Keras layout, or None), or for a stateful layer (stateful=True) the
    graph inputs that carry them over from the previous run (Keras's stored
    states; zeros are reset_states()). `shapes`: Keras's state shapes without
    the batch, in Keras's order."""
    if not stateful:
        return given
    if given:
        from ...errors import UnsupportedError
        raise UnsupportedError([f"{layer_where(layer)} is stateful and also given initial_state; "
                                f"Keras then ignores the carried state: drop one of the two"],
                               ctx.model.source)
    return [t.name for t in ctx.state_inputs(layer, shapes)]


def end_states(ctx, layer: Layer, states: list, *, stateful: bool) -> None:
    """The states a stateful layer's run ends with (Tensors), carried over to
    the next run as graph outputs; nothing for other layers."""
    if stateful:
        ctx.state_outputs(layer, states)


def state_tensor(ctx, t: Tensor) -> str:
    """A Keras (B, ...) state in Keras layout."""
    return ctx.keras(t).name


_CELLS = ("LSTMCell", "GRUCell", "SimpleRNNCell")


def rnn_cells(cls, cfg: dict) -> Optional[list]:
    """[(cell class, cell config)] of a generic RNN layer, None when it is not
    an RNN of built-in cells (config key `cell`: one cell or StackedRNNCells)."""
    if cls != "RNN":
        return None
    cell = cfg.get("cell")
    if isinstance(cell, dict) and cell.get("class_name") == "StackedRNNCells":
        specs = (cell.get("config") or {}).get("cells") or []
    elif isinstance(cell, list):
        specs = cell
    else:
        specs = [cell]
    out = []
    for spec in specs:
        if not isinstance(spec, dict) or spec.get("class_name") not in _CELLS:
            return None
        out.append((spec["class_name"], dict(spec.get("config") or {})))
    return out or None


_CONV_REASON = "ONNX has no convolutional LSTM node: computed with an ONNX Scan"


def fallback_reason(layer: Layer, keras_major: int = 2, target=None) -> Optional[str]:
    """For `bridge inspect`: why this layer is computed with an ONNX Scan
    instead of one LSTM / GRU / RNN node (None when it is not), for every
    runtime or for `target`."""
    keras3 = keras_major >= 3
    if layer.class_name in KINDS:
        return scan_reason(layer.config, layer.class_name, keras3, target)
    if layer.class_name in ("RNN", "Bidirectional"):
        specs = ([{"class_name": "RNN", "config": layer.config}] if layer.class_name == "RNN"
                 else [layer.config.get("layer"), layer.config.get("backward_layer")])
        reasons = []
        for spec in specs:
            if not isinstance(spec, dict):
                continue
            cells = rnn_cells(spec.get("class_name"), spec.get("config") or {}) or [
                (spec.get("class_name"), spec.get("config") or {})]
            for cls, cfg in cells:
                r = scan_reason(cfg, cls, keras3, target) if cls in KINDS else (
                    _CONV_REASON if cls in ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D") else None)
                if r and r not in reasons:
                    reasons.append(r)
        return "; ".join(reasons) or None
    if layer.class_name in ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"):
        return _CONV_REASON
    if layer.class_name == "TimeDistributed":
        inner = layer.config.get("layer")
        if isinstance(inner, dict) and "class_name" in inner:
            sub = Layer(name=layer.name, class_name=inner["class_name"], config=inner.get("config") or {})
            return fallback_reason(sub, keras_major, target)
    return None
