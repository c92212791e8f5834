"""Make a big model with tf-keras for tests/test_large.py (and the README's
memory numbers): `python tests/make_large.py KIND OUT.h5` writes the model
and OUT.npz with an input `x`, what tf-keras's predict gives for it (`y`)
and the model's weight bytes.

  dense_120mb      Dense 2048 -> 4096 -> 4096 -> 1000 (117 MB)
  resnet50         keras.applications.ResNet50, random well-scaled weights (98 MB)
  dense_2_4gib     Dense 16384 -> 16384 -> 16384 -> 6400 (2.4 GiB, past protobuf's 2 GiB)
  convnext_xlarge  keras.applications.ConvNeXtXLarge (1.3 GiB)
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _dense(keras, sizes):
    x = keras.Input(shape=(sizes[0],))
    h = x
    for i, n in enumerate(sizes[1:]):
        h = keras.layers.Dense(n, activation="relu" if i < len(sizes) - 2 else None,
                               bias_initializer="random_normal")(h)
    return keras.Model(x, h)


def build(kind, keras):
    if kind == "dense_120mb":
        return _dense(keras, [2048, 4096, 4096, 1000])
    if kind == "dense_2_4gib":
        return _dense(keras, [16384, 16384, 16384, 6400])
    app = {"resnet50": ("ResNet50", 64), "convnext_xlarge": ("ConvNeXtXLarge", 32)}[kind]
    return getattr(keras.applications, app[0])(weights=None, input_shape=(app[1], app[1], 3),
                                                classifier_activation=None)


def main(kind, out):
    import numpy as np
    import tf_keras as keras
    rng = np.random.default_rng(0)
    model = build(kind, keras)
    if kind in ("resnet50", "convnext_xlarge"):
        from tests.test_applications import _randomize
        _randomize(model, rng)
    x = rng.standard_normal((2,) + tuple(model.input_shape[1:])).astype("float32")
    y = model.predict(x, verbose=0)
    weight_bytes = sum(int(np.prod(w.shape)) * 4 for w in model.weights)
    model.save(out)
    np.savez(out[:-3] + ".npz", x=x, y=y, weight_bytes=weight_bytes)


if __name__ == "__main__":
    main(*sys.argv[1:3])
