"""Cases for the recurrent family: LSTM, GRU, SimpleRNN, CuDNNLSTM/CuDNNGRU,
Bidirectional, TimeDistributed, ConvLSTM1D/2D/3D, Embedding, Masking, and
masks flowing from Embedding(mask_zero) / Masking to their consumers.

Input kinds (tests/make_fixtures.py): ("int", n) ids in [0, n);
("int_padded", n) ids in [1, n) with zeros (masked steps) at the start of
row 0, the end and middle of row 1 and scattered over row 2;
("int_padded_empty", n) the same with row 2 all zeros; ("float_masked", v)
normal floats with the same steps set to v (for Masking(mask_value=v)).
"""
import importlib

from . import Case, layer_case

PADDED = (("int_padded", 7),)


def L(name, make, shape, **kw):
    return layer_case(name, make, shape, **kw)


# -- one-layer cases ------------------------------------------------------------

_single = [
    # LSTM
    L("lstm_last", lambda k: k.layers.LSTM(4), (5, 3)),
    L("lstm_seq", lambda k: k.layers.LSTM(4, return_sequences=True), (5, 3)),
    L("lstm_seq_state", lambda k: k.layers.LSTM(4, return_sequences=True, return_state=True), (5, 3)),
    L("lstm_state", lambda k: k.layers.LSTM(3, return_state=True), (4, 2)),
    L("lstm_backwards", lambda k: k.layers.LSTM(4, go_backwards=True), (5, 3)),
    L("lstm_backwards_seq", lambda k: k.layers.LSTM(4, go_backwards=True, return_sequences=True),
      (5, 3)),
    L("lstm_no_bias", lambda k: k.layers.LSTM(4, use_bias=False, return_sequences=True), (5, 3)),
    L("lstm_unroll", lambda k: k.layers.LSTM(4, unroll=True, return_sequences=True), (5, 3)),
    L("lstm_dynamic_time", lambda k: k.layers.LSTM(4, return_sequences=True), (None, 3)),
    L("lstm_time_major", lambda k: k.layers.LSTM(4, time_major=True, return_sequences=True), (5, 3)),
    L("lstm_dropout_implementation1",
      lambda k: k.layers.LSTM(4, dropout=0.3, recurrent_dropout=0.3, implementation=1,
                              return_sequences=True), (5, 3)),
    L("gru_dropout_implementation1",
      lambda k: k.layers.GRU(4, dropout=0.3, recurrent_dropout=0.2, implementation=1), (5, 3)),
    L("rnn_dropout", lambda k: k.layers.SimpleRNN(4, dropout=0.5, recurrent_dropout=0.5), (5, 3)),
    L("lstm_long", lambda k: k.layers.LSTM(16, return_sequences=True), (24, 8)),
    L("lstm_hard_sigmoid_relu",
      lambda k: k.layers.LSTM(4, activation="relu", recurrent_activation="hard_sigmoid",
                              return_sequences=True), (5, 3)),
    L("lstm_elu_softsign",
      lambda k: k.layers.LSTM(4, activation="elu", recurrent_activation="softsign"), (5, 3)),
    L("lstm_softplus_tanh",
      lambda k: k.layers.LSTM(4, activation="softplus", recurrent_activation="tanh",
                              return_sequences=True), (5, 3)),
    L("lstm_linear_sigmoid",
      lambda k: k.layers.LSTM(4, activation="linear", recurrent_activation="sigmoid",
                              return_sequences=True), (5, 3)),
    # GRU
    L("gru_last", lambda k: k.layers.GRU(4), (5, 3)),
    L("gru_seq_state", lambda k: k.layers.GRU(4, return_sequences=True, return_state=True), (5, 3)),
    L("gru_reset_before", lambda k: k.layers.GRU(4, reset_after=False, return_sequences=True), (5, 3)),
    L("gru_reset_before_no_bias",
      lambda k: k.layers.GRU(4, reset_after=False, use_bias=False), (5, 3)),
    L("gru_no_bias", lambda k: k.layers.GRU(4, use_bias=False, return_sequences=True), (5, 3)),
    L("gru_backwards_seq", lambda k: k.layers.GRU(4, go_backwards=True, return_sequences=True), (5, 3)),
    L("gru_softsign_hard_sigmoid",
      lambda k: k.layers.GRU(4, activation="softsign", recurrent_activation="hard_sigmoid",
                             return_sequences=True), (5, 3)),
    L("gru_relu_sigmoid_reset_before",
      lambda k: k.layers.GRU(4, activation="relu", reset_after=False), (5, 3)),
    # SimpleRNN
    L("rnn_last", lambda k: k.layers.SimpleRNN(4), (5, 3)),
    L("rnn_seq_state", lambda k: k.layers.SimpleRNN(4, return_sequences=True, return_state=True),
      (5, 3)),
    L("rnn_backwards", lambda k: k.layers.SimpleRNN(4, go_backwards=True, return_sequences=True),
      (5, 3)),
    L("rnn_no_bias", lambda k: k.layers.SimpleRNN(4, use_bias=False), (5, 3)),
] + [
    L(f"rnn_act_{a}", lambda k, a=a: k.layers.SimpleRNN(4, activation=a, return_sequences=True),
      (5, 3))
    for a in ("relu", "elu", "linear", "softplus", "softsign", "sigmoid", "hard_sigmoid")
] + [
    # activations no ONNX RNN node takes: the Scan fallback
    L("lstm_scan_swish", lambda k: k.layers.LSTM(4, activation="swish", return_sequences=True),
      (5, 3)),
    L("lstm_scan_gelu_gate", lambda k: k.layers.LSTM(4, recurrent_activation="gelu",
                                                     return_state=True), (5, 3)),
    L("gru_scan_selu", lambda k: k.layers.GRU(4, activation="selu", return_sequences=True), (5, 3)),
    L("gru_scan_reset_before_mish",
      lambda k: k.layers.GRU(4, activation="mish", reset_after=False, go_backwards=True), (5, 3)),
    L("rnn_scan_softmax", lambda k: k.layers.SimpleRNN(4, activation="softmax",
                                                       return_sequences=True), (5, 3)),
    L("rnn_scan_exponential_no_bias",
      lambda k: k.layers.SimpleRNN(3, activation="exponential", use_bias=False), (4, 2)),
]

# -- RNN(cell) ---------------------------------------------------------------------


def _rnn_stacked_cells(keras):
    x = keras.Input(shape=(5, 3), name="x")
    h = keras.Input(shape=(3,), name="h")
    # (an LSTMCell in a stack returns its states nested, which Keras's predict cannot list)
    cells = [keras.layers.GRUCell(3), keras.layers.SimpleRNNCell(2, activation="relu")]
    out = keras.layers.RNN(cells, return_state=True, go_backwards=True, name="stack")(x)
    seq = keras.layers.RNN([keras.layers.GRUCell(3), keras.layers.LSTMCell(2)],
                           return_sequences=True, name="stack_seq")(x)
    last = keras.layers.RNN(keras.layers.GRUCell(3), name="gru_rnn")(x, initial_state=h)
    return keras.Model([x, h], out + [seq, last])


def _masked_rnn_stack(keras):
    x = keras.Input(shape=(6,), dtype="int32", name="ids")
    e = keras.layers.Embedding(7, 3, mask_zero=True)(x)
    cells = [keras.layers.LSTMCell(3), keras.layers.GRUCell(2, activation="swish")]
    return keras.Model(x, keras.layers.RNN(cells, return_sequences=True, go_backwards=True)(e))


_rnn_cells = [
    L("rnn_lstm_cell", lambda k: k.layers.RNN(k.layers.LSTMCell(4), return_sequences=True,
                                              return_state=True), (5, 3)),
    L("rnn_gru_cell_scan", lambda k: k.layers.RNN(k.layers.GRUCell(4, activation="gelu")), (5, 3)),
    Case("rnn_stacked_cells", _rnn_stacked_cells),
    Case("mask_rnn_stacked_cells_scan", _masked_rnn_stack, input_kinds=(("int_padded", 7),)),
    L("bi_rnn_cell", lambda k: k.layers.Bidirectional(
        k.layers.RNN(k.layers.LSTMCell(3), return_sequences=True)), (5, 3)),
]

# -- Bidirectional ----------------------------------------------------------------


def _bi(name, make_inner, shape=(5, 3), **kw):
    return L(name, lambda k: k.layers.Bidirectional(make_inner(k), **kw), shape)


_bidirectional = [
    _bi("bi_lstm_concat_seq", lambda k: k.layers.LSTM(4, return_sequences=True)),
    _bi("bi_lstm_concat_last", lambda k: k.layers.LSTM(4)),
    _bi("bi_lstm_sum_seq", lambda k: k.layers.LSTM(4, return_sequences=True), merge_mode="sum"),
    _bi("bi_gru_mul_seq", lambda k: k.layers.GRU(4, return_sequences=True), merge_mode="mul"),
    _bi("bi_gru_ave_last", lambda k: k.layers.GRU(4, reset_after=False), merge_mode="ave"),
    _bi("bi_rnn_sum_last", lambda k: k.layers.SimpleRNN(4), merge_mode="sum"),
    _bi("bi_rnn_mul_last", lambda k: k.layers.SimpleRNN(4), merge_mode="mul"),
    _bi("bi_lstm_ave_seq", lambda k: k.layers.LSTM(3, return_sequences=True), merge_mode="ave"),
    _bi("bi_lstm_none_seq", lambda k: k.layers.LSTM(4, return_sequences=True), merge_mode=None),
    _bi("bi_gru_none_last", lambda k: k.layers.GRU(4), merge_mode=None),
    _bi("bi_lstm_state", lambda k: k.layers.LSTM(4, return_state=True)),
    _bi("bi_gru_seq_state", lambda k: k.layers.GRU(3, return_sequences=True, return_state=True),
        merge_mode="sum"),
    _bi("bi_lstm_hard_sigmoid", lambda k: k.layers.LSTM(4, recurrent_activation="hard_sigmoid",
                                                        return_sequences=True)),
    _bi("bi_lstm_scan_swish", lambda k: k.layers.LSTM(4, activation="swish", return_sequences=True)),
    L("bi_backward_gru", lambda k: k.layers.Bidirectional(
        k.layers.LSTM(4, return_sequences=True),
        backward_layer=k.layers.GRU(3, go_backwards=True, return_sequences=True)), (5, 3)),
    L("bi_backward_lstm_other_acts", lambda k: k.layers.Bidirectional(
        k.layers.LSTM(4), backward_layer=k.layers.LSTM(4, activation="relu", go_backwards=True),
        merge_mode="sum"), (5, 3)),
    L("bi_forward_goes_backwards", lambda k: k.layers.Bidirectional(
        k.layers.LSTM(4, go_backwards=True, return_sequences=True)), (5, 3)),
]

# -- initial_state, TimeDistributed, Embedding, Masking ----------------------------


def _lstm_initial_state(keras):
    x = keras.Input(shape=(5, 3), name="x")
    h = keras.Input(shape=(4,), name="h")
    c = keras.Input(shape=(4,), name="c")
    y = keras.layers.LSTM(4, return_sequences=True, name="lstm")(x, initial_state=[h, c])
    return keras.Model([x, h, c], y)


def _gru_initial_state_from_dense(keras):
    x = keras.Input(shape=(5, 3), name="x")
    z = keras.Input(shape=(2,), name="z")
    h0 = keras.layers.Dense(4, activation="tanh", name="init")(z)
    y = keras.layers.GRU(4, name="gru")(x, initial_state=h0)
    return keras.Model([x, z], y)


def _bi_initial_state(keras):
    x = keras.Input(shape=(5, 3), name="x")
    hs = [keras.Input(shape=(4,), name=f"s{i}") for i in range(4)]
    y = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), name="bi")(
        x, initial_state=hs)
    return keras.Model([x] + hs, y)


def _rnn_scan_initial_state(keras):
    x = keras.Input(shape=(5, 3), name="x")
    h = keras.Input(shape=(4,), name="h")
    y = keras.layers.SimpleRNN(4, activation="gelu", return_sequences=True, name="rnn")(
        x, initial_state=h)
    return keras.Model([x, h], y)


def _td_sequential(keras):
    inner = keras.Sequential([keras.layers.Dense(5, activation="relu", input_shape=(4,)),
                              keras.layers.Dense(2)], name="per_step")
    x = keras.Input(shape=(3, 4), name="x")
    return keras.Model(x, keras.layers.TimeDistributed(inner, name="td")(x))


def _lstm_td_lstm(keras):
    x = keras.Input(shape=(5, 3), name="x")
    h = keras.layers.LSTM(4, return_sequences=True)(x)
    h = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="tanh"))(h)
    return keras.Model(x, keras.layers.LSTM(2)(h))


_wrappers = [
    Case("lstm_initial_state", _lstm_initial_state),
    Case("gru_initial_state_from_dense", _gru_initial_state_from_dense),
    Case("bi_initial_state", _bi_initial_state),
    Case("rnn_scan_initial_state", _rnn_scan_initial_state),
    L("td_dense", lambda k: k.layers.TimeDistributed(k.layers.Dense(3)), (4, 5)),
    L("td_dense_dynamic_time", lambda k: k.layers.TimeDistributed(k.layers.Dense(3)), (None, 5)),
    L("td_conv2d", lambda k: k.layers.TimeDistributed(k.layers.Conv2D(3, 3, padding="same")),
      (3, 6, 6, 2)),
    L("td_lstm", lambda k: k.layers.TimeDistributed(k.layers.LSTM(3)), (3, 4, 2)),
    Case("td_sequential", _td_sequential),
    Case("lstm_td_lstm", _lstm_td_lstm),
    L("embedding_int", lambda k: k.layers.Embedding(7, 4), (6,), input_kinds=(("int", 7),)),
    L("embedding_3d_ids", lambda k: k.layers.Embedding(5, 3), (2, 3), input_kinds=(("int", 5),)),
]


def _int_input(keras, steps=6):
    return keras.Input(shape=(steps,), dtype="int32", name="ids")


def _emb(keras, inp, mask=True):
    return keras.layers.Embedding(7, 3, mask_zero=mask, name="emb")(inp)


def _masked(name, make_rnn, kinds=PADDED):
    def build(keras):
        x = _int_input(keras)
        return keras.Model(x, make_rnn(keras)(_emb(keras, x)), name=name)
    return Case(name, build, input_kinds=kinds)


def _mask_dynamic_time(keras):
    x = keras.Input(shape=(None,), dtype="int32", name="ids")
    h = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True))(_emb(keras, x))
    return keras.Model(x, keras.layers.LSTM(3, go_backwards=True)(h))


def _masking_dynamic_time_scan(keras):
    x = keras.Input(shape=(None, 2), name="x")
    h = keras.layers.Masking(mask_value=0.5)(x)
    return keras.Model(x, keras.layers.SimpleRNN(3, activation="swish", return_sequences=True)(h))


def _masking_lstm(keras):
    x = keras.Input(shape=(6, 3), name="x")
    h = keras.layers.Masking(mask_value=0.5, name="mask")(x)
    return keras.Model(x, keras.layers.LSTM(4, return_sequences=True)(h))


def _masking_only(keras):
    x = keras.Input(shape=(6, 3), name="x")
    return keras.Model(x, keras.layers.Masking(mask_value=0.5)(x))


def _mask_initial_state_empty_row(keras):
    x = _int_input(keras)
    h = keras.Input(shape=(4,), name="h")
    c = keras.Input(shape=(4,), name="c")
    out = keras.layers.LSTM(4, return_sequences=True, return_state=True)(
        _emb(keras, x), initial_state=[h, c])
    return keras.Model([x, h, c], out)


def _mask_through_dense_stack(keras):
    x = _int_input(keras)
    e = keras.layers.Dense(4, activation="tanh")(_emb(keras, x))
    s = keras.layers.LSTM(4, return_sequences=True)(e)
    s = keras.layers.TimeDistributed(keras.layers.Dense(3))(s)
    s = keras.layers.GRU(3, return_sequences=True, go_backwards=True)(s)
    return keras.Model(x, keras.layers.SimpleRNN(2)(s))


def _text_model(keras):
    x = keras.Input(shape=(8,), dtype="int32", name="tokens")
    e = keras.layers.Embedding(7, 5, mask_zero=True)(x)
    h = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))(e)
    h = keras.layers.GRU(4)(h)
    return keras.Model(x, keras.layers.Dense(2, activation="softmax")(h))


_masks = [
    _masked("mask_lstm_last", lambda k: k.layers.LSTM(4)),
    _masked("mask_lstm_seq", lambda k: k.layers.LSTM(4, return_sequences=True)),
    _masked("mask_lstm_seq_state_backwards",
            lambda k: k.layers.LSTM(4, return_sequences=True, return_state=True, go_backwards=True)),
    _masked("mask_lstm_zero_output",
            lambda k: k.layers.LSTM(4, return_sequences=True, zero_output_for_mask=True)),
    _masked("mask_lstm_zero_output_last", lambda k: k.layers.LSTM(4, zero_output_for_mask=True)),
    _masked("mask_gru_seq", lambda k: k.layers.GRU(4, return_sequences=True, reset_after=False)),
    _masked("mask_gru_backwards_last", lambda k: k.layers.GRU(4, go_backwards=True)),
    _masked("mask_rnn_seq_state", lambda k: k.layers.SimpleRNN(4, return_sequences=True,
                                                              return_state=True)),
    _masked("mask_bi_lstm_seq", lambda k: k.layers.Bidirectional(
        k.layers.LSTM(4, return_sequences=True))),
    _masked("mask_bi_gru_last_state", lambda k: k.layers.Bidirectional(
        k.layers.GRU(3, return_state=True), merge_mode="ave")),
    _masked("mask_bi_rnn_none_seq", lambda k: k.layers.Bidirectional(
        k.layers.SimpleRNN(3, return_sequences=True), merge_mode=None)),
    _masked("mask_bi_backward_gru", lambda k: k.layers.Bidirectional(
        k.layers.LSTM(3, return_sequences=True),
        backward_layer=k.layers.GRU(3, go_backwards=True, return_sequences=True))),
    _masked("mask_lstm_unroll", lambda k: k.layers.LSTM(3, unroll=True, return_sequences=True)),
    _masked("mask_gru_unroll_zero_output",
            lambda k: k.layers.GRU(3, unroll=True, zero_output_for_mask=True,
                                   return_sequences=True)),
    _masked("mask_lstm_scan_swish", lambda k: k.layers.LSTM(4, activation="swish",
                                                           return_sequences=True, return_state=True)),
    _masked("mask_gru_scan_zero_output", lambda k: k.layers.GRU(
        4, activation="gelu", return_sequences=True, zero_output_for_mask=True)),
    _masked("mask_bi_scan_last", lambda k: k.layers.Bidirectional(
        k.layers.GRU(3, activation="selu"))),
    _masked("mask_empty_row_lstm", lambda k: k.layers.LSTM(4, return_sequences=True),
            kinds=(("int_padded_empty", 7),)),
    _masked("mask_empty_row_bi_last", lambda k: k.layers.Bidirectional(k.layers.GRU(3)),
            kinds=(("int_padded_empty", 7),)),
    Case("mask_initial_state_empty_row", _mask_initial_state_empty_row,
         input_kinds=(("int_padded_empty", 7),)),
    Case("mask_through_dense_stack", _mask_through_dense_stack, input_kinds=PADDED),
    Case("mask_dynamic_time", _mask_dynamic_time, input_kinds=PADDED),
    Case("masking_dynamic_time_scan", _masking_dynamic_time_scan,
         input_kinds=(("float_masked", 0.5),)),
    Case("masking_lstm", _masking_lstm, input_kinds=(("float_masked", 0.5),)),
    Case("masking_only", _masking_only, input_kinds=(("float_masked", 0.5),)),
    Case("text_model", _text_model, input_kinds=(("int_padded", 7),)),
    L("embedding_mask_float_ids", lambda k: k.layers.Embedding(7, 3, mask_zero=True), (6,),
      input_kinds=(("int", 7),)),
]

# -- ConvLSTM ---------------------------------------------------------------------


def _convlstm_stack(keras):
    x = keras.Input(shape=(3, 6, 6, 2), name="x")
    h = keras.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(x)
    h = keras.layers.ConvLSTM2D(2, 2)(h)
    return keras.Model(x, keras.layers.Flatten()(h))


_conv = [
    L("convlstm2d_last", lambda k: k.layers.ConvLSTM2D(3, 3), (3, 6, 6, 2)),
    L("convlstm2d_seq_same", lambda k: k.layers.ConvLSTM2D(3, (3, 2), padding="same",
                                                          return_sequences=True), (3, 5, 6, 2)),
    L("convlstm2d_strides", lambda k: k.layers.ConvLSTM2D(2, 3, strides=2, padding="same",
                                                         return_sequences=True), (3, 7, 6, 2)),
    L("convlstm2d_dilation", lambda k: k.layers.ConvLSTM2D(2, 2, dilation_rate=2, use_bias=False),
      (3, 6, 6, 2)),
    L("convlstm2d_state_backwards", lambda k: k.layers.ConvLSTM2D(
        2, 3, padding="same", go_backwards=True, return_sequences=True, return_state=True,
        activation="relu", recurrent_activation="sigmoid"), (3, 5, 5, 2)),
    L("convlstm2d_dynamic_time", lambda k: k.layers.ConvLSTM2D(2, 3, return_sequences=True),
      (None, 5, 5, 2)),
    L("convlstm2d_channels_first", lambda k: k.layers.ConvLSTM2D(
        2, 3, padding="same", data_format="channels_first", return_sequences=True,
        dropout=0.2, recurrent_dropout=0.2), (3, 2, 5, 5)),
    L("convlstm1d", lambda k: k.layers.ConvLSTM1D(3, 3, padding="same", return_sequences=True),
      (4, 7, 2)),
    L("convlstm3d", lambda k: k.layers.ConvLSTM3D(2, 2), (2, 4, 4, 4, 1)),
    Case("convlstm2d_stack", _convlstm_stack),
]


def _bi_conv(name, make, shape=(4, 5, 5, 2), **kw):
    return L(name, lambda k: k.layers.Bidirectional(make(k), **kw), shape)


def _bi_convlstm_states(keras):
    """Initial states for both directions, the forward then the backward (h, c)."""
    x = keras.Input(shape=(3, 5, 5, 2), name="x")
    hs = [keras.Input(shape=(5, 5, 3), name=n) for n in ("fh", "fc", "bh", "bc")]
    bi = keras.layers.Bidirectional(keras.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                                    merge_mode="sum")
    return keras.Model([x] + hs, bi(x, initial_state=hs))


def _bi_convlstm_model(keras):
    """Bidirectional ConvLSTM2D between convolutions (a next-frame model)."""
    L = keras.layers
    x = keras.Input(shape=(4, 6, 6, 1), name="x")
    h = L.TimeDistributed(L.Conv2D(3, 3, padding="same"))(x)
    h = L.Bidirectional(L.ConvLSTM2D(2, 3, padding="same", return_sequences=True))(h)
    h = L.BatchNormalization()(h)
    h = L.Bidirectional(L.ConvLSTM2D(2, 3), merge_mode="ave")(h)
    return keras.Model(x, L.Conv2D(1, 3, padding="same")(h))


# Bidirectional(ConvLSTM1D/2D/3D): every merge_mode, sequences and last
# outputs, states, channels_first (merged on its last axis, as Keras does),
# a separate backward layer, an unknown number of steps.
_bi_conv_lstm = [
    _bi_conv("bi_convlstm2d_concat_seq", lambda k: k.layers.ConvLSTM2D(3, 3, padding="same",
                                                                      return_sequences=True)),
    _bi_conv("bi_convlstm2d_concat_last", lambda k: k.layers.ConvLSTM2D(3, 3)),
    _bi_conv("bi_convlstm2d_sum_seq", lambda k: k.layers.ConvLSTM2D(2, 3, return_sequences=True),
             merge_mode="sum"),
    _bi_conv("bi_convlstm2d_mul_last", lambda k: k.layers.ConvLSTM2D(2, 2, strides=2), merge_mode="mul"),
    _bi_conv("bi_convlstm2d_ave_seq", lambda k: k.layers.ConvLSTM2D(
        2, 3, padding="same", return_sequences=True, activation="relu"), merge_mode="ave"),
    _bi_conv("bi_convlstm2d_none_seq", lambda k: k.layers.ConvLSTM2D(2, 3, return_sequences=True),
             merge_mode=None),
    _bi_conv("bi_convlstm2d_none_last", lambda k: k.layers.ConvLSTM2D(2, 3), merge_mode=None),
    _bi_conv("bi_convlstm2d_state", lambda k: k.layers.ConvLSTM2D(2, 3, padding="same",
                                                                 return_state=True)),
    _bi_conv("bi_convlstm2d_channels_first", lambda k: k.layers.ConvLSTM2D(
        2, 3, padding="same", data_format="channels_first", return_sequences=True), shape=(3, 2, 5, 4)),
    _bi_conv("bi_convlstm2d_dynamic_time", lambda k: k.layers.ConvLSTM2D(2, 3, return_sequences=True),
             shape=(None, 5, 5, 2)),
    L("bi_convlstm2d_backward_layer", lambda k: k.layers.Bidirectional(
        k.layers.ConvLSTM2D(2, 3, return_sequences=True),
        backward_layer=k.layers.ConvLSTM2D(2, 3, return_sequences=True, go_backwards=True,
                                           recurrent_activation="sigmoid")), (4, 5, 5, 2)),
    _bi_conv("bi_convlstm1d_seq", lambda k: k.layers.ConvLSTM1D(3, 3, padding="same",
                                                               return_sequences=True), shape=(4, 7, 2)),
    _bi_conv("bi_convlstm3d_last", lambda k: k.layers.ConvLSTM3D(2, 2), shape=(2, 4, 4, 4, 1),
             merge_mode="sum"),
    Case("bi_convlstm2d_initial_states", _bi_convlstm_states),
    Case("bi_convlstm2d_model", _bi_convlstm_model),
]
_conv += _bi_conv_lstm

# -- CuDNNLSTM / CuDNNGRU ---------------------------------------------------------
# tf-keras can build and save these classes but not run them without a GPU.
# Keras itself supplies the reference: its HDF5 loader converts CuDNN weights
# to the plain LSTM / GRU(reset_after=True) layout
# (saving.legacy.hdf5_format.preprocess_weights_for_loading); the twin plain
# layer, sigmoid gates, computes what CuDNN computes.


def _cudnn_case(name, cls, twin):
    def build(keras):
        base = keras.__name__
        mod = importlib.import_module(f"{base}.src.layers.rnn.{'cudnn_lstm' if cls == 'CuDNNLSTM' else 'cudnn_gru'}")
        layer_cls = getattr(mod, cls)

        def make(kind_cls):
            x = keras.Input(shape=(5, 3), name="x")
            return keras.Model(x, kind_cls(keras, x), name=name)

        model = make(lambda k, x: twin(k, layer_cls, x, cudnn=True))

        def predict(xs, verbose=0):
            hdf5 = importlib.import_module(f"{base}.src.saving.legacy.hdf5_format")
            ref = make(lambda k, x: twin(k, None, x, cudnn=False))
            for a, b in zip(model.layers, ref.layers):
                b.set_weights(hdf5.preprocess_weights_for_loading(
                    b, a.get_weights(), original_keras_version="2.21.0",
                    original_backend="tensorflow"))
            return ref.predict(xs, verbose=verbose)

        model.predict = predict
        return model
    return Case(name, build)


def _cudnn_lstm_seq(k, cu, x, cudnn):
    if cudnn:
        return cu(4, return_sequences=True, name="rnn")(x)
    return k.layers.LSTM(4, recurrent_activation="sigmoid", return_sequences=True, name="rnn")(x)


def _cudnn_gru_state(k, cu, x, cudnn):
    if cudnn:
        return cu(4, return_state=True, go_backwards=True, name="rnn")(x)
    return k.layers.GRU(4, reset_after=True, recurrent_activation="sigmoid", return_state=True,
                        go_backwards=True, name="rnn")(x)


def _cudnn_bi_lstm(k, cu, x, cudnn):
    inner = cu(3, return_sequences=True) if cudnn else k.layers.LSTM(
        3, recurrent_activation="sigmoid", return_sequences=True)
    return k.layers.Bidirectional(inner, name="bi")(x)


_cudnn = [
    _cudnn_case("cudnn_lstm_seq", "CuDNNLSTM", _cudnn_lstm_seq),
    _cudnn_case("cudnn_gru_state_backwards", "CuDNNGRU", _cudnn_gru_state),
    _cudnn_case("cudnn_bi_lstm", "CuDNNLSTM", _cudnn_bi_lstm),
]

# -- whole models of the kinds the issue names ------------------------------------


def _stack_mixed(keras):
    x = keras.Input(shape=(6, 3), name="x")
    h = keras.layers.LSTM(5, return_sequences=True)(x)
    h = keras.layers.SimpleRNN(4, return_sequences=True)(h)
    h = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True))(h)
    h = keras.layers.LSTM(3)(h)
    return keras.Model(x, keras.layers.Dense(2)(h))


def _bi_stack_sequential(keras):
    return keras.Sequential([
        keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), input_shape=(6, 3)),
        keras.layers.Bidirectional(keras.layers.LSTM(3)),
        keras.layers.Dense(2),
    ])


def _seq2seq(keras):
    enc_in = keras.Input(shape=(6, 3), name="encoder_in")
    dec_in = keras.Input(shape=(4, 2), name="decoder_in")
    _, h, c = keras.layers.LSTM(5, return_state=True, name="encoder")(enc_in)
    y = keras.layers.LSTM(5, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    y = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="softmax"), name="head")(y)
    return keras.Model([enc_in, dec_in], y)


def _lstm_autoencoder(keras):
    return keras.Sequential([
        keras.layers.LSTM(6, activation="relu", input_shape=(5, 2)),
        keras.layers.RepeatVector(5),
        keras.layers.LSTM(6, activation="relu", return_sequences=True),
        keras.layers.TimeDistributed(keras.layers.Dense(2)),
    ])


def _next_frame(keras):
    x = keras.Input(shape=(None, 8, 8, 1), name="frames")
    h = keras.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)(x)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)(h)
    h = keras.layers.BatchNormalization()(h)
    return keras.Model(x, keras.layers.Conv3D(1, 3, padding="same", activation="sigmoid")(h))


def _cnn_lstm(keras):
    x = keras.Input(shape=(4, 8, 8, 2), name="clips")
    h = keras.layers.TimeDistributed(keras.layers.Conv2D(3, 3, activation="relu"))(x)
    h = keras.layers.TimeDistributed(keras.layers.MaxPooling2D(2))(h)
    h = keras.layers.TimeDistributed(keras.layers.Flatten())(h)
    h = keras.layers.LSTM(5)(h)
    return keras.Model(x, keras.layers.Dense(2)(h))


def _text_classifier(keras):
    return keras.Sequential([
        keras.layers.Embedding(7, 4, input_length=8, mask_zero=True),
        keras.layers.SpatialDropout1D(0.2),
        keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True)),
        keras.layers.Bidirectional(keras.layers.LSTM(3)),
        keras.layers.Dense(3, activation="softmax"),
    ])


def _conv1d_lstm(keras):
    x = keras.Input(shape=(12,), dtype="int32", name="ids")
    h = keras.layers.Embedding(7, 4)(x)
    h = keras.layers.Conv1D(5, 3, activation="relu")(h)
    h = keras.layers.MaxPooling1D(2)(h)
    h = keras.layers.LSTM(4)(h)
    return keras.Model(x, keras.layers.Dense(2)(h))


def _seq_consumers(keras):
    """Time-major sequences from recurrent layers feeding the other families."""
    x = keras.Input(shape=(6, 3), name="x")
    a = keras.layers.LSTM(4, return_sequences=True)(x)
    b = keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True))(x)
    outs = [
        keras.layers.Flatten()(a),
        keras.layers.Conv1D(3, 2)(a),
        keras.layers.GlobalMaxPooling1D()(a),
        keras.layers.GlobalAveragePooling1D()(b),
        keras.layers.Concatenate()([a, b]),
        keras.layers.Concatenate(axis=1)([a, b]),
        keras.layers.Add()([a, b]),
        keras.layers.Concatenate()([a, x]),
        keras.layers.LayerNormalization()(a),
        keras.layers.BatchNormalization()(b),
        keras.layers.Permute((2, 1))(a),
        keras.layers.Reshape((3, 8))(a),
        keras.layers.Cropping1D((1, 2))(a),
        keras.layers.MaxPooling1D(2)(b),
        keras.layers.Dot(axes=(2, 2))([a, b]),
        keras.layers.Attention()([a, b]),
    ]
    return keras.Model(x, outs)


_models = [
    Case("seq_consumers", _seq_consumers),
    Case("stack_mixed", _stack_mixed),
    Case("conv1d_lstm", _conv1d_lstm, input_kinds=(("int", 7),)),
    Case("bi_stack_sequential", _bi_stack_sequential),
    Case("seq2seq", _seq2seq),
    Case("lstm_autoencoder", _lstm_autoencoder),
    Case("next_frame_convlstm", _next_frame),
    Case("cnn_lstm", _cnn_lstm),
    Case("text_classifier", _text_classifier, input_kinds=(("int_padded", 7),)),
]

CASES = _single + _rnn_cells + _bidirectional + _wrappers + _masks + _conv + _cudnn + _models


def _masked_gru_mean(keras):
    """A mask reaching GlobalAveragePooling1D through a time-major GRU output."""
    x = keras.Input(shape=(6,), name="ids")
    h = keras.layers.Embedding(7, 4, mask_zero=True)(x)
    h = keras.layers.GRU(5, return_sequences=True)(h)
    return keras.Model(x, keras.layers.GlobalAveragePooling1D()(h))


CASES.append(Case("mask_gru_global_average", _masked_gru_mean, input_kinds=PADDED))
