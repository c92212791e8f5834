"""MultiHeadAttention, Attention (dot and concat scores) and AdditiveAttention.

MultiHeadAttention(num_heads, key_dim, value_dim, use_bias, output_shape,
attention_axes, softmax_robust_masking; dropout is training-only) called as
(query, value, key=None, attention_mask=None, return_attention_scores,
use_causal_mask), with Keras masks of query / value / key (Embedding
mask_zero upstream) merged in as Keras merges them. The projections are the
EinsumDense lowering of einsum.py (MatMul + Reshape); with one attention
axis the scores are a batched MatMul of the heads-major query and key and
the softmax an ONNX Softmax on the last axis; with several attention axes
Keras's own einsum equations run as ONNX Einsum and the softmax over those
axes is one ONNX Softmax over them merged by a Reshape (OpenVINO reduces a
multi-axis ReduceLogSumExp over the wrong axes). Masks are applied the way the Keras
that saved the file applies them: tf-keras adds (1 - mask) * -1e9 to the
scores (or, with softmax_robust_masking, selects -1e9), so even fully masked
rows match. Keras 3 selects -1e9 where the (bool) mask is off, and its
fused dot_product_attention path computes the same values.

Attention(use_scale, score_mode 'dot' | 'concat', causal; call:
use_causal_mask, mask=[query_mask, value_mask], return_attention_scores) and
AdditiveAttention(use_scale): scores, `scores -= 1e9 * (1 - mask)`, softmax,
weights @ value, times the query mask.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from onnx import TensorProto

from ..context import Tensor
from ..errors import ConfigError, layer_where, malformed
from ..ir import Layer
from ..registry import register
from ..safety import check_elements
from ..walk import emit_inner
from .common.activation_functions import softmax_over
from .common.calls import bound_call, forced_training, refuse_training
from .common.einsum import einsum_with_kernel

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_NEG = -1e9   # tf-keras _large_compatible_negative(float32), Keras 3 _large_negative_number


# -- shared pieces ---------------------------------------------------------------
def _bool(ctx, name, dtype):
    return name if dtype == TensorProto.BOOL else ctx.g.op("Cast", name, to=TensorProto.BOOL)


def _causal(ctx, tq, tv, q_name=None, v_name=None, q_axis=1, v_axis=1):
    """A bool (tq, tv) lower-triangular matrix: row >= column."""
    g = ctx.g
    if tq is not None and tv is not None:
        check_elements((tq, tv), "the causal mask")
        m = np.arange(tq)[:, None] >= np.arange(tv)[None, :]
        return ctx.const(m, f"causal_{tq}x{tv}")

    def length(name, axis, n):
        if n is not None:
            return g.i64(n)
        return g.op("Gather", g.op("Shape", name), g.i64(axis), axis=0)
    rows = g.op("Range", g.i64(0), length(q_name, q_axis, tq), g.i64(1))
    cols = g.op("Range", g.i64(0), length(v_name, v_axis, tv), g.i64(1))
    return g.op("GreaterOrEqual", g.unsqueeze(rows, [1]), cols)


def _expand_mask(ctx, mask, rank, target_rank, axis):
    """Keras's repeated expand_dims(mask, axis) (negative axis) up to target_rank."""
    if rank >= target_rank:
        return mask
    marks = ["m"] * rank
    for _ in range(target_rank - len(marks)):
        pos = len(marks) + 1 + axis
        marks.insert(pos, "new")
    return ctx.g.unsqueeze(mask, [i for i, m in enumerate(marks) if m == "new"])


def _sublayer_weights(layer, ctx, names, use_bias):
    """{sublayer: (kernel, bias)} by the sublayer each stored name ends in
    ('mha/query/kernel:0'), else by Keras's order (query, key, value, output)."""
    found = {}
    for w in layer.weights:
        parts = w.name.split(":")[0].split("/")
        if len(parts) >= 2:
            sub = parts[-2].strip("_")
            sub = sub[:-len("_dense")] if sub.endswith("_dense") else sub
            if sub in names:
                found.setdefault(sub, {})[parts[-1]] = w.array
    if all("kernel" in found.get(n, {}) and (not use_bias or "bias" in found[n]) for n in names):
        return {n: (found[n]["kernel"], found[n]["bias"] if use_bias else None) for n in names}
    per = 2 if use_bias else 1
    if len(layer.weights) != per * len(names):
        have = ", ".join(w.name for w in layer.weights) or "none"
        raise ConfigError(f"{ctx.model.source}: {layer_where(layer)} stores weights ({have}) that "
                          f"are not the {len(names)} projections it needs; re-save the model")
    out = {}
    for i, n in enumerate(names):
        ws = layer.weights[i * per:(i + 1) * per]
        out[n] = (ws[0].array, ws[1].array if use_bias else None)
    return out


# -- MultiHeadAttention ------------------------------------------------------------
def _attention_axes(layer, rank):
    """Attention axes of the projected (rank + 1) tensors, non-negative, in order."""
    axes = layer.config.get("attention_axes")
    R = rank + 1
    if axes is None:
        return tuple(range(1, R - 2))
    if isinstance(axes, int):
        axes = [axes]
    return tuple(int(a) % R for a in axes)


def _check_mha(layer, opset) -> list:
    problems = []
    c = layer.config
    for call in layer.calls:
        kw = call.kwargs or {}
        axes = c.get("attention_axes")
        if kw.get("use_causal_mask") and axes is not None:
            axes = [axes] if isinstance(axes, int) else list(axes)
            shape = c.get("query_shape")
            R = len(shape) + 1 if shape else None
            if (R is None and axes != [1]) or (R is not None and [a % R for a in axes] != [1]):
                problems.append(f"use_causal_mask=True with attention_axes={axes!r}: Keras builds "
                                f"the causal mask from axis 1 only, which this converter supports "
                                f"only for attention over axis 1")
    for key in ("use_gate", "sliding_window"):
        if c.get(key) not in (None, False):
            problems.append(f"{key}={c.get(key)!r} is not supported yet")
    return problems


def _projection_labels(rank: int, kernel_rank: int, n_out: int):
    """Keras's _build_proj_equation(rank - 1, bound_dims, n_out) as labels."""
    free = rank - 1
    bound = kernel_rank - n_out
    L = _LETTERS
    if bound != 1:   # output projection: the input's last `bound` axes are contracted
        X = L[:rank]
        W = X[rank - bound:] + L[rank:rank + n_out]
        return X, W, X[:rank - bound] + W[bound:]
    X = L[:free] + L[free:free + bound]
    W = X[free:] + L[free + 1:free + 1 + n_out]
    return X, W, X[:free] + W[1:]


def _projection(ctx, x: Tensor, kernel, bias, n_out: int, tag: str) -> Tensor:
    X, W, Y = _projection_labels(x.rank, kernel.ndim, n_out)
    return einsum_with_kernel(ctx, x, X, W, Y, kernel, bias, tag=tag)


def _quantized_projections(layer, ctx, q_in: Tensor):
    """Keras 3 quantized projections (`model.quantize` reaches the EinsumDense
    layers inside a MultiHeadAttention): each is that EinsumDense, with Keras's
    equation and kernel shape and the part's quantized variables, through the
    EinsumDense emitter. Returns project(part, x, n_out); n_out None: the
    output projection's own."""
    c = layer.config
    heads, key_dim = int(c["num_heads"]), int(c["key_dim"])
    value_dim = int(c.get("value_dim") or key_dim)
    out = c.get("output_shape")
    out = [out] if isinstance(out, int) else list(out or [q_in.shape[-1]])
    shapes = {"query": (heads, key_dim), "key": (heads, key_dim), "value": (heads, value_dim),
              "attention_output": tuple(int(d) for d in out)}

    def project(part, x: Tensor, n_out: int) -> Tensor:
        kernel = ((heads, value_dim) if part == "attention_output" else (x.shape[-1],)) + shapes[part]
        X, W, Y = _projection_labels(x.rank, len(kernel), len(shapes[part]) if n_out is None else n_out)
        sizes = dict(zip(W, kernel))
        ws = [w for w in layer.weights if w.name.split(":")[0].split("/")[-2:-1] == [part]]
        sub = Layer(name=f"{layer.name}/{part}", class_name="EinsumDense",
                    config={"equation": f"{X},{W}->{Y}", "output_shape": [sizes.get(ch) for ch in Y[1:]],
                            "activation": None}, weights=ws, quantization=layer.quantization)
        return emit_inner(ctx, sub, [x])[0]
    return project


def _mha_mask(ctx, query, value, key, attention_mask, causal, keras3):
    """(mask, rank, is_bool) as Keras's _compute_attention_mask leaves it, or
    (None, 0, True): Keras masks of query ([B, T, 1]), value and key ([B, 1, S])
    and the causal mask ([1, T, S]) ANDed; the attention_mask is cast to bool
    when one of them exists (always in Keras 3), else passed on as it is."""
    g = ctx.g
    auto = None

    def conj(a, b):
        return b if a is None else g.op("And", a, b)
    if query.mask is not None:
        auto = conj(auto, g.unsqueeze(query.mask, [2]))
    if value.mask is not None:
        auto = conj(auto, g.unsqueeze(value.mask, [1]))
    if key is not None and key.mask is not None and key.mask != value.mask:
        auto = conj(auto, g.unsqueeze(key.mask, [1]))
    if causal:
        cm = _causal(ctx, query.shape[1], value.shape[1], query.name, value.name)
        auto = conj(auto, g.unsqueeze(cm, [0]))
    if attention_mask is None:
        return auto, 3, True
    am = attention_mask
    if keras3 or auto is not None:
        m = _bool(ctx, am.name, am.dtype)
        return (m if auto is None else g.op("And", m, auto)), max(am.rank, 3), True
    return am.name, am.rank, am.dtype == TensorProto.BOOL


def _apply_mask(ctx, scores, mask, is_bool, robust):
    """tf-keras Softmax(robust_masking): scores + (1 - mask) * -1e9, or
    where(mask, scores, -1e9)."""
    g = ctx.g
    if robust:
        m = mask if is_bool else g.op("Greater", g.op("Cast", mask, to=TensorProto.FLOAT), g.f32(0.5))
        return g.op("Where", m, scores, g.f32(_NEG))
    mf = g.op("Cast", mask, to=TensorProto.FLOAT)
    return g.op("Add", scores, g.op("Mul", g.op("Sub", g.f32(1.0), mf), g.f32(_NEG)))


@register("MultiHeadAttention", check=_check_mha, layout="keras")
def multi_head_attention(layer, inputs, ctx):
    """MultiHeadAttention(num_heads, key_dim, value_dim, use_bias, output_shape,
    attention_axes, softmax_robust_masking) called with (query, value, key,
    attention_mask, return_attention_scores, use_causal_mask)."""
    g = ctx.g
    c = layer.config
    if forced_training(ctx) and float(c.get("dropout", 0.0) or 0.0) > 0:
        refuse_training(ctx, "drops attention weights")
    args, kw = bound_call(ctx.call, inputs)
    query = args[0]
    value = kw.get("value", args[1] if len(args) > 1 else None)
    key = kw.get("key", args[2] if len(args) > 2 else None)
    if value is None:
        raise ConfigError(f"{layer_where(layer)}: the call has no `value` tensor; the config is malformed")
    attention_mask = kw.get("attention_mask", args[3] if len(args) > 3 else None)
    return_scores = bool(kw.get("return_attention_scores", False))
    causal = bool(kw.get("use_causal_mask", False))
    keras3 = ctx.model.keras_major >= 3
    use_bias = c.get("use_bias", True) is not False
    key_dim = int(c["key_dim"])   # the head count comes with the weight shapes
    q_in, v_in = query, value
    k_in = key if key is not None else v_in
    if layer.quantization is not None:
        project = _quantized_projections(layer, ctx, q_in)
    else:
        w = _sublayer_weights(layer, ctx, ["query", "key", "value", "attention_output"], use_bias)

        def project(part, x, n_out):
            kernel, bias = w[part]
            n_out = kernel.ndim - 2 if n_out is None else n_out     # output: all but heads, dim
            return _projection(ctx, x, kernel, bias, n_out, f"{part}/kernel")
    q = project("query", q_in, 2)
    k = project("key", k_in, 2)
    v = project("value", v_in, 2)
    q = q.like(g.op("Mul", q.name, g.f32(1.0 / math.sqrt(float(key_dim)))))

    R = q.rank
    attn = _attention_axes(layer, query.rank)
    batch = [i for i in range(R) if i not in attn and i != R - 1]
    scores_shape = tuple([q.shape[i] for i in batch] + [q.shape[i] for i in attn]
                         + [k.shape[i] for i in attn])
    srank = len(scores_shape)

    if len(attn) == 1:
        qt = ctx.to_perm(q, batch + list(attn) + [R - 1])
        kt = ctx.to_perm(k, batch + [R - 1] + list(attn))
        vt = ctx.to_perm(v, batch + list(attn) + [R - 1])
        scores = g.op("MatMul", qt.name, kt.name)
    else:
        dot_eq, combine_eq = _keras_equations(R, attn)
        qk, kk, vk = ctx.keras(q), ctx.keras(k), ctx.keras(v)
        scores = g.op("Einsum", kk.name, qk.name, equation=dot_eq)

    mask, mrank, is_bool = _mha_mask(ctx, query, value, key, attention_mask, causal, keras3)
    if mask is not None:
        mask = _expand_mask(ctx, mask, mrank, srank, -len(attn) * 2 - 1)
        # Keras 3's Softmax(mask) selects -1e9 (tf-keras adds it unless robust)
        scores = _apply_mask(ctx, scores, mask, is_bool, keras3 or bool(c.get("softmax_robust_masking")))

    if len(attn) == 1:
        probs = g.op("Softmax", scores, axis=-1)
    else:
        probs = softmax_over(g, scores, list(range(srank - len(attn), srank)), srank)

    v_dim = v.shape[-1]
    comb_shape = tuple(q.shape[:-1]) + (v_dim,)
    if len(attn) == 1:
        y = g.op("MatMul", probs, vt.name)
        combined = Tensor(name=y, shape=comb_shape, perm=tuple(batch + list(attn) + [R - 1]),
                          dtype=query.dtype)
    elif all(isinstance(q.shape[i], int) for i in attn) and isinstance(v_dim, int):
        # the attention axes merged, as one MatMul: (batch, Tq, Tk) @ (batch, Tk, H)
        # (OpenVINO computes Keras's 8-D combine Einsum wrong)
        nb = len(batch)
        q_dims = [q.shape[i] for i in attn]
        p_flat = g.op("Reshape", probs, g.i64([0] * nb + [int(np.prod(q_dims)), -1]))
        vt = ctx.to_perm(v, batch + list(attn) + [R - 1])
        v_flat = g.op("Reshape", vt.name, g.i64([0] * nb + [-1, v_dim]))
        y = g.op("Reshape", g.op("MatMul", p_flat, v_flat), g.i64([0] * nb + q_dims + [v_dim]))
        combined = Tensor(name=y, shape=comb_shape, perm=tuple(batch + list(attn) + [R - 1]),
                          dtype=query.dtype)
    else:
        y = g.op("Einsum", probs, vk.name, equation=combine_eq)
        combined = Tensor(name=y, shape=comb_shape, dtype=query.dtype)
    out = project("attention_output", combined, None)
    out = replace(out, mask=query.mask)
    if return_scores:
        return [out, Tensor(name=probs, shape=scores_shape, dtype=query.dtype)]
    return [out]


def _keras_equations(rank, attn_axes):
    """multi_head_attention._build_attention_equation."""
    target = _LETTERS[:rank]
    batch_dims = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _LETTERS[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes]
                      + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}"


# -- Attention / AdditiveAttention -------------------------------------------------
def _check_dense_attention(layer, opset) -> list:
    problems = []
    mode = layer.config.get("score_mode", "dot")
    if layer.class_name == "Attention" and mode not in ("dot", "concat"):
        problems.append(malformed(f"score_mode={mode!r} is not 'dot' or 'concat'; the config is "
                                  f"malformed"))
    return problems


def _scalar_weight(ctx, layer, name):
    w = ctx.weight(layer, name)
    return float(np.asarray(w, np.float32).reshape(-1)[0])


@register("Attention", check=_check_dense_attention, layout="keras",
          weights=lambda c: (["scale"] if c.get("use_scale") else [])
          + (["concat_score_weight"] if c.get("score_mode") == "concat" else []))
@register("AdditiveAttention", check=_check_dense_attention, layout="keras",
          weights=lambda c: ["scale"] if c.get("use_scale", True) else [])
def dense_attention(layer, inputs, ctx):
    """Attention(use_scale, score_mode, causal) / AdditiveAttention(use_scale),
    called on [query, value(, key)] with mask, use_causal_mask,
    return_attention_scores."""
    g = ctx.g
    c = layer.config
    if forced_training(ctx) and float(c.get("dropout", 0.0) or 0.0) > 0:
        refuse_training(ctx, "drops attention weights")
    args, kw = bound_call(ctx.call, inputs)
    ins = args[0] if isinstance(args[0], list) else list(args)
    if len(ins) not in (2, 3):
        raise ConfigError(f"{layer_where(layer)}: takes [query, value] or [query, value, key], got "
                          f"{len(ins)} tensors; the config is malformed")
    q, v = ins[0], ins[1]
    k = ins[2] if len(ins) > 2 else v
    # mask=[query_mask, value_mask] given in the call, else the Keras masks
    # of the inputs: (name, dtype) pairs
    masks = kw.get("mask")
    if isinstance(masks, list):
        masks = [(m.name, m.dtype) if isinstance(m, Tensor) else None for m in masks]
    elif any(t.mask is not None for t in ins):
        masks = [(t.mask, TensorProto.BOOL) if t.mask is not None else None for t in ins]
    else:
        masks = []
    q_mask = masks[0] if len(masks) > 0 else None
    v_mask = masks[1] if len(masks) > 1 else None

    r = q.rank
    swap = list(range(r - 2)) + [r - 1, r - 2]
    if layer.class_name == "Attention" and c.get("score_mode", "dot") == "dot":
        scores = g.op("MatMul", q.name, ctx.to_perm(k, swap).name)
        if c.get("use_scale"):
            scores = g.op("Mul", scores, g.f32(_scalar_weight(ctx, layer, "scale")))
    else:
        qe = g.unsqueeze(q.name, [r - 1])     # (..., Tq, 1, dim)
        ke = g.unsqueeze(k.name, [r - 2])     # (..., 1, Tv, dim)
        s = g.op("Add", qe, ke)
        if layer.class_name == "Attention":
            if c.get("use_scale"):
                s = g.op("Mul", g.f32(_scalar_weight(ctx, layer, "scale")), s)
            s = g.reduce("ReduceSum", g.op("Tanh", s), [r], keepdims=False)
            scores = g.op("Mul", g.f32(_scalar_weight(ctx, layer, "concat_score_weight")), s)
        else:
            t = g.op("Tanh", s)
            if c.get("use_scale", True):
                scale = ctx.weight(layer, "scale", shape=(v.shape[-1],))
                t = g.op("Mul", ctx.const(np.asarray(scale, np.float32), "scale"), t)
            scores = g.reduce("ReduceSum", t, [r], keepdims=False)

    mask = None
    if v_mask is not None:
        mask = g.unsqueeze(_bool(ctx, *v_mask), [r - 2])
    if c.get("causal") or kw.get("use_causal_mask"):
        cm = _causal(ctx, q.shape[-2], k.shape[-2], q.name, k.name, r - 2, r - 2)
        mask = cm if mask is None else g.op("And", mask, cm)
    if mask is not None:
        pad = g.op("Cast", g.op("Not", mask), to=TensorProto.FLOAT)
        scores = g.op("Sub", scores, g.op("Mul", g.f32(1.0e9), pad))
    weights = g.op("Softmax", scores, axis=-1)
    y = g.op("MatMul", weights, v.name)
    out_mask = None
    if q_mask is not None:
        qf = q_mask[0] if q_mask[1] == TensorProto.FLOAT else g.op("Cast", q_mask[0], to=TensorProto.FLOAT)
        y = g.op("Mul", y, g.unsqueeze(qf, [r - 1]))
        out_mask = _bool(ctx, *q_mask)
    out = Tensor(name=y, shape=tuple(q.shape[:-1]) + (v.shape[-1],), dtype=q.dtype, mask=out_mask)
    if kw.get("return_attention_scores"):
        scores_shape = tuple(q.shape[:-1]) + (k.shape[-2],)
        return [out, Tensor(name=weights, shape=scores_shape, dtype=q.dtype)]
    return [out]
