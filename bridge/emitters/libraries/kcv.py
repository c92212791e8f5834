"""keras-cv-attention-models (kecam) layers, registered as the library
registers them ('resmlp>ChannelAffine', 'volo>ClassToken', ...). tf-keras
files name their weights (weight, bias, tokens, positional_embedding);
Keras 3 archives only number them (var_0, ...), in the same order.

  ChannelAffine(use_bias, axis)        x * weight (+ bias), broadcast
  BiasLayer(axis)                      x + bias, broadcast
  nfnets>ZeroInitGain(use_bias)        x * gain (+ bias), scalars
  PositionalEmbedding                  x + positional_embedding (1, *input shape)
  ClassToken(num_tokens, is_at_end)    the (1, n, C) tokens, tiled over the
                                       batch, concatenated before (or after)
                                       the sequence
  MultiHeadRelativePositionalEmbedding(with_cls_token, attn_height,
      num_heads)                       attention scores (B, heads, q, k) plus
                                       the stored (heads, distances) table
                                       gathered by the relative-position index
                                       the layer builds from its input shape
  levit>MultiHeadPositionalEmbedding(query_height, key_height)
                                       attention scores (B, heads, q, k) or (B, q, k)
                                       plus the stored (k, heads) table gathered by
                                       the layer's own block-distance index
  kecam>ExpLogitScale(axis, max_value) x * exp(min(gamma, max_value))
  kecam>MlpPairwisePositionalEmbedding (SwinV2) the layer's fixed coordinates
                                       through its two-layer MLP (relu), then for
                                       relative positions gathered by its index,
                                       16 * sigmoid, zero-padded for a class
                                       token, heads first; added to the input
  kecam>WindowAttentionMask / swinv2>WindowAttentionMask
                                       the shifted-window mask (-100 across
                                       regions) added per window
  kecam/edgenext>PositionalEncodingFourier(filters, temperature)
                                       the layer's fixed sine / cosine table of
                                       (height, width) through its projection
                                       (ww, bb), added to the input
  PatchConv2DWithResampleWeights       a Conv2D (it only adds a weight-resizing
                                       method), converted by the Conv2D emitter
  CompatibleExtractPatches(sizes, strides, rates, padding, compressed)
                                       (VOLO's outlook attention) zero padding by
                                       sizes // 2 for 'same', then
                                       tf.image.extract_patches 'VALID': a grouped
                                       Conv with one-hot kernels (exact copies),
                                       the patch reordered to (kh, kw, channel)

The broadcast weights are applied in the input's own layout (a channels-first
conv stack stays channels-first).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...context import Tensor
from ...errors import ConfigError, layer_where
from ...registry import REGISTRY, register
from . import sublayers as sl


def _weight(ctx, layer, short: str, index: int) -> np.ndarray:
    """A weight by its tf-keras name, else by its place (Keras 3)."""
    w = layer.weight(short)
    if w is None:
        w = sl.need(ctx, layer, "", index + 1)[index]
    return np.asarray(w, np.float32)


def _broadcast(ctx, x: Tensor, op: str, array: np.ndarray, tag: str) -> Tensor:
    """x op array, with array broadcast as numpy does against the Keras
    shape of x, computed in x's layout."""
    a = np.asarray(array, np.float32)
    if a.ndim > x.rank:
        a = a.reshape(a.shape[a.ndim - x.rank:]) if all(d == 1 for d in a.shape[:a.ndim - x.rank]) else a
    if a.ndim > x.rank:
        raise ConfigError(f"{layer_where(ctx.layer)}: weight '{tag}' of shape {array.shape} does not "
                          f"broadcast against its input of shape {x.shape}")
    a = a.reshape((1,) * (x.rank - a.ndim) + a.shape)
    if x.perm:
        a = np.transpose(a, x.perm)
    # a shared layer may meet another layout or shape: one initializer per array
    return x.like(ctx.g.op(op, x.name, ctx.const(np.ascontiguousarray(a), tag)))


@register("resmlp>ChannelAffine", layout="any")
def channel_affine(layer, inputs, ctx):
    """ChannelAffine(use_bias, weight_init_value, axis): x * weight + bias."""
    y = _broadcast(ctx, inputs[0], "Mul", _weight(ctx, layer, "weight", 0), "weight")
    if layer.config.get("use_bias", True) is not False:
        y = _broadcast(ctx, y, "Add", _weight(ctx, layer, "bias", 1), "bias")
    return [sl.masked(y, None)]


@register("volo>BiasLayer", layout="any")
def bias_layer(layer, inputs, ctx):
    """BiasLayer(axis): x + bias."""
    return [sl.masked(_broadcast(ctx, inputs[0], "Add", _weight(ctx, layer, "bias", 0), "bias"), None)]


@register("nfnets>ZeroInitGain", layout="any")
def zero_init_gain(layer, inputs, ctx):
    """ZeroInitGain(use_bias): x * gain (+ bias), scalar weights."""
    y = _broadcast(ctx, inputs[0], "Mul", _weight(ctx, layer, "gain", 0), "gain")
    if layer.config.get("use_bias"):
        y = _broadcast(ctx, y, "Add", _weight(ctx, layer, "bias", 1), "bias")
    return [sl.masked(y, None)]


@register("volo>PositionalEmbedding", layout="any")
def positional_embedding(layer, inputs, ctx):
    """PositionalEmbedding(input_height): x + positional_embedding."""
    pe = _weight(ctx, layer, "positional_embedding", 0)
    return [sl.masked(_broadcast(ctx, inputs[0], "Add", pe, "positional_embedding"), None)]


@register("volo>ClassToken", layout="any")
def class_token(layer, inputs, ctx):
    """ClassToken(num_tokens, is_at_end): concat(tokens tiled over the batch, x)."""
    g = ctx.g
    x = ctx.keras(inputs[0])
    tokens = _weight(ctx, layer, "tokens", 0)
    if x.rank != 3 or tokens.ndim != 3 or tokens.shape[-1] != x.shape[-1]:
        raise ConfigError(f"{layer_where(layer)}: tokens of shape {tokens.shape} do not fit its input "
                          f"of shape {x.shape}; it takes (batch, blocks, channels)")
    n, ch = int(tokens.shape[1]), int(tokens.shape[2])
    batch = g.op("Slice", g.op("Shape", x.name), g.i64([0]), g.i64([1]))
    tiled = g.op("Expand", ctx.const(tokens, "tokens"), g.op("Concat", batch, g.i64([n, ch]), axis=0))
    parts = [x.name, tiled] if layer.config.get("is_at_end") else [tiled, x.name]
    steps = None if x.shape[1] is None else x.shape[1] + n
    return [Tensor(name=g.op("Concat", *parts, axis=1), shape=(x.shape[0], steps, ch), dtype=x.dtype)]


def _relative_index(cfg: dict, attn_shape: tuple) -> np.ndarray:
    """MultiHeadRelativePositionalEmbedding.build's relative_position_index."""
    cls_len, cls_pos_len = (1, 3) if cfg.get("with_cls_token", True) else (0, 0)
    attn_height = int(cfg.get("attn_height", -1))
    if attn_height == -1:
        height = width = int(float(attn_shape[2] - cls_len) ** 0.5)
    else:
        height = attn_height
        width = int(float(attn_shape[2] - cls_len) / height)
    num_rel = (2 * height - 1) * (2 * width - 1) + cls_pos_len
    hh, ww = np.meshgrid(range(height), range(width))
    coords = np.reshape(np.stack([hh, ww], axis=-1), [-1, 2])
    rel = coords[:, None, :] - coords[None, :, :]
    index = (rel[:, :, 0] + height - 1) + (rel[:, :, 1] + width - 1) * (2 * height - 1)
    if attn_shape[3] != attn_shape[2]:
        index = index[:, -(attn_shape[3] - cls_len):]
    if cls_len:
        top = np.full((1, index.shape[1]), num_rel - 3)
        left_corner = np.concatenate([np.full((1, 1), num_rel - 1), np.full((index.shape[0], 1), num_rel - 2)])
        index = np.concatenate([left_corner, np.concatenate([top, index], axis=0)], axis=1)
    return index.astype(np.int64), num_rel


@register("beit>MultiHeadRelativePositionalEmbedding", layout="any")
def multi_head_relative_positional_embedding(layer, inputs, ctx):
    """MultiHeadRelativePositionalEmbedding(with_cls_token, attn_height,
    num_heads) on attention scores (batch, heads, query blocks, key blocks)."""
    x = ctx.keras(inputs[0])
    if x.rank != 4 or None in x.shape[1:]:
        raise ConfigError(f"{layer_where(layer)}: needs attention scores of a known shape (batch, "
                          f"heads, query blocks, key blocks), got {x.shape}")
    table = _weight(ctx, layer, "positional_embedding", 0)
    index, num_rel = _relative_index(layer.config, x.shape)
    if table.ndim != 2 or table.shape[1] != num_rel or index.max() >= num_rel:
        raise ConfigError(f"{layer_where(layer)}: its table of shape {table.shape} does not fit "
                          f"attention scores of shape {x.shape} ({num_rel} relative distances)")
    bias = table[:, index[:x.shape[2], :x.shape[3]]]       # the layer's gather, on stored weights
    return [sl.masked(_broadcast(ctx, x, "Add", bias, "positional_embedding"), None)]


def _levit_index(cfg: dict, qq: int, kk: int) -> np.ndarray:
    """levit MultiHeadPositionalEmbedding.build's bb_pos."""
    qh = int(cfg.get("query_height", -1))
    q_h, q_w = (int(float(qq) ** 0.5),) * 2 if qh == -1 else (qh, int(qq / qh))
    strides = int(np.ceil(float(kk / qq) ** 0.5))
    kh = int(cfg.get("key_height", -1))
    if kh == -1:
        k_h = q_h * strides
        while kk % k_h != 0:
            k_h -= 1
        k_w = int(kk / k_h)
    else:
        k_h, k_w = kh, int(kk / kh)
    x1, y1 = np.meshgrid(range(q_h), range(q_w))
    x2, y2 = np.meshgrid(range(k_h), range(k_w))
    aa = np.concatenate([np.reshape(x1, (-1, 1)), np.reshape(y1, (-1, 1))], axis=-1)
    bb = np.concatenate([np.reshape(x2, (-1, 1)), np.reshape(y2, (-1, 1))], axis=-1)
    cc = [np.abs(bb - ii * strides) for ii in aa]
    return np.stack([ii[:, 0] + ii[:, 1] * k_h for ii in cc]).astype(np.int64)


@register("levit>MultiHeadPositionalEmbedding", layout="any")
def levit_positional_embedding(layer, inputs, ctx):
    """MultiHeadPositionalEmbedding(query_height, key_height) on attention
    scores (batch, heads, query blocks, key blocks) or (batch, query, key)."""
    x = ctx.keras(inputs[0])
    if x.rank not in (3, 4) or None in x.shape[1:]:
        raise ConfigError(f"{layer_where(layer)}: needs attention scores of a known shape, got {x.shape}")
    qq, kk = x.shape[-2], x.shape[-1]
    table = _weight(ctx, layer, "positional_embedding", 0)
    index = _levit_index(layer.config, qq, kk)
    if table.shape[0] != kk or index.max() >= kk:
        raise ConfigError(f"{layer_where(layer)}: its table of shape {table.shape} does not fit "
                          f"attention scores of shape {x.shape}")
    bias = table[index]                                    # (q, k) or (q, k, heads)
    if bias.ndim == 3:
        bias = np.transpose(bias, (2, 0, 1))
    return [sl.masked(_broadcast(ctx, x, "Add", bias, "positional_embedding"), None)]


def _check_patch_conv(layer, opset) -> list:
    em = REGISTRY.lookup("Conv2D", opset)
    as_conv = replace(layer, class_name="Conv2D")       # checked as the Conv2D it computes
    return list(em.check(as_conv, opset)) if em.check is not None else []


@register("beit>PatchConv2DWithResampleWeights", check=_check_patch_conv, layout="any")
def patch_conv2d(layer, inputs, ctx):
    """PatchConv2DWithResampleWeights: a Conv2D (its config keys)."""
    weights = {"kernel": _weight(ctx, layer, "kernel", 0)}
    if layer.config.get("use_bias", True) is not False:
        weights["bias"] = _weight(ctx, layer, "bias", 1)
    conv = sl.sublayer(layer, "conv", "Conv2D", layer.config, weights)
    return sl.run(ctx, conv, inputs[0])


def _pair(v, last: bool = True) -> tuple:
    """kecam's forms: an int, or [1, a, b, 1] / (a, b)."""
    if isinstance(v, (list, tuple)):
        return (int(v[1]), int(v[2])) if len(v) == 4 else (int(v[0]), int(v[-1]))
    return int(v), int(v)


@register("kecamCommon>CompatibleExtractPatches", layout="any")
def extract_patches(layer, inputs, ctx):
    """CompatibleExtractPatches(sizes, strides, rates, padding, compressed)."""
    g = ctx.g
    c = layer.config
    x = inputs[0]
    k = _pair(c.get("sizes", 3))[1]
    stride = _pair(c.get("strides", 2))[1]
    rates = _pair(c.get("rates", 1))
    ch = x.shape[-1]
    if x.rank != 4 or ch is None:
        raise ConfigError(f"{layer_where(layer)}: needs (batch, height, width, channels) with known "
                          f"channels, got {x.shape}")
    pad = k // 2 if str(c.get("padding", "same")).lower() == "same" else 0
    xc = ctx.channels_first(x)
    kernel = np.zeros((ch * k * k, 1, k, k), np.float32)
    for ci in range(ch):
        for i in range(k):
            for j in range(k):
                kernel[ci * k * k + i * k + j, 0, i, j] = 1.0
    y = g.op("Conv", xc.name, ctx.const(kernel, "unfold"), kernel_shape=[k, k], strides=[stride] * 2,
             dilations=list(rates), pads=[pad] * 4, group=int(ch))
    sizes = [None if n is None else (n + 2 * pad - r * (k - 1) - 1) // stride + 1
             for n, r in zip(x.shape[1:3], rates)]
    # (B, C*k*k, oh, ow) -> (B, oh, ow, k*k, C): TensorFlow's patch order
    hw = g.op("Slice", g.op("Shape", y), g.i64([2]), g.i64([4]))
    y = g.op("Reshape", y, g.op("Concat", g.i64([0, int(ch), k * k]), hw, axis=0))
    y = g.op("Transpose", y, perm=[0, 3, 4, 2, 1])
    tail = [k * k * int(ch)] if c.get("compressed", True) is not False else [k, k, int(ch)]
    y = g.op("Reshape", y, g.i64([0, 0, 0] + tail))
    return [Tensor(name=y, shape=(x.shape[0], *sizes, *tail), dtype=x.dtype)]


# -- Swin Transformer V2 -----------------------------------------------------------------
@register("kecam>ExpLogitScale", layout="any")
def exp_logit_scale(layer, inputs, ctx):
    """ExpLogitScale(axis, max_value): x * exp(min(gamma, max_value))."""
    gamma = _weight(ctx, layer, "gamma", 0)
    limit = np.float32(layer.config.get("max_value", np.log(100.0)))
    scale = np.exp(np.minimum(gamma, limit)).astype(np.float32)   # a function of the weight alone
    return [sl.masked(_broadcast(ctx, inputs[0], "Mul", scale, "scale"), None)]


def _swin_coords(c: dict, shape: tuple):
    """MlpPairwisePositionalEmbedding.build's coordinates (and relative
    index, height, width, padding), with the layer's own numpy arithmetic."""
    if c.get("use_absolute_pos"):
        compressed = len(shape) == 3
        if compressed:
            h = int(float(shape[-2]) ** 0.5) if c.get("attn_height", -1) == -1 else int(c["attn_height"])
            w = shape[-2] // h
        else:
            h, w = shape[1:-1]
        hh, ww = np.meshgrid(range(0, h), range(0, w), indexing="ij")
        coords = np.stack([hh, ww], axis=-1).astype("float32") / [h // 2, w // 2] - 1
        return (np.reshape(coords, [-1, 2]) if compressed else coords), None, 0
    h = int(float(shape[-2]) ** 0.5) if c.get("attn_height", -1) == -1 else int(c["attn_height"])
    w = shape[-2] // h if c.get("attn_width", -1) == -1 else int(c["attn_width"])
    hh, ww = np.meshgrid(range(-h + 1, h), range(-w + 1, w), indexing="ij")
    coords = np.stack([hh, ww], axis=-1).astype("float32")
    ps = c.get("pos_scale", -1)
    ps = [h, w] if ps == -1 else (ps if isinstance(ps, (list, tuple)) else [ps, ps])
    coords = coords * 8 / [float(ps[0] - 1), float(ps[1] - 1)]
    coords = np.reshape(np.sign(coords) * np.log(1.0 + np.abs(coords)) / (np.log(2.0) * 3.0), [-1, 2])
    hh, ww = np.meshgrid(range(h), range(w))
    flat = np.reshape(np.stack([hh, ww], axis=-1), [-1, 2])
    rel = flat[:, None, :] - flat[None, :, :]
    index = (rel[:, :, 0] + h - 1) + (rel[:, :, 1] + w - 1) * (2 * h - 1)
    return coords, index.astype(np.int64), shape[-2] - h * w


@register("kecam>MlpPairwisePositionalEmbedding", layout="any")
def mlp_pairwise_positional_embedding(layer, inputs, ctx):
    """MlpPairwisePositionalEmbedding(hidden_dim, attn_height, attn_width,
    pos_scale, use_absolute_pos, is_deploy_mode)."""
    g = ctx.g
    c = layer.config
    x = ctx.keras(inputs[0])
    if c.get("is_deploy_mode"):
        bias = _weight(ctx, layer, "deploy_bias", 0)
        return [sl.masked(_broadcast(ctx, x, "Add", bias, "deploy_bias"), None)]
    if None in x.shape[1:]:
        raise ConfigError(f"{layer_where(layer)}: needs an input of a known shape, got {x.shape}")
    coords, index, pad = _swin_coords(c, x.shape)
    h = g.op("Add", g.op("MatMul", ctx.const(coords.astype(np.float32), "coords"),
                         ctx.const(_weight(ctx, layer, "hidden_weight", 0), "hidden_weight")),
             ctx.const(_weight(ctx, layer, "hidden_bias", 1), "hidden_bias"))
    bias = g.op("MatMul", g.op("Relu", h), ctx.const(_weight(ctx, layer, "out", 2), "out"))
    if index is not None:
        bias = g.op("Gather", bias, ctx.const(index, "relative_index"), axis=0)     # (q, k, heads)
        bias = g.op("Mul", g.op("Sigmoid", bias), g.f32(16.0))
        if pad > 0:
            bias = g.pad(bias, [pad, pad, 0, 0, 0, 0], mode="constant")
        bias = g.op("Transpose", bias, perm=[2, 0, 1])
    return [sl.masked(x.like(g.op("Add", x.name, g.unsqueeze(bias, [0]))), None)]


def _window_mask(c: dict) -> np.ndarray:
    """WindowAttentionMask.build's attn_mask, (1, windows, 1, q, q)."""
    height, width, wh, ww = (int(c[k]) for k in ("height", "width", "window_height", "window_width"))
    hs = [0, height - wh, height - int(c.get("shift_height", 0)), height]
    ws = [0, width - ww, width - int(c.get("shift_width", 0)), width]
    rows, value = [], 0
    for i in range(3):
        rows.append(np.concatenate([np.zeros([hs[i + 1] - hs[i], ws[j + 1] - ws[j]], "float32") + (j + value)
                                    for j in range(3)], axis=-1))
        value += 3
    mask = np.reshape(np.concatenate(rows, axis=0), [height // wh, wh, width // ww, ww])
    mask = np.reshape(np.transpose(mask, [0, 2, 1, 3]), [-1, wh * ww])
    attn = np.where(np.expand_dims(mask, 1) - np.expand_dims(mask, 2) != 0, -100, 0)
    return attn[None, :, None].astype(np.float32)


@register("kecam>WindowAttentionMask", "swinv2>WindowAttentionMask", layout="any")
def window_attention_mask(layer, inputs, ctx):
    """WindowAttentionMask(height, width, window_height, window_width,
    shift_height, shift_width) on (batch * windows, heads, q, q) scores."""
    g = ctx.g
    x = ctx.keras(inputs[0])
    mask = _window_mask(layer.config)
    heads, q = x.shape[1], x.shape[2]
    if x.rank != 4 or None in (heads, q) or mask.shape[-1] != q:
        raise ConfigError(f"{layer_where(layer)}: needs scores (batch * windows, heads, {mask.shape[-1]}, "
                          f"{mask.shape[-1]}), got {x.shape}")
    y = g.op("Reshape", x.name, g.i64([-1, mask.shape[1], heads, q, q]))
    y = g.op("Add", y, ctx.const(mask, "attn_mask"))
    return [sl.masked(x.like(g.op("Reshape", y, g.i64([-1, heads, q, q]))), None)]


# -- EdgeNeXt ------------------------------------------------------------------------------
def _fourier_table(c: dict, height: int, width: int) -> np.ndarray:
    """PositionalEncodingFourier.build's positional_embedding, as it computes it."""
    filters, temperature = int(c.get("filters", 32)), float(c.get("temperature", 1e4))
    eps, scale = 1e-6, 2 * np.arccos(-1.0)
    hh = (np.arange(height, dtype="float32") + 1) / (float(height) + eps) * scale
    ww = (np.arange(width, dtype="float32") + 1) / (float(width) + eps) * scale
    dim_t = temperature ** (2 * (np.arange(filters, dtype="float32") // 2) / filters)
    pos_hh, pos_ww = np.expand_dims(hh, -1) / dim_t, np.expand_dims(ww, -1) / dim_t
    pos_hh = np.stack([np.sin(pos_hh[:, 0::2]), np.cos(pos_hh[:, 1::2])], axis=-1)
    pos_ww = np.stack([np.sin(pos_ww[:, 0::2]), np.cos(pos_ww[:, 1::2])], axis=-1)
    pos_hh = np.repeat(np.reshape(pos_hh, [height, 1, -1]), width, axis=1)
    pos_ww = np.repeat(np.reshape(pos_ww, [1, width, -1]), height, axis=0)
    return np.concatenate([pos_hh, pos_ww], axis=-1).astype(np.float32)


@register("kecam/edgenext>PositionalEncodingFourier", layout="any")
def positional_encoding_fourier(layer, inputs, ctx):
    """PositionalEncodingFourier(filters, temperature) on (batch, height, width, channels)."""
    g = ctx.g
    x = ctx.keras(inputs[0])
    if x.rank != 4 or None in x.shape[1:3]:
        raise ConfigError(f"{layer_where(layer)}: needs (batch, height, width, channels) of a known "
                          f"size, got {x.shape}")
    table = _fourier_table(layer.config, x.shape[1], x.shape[2])
    pos = g.op("Add", g.op("MatMul", ctx.const(table, "positional_embedding"),
                           ctx.const(_weight(ctx, layer, "ww", 0), "ww")),
               ctx.const(_weight(ctx, layer, "bb", 1), "bb"))
    return [sl.masked(x.like(g.op("Add", x.name, pos)), None)]
