"""Make fixtures with the Keras that old files come from: Keras 1.2.2 and
standalone Keras 2.1.6, both on the Theano backend. Every model is built,
given random well-scaled weights, saved (model.save, and for some also
to_json + save_weights), and run on random inputs; what Keras + Theano
computed is saved beside it in <name>.npz ('input:<name>' / 'output:<name>').
These are the ground truth for Keras 1 configs and weights, Theano's true
convolutions and its own 'same' padding, and 'th' dim ordering.

Python 3.6 is needed (Theano 1.0.5 and these Keras versions predate 3.7);
tests/make_all_fixtures.py --legacy-python runs this too:

    python3.6 -m venv /tmp/th36
    /tmp/th36/bin/pip install numpy==1.16.6 scipy==1.2.3 h5py==2.10.0 pyyaml==5.3.1 six theano==1.0.5
    pip download --no-deps --no-binary :all: keras==1.2.2     # unpack: Keras-1.2.2/keras
    pip download --no-deps keras==2.1.6                       # unzip the wheel: keras/
    PYTHONPATH=<dir holding Keras 1.2.2's keras/> KERAS_BACKEND=theano \\
        /tmp/th36/bin/python tests/make_legacy_fixtures.py keras1
    PYTHONPATH=<dir holding Keras 2.1.6's keras/> KERAS_BACKEND=theano \\
        /tmp/th36/bin/python tests/make_legacy_fixtures.py keras2

Writes tests/fixtures/legacy/k1_*.h5 (Keras 1) and k2th_*.h5 (Keras 2,
Theano), with their .npz. (Python 3.6 syntax only in this file.)
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "theano")
os.environ.setdefault("THEANO_FLAGS", "floatX=float32,device=cpu")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "legacy")
BATCH = 3


def randomize(model, rng):
    """Random weights at a scale that keeps activations O(1); BatchNormalization
    statistics and biases random too."""
    import keras.backend as K
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        names = [getattr(w, "name", "") or "" for w in layer.weights]
        new = []
        for name, w in zip(names, ws):
            shape = w.shape
            if "running_std" in name or "moving_variance" in name or "gamma" in name:
                v = rng.uniform(0.5, 1.5, shape)
            elif "running_mean" in name or "moving_mean" in name or "beta" in name or name.endswith("_b") \
                    or "bias" in name or name.endswith("_b_carry"):
                v = rng.normal(0.0, 0.5, shape)
            elif len(shape) >= 2:
                fan_in = int(np.prod(shape[:-1])) or 1
                if len(shape) == 4 and "_W" in name and getattr(layer, "dim_ordering", "tf") == "th":
                    fan_in = int(np.prod(shape[1:])) or 1
                v = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
            else:
                v = rng.normal(0.0, 0.5, shape)
            new.append(v.astype(w.dtype))
        layer.set_weights(new)
    del K


def inputs_for(model, rng, ints=None):
    xs = []
    for i, shape in enumerate(model.input_shape if isinstance(model.input_shape, list)
                              else [model.input_shape]):
        shape = [BATCH] + [d if d is not None else 5 for d in shape[1:]]
        if ints and i in ints:
            xs.append(rng.randint(0, ints[i], shape).astype("float32"))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    return xs


def save(name, model, xs, json_too=False):
    ys = model.predict(xs if len(xs) > 1 else xs[0])
    ys = ys if isinstance(ys, list) else [ys]
    model.save(os.path.join(OUT, name + ".h5"))
    if json_too:
        with open(os.path.join(OUT, name + ".json"), "w") as fh:
            fh.write(model.to_json())
        model.save_weights(os.path.join(OUT, name + "_weights.h5"))
    arrays = {}
    for n, x in zip(model.input_names, xs):
        arrays["input:" + n] = x
    for n, y in zip(model.output_names, ys):
        arrays["output:" + n] = np.asarray(y, dtype=np.float32)
    np.savez(os.path.join(OUT, name + ".npz"), **arrays)
    print("legacy/" + name)


# -- Keras 1.2.2 ----------------------------------------------------------------------

def keras1():
    import keras
    from keras.models import Sequential, Model
    from keras.layers import (Input, Dense, Activation, Convolution1D, Convolution2D, Convolution3D,
                              AtrousConvolution1D, AtrousConvolution2D, Deconvolution2D,
                              MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling2D,
                              GlobalAveragePooling1D, GlobalMaxPooling2D,
                              ZeroPadding1D, ZeroPadding2D, ZeroPadding3D, UpSampling1D,
                              UpSampling2D, UpSampling3D, Cropping1D, Cropping2D, Flatten, Reshape,
                              Permute, RepeatVector, Dropout, Embedding, LSTM, GRU, SimpleRNN,
                              TimeDistributedDense, TimeDistributed, Bidirectional, Highway,
                              MaxoutDense, BatchNormalization, Merge, merge, LocallyConnected1D,
                              LocallyConnected2D, ConvLSTM2D, GaussianNoise)
    from keras.layers.advanced_activations import (PReLU, ELU, LeakyReLU, ParametricSoftplus,
                                                   ThresholdedReLU, SReLU)
    assert keras.__version__.startswith("1."), keras.__version__
    rng = np.random.RandomState(1)

    def made(name, model, ints=None, json_too=False):
        randomize(model, rng)
        save(name, model, inputs_for(model, rng, ints), json_too)

    # 'th' ordering: channels first everywhere, Flatten -> Dense in (C, H, W)
    # order; layers that do not save their dim_ordering (ZeroPadding2D,
    # UpSampling2D) follow the model; Theano's 'same' with strides / even kernels.
    m = Sequential()
    m.add(Convolution2D(4, 3, 3, border_mode="same", dim_ordering="th", input_shape=(3, 9, 9)))
    m.add(Activation("relu"))
    m.add(MaxPooling2D((3, 3), strides=(2, 2), border_mode="same", dim_ordering="th"))
    m.add(ZeroPadding2D((1, 2), dim_ordering="th"))
    m.add(Convolution2D(3, 2, 2, subsample=(2, 2), border_mode="same", dim_ordering="th"))
    m.add(UpSampling2D((2, 2), dim_ordering="th"))
    m.add(Convolution2D(2, 3, 3, subsample=(2, 2), border_mode="same", dim_ordering="th"))
    m.add(Flatten())
    m.add(Dense(5, activation="softmax"))
    made("k1_th_cnn", m, json_too=True)

    m = Sequential()
    m.add(Convolution2D(4, 3, 3, border_mode="same", input_shape=(8, 8, 3), dim_ordering="tf"))
    m.add(AtrousConvolution2D(3, 3, 3, atrous_rate=(2, 2), border_mode="same", dim_ordering="tf"))
    m.add(Convolution2D(3, 2, 2, border_mode="full", dim_ordering="tf"))
    m.add(AveragePooling2D((2, 2), dim_ordering="tf"))
    m.add(Cropping2D(((1, 0), (0, 1)), dim_ordering="tf"))
    m.add(Deconvolution2D(2, 3, 3, output_shape=(None, 8, 8, 2), subsample=(2, 2),
                          border_mode="valid", dim_ordering="tf"))
    m.add(GlobalMaxPooling2D(dim_ordering="tf"))
    m.add(Dense(3))
    made("k1_tf_cnn", m)

    m = Sequential()
    m.add(Embedding(12, 4, input_length=9))
    m.add(Convolution1D(5, 3, border_mode="same"))
    m.add(AtrousConvolution1D(4, 2, atrous_rate=2, border_mode="valid"))
    m.add(ZeroPadding1D(1))
    m.add(MaxPooling1D(pool_length=2, stride=1))
    m.add(UpSampling1D(length=2))
    m.add(Cropping1D((1, 2)))
    m.add(LocallyConnected1D(3, 2))
    m.add(GlobalAveragePooling1D())
    m.add(Dense(2))
    made("k1_conv1d", m, ints={0: 12})

    m = Sequential()
    m.add(LSTM(5, return_sequences=True, consume_less="cpu", input_shape=(6, 3)))
    m.add(GRU(4, return_sequences=True, consume_less="gpu"))
    m.add(SimpleRNN(4, return_sequences=True, activation="relu"))
    m.add(TimeDistributedDense(3))
    m.add(TimeDistributed(Dense(4, activation="tanh")))
    m.add(Bidirectional(LSTM(3, return_sequences=True, consume_less="mem"), merge_mode="sum"))
    m.add(Bidirectional(GRU(2), merge_mode="concat"))
    made("k1_rnn", m, json_too=True)

    a = Input(shape=(6,), name="a")
    b = Input(shape=(6,), name="b")
    s = merge([a, b], mode="sum")
    p = merge([a, b], mode="mul")
    v = merge([a, b], mode="ave")
    x = merge([a, b], mode="max")
    c = merge([s, p, v, x], mode="concat", concat_axis=-1)
    d = merge([a, b], mode="dot", dot_axes=1)
    h = Dense(6, activation="tanh")(c)
    y = merge([h, d], mode="concat")
    m = Model(input=[a, b], output=[y, Dense(2)(h)])
    made("k1_merge", m)

    left = Sequential()
    left.add(Dense(4, activation="relu", input_shape=(5,)))
    right = Sequential()
    right.add(Dense(3, input_shape=(2,)))
    right.add(Activation("sigmoid"))
    m = Sequential()
    m.add(Merge([left, right], mode="concat"))
    m.add(Dense(2))
    made("k1_legacy_merge", m, json_too=True)

    m = Sequential()
    m.add(Highway(activation="relu", input_shape=(6,)))
    m.add(MaxoutDense(5, nb_feature=3))
    m.add(BatchNormalization(mode=0))
    m.add(PReLU())
    m.add(BatchNormalization(mode=1))
    m.add(ParametricSoftplus())
    m.add(BatchNormalization(mode=2))
    m.add(SReLU())
    m.add(ELU(alpha=0.7))
    m.add(LeakyReLU(alpha=0.2))
    m.add(ThresholdedReLU(theta=0.1))
    m.add(GaussianNoise(0.3))
    m.add(Dropout(0.5))
    m.add(RepeatVector(3))
    m.add(Reshape((5, 3)))
    m.add(Permute((2, 1)))
    m.add(Flatten())
    m.add(Dense(2, activation="hard_sigmoid"))
    made("k1_misc", m)

    m = Sequential()
    m.add(Convolution3D(3, 2, 3, 2, border_mode="same", dim_ordering="th",
                        input_shape=(2, 5, 6, 5)))
    m.add(MaxPooling3D((2, 2, 2), dim_ordering="th", border_mode="valid"))
    m.add(UpSampling3D((1, 2, 1), dim_ordering="th"))
    m.add(ZeroPadding3D((1, 0, 1), dim_ordering="th"))
    m.add(BatchNormalization(axis=1))
    m.add(Flatten())
    m.add(Dense(3))
    made("k1_conv3d_th", m)

    # a functional model holding a Sequential, masking, TimeDistributed
    # convolutions (flipped under Theano), 'cos' merge, a strided 'same'
    # Deconvolution2D, to_json + save_weights of a functional model
    inner = Sequential(name="inner_seq")
    inner.add(Dense(5, activation="relu", input_shape=(4,)))
    inner.add(Dense(4))
    q = Input(shape=(4,), name="q")
    e = inner(q)
    cos = Flatten()(merge([q, e], mode="cos", dot_axes=1))
    seq = Input(shape=(5, 6, 6, 2), name="frames")
    t = TimeDistributed(Convolution2D(3, 3, 3, dim_ordering="tf"))(seq)
    t = TimeDistributed(Flatten())(t)
    ids = Input(shape=(6,), dtype="int32", name="ids")
    emb = Embedding(9, 4, mask_zero=True)(ids)
    r = GRU(3, consume_less="cpu", go_backwards=True)(emb)
    r2 = SimpleRNN(2)(t)
    img = Input(shape=(3, 4, 4), name="img")
    d = Deconvolution2D(2, 3, 3, output_shape=(None, 2, 8, 8), subsample=(2, 2),
                        border_mode="same", dim_ordering="th")(img)
    d = Flatten()(d)
    out = merge([cos, e, r, r2, d], mode="concat")
    m = Model(input=[q, seq, ids, img], output=out)
    made("k1_functional", m, ints={2: 9}, json_too=True)

    m = Sequential()
    m.add(LocallyConnected2D(3, 2, 2, dim_ordering="th", input_shape=(2, 5, 5)))
    m.add(Reshape((1, 3, 4, 4)))
    m.add(ConvLSTM2D(2, 2, 2, dim_ordering="th", border_mode="same", return_sequences=False))
    m.add(Flatten())
    made("k1_local_convlstm_th", m)


# -- Keras 2.1.6 on Theano ---------------------------------------------------------

def keras2():
    import keras
    from keras import layers as L
    from keras.models import Model
    assert keras.__version__.startswith("2."), keras.__version__
    assert keras.backend.backend() == "theano"
    rng = np.random.RandomState(2)

    def made(name, model, ints=None, json_too=False):
        randomize(model, rng)
        save(name, model, inputs_for(model, rng, ints), json_too)

    x = L.Input((9, 9, 3), name="img")
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = L.Conv2D(4, 3, strides=2, padding="same")(h)          # Theano: pads 1 before
    h = L.Conv2D(3, 2, padding="same", dilation_rate=1)(h)   # even kernel
    h = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(h)   # no Theano SeparableConv2D in 2.1
    h = L.DepthwiseConv2D(2, strides=2, padding="same")(h)
    h = L.Conv2DTranspose(3, 3, strides=1, padding="same")(h)
    h = L.Conv2DTranspose(2, 2, strides=2, padding="valid")(h)
    h = L.Conv2D(3, 3, dilation_rate=2)(h)
    y = L.Dense(2)(L.Flatten()(h))
    made("k2th_cnn", Model(x, y), json_too=True)

    x = L.Input((3, 10, 9), name="chw")
    h = L.Conv2D(4, 3, padding="same", data_format="channels_first")(x)
    h = L.MaxPooling2D(2, data_format="channels_first")(h)
    h = L.Conv2D(3, 3, strides=2, padding="same", data_format="channels_first")(h)
    h = L.BatchNormalization(axis=1)(h)
    y = L.Dense(3)(L.Flatten()(h))
    made("k2th_channels_first", Model(x, y))

    x = L.Input((8, 3), name="seq")
    h = L.Conv1D(4, 3, padding="causal")(x)
    h = L.Conv1D(4, 4, strides=2, padding="same")(h)
    h = L.Conv1D(3, 2, padding="valid", dilation_rate=1)(h)
    y = L.LSTM(3)(h)
    made("k2th_conv1d", Model(x, y))

    x = L.Input((2, 5, 5, 3), name="vol")
    h = L.Conv3D(3, (2, 3, 3), padding="same")(x)
    h = L.Conv3D(2, 2, padding="valid")(h)
    y = L.Dense(2)(L.Flatten()(h))
    made("k2th_conv3d", Model(x, y))

    # strided 'same' transposed convolutions: Theano crops k // 2 first
    x = L.Input((4, 5, 3), name="small")
    h = L.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    h = L.Conv2DTranspose(2, 5, strides=(2, 1), padding="same", activation="tanh")(h)
    made("k2th_deconv_same", Model(x, h))

    # Theano pads 'same' pooling its own way (pool_2d pad + crop)
    x = L.Input((7, 8, 2), name="img")
    a = L.MaxPooling2D(2, padding="same")(x)
    b = L.MaxPooling2D(3, strides=2, padding="same")(x)
    c = L.AveragePooling2D(2, padding="same")(x)
    d = L.AveragePooling2D(3, strides=2, padding="same")(x)
    e = L.MaxPooling2D(3, strides=1, padding="same")(x)
    flat = [L.Flatten()(t) for t in (a, b, c, d, e)]
    made("k2th_pool_same", Model(x, L.Concatenate()(flat)))

    x = L.Input((3, 6, 6, 2), name="frames")
    h = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(x)
    h = L.ConvLSTM2D(2, 2, padding="valid")(h)
    y = L.Dense(2)(L.Flatten()(h))
    made("k2th_convlstm", Model(x, y))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[1] if len(sys.argv) > 1 else "keras1"
    {"keras1": keras1, "keras2": keras2}[which]()
