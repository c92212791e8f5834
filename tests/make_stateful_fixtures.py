"""Make the fixtures of stateful recurrent models (`stateful=True`): each case
is built with real Keras, given random well-scaled weights, and run with
`predict` over CHUNKS consecutive chunks of one stream (the layers carry
their states from one chunk to the next, from zeros: reset_states()). The
model is saved twice, as tf-keras HDF5 (tests/fixtures/stateful/<case>.h5)
and as Keras 3 (<case>_k3.keras); beside each, <stem>.stream.npz (not a
one-run reference file, which the tools would look for at <stem>.npz) with, per chunk c,
'input:<name>:<c>', 'output:<i>:<c>' (outputs in the model's order) and
'state:<layer>:<k>:<c>', the layer's k-th state after the chunk (Keras's
order: LSTM h then c; Bidirectional the forward layer's, then the backward's).

    python tests/make_stateful_fixtures.py                 # both Kerases
    python tests/make_stateful_fixtures.py --keras 3 --case lstm_seq

Needs tf-keras and Keras 3 (pip install '.[keras]'). Nothing here imports
Keras at module level: the test reads the case list.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

FOLDER = os.path.join(HERE, "fixtures", "stateful")
BATCH, STEPS, CHUNKS = 3, 5, 3


@dataclass(frozen=True)
class SCase:
    name: str
    build: Callable              # (keras, batch) -> keras.Model
    inputs: str = "float"        # "float", "masked" (Masking zeros) or "ids" (mask_zero ids)
    keras: tuple = (2, 3)        # the Kerases that save it


def _seq(layer, features=3, steps=STEPS, head=True):
    """Input(batch, steps, features) -> layer(keras) -> Dense(2) when the layer
    returns a sequence or a vector."""
    def build(keras, batch):
        x = keras.Input(shape=(steps, features), batch_size=batch, name="x")
        h = layer(keras)(x)
        outs = h if isinstance(h, (list, tuple)) else [h]
        outs = [keras.layers.Dense(2, name="head")(outs[0])] + list(outs[1:]) if head else outs
        return keras.Model(x, outs)
    return build


def _stacked(keras, batch):
    L = keras.layers
    x = keras.Input(shape=(STEPS, 3), batch_size=batch, name="x")
    h = L.LSTM(4, stateful=True, return_sequences=True, name="lstm_a")(x)
    h = L.GRU(3, stateful=True, name="gru_b")(h)
    return keras.Model(x, L.Dense(2, name="head")(h))


def _masked(keras, batch):
    L = keras.layers
    x = keras.Input(shape=(STEPS, 3), batch_size=batch, name="x")
    h = L.Masking(0.0, name="mask")(x)
    h = L.LSTM(4, stateful=True, return_sequences=True, name="lstm")(h)
    return keras.Model(x, L.Dense(2, name="head")(h))


def _embedded(keras, batch):
    L = keras.layers
    ids = keras.Input(shape=(STEPS,), batch_size=batch, dtype="int32", name="ids")
    h = L.Embedding(9, 4, mask_zero=True, name="embed")(ids)
    h = L.GRU(4, stateful=True, name="gru")(h)
    return keras.Model(ids, L.Dense(2, name="head")(h))


def _conv_lstm(keras, batch):
    L = keras.layers
    x = keras.Input(shape=(STEPS, 6, 6, 2), batch_size=batch, name="x")
    h = L.ConvLSTM2D(3, 3, padding="same", stateful=True, return_sequences=True, name="conv_lstm")(x)
    return keras.Model(x, L.Conv3D(2, 1, name="head")(h))


def _bi_conv_lstm(keras, batch):
    L = keras.layers
    x = keras.Input(shape=(STEPS, 5, 2), batch_size=batch, name="x")
    h = L.Bidirectional(L.ConvLSTM1D(2, 3, padding="same", stateful=True), name="bi")(x)
    return keras.Model(x, L.Conv1D(2, 1, name="head")(h))


def _rnn_cells(keras, batch):
    L = keras.layers
    x = keras.Input(shape=(STEPS, 3), batch_size=batch, name="x")
    cells = [L.LSTMCell(4, name="c0"), L.GRUCell(3, name="c1")]
    h = L.RNN(cells, stateful=True, return_sequences=True, name="rnn")(x)
    return keras.Model(x, L.Dense(2, name="head")(h))


CASES = [
    SCase("lstm_seq", _seq(lambda k: k.layers.LSTM(4, stateful=True, return_sequences=True, name="lstm"))),
    SCase("lstm_last", _seq(lambda k: k.layers.LSTM(4, stateful=True, name="lstm"))),
    SCase("lstm_backwards", _seq(lambda k: k.layers.LSTM(4, stateful=True, go_backwards=True,
                                                         return_sequences=True, name="lstm"))),
    SCase("lstm_state", _seq(lambda k: k.layers.LSTM(4, stateful=True, return_state=True, name="lstm"))),
    SCase("lstm_gelu_scan", _seq(lambda k: k.layers.LSTM(4, stateful=True, activation="gelu",
                                                         return_sequences=True, name="lstm"))),
    SCase("gru_seq", _seq(lambda k: k.layers.GRU(4, stateful=True, return_sequences=True, name="gru"))),
    SCase("gru_last", _seq(lambda k: k.layers.GRU(4, stateful=True, name="gru"))),
    SCase("gru_reset_before", _seq(lambda k: k.layers.GRU(4, stateful=True, reset_after=False,
                                                          return_sequences=True, name="gru"))),
    SCase("gru_backwards", _seq(lambda k: k.layers.GRU(4, stateful=True, go_backwards=True, name="gru"))),
    SCase("simple_rnn_seq", _seq(lambda k: k.layers.SimpleRNN(4, stateful=True, return_sequences=True,
                                                              name="rnn"))),
    SCase("simple_rnn_last", _seq(lambda k: k.layers.SimpleRNN(4, stateful=True, name="rnn"))),
    SCase("simple_rnn_backwards", _seq(lambda k: k.layers.SimpleRNN(4, stateful=True, go_backwards=True,
                                                                    return_sequences=True, name="rnn"))),
    SCase("bi_lstm_seq", _seq(lambda k: k.layers.Bidirectional(
        k.layers.LSTM(4, stateful=True, return_sequences=True), name="bi"))),
    SCase("bi_gru_last_sum", _seq(lambda k: k.layers.Bidirectional(
        k.layers.GRU(3, stateful=True), merge_mode="sum", name="bi"))),
    SCase("bi_rnn_mixed", _seq(lambda k: k.layers.Bidirectional(
        k.layers.SimpleRNN(3, stateful=True, return_sequences=True),
        backward_layer=k.layers.SimpleRNN(3, stateful=True, go_backwards=True, return_sequences=True),
        name="bi"))),
    SCase("stacked_lstm_gru", _stacked),
    SCase("masked_lstm", _masked, inputs="masked"),
    SCase("embedded_gru", _embedded, inputs="ids"),
    SCase("rnn_stacked_cells", _rnn_cells),
    SCase("rnn_one_cell", _seq(lambda k: k.layers.RNN(k.layers.SimpleRNNCell(3, name="cell"), stateful=True,
                                                      name="rnn"))),
    SCase("conv_lstm_seq", _conv_lstm),
    SCase("bi_conv_lstm", _bi_conv_lstm),
]


# -- making them ---------------------------------------------------------------------

def _stateful_layers(model):
    """(name, layer, [state variables]) of every stateful layer, in model order."""
    out = []
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "Bidirectional" and layer.forward_layer.stateful:
            out.append((layer.name, list(layer.forward_layer.states) + list(layer.backward_layer.states)))
        elif getattr(layer, "stateful", False) and getattr(layer, "states", None) is not None:
            states = layer.states
            flat = []

            def walk(s):
                if isinstance(s, (list, tuple)):
                    for v in s:
                        walk(v)
                else:
                    flat.append(s)
            walk(states)
            out.append((layer.name, flat))
    return out


def _chunk(case, model, rng):
    xs = []
    for t in model.inputs:
        shape = [BATCH] + [int(d) for d in t.shape[1:]]
        if case.inputs == "ids":
            ids = rng.integers(1, 9, shape)
            ids[0, :2] = 0            # masked steps: a row's first two, another's last
            ids[1, -1] = 0
            ids[2, :] = 0 if rng.random() < 0.5 else ids[2, :]
            xs.append(ids.astype("int32"))
        else:
            x = rng.standard_normal(shape).astype("float32")
            if case.inputs == "masked":
                x[0, 1:3] = 0.0
                x[2, :] = 0.0 if rng.random() < 0.5 else x[2, :]
            xs.append(x)
    return xs


def make(case: SCase, keras, major: int) -> None:
    from tests.make_fixtures import randomize
    seed = sum(map(ord, case.name)) + major
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = case.build(keras, BATCH)
    randomize(model, rng)
    arrays = {}
    for c in range(CHUNKS):
        xs = _chunk(case, model, rng)
        ys = model.predict(xs[0] if len(xs) == 1 else xs, batch_size=BATCH, verbose=0)
        ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
        for t, x in zip(model.inputs, xs):
            arrays[f"input:{t.name.split(':')[0]}:{c}"] = x
        for i, y in enumerate(ys):
            arrays[f"output:{i}:{c}"] = np.asarray(y)
        for name, states in _stateful_layers(model):
            for k, v in enumerate(states):
                arrays[f"state:{name}:{k}:{c}"] = np.asarray(v)
    os.makedirs(FOLDER, exist_ok=True)
    stem = case.name if major == 2 else case.name + "_k3"
    model.save(os.path.join(FOLDER, stem + (".h5" if major == 2 else ".keras")))
    np.savez(os.path.join(FOLDER, stem + ".stream.npz"), **arrays)
    print(f"stateful/{stem}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append")
    p.add_argument("--keras", type=int, choices=(2, 3), action="append")
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    cases = [c for c in CASES if not a.case or c.name in a.case]
    for major in a.keras or (2, 3):
        if major == 2:
            import tf_keras as keras
        else:
            import keras
        for c in cases:
            if major in c.keras:
                make(c, keras, major)


if __name__ == "__main__":
    main()
