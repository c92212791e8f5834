"""bridge check --layers: every layer's output against Keras's, and the first
layer that diverges named.

The models are tests/cases/layer_check.py, saved by tf-keras (.h5) and by
Keras 3 (.keras) with references Keras computed, layer outputs included
(tests/make_layer_fixtures.py). Each converts correctly with no divergence;
then, per WRONG entry, one emitter is replaced by a slightly wrong one
(bridge.register(..., replace=True)) and the check, by the API, the command
line and the command line in another process (where that emitter is not
registered), must name exactly the first layer of that class.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

import bridge
from bridge import REGISTRY, cli
from bridge.errors import DependencyError, OptionError
from bridge.probe import layer_values, split_label
from bridge.taps import LAYERS_KEY, read_taps
from bridge.validate import DIVERGES, OK
from tests.cases.layer_check import CASES, WRONG
from tests.helpers import FIXTURES

FOLDER = os.path.join(FIXTURES, "layer_check")
FORMATS = [("h5", ""), ("keras", "_k3")]


def files(case: str, fmt: str) -> tuple:
    suffix = dict(FORMATS)[fmt]
    stem = os.path.join(FOLDER, case + suffix)
    return stem + "." + fmt, stem + ".npz"


@contextlib.contextmanager
def wrong_emitter(class_name: str, output: int = 0):
    """The class's emitter, with output `output` times 1.001, while inside."""
    saved = list(REGISTRY._by_class[class_name])
    right = REGISTRY.lookup(class_name, 17)

    # in the layout the right one declared: it is handed what it expects
    @bridge.register(class_name, replace=True, layout=right.layout)
    def wrong(layer, inputs, ctx):
        outs = list(right.fn(layer, inputs, ctx))
        y = outs[output]
        outs[output] = y.like(ctx.g.op("Mul", y.name, ctx.const(np.float32(1.001), "wrong")))
        return outs
    try:
        yield
    finally:
        REGISTRY._by_class[class_name] = saved


def run_cli(*args) -> tuple:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = cli.main(list(args))
    return rc, out.getvalue()


def divergence_line(text: str):
    return next((line for line in text.splitlines() if line.startswith("first divergence:")), None)


@pytest.mark.parametrize("fmt", [f for f, _ in FORMATS])
@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_correct_conversion_has_no_divergence(case, fmt, tmp_path):
    src, ref = files(case, fmt)
    out = str(tmp_path / "m.onnx")
    bridge.to_onnx(src, out)
    report = bridge.check(src, out, ref, layers=True)
    assert report.passed and report.first_divergence is None, str(report)
    assert all(r.status == OK for r in report.layers), str(report)
    # every layer has its reference and its value: nothing is skipped silently
    assert {r.path for r in report.layers} == {split_label(k[len("layer:"):])[0]
                                                for k in np.load(ref).files if k.startswith("layer:")}
    rc, text = run_cli("check", src, out, "--reference", ref, "--layers")
    assert rc == 0 and "no layer diverges" in text, text


@pytest.mark.parametrize("fmt", [f for f, _ in FORMATS])
@pytest.mark.parametrize("case, class_name, output, expected",
                         WRONG, ids=[f"{c}-{k}-{o}" for c, k, o, _ in WRONG])
def test_wrong_emitter_is_named(case, class_name, output, expected, fmt, tmp_path):
    src, ref = files(case, fmt)
    good, bad = str(tmp_path / "good.onnx"), str(tmp_path / "bad.onnx")
    bridge.to_onnx(src, good)
    with wrong_emitter(class_name, output):
        bridge.to_onnx(src, bad)
        report = bridge.check(src, bad, ref, layers=True)
        rc, text = run_cli("check", src, bad, "--reference", ref, "--layers")
        # the good file, checked while the wrong emitter is still registered
        assert bridge.check(src, good, ref, layers=True).passed
    assert report.first_divergence == expected, str(report)
    assert not report.passed
    row = report.first_diverging_row
    # alone on Keras's inputs it is still wrong (unless it reads a later call of
    # a shared layer, which has no reference to feed it)
    assert row.class_name == class_name
    assert (not row.own.passed) if row.own is not None else any("[" in i for i in row.inputs)
    # layers downstream are above the tolerance through their inputs only, unless
    # they hold the wrong one (a nested model, a wrapper), are of its class, or
    # read a later call of a shared layer
    later = [r for r in report.layers if r.index > row.index and r.status == DIVERGES]
    assert all(r.class_name in (class_name, "Functional", "Sequential")
               or row.path.startswith(r.path + "/")
               or any("[" in i for i in r.inputs) for r in later), str(report)
    assert rc == 1 and divergence_line(text).startswith(f"first divergence: {expected} ({class_name})")


def test_another_process_names_the_layer_from_the_file(tmp_path):
    """The emitter that made the file is not registered there: the layer
    map written into the file says where each layer's output is."""
    src, ref = files("cnn", "keras")
    bad = str(tmp_path / "bad.onnx")
    with wrong_emitter("BatchNormalization"):
        bridge.to_onnx(src, bad)
    r = subprocess.run([sys.executable, "-m", "bridge", "check", src, bad, "--reference", ref,
                        "--layers"], capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert r.returncode == 1, r.stdout + r.stderr
    assert divergence_line(r.stdout).startswith("first divergence: bn1 (BatchNormalization)")


def _drop_from_map(path: str, layer: str) -> None:
    """As a graph pass that fused `layer`'s output into the next op leaves it."""
    proto = onnx.load(path)
    taps = read_taps(proto)
    for p in proto.metadata_props:
        if p.key == LAYERS_KEY:
            items = json.loads(p.value)
            for item in items:
                if item[0] == layer:
                    item[3] = [None for _ in item[3]]
            p.value = json.dumps(items)
    assert taps
    onnx.save(proto, path)


def test_a_fused_layer_is_computed_by_converting_again(tmp_path):
    src, ref = files("cnn", "h5")
    out = str(tmp_path / "m.onnx")
    bridge.to_onnx(src, out)
    _drop_from_map(out, "c1")
    values = layer_values(src, out, {"img": np.load(ref)["input:img"]})
    assert "converted again" in values.source and "layer:c1" in values.values
    with wrong_emitter("Conv2D"):
        bridge.to_onnx(src, out)
        _drop_from_map(out, "c1")
        report = bridge.check(src, out, ref, layers=True)
    assert report.first_divergence == "c1" and "converted again" in report.layer_source


def test_a_fused_layer_of_another_converter_is_not_compared(tmp_path):
    """MODEL now converts to another graph: only what the file holds is compared."""
    src, ref = files("cnn", "h5")
    out = str(tmp_path / "m.onnx")
    with wrong_emitter("Conv2D"):
        bridge.to_onnx(src, out)
    _drop_from_map(out, "c1")
    report = bridge.check(src, out, ref, layers=True)
    rows = {r.path: r for r in report.layers}
    assert rows["c1"].status == "not in graph" and rows["bn1"].status == DIVERGES
    assert report.first_divergence == "bn1" and "not compared" in report.layer_source


def test_taps_say_where_and_how_each_layer_is_held():
    src, _ = files("multi", "h5")
    taps = {t.path: t for t in read_taps(bridge.to_onnx(src))}
    assert [len(taps["lstm"].outputs), taps["flat"].inputs, taps["cat"].inputs] == \
        [3, ("td",), ("flat", "lstm:1", "lstm:2")]
    assert taps["td/tdd"].outer_perm is not None      # the LSTM's sequence is time-major
    src, _ = files("cnn", "keras")
    taps = {t.path: t for t in read_taps(bridge.to_onnx(src))}
    assert taps["c1"].outputs[0].perm == (0, 3, 1, 2)       # held channels-first
    assert taps["logits"].outputs[0].value == "logits"      # renamed to the graph output
    src, _ = files("nested", "keras")
    taps = [t.path for t in read_taps(bridge.to_onnx(src))]
    # the nested model's layers once (its first call), before the model itself
    assert taps == ["stem", "block/ic", "block/ibn", "block/iact", "block", "gap", "head/sd1",
                    "head/sd2", "head"]


def test_json_and_plot(tmp_path):
    src, ref = files("squeeze_excite", "keras")
    out = str(tmp_path / "m.onnx")
    bridge.to_onnx(src, out)
    rc, text = run_cli("check", src, out, "--reference", ref, "--json")
    data = json.loads(text)
    assert rc == 0 and data["first_divergence"] is None and data["layers"] is None
    js = tmp_path / "r.json"
    pytest.importorskip("matplotlib")
    png = tmp_path / "errors.png"
    rc, text = run_cli("check", src, out, "--reference", ref, "--json", str(js), "--plot", str(png))
    data = json.loads(js.read_text())
    assert rc == 0 and [r["layer"] for r in data["layers"]][-1] == "project"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    src, ref = files("sequential", "h5")
    out = str(tmp_path / "m.onnx")
    bridge.to_onnx(src, out)
    report = bridge.check(src, out, ref, layers=True)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(DependencyError, match=r"keras-onnx-bridge\[plot\]"):
        report.plot(tmp_path / "e.png")
    assert not (tmp_path / "e.png").exists()
    with pytest.raises(OptionError, match="layers=True"):
        bridge.check(src, out, ref).plot(tmp_path / "e.png")


def test_layers_go_with_one_model():
    src, _ = files("sequential", "h5")
    rc, text = run_cli("check", src, src, "--layers")
    assert rc == 2 and "one model" in text


def test_without_keras_the_reference_says_what_to_install(tmp_path, monkeypatch):
    import importlib
    real = importlib.import_module

    def no_keras(name, *a, **k):
        if name.split(".")[0] in ("keras", "tf_keras"):
            raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(importlib, "import_module", no_keras)
    for fmt, package in (("h5", "tf-keras"), ("keras", "keras>=3")):
        src, _ = files("sequential", fmt)
        rc, text = run_cli("reference", src, "-o", str(tmp_path / "r.npz"), "--layers")
        assert rc == 2 and package in text and "pip install" in text, text
        assert not (tmp_path / "r.npz").exists()
    # a reference with outputs only: the layers need Keras
    src, ref = files("sequential", "h5")
    plain = tmp_path / "plain.npz"
    np.savez(plain, **{k: v for k, v in np.load(ref).items() if not k.startswith("layer:")})
    out = str(tmp_path / "m.onnx")
    bridge.to_onnx(src, out)
    with pytest.raises(DependencyError, match="has no 'layer:<name>' arrays"):
        bridge.check(src, out, plain, layers=True)


@pytest.mark.live
@pytest.mark.parametrize("fmt", [f for f, _ in FORMATS])
def test_live_keras_writes_the_same_reference(fmt, tmp_path):
    """bridge reference recomputes the fixture's arrays with the Keras that
    reads the file; a check without layer arrays computes them live."""
    pytest.importorskip("tf_keras" if fmt == "h5" else "keras")
    src, ref = files("nested", fmt)
    fixture = dict(np.load(ref).items())
    inputs = tmp_path / "in.npz"
    np.savez(inputs, **{k: v for k, v in fixture.items() if k.startswith("input:")})
    rc, text = run_cli("reference", src, "-o", str(tmp_path / "r.npz"), "--layers",
                       "--inputs", str(inputs))
    again = dict(np.load(tmp_path / "r.npz").items())
    assert rc == 0 and sorted(again) == sorted(fixture), text
    for k in fixture:
        np.testing.assert_allclose(again[k], fixture[k], rtol=1e-5, atol=1e-6)
    out = str(tmp_path / "m.onnx")
    bridge.to_onnx(src, out)
    report = bridge.check(src, out, str(inputs).replace("in.npz", "r.npz"), layers=True)
    assert report.passed
    plain = tmp_path / "plain.npz"
    np.savez(plain, **{k: v for k, v in fixture.items() if not k.startswith("layer:")})
    report = bridge.check(src, out, plain, layers=True)
    assert report.passed and "live" in report.layer_reference and len(report.layers) == 9


def _stats_and_biases(model, rng) -> None:
    """Issue 12's recipe: BatchNormalization moving statistics and every bias
    random, the rest as Keras initialized it."""
    for v in model.weights:
        name = getattr(v, "path", v.name).split("/")[-1].split(":")[0]
        if name == "moving_variance":
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        elif name in ("moving_mean", "bias"):
            v.assign(rng.normal(0.0, 0.5, v.shape).astype("float32"))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["keras", "tf_keras"])
def test_efficientnet_b0_layer_by_layer(which, tmp_path):
    """EfficientNetB0 (224x224, logits) saved by Keras 3 as .keras and by
    tf-keras as .h5: its logits within 1e-5 of Keras's, and no layer
    diverges (its squeeze-and-excitation means amplify their inputs'
    rounding up to a few 1e-6, which the check must tell from a wrong layer)."""
    keras = pytest.importorskip(which)
    if which == "keras" and not keras.__version__.startswith("3"):
        pytest.skip("needs Keras 3")
    keras.utils.set_random_seed(12)
    model = keras.applications.EfficientNetB0(weights=None, classifier_activation=None)
    _stats_and_biases(model, np.random.default_rng(12))
    src = str(tmp_path / ("effnet.keras" if which == "keras" else "effnet.h5"))
    model.save(src)
    del model
    keras.backend.clear_session()
    ref = str(tmp_path / "effnet.npz")
    bridge.make_reference(src, ref, layers=True, seed=12)
    out = str(tmp_path / "effnet.onnx")
    bridge.to_onnx(src, out)
    report = bridge.check(src, out, ref, layers=True)
    assert report.passed and report.outputs[0].rel <= 1e-5, str(report)
    assert len(report.layers) == 239 and all(r.compared for r in report.layers)
