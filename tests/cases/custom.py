"""A model with a user's own layer class, for the custom-emitter example in
the README (the class exists only here, so Keras saves it by name)."""
from . import Case


def _relu_sigmoid_model(keras):
    class ReluSigmoid(keras.layers.Layer):
        """relu(x) * sigmoid(x)."""

        def call(self, x):
            return keras.activations.relu(x) * keras.activations.sigmoid(x)

    x = keras.Input(shape=(6,), name="x")
    h = keras.layers.Dense(8, name="d1")(x)
    h = ReluSigmoid(name="relu_sigmoid")(h)
    return keras.Model(x, keras.layers.Dense(3, name="out")(h))


CASES = [Case("custom_relu_sigmoid", _relu_sigmoid_model)]
