"""Weight names declared at registration, shared by the readers and the
emitters: Keras 3 files (which store no names) are named from them, and
ctx.weight takes a name or a position in Keras's layer.weights order."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import bridge
import opsets
from bridge.context import Context
from bridge.convert import read_model
from bridge.errors import WeightsError
from bridge.readers.store import WEIGHTLESS
from bridge.registry import REGISTRY
from tests.helpers import FIXTURES

FORMATS = os.path.join(FIXTURES, "formats")


def _ctx(model):
    return Context(opsets.builder_for(13), model, 13, warn=lambda m: None)


@pytest.mark.parametrize("src", ["k3_cnn.keras", "tfk_archive.keras", "k3_legacy.h5"])
def test_position_and_name_agree_in_every_format(src):
    model = read_model(os.path.join(FORMATS, src))
    ctx = _ctx(model)
    checked = 0
    for layer in model.walk():
        names = REGISTRY.weight_names(layer.class_name, layer.config)
        if not names or layer.inner is not None:
            continue
        assert [w.short for w in layer.weights] == names, layer.name
        for i, name in enumerate(names):
            assert np.array_equal(ctx.weight(layer, i), ctx.weight(layer, name))
        checked += 1
    assert checked


def test_a_missing_weight_names_what_is_stored():
    model = read_model(os.path.join(FORMATS, "k3_cnn.keras"))
    layer = next(lyr for lyr in model.walk() if lyr.class_name == "Dense")
    ctx = _ctx(model)
    with pytest.raises(WeightsError, match=r"has no weight 5 \(stored: \[0\] kernel \(3, 4\), \[1\] bias \(4,\)\)"):
        ctx.weight(layer, 5)
    with pytest.raises(WeightsError, match=r"has no 'gamma' weight \(stored: \[0\] kernel \(3, 4\), "
                       r"\[1\] bias \(4,\)\)"):
        ctx.weight(layer, "gamma")


def test_weightless_classes_declare_no_weights():
    """The readers' list of classes without weights and the registrations agree."""
    for cls in sorted(WEIGHTLESS):
        if cls in REGISTRY:
            assert REGISTRY.weight_names(cls, {}) == [], cls


def _keras3_archive(path, layer_cls: str, arrays: list) -> None:
    """A minimal Keras 3 .keras archive: Input -> one layer of `layer_cls`
    whose variables are `arrays` (the layout Keras 3's saving writes)."""
    import h5py
    config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 3],
                                                "dtype": "float32"}},
        {"class_name": layer_cls, "config": {"name": "custom"}}]}}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        g = f.create_group(f"layers/{layer_cls.lower()}/vars")
        for i, a in enumerate(arrays):
            g.create_dataset(str(i), data=a)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        z.writestr("model.weights.h5", buf.getvalue())


def test_a_custom_layer_declares_its_weight_names(tmp_path):
    """Keras 3 stores a custom layer's variables unnamed: declared names name them."""
    path = tmp_path / "custom.keras"
    gamma, beta = np.arange(3, dtype=np.float32), np.ones(3, np.float32)
    _keras3_archive(path, "Affine3", [gamma, beta])
    seen = {}

    @bridge.register("Affine3", weights=("gamma", "beta"))
    def affine(layer, inputs, ctx):
        seen["gamma"] = ctx.weight(layer, "gamma")
        seen["beta"] = ctx.weight(layer, 1)
        x = inputs[0]
        y = ctx.g.op("Add", ctx.g.op("Mul", x.name, ctx.const(seen["gamma"], "gamma")),
                     ctx.const(seen["beta"], "beta"))
        return [x.like(y)]

    try:
        model = read_model(path)
        assert [w.short for w in model.layer("custom").weights] == ["gamma", "beta"]
        bridge.to_onnx(path)
        assert np.array_equal(seen["gamma"], gamma) and np.array_equal(seen["beta"], beta)
    finally:
        REGISTRY.unregister("Affine3")
    model = read_model(path)            # undeclared: named by position
    assert [w.short for w in model.layer("custom").weights] == ["var_0", "var_1"]
