"""Shared test helpers: fixture paths, the opsets a case runs at, the one
parity harness every test uses, and the structural checks every exported
model must pass."""
from __future__ import annotations

import functools
import inspect
import os

import numpy as np
import onnx
import pytest

import bridge
import opsets
from bridge.convert import read_model
from bridge.emit import emit
from bridge.passes import run_passes
from bridge.registry import REGISTRY
from bridge.support import require_support
from bridge.validate import compare

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
CORPUS = os.environ.get("BRIDGE_CORPUS", os.path.join(HERE, "..", "..", "shared", "corpus"))

# Every opset the converter supports here.
ALL_OPSETS = list(range(opsets.MIN_OPSET, opsets.max_opset() + 1))


def _changing_opsets() -> list:
    """The opsets where what the converter emits can change: each builder
    class's (opsets/builders.py), each emitter registered from a later
    opset, and the highest one onnxruntime loads."""
    marks = {b.version for b in opsets.BUILDERS}
    marks |= {r.min_opset for name in REGISTRY.class_names() for r in REGISTRY.registrations(name)}
    return sorted({v for v in marks if v in ALL_OPSETS} | {ALL_OPSETS[-1]})


# The opsets a case runs at by default; BRIDGE_ALL_OPSETS=1 runs every one.
OPSETS = ALL_OPSETS if os.environ.get("BRIDGE_ALL_OPSETS", "") not in ("", "0") else _changing_opsets()


def at_every_opset(test):
    """A test taking `opset`, run at each of OPSETS inside one test item:
    one item per case keeps the suite's count in hand, and a failure says
    at which opset (an opset that skips does not stop the others)."""
    sig = inspect.signature(test)

    @functools.wraps(test)
    def run(*args, **kwargs):
        skips = []
        for opset in OPSETS:
            try:
                test(*args, opset=opset, **kwargs)
            except pytest.skip.Exception as e:
                skips.append(e)
            except BaseException as e:
                e.add_note(f"(at opset {opset})")
                raise
        if len(skips) == len(OPSETS):
            raise skips[0]

    run.__signature__ = sig.replace(parameters=[v for k, v in sig.parameters.items() if k != "opset"])
    return run


def keras3_fixture(folder: str, name: str, maker: str) -> tuple:
    """(path, inputs by name, outputs in order) of the Keras 3 fixture
    NAME.keras in `folder` and the NAME.npz beside it, which the script
    tests/MAKER wrote ('input:<name>' and 'output:<index>' arrays)."""
    path, npz = os.path.join(folder, name + ".keras"), os.path.join(folder, name + ".npz")
    assert os.path.exists(path) and os.path.exists(npz), (
        f"fixture for {name} missing: run python tests/{maker} --case {name}")
    data = np.load(npz)
    ins = {k.split(":", 1)[1]: data[k] for k in data.files if k.startswith("input:")}
    outs = sorted((int(k.split(":")[1]), data[k]) for k in data.files if k.startswith("output:"))
    return path, ins, [o for _, o in outs]


def fixture(case) -> tuple:
    base = os.path.join(FIXTURES, case.family, case.name)
    return base + ".h5", base + ".npz"


def assert_parity(model, inputs, expected: dict, *, rtol: float = 1e-5, by_position: bool = False,
                  context: str = ""):
    """Run `model` (path, bytes or ModelProto) with ONNX Runtime on the CPU
    and compare each output with Keras's (`expected`, by name, or in order
    when `by_position`) with bridge.validate.compare at `rtol`, atol 0.
    Fails with the parity report; returns the run's result."""
    result = bridge.run(model, inputs, provider="cpu")
    got = result.outputs
    if by_position:
        assert len(got) == len(expected), f"{len(got)} outputs, Keras gave {len(expected)}"
        got = dict(zip(expected, got.values()))
    report = compare(got, expected, rtol=rtol, atol=0.0)
    assert report.passed, f"{context}\n{report}" if context else str(report)
    return result


def convert_held_channels_first(src, opset: int) -> onnx.ModelProto:
    """`src` converted with every graph input handed to the layers held
    channels-first (Tensor.perm set, a Transpose inside the graph), so each
    emitter meets a tensor not in Keras's layout. The graph computes the
    same: its inputs and outputs keep Keras's layout."""
    model = read_model(src)
    require_support(model, opset)
    proto, _ = emit(model, opset, hold_inputs=_channels_first)
    run_passes(proto)
    return proto


def _channels_first(ctx, t):
    return ctx.channels_first(t) if t.rank >= 3 else t


def assert_fully_shaped(proto: onnx.ModelProto) -> None:
    """Every value in the graph has a dtype and a rank after shape inference."""
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    g = inferred.graph
    known = {v.name: v for v in list(g.value_info) + list(g.output) + list(g.input)}
    for node in g.node:
        for out in node.output:
            if not out:   # an optional output left out
                continue
            assert out in known, f"{node.op_type} {node.name}: output {out} has no inferred type"
            t = known[out].type.tensor_type
            assert t.HasField("shape"), f"{node.op_type} {node.name}: output {out} has no shape"


def count_ops(proto: onnx.ModelProto, op_type: str) -> int:
    return sum(1 for n in proto.graph.node if n.op_type == op_type)
