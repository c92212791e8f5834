"""ConvLSTM1D / ConvLSTM2D / ConvLSTM3D: an LSTM whose gates are convolutions.

ONNX has no such node, so the recurrence is an ONNX Scan (recurrent_scan.py).
The input convolution of every step runs at once before the loop, as one
Conv over (T*B, C, ...); the loop does only the recurrent convolution
(stride 1, 'same' padding, no dilation, as Keras) and the gates (i, f, c, o,
Keras's order). stateful=True: the states are graph inputs and outputs, as
for the other recurrent layers (recurrent.py). Everything runs time-major and channels-first: the
sequence output is (T, B, filters, ...) tagged with its permutation.

Bidirectional(ConvLSTMnD) runs this emitter once per direction (recurrent.py).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..context import Tensor, channels_first_perm
from ..errors import ConfigError, UnsupportedError, layer_where, malformed
from ..registry import register, with_bias
from .common import spatial as sp
from .common.scan import lstm_step, scan_loop
from .common.rnn import (carried_states, dims, end_states, fallback_reason, flag, reverse_time,
                         rnn_config_problems, split_inputs)

_RANK = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}


def _check(layer, opset) -> list:
    c = layer.config
    problems = rnn_config_problems(dict(c, units=c.get("filters")), "ConvLSTM")
    pad = str(c.get("padding", "valid")).lower()
    if pad not in ("valid", "same"):
        problems.append(malformed(f"padding '{c.get('padding')}' is not one {layer.class_name} "
                                  f"takes (valid, same); the config is malformed"))
    if c.get("data_format") not in (None, "channels_last", "channels_first"):
        problems.append(malformed(f"data_format '{c.get('data_format')}' is unknown; the config is "
                                  f"malformed"))
    return problems


def _pads(sizes, kernel, strides, dilation, padding):
    if padding == "valid":
        return {"pads": [0] * (2 * len(kernel))}
    pairs = [sp.same_pads(n if s != 1 else 1, k, s, d)
             for n, k, s, d in zip(sizes, kernel, strides, dilation)]
    if any(p is None for p in pairs):
        return {"auto_pad": "SAME_UPPER"}
    return {"pads": sp.onnx_pads(pairs)}


@register("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", check=_check, note=fallback_reason,
          layout="any", weights=with_bias("kernel", "recurrent_kernel"))
def conv_lstm(layer, inputs, ctx):
    """ConvLSTMnD(filters, kernel_size, strides, padding, data_format,
    dilation_rate, activation, recurrent_activation, use_bias,
    return_sequences, return_state, go_backwards); extra inputs are the
    initial states (h, c)."""
    g = ctx.g
    n = _RANK[layer.class_name]
    c = layer.config
    x, states = split_inputs(ctx, inputs)
    last = sp.channels_last(layer)
    r = n + 3
    if x.rank != r:
        raise ConfigError(f"{layer_where(layer)} gets an input of shape {x.shape}; it needs "
                          f"(batch, time, {n} spatial axes, channels)")
    f = int(c["filters"])
    kernel = sp.as_tuple(c["kernel_size"], n)
    strides = sp.as_tuple(c.get("strides", 1), n)
    dilation = sp.as_tuple(c.get("dilation_rate", 1), n)
    padding = str(c.get("padding", "valid")).lower()
    if last:
        sizes, chans = tuple(x.shape[2:-1]), x.shape[-1]
        perm_in = (1, 0, r - 1) + tuple(range(2, r - 1))
    else:
        sizes, chans = tuple(x.shape[3:]), x.shape[2]
        perm_in = (1, 0) + tuple(range(2, r))
    k = ctx.weight(layer, "kernel", shape=kernel + (chans, 4 * f) if chans is not None else None)
    chans = int(k.shape[-2])
    rk = ctx.weight(layer, "recurrent_kernel", shape=kernel + (f, 4 * f))
    to_onnx = (n + 1, n) + tuple(range(n))
    w = ctx.const(np.transpose(k, to_onnx), "kernel")
    rw = np.ascontiguousarray(np.transpose(rk, to_onnx))
    bias = ctx.const(ctx.weight(layer, "bias", shape=(4 * f,)), "bias") \
        if flag(c, "use_bias", True) else ""

    xt = ctx.to_perm(x, perm_in).name                       # (T, B, C, ...)
    mask = g.op("Transpose", x.mask, perm=[1, 0]) if x.mask else None
    if flag(c, "go_backwards"):
        xt = reverse_time(ctx, xt)
        mask = reverse_time(ctx, mask) if mask else None
    if None in sizes:
        flat = g.op("Concat", g.i64([-1]), dims(ctx, xt, 2), axis=0)
    else:
        flat = g.i64([-1, chans] + list(sizes))
    conv = g.op("Conv", g.op("Reshape", xt, flat), w, bias, kernel_shape=list(kernel),
                strides=list(strides), dilations=list(dilation),
                **_pads(sizes, kernel, strides, dilation, padding))
    out_sizes = tuple(sp.conv_output_length(s, kk, padding, st, d)
                      for s, kk, st, d in zip(sizes, kernel, strides, dilation))
    if None in out_sizes:
        tail = dims(ctx, conv, 2)
        state_shape = g.op("Concat", dims(ctx, xt, 1, 2), g.i64([f]), dims(ctx, conv, 2), axis=0)
    else:
        tail = g.i64([4 * f] + list(out_sizes))
        state_shape = g.op("Concat", dims(ctx, xt, 1, 2), g.i64([f] + list(out_sizes)), axis=0)
    xconv = g.op("Reshape", conv, g.op("Concat", dims(ctx, xt, 0, 2), tail, axis=0))

    if states and len(states) != 2:
        raise ConfigError(f"{layer_where(layer)} is called with {len(states)} initial state "
                          f"tensor(s) but needs 2 (h, c); the config is malformed")
    state_perm = channels_first_perm(n + 2) if last else None
    item = sp.keras_shape(None, out_sizes, f, layer)
    stateful = flag(c, "stateful")
    if stateful:
        if None in item[1:]:
            raise UnsupportedError([f"{layer_where(layer)} is stateful but its state's shape "
                                    f"{item} is not fixed: give the input a fixed size"],
                                   ctx.model.source)
        states = carried_states(ctx, layer, states, [item[1:]] * 2, stateful=True)
        states = [Tensor(name=t, shape=item) for t in states]
    if states:
        inits = [ctx.to_perm(t, state_perm).name for t in states]
    else:
        from onnx import TensorProto, helper
        zero = g.op("ConstantOfShape", state_shape,
                    value=helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]))
        inits = [zero, zero]

    cell = SimpleNamespace(units=f, activation=c.get("activation", "tanh"),
                           recurrent_activation=c.get("recurrent_activation", "hard_sigmoid"))
    if ctx.model.backend == "theano":
        # Theano's 'same' (border_mode='half') puts the odd extra row first;
        # the normalizer cannot pre-pad a convolution inside the recurrence.
        rec_pads = sp.onnx_pads([(kk // 2, kk - 1 - kk // 2) for kk in kernel])
    else:
        rec_pads = sp.onnx_pads([sp.same_pads(1, kk, 1, 1) for kk in kernel])

    def step(bg, x_in, st_in):
        rec = bg.op("Conv", st_in[0], bg.const(rw, "recurrent_kernel"), kernel_shape=list(kernel),
                    strides=[1] * n, dilations=[1] * n, pads=rec_pads)
        return lstm_step(ctx, bg, cell, x_in[0], rec, st_in, axis=1, rank=n + 2)

    rs = flag(c, "return_sequences")
    seq, finals, last_out = scan_loop(ctx, xs=[xconv], x_ranks=[r], mask=mask, inits=inits,
                                      state_ranks=[n + 2, n + 2], step=step,
                                      zero_output=flag(c, "zero_output_for_mask"), need_seq=rs)
    end_states(ctx, layer, [Tensor(name=s, shape=item, perm=state_perm) for s in finals],
               stateful=stateful)
    if rs:
        seq_perm = (1, 0, r - 1) + tuple(range(2, r - 1)) if last else (1, 0) + tuple(range(2, r))
        main = Tensor(name=seq, shape=(None, x.shape[1]) + item[1:], perm=seq_perm, mask=x.mask)
    else:
        main = Tensor(name=last_out, shape=item, perm=state_perm)
    outs = [main]
    if flag(c, "return_state"):
        outs += [Tensor(name=s, shape=item, perm=state_perm) for s in finals]
    return outs

