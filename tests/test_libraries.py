"""Models made with QKeras, the TensorFlow Model Optimization toolkit and Larq,
converted without those libraries, at every supported opset, against what
the library's own predict() computed (fixtures from
tests/make_library_fixtures.py)."""
import os
import sys

import pytest

import bridge
from bridge.validate import compare, load_reference
from tests.cases.libraries import CASES
from tests.helpers import at_every_opset, FIXTURES, OPSETS, assert_fully_shaped, count_ops


def _paths(case):
    base = os.path.join(FIXTURES, case.family, case.name)
    return base + ".h5", base + ".npz"


@at_every_opset
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.library}/{c.name}")
def test_library_parity(case, opset):
    h5, npz = _paths(case)
    assert os.path.exists(h5) and os.path.exists(npz), (
        f"fixture for {case.name} missing: run tests/make_library_fixtures.py --case {case.name}")
    proto = bridge.to_onnx(h5, opset=opset)
    ins, outs = load_reference(npz)
    result = bridge.run(proto, ins, provider="cpu")
    report = compare(result.outputs, outs, rtol=case.rtol, atol=0.0)
    assert report.passed, str(report)
    if opset == OPSETS[-1]:
        assert_fully_shaped(proto)


@at_every_opset
@pytest.mark.parametrize("case", [c for c in CASES if c.archive], ids=lambda c: f"{c.library}/{c.name}")
def test_library_parity_keras_archive(case, opset):
    """The same models saved by tf-keras as .keras archives, whose variables
    are stored by position only."""
    h5, npz = _paths(case)
    path = h5[:-3] + ".keras"
    assert os.path.exists(path), f"run tests/make_library_fixtures.py --case {case.name}"
    proto = bridge.to_onnx(path, opset=opset)
    ins, outs = load_reference(npz)
    result = bridge.run(proto, ins, provider="cpu")
    names = list(outs)
    report = compare(dict(zip(names, result.outputs.values())), outs, rtol=case.rtol, atol=0.0)
    assert report.passed, str(report)


def test_every_library_fixture_has_a_case():
    names = {(c.family, c.name) for c in CASES}
    for lib in sorted({c.library for c in CASES}):
        folder = os.path.join(FIXTURES, "libraries", lib)
        for f in os.listdir(folder):
            stem, ext = os.path.splitext(f)
            if ext in (".h5", ".keras"):
                assert (f"libraries/{lib}", stem) in names, f"fixture {lib}/{f} has no case"


def test_no_library_is_imported():
    """The converter reads these files without the libraries: importing their
    emitters imports none of them."""
    import bridge.emitters.libraries  # noqa: F401
    for name in ("qkeras", "larq", "tensorflow_model_optimization"):
        assert name not in sys.modules, name


def test_quantizers_use_quantize_linear():
    """Power-of-two uniform quantizers of 8 bits or fewer become
    QuantizeLinear/DequantizeLinear pairs: five of qrelu's eight (not the two
    sigmoid-based ones, nor the 10-bit one)."""
    case = next(c for c in CASES if c.name == "qrelu")
    proto = bridge.to_onnx(_paths(case)[0], opset=17)
    assert count_ops(proto, "QuantizeLinear") == count_ops(proto, "DequantizeLinear") == 5


def _edited(tmp_path, case_name, layer_name, edit):
    """A copy of a fixture whose layer `layer_name` config went through `edit`."""
    import json
    import shutil

    import h5py
    case = next(c for c in CASES if c.name == case_name)
    dst = tmp_path / f"{case_name}.h5"
    shutil.copy(_paths(case)[0], dst)
    with h5py.File(dst, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        layer = next(spec for spec in cfg["config"]["layers"] if spec["config"]["name"] == layer_name)
        edit(layer["config"])
        f.attrs["model_config"] = json.dumps(cfg)
    return str(dst)


def _set(key, value):
    def edit(cfg):
        cfg[key] = value
    return edit


def _quantize_config(cfg):
    cfg["quantize_config"] = {"class_name": "MyQuantizeConfig", "config": {}}


REFUSED = [
    # (case, layer, edit, words the message must hold)
    ("qbinary", "a0", _set("activation", "bernoulli"), ["'a0' (QActivation)", "bernoulli",
                                                        "random"]),
    ("qdense_bits", "d1", _set("kernel_quantizer", "quantized_bits(4,0,alpha='best')"),
     ["'d1' (QDense)", "alpha 'best'"]),
    ("qsquash", "a0", _set("activation", "quantized_gelu(4)"), ["'a0' (QActivation)",
                                                                "quantized_gelu"]),
    ("tfmot_dense", "quant_d", _quantize_config, ["'quant_d' (QuantizeWrapperV2)",
                                                  "MyQuantizeConfig", "custom QuantizeConfig"]),
    ("tfmot_cluster", "cluster_d", _set("preserve_sparsity", True), ["'cluster_d' (ClusterWeights)",
                                                                      "preserve_sparsity"]),
    ("larq_dense", "d2", _set("input_quantizer", "fancy_sign"), ["'d2' (QuantDense)", "fancy_sign"]),
]


@pytest.mark.parametrize("case_name,layer,edit,words", REFUSED, ids=[r[0] + "/" + r[1] for r in REFUSED])
def test_refused_configs_name_layer_and_problem(tmp_path, case_name, layer, edit, words):
    from bridge.errors import UnsupportedError
    path = _edited(tmp_path, case_name, layer, edit)
    with pytest.raises(UnsupportedError) as e:
        bridge.to_onnx(path, tmp_path / "out.onnx")
    msg = str(e.value)
    for w in words + [path]:
        assert w in msg, msg
    assert not (tmp_path / "out.onnx").exists()
