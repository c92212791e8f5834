"""LayerNormalization (every axis form, center/scale, epsilon, after
convolutions), GroupNormalization (groups, axis, -1 groups, unknown sizes),
UnitNormalization (axes)."""
from . import Case, layer_case


def _ln(**kw):
    return lambda k: k.layers.LayerNormalization(**kw)


def _gn(**kw):
    return lambda k: k.layers.GroupNormalization(**kw)


def _after_conv(name, make, shape=(5, 5, 3), conv="Conv2D"):
    """conv -> norm -> conv: the norm sees a channels-first value."""
    def build(keras):
        L = keras.layers
        inp = keras.Input(shape=shape, name="x")
        h = getattr(L, conv)(4, 3, padding="same", name="c1")(inp)
        h = make(keras)(h)
        return keras.Model(inp, getattr(L, conv)(3, 1, name="c2")(h), name=name)
    return Case(name=name, build=build)


def _after_conv_dense(name, make):
    """conv -> norm -> Dense (ConvNeXt's block pattern)."""
    def build(keras):
        L = keras.layers
        inp = keras.Input(shape=(5, 5, 3), name="x")
        h = L.Conv2D(4, 3, padding="same", name="c1")(inp)
        h = make(keras)(h)
        return keras.Model(inp, L.Dense(3, name="d")(h), name=name)
    return Case(name=name, build=build)


CASES = [
    # LayerNormalization
    layer_case("ln_2d", _ln(), (6,)),
    layer_case("ln_3d", _ln(), (4, 6)),
    layer_case("ln_eps_small", _ln(epsilon=1e-6), (4, 6)),
    layer_case("ln_eps_large", _ln(epsilon=0.5), (4, 6)),
    layer_case("ln_no_center", _ln(center=False), (4, 6)),
    layer_case("ln_no_scale", _ln(scale=False), (4, 6)),
    layer_case("ln_no_center_no_scale", _ln(center=False, scale=False), (4, 6)),
    layer_case("ln_axes_trailing", _ln(axis=[1, 2]), (3, 4, 5)),
    layer_case("ln_axes_negative", _ln(axis=[-2, -1]), (3, 4, 5)),
    layer_case("ln_axis_middle", _ln(axis=1), (3, 4, 5)),
    layer_case("ln_axes_unsorted", _ln(axis=[3, 1]), (3, 4, 5)),
    layer_case("ln_axes_gap", _ln(axis=[1, 3], center=False), (3, 4, 5)),
    layer_case("ln_axes_all_unsorted", _ln(axis=[2, 1, 3], epsilon=1e-5), (3, 4, 5)),
    layer_case("ln_unknown_length", _ln(), (None, 6)),
    _after_conv("ln_conv_channels", _ln(epsilon=1e-6)),
    _after_conv("ln_conv_spatial", _ln(axis=[1, 2])),
    _after_conv("ln_conv_all", _ln(axis=[1, 2, 3], scale=False)),
    _after_conv("ln_conv1d_channels", _ln(), shape=(7, 3), conv="Conv1D"),
    _after_conv_dense("ln_conv_dense", _ln(epsilon=1e-6)),
    # GroupNormalization
    layer_case("gn_seq", _gn(groups=4), (5, 8)),
    layer_case("gn_one_group", _gn(groups=1), (5, 8)),
    layer_case("gn_instance", _gn(groups=-1), (5, 4)),
    layer_case("gn_axis1", _gn(groups=2, axis=1), (4, 5)),
    layer_case("gn_axis_middle", _gn(groups=3, axis=2, epsilon=1e-5), (4, 6, 5)),
    layer_case("gn_axis_negative2", _gn(groups=2, axis=-2), (4, 6, 5)),
    layer_case("gn_no_center_scale", _gn(groups=2, center=False, scale=False), (5, 6)),
    layer_case("gn_unknown_length", _gn(groups=2), (None, 6)),
    layer_case("gn_unknown_hw", _gn(groups=2, epsilon=0.01), (None, None, 4)),
    layer_case("gn_image", _gn(groups=3), (4, 5, 6)),
    _after_conv("gn_conv", _gn(groups=2)),
    _after_conv("gn_conv_unknown", _gn(groups=4), shape=(None, None, 3)),
    # UnitNormalization
    layer_case("unit_norm_2d", lambda k: k.layers.UnitNormalization(), (6,)),
    layer_case("unit_norm_axis1", lambda k: k.layers.UnitNormalization(axis=1), (4, 5)),
    layer_case("unit_norm_axes", lambda k: k.layers.UnitNormalization(axis=[1, 2]), (3, 4, 5)),
    _after_conv("unit_norm_conv", lambda k: k.layers.UnitNormalization()),
]
