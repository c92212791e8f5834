"""The explicit recurrence: an ONNX Scan over time, for what the ONNX LSTM /
GRU / RNN nodes cannot express (activations outside their `activations`
list, convolutional cells).

The input projection x.W (+ bias) is computed for every step at once outside
the loop; the Scan body does only the recurrent part of one step. A Keras
mask (T, B) is a second scanned input and the body keeps Keras's rule:
where a step is masked the states are carried over unchanged and the output
is the previous step's output (zeros with zero_output_for_mask). The body is
self-contained (its constants are its own initializers), so graph passes
that look only at the main graph stay correct.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from opsets.graph import Graph, digest, same_array

from ...context import Tensor
from .activation_functions import apply_activation
from .rnn import Cell, zeros_state


class _BodyGraph(Graph):
    """A subgraph: names unique across the whole model, constants kept as the
    subgraph's own initializers (content-addressed like the main graph's)."""

    def __init__(self, outer: Graph, prefix: str):
        super().__init__(used_names=outer.used_names)
        self._consts = {}
        self.prefix = prefix

    def initializer(self, array: np.ndarray, name: str) -> str:
        # np.array keeps 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)
        a = np.array(array, order="C")
        key = name
        if key in self._consts and not same_array(
                numpy_helper.to_array(self.initializers[self._consts[key]]), a):
            key = f"{name}_{digest(a)}"
        if key not in self._consts:
            real = self.fresh(f"{self.prefix}/{key}")
            self.initializers[real] = numpy_helper.from_array(a, real)
            self._consts[key] = real
        return self._consts[key]


def body_builder(ctx):
    scope = f"{ctx.g.scope}/step"
    g = type(ctx.g)(_BodyGraph(ctx.g.graph, scope), ctx.opset)
    g.scope = scope
    return g


def act(ctx, bg, name: str, spec, rank: int) -> str:
    """A Keras activation inside the body."""
    proxy = SimpleNamespace(g=bg, model=ctx.model)
    return apply_activation(proxy, Tensor(name=name, shape=(None,) * rank), spec).name


def scan_loop(ctx, *, xs, x_ranks, mask, inits, state_ranks, step, zero_output: bool,
              need_seq: bool):
    """Run `step(bg, x_names, state_names) -> (output, new_states)` over time.

    xs: time-major scanned inputs (T, B, ...); mask: (T, B) bool or None;
    inits: initial states (B, ...). Returns (sequence of outputs (T, B, ...)
    or None, final states, last output), with Keras's masking rule.
    """
    g = ctx.g
    bg = body_builder(ctx)
    fresh = bg.graph.fresh
    f32 = TensorProto.FLOAT
    st_in = [fresh(f"{bg.scope}/state{i}") for i in range(len(inits))]
    vis_in = [helper.make_tensor_value_info(n, f32, [None] * r) for n, r in zip(st_in, state_ranks)]
    prev_in = None
    # The previous output is carried only when a masked step repeats it;
    # with zero_output_for_mask it would be an unused state (tract refuses
    # a Scan body that ignores a state input), and the last output is the
    # last element of the output sequence instead.
    carry_prev = mask is not None and not zero_output
    need_seq = need_seq or (mask is not None and zero_output)
    if carry_prev:
        prev_in = fresh(f"{bg.scope}/prev_output")
        vis_in.append(helper.make_tensor_value_info(prev_in, f32, [None] * state_ranks[0]))
    x_in = [fresh(f"{bg.scope}/x{i}") for i in range(len(xs))]
    vis_in += [helper.make_tensor_value_info(n, f32, [None] * (r - 1)) for n, r in zip(x_in, x_ranks)]
    m_in = None
    if mask is not None:
        m_in = fresh(f"{bg.scope}/mask")
        vis_in.append(helper.make_tensor_value_info(m_in, TensorProto.BOOL, [None] * state_ranks[0]))

    out, new_states = step(bg, x_in, st_in)
    if mask is not None:
        new_states = [bg.op("Where", m_in, n, s) for n, s in zip(new_states, st_in)]
        out = bg.op("Where", m_in, out, bg.f32(0.0) if zero_output else prev_in)
    body_outs = [bg.op("Identity", n) if n in st_in else n for n in new_states]
    out_ranks = list(state_ranks)
    if carry_prev:
        body_outs.append(out)
        out_ranks.append(state_ranks[0])
    if need_seq:
        body_outs.append(bg.op("Identity", out))
        out_ranks.append(state_ranks[0])
    vis_out = [helper.make_tensor_value_info(n, f32, [None] * r) for n, r in zip(body_outs, out_ranks)]
    body = helper.make_graph(bg.graph.nodes, f"{g.scope}/step".replace("/", "_"), vis_in, vis_out,
                             initializer=list(bg.graph.initializers.values()))

    scan_in = list(xs)
    carried = list(inits)
    if carry_prev:
        carried.append(g.op("ConstantOfShape", g.op("Shape", inits[0]),
                            value=helper.make_tensor("zero", f32, [1], [0.0])))
    if mask is not None:
        extra = list(range(2, state_ranks[0] + 1))
        scan_in.append(g.unsqueeze(mask, extra))
    outs = g.op("Scan", *carried, *scan_in, n_out=len(body_outs), body=body,
                num_scan_inputs=len(scan_in), name=f"{g.scope}/Scan")
    outs = outs if isinstance(outs, list) else [outs]
    finals = outs[:len(inits)]
    seq = outs[-1] if need_seq else None
    if carry_prev:
        last = outs[len(inits)]
    elif mask is not None:
        last = g.op("Gather", seq, g.i64(-1), axis=0)
    else:
        last = finals[0]
    return seq, finals, last


# -- the recurrent step of each cell kind --------------------------------------

def scan_cell(ctx, cell: Cell, s, init, need_seq: bool):
    """One LSTM / GRU / SimpleRNN direction as a Scan; returns (seq, last, states)."""
    g = ctx.g
    u = cell.units
    p = f"{cell.tag}/" if cell.tag else ""
    xw = g.op("MatMul", s.x, ctx.const(cell.kernel, p + "kernel"))
    bias = cell.bias_in
    if cell.bias_rec is not None and cell.kind != "GRU":
        bias = bias + cell.bias_rec
    if bias is not None:
        xw = g.op("Add", xw, ctx.const(bias, p + "input_bias"))
    inits = list(init) if init else [zeros_state(ctx, s.x, (u,))] * cell.n_states

    def step(bg, x_in, st_in):
        if cell.kind == "LSTM":
            rec = bg.op("MatMul", st_in[0], bg.const(cell.recurrent, "recurrent_kernel"))
            return lstm_step(ctx, bg, cell, x_in[0], rec, st_in, axis=1, rank=2)
        if cell.kind == "GRU":
            return gru_step(ctx, bg, cell, x_in[0], st_in[0])
        z = bg.op("Add", x_in[0], bg.op("MatMul", st_in[0], bg.const(cell.recurrent, "recurrent_kernel")))
        h = act(ctx, bg, z, cell.activation, 2)
        return h, [h]

    seq, finals, last = scan_loop(ctx, xs=[xw], x_ranks=[3], mask=s.mask, inits=inits,
                                  state_ranks=[2] * len(inits), step=step,
                                  zero_output=cell.zero_output, need_seq=need_seq)
    return seq, last, finals


def lstm_step(ctx, bg, cell, x_t: str, rec: str, states, *, axis: int, rank: int):
    """Keras LSTMCell / ConvLSTMCell: x_t and rec hold the i, f, c, o parts."""
    h_prev, c_prev = states
    n = cell.units
    z = bg.op("Add", x_t, rec)
    zi, zf, zc, zo = bg.op("Split", z, bg.i64([n] * 4), axis=axis, n_out=4)
    i = act(ctx, bg, zi, cell.recurrent_activation, rank)
    f = act(ctx, bg, zf, cell.recurrent_activation, rank)
    o = act(ctx, bg, zo, cell.recurrent_activation, rank)
    c = bg.op("Add", bg.op("Mul", f, c_prev), bg.op("Mul", i, act(ctx, bg, zc, cell.activation, rank)))
    h = bg.op("Mul", o, act(ctx, bg, c, cell.activation, rank))
    return h, [h, c]


def gru_step(ctx, bg, cell, x_t: str, h_prev: str):
    """Keras GRUCell, reset_after or not; x_t holds x.W + input bias (z, r, h)."""
    u = cell.units
    ra, a = cell.recurrent_activation, cell.activation
    xz, xr, xh = bg.op("Split", x_t, bg.i64([u, u, u]), axis=1, n_out=3)
    if cell.reset_after:
        inner = bg.op("MatMul", h_prev, bg.const(cell.recurrent, "recurrent_kernel"))
        if cell.bias_rec is not None:
            inner = bg.op("Add", inner, bg.const(cell.bias_rec, "recurrent_bias"))
        rz, rr, rh = bg.op("Split", inner, bg.i64([u, u, u]), axis=1, n_out=3)
        z = act(ctx, bg, bg.op("Add", xz, rz), ra, 2)
        r = act(ctx, bg, bg.op("Add", xr, rr), ra, 2)
        hh = act(ctx, bg, bg.op("Add", xh, bg.op("Mul", r, rh)), a, 2)
    else:
        inner = bg.op("MatMul", h_prev, bg.const(cell.recurrent[:, :2 * u], "recurrent_kernel_zr"))
        rz, rr = bg.op("Split", inner, bg.i64([u, u]), axis=1, n_out=2)
        z = act(ctx, bg, bg.op("Add", xz, rz), ra, 2)
        r = act(ctx, bg, bg.op("Add", xr, rr), ra, 2)
        rh = bg.op("MatMul", bg.op("Mul", r, h_prev), bg.const(cell.recurrent[:, 2 * u:], "recurrent_kernel_h"))
        hh = act(ctx, bg, bg.op("Add", xh, rh), a, 2)
    # h = z * h_prev + (1 - z) * hh
    one_minus_z = bg.op("Sub", bg.f32(1.0), z)
    h = bg.op("Add", bg.op("Mul", z, h_prev), bg.op("Mul", one_minus_z, hh))
    return h, [h]


__all__ = ["scan_loop", "scan_cell", "lstm_step", "gru_step", "body_builder", "act"]
