"""Shared test helpers: fixture paths, opsets, and the structural checks
every exported model must pass."""
from __future__ import annotations

import os

import onnx

import opsets
from bridge import targets

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
# Every opset the default target (ONNX Runtime on every platform) reads.
OPSETS = list(range(opsets.MIN_OPSET, min(opsets.max_opset(), targets.get(None).max_opset) + 1))
CORPUS = os.environ.get("BRIDGE_CORPUS", os.path.join(HERE, "..", "..", "shared", "corpus"))


def fixture(case) -> tuple:
    base = os.path.join(FIXTURES, case.family, case.name)
    return base + ".h5", base + ".npz"


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
