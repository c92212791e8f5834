"""Recurrent layers: LSTM, GRU, SimpleRNN, CuDNNLSTM, CuDNNGRU, Bidirectional.

A standard layer becomes one ONNX LSTM / GRU / RNN node, a Bidirectional one
node with direction="bidirectional". Weights are re-laid out once:

  LSTM  Keras gates i,f,c,o -> ONNX i,o,f,c; the Keras bias goes in the input
        half of B, zeros in the recurrent half (CuDNNLSTM fills both halves)
  GRU   gates z,r,h in both; reset_after=True (bias (2, 3u)) is ONNX
        linear_before_reset=1, reset_after=False (bias (3u)) is 0; CuDNNGRU
        is reset_after with its input and recurrent biases
  RNN   one gate

Activations go in the node's `activations` attribute (hard_sigmoid by the
formula of the Keras that saved the file); one the ONNX ops do not list
(gelu, swish, selu, ...) sends the layer to an explicit Scan
(common/scan.py), and `fallback_reason(layer)` says so. So does what the
conversion's target runtime cannot run in the node (ctx.target, from
bridge/targets.py: its activations, masks, initial states, ...): `node_ok`
asks the table and tells `bridge inspect --target` why.

Masks (Embedding(mask_zero=True), Masking) follow Keras exactly, arbitrary
masks included: masked steps are skipped and the state carried over. For
the ONNX nodes the valid steps of each row are first gathered to the front
in order (a stable TopK on the step index), the node runs with
sequence_lens = the number of valid steps, and the outputs are gathered
back: a masked step repeats the previous output (zeros before the first
valid step, or zeros throughout with zero_output_for_mask, which
Bidirectional forces when it returns sequences).

go_backwards reverses the input (and mask) and keeps the outputs in the
order processed, as Keras does. stateful=True: an ONNX model keeps nothing
between runs, so the states Keras stores in the layer become graph inputs
and outputs (common/rnn.py carried_states / end_states, bridge.emit): a run
starts from the states fed in and returns the ones it ends with, which the
caller feeds to the next run (zeros: Keras's reset_states()).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
from onnx import TensorProto

from ..context import Tensor
from ..errors import ConfigError, layer_where, malformed, same_kind
from ..ir import Call, Layer, TensorRef
from ..registry import REGISTRY, register, with_bias
from ..safety import check_elements
from ..walk import emit_inner
from .common.scan import scan_cell
from .common.rnn import (GATES, KINDS, Cell, carried_states, cell_activations, end_states, fallback_reason, flag,
                         keras_perm_seq, onnx_activation, cached, read_cell, reverse_time, reversed_seq,
                         rnn_config_problems, scalar_i64, rnn_cells, split_inputs, state_tensor,
                         time_major_input)

_LAYERS = ("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU")
_MERGE = ("concat", "sum", "mul", "ave", None)
_NAME_UNUSED_Y = False


@dataclass
class DirOut:
    seq: Optional[str]        # time-major (T, B, u), in the order Keras returns it
    last: str                 # (B, u)
    states: list              # (B, u) each


# -- checks and inspect hook ---------------------------------------------------

def _check_layer(layer, opset) -> list:
    return rnn_config_problems(layer.config, layer.class_name)


# -- one ONNX LSTM / GRU / RNN node --------------------------------------------

def _onnx_weights(cell: Cell):
    """(W (G*u, in), R (G*u, u), B (2*G*u) or None) in ONNX gate order."""
    u, gates = cell.units, GATES[cell.kind]
    order = [0, 3, 1, 2] if cell.kind == "LSTM" else list(range(gates))

    def regate(m):  # (..., G*u) Keras order -> ONNX order
        parts = np.split(m, gates, axis=-1)
        return np.concatenate([parts[i] for i in order], axis=-1)

    w = regate(cell.kernel).T
    r = regate(cell.recurrent).T
    if cell.bias_in is None and cell.bias_rec is None:
        return w, r, None
    zeros = np.zeros(gates * u, np.float32)
    bi = regate(cell.bias_in) if cell.bias_in is not None else zeros
    br = regate(cell.bias_rec) if cell.bias_rec is not None else zeros
    return w, r, np.concatenate([bi, br]).astype(np.float32)


def node_ok(cell: Cell, ctx, masked: bool = False, initial: bool = False,
            need_seq: bool = False) -> bool:
    """Whether one ONNX node computes this cell on the conversion's target;
    when the target is what rules it out, inspect is told why."""
    acts = [onnx_activation(a, ctx.model.keras_major >= 3) for a in cell_activations(cell)]
    if any(a is None for a in acts):
        return False
    why = ctx.target.rnn_node_reason(cell.kind, [a[0] for a in acts])
    if why is None and masked and not ctx.target.rnn_sequence_lens:
        why = (f"{ctx.target.name} does not honour a sequence_lens computed at run time (the "
               f"Keras mask)")
    if why is None and initial and not ctx.target.rnn_initial_states:
        why = f"{ctx.target.name} does not run an ONNX {cell.kind} with initial states"
    if (why is None and need_seq and cell.return_state and cell.kind == "LSTM"
            and not ctx.target.rnn_y_with_y_c):
        why = f"{ctx.target.name} does not give an ONNX LSTM's Y and Y_c together"
    if why is not None:
        ctx.fallbacks[(ctx.scope, ctx.layer.name)] = (f"{why}: an explicit recurrence (ONNX Scan) "
                                                      f"instead of one {cell.kind} node")
    return why is None


def _node(ctx, op: str, inputs: list, want: list, **attrs) -> list:
    """A node whose unwanted optional outputs are left unnamed."""
    g = ctx.g
    while inputs and not inputs[-1]:
        inputs = inputs[:-1]
    name = g.graph.fresh(f"{g.scope}/{op}")
    outs = [g.graph.fresh(f"{name}:{i}") if w else "" for i, w in enumerate(want)]
    while outs and not outs[-1]:
        outs = outs[:-1]
    g.graph.node(op, inputs, outs, name, **attrs)
    return outs + [""] * (len(want) - len(outs))


class _Compaction:
    """Gathers each row's valid steps to the front, and the results back."""

    def __init__(self, ctx, s):
        self.ctx = ctx
        self.m = s.mask                                       # (T, B) bool
        (self.mi, self.c, self.n, self.order, self.lens) = cached(
            ctx, ("compaction", s.mask), lambda: self._indices(ctx, s))
        self.x = self._gather(s.x, self.order)

    @staticmethod
    def _indices(ctx, s):
        g = ctx.g
        mi = g.op("Cast", s.mask, to=TensorProto.INT64)
        c = g.op("CumSum", mi, scalar_i64(g, 0))              # valid steps up to t
        n = g.reduce("ReduceSum", mi, [0], keepdims=False)    # (B,) valid steps
        if s.steps is not None:
            t_len = g.i64([s.steps])
            check_elements(s.steps, "the time steps")
            steps = g.i64(np.arange(s.steps).reshape(-1, 1))
        else:
            t_len = g.op("Slice", g.op("Shape", s.mask), g.i64([0]), g.i64([1]))
            steps = g.unsqueeze(g.op("Range", scalar_i64(g, 0), g.squeeze(t_len, [0]),
                                      scalar_i64(g, 1)), [1])
        # key: t for a valid step, t + T for a masked one; ascending = stable compaction
        key = g.op("Add", steps, g.op("Mul", g.op("Sub", g.i64(1), mi), t_len))
        _, order = g.op("TopK", key, t_len, axis=0, largest=0, sorted=1, n_out=2)
        return mi, c, n, order, g.op("Cast", n, to=TensorProto.INT32)

    def _gather(self, y: str, idx: str) -> str:
        g = self.ctx.g
        full = g.op("Expand", g.unsqueeze(idx, [2]), g.op("Shape", y))
        return g.op("GatherElements", y, full, axis=0)

    def back(self, y: str, *, reverse: bool, zero_output: bool) -> str:
        """(T, B, u) compacted results -> Keras's output per original step."""
        g = self.ctx.g
        if reverse:
            idx = g.op("Sub", self.c, self.mi)     # this step if valid, else the next valid one
            valid = self.m if zero_output else g.op("Less", idx, g.unsqueeze(self.n, [0]))
        else:
            idx = g.op("Sub", self.c, g.i64(1))    # this step if valid, else the previous one
            valid = self.m if zero_output else g.op("Greater", self.c, g.i64(0))
        return g.op("Where", g.unsqueeze(valid, [2]), self._gather(y, idx), g.f32(0.0))

    def started(self) -> str:
        """(B, 1) bool: the row has at least one valid step."""
        g = self.ctx.g
        return g.unsqueeze(g.op("Greater", self.n, g.i64(0)), [1])

    def step_valid(self, index: int) -> str:
        g = self.ctx.g
        return g.unsqueeze(g.op("Gather", self.m, scalar_i64(g, index), axis=0), [1])


def node_path(ctx, cells: list, s, inits, need_seq: bool):
    """Run 1 (forward) or 2 (bidirectional) cells as one ONNX node.
    Returns ([DirOut per cell], stacked) where stacked = (Y, Y_h) when no
    mask made the outputs per-direction values."""
    g = ctx.g
    keras3 = ctx.model.keras_major >= 3
    kind, u = cells[0].kind, cells[0].units
    both = len(cells) == 2
    p = "" if both or not cells[0].tag else f"{cells[0].tag}/"
    ws = [_onnx_weights(c) for c in cells]
    w = ctx.const(np.stack([x[0] for x in ws]), p + "W")
    r = ctx.const(np.stack([x[1] for x in ws]), p + "R")
    b = ""
    if any(x[2] is not None for x in ws):
        zero = np.zeros(2 * GATES[kind] * u, np.float32)
        b = ctx.const(np.stack([x[2] if x[2] is not None else zero for x in ws]), p + "B")
    acts, alphas, betas = [], [], []
    for c in cells:
        for spec in cell_activations(c):
            name, al, be = onnx_activation(spec, keras3)
            acts.append(name)
            alphas += [al] if al is not None else []
            betas += [be] if be is not None else []
    x, lens, comp = s.x, "", None
    if s.mask is not None:
        comp = _Compaction(ctx, s)
        x, lens = comp.x, comp.lens
    init_in = ["", ""]
    if inits:
        for k in range(cells[0].n_states):
            init_in[k] = g.op("Concat", *[g.unsqueeze(i[k], [0]) for i in inits], axis=0) \
                if both else g.unsqueeze(inits[0][k], [0])
    attrs = dict(hidden_size=u, direction="bidirectional" if both else "forward",
                 activations=acts, activation_alpha=alphas or None, activation_beta=betas or None)
    if kind == "GRU":
        attrs["linear_before_reset"] = int(cells[0].reset_after)
    n_out = 3 if kind == "LSTM" else 2
    inputs = [x, w, r, b, lens, init_in[0]] + ([init_in[1]] if kind == "LSTM" else [])
    # Y is named even when unused: tests/helpers.assert_fully_shaped does not
    # yet accept an omitted ("") optional output.
    outs = _node(ctx, kind, inputs, [_NAME_UNUSED_Y or need_seq] + [True] * (n_out - 1), **attrs)
    y, finals = outs[0], outs[1:]

    def pick(v, axis, d):
        return g.squeeze(v, [axis]) if not both else g.op("Gather", v, scalar_i64(g, d), axis=axis)

    res = []
    for d, cell in enumerate(cells):
        states = [pick(f, 0, d) for f in finals]
        last = states[0]
        seq = pick(y, 1, d) if need_seq else None
        if comp is not None:
            if seq is not None:
                seq = comp.back(seq, reverse=d == 1, zero_output=cell.zero_output)
            if cell.zero_output:
                last = g.op("Where", comp.step_valid(0 if d == 1 else -1), last, g.f32(0.0))
            if inits:
                started = comp.started()
                last = g.op("Where", started, last, g.f32(0.0))
                states = [g.op("Where", started, st, i) for st, i in zip(states, inits[d])]
        res.append(DirOut(seq, last, states))
    stacked = (y, finals[0]) if comp is None and both else None
    return res, stacked


def run_cell(ctx, cell: Cell, s, init, need_seq: bool) -> DirOut:
    """One layer (or one direction): go_backwards, then one node or a Scan."""
    if cell.go_backwards:
        s = reversed_seq(ctx, s)
    if node_ok(cell, ctx, s.mask is not None, bool(init), need_seq):
        return node_path(ctx, [cell], s, [init] if init else None, need_seq)[0][0]
    seq, last, states = scan_cell(ctx, cell, s, init, need_seq)
    return DirOut(seq, last, states)


# -- the layers ----------------------------------------------------------------

def _initial_states(ctx, layer, states: list, n: int, where_layer) -> Optional[list]:
    if not states:
        return None
    if len(states) != n:
        raise ConfigError(f"{layer_where(where_layer)} is called with {len(states)} initial "
                          f"state tensor(s) but needs {n}; the config is malformed")
    return [state_tensor(ctx, t) for t in states]


def _seq_tensor(name, cell: Cell, x: Tensor, units: int) -> Tensor:
    shape = tuple(x.shape[:2]) + (units,)
    return Tensor(name=name, shape=shape, perm=keras_perm_seq(3, cell.time_major), mask=x.mask)


def _vec(name, units) -> Tensor:
    return Tensor(name=name, shape=(None, units))


@register(*_LAYERS, check=_check_layer, note=fallback_reason, layout="any",
          weights=with_bias("kernel", "recurrent_kernel"))
def recurrent_layer(layer, inputs, ctx):
    """LSTM / GRU / SimpleRNN / CuDNNLSTM / CuDNNGRU(units, activation,
    recurrent_activation, use_bias, reset_after, return_sequences,
    return_state, go_backwards, time_major, zero_output_for_mask); extra
    inputs are the initial states (initial_state= in the functional API)."""
    x, states = split_inputs(ctx, inputs)
    cell = read_cell(ctx, layer, x.shape[-1])
    init = _initial_states(ctx, layer, states, cell.n_states, layer)
    stateful = flag(layer.config, "stateful")
    init = carried_states(ctx, layer, init, [(cell.units,)] * cell.n_states, stateful=stateful)
    s = time_major_input(ctx, x, cell.time_major)
    out = run_cell(ctx, cell, s, init, cell.return_sequences)
    u = cell.units
    end_states(ctx, layer, [_vec(st, u) for st in out.states], stateful=stateful)
    main = _seq_tensor(out.seq, cell, x, u) if cell.return_sequences else _vec(out.last, u)
    return [main] + ([_vec(st, u) for st in out.states] if cell.return_state else [])


# -- RNN(cell) and RNN(StackedRNNCells) ------------------------------------------

_RNN_KEYS = ("return_sequences", "return_state", "go_backwards", "time_major",
             "zero_output_for_mask", "stateful", "unroll")


def as_cell_spec(cls, cfg: dict):
    """An RNN of one built-in cell as that cell's class with the RNN's options."""
    cells = rnn_cells(cls, cfg)
    if cells and len(cells) == 1:
        ccls, ccfg = cells[0]
        return ccls, dict(ccfg, **{k: cfg[k] for k in _RNN_KEYS if k in cfg})
    return cls, cfg


def _check_rnn(layer, opset) -> list:
    cells = rnn_cells("RNN", layer.config)
    if cells is None:
        cell = layer.config.get("cell")
        name = cell.get("class_name") if isinstance(cell, dict) else cell
        return [f"RNN with the cell {name!r}: only LSTMCell, GRUCell, SimpleRNNCell and "
                f"StackedRNNCells of them convert; register an emitter for a custom cell's RNN"]
    return [same_kind(p, f"{cls}: {p}") for cls, cfg in cells for p in rnn_config_problems(cfg, cls)]


def _cell_weights(layer: Layer, cells: list) -> list:
    """The RNN's weights per cell: by the cell's name in the weight path, else in order."""
    ws = list(layer.weights)
    names = [cfg.get("name") for _, cfg in cells]
    groups = [[w for w in ws if n and n in w.name.split("/")[:-1]] for n in names]
    if len(set(names)) == len(names) and sum(map(len, groups)) == len(ws):
        return groups
    out = []
    for _, cfg in cells:
        n = 3 if flag(cfg, "use_bias", True) else 2
        out.append(ws[:n])
        ws = ws[n:]
    return out


@register("RNN", check=_check_rnn, note=fallback_reason, layout="any")
def generic_rnn(layer, inputs, ctx):
    """RNN(cell: LSTMCell | GRUCell | SimpleRNNCell | StackedRNNCells of them,
    return_sequences, return_state, go_backwards, time_major): a stack of
    cells runs as one ONNX node per cell, all on the once-reversed sequence
    when go_backwards."""
    c = layer.config
    specs = rnn_cells("RNN", c)
    x, states = split_inputs(ctx, inputs)
    opts = {k: c[k] for k in _RNN_KEYS if k in c}
    cells, n_in = [], x.shape[-1]
    for i, ((cls, cfg), ws) in enumerate(zip(specs, _cell_weights(layer, specs))):
        sub = Layer(name=f"{layer.name}/{cfg.get('name', cls.lower())}", class_name=cls,
                    config=dict(cfg, **opts), weights=ws)
        cell = read_cell(ctx, sub, n_in, tag=f"cell{i}" if len(specs) > 1 else "")
        cells.append(replace(cell, go_backwards=False))
        n_in = cell.units
    n = sum(cell.n_states for cell in cells)
    if states and len(states) != n:
        raise ConfigError(f"{layer_where(layer)} is called with {len(states)} initial state "
                          f"tensor(s) but needs {n}; the config is malformed")
    inits = [state_tensor(ctx, t) for t in states]
    inits = carried_states(ctx, layer, inits, [(cell.units,) for cell in cells
                                               for _ in range(cell.n_states)],
                           stateful=flag(c, "stateful"))
    s = time_major_input(ctx, x, cells[0].time_major)
    if flag(c, "go_backwards"):
        s = reversed_seq(ctx, s)
    outs = []
    for i, cell in enumerate(cells):
        last = i == len(cells) - 1
        init = inits[:cell.n_states] or None
        inits = inits[cell.n_states:]
        o = run_cell(ctx, cell, s, init, cell.return_sequences or not last)
        outs.append(o)
        if not last:
            s = replace(s, x=o.seq)
    top = cells[-1]
    main = (_seq_tensor(outs[-1].seq, top, x, top.units) if top.return_sequences
            else _vec(outs[-1].last, top.units))
    extra = [_vec(st, cell.units) for cell, o in zip(cells, outs) for st in o.states]
    end_states(ctx, layer, extra, stateful=flag(c, "stateful"))
    return [main] + (extra if top.return_state else [])


# -- Bidirectional -------------------------------------------------------------

def _sublayers(layer: Layer):
    """The forward and backward layers of a Bidirectional (`layer.wrapped`,
    made by bridge.normalize), an RNN of one cell read as that cell."""
    if len(layer.wrapped) != 2:
        raise ConfigError(f"{layer_where(layer)} has no wrapped 'layer' in its config; the config "
                          f"is malformed")
    f, b = layer.wrapped
    fcls, fcfg = as_cell_spec(f.class_name, f.config)
    bcls, bcfg = as_cell_spec(b.class_name, b.config)
    inner = fcfg.get("name", fcls.lower())
    fl = Layer(name=f"{layer.name}/forward_{inner}", class_name=fcls, config=fcfg, weights=f.weights)
    bl = Layer(name=f"{layer.name}/backward_{bcfg.get('name', inner)}", class_name=bcls,
               config=bcfg, weights=b.weights)
    return fl, bl


def _check_bidirectional(layer, opset) -> list:
    c = layer.config
    problems = []
    if c.get("merge_mode", "concat") not in _MERGE:
        problems.append(malformed(f"merge_mode {c.get('merge_mode')!r} is not one Keras knows "
                                  f"(concat, sum, mul, ave, None); the config is malformed"))
    for key in ("layer", "backward_layer"):
        spec = c.get(key)
        if spec is None and key == "backward_layer":
            continue
        cls = spec.get("class_name") if isinstance(spec, dict) else spec
        cfg = (spec.get("config") or {}) if isinstance(spec, dict) else {}
        ccls, ccfg = as_cell_spec(cls, cfg)
        if key == "layer" and ccls in CONV_LSTM:
            bspec = c.get("backward_layer")
            bcls = bspec.get("class_name") if isinstance(bspec, dict) else ccls
            bcfg = (bspec.get("config") or {}) if isinstance(bspec, dict) else ccfg
            problems += _conv_lstm_problems(ccls, ccfg, bcls, bcfg, opset)
            break
        if ccls not in KINDS:
            problems.append(f"the wrapped {key} is {cls!r}; Bidirectional converts "
                            f"{', '.join(_LAYERS + CONV_LSTM)} and RNN with one LSTMCell / "
                            f"GRUCell / SimpleRNNCell")
            continue
        problems += [same_kind(p, f"wrapped {cls}: {p}") for p in rnn_config_problems(ccfg, ccls)]
    return problems


def _merge(ctx, mode, a: str, b: str, axis: int) -> str:
    g = ctx.g
    if mode == "concat":
        return g.op("Concat", a, b, axis=axis)
    if mode == "sum":
        return g.op("Add", a, b)
    if mode == "mul":
        return g.op("Mul", a, b)
    return g.op("Div", g.op("Add", a, b), g.f32(2.0))


def _merge_stacked(ctx, mode, v: str, dir_axis: int) -> str:
    """Merge the direction axis of a node output (Y: axis 1, Y_h: axis 0)."""
    g = ctx.g
    if mode == "concat":
        rank = 4 if dir_axis == 1 else 3
        perm = list(range(rank))
        perm.remove(dir_axis)
        perm.insert(rank - 2, dir_axis)
        shape = [0] * (rank - 2) + [-1]
        return g.op("Reshape", g.op("Transpose", v, perm=perm), g.i64(shape))
    op = {"sum": "ReduceSum", "mul": "ReduceProd", "ave": "ReduceMean"}[mode]
    return g.reduce(op, v, [dir_axis], keepdims=False)


# -- Bidirectional(ConvLSTMnD) ------------------------------------------------------
# Each direction is the ConvLSTM emitter's Scan (conv_lstm.py, through the
# registry); the backward sequence is flipped back along time and the two are
# merged on the last Keras axis, as Keras's Bidirectional does whatever the
# data_format (a channels_first sequence is concatenated along its width).
CONV_LSTM = ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")


def _conv_lstm_problems(fcls: str, fcfg: dict, bcls: str, bcfg: dict, opset: int) -> list:
    if bcls != fcls:
        return [f"the backward layer is {bcls!r} but the forward one {fcls!r}; Bidirectional "
                f"converts a ConvLSTM backward layer of the same class"]
    check = REGISTRY.lookup(fcls, opset).check
    problems = [f"wrapped {fcls}: {p}" for cfg in (fcfg, bcfg)
                for p in check(Layer(name="", class_name=fcls, config=cfg), opset)]
    return list(dict.fromkeys(problems))


def _conv_lstm_direction(ctx, sub: Layer, x: Tensor, states: list, rs: bool) -> list:
    """One direction, with zero_output_for_mask = return_sequences as Keras forces."""
    sub = replace(sub, config=dict(sub.config, zero_output_for_mask=rs))
    refs = tuple(TensorRef(f"{sub.name}:{i}") for i in range(1 + len(states)))
    return emit_inner(ctx, sub, [x] + list(states), Call(refs, {}))


def _bidirectional_conv_lstm(ctx, fl: Layer, bl: Layer, x: Tensor, states: list, mode) -> list:
    g = ctx.g
    rs = flag(fl.config, "return_sequences")
    if states and len(states) != 4:
        raise ConfigError(f"{ctx.where()} is called with {len(states)} initial state tensor(s) but "
                          f"needs 4 (forward h, c, backward h, c); the config is malformed")
    outer = ctx.layer
    with ctx.states_of(outer, 0):      # stateful: h, c forward, then backward (indices 2, 3)
        fo = _conv_lstm_direction(ctx, fl, x, states[:2], rs)
    with ctx.states_of(outer, 2):
        bo = _conv_lstm_direction(ctx, bl, x, states[2:], rs)
    yf, yb = fo[0], bo[0]
    if rs:
        yb = yb.like(g.op("Slice", yb.name, g.i64([-1]), g.i64([np.iinfo(np.int64).min]),
                          g.i64([yb.onnx_axis(1)]), g.i64([-1])))
    yb = ctx.to_perm(yb, yf.perm)
    mask = x.mask if rs else None
    if mode is None:
        outs = [replace(yf, mask=mask), replace(yb, mask=mask)]
    else:
        y = _merge(ctx, mode, yf.name, yb.name, yf.onnx_axis(-1))
        shape = yf.shape
        if mode == "concat":
            last = None if None in (yf.shape[-1], yb.shape[-1]) else yf.shape[-1] + yb.shape[-1]
            shape = tuple(yf.shape[:-1]) + (last,)
        outs = [replace(yf, name=y, shape=shape, mask=mask)]
    return outs + list(fo[1:]) + list(bo[1:])


@register("Bidirectional", check=_check_bidirectional, note=fallback_reason, layout="any")
def bidirectional(layer, inputs, ctx):
    """Bidirectional(layer, backward_layer, merge_mode); extra inputs are the
    initial states, forward ones first."""
    x, states = split_inputs(ctx, inputs)
    mode = layer.config.get("merge_mode", "concat")
    fl, bl = _sublayers(layer)
    if fl.class_name in CONV_LSTM:
        return _bidirectional_conv_lstm(ctx, fl, bl, x, states, mode)
    rs = flag(fl.config, "return_sequences")
    # Keras forces zero_output_for_mask = return_sequences on both directions.
    fc = read_cell(ctx, fl, x.shape[-1], tag="forward", zero_output=rs)
    bc = read_cell(ctx, bl, x.shape[-1], tag="backward", zero_output=rs)
    n = fc.n_states + bc.n_states
    if states and len(states) != n:
        raise ConfigError(f"{layer_where(layer)} is called with {len(states)} initial state "
                          f"tensor(s) but needs {n}; the config is malformed")
    fi = [state_tensor(ctx, t) for t in states[:fc.n_states]] or None
    bi = [state_tensor(ctx, t) for t in states[fc.n_states:]] or None
    stateful = flag(fl.config, "stateful")
    if stateful:   # Keras: the forward layer's states, then the backward's
        carried = carried_states(ctx, layer, fi and fi + bi, [(fc.units,)] * fc.n_states
                                 + [(bc.units,)] * bc.n_states, stateful=True)
        fi, bi = carried[:fc.n_states], carried[fc.n_states:]
    s = time_major_input(ctx, x, fc.time_major)
    masked = s.mask is not None
    one_node = (ctx.target.rnn_bidirectional and not fc.go_backwards and bc.go_backwards
                and fc.kind == bc.kind
                and fc.units == bc.units and fc.reset_after == bc.reset_after
                and fc.time_major == bc.time_major and node_ok(fc, ctx, masked, bool(fi), rs)
                and node_ok(bc, ctx, masked, bool(fi), rs))
    stacked = None
    if one_node:
        (fo, bo), stacked = node_path(ctx, [fc, bc], s, [fi, bi] if fi else None, rs)
    else:
        fo = run_cell(ctx, fc, s, fi, rs)
        bo = run_cell(ctx, bc, s, bi, rs)
        if rs:
            bo = replace(bo, seq=reverse_time(ctx, bo.seq, s.steps))
    if mode is None:
        if rs:
            outs = [_seq_tensor(fo.seq, fc, x, fc.units), _seq_tensor(bo.seq, bc, x, bc.units)]
        else:
            outs = [_vec(fo.last, fc.units), _vec(bo.last, bc.units)]
    else:
        units = fc.units + bc.units if mode == "concat" else fc.units
        if rs:
            y = (_merge_stacked(ctx, mode, stacked[0], 1) if stacked
                 else _merge(ctx, mode, fo.seq, bo.seq, 2))
            outs = [_seq_tensor(y, fc, x, units)]
        else:
            y = (_merge_stacked(ctx, mode, stacked[1], 0) if stacked
                 else _merge(ctx, mode, fo.last, bo.last, 1))
            outs = [_vec(y, units)]
    finals = [_vec(st, fc.units) for st in fo.states] + [_vec(st, bc.units) for st in bo.states]
    end_states(ctx, layer, finals, stateful=stateful)
    if fc.return_state:
        outs += finals
    return outs


__all__ = ["fallback_reason", "node_path", "run_cell", "DirOut"]
