"""keras-cv-attention-models (kecam) layers, as the library saves them with
tf-keras (its TensorFlow backend: TF_USE_LEGACY_KERAS=1, .h5): each layer
alone with its options (axis, use_bias, num_tokens, is_at_end, fused or not
fused height and width, with and without class token, attn_height,
query blocks != key blocks), then small models built by the library's own
model functions (ResMLP, VOLO, BEiT, LeViT with the layers inside their
blocks); levit>MultiHeadPositionalEmbedding and the library's own activation
functions (kecamCommon>hard_swish, ...) too, which its LeViT, EfficientFormer,
TinyViT and GhostNetV2 use; and Swin Transformer V2's ExpLogitScale,
MlpPairwisePositionalEmbedding and WindowAttentionMask; EdgeNeXt's
PositionalEncodingFourier; NFNets' ZeroInitGain (CAFormer uses it).

Builders get the tf-keras module and import keras_cv_attention_models
themselves; tests/make_kcv_fixtures.py builds them.
"""
from . import Case


def _kcv(module):
    import importlib
    return importlib.import_module(f"keras_cv_attention_models.{module}")


def _layer(name, module, cls, shape, rtol=1e-5, **cfg):
    def build(keras):
        x = keras.Input(shape=shape, name="x")
        layer = getattr(_kcv(module), cls)(**cfg)
        return keras.Model(x, layer(x), name=name)
    return Case(name=name, build=build, rtol=rtol)


def _affine_after_conv(keras):
    """ChannelAffine on a conv output (the converter keeps it channels-first)."""
    m = _kcv("mlp_family.res_mlp")
    x = keras.Input(shape=(6, 6, 3), name="x")
    h = keras.layers.Conv2D(4, 3, name="conv")(x)
    h = m.ChannelAffine(name="affine")(h)
    return keras.Model(x, keras.layers.Conv2D(2, 1, name="head")(h))


def _rel_pos(name, heads, q, k, **cfg):
    """(batch, heads, q blocks, k blocks) attention scores -> + relative bias."""
    def build(keras):
        x = keras.Input(shape=(heads, q, k), name="x")
        layer = _kcv("beit.beit").MultiHeadRelativePositionalEmbedding(**cfg)
        return keras.Model(x, layer(x), name=name)
    return Case(name=name, build=build)


def _patch_conv(keras):
    m = _kcv("beit.beit")
    x = keras.Input(shape=(16, 16, 3), name="x")
    h = m.PatchConv2DWithResampleWeights(8, 4, strides=4, name="stem_conv")(x)
    return keras.Model(x, keras.layers.Flatten()(h))


def _resmlp(keras):
    from keras_cv_attention_models.mlp_family.res_mlp import ResMLP
    return ResMLP(num_blocks=2, patch_size=8, stem_width=16, channels_mlp_dim=32,
                  input_shape=(32, 32, 3), num_classes=5, classifier_activation=None,
                  pretrained=None)


def _volo(keras):
    from keras_cv_attention_models.volo.volo import VOLO
    return VOLO(num_blocks=[1, 1], embed_dims=[16, 32], num_heads=[2, 4], mlp_ratios=[2, 2],
                stem_hidden_dim=8, input_shape=(32, 32, 3), num_classes=5, pretrained=None,
                first_attn_type="outlook")


def _beit(keras):
    from keras_cv_attention_models.beit.beit import Beit
    return Beit(depth=2, embed_dim=16, num_heads=2, patch_size=8, input_shape=(32, 32, 3),
                num_classes=5, classifier_activation=None, pretrained=None)


def _levit_pos(name, shape, **cfg):
    def build(keras):
        x = keras.Input(shape=shape, name="x")
        layer = _kcv("levit.levit").MultiHeadPositionalEmbedding(**cfg)
        return keras.Model(x, layer(x), name=name)
    return Case(name=name, build=build)


def _activations(keras):
    """The library's own activation functions, saved as 'kecamCommon>...'."""
    m = _kcv("common_layers")
    x = keras.Input(shape=(5, 4), name="x")
    outs = [keras.layers.Activation(getattr(m, f), name=f)(x)
            for f in ("hard_swish", "hard_sigmoid_torch", "mish", "phish")]
    return keras.Model(x, outs)


def _levit(keras):
    from keras_cv_attention_models.levit.levit import LeViT
    return LeViT(patch_channel=16, out_channels=[24, 32, 32], num_heads=[2, 2, 2], depthes=[1, 1, 1],
                 key_dims=[8, 8, 8], input_shape=(64, 64, 3), num_classes=5, use_distillation=True,
                 pretrained=None)


def _swin_layer(name, cls, shape, module="swin_transformer_v2.swin_transformer_v2", **cfg):
    def build(keras):
        x = keras.Input(shape=shape, name="x")
        return keras.Model(x, getattr(_kcv(module), cls)(**cfg)(x), name=name)
    return Case(name=name, build=build)


def _swinv2(keras):
    from keras_cv_attention_models.swin_transformer_v2.swin_transformer_v2 import SwinTransformerV2
    return SwinTransformerV2(num_blocks=[2, 2], num_heads=[2, 4], embed_dim=16, window_size=4,
                             input_shape=(32, 32, 3), num_classes=5, classifier_activation=None,
                             pretrained=None)


def _edgenext(keras):
    from keras_cv_attention_models.edgenext.edgenext import EdgeNeXt
    return EdgeNeXt(num_blocks=[1, 1, 2, 1], out_channels=[8, 16, 24, 32], num_heads=2,
                    num_stda_layers=[0, 1, 1, 1], stda_split=[2, 2, 3, 4],
                    stda_use_pos_emb=[False, True, False, False], input_shape=(64, 64, 3),
                    num_classes=5, classifier_activation=None, pretrained=None)


CASES = [
    _layer("kcv_channel_affine", "mlp_family.res_mlp", "ChannelAffine", (5, 8)),
    _layer("kcv_channel_affine_axis1", "mlp_family.res_mlp", "ChannelAffine", (5, 8),
           use_bias=False, weight_init_value=0.5, axis=1),
    _layer("kcv_channel_affine_4d", "mlp_family.res_mlp", "ChannelAffine", (3, 4, 6), axis=[1, 3]),
    Case("kcv_channel_affine_conv", _affine_after_conv),
    _layer("kcv_zero_init_gain", "nfnets.nfnets", "ZeroInitGain", (5, 8)),
    _layer("kcv_zero_init_gain_bias", "nfnets.nfnets", "ZeroInitGain", (3, 4, 2), use_bias=True),
    _layer("kcv_class_token", "volo.volo", "ClassToken", (6, 8)),
    _layer("kcv_class_tokens_at_end", "volo.volo", "ClassToken", (6, 8), num_tokens=2, is_at_end=True),
    _layer("kcv_positional_embedding", "volo.volo", "PositionalEmbedding", (4, 4, 8)),
    _layer("kcv_positional_embedding_fused", "volo.volo", "PositionalEmbedding", (17, 8)),
    _layer("kcv_bias_layer", "volo.volo", "BiasLayer", (5, 8)),
    _layer("kcv_bias_layer_axis1", "volo.volo", "BiasLayer", (5, 8), axis=1),
    _rel_pos("kcv_rel_pos_cls", 2, 17, 17),
    _rel_pos("kcv_rel_pos_no_cls", 3, 16, 16, with_cls_token=False),
    _rel_pos("kcv_rel_pos_height", 2, 8, 8, with_cls_token=False, attn_height=2),
    _rel_pos("kcv_rel_pos_fewer_keys", 2, 10, 5, num_heads=2),
    _levit_pos("kcv_levit_pos", (2, 16, 16)),
    _levit_pos("kcv_levit_pos_downsample", (2, 4, 16)),
    _levit_pos("kcv_levit_pos_3d", (9, 9)),
    _levit_pos("kcv_levit_pos_heights", (2, 8, 32), query_height=2, key_height=4),
    Case("kcv_activations", _activations),
    _swin_layer("kcv_exp_logit_scale", "ExpLogitScale", (2, 5, 5), axis=1),
    _swin_layer("kcv_mlp_pairwise_pos", "MlpPairwisePositionalEmbedding", (2, 16, 16), hidden_dim=8),
    _swin_layer("kcv_mlp_pairwise_pos_padded", "MlpPairwisePositionalEmbedding", (3, 17, 17),
                hidden_dim=8, attn_height=4, pos_scale=6),
    _swin_layer("kcv_mlp_pairwise_pos_absolute", "MlpPairwisePositionalEmbedding", (9, 6),
                hidden_dim=8, use_absolute_pos=True),
    Case("kcv_patch_conv", _patch_conv),
    Case("kcv_resmlp", _resmlp),
    Case("kcv_volo", _volo),
    Case("kcv_beit", _beit),
    Case("kcv_levit", _levit),
    _layer("kcv_fourier_pos", "edgenext.edgenext", "PositionalEncodingFourier", (6, 5, 8), filters=4),
    Case("kcv_edgenext", _edgenext),
    Case("kcv_swinv2", _swinv2),     # its shifted-window WindowAttentionMask too
]
