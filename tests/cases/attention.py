"""MultiHeadAttention (heads, key/value dims, bias, output_shape, attention
axes, masks passed in the call, causal masks, scores), Attention (dot and
concat scores, scale, causal, masks, scores), AdditiveAttention, and
EinsumDense (equations with and without ellipses, bias axes, activations,
reordered outputs, equations that need an ONNX Einsum)."""
from . import Case, layer_case

_BOOL = ("int", 2)


def _mha(name, q_shape, v_shape=None, k_shape=None, mask_shape=None, mask_dtype="bool",
         call=None, input_kinds=(), **cfg):
    """query (, value (, key)) (, attention_mask) -> MHA -> output(s)."""
    def build(keras):
        q = keras.Input(shape=q_shape, name="q")
        ins = [q]
        kw = dict(call or {})
        if v_shape is not None:
            v = keras.Input(shape=v_shape, name="v")
            ins.append(v)
        else:
            v = q
        if k_shape is not None:
            k = keras.Input(shape=k_shape, name="k")
            ins.append(k)
            kw["key"] = k
        if mask_shape is not None:
            m = keras.Input(shape=mask_shape, name="m", dtype=mask_dtype)
            ins.append(m)
            kw["attention_mask"] = m
        out = keras.layers.MultiHeadAttention(name="mha", **cfg)(q, v, **kw)
        out = _named(keras, out)
        return keras.Model(ins, out, name=name)
    kinds = input_kinds or tuple(["float"] * (1 + (v_shape is not None) + (k_shape is not None))
                                 + ([_BOOL] if mask_shape is not None else []))
    return Case(name=name, build=build, input_kinds=kinds)


def _named(keras, out):
    """(output, scores) -> [output, scores] with the scores renamed by an
    identity layer (outputs of one layer are named by position otherwise)."""
    if isinstance(out, (list, tuple)):
        return [out[0], keras.layers.Activation("linear", name="scores")(out[1])]
    return out


def _mha_two_calls(keras):
    """One MHA layer used for self-attention on two inputs."""
    a = keras.Input(shape=(4, 6), name="a")
    b = keras.Input(shape=(3, 6), name="b")
    mha = keras.layers.MultiHeadAttention(2, 3, name="mha")
    named = keras.layers.Activation("linear", name="second")
    return keras.Model([a, b], [mha(a, a), named(mha(b, a))])


def _mha_block(keras):
    """A pre-norm transformer encoder block on a sequence of unknown length."""
    L = keras.layers
    x = keras.Input(shape=(None, 8), name="x")
    h = L.LayerNormalization(epsilon=1e-6)(x)
    h = L.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(h, h, use_causal_mask=True)
    x1 = L.Add()([x, h])
    h = L.LayerNormalization(epsilon=1e-6)(x1)
    h = L.Dense(16, activation="gelu")(h)
    h = L.Dense(8)(h)
    return keras.Model(x, L.Add()([x1, h]))


def _embedded(name, attention, cross=False):
    """Token ids -> Embedding(mask_zero=True) -> attention: the Keras masks of
    the query and value take part (ids 0 are padding)."""
    def build(keras):
        L = keras.layers
        a = keras.Input(shape=(6,), name="a", dtype="int32")
        ins = [a]
        q = L.Embedding(7, 8, mask_zero=True, name="emb_a")(a)
        v = q
        if cross:
            b = keras.Input(shape=(5,), name="b", dtype="int32")
            ins.append(b)
            v = L.Embedding(7, 8, mask_zero=True, name="emb_b")(b)
        if attention == "mha":
            out = L.MultiHeadAttention(2, 4, name="mha")(q, v)
        else:
            out = getattr(L, attention)(name="att")([q, v])
        return keras.Model(ins, out, name=name)
    return Case(name=name, build=build, input_kinds=(("int", 4),) * (2 if cross else 1))


def _att(name, cls="Attention", shapes=((4, 5), (6, 5)), call=None, masks=False, **cfg):
    """[query, value(, key)] (+ mask=[query_mask, value_mask]) -> Attention."""
    def build(keras):
        ins = [keras.Input(shape=s, name=n) for s, n in zip(shapes, "qvk")]
        kw = dict(call or {})
        extra = []
        if masks:
            qm = keras.Input(shape=shapes[0][:1], name="qm", dtype="bool")
            vm = keras.Input(shape=shapes[1][:1], name="vm", dtype="bool")
            kw["mask"] = [qm, vm]
            extra = [qm, vm]
        out = getattr(keras.layers, cls)(name="att", **cfg)(ins, **kw)
        out = _named(keras, out)
        return keras.Model(ins + extra, out, name=name)
    kinds = tuple(["float"] * len(shapes) + ([_BOOL, _BOOL] if masks else []))
    return Case(name=name, build=build, input_kinds=kinds)


def _ed(eq, out, **kw):
    return lambda k: k.layers.EinsumDense(eq, output_shape=out, **kw)


def _ed_after_conv(keras):
    L = keras.layers
    x = keras.Input(shape=(4, 4, 3), name="x")
    h = L.Conv2D(5, 3, padding="same", name="c")(x)
    h = L.EinsumDense("abcd,de->abce", output_shape=(4, 4, 2), bias_axes="e", name="ed")(h)
    return keras.Model(x, L.Conv2D(2, 1, name="c2")(h))


CASES = [
    # MultiHeadAttention
    _mha("mha_self", (5, 6), num_heads=2, key_dim=4),
    _mha("mha_cross", (4, 6), (5, 6), num_heads=3, key_dim=2),
    _mha("mha_key", (4, 6), (5, 6), (5, 3), num_heads=2, key_dim=3),
    _mha("mha_value_dim", (4, 6), (5, 6), num_heads=2, key_dim=4, value_dim=3),
    _mha("mha_no_bias", (4, 6), (5, 6), num_heads=2, key_dim=3, use_bias=False),
    _mha("mha_output_shape", (4, 6), (5, 6), num_heads=2, key_dim=3, output_shape=7),
    _mha("mha_output_shape_2d", (4, 6), num_heads=2, key_dim=3, output_shape=[2, 3]),
    _mha("mha_scores", (4, 6), (5, 6), num_heads=2, key_dim=3,
         call={"return_attention_scores": True}),
    _mha("mha_mask", (4, 6), (5, 6), mask_shape=(4, 5), num_heads=2, key_dim=3),
    _mha("mha_mask_float", (4, 6), (5, 6), mask_shape=(4, 5), mask_dtype="float32",
         num_heads=2, key_dim=3),
    _mha("mha_mask_broadcast", (4, 6), (5, 6), mask_shape=(1, 5), num_heads=2, key_dim=3),
    _mha("mha_mask_robust", (4, 6), (5, 6), mask_shape=(4, 5), mask_dtype="float32",
         num_heads=2, key_dim=3, softmax_robust_masking=True),
    _mha("mha_mask_scores", (4, 6), mask_shape=(4, 4), num_heads=2, key_dim=3,
         call={"return_attention_scores": True}),
    _mha("mha_causal", (5, 6), num_heads=2, key_dim=3, call={"use_causal_mask": True}),
    _mha("mha_causal_cross", (4, 6), (6, 6), num_heads=2, key_dim=3,
         call={"use_causal_mask": True, "return_attention_scores": True}),
    _mha("mha_causal_and_mask", (5, 6), mask_shape=(5, 5), num_heads=2, key_dim=3,
         call={"use_causal_mask": True}),
    _mha("mha_causal_unknown_length", (None, 6), num_heads=2, key_dim=3,
         call={"use_causal_mask": True}),
    _mha("mha_unknown_lengths", (None, 6), (None, 6), num_heads=2, key_dim=3),
    _mha("mha_axis2", (3, 4, 6), num_heads=2, key_dim=3, attention_axes=(2,)),
    _mha("mha_axes_2d", (3, 4, 6), num_heads=2, key_dim=3, attention_axes=(1, 2),
         call={"return_attention_scores": True}),
    _mha("mha_axes_4d_default", (2, 3, 4, 6), num_heads=2, key_dim=3),
    _mha("mha_axes_unsorted_mask", (3, 4, 6), mask_shape=(4, 3, 4, 3), num_heads=2, key_dim=3,
         attention_axes=(2, 1)),
    _mha("mha_axes_negative", (3, 4, 6), (3, 4, 6), num_heads=2, key_dim=3, attention_axes=-3,
         output_shape=4),
    _mha("mha_dropout", (5, 6), num_heads=2, key_dim=4, dropout=0.5),
    Case("mha_two_calls", _mha_two_calls),
    _embedded("mha_embedding_masks", "mha"),
    _embedded("mha_embedding_masks_cross", "mha", cross=True),
    _embedded("att_embedding_masks", "Attention", cross=True),
    _embedded("add_att_embedding_masks", "AdditiveAttention"),
    Case("mha_encoder_block", _mha_block),
    # Attention / AdditiveAttention
    _att("att_dot"),
    _att("att_dot_key", shapes=((4, 5), (6, 3), (6, 5))),
    _att("att_scale", use_scale=True),
    _att("att_concat", score_mode="concat"),
    _att("att_concat_scale", score_mode="concat", use_scale=True),
    _att("att_causal", call={"use_causal_mask": True}),
    _att("att_scores", call={"return_attention_scores": True}),
    _att("att_masks", masks=True),
    _att("att_masks_causal_scores", masks=True,
         call={"use_causal_mask": True, "return_attention_scores": True}),
    _att("att_unknown_lengths", shapes=((None, 5), (None, 5)), call={"use_causal_mask": True}),
    _att("att_dropout", dropout=0.3),
    _att("add_att", cls="AdditiveAttention"),
    _att("add_att_no_scale", cls="AdditiveAttention", use_scale=False),
    _att("add_att_key_masks", cls="AdditiveAttention", shapes=((4, 5), (6, 5), (6, 5)), masks=True),
    _att("add_att_causal_scores", cls="AdditiveAttention",
         call={"use_causal_mask": True, "return_attention_scores": True}),
    # EinsumDense
    layer_case("ed_dense", _ed("ab,bc->ac", 4, bias_axes="c"), (6,)),
    layer_case("ed_no_bias", _ed("ab,bc->ac", 4), (6,)),
    layer_case("ed_seq", _ed("abc,cd->abd", (None, 4), bias_axes="d", activation="relu"), (3, 6)),
    layer_case("ed_heads", _ed("abc,cde->abde", (None, 2, 3), bias_axes="de"), (3, 6)),
    layer_case("ed_merge_heads", _ed("abcd,cde->abe", (None, 5), bias_axes="e"), (3, 2, 4)),
    layer_case("ed_ellipsis_left", _ed("...b,bc->...c", 4, bias_axes="c"), (3, 2, 5)),
    layer_case("ed_ellipsis_right", _ed("ab...,bc->ac...", (4, 3)), (5, 3)),
    layer_case("ed_reordered_out", _ed("abc,cd->adb", (4, None), bias_axes="d",
                                       activation="softmax"), (3, 6)),
    layer_case("ed_bias_partial", _ed("abc,cde->abde", (None, 2, 3), bias_axes="d"), (3, 6)),
    layer_case("ed_batched_kernel", _ed("abc,bcd->abd", (3, 4), bias_axes="bd"), (3, 6)),
    layer_case("ed_summed_input_axis", _ed("abc,cd->ad", 4, bias_axes="d"), (3, 6)),
    layer_case("ed_outer", _ed("ab,c->abc", (6, 3)), (6,)),
    Case("ed_after_conv", _ed_after_conv),
]
