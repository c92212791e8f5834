"""Make the custom-layer example files with real Keras: the two layers of
the seed documents, `MyActivation` (relu(x) * sigmoid(x), no weights) and
`MyCustomLayer` (matmul(x, w), one kernel made by add_weight with no name,
`units` in its config), in one small model saved by tf-keras
(custom_layers_k2.h5) and by Keras 3 (custom_layers_k3.keras), each with
the inputs and outputs Keras's predict gave beside it (custom_layers_k2.npz,
custom_layers_k3.npz), where `bridge check` finds them.

    python examples/custom_layers_make.py      # needs '.[keras]'

Convert them with the emitters of examples/custom_layers_emitters.py:

    python examples/custom_layers.py
    bridge convert examples/custom_layers_k3.keras --plugin custom_layers_emitters --check
"""
from __future__ import annotations

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def layers(keras, ops):
    class MyActivation(keras.layers.Layer):
        def call(self, x):
            return ops.relu(x) * ops.sigmoid(x)

    class MyCustomLayer(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                     trainable=True)

        def call(self, x):
            return ops.matmul(x, self.w)

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    return MyActivation, MyCustomLayer


def save(keras, ops, path):
    MyActivation, MyCustomLayer = layers(keras, ops)
    x = keras.Input((6,), name="features")
    y = MyCustomLayer(units=4, name="projection")(MyActivation(name="gate")(x))
    model = keras.Model(x, y)
    rng = np.random.default_rng(0)
    model.get_layer("projection").set_weights([rng.normal(size=(6, 4)).astype(np.float32)])
    xs = rng.normal(size=(5, 6)).astype(np.float32)
    model.save(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    np.savez(os.path.join(HERE, stem + ".npz"),
             **{"input:features": xs, "output:projection": model.predict(xs, verbose=0)})


if __name__ == "__main__":
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import keras
    import tensorflow as tf
    import tf_keras

    class _TfOps:      # tf-keras layers compute with TensorFlow
        relu, sigmoid, matmul = staticmethod(tf.nn.relu), staticmethod(tf.sigmoid), staticmethod(tf.matmul)
    save(tf_keras, _TfOps, os.path.join(HERE, "custom_layers_k2.h5"))
    save(keras, keras.ops, os.path.join(HERE, "custom_layers_k3.keras"))
