"""KerasHub layers (keras-hub 0.32.0 on Keras 3.15, the TensorFlow backend):
the transformer blocks with every mask they take (Keras masks from a
mask_zero embedding, explicit padding and attention masks, the decoder's
causal mask, cross-attention with its own masks), normalize_first, the
position layers (learned, sine, rotary with each rope_type, start_index,
unknown sequence lengths), ReversibleEmbedding called forward and in reverse
(tied, untied, logit_soft_cap), MaskedLMHead (own kernel, tied to an
embedding) and FNetEncoder.

Builders get the `keras` module and import keras_hub themselves, so reading
this table imports neither; tests/make_keras_hub_fixtures.py builds them.
Input kinds: "float"; ("int", high); ("ids", high): token ids whose rows end
in a run of padding zeros (row 0 unpadded); ("keep", steps): a 0/1 int padding
mask of that form (1 = keep); ("pos", steps): int positions into a sequence.
"""
from . import Case

IDS = ("ids", 20)

# Files Keras 3.15 itself cannot load again, and why; their expected values
# are the predict() of the model that wrote them.
NO_RELOAD = {
    "hub_bert_like": "the head's tied token_embedding is stored once, in the "
                     "TokenAndPositionEmbedding, and load_model finds none for the head",
}


def _hub():
    import keras_hub
    return keras_hub


def _single(name, make, shape=(6, 8), kinds=("float",), call=None, rtol=1e-5):
    """Input(shape) -> make(keras, hub)(x, **call) -> output."""
    def build(keras):
        x = keras.Input(shape=shape, name="x")
        return keras.Model(x, make(keras, _hub())(x, **(call or {})), name=name)
    return Case(name=name, build=build, input_kinds=kinds, rtol=rtol)


def _encoder_padding(keras):
    hub = _hub()
    x = keras.Input(shape=(6, 8), name="x")
    keep = keras.Input(shape=(6,), dtype="int32", name="keep")
    return keras.Model([x, keep], hub.layers.TransformerEncoder(16, 2)(x, padding_mask=keep))


def _encoder_attention_mask(keras):
    hub = _hub()
    x = keras.Input(shape=(5, 8), name="x")
    keep = keras.Input(shape=(5,), dtype="int32", name="keep")
    att = keras.Input(shape=(5, 5), dtype="int32", name="att")
    enc = hub.layers.TransformerEncoder(12, 4, activation="gelu", normalize_first=True)
    return keras.Model([x, keep, att], [enc(x, attention_mask=att),
                                        enc(x, padding_mask=keep, attention_mask=att)])


def _text_encoder(keras):
    """ids -> TokenAndPositionEmbedding(mask_zero) -> two encoders -> pooled
    logits: the Keras mask reaches both attention layers (query and value)."""
    hub = _hub()
    ids = keras.Input(shape=(7,), dtype="int32", name="ids")
    h = hub.layers.TokenAndPositionEmbedding(20, 7, 8, mask_zero=True)(ids)
    h = hub.layers.TransformerEncoder(16, 2)(h)
    h = hub.layers.TransformerEncoder(16, 2, normalize_first=True, layer_norm_epsilon=1e-3)(h)
    return keras.Model(ids, [h, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(h))])


def _mask_and_padding(keras):
    """A Keras mask (mask_zero) and an explicit padding_mask that differs:
    the padding mask builds the attention mask, the Keras mask still reaches
    the attention as its query and value masks."""
    hub = _hub()
    ids = keras.Input(shape=(6,), dtype="int32", name="ids")
    keep = keras.Input(shape=(6,), dtype="int32", name="keep")
    h = hub.layers.TokenAndPositionEmbedding(20, 6, 8, mask_zero=True)(ids)
    return keras.Model([ids, keep], hub.layers.TransformerEncoder(16, 2)(h, padding_mask=keep))


def _decoder(name, causal=True, cross=False, masks=False, **cfg):
    def build(keras):
        hub = _hub()
        x = keras.Input(shape=(6, 8), name="x")
        ins, kw = [x], {"use_causal_mask": causal}
        if masks:
            keep = keras.Input(shape=(6,), dtype="int32", name="keep")
            att = keras.Input(shape=(6, 6), dtype="int32", name="att")
            ins += [keep, att]
            kw.update(decoder_padding_mask=keep, decoder_attention_mask=att)
        args = [x]
        if cross:
            enc = keras.Input(shape=(5, 8), name="enc")
            ins.append(enc)
            args.append(enc)
            if masks:
                ekeep = keras.Input(shape=(5,), dtype="int32", name="ekeep")
                ins.append(ekeep)
                kw["encoder_padding_mask"] = ekeep
        return keras.Model(ins, hub.layers.TransformerDecoder(16, 2, **cfg)(*args, **kw), name=name)
    kinds = ["float"] + ([("keep", 6), ("int", 2)] if masks else [])
    if cross:
        kinds += ["float"] + ([("keep", 5)] if masks else [])
    return Case(name=name, build=build, input_kinds=tuple(kinds))


def _seq2seq(keras):
    """Encoder ids and decoder ids, each embedded with mask_zero: the decoder
    masks its self-attention with its own Keras mask and the causal mask, the
    cross-attention with the encoder's Keras mask."""
    hub = _hub()
    src = keras.Input(shape=(6,), dtype="int32", name="src")
    tgt = keras.Input(shape=(5,), dtype="int32", name="tgt")
    e = hub.layers.TokenAndPositionEmbedding(20, 6, 8, mask_zero=True)(src)
    e = hub.layers.TransformerEncoder(16, 2)(e)
    d = hub.layers.TokenAndPositionEmbedding(20, 5, 8, mask_zero=True, tie_weights=False)(tgt)
    d = hub.layers.TransformerDecoder(16, 2)(d, e)
    d = hub.layers.TransformerDecoder(16, 2, normalize_first=True, activation="gelu")(d, e)
    return keras.Model([src, tgt], keras.layers.Dense(20)(d))


def _positions(keras):
    """Position layers added to their input, at start_index 0 and 2, on a
    sequence shorter than the learned table."""
    hub = _hub()
    x = keras.Input(shape=(5, 8), name="x")
    pe = hub.layers.PositionEmbedding(sequence_length=9)
    sine = hub.layers.SinePositionEncoding(max_wavelength=1000)
    return keras.Model(x, [x + pe(x), pe(x, start_index=2), x + sine(x), sine(x, start_index=3)])


def _positions_dynamic(keras):
    """The same on a sequence of unknown length (the learned table sliced at run time)."""
    hub = _hub()
    x = keras.Input(shape=(None, 6), name="x")
    pe = hub.layers.PositionEmbedding(sequence_length=8)
    return keras.Model(x, [x + pe(x), hub.layers.SinePositionEncoding()(x),
                           hub.layers.RotaryEmbedding()(x)])


def _rotary(name, shape=(6, 2, 8), **cfg):
    def make(keras, hub):
        return hub.layers.RotaryEmbedding(**cfg)
    return _single(name, make, shape=shape)


def _rotary_start(keras):
    hub = _hub()
    x = keras.Input(shape=(5, 8), name="x")
    rot = hub.layers.RotaryEmbedding(max_wavelength=100)
    return keras.Model(x, [rot(x), rot(x, start_index=3)])


def _rotary_positions(keras):
    hub = _hub()
    x = keras.Input(shape=(5, 8), name="x")
    pos = keras.Input(shape=(5,), dtype="int32", name="pos")
    return keras.Model([x, pos], hub.layers.RotaryEmbedding(scaling_factor=2.0)(x, positions=pos))


def _reversible(name, **cfg):
    """ids -> ReversibleEmbedding -> Dense -> the same layer with reverse=True."""
    def build(keras):
        hub = _hub()
        ids = keras.Input(shape=(6,), dtype="int32", name="ids")
        emb = hub.layers.ReversibleEmbedding(20, 8, **cfg)
        h = keras.layers.Dense(8, activation="tanh")(emb(ids))
        return keras.Model(ids, [emb(h, reverse=True), h], name=name)
    return Case(name=name, build=build, input_kinds=(("int", 20),))


def _reversible_core(keras):
    """keras.layers.ReversibleEmbedding (the Keras 3 built-in KerasHub now uses)."""
    ids = keras.Input(shape=(6,), dtype="int32", name="ids")
    emb = keras.layers.ReversibleEmbedding(20, 8, tie_weights=False)
    return keras.Model(ids, emb(keras.layers.LayerNormalization()(emb(ids)), reverse=True))


def _mlm_head(tied):
    def build(keras):
        hub = _hub()
        ids = keras.Input(shape=(7,), dtype="int32", name="ids")
        pos = keras.Input(shape=(3,), dtype="int32", name="pos")
        emb = hub.layers.ReversibleEmbedding(20, 8)
        h = hub.layers.TransformerEncoder(16, 2)(emb(ids))
        if tied:
            head = hub.layers.MaskedLMHead(token_embedding=emb, intermediate_activation="gelu")
        else:
            head = hub.layers.MaskedLMHead(vocabulary_size=20, activation="tanh",
                                           layer_norm_epsilon=1e-3)
        return keras.Model([ids, pos], head(h, mask_positions=pos))
    return build


def _bert_like(keras):
    """The KerasHub BERT pattern: the head tied to the token embedding inside
    a TokenAndPositionEmbedding (stored there, not in the head)."""
    hub = _hub()
    ids = keras.Input(shape=(7,), dtype="int32", name="ids")
    pos = keras.Input(shape=(2,), dtype="int32", name="pos")
    emb = hub.layers.TokenAndPositionEmbedding(20, 7, 8, mask_zero=True)
    h = hub.layers.TransformerEncoder(16, 2)(emb(ids))
    head = hub.layers.MaskedLMHead(token_embedding=emb.token_embedding)
    return keras.Model([ids, pos], head(h, mask_positions=pos))


def _fnet_stack(keras):
    hub = _hub()
    ids = keras.Input(shape=(6,), dtype="int32", name="ids")
    h = hub.layers.TokenAndPositionEmbedding(20, 6, 8)(ids)
    h = hub.layers.FNetEncoder(16)(h)
    h = hub.layers.FNetEncoder(12, activation="gelu", layer_norm_epsilon=1e-3)(h)
    return keras.Model(ids, h)


def _fnet_dynamic(keras):
    hub = _hub()
    x = keras.Input(shape=(None, 6), name="x")
    return keras.Model(x, hub.layers.FNetEncoder(10)(x))


CASES = [
    _single("hub_encoder", lambda k, hub: hub.layers.TransformerEncoder(16, 2)),
    _single("hub_encoder_norm_first", lambda k, hub: hub.layers.TransformerEncoder(
        12, 4, activation="gelu", normalize_first=True, layer_norm_epsilon=1e-3), shape=(5, 8)),
    _single("hub_encoder_dynamic", lambda k, hub: hub.layers.TransformerEncoder(16, 2),
            shape=(None, 8)),
    Case("hub_encoder_padding_mask", _encoder_padding, input_kinds=("float", ("keep", 6))),
    Case("hub_encoder_attention_mask", _encoder_attention_mask,
         input_kinds=("float", ("keep", 5), ("int", 2))),
    Case("hub_text_encoder", _text_encoder, input_kinds=(IDS,)),
    Case("hub_encoder_mask_and_padding", _mask_and_padding, input_kinds=(IDS, ("keep", 6))),
    _decoder("hub_decoder_causal"),
    _decoder("hub_decoder_not_causal", causal=False),
    _decoder("hub_decoder_masks", masks=True, normalize_first=True),
    _decoder("hub_decoder_cross", cross=True),
    _decoder("hub_decoder_cross_masks", cross=True, masks=True, activation="gelu"),
    Case("hub_seq2seq", _seq2seq, input_kinds=(IDS, IDS)),
    Case("hub_positions", _positions),
    Case("hub_positions_dynamic", _positions_dynamic),
    _single("hub_sine_odd", lambda k, hub: hub.layers.SinePositionEncoding(), shape=(4, 7)),
    _rotary("hub_rotary"),
    _rotary("hub_rotary_linear_scaled", scaling_factor=4.0, max_wavelength=500),
    _rotary("hub_rotary_dynamic", rope_type="dynamic", scaling_factor=2.0),
    _rotary("hub_rotary_yarn", rope_type="yarn", scaling_factor=4.0,
            original_max_position_embeddings=64, shape=(6, 16)),
    _rotary("hub_rotary_yarn_no_truncate", rope_type="yarn", scaling_factor=3.0, truncate=False,
            beta_fast=8.0, original_max_position_embeddings=128, shape=(6, 2, 16)),
    _rotary("hub_rotary_axes", sequence_axis=2, feature_axis=1, shape=(8, 6, 3)),
    _rotary("hub_rotary_denominator", denominator_dim=16, shape=(6, 8)),
    Case("hub_rotary_start_index", _rotary_start),
    Case("hub_rotary_positions", _rotary_positions, input_kinds=("float", ("pos", 9))),
    _reversible("hub_reversible_tied"),
    _reversible("hub_reversible_untied", tie_weights=False),
    _reversible("hub_reversible_soft_cap", logit_soft_cap=2.0),
    Case("hub_reversible_core", _reversible_core, input_kinds=(("int", 20),)),
    Case("hub_mlm_head", _mlm_head(False), input_kinds=(("int", 20), ("pos", 7))),
    Case("hub_mlm_head_tied", _mlm_head(True), input_kinds=(("int", 20), ("pos", 7))),
    Case("hub_bert_like", _bert_like, input_kinds=(IDS, ("pos", 4))),
    _single("hub_fnet", lambda k, hub: hub.layers.FNetEncoder(16)),
    Case("hub_fnet_stack", _fnet_stack, input_kinds=(("int", 20),)),
    Case("hub_fnet_dynamic", _fnet_dynamic),
]
