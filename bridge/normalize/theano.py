"""Theano -> what TensorFlow computes, so emitters see cross-correlation.

Theano's convolution (T.nnet.conv2d with its default filter_flip=True, which
Keras 1 and 2 used for Conv1D/2D/3D, dilated, transposed, and ConvLSTM2D's
input and recurrent convolutions) is a true convolution: the kernel flipped
in its spatial axes relative to TensorFlow's cross-correlation. Flipping the
stored kernels makes the TensorFlow-style emitters compute what Theano
computed, as Keras 2's own loader did (conv_utils.convert_kernel on Conv1D/
2D/3D, Conv2DTranspose and ConvLSTM2D). Keras 2's Theano depthwise and
separable convolutions flip their depthwise kernel themselves before calling
Theano (theano_backend.depthwise_conv2d, _preprocess_conv2d_depthwise_kernel),
so they compute a cross-correlation and are left alone; Keras 1 had no
Theano separable convolution. Checked against Keras 1.2.2 and 2.1.6 running
on Theano 1.0.5 (tests/make_legacy_fixtures.py).

Theano's 'same' pooling places its windows its own way too: such layers
become TheanoSamePooling (bridge/emitters/legacy.py; see same_pooling).

Theano's 'same' padding also differs: border_mode='half' pads
dilated_kernel // 2 before each spatial axis (TensorFlow pads the smaller
half before), and Keras cropped the extra output an even kernel makes. For a
stride-1 odd kernel both agree; otherwise the layer gets explicit padding
(before = k // 2, after = k - 1 - k // 2) and 'valid', which gives exactly
Theano's windows and output size for any input size and stride.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import BridgeWarning, layer_where
from ..ir import Model, Weight
from .graph_edits import crop_after, insert_padding, models


def normalize_model(model: Model) -> None:
    """Every layer of a model saved under Theano made to compute, with the
    TensorFlow-style emitters, what Theano computed."""
    for m in models(model):
        for layer in list(m.layers):
            if layer.inner is not None:
                continue
            if layer.weights:
                layer.weights = flip_kernels(layer.class_name, layer.config, layer.weights)
            pool = same_pooling(layer.class_name, layer.config)
            if pool is not None:
                layer.class_name, layer.config = pool
                continue
            pads = same_padding_rewrite(layer.class_name, layer.config)
            if pads is not None:
                layer.config = dict(layer.config, padding="valid")
                if layer.class_name.startswith("ConvLSTM"):
                    pads = [[0, 0]] + pads      # (time, spatial...) of the sequence
                insert_padding(m, layer, pads)
            elif layer.class_name in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose") \
                    and layer.config.get("padding") == "same":
                crops = transposed_same_crops(layer.config)
                if crops is None:
                    warnings.warn(f"{model.source}: {layer_where(layer)} is a 'same' transposed "
                                  f"convolution saved under Theano with an even kernel, a stride "
                                  f"over half the kernel or output_padding, where Theano placed "
                                  f"its output differently from TensorFlow; the converted model "
                                  f"uses TensorFlow's placement and may differ",
                                  BridgeWarning, stacklevel=4)
                elif any(a != b for a, b in crops):
                    crop_after(m, layer, crops)

# class -> (weight short names to flip, number of spatial axes of the kernel)
KERNELS_TO_FLIP = {
    "Conv1D": (("kernel",), 1), "Conv2D": (("kernel",), 2), "Conv3D": (("kernel",), 3),
    "Conv1DTranspose": (("kernel",), 1), "Conv2DTranspose": (("kernel",), 2),
    "Conv3DTranspose": (("kernel",), 3),
    "ConvLSTM1D": (("kernel", "recurrent_kernel"), 1), "ConvLSTM2D": (("kernel", "recurrent_kernel"), 2),
    "ConvLSTM3D": (("kernel", "recurrent_kernel"), 3),
}
# Forward convolutions whose 'same' padding Theano computes its own way.
_SAME_REWRITE = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
                 "SeparableConv1D", "SeparableConv2D", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")


def flip_kernels(layer_cls: str, layer_config: dict, weights: list) -> list:
    """Weights of a layer (or of the layer a wrapper holds) with every
    convolution kernel flipped in its spatial axes."""
    cls = layer_cls
    if cls in ("TimeDistributed", "Bidirectional"):
        cls = (layer_config.get("layer") or {}).get("class_name")
    spec = KERNELS_TO_FLIP.get(cls)
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


def _strides_and_dilated_kernel(config: dict):
    """(strides, dilated kernel extents) per spatial axis of a conv config."""
    k = list(config.get("kernel_size") or [])
    n = len(k)
    d = _tuple(config.get("dilation_rate", 1), n)
    return _tuple(config.get("strides", 1), n), [(kk - 1) * dd + 1 for kk, dd in zip(k, d)]


def same_padding_rewrite(cls: str, config: dict):
    """For a Theano 'same' forward convolution whose windows differ from
    TensorFlow's: [[before, after], ...] explicit pads (and the layer then
    uses 'valid'); None when TensorFlow's 'same' is already Theano's."""
    if cls not in _SAME_REWRITE or config.get("padding") != "same":
        return None
    s, dk = _strides_and_dilated_kernel(config)
    if all(ss == 1 and x % 2 == 1 for ss, x in zip(s, dk)):
        return None
    return [[x // 2, x - 1 - x // 2] for x in dk]


def _tuple(v, n):
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v]
    return [int(v)] * n


_POOLS = {"MaxPooling1D": "max", "MaxPooling2D": "max", "MaxPooling3D": "max",
          "AveragePooling1D": "avg", "AveragePooling2D": "avg", "AveragePooling3D": "avg",
          "MaxPool1D": "max", "MaxPool2D": "max", "MaxPool3D": "max",
          "AvgPool1D": "avg", "AvgPool2D": "avg", "AvgPool3D": "avg"}


def same_pooling(cls: str, config: dict):
    """Theano's 'same' pooling (Keras pool2d / pool3d on Theano): pool_2d with
    pad = pool - 2 (odd pool over 2; 3-D: odd pool) else pool - 1 on each
    side, the padding never counted, then the first ceil(size / stride)
    outputs kept. -> ('TheanoSamePooling', config) for bridge/emitters/legacy.py,
    or None when the layer is not a 'same' pooling."""
    mode = _POOLS.get(cls)
    if mode is None or config.get("padding") != "same":
        return None
    n = int(cls[-2])
    k = _tuple(config.get("pool_size", 2), n)
    s = _tuple(config.get("strides") or k, n)
    if n == 3:
        before = [kk - 2 if kk % 2 == 1 else kk - 1 for kk in k]
    else:
        before = [kk - 2 if kk > 2 and kk % 2 == 1 else kk - 1 for kk in k]
    before = [max(b, 0) for b in before]
    out = {key: v for key, v in config.items() if key not in ("padding",)}
    out.update(mode=mode, pool_size=k, strides=s, pads_before=before,
               data_format=config.get("data_format", "channels_last"))
    return "TheanoSamePooling", out


def transposed_same_crops(config: dict):
    """A Theano 'same' transposed convolution is the gradient of a 'half'
    padded convolution: of the full output ((size - 1) * stride + k) it keeps
    size * stride values from offset k // 2 (TensorFlow: from (k - s) // 2).
    -> [(crop_before, crop_after), ...] for 'valid' + cropping, or None
    where that cannot express it (even kernel: Keras's own Theano code then
    cropped the output to the input size; a stride over half the kernel;
    output_padding)."""
    if config.get("output_padding") not in (None, [], ()):
        return None
    s, dk = _strides_and_dilated_kernel(config)
    if any(x % 2 == 0 for x in dk) or any(-(-x // 2) - ss < 0 for x, ss in zip(dk, s)):
        return None
    return [(x // 2, -(-x // 2) - ss) for x, ss in zip(dk, s)]
