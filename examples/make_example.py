"""Make examples/small_cnn.h5 and its reference outputs with real Keras.

    pip install tensorflow-cpu tf-keras
    python examples/make_example.py

The reference (small_cnn.npz: 'input:<name>' and 'output:<name>' arrays) is
what tf-keras computed; `bridge convert ... --check` finds it beside the model.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import sys  # noqa: E402

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

# the fixtures' randomizer: well scaled, BatchNormalization statistics random too
from tests.make_fixtures import randomize  # noqa: E402


def build():
    x = keras.Input(shape=(32, 32, 3), name="image")
    h = keras.layers.Conv2D(16, 3, padding="same", name="conv1")(x)
    h = keras.layers.BatchNormalization(name="bn1")(h)
    h = keras.layers.ReLU(name="relu1")(h)
    h = keras.layers.MaxPooling2D(2, name="pool1")(h)
    h = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(h)
    h = keras.layers.MaxPooling2D(2, name="pool2")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(32, activation="relu", name="fc1")(h)
    return keras.Model(x, keras.layers.Dense(10, name="logits")(h), name="small_cnn")


def main():
    rng = np.random.default_rng(7)
    model = build()
    randomize(model, rng)
    model.save(os.path.join(HERE, "small_cnn.h5"))
    x = rng.standard_normal((4, 32, 32, 3)).astype("float32")
    np.savez(os.path.join(HERE, "small_cnn.npz"),
             **{"input:image": x, "output:logits": model.predict(x, verbose=0)})
    print("wrote examples/small_cnn.h5 and examples/small_cnn.npz")


if __name__ == "__main__":
    main()
