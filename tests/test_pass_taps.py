"""The graph passes keep the layer map honest: every layer output the
exported file still names (its `bridge.layers` metadata, bridge/taps.py)
holds what the emitted graph, before any pass, computed for that layer, in
the layout the map says. A pass that rewrites a node under the same name
(a Conv with the next BatchNormalization folded into it, a Flatten whose
rows are read in another order, a reduction that now keeps its dims) must
give it a new name, or `bridge check --layers` would compare the wrong
values.

One fixture per kind of rewrite, run at the opset that enables it; both
graphs run in ONNX Runtime on the fixture's inputs (the emitted graph is
the reference the rewrite must keep, as in tests/pass_cases.py).
"""
import copy
import os

import onnxruntime as ort
import pytest
from onnx import helper

import bridge
from bridge.convert import read_model
from bridge.emit import emit
from bridge.taps import TapRecorder, read_taps
from bridge.validate import compare, load_reference
from tests.helpers import FIXTURES

CASES = [
    # (fixture, opset, what it exercises)
    ("layer_check/cnn.h5", 17, "BatchNormalization into Conv, zero pad into MaxPool"),
    ("layer_check/squeeze_excite_k3.keras", 17, "SE block: keepdims pooling, Transposes cancelled"),
    ("layer_check/ops.h5", 17, "per-channel constants into Gemm"),
    ("layer_check/multi.h5", 17, "recurrent and TimeDistributed layers"),
    ("reshaping/conv_flatten_dense.h5", 17, "Flatten's order moved into the Dense kernel"),
    ("core/dense_4d.h5", 17, "Dense on a feature map as a 1x1 Conv"),
    ("keras3/ln_conv_channels.keras", 17, "LayerNormalization over channels on axis 1"),
    ("keras3/mha_self.keras", 17, "attention through Einsum subscripts"),
    ("tfops/tfop_hard_swish.h5", 17, "HardSigmoid / HardSwish fusion"),
    ("activations/activation_gelu.h5", 20, "Gelu fusion"),
    ("libraries/kcv/kcv_levit.h5", 17, "BatchNormalization into MatMul, attention"),
    ("libraries/kcv/kcv_patch_conv.h5", 17, "patch embedding as a MatMul"),
    ("libraries/kcv/kcv_swinv2.h5", 17, "windowed attention, LayerNormalization"),
]


def _values(model, names, inputs):
    m = copy.deepcopy(model)
    have = {o.name for o in m.graph.output}
    m.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in names if n not in have)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    feed = {i.name: inputs[i.name] for i in sess.get_inputs()}
    return dict(zip(names, sess.run(names, feed)))


@pytest.mark.parametrize("fixture, opset, what", CASES, ids=[c[0].split("/")[-1] for c in CASES])
def test_named_layer_outputs_hold_the_emitted_values(fixture, opset, what):
    src = os.path.join(FIXTURES, fixture)
    inputs, _ = load_reference(os.path.splitext(src)[0] + ".npz")
    recorder = TapRecorder()
    emitted, _ = emit(read_model(src), opset, taps=recorder)
    exported = bridge.to_onnx(src, opset=opset)
    before = {t.path: t for t in recorder.taps}
    pairs = [(f"{t.path}:{k}", o, before[t.path].outputs[k])
             for t in read_taps(exported) for k, o in enumerate(t.outputs) if o is not None]
    assert all(now.perm == was.perm for _, now, was in pairs)      # in the layout emitted
    got = _values(exported, sorted({now.value for _, now, _ in pairs}), inputs)
    want = _values(emitted, sorted({was.value for _, _, was in pairs}), inputs)
    report = compare({label: got[now.value] for label, now, _ in pairs},
                     {label: want[was.value] for label, _, was in pairs}, rtol=1e-5, atol=0.0)
    assert report.passed, f"{what}\n{report}"
    assert pairs, "the map names no layer output: the check would be vacuous"
