"""Case tables for the graph passes (tests/test_pass_*.py): a tiny graph in,
the op types expected out, and the rewritten graph run with ONNX Runtime
against the original on the same random inputs (both are ONNX graphs; the
original is the reference the rewrite must keep).

A case is `Case(name, nodes, inputs, outputs, consts, expect)`:
  nodes    [(op, [inputs], [outputs], {attrs}), ...]
  inputs   {name: shape} (None dims are fed as 2)
  outputs  {name: rank}
  consts   {name: array}
  expect   op types of the result, in order
  positive inputs drawn >= 0 (for passes that rely on it)
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from bridge.passes import Net, prune_unused
from bridge.validate import compare


@dataclass
class Case:
    name: str
    nodes: list
    inputs: dict
    outputs: dict
    consts: dict = field(default_factory=dict)
    expect: list = field(default_factory=list)
    positive: bool = False
    opset: int = 17

    def __repr__(self):
        return self.name


def rng_array(*shape, scale=1.0, seed=0, positive=False):
    r = np.random.default_rng(seed + len(shape) + int(np.prod(shape) if shape else 1))
    a = r.uniform(0.5, 1.5, shape) if positive else r.normal(0.0, scale, shape)
    return a.astype(np.float32)


def model_of(case: Case) -> onnx.ModelProto:
    nodes = [helper.make_node(op, ins, outs, name=f"n{i}", **(attrs or {}))
             for i, (op, ins, outs, *rest) in enumerate(case.nodes) for attrs in [rest[0] if rest else {}]]
    ins = [helper.make_tensor_value_info(k, TensorProto.FLOAT, [d if d is not None else "batch" for d in s])
           for k, s in case.inputs.items()]
    outs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, [None] * r) for k, r in case.outputs.items()]
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in case.consts.items()]
    g = helper.make_graph(nodes, case.name, ins, outs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", case.opset)])
    m.ir_version = helper.find_min_ir_version_for(list(m.opset_import))
    onnx.checker.check_model(m, full_check=True)
    return m


def apply(pass_fn, model: onnx.ModelProto):
    """(rewritten model, whether the pass reported a change)."""
    net = Net.from_model(model)
    net.infer_shapes()
    changed = pass_fn(net)
    prune_unused(net)
    out = copy.deepcopy(model)
    net.write_to(out)
    return out, changed


def run(model, feed):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feed)))


def check(pass_fn, case: Case):
    """Apply the pass; the op types are as expected, the model checks, the
    outputs keep their names and values (run unoptimized by ONNX Runtime)."""
    model = model_of(case)
    out, changed = apply(pass_fn, model)
    ops = [n.op_type for n in out.graph.node]
    assert ops == case.expect, f"{case.name}: got {ops}"
    if ops != [n.op_type for n in model.graph.node]:
        assert changed, f"{case.name}: the graph changed but the pass says it did not"
    onnx.checker.check_model(out, full_check=True)
    assert [o.name for o in out.graph.output] == list(case.outputs)
    feed = {k: rng_array(*[2 if d is None else d for d in s], seed=i, positive=case.positive)
            for i, (k, s) in enumerate(case.inputs.items())}
    want, got = run(model, feed), run(out, feed)
    report = compare(got, want, rtol=1e-6, atol=0.0)
    assert report.passed, f"{case.name}\n{report}"
    return out
