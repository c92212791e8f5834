"""Theano -> what TensorFlow computes, so emitters see cross-correlation.

Theano's convolution (T.nnet.conv2d with its default filter_flip=True, which
Keras 1 and 2 used for every convolution: Conv1D/2D/3D, dilated, transposed,
depthwise, the depthwise half of separable, ConvLSTM2D's input and recurrent
kernels) is a true convolution: the kernel flipped in its spatial axes
relative to TensorFlow's cross-correlation. Flipping the stored kernels makes
the TensorFlow-style emitters compute what Theano computed. (Keras's own
loader flips Conv1D/2D/3D, Conv2DTranspose and ConvLSTM2D when it loads a
Theano file under TensorFlow; Theano's separable and depthwise convolutions
are true convolutions as well, so they are flipped too. Pointwise 1x1 kernels
are unchanged by a flip.)

Theano's 'same' padding also differs: border_mode='half' pads
dilated_kernel // 2 before each spatial axis (TensorFlow pads the smaller
half before), and Keras cropped the extra output an even kernel makes. For a
stride-1 odd kernel both agree; otherwise the layer gets explicit padding
(before = k // 2, after = k - 1 - k // 2) and 'valid', which gives exactly
Theano's windows and output size for any input size and stride.
"""
from __future__ import annotations

import numpy as np

from ..ir import Weight

# class -> (weight short names to flip, number of spatial axes of the kernel)
_FLIP = {
    "Conv1D": (("kernel",), 1), "Conv2D": (("kernel",), 2), "Conv3D": (("kernel",), 3),
    "Conv1DTranspose": (("kernel",), 1), "Conv2DTranspose": (("kernel",), 2),
    "Conv3DTranspose": (("kernel",), 3),
    "DepthwiseConv1D": (("depthwise_kernel",), 1), "DepthwiseConv2D": (("depthwise_kernel",), 2),
    "SeparableConv1D": (("depthwise_kernel", "pointwise_kernel"), 1),
    "SeparableConv2D": (("depthwise_kernel", "pointwise_kernel"), 2),
    "ConvLSTM1D": (("kernel", "recurrent_kernel"), 1), "ConvLSTM2D": (("kernel", "recurrent_kernel"), 2),
    "ConvLSTM3D": (("kernel", "recurrent_kernel"), 3),
}
# Forward convolutions whose 'same' padding Theano computes its own way.
_SAME_REWRITE = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
                 "SeparableConv1D", "SeparableConv2D")


def flip_kernels(layer_cls: str, layer_config: dict, weights: list) -> list:
    """Weights of a layer (or of the layer a wrapper holds) with every
    convolution kernel flipped in its spatial axes."""
    cls = layer_cls
    if cls in ("TimeDistributed", "Bidirectional"):
        cls = (layer_config.get("layer") or {}).get("class_name")
    spec = _FLIP.get(cls)
    if spec is None:
        return weights
    names, nsp = spec
    out = []
    for w in weights:
        a = w.array
        if w.short in names and a.ndim >= nsp + 2:
            a = np.ascontiguousarray(a[tuple([slice(None, None, -1)] * nsp)])
            w = Weight(w.name, a)
        out.append(w)
    return out


def same_padding_rewrite(cls: str, config: dict):
    """For a Theano 'same' forward convolution whose windows differ from
    TensorFlow's: [[before, after], ...] explicit pads (and the layer then
    uses 'valid'); None when TensorFlow's 'same' is already Theano's."""
    if cls not in _SAME_REWRITE or config.get("padding") != "same":
        return None
    k = list(config.get("kernel_size") or [])
    n = len(k)
    s = _tuple(config.get("strides", 1), n)
    d = _tuple(config.get("dilation_rate", 1), n)
    dk = [(kk - 1) * dd + 1 for kk, dd in zip(k, d)]
    if all(ss == 1 and x % 2 == 1 for ss, x in zip(s, dk)):
        return None
    return [[x // 2, x - 1 - x // 2] for x in dk]


def _tuple(v, n):
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v]
    return [int(v)] * n
