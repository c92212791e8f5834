"""Keras 1 weights -> Keras 2 names and layouts, per layer: layer_W ->
kernel, per-gate LSTM / GRU arrays -> kernel / recurrent_kernel / bias in
Keras 2 gate order, 'th' kernel layouts -> (spatial..., in, out), as Keras
2's own legacy loader converted them (preprocess_weights_for_loading).
The layer's class and config are already the Keras 2 ones (keras1.py).
"""
from __future__ import annotations

import numpy as np

from ..errors import WeightsError, layer_where
from ..ir import Weight

# Keras 1 weight suffixes of each class, in the order Keras 1 stored them.
_LSTM12 = ["W_i", "U_i", "b_i", "W_c", "U_c", "b_c", "W_f", "U_f", "b_f", "W_o", "U_o", "b_o"]
_GRU9 = ["W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h"]
_SIMPLE = ["W", "U", "b"]


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def _by_suffix(weights: list, suffixes: list) -> dict:
    """Stored Keras 1 weights ('lstm_1_W_i:0') -> {'W_i': array}; by name
    suffix, else (names like 'param_0') by position."""
    out = {}
    longest_first = sorted(suffixes, key=len, reverse=True)
    for w in weights:
        base = _short(w.name)
        hit = next((s for s in longest_first if base == s or base.endswith("_" + s)), None)
        if hit is None or hit in out:
            out = None
            break
        out[hit] = w.array
    if out is None or len(out) != len(weights):
        out = {s: w.array for s, w in zip(suffixes, weights)}
    return out


def _need(d: dict, keys: list, where: str) -> list:
    missing = [k for k in keys if k not in d]
    if missing:
        raise WeightsError(f"{where}: the stored Keras 1 weights lack {', '.join(missing)} "
                           f"(stored: {', '.join(d) or 'none'}); the weights do not belong to "
                           f"this architecture")
    return [np.asarray(d[k]) for k in keys]


def convert_weights(old_cls, old_conf, cls, conf, weights, scope, ctx, layer=None) -> list:
    """Keras 1 weights of one layer -> Keras 2 Weights named '<scope>/<short>'."""
    where = f"{ctx.source}: " + (layer_where(layer) if layer is not None else f"'{scope}' ({old_cls})")
    pairs = _convert_arrays(old_cls, old_conf or {}, cls, conf, weights, where, ctx, scope)
    return [Weight(f"{scope}/{n}", np.asarray(a)) for n, a in pairs]


def _convert_arrays(old_cls, oc, cls, conf, weights, where, ctx, scope) -> list:
    bias = conf.get("use_bias", True)
    wb = ["W", "b"] if bias else ["W"]

    if cls in ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose"):
        d = _by_suffix(weights, wb)
        arrs = _need(d, wb, where)
        k = arrs[0]
        if cls == "Conv1D":
            k = _conv1d_kernel(k, conf, where)
        elif conf.get("data_format") == "channels_first":
            perm = {"Conv2D": (2, 3, 1, 0), "Conv3D": (2, 3, 4, 1, 0),
                    "Conv2DTranspose": (2, 3, 0, 1)}[cls]
            k = np.transpose(k, perm)
        elif cls == "Conv2DTranspose":
            k = np.transpose(k, (0, 1, 3, 2))
        return [("kernel", k)] + ([("bias", arrs[1])] if bias else [])
    if cls == "SeparableConv2D":
        names = ["depthwise_kernel", "pointwise_kernel"] + (["b"] if bias else [])
        arrs = _need(_by_suffix(weights, names), names, where)
        dw, pw = arrs[0], arrs[1]
        if conf.get("data_format") == "channels_first":
            dw, pw = np.transpose(dw, (2, 3, 1, 0)), np.transpose(pw, (2, 3, 1, 0))
        return [("depthwise_kernel", dw), ("pointwise_kernel", pw)] + ([("bias", arrs[2])] if bias else [])
    if cls in ("Dense", "LocallyConnected1D", "LocallyConnected2D"):
        arrs = _need(_by_suffix(weights, wb), wb, where)
        return [("kernel", arrs[0])] + ([("bias", arrs[1])] if bias else [])
    if cls == "Embedding":
        return [("embeddings", _need(_by_suffix(weights, ["W"]), ["W"], where)[0])]
    if cls == "BatchNormalization" or cls == "Keras1BatchNormalization":
        names = ["gamma", "beta", "running_mean", "running_std"]
        if cls == "Keras1BatchNormalization" and len(weights) == 2:
            names = names[:2]
        arrs = _need(_by_suffix(weights, names), names, where)
        # Keras 1.2 'running_std' holds the moving variance (it is passed as
        # the variance to K.batch_normalization), so it maps 1:1.
        out = [("gamma", arrs[0]), ("beta", arrs[1])]
        if len(arrs) == 4:
            out += [("moving_mean", arrs[2]), ("moving_variance", arrs[3])]
        return out
    if cls == "SimpleRNN":
        arrs = _need(_by_suffix(weights, _SIMPLE), _SIMPLE, where)
        return list(zip(["kernel", "recurrent_kernel", "bias"], arrs))
    if cls in ("GRU", "LSTM", "ConvLSTM2D"):
        gated = _GRU9 if cls == "GRU" else _LSTM12
        if len(weights) == 3:                       # consume_less='gpu': already concatenated
            arrs = _need(_by_suffix(weights, _SIMPLE), _SIMPLE, where)
            kernel, rec, b = arrs
            if cls == "ConvLSTM2D" and conf.get("data_format") == "channels_first":
                kernel, rec = np.transpose(kernel, (2, 3, 1, 0)), np.transpose(rec, (2, 3, 1, 0))
        else:
            d = _by_suffix(weights, gated)
            gates = "zrh" if cls == "GRU" else "ifco"   # Keras 2 order
            ws = _need(d, [f"W_{g}" for g in gates], where)
            us = _need(d, [f"U_{g}" for g in gates], where)
            if cls == "ConvLSTM2D" and conf.get("data_format") == "channels_first":
                # 'th' per gate: (filters, stack, rows, cols) -> (rows, cols, stack, filters)
                ws = [np.transpose(w, (2, 3, 1, 0)) for w in ws]
                us = [np.transpose(u, (2, 3, 1, 0)) for u in us]
            kernel = np.concatenate(ws, axis=-1)
            rec = np.concatenate(us, axis=-1)
            b = np.concatenate(_need(d, [f"b_{g}" for g in gates], where), axis=-1)
        return [("kernel", kernel), ("recurrent_kernel", rec), ("bias", b)]
    if cls == "PReLU":
        return [("alpha", _need(_by_suffix(weights, ["alphas"]), ["alphas"], where)[0])]
    if cls == "ParametricSoftplus":
        arrs = _need(_by_suffix(weights, ["alphas", "betas"]), ["alphas", "betas"], where)
        return [("alpha", arrs[0]), ("beta", arrs[1])]
    if cls == "SReLU":
        names = ["t_left", "a_left", "t_right", "a_right"]
        return list(zip(names, _need(_by_suffix(weights, names), names, where)))
    if cls == "Highway":
        names = ["W", "W_carry", "b", "b_carry"] if bias else ["W", "W_carry"]
        arrs = _need(_by_suffix(weights, names), names, where)
        return list(zip(["kernel", "carry_kernel", "bias", "carry_bias"], arrs))
    if cls == "MaxoutDense":
        arrs = _need(_by_suffix(weights, wb), wb, where)
        return [("kernel", arrs[0])] + ([("bias", arrs[1])] if bias else [])
    if cls == "TimeDistributed":
        inner = (oc.get("layer") or {})
        return [(_short(w.name), w.array) for w in convert_weights(
            inner.get("class_name"), inner.get("config"), conf["layer"]["class_name"],
            conf["layer"]["config"], weights, "x", ctx)]
    if cls == "Bidirectional":
        return _bidirectional(oc, conf, weights, where, ctx, scope)
    # A class with no Keras 1 conversion: keep the names it stored.
    return [(_short(w.name), w.array) for w in weights]


def _conv1d_kernel(k, conf, where):
    f, ks = int(conf["filters"]), int(conf["kernel_size"][0])
    if k.ndim == 3:
        return k
    if k.ndim == 4 and k.shape[0] == ks and k.shape[1] == 1 and k.shape[3] == f:
        return k[:, 0, :, :]
    if k.ndim == 4 and k.shape[0] == f and k.shape[2:] == (ks, 1):   # Keras 1.0/1.1 layout
        return np.transpose(k, (2, 3, 1, 0))[:, 0, :, :]
    raise WeightsError(f"{where}: Convolution1D kernel of shape {k.shape} fits neither Keras 1 "
                       f"layout for {f} filters of length {ks}; the weights do not belong to "
                       f"this architecture")


def _bidirectional(oc, conf, weights, where, ctx, scope) -> list:
    inner_old = oc.get("layer") or {}
    inner_name = (inner_old.get("config") or {}).get("name") or "layer"
    fw = [w for w in weights if _short(w.name).startswith("forward_")]
    bw = [w for w in weights if _short(w.name).startswith("backward_")]
    if len(fw) + len(bw) != len(weights) or len(fw) != len(bw):
        half = len(weights) // 2
        fw, bw = weights[:half], weights[half:]
    out = []
    for side, ws in (("forward", fw), ("backward", bw)):
        conv = convert_weights(inner_old.get("class_name"), inner_old.get("config"),
                               conf["layer"]["class_name"], conf["layer"]["config"], ws,
                               f"{side}_{inner_name}", ctx)
        out += [(w.name, w.array) for w in conv]
    return out
