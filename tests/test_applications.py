"""Whole networks (slow tier): every keras.applications family, a U-Net and a
ViT-style encoder, built with weights=None and random well-scaled weights by
tf-keras (saved as .h5) and by Keras 3 (saved as .keras), converted, and
their logits (classifier_activation=None) compared with what Keras computes
live, within relative error 1e-4.

Skipped unless asked for (tests/conftest.py): BRIDGE_SLOW=1 runs one or two
networks per family at one opset (17; the transformer ones at 13 too, where
LayerNormalization and Gelu are decomposed), BRIDGE_SLOW=full every variant.
Inputs are small (64x64, or each family's minimum) so the whole tier fits a
small CPU machine; the converted graph does not depend on the image size.
"""
from __future__ import annotations

import gc
import os

import numpy as np
import pytest

import bridge
from tests.helpers import assert_parity

pytestmark = pytest.mark.slow
RTOL = 1e-4


def _app(name, size=64, **kw):
    def make(keras):
        ctor = getattr(keras.applications, name)
        return ctor(input_shape=(size, size, 3), weights=None, classifier_activation=None, **kw)
    return make


def _unet(keras):
    """A small U-Net: conv/BN/ReLU blocks, max pooling, a transposed
    convolution and a bilinear upsampling, skip concatenations, per-pixel logits."""
    L = keras.layers

    def block(x, n):
        for _ in range(2):
            x = L.Conv2D(n, 3, padding="same", use_bias=False)(x)
            x = L.BatchNormalization()(x)
            x = L.ReLU()(x)
        return x
    x = keras.Input(shape=(32, 32, 3), name="image")
    c1 = block(x, 8)
    c2 = block(L.MaxPooling2D()(c1), 16)
    b = block(L.MaxPooling2D()(c2), 32)
    u2 = L.Conv2DTranspose(16, 2, strides=2, padding="same")(b)
    c3 = block(L.Concatenate()([u2, c2]), 16)
    u1 = L.Conv2D(8, 1)(L.UpSampling2D(interpolation="bilinear")(c3))
    c4 = block(L.Concatenate()([u1, c1]), 8)
    return keras.Model(x, L.Conv2D(3, 1, name="logits")(c4), name="unet")


def _vit(keras):
    """A ViT-style encoder: patch embedding, a fixed sinusoidal position
    table added as a constant (an op layer), two pre-norm blocks of
    MultiHeadAttention and a GELU MLP, pooled logits."""
    L = keras.layers
    n, d = 16, 32
    pos = np.arange(n)[:, None] / np.power(10000.0, (2 * (np.arange(d) // 2)) / d)[None, :]
    pe = np.where(np.arange(d) % 2 == 0, np.sin(pos), np.cos(pos)).astype("float32")
    x = keras.Input(shape=(32, 32, 3), name="image")
    h = L.Rescaling(1.0 / 2.0)(x)
    h = L.Conv2D(d, 8, strides=8, name="patches")(h)
    h = L.Reshape((n, d))(h)
    h = h + pe
    for i in range(2):
        a = L.LayerNormalization(epsilon=1e-6)(h)
        a = L.MultiHeadAttention(num_heads=4, key_dim=8, name=f"mha{i}")(a, a)
        h = L.Add()([h, a])
        m = L.LayerNormalization(epsilon=1e-6)(h)
        m = L.Dense(2 * d, activation="gelu")(m)
        m = L.Dense(d)(m)
        h = L.Add()([h, m])
    h = L.LayerNormalization(epsilon=1e-6)(h)
    h = L.GlobalAveragePooling1D()(h)
    return keras.Model(x, L.Dense(10, name="logits")(h), name="vit")


# (id, builder, opsets, heavy): heavy ones only with BRIDGE_SLOW=full
_NETWORKS = [
    ("mobilenet", _app("MobileNet"), (17,), False),
    ("mobilenet_v2", _app("MobileNetV2"), (17,), False),
    ("mobilenet_v3_small", _app("MobileNetV3Small"), (13, 17), False),
    ("mobilenet_v3_large", _app("MobileNetV3Large"), (17,), True),
    ("resnet50", _app("ResNet50"), (17,), False),
    ("resnet101", _app("ResNet101"), (17,), True),
    ("resnet152", _app("ResNet152"), (17,), True),
    ("resnet50_v2", _app("ResNet50V2"), (17,), False),
    ("resnet101_v2", _app("ResNet101V2"), (17,), True),
    ("resnet152_v2", _app("ResNet152V2"), (17,), True),
    ("efficientnet_b0", _app("EfficientNetB0"), (13, 17), False),
    *[(f"efficientnet_b{i}", _app(f"EfficientNetB{i}"), (17,), True) for i in range(1, 8)],
    ("efficientnet_v2_b0", _app("EfficientNetV2B0"), (17,), False),
    *[(f"efficientnet_v2_{v.lower()}", _app(f"EfficientNetV2{v}"), (17,), True)
      for v in ("B1", "B2", "B3", "S", "M", "L")],
    ("densenet121", _app("DenseNet121"), (17,), False),
    ("densenet169", _app("DenseNet169"), (17,), True),
    ("densenet201", _app("DenseNet201"), (17,), True),
    ("inception_v3", _app("InceptionV3", 75), (17,), False),
    ("inception_resnet_v2", _app("InceptionResNetV2", 75), (17,), False),
    ("xception", _app("Xception", 71), (17,), False),
    ("nasnet_mobile", _app("NASNetMobile"), (17,), False),
    ("nasnet_large", _app("NASNetLarge"), (17,), True),
    ("vgg16", _app("VGG16"), (17,), False),
    ("vgg19", _app("VGG19"), (17,), True),
    ("convnext_tiny", _app("ConvNeXtTiny"), (13, 17), False),
    *[(f"convnext_{v.lower()}", _app(f"ConvNeXt{v}"), (17,), True)
      for v in ("Small", "Base", "Large", "XLarge")],
    ("unet", _unet, (13, 17), False),
    ("vit", _vit, (13, 17, 20), False),
]
# tf-keras only
_TF_KERAS_ONLY = [
    ("regnet_x002", _app("RegNetX002"), (17,), False),
    ("regnet_y002", _app("RegNetY002"), (17,), False),
    *[(f"regnet_{v.lower()}", _app(f"RegNet{v}"), (17,), True)
      for v in ("X008", "Y008", "X032", "Y032", "X160", "Y160")],
    ("resnet_rs50", _app("ResNetRS50"), (17,), False),
    ("resnet_rs101", _app("ResNetRS101"), (17,), True),
]


def _params(networks):
    out = []
    for name, build, opsets, heavy in networks:
        marks = [pytest.mark.heavy] if heavy else []
        out.append(pytest.param(build, opsets, id=name, marks=marks))
    return out


def _randomize(model, rng):
    """tests/make_fixtures.randomize, then positive variances (and refreshed
    cached statistics) for Normalization layers (EfficientNet's stem)."""
    from tests.make_fixtures import randomize
    randomize(model, rng)
    layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else model.layers
    for layer in layers:
        if type(layer).__name__ == "Normalization" and getattr(layer, "adapt_variance", None) is not None:
            layer.adapt_mean.assign(rng.normal(0.0, 0.5, layer.adapt_mean.shape).astype("float32"))
            layer.adapt_variance.assign(rng.uniform(0.5, 1.5, layer.adapt_variance.shape)
                                        .astype("float32"))
            layer.finalize_state()


def _check(keras, build, opsets, path):
    seed = sum(map(ord, os.path.basename(path)))
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = build(keras)
    _randomize(model, rng)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    x = rng.standard_normal((2,) + shape).astype("float32")
    y = np.asarray(model.predict(x, verbose=0))
    model.save(path)
    del model
    keras.backend.clear_session()
    gc.collect()
    assert np.std(y) > 1e-3, "the random network's logits collapsed; the check would be vacuous"
    for opset in opsets:
        proto = bridge.to_onnx(path, opset=opset)
        assert_parity(proto, [x], {"logits": y}, rtol=RTOL, by_position=True, context=f"opset {opset}")


@pytest.mark.parametrize("build, opsets", _params(_NETWORKS + _TF_KERAS_ONLY))
def test_tf_keras_h5(build, opsets, tmp_path, request):
    keras = pytest.importorskip("tf_keras")
    _check(keras, build, opsets, str(tmp_path / f"{request.node.callspec.id}.h5"))


@pytest.mark.parametrize("build, opsets", _params(_NETWORKS))
def test_keras3_keras(build, opsets, tmp_path, request):
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3"):
        pytest.skip("needs Keras 3")
    _check(keras, build, opsets, str(tmp_path / f"{request.node.callspec.id}.keras"))
