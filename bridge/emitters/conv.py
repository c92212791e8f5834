"""The convolution family: Conv1D/2D/3D, Conv1D/2D/3DTranspose,
DepthwiseConv1D/2D and SeparableConv1D/2D.

Every layer computes in ONNX's channels-first layout and returns a tensor
tagged with that layout (see spatial.py), so a run of convolutions has no
Transpose between its layers. Kernels are re-laid out once, at conversion:

  Conv          Keras (k..., in/groups, out)     -> ONNX Conv (out, in/groups, k...)
  ConvTranspose Keras (k..., out, in)            -> ONNX ConvTranspose (in, out, k...)
  Depthwise     Keras (k..., in, multiplier)     -> ONNX Conv, group=in,
                                                    (in*multiplier, 1, k...), in-channel major
  Separable     depthwise as above (no bias), then a 1x1 Conv (pointwise, with bias)

Padding follows TensorFlow: 'same' puts the odd extra element at the end
(explicit pads from static sizes, auto_pad SAME_UPPER only where a size is
unknown); 'causal' pads dilation*(kernel-1) on the left.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..context import Tensor
from ..errors import ConfigError, layer_where, malformed
from ..registry import register, with_bias
from .common import spatial as sp
from .common.activation_functions import activation_problems, apply_activation

_CONV = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3}
_TRANSPOSE = {"Conv1DTranspose": 1, "Conv2DTranspose": 2, "Conv3DTranspose": 3,
              # Keras 2 aliases of the same classes (never Keras 1 names)
              "Convolution1DTranspose": 1, "Convolution2DTranspose": 2,
              "Convolution3DTranspose": 3, "Deconv2D": 2, "Deconv3D": 3}
_DEPTHWISE = {"DepthwiseConv1D": 1, "DepthwiseConv2D": 2}
_SEPARABLE = {"SeparableConv1D": 1, "SeparableConv2D": 2, "SeparableConvolution1D": 1}

_RANKS = {**_CONV, **_TRANSPOSE, **_DEPTHWISE, **_SEPARABLE}


# -- configuration -----------------------------------------------------------

def _options(layer):
    """kernel_size, strides, dilation_rate, padding as tuples/str (the check
    has made sure they are well formed)."""
    rank = _RANKS[layer.class_name]
    c = layer.config
    kernel = sp.as_tuple(c["kernel_size"], rank)
    strides = sp.as_tuple(c.get("strides", 1), rank)
    dilation = sp.as_tuple(c.get("dilation_rate", 1), rank)
    return rank, kernel, strides, dilation, str(c.get("padding", "valid")).lower()


def _option_problems(layer) -> list:
    """Malformed filters, kernel_size, strides, dilation_rate or groups."""
    rank = _RANKS[layer.class_name]
    c = layer.config
    needed = ("kernel_size",) if layer.class_name in _DEPTHWISE else ("filters", "kernel_size")
    missing = [k for k in needed if k not in c]
    if missing:
        return [malformed(f"has no {' or '.join(missing)} in its config; the config is malformed")]
    problems = []
    for name, default in (("kernel_size", None), ("strides", 1), ("dilation_rate", 1)):
        value = c.get(name, default)
        try:
            v = sp.as_tuple(value, rank)
        except (TypeError, ValueError):
            v = ()
        if len(v) != rank or min(v) < 1:
            problems.append(malformed(f"has {name}={value!r}; it needs {rank} positive integer(s); "
                                      f"the config is malformed"))
    groups, filters = _groups(c), c.get("filters")
    if not isinstance(groups, int) or groups < 1 or (isinstance(filters, int) and filters % groups):
        problems.append(malformed(f"groups={groups!r} does not divide the {c.get('filters')} filters; "
                                  f"the config is malformed"))
    return problems


def _groups(c: dict):
    """groups, 1 when the config says none (older Keras saved no groups)."""
    return 1 if c.get("groups") is None else c["groups"]


def _check(paddings):
    def check(layer, opset):
        c = layer.config
        problems = _option_problems(layer)
        pad = str(c.get("padding", "valid")).lower()
        if pad == "causal" and _RANKS.get(layer.class_name) != 1:
            problems.append(malformed("padding 'causal' only exists for Conv1D and SeparableConv1D; "
                                      "the config is malformed"))
        elif pad not in paddings:
            problems.append(malformed(f"padding '{c.get('padding')}' is not one {layer.class_name} "
                                      f"takes (Keras allows {', '.join(paddings)}); the config is "
                                      f"malformed"))
        fmt = c.get("data_format")
        if fmt not in (None, "channels_last", "channels_first"):
            problems.append(malformed(f"data_format '{fmt}' is unknown (Keras allows channels_last, "
                                      f"channels_first); the config is malformed"))
        problems.extend(activation_problems(c.get("activation")))
        return problems
    return check


# -- the ONNX nodes ----------------------------------------------------------

def _pads(sizes, kernel, strides, dilation, padding):
    """Conv pads attributes: {'pads': [...]} or {'auto_pad': 'SAME_UPPER'}."""
    rank = len(kernel)
    if padding == "valid":
        return {"pads": [0] * (2 * rank)}
    if padding == "causal":
        return {"pads": [dilation[0] * (kernel[0] - 1), 0]}
    # With stride 1 TensorFlow's SAME padding does not depend on the size.
    pairs = [sp.same_pads(1 if s == 1 and n is None else n, k, s, d)
             for n, k, s, d in zip(sizes, kernel, strides, dilation)]
    if any(p is None for p in pairs):
        # A strided axis of unknown size. Keras forbids strides > 1 together
        # with dilation_rate > 1, and ONNX Runtime's SAME_UPPER needs no dilation.
        if max(dilation) > 1:
            return None
        return {"auto_pad": "SAME_UPPER"}
    return {"pads": sp.onnx_pads(pairs)}


def _conv_nc(ctx, x: str, sizes, weight: str, bias, *, kernel, strides, dilation, padding,
             group: int):
    """One ONNX Conv on an NC... value; returns (value, output spatial sizes)."""
    pads = _pads(sizes, kernel, strides, dilation, padding)
    if pads is None:
        raise ConfigError(f"{ctx.where()} has strides={list(strides)} together with "
                          f"dilation_rate={list(dilation)}, which Keras does not allow; the "
                          f"config is malformed")
    y = ctx.g.op("Conv", x, weight, bias, kernel_shape=list(kernel), strides=list(strides),
                 dilations=list(dilation), group=int(group), **pads)
    out = tuple(sp.conv_output_length(n, k, padding, s, d)
                for n, k, s, d in zip(sizes, kernel, strides, dilation))
    return y, out


def _finish(ctx, layer, name, t: Tensor, out_sizes, out_channels) -> Tensor:
    """Wrap an NC... result in its Keras shape and apply the activation.
    Convolutions do not support masking: the output carries no mask."""
    shape = sp.keras_shape(t.shape[0], out_sizes, out_channels, layer)
    y = replace(sp.from_channels_first(name, shape, layer, like=t), mask=None)
    return apply_activation(ctx, y, layer.config.get("activation"))


def _in_channels(layer, t: Tensor) -> int:
    c = sp.channels(t, layer)
    if c is None:
        raise ConfigError(f"{layer_where(layer)} gets an input of shape {t.shape} whose channel "
                          f"axis is unknown; Keras needs it defined to build the kernel")
    return int(c)


def _bias(ctx, layer, n: int):
    if not layer.config.get("use_bias", True):
        return None
    return ctx.const(ctx.weight(layer, "bias", shape=(n,)), "bias")


# -- Conv1D / Conv2D / Conv3D --------------------------------------------------

@register(*_CONV, check=_check(("valid", "same", "causal")), layout="any",
          weights=with_bias("kernel"))
def conv(layer, inputs, ctx):
    """Conv1D/2D/3D(filters, kernel_size, strides, padding ('causal' for
    Conv1D), data_format, dilation_rate, groups, activation, use_bias).
    Inputs with extra leading batch axes (Keras folds them into the batch)
    are handled the same way."""
    rank, kernel, strides, dilation, padding = _options(layer)
    t = inputs[0]
    if t.rank > rank + 2:
        return [_conv_folded(layer, t, ctx, rank)]
    return [_conv(layer, t, ctx, rank, kernel, strides, dilation, padding)]


def _conv(layer, t, ctx, rank, kernel, strides, dilation, padding) -> Tensor:
    c = layer.config
    filters = int(c["filters"])
    groups = int(_groups(c))
    cin = _in_channels(layer, t)
    if cin % groups or filters % groups:
        raise ConfigError(f"{layer_where(layer)}: groups={groups} does not divide the {cin} input "
                          f"channels and {filters} filters; the config is malformed")
    w = ctx.weight(layer, "kernel", shape=kernel + (cin // groups, filters))
    w = np.transpose(w, (rank + 1, rank) + tuple(range(rank)))
    x = sp.to_channels_first(ctx, t, layer)
    y, out = _conv_nc(ctx, x.name, sp.spatial_dims(t, layer), ctx.const(w, "kernel"),
                      _bias(ctx, layer, filters), kernel=kernel, strides=strides,
                      dilation=dilation, padding=padding, group=groups)
    return _finish(ctx, layer, y, t, out, filters)


def _conv_folded(layer, t, ctx, rank) -> Tensor:
    """Conv on (batch, extra..., spatial..., channels): fold the leading axes
    into the batch, convolve, unfold (Keras's squeeze_batch_dims)."""
    g = ctx.g
    x = ctx.keras(t)
    n_lead = t.rank - rank - 1
    lead, inner = tuple(t.shape[:n_lead]), tuple(t.shape[n_lead:])
    static = None not in lead[1:] + inner
    if static:
        flat = g.op("Reshape", x.name, g.i64((-1,) + inner))
    else:
        shape = g.op("Shape", x.name)
        lead_shape = g.op("Slice", shape, g.i64([0]), g.i64([n_lead]), g.i64([0]))
        inner_shape = g.op("Slice", shape, g.i64([n_lead]), g.i64([t.rank]), g.i64([0]))
        flat = g.op("Reshape", x.name, g.op("Concat", g.i64([-1]), inner_shape, axis=0))
    ft = Tensor(name=flat, shape=(None,) + inner, dtype=t.dtype)
    _, kernel, strides, dilation, padding = _options(layer)
    y = ctx.keras(_conv(layer, ft, ctx, rank, kernel, strides, dilation, padding))
    out_shape = lead + tuple(y.shape[1:])
    if static and None not in out_shape[1:]:
        out = g.op("Reshape", y.name, g.i64((-1,) + out_shape[1:]))
    else:
        if static:
            lead_shape = g.op("Slice", g.op("Shape", x.name), g.i64([0]), g.i64([n_lead]),
                              g.i64([0]))
        y_inner = g.op("Slice", g.op("Shape", y.name), g.i64([1]), g.i64([rank + 2]), g.i64([0]))
        out = g.op("Reshape", y.name, g.op("Concat", lead_shape, y_inner, axis=0))
    return Tensor(name=out, shape=out_shape, dtype=t.dtype)


# -- Conv1DTranspose / Conv2DTranspose / Conv3DTranspose -------------------------

def _deconv_length(n, k_eff, padding, stride, out_pad):
    """keras conv_utils.deconv_output_length (kernel already dilated)."""
    if n is None:
        return None
    if out_pad is None:
        if padding == "valid":
            return n * stride + max(k_eff - stride, 0)
        return n * stride
    pad = k_eff // 2 if padding == "same" else 0
    return (n - 1) * stride + k_eff - 2 * pad + out_pad


def _transpose_pads(n, k_eff, padding, stride, out_pad):
    """(begin, end, output_padding) for ONNX ConvTranspose reproducing
    TensorFlow's conv_transpose: the gradient of a forward conv whose input is
    the transposed output. Independent of n (any n gives the same numbers),
    so unknown sizes work too."""
    n = 1 if n is None else n
    full = (n - 1) * stride + k_eff          # ONNX's length before pads
    out = _deconv_length(n, k_eff, padding, stride, out_pad)
    begin = max(full - out, 0) // 2 if padding == "same" else 0
    end = full - begin - out
    return begin, max(end, 0), max(-end, 0)


@register(*_TRANSPOSE, check=_check(("valid", "same")), layout="channels_first",
          weights=with_bias("kernel"))
def conv_transpose(layer, inputs, ctx):
    """Conv1D/2D/3DTranspose(filters, kernel_size, strides, padding,
    output_padding, data_format, dilation_rate, activation, use_bias).
    Keras 2's Conv3DTranspose ignores dilation_rate and leaves it out of its
    saved config, so such files read as undilated, as Keras computed them."""
    rank, kernel, strides, dilation, padding = _options(layer)
    c = layer.config
    out_pad = c.get("output_padding")
    out_pad = None if out_pad is None else sp.as_tuple(out_pad, rank)
    t = inputs[0]
    filters = int(c["filters"])
    cin = _in_channels(layer, t)
    w = ctx.weight(layer, "kernel", shape=kernel + (filters, cin))
    w = np.transpose(w, (rank + 1, rank) + tuple(range(rank)))
    sizes = sp.spatial_dims(t, layer)
    begins, ends, extra, out = [], [], [], []
    for i in range(rank):
        k_eff = sp.dilated(kernel[i], dilation[i])
        op = None if out_pad is None else out_pad[i]
        b, e, x = _transpose_pads(sizes[i], k_eff, padding, strides[i], op)
        begins.append(b)
        ends.append(e)
        extra.append(x)
        out.append(_deconv_length(sizes[i], k_eff, padding, strides[i], op))
    x = t      # channels first: the registration's layout
    y = ctx.g.op("ConvTranspose", x.name, ctx.const(w, "kernel"), _bias(ctx, layer, filters),
                 kernel_shape=list(kernel), strides=list(strides), dilations=list(dilation),
                 group=1, pads=begins + ends, output_padding=extra)
    return [_finish(ctx, layer, y, t, out, filters)]


# -- DepthwiseConv1D / DepthwiseConv2D -------------------------------------------

def _depthwise_weight(ctx, layer, kernel, cin, mult) -> np.ndarray:
    """Keras (k..., in, multiplier) -> ONNX (in*multiplier, 1, k...), output
    channel c*multiplier + m (in-channel major, as TensorFlow orders it)."""
    w = ctx.weight(layer, "depthwise_kernel", shape=kernel + (cin, mult))
    w = w.reshape(kernel + (cin * mult,))
    return np.ascontiguousarray(np.moveaxis(w, -1, 0)[:, None])


@register(*_DEPTHWISE, check=_check(("valid", "same")), layout="channels_first",
          weights=with_bias("depthwise_kernel"))
def depthwise_conv(layer, inputs, ctx):
    """DepthwiseConv1D/2D(kernel_size, strides, padding, depth_multiplier,
    data_format, dilation_rate, activation, use_bias)."""
    rank, kernel, strides, dilation, padding = _options(layer)
    t = inputs[0]
    mult = int(layer.config.get("depth_multiplier", 1))
    cin = _in_channels(layer, t)
    w = _depthwise_weight(ctx, layer, kernel, cin, mult)
    x = t      # channels first: the registration's layout
    y, out = _conv_nc(ctx, x.name, sp.spatial_dims(t, layer), ctx.const(w, "depthwise_kernel"),
                      _bias(ctx, layer, cin * mult), kernel=kernel, strides=strides,
                      dilation=dilation, padding=padding, group=cin)
    return [_finish(ctx, layer, y, t, out, cin * mult)]


# -- SeparableConv1D / SeparableConv2D -------------------------------------------

@register(*_SEPARABLE, check=_check(("valid", "same", "causal")), layout="channels_first",
          weights=with_bias("depthwise_kernel", "pointwise_kernel"))
def separable_conv(layer, inputs, ctx):
    """SeparableConv1D/2D(filters, kernel_size, strides, padding ('causal'
    for SeparableConv1D), data_format, dilation_rate, depth_multiplier,
    activation, use_bias): a depthwise Conv (strides, dilation and padding
    apply here) then a 1x1 pointwise Conv carrying the bias."""
    rank, kernel, strides, dilation, padding = _options(layer)
    t = inputs[0]
    c = layer.config
    filters = int(c["filters"])
    mult = int(c.get("depth_multiplier", 1))
    cin = _in_channels(layer, t)
    dw = _depthwise_weight(ctx, layer, kernel, cin, mult)
    pw = ctx.weight(layer, "pointwise_kernel", shape=(1,) * rank + (cin * mult, filters))
    pw = pw.reshape(cin * mult, filters).T.reshape((filters, cin * mult) + (1,) * rank)
    x = t      # channels first: the registration's layout
    d, out = _conv_nc(ctx, x.name, sp.spatial_dims(t, layer), ctx.const(dw, "depthwise_kernel"),
                      None, kernel=kernel, strides=strides, dilation=dilation, padding=padding,
                      group=cin)
    ones = (1,) * rank
    y, _ = _conv_nc(ctx, d, out, ctx.const(np.ascontiguousarray(pw), "pointwise_kernel"),
                    _bias(ctx, layer, filters), kernel=ones, strides=ones, dilation=ones,
                    padding="valid", group=1)
    return [_finish(ctx, layer, y, t, out, filters)]
