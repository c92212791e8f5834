"""KerasHub (and keras-nlp, its former name) layers, as Keras 3 saves them:
registered as 'keras_hub>TransformerEncoder', ... (read with the package
kept, so a user's own class called TransformerEncoder never lands here).

TransformerEncoder / TransformerDecoder are built from the built-in
MultiHeadAttention, LayerNormalization and Dense emitters (sublayers.py), on
the sub-layers the archive keeps under `_self_attention_layer`,
`_cross_attention_layer`, `_*_layer_norm`, `_feedforward_*_dense`. Masks
follow keras_hub's merge_padding_and_attention_mask: the padding mask (an
explicit one, else the input's Keras mask) as int32 (B, 1, T), its minimum
with an attention mask, and for the decoder the minimum with the causal
mask. The encoder's attention is a plain MultiHeadAttention, which Keras 3
also hands the Keras masks of its query and value; the decoder's
CachedMultiHeadAttention takes no Keras masks.

Position layers: PositionEmbedding slices its table at start_index (or
gathers `positions`); SinePositionEncoding and RotaryEmbedding compute their
angles at run time from the positions and frequencies computed here in
float32 as Keras does (rope_type linear / dynamic / yarn / other).
ReversibleEmbedding (also keras.layers.ReversibleEmbedding) is an Embedding
forward and x @ embeddings.T (or its reverse_embeddings) with reverse=True,
with logit_soft_cap. MaskedLMHead gathers mask_positions, then Dense,
LayerNormalization, the output projection (its own kernel or its tied
embedding reversed), bias and activation. FNetEncoder's mixing is the real
part of a 2-D DFT over (sequence, hidden): C_T X C_H - S_T X S_H with cos and
sin matrices (built at run time for an unknown sequence length).

Config keys read: intermediate_dim, num_heads, activation,
layer_norm_epsilon, normalize_first (encoder, decoder); vocabulary_size,
sequence_length, embedding_dim, tie_weights, mask_zero (embeddings);
max_wavelength, scaling_factor, rope_type, beta_fast, beta_slow,
original_max_position_embeddings, truncate, sequence_axis, feature_axis,
denominator_dim (rotary); input_dim, output_dim, reverse_dtype,
logit_soft_cap (ReversibleEmbedding); token_embedding,
intermediate_activation (MaskedLMHead).
"""
from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto

from ...context import Tensor
from ...errors import ConfigError, UnsupportedError, layer_where
from ...registry import register
from ..common.activation_functions import activation_problems, apply_activation
from . import sublayers as sl

_PACKAGES = ("keras_hub", "keras_nlp")


def _names(cls: str) -> list:
    return [f"{p}>{cls}" for p in _PACKAGES]


def _check_activations(*keys):
    def check(layer, opset) -> list:
        return [p for k in keys for p in activation_problems(layer.config.get(k, "relu"))]
    return check


def _check_no_cache(ctx, args: dict, *keys) -> None:
    used = [k for k in keys if args.get(k) is not None]
    if used:
        raise UnsupportedError([f"{ctx.where()}: is called with {', '.join(used)} (cached "
                                f"generation), which is not exported; save the model without the "
                                f"cache arguments"], ctx.model.source)


# -- masks -----------------------------------------------------------------------
def _merge_masks(ctx, seq: Tensor, padding, attention):
    """keras_hub merge_padding_and_attention_mask: an int32 Tensor or None."""
    g = ctx.g
    mask = None
    if isinstance(padding, Tensor):
        mask = g.unsqueeze(sl.to_int32(ctx, ctx.keras(padding)), [1])
    elif seq.mask is not None:
        mask = g.unsqueeze(g.op("Cast", seq.mask, to=TensorProto.INT32), [1])
    if isinstance(attention, Tensor):
        att = sl.to_int32(ctx, ctx.keras(attention))
        mask = att if mask is None else g.op("Min", mask, att)
    if mask is None:
        return None
    return Tensor(name=mask, shape=(None, None, None), dtype=TensorProto.INT32)


def _causal(ctx, x: Tensor) -> str:
    """(1, T, T) bool: query step >= key step."""
    g = ctx.g
    t = x.shape[1]
    if t is not None:
        return g.const(np.tril(np.ones((1, t, t), bool)), f"causal_{t}x{t}")
    steps = g.op("Range", g.i64(0), g.op("Gather", g.op("Shape", x.name), g.i64(1), axis=0), g.i64(1))
    return g.unsqueeze(g.op("GreaterOrEqual", g.unsqueeze(steps, [1]), steps), [0])


# -- TransformerEncoder / TransformerDecoder -----------------------------------------
def _heads(ctx, layer, x: Tensor):
    c = layer.config
    hidden, heads = x.shape[-1], int(c["num_heads"])
    if hidden is None or hidden // heads == 0:
        raise ConfigError(f"{layer_where(layer)}: the hidden size {hidden} of its input does not "
                          f"give {heads} attention heads; the config is malformed")
    return heads, hidden // heads


def _feedforward(ctx, layer, x: Tensor, hidden: int, eps: float, first: bool, prefix: str) -> Tensor:
    """residual + output_dense(intermediate_dense(x)), normalized before or after."""
    c = layer.config
    norm = sl.layer_norm(ctx, layer, f"{prefix}feedforward_layer_norm", eps)
    h = sl.one(ctx, norm, x) if first else x
    h = sl.one(ctx, sl.dense(ctx, layer, f"{prefix}feedforward_intermediate_dense",
                             c["intermediate_dim"], c.get("activation", "relu")), h)
    h = sl.one(ctx, sl.dense(ctx, layer, f"{prefix}feedforward_output_dense", hidden), h)
    y = sl.add(ctx, h, x)
    return y if first else sl.one(ctx, norm, y)


def _attention_block(ctx, layer, x: Tensor, attr: str, norm_attr: str, value, mask, eps, first,
                     query_mask) -> Tensor:
    """residual + attention(norm?(x), value), normalized before or after."""
    heads, key_dim = _heads(ctx, layer, x)
    norm = sl.layer_norm(ctx, layer, norm_attr, eps)
    q = sl.one(ctx, norm, x) if first else x
    mha = sl.attention(ctx, layer, attr, heads, key_dim)
    q = sl.masked(ctx.keras(q), query_mask)
    v = q if value is None else sl.masked(ctx.keras(value), None)
    y = sl.add(ctx, sl.masked(sl.one(ctx, mha, q, value=v, attention_mask=mask), None), x)
    return y if first else sl.one(ctx, norm, y)


@register(*_names("TransformerEncoder"), check=_check_activations("activation"), layout="any")
def transformer_encoder(layer, inputs, ctx):
    """TransformerEncoder(intermediate_dim, num_heads, activation,
    layer_norm_epsilon, normalize_first) called with (inputs, padding_mask,
    attention_mask)."""
    c = layer.config
    a = sl.bind(ctx, inputs, ("inputs", "padding_mask", "attention_mask"))
    x = ctx.keras(a["inputs"])
    eps = float(c.get("layer_norm_epsilon", 1e-5))
    first = bool(c.get("normalize_first", False))
    p = "_"   # keras_hub keeps its sub-layers in private attributes
    mask = _merge_masks(ctx, x, a.get("padding_mask"), a.get("attention_mask"))
    # Keras 3's MultiHeadAttention also takes the Keras mask of its query and value
    h = _attention_block(ctx, layer, x, f"{p}self_attention_layer", f"{p}self_attention_layer_norm",
                         None, mask, eps, first, x.mask)
    return [sl.masked(_feedforward(ctx, layer, h, x.shape[-1], eps, first, p), x.mask)]


@register(*_names("TransformerDecoder"), check=_check_activations("activation"), layout="any")
def transformer_decoder(layer, inputs, ctx):
    """TransformerDecoder(intermediate_dim, num_heads, activation,
    layer_norm_epsilon, normalize_first) called with (decoder_sequence,
    encoder_sequence, decoder_padding_mask, decoder_attention_mask,
    encoder_padding_mask, encoder_attention_mask, use_causal_mask)."""
    c = layer.config
    a = sl.bind(ctx, inputs, ("decoder_sequence", "encoder_sequence", "decoder_padding_mask",
                              "decoder_attention_mask", "encoder_padding_mask",
                              "encoder_attention_mask", "self_attention_cache",
                              "self_attention_cache_update_index", "cross_attention_cache",
                              "cross_attention_cache_update_index", "use_causal_mask"))
    _check_no_cache(ctx, a, "self_attention_cache", "cross_attention_cache")
    g = ctx.g
    x = ctx.keras(a["decoder_sequence"])
    enc = a.get("encoder_sequence")
    eps = float(c.get("layer_norm_epsilon", 1e-5))
    first = bool(c.get("normalize_first", False))
    p = "_"   # keras_hub keeps its sub-layers in private attributes
    mask = _merge_masks(ctx, x, a.get("decoder_padding_mask"), a.get("decoder_attention_mask"))
    if a.get("use_causal_mask", True) is not False:
        causal = _causal(ctx, x)
        if mask is None:
            mask = Tensor(name=causal, shape=(1, None, None), dtype=TensorProto.BOOL)
        else:
            both = g.op("Min", mask.name, g.op("Cast", causal, to=TensorProto.INT32))
            mask = Tensor(name=both, shape=(None, None, None), dtype=TensorProto.INT32)
    h = _attention_block(ctx, layer, x, f"{p}self_attention_layer", f"{p}self_attention_layer_norm",
                         None, mask, eps, first, None)
    if isinstance(enc, Tensor):
        enc = ctx.keras(enc)
        cmask = _merge_masks(ctx, enc, a.get("encoder_padding_mask"), a.get("encoder_attention_mask"))
        h = _attention_block(ctx, layer, h, f"{p}cross_attention_layer",
                             f"{p}cross_attention_layer_norm", enc, cmask, eps, first, None)
    y = _feedforward(ctx, layer, h, x.shape[-1], eps, first, p)
    return [sl.masked(y, x.mask)]


# -- embeddings ------------------------------------------------------------------------
def _embedding(ctx, layer, attr: str, ids: Tensor, table, mask_zero: bool) -> Tensor:
    sub = sl.sublayer(layer, attr or "embedding", "Embedding",
                      {"input_dim": int(table.shape[0]), "output_dim": int(table.shape[1]),
                       "mask_zero": bool(mask_zero)}, {"embeddings": table})
    return sl.one(ctx, sub, ids)


def _reverse(ctx, x: Tensor, table, reverse_table, cfg: dict, tag: str) -> Tensor:
    """ReversibleEmbedding(reverse=True): x @ table.T (tied) or x @ reverse_embeddings."""
    g = ctx.g
    x = ctx.keras(x)
    kernel = np.ascontiguousarray(table.T) if reverse_table is None else reverse_table
    y = g.op("MatMul", x.name, ctx.const(np.asarray(kernel, np.float32), tag))
    cap = cfg.get("logit_soft_cap")
    if cap is not None:
        y = g.op("Mul", g.op("Tanh", g.op("Div", y, g.f32(float(cap)))), g.f32(float(cap)))
    return Tensor(name=y, shape=tuple(x.shape[:-1]) + (int(kernel.shape[1]),))


def _reversible_tables(ctx, layer, path: str, cfg: dict):
    tied = cfg.get("tie_weights", True) is not False
    arrs = sl.need(ctx, layer, path, 1 if tied else 2)
    return arrs[0], (None if tied else arrs[1])


def _check_reversible(layer, opset) -> list:
    c = layer.config
    problems = []
    if c.get("quantization_config") is not None or any(q in str(c.get("dtype")) for q in ("int8", "int4")):
        problems.append("a quantized ReversibleEmbedding (int8 / int4) is not supported; export the "
                        "float model")
    if c.get("reverse_dtype") not in (None, "float32"):
        problems.append(f"reverse_dtype={c.get('reverse_dtype')!r}: the export computes the reverse "
                        f"projection in float32 only; save the model with reverse_dtype=None")
    return problems


@register("ReversibleEmbedding", *_names("ReversibleEmbedding"), check=_check_reversible, layout="any")
def reversible_embedding(layer, inputs, ctx):
    """ReversibleEmbedding(input_dim, output_dim, tie_weights, mask_zero,
    logit_soft_cap) called with (inputs, reverse)."""
    a = sl.bind(ctx, inputs, ("inputs", "reverse"))
    table, rev = _reversible_tables(ctx, layer, "", layer.config)
    if a.get("reverse"):
        return [_reverse(ctx, a["inputs"], table, rev, layer.config, "reverse_embeddings")]
    return [_embedding(ctx, layer, "", a["inputs"], table, bool(layer.config.get("mask_zero")))]


def _positions_table(ctx, x: Tensor, table, start, positions, tag: str) -> Tensor:
    """PositionEmbedding.call: the table rows for x's steps, broadcast to x."""
    g = ctx.g
    x = ctx.keras(x)
    t = ctx.const(np.asarray(table, np.float32), tag)
    if isinstance(positions, Tensor):
        pos = ctx.keras(positions)
        idx = pos.name if pos.dtype == TensorProto.INT64 else g.op("Cast", pos.name, to=TensorProto.INT64)
        rows = g.op("Gather", t, idx, axis=0)
    else:
        begin = _start(ctx, start)
        steps = x.shape[-2]
        end = g.op("Add", begin, g.i64([steps]) if steps is not None else g.op(
            "Slice", g.op("Shape", x.name), g.i64([-2]), g.i64([-1])))
        rows = g.op("Slice", t, begin, end, g.i64([0]))
    return x.like(g.op("Expand", rows, g.op("Shape", x.name)))


def _start(ctx, start) -> str:
    """start_index as a 1-D int64 value (an int, or a tensor given in the call)."""
    g = ctx.g
    if isinstance(start, Tensor):
        s = ctx.keras(start)
        v = s.name if s.dtype == TensorProto.INT64 else g.op("Cast", s.name, to=TensorProto.INT64)
        return g.op("Reshape", v, g.i64([1]))
    return g.i64([int(start or 0)])


@register(*_names("PositionEmbedding"), layout="any")
def position_embedding(layer, inputs, ctx):
    """PositionEmbedding(sequence_length) called with (inputs, start_index, positions)."""
    a = sl.bind(ctx, inputs, ("inputs", "start_index", "positions"))
    (table,) = sl.need(ctx, layer, "", 1)[:1]
    return [_positions_table(ctx, a["inputs"], table, a.get("start_index"), a.get("positions"),
                             "embeddings")]


@register(*_names("TokenAndPositionEmbedding"), check=_check_reversible, layout="any")
def token_and_position_embedding(layer, inputs, ctx):
    """TokenAndPositionEmbedding(vocabulary_size, sequence_length,
    embedding_dim, tie_weights, mask_zero) called with (inputs, start_index,
    positions): token embedding plus position embedding, masked as the tokens."""
    a = sl.bind(ctx, inputs, ("inputs", "start_index", "positions"))
    table, _ = _reversible_tables(ctx, layer, "token_embedding", layer.config)
    (pos_table,) = sl.need(ctx, layer, "position_embedding", 1)[:1]
    tok = _embedding(ctx, layer, "token_embedding", a["inputs"], table,
                     bool(layer.config.get("mask_zero")))
    pos = _positions_table(ctx, tok, pos_table, a.get("start_index"), a.get("positions"),
                           "position_embedding/embeddings")
    return [sl.masked(sl.add(ctx, tok, pos), tok.mask)]


def _float_positions(ctx, x_name: str, axis: int, start, positions) -> str:
    """(P, T) float32 positions: arange(T) + start_index, or the given ones."""
    g = ctx.g
    if isinstance(positions, Tensor):
        p = ctx.keras(positions)
        v = g.op("Cast", p.name, to=TensorProto.FLOAT)
        return g.unsqueeze(v, [0]) if p.rank == 1 else v
    steps = g.op("Gather", g.op("Shape", x_name), g.i64(axis), axis=0)
    pos = g.op("Cast", g.op("Range", g.i64(0), steps, g.i64(1)), to=TensorProto.FLOAT)
    if isinstance(start, Tensor):
        pos = g.op("Add", pos, g.op("Cast", ctx.keras(start).name, to=TensorProto.FLOAT))
    elif start:
        pos = g.op("Add", pos, g.f32(float(start)))
    return g.unsqueeze(pos, [0])


@register(*_names("SinePositionEncoding"), layout="any")
def sine_position_encoding(layer, inputs, ctx):
    """SinePositionEncoding(max_wavelength) called with (inputs, start_index, positions)."""
    g = ctx.g
    a = sl.bind(ctx, inputs, ("inputs", "start_index", "positions"))
    x = ctx.keras(a["inputs"])
    hidden = x.shape[-1]
    if hidden is None:
        raise ConfigError(f"{layer_where(layer)}: the feature size of its input is unknown")
    f32 = np.float32
    min_freq = f32(1.0) / f32(layer.config.get("max_wavelength", 10000))
    timescales = np.power(min_freq, (2 * (np.arange(hidden) // 2)).astype(f32) / f32(hidden))
    pos = _float_positions(ctx, x.name, x.rank - 2, a.get("start_index"), a.get("positions"))
    angles = g.op("Mul", g.unsqueeze(pos, [2]), ctx.const(timescales.astype(f32), "timescales"))
    cos_mask = (np.arange(hidden) % 2).astype(f32)
    y = g.op("Add", g.op("Mul", g.op("Sin", angles), ctx.const(1 - cos_mask, "sin_mask")),
             g.op("Mul", g.op("Cos", angles), ctx.const(cos_mask, "cos_mask")))
    return [x.like(g.op("Expand", y, g.op("Shape", x.name)))]


# -- RotaryEmbedding -------------------------------------------------------------------
def _inverse_freq(c: dict, dim: int) -> np.ndarray:
    """RotaryEmbedding._get_inverse_freq, in float32 as Keras computes it."""
    f = np.float32
    idx = np.arange(0, dim, 2, dtype=f)
    base = f(c.get("max_wavelength", 10000))
    scale = f(c.get("scaling_factor", 1.0))
    rope = c.get("rope_type", "linear")
    if rope == "yarn":
        pos_freqs = np.power(base, idx / f(dim))
        extra, inter = f(1.0) / pos_freqs, f(1.0) / (scale * pos_freqs)
        max_pos = f(c.get("original_max_position_embeddings", 4096))

        def correction(rot):
            return (f(dim) * np.log(max_pos / (f(rot) * f(2) * f(np.pi)))) / (f(2) * np.log(base))
        low, high = correction(c.get("beta_fast", 32.0)), correction(c.get("beta_slow", 1.0))
        if c.get("truncate", True):
            low, high = np.floor(low), np.ceil(high)
        low, high = np.maximum(low, f(0)), np.minimum(high, f(dim - 1))
        ramp = np.clip((np.arange(0, dim // 2, dtype=f) - low) / np.maximum(high - low, f(0.001)), 0, 1)
        keep = f(1) - ramp
        return (inter * (f(1) - keep) + extra * keep).astype(f)
    denom = f(c.get("denominator_dim") or dim)
    inv = np.power(base, -(idx / denom)).astype(f)
    if rope == "linear":
        return (inv / scale).astype(f)
    if rope == "dynamic":
        return (inv / np.power(scale, f(dim) / f(max(1, dim - 2)))).astype(f)
    return inv


def _check_rotary(layer, opset) -> list:
    c = layer.config
    s, f = c.get("sequence_axis", 1), c.get("feature_axis", -1)
    if not isinstance(s, int) or not isinstance(f, int):
        return [f"sequence_axis={s!r} / feature_axis={f!r} are not ints; the config is malformed"]
    return []


@register(*_names("RotaryEmbedding"), check=_check_rotary, layout="any")
def rotary_embedding(layer, inputs, ctx):
    """RotaryEmbedding(max_wavelength, scaling_factor, rope_type, ...,
    sequence_axis, feature_axis) called with (inputs, start_index, positions).
    Computed in Keras's own moved layout (sequence axis 1, features last),
    which the output keeps as its layout."""
    g = ctx.g
    c = layer.config
    a = sl.bind(ctx, inputs, ("inputs", "start_index", "positions"))
    x = a["inputs"]
    r = x.rank
    s, f = int(c.get("sequence_axis", 1)) % r, int(c.get("feature_axis", -1)) % r
    if s == f or r < 3:
        raise ConfigError(f"{layer_where(layer)}: sequence_axis and feature_axis must be two "
                          f"different axes of its rank-{r} input")
    rest = iter(i for i in range(r) if i not in (s, f))
    perm = tuple(s if i == 1 else f if i == r - 1 else next(rest) for i in range(r))
    xt = ctx.to_perm(x, perm)
    dim = x.shape[f]
    if dim is None or dim % 2:
        raise ConfigError(f"{layer_where(layer)}: the rotary (feature) axis has size {dim}; it "
                          f"must be known and even")
    pos = _float_positions(ctx, xt.name, 1, a.get("start_index"), a.get("positions"))
    freq = g.op("Mul", g.unsqueeze(pos, [2]), ctx.const(_inverse_freq(c, dim), "inverse_freq"))
    emb = g.op("Concat", freq, freq, axis=-1)
    if r > 3:
        emb = g.unsqueeze(emb, list(range(2, r - 1)))
    cos, sin = g.op("Cos", emb), g.op("Sin", emb)
    if c.get("rope_type", "linear") == "yarn":
        factor = np.float32(0.1) * np.log(np.float32(c.get("scaling_factor", 1.0))) + np.float32(1)
        cos, sin = g.op("Mul", cos, g.f32(factor)), g.op("Mul", sin, g.f32(factor))
    half = dim // 2
    x1 = g.op("Slice", xt.name, g.i64([0]), g.i64([half]), g.i64([r - 1]))
    x2 = g.op("Slice", xt.name, g.i64([half]), g.i64([dim]), g.i64([r - 1]))
    rot = g.op("Concat", g.op("Neg", x2), x1, axis=r - 1)
    y = g.op("Add", g.op("Mul", xt.name, cos), g.op("Mul", rot, sin))
    keep = None if perm == tuple(range(r)) else perm
    return [Tensor(name=y, shape=x.shape, perm=keep, dtype=x.dtype)]


# -- MaskedLMHead, FNetEncoder ------------------------------------------------------------
def _tied_embedding(ctx, layer):
    """(table, reverse table or None, config) of MaskedLMHead's token_embedding:
    stored in the head, or (shared with the model) in the layer of that name,
    or a sub-layer of that name inside another layer (TokenAndPositionEmbedding's)."""
    spec = layer.config["token_embedding"]
    cfg = spec.get("config") or {}
    tied = cfg.get("tie_weights", True) is not False
    n = 1 if tied else 2
    if len(sl.stored(layer, "token_embedding")) >= n:
        return (*_reversible_tables(ctx, layer, "token_embedding", cfg), cfg)
    name = cfg.get("name")
    found = []
    for other in ctx.model.walk():
        if other.name == name and len(sl.stored(other)) >= n:
            found.append((other, ""))
        elif other is not layer and len(sl.stored(other, str(name))) >= n:
            found.append((other, str(name)))
    if len(found) != 1:
        raise ConfigError(f"{ctx.model.source}: {layer_where(layer)}: its token_embedding "
                          f"'{name}' is {'not stored in the file' if not found else 'ambiguous'}; "
                          f"give the head its own vocabulary_size kernel or re-save the model")
    other, path = found[0]
    return (*_reversible_tables(ctx, other, path, cfg), cfg)


@register(*_names("MaskedLMHead"), check=_check_activations("intermediate_activation", "activation"),
          layout="any")
def masked_lm_head(layer, inputs, ctx):
    """MaskedLMHead(vocabulary_size, token_embedding, intermediate_activation,
    activation, layer_norm_epsilon) called with (inputs, mask_positions)."""
    g = ctx.g
    c = layer.config
    a = sl.bind(ctx, inputs, ("inputs", "mask_positions"))
    x, pos = ctx.keras(a["inputs"]), a.get("mask_positions")
    if not isinstance(pos, Tensor):
        raise ConfigError(f"{layer_where(layer)}: the call has no mask_positions tensor")
    pos = ctx.keras(pos)
    idx = pos.name if pos.dtype == TensorProto.INT64 else g.op("Cast", pos.name, to=TensorProto.INT64)
    picked = Tensor(name=g.op("GatherND", x.name, g.unsqueeze(idx, [-1]), batch_dims=1),
                    shape=tuple(pos.shape) + (x.shape[-1],), dtype=x.dtype)
    tied = isinstance(c.get("token_embedding"), dict)
    own = sl.need(ctx, layer, "", 1 if tied else 2)
    if tied:
        table, rev, ecfg = _tied_embedding(ctx, layer)
        width = int(table.shape[1])
    else:
        width = int(own[0].shape[0])
    h = sl.one(ctx, sl.dense(ctx, layer, "_intermediate_dense", width,
                             c.get("intermediate_activation", "relu")), picked)
    h = sl.one(ctx, sl.layer_norm(ctx, layer, "_intermediate_layer_norm",
                                  c.get("layer_norm_epsilon", 1e-5)), h)
    if tied:
        logits = _reverse(ctx, h, table, rev, ecfg, "token_embedding")
    else:
        h = ctx.keras(h)
        logits = Tensor(name=g.op("MatMul", h.name, ctx.const(own[0], "output_kernel")),
                        shape=tuple(h.shape[:-1]) + (int(own[0].shape[1]),))
    logits = logits.like(g.op("Add", logits.name, ctx.const(own[-1], "output_bias")))
    return [apply_activation(ctx, logits, c.get("activation"))]


def _dft(ctx, x: Tensor, axis: int):
    """(cos, sin) matrices of the DFT over `axis` of x (size N): [k, n] =
    cos / sin(2 pi (k n mod N) / N)."""
    g = ctx.g
    n = x.shape[axis]
    if n is not None:
        kn = np.outer(np.arange(n), np.arange(n)) % n
        ang = 2.0 * np.pi * kn / n
        return (ctx.const(np.cos(ang).astype(np.float32), f"dft_cos_{n}"),
                ctx.const(np.sin(ang).astype(np.float32), f"dft_sin_{n}"))
    size = g.op("Gather", g.op("Shape", x.name), g.i64(axis), axis=0)
    k = g.op("Range", g.i64(0), size, g.i64(1))
    kn = g.op("Mod", g.op("Mul", g.unsqueeze(k, [1]), g.unsqueeze(k, [0])), size)
    step = g.op("Div", g.f32(2.0 * math.pi), g.op("Cast", size, to=TensorProto.FLOAT))
    ang = g.op("Mul", g.op("Cast", kn, to=TensorProto.FLOAT), step)
    return g.op("Cos", ang), g.op("Sin", ang)


@register(*_names("FNetEncoder"), check=_check_activations("activation"), layout="any")
def fnet_encoder(layer, inputs, ctx):
    """FNetEncoder(intermediate_dim, activation, layer_norm_epsilon)."""
    g = ctx.g
    c = layer.config
    x = ctx.keras(sl.bind(ctx, inputs, ("inputs",))["inputs"])
    if x.rank < 2 or x.shape[-1] is None:
        raise ConfigError(f"{layer_where(layer)}: needs (batch, ..., sequence, hidden) with a known "
                          f"hidden size, got {x.shape}")
    eps = float(c.get("layer_norm_epsilon", 1e-5))
    ct, st = _dft(ctx, x, -2)
    ch, sh = _dft(ctx, x, -1)
    real = g.op("Sub", g.op("MatMul", g.op("MatMul", ct, x.name), ch),
                g.op("MatMul", g.op("MatMul", st, x.name), sh))
    mixed = sl.one(ctx, sl.layer_norm(ctx, layer, "_mixing_layer_norm", eps),
                   sl.masked(x.like(g.op("Add", x.name, real)), None))
    h = sl.one(ctx, sl.dense(ctx, layer, "_intermediate_dense", c["intermediate_dim"],
                             c.get("activation", "relu")), mixed)
    h = sl.one(ctx, sl.dense(ctx, layer, "_output_dense", x.shape[-1]), h)
    y = sl.one(ctx, sl.layer_norm(ctx, layer, "_output_layer_norm", eps), sl.add(ctx, mixed, h))
    return [sl.masked(y, None)]
