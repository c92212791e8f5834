"""LocallyConnected1D / LocallyConnected2D: a convolution whose weights are
not shared between output positions.

Keras stores the kernel in one of three layouts (`implementation`):

  1  (positions, kernel_window * in, filters), each row a patch in the
     input's own order ((window, channel) for channels_last, (channel,
     window) for channels_first); 'valid' padding only
  2  a dense (in..., out...) matrix in the input's layout, multiplied by a
     0/1 connectivity mask at call time
  3  a vector of the non-zero entries of that matrix, in the sorted order of
     their (output index, input index) pairs

All three become the same ONNX computation: one Gather pulls every output
position's input window from the flattened input (windows cut by 'same'
padding read an appended zero), one batched MatMul applies that position's
weights (positions, window * in, filters), one Reshape restores the
spatial axes. The result is channels-last in memory, which is the Keras
layout for channels_last and a tagged permutation for channels_first; the
input is read in whatever layout it already has, so no Transpose is added.

Which input elements a window covers is Keras's conv_connected_inputs: from
o*stride (valid) or o*stride - kernel//2 (same), kernel elements long,
clipped to the input.
"""
from __future__ import annotations

import numpy as np

from ..context import Tensor
from ..errors import ConfigError, layer_where, malformed
from ..registry import register, with_bias
from ..safety import check_elements
from .common import spatial as sp
from .common.activation_functions import activation_problems, apply_activation

_RANKS = {"LocallyConnected1D": 1, "LocallyConnected2D": 2}


def _check(layer, opset):
    c = layer.config
    problems = []
    missing = [k for k in ("filters", "kernel_size") if k not in c]
    if missing:
        problems.append(malformed(f"has no {' or '.join(missing)} in its config; the config is "
                                  f"malformed"))
    if str(c.get("padding", "valid")).lower() not in ("valid", "same"):
        problems.append(malformed(f"padding '{c.get('padding')}' is not one LocallyConnected takes "
                                  f"(Keras allows valid, same); the config is malformed"))
    if c.get("implementation", 1) not in (1, 2, 3):
        problems.append(malformed(f"implementation {c.get('implementation')!r} is unknown (Keras "
                                  f"has 1, 2 and 3); the config is malformed"))
    if c.get("data_format") not in (None, "channels_last", "channels_first"):
        problems.append(malformed(f"data_format '{c.get('data_format')}' is unknown (Keras allows "
                                  f"channels_last, channels_first); the config is malformed"))
    problems.extend(activation_problems(c.get("activation")))
    return problems


def _windows(sizes, kernel, strides, padding):
    """Output sizes, and for every output position (row-major) and window
    offset (row-major) the input position it reads: (P, Kw, rank) plus a
    (P, Kw) mask of positions inside the input."""
    out = tuple(sp.conv_output_length(n, k, padding, s) for n, k, s in zip(sizes, kernel, strides))
    rank = len(sizes)
    check_elements(tuple(out) + tuple(kernel) + (rank,), "the windows of the locally connected layer")
    o = np.indices(out).reshape(rank, -1).T                        # (P, rank)
    w = np.indices(kernel).reshape(rank, -1).T                     # (Kw, rank)
    start = o * np.asarray(strides)
    if padding == "same":
        start = start - np.asarray(kernel) // 2
    pos = start[:, None, :] + w[None, :, :]                        # (P, Kw, rank)
    inside = np.all((pos >= 0) & (pos < np.asarray(sizes)), axis=-1)
    return out, pos, inside


def _keras_index(cl: bool, spatial_idx, chan_idx, spatial_sizes, chans):
    """Row-major index in the Keras layout (no batch) of (spatial, channel)."""
    if cl:
        dims = tuple(spatial_sizes) + (chans,)
        multi = tuple(spatial_idx) + (chan_idx,)
    else:
        dims = (chans,) + tuple(spatial_sizes)
        multi = (chan_idx,) + tuple(spatial_idx)
    return np.ravel_multi_index(multi, dims)


def _weights(ctx, layer, impl, cl, sizes, cin, out, pos, inside, filters):
    """The kernel as (P, Kw, in, filters): position, window offset, channel, filter."""
    rank = len(sizes)
    P, Kw = inside.shape
    if impl == 1:
        k = ctx.weight(layer, "kernel", shape=(P, Kw * cin, filters))
        return k.reshape(P, Kw, cin, filters) if cl else \
            k.reshape(P, cin, Kw, filters).transpose(0, 2, 1, 3)
    clipped = np.where(inside[..., None], pos, 0)                  # (P, Kw, rank)
    if impl == 2:
        if cl:
            k = ctx.weight(layer, "kernel", shape=tuple(sizes) + (cin,) + tuple(out) + (filters,))
        else:
            k = ctx.weight(layer, "kernel", shape=(cin,) + tuple(sizes) + (filters,) + tuple(out))
            # -> (in..., C, out..., F)
            k = k.transpose(tuple(range(1, rank + 1)) + (0,) + tuple(range(rank + 2, 2 * rank + 2))
                            + (rank + 1,))
        o = np.indices(out).reshape(rank, -1).T                    # (P, rank)
        index = tuple(clipped[..., d] for d in range(rank)) + (slice(None),) + \
            tuple(o[:, None, d] for d in range(rank))
        w = k[index]                                               # (P, Kw, C, F)
        return w * inside[:, :, None, None]
    # implementation 3: the sorted non-zero entries of the (out, in) matrix
    chans = np.arange(cin)
    in_idx = _keras_index(cl, tuple(clipped[:, :, None, d] for d in range(rank)), chans[None, None],
                          sizes, cin)                              # (P, Kw, C)
    big = np.iinfo(np.int64).max
    flat = np.where(inside[:, :, None], in_idx, big).reshape(P, Kw * cin)
    rank_in = np.argsort(np.argsort(flat, axis=1, kind="stable"), axis=1)   # rank among its row
    n_per_pos = inside.sum(axis=1) * cin                           # (P,)
    o = np.indices(out).reshape(rank, -1)
    f = np.arange(filters)
    out_idx = _keras_index(cl, tuple(o[d][:, None] for d in range(rank)), f[None, :], out,
                           filters)                                # (P, F)
    counts = np.zeros(P * filters, np.int64)
    counts[out_idx.reshape(-1)] = np.repeat(n_per_pos, filters)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total = int(counts.sum())
    k = ctx.weight(layer, "kernel", shape=(total,))
    idx = offsets[out_idx][:, None, :] + rank_in[:, :, None]       # (P, Kw*C, F)
    valid = (flat != big)[:, :, None]
    w = np.where(valid, k[np.where(valid, idx, 0)], 0.0)
    return w.reshape(P, Kw, cin, filters)


@register(*_RANKS, check=_check, layout="any", weights=with_bias("kernel"))
def locally_connected(layer, inputs, ctx):
    """LocallyConnected1D/2D(filters, kernel_size, strides, padding,
    data_format, activation, use_bias, implementation)."""
    rank = _RANKS[layer.class_name]
    c = layer.config
    kernel = sp.as_tuple(c["kernel_size"], rank)
    strides = sp.as_tuple(c.get("strides", 1), rank)
    padding = str(c.get("padding", "valid")).lower()
    impl = int(c.get("implementation", 1))
    filters = int(c["filters"])
    cl = sp.channels_last(layer)
    t = inputs[0]
    if t.perm and t.perm[0] != 0:
        t = ctx.keras(t)
    sizes = sp.spatial_dims(t, layer)
    cin = sp.channels(t, layer)
    if None in sizes or cin is None:
        raise ConfigError(f"{layer_where(layer)} gets an input of shape {t.shape}; Keras needs "
                          f"its spatial and channel sizes fully defined")
    out, pos, inside = _windows(sizes, kernel, strides, padding)
    P, Kw = inside.shape
    w = _weights(ctx, layer, impl, cl, sizes, cin, out, pos, inside, filters)

    # Where each (position, window offset, channel) lives in the flattened
    # ONNX input, whatever its layout; the zero slot (index N) where clipped.
    onnx_dims = t.onnx_shape[1:]
    n = int(np.prod(onnx_dims))
    nb_perm = [p - 1 for p in t.perm[1:]] if t.perm else list(range(rank + 1))
    where = np.transpose(np.arange(n).reshape(onnx_dims), np.argsort(nb_perm))   # Keras layout
    clipped = np.where(inside[..., None], pos, 0)
    chans = np.arange(cin)[None, None, :]
    sp_idx = tuple(clipped[:, :, None, d] for d in range(rank))
    gather = where[sp_idx + (chans,)] if cl else where[(chans,) + sp_idx]       # (P, Kw, C)
    gather = np.where(inside[:, :, None], gather, n).astype(np.int64)

    g = ctx.g
    x = g.op("Flatten", t.name, axis=1)
    if not inside.all():
        x = g.pad(x, [0, 0, 0, 1])
    x = g.op("Gather", x, ctx.const(gather.reshape(P, 1, Kw * cin), "gather_indices"), axis=1)
    y = g.op("MatMul", x, ctx.const(w.reshape(P, Kw * cin, filters).astype(np.float32), "kernel"))
    y = g.op("Reshape", y, g.i64((-1,) + tuple(out) + (filters,)))
    if c.get("use_bias", True):
        b = ctx.weight(layer, "bias", shape=tuple(out) + (filters,))
        if not cl:
            # Keras adds reshape(bias, (filters, out...)) to channels_first outputs
            b = np.moveaxis(b.reshape((filters,) + tuple(out)), 0, -1)
        y = g.op("Add", y, ctx.const(np.ascontiguousarray(b), "bias"))
    shape = sp.keras_shape(t.shape[0], out, filters, layer)
    perm = None if cl else (0,) + tuple(range(2, rank + 2)) + (1,)
    res = Tensor(name=y, shape=shape, perm=perm, dtype=t.dtype)
    return [apply_activation(ctx, res, c.get("activation"))]
