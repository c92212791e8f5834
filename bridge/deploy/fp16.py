"""float16 export: weights and arithmetic in float16, with the operations that
lose too much in 16 bits kept in float32 behind Casts.

The rewrite itself is onnxconverter-common's float16 converter: it retypes
initializers and values, keeps the ops of its block list (and named nodes)
in float32 with Casts around them, and with keep_io_types leaves the graph's
float inputs and outputs float32. What it does not get right on its own is
fixed here, before and after it runs:

- arithmetic on a constant beyond float16's range (Keras's -1e9 masks) is
  kept float32 up to the node that bounds it (_wide_range_nodes);
- an initializer read by a float32 node and by a float16 one stays float32
  for both: the float16 readers get their own copy;
- a blocked node's subgraph (Scan) reads outer initializers by name, which
  the converter would retype under it: the subgraph gets float32 copies;
- its topological sort loops on an omitted optional output (''): those are
  named while it runs;
- the model's own Cast(to=float) nodes keep their target while their outputs
  become float16: they are retargeted;
- a graph output made by a blocked node comes out float16: cast back;
- it leaves Cast(float16) -> Cast(float) pairs and one Cast of an input per
  reader: pairs are folded (never less precise than the pair), duplicates
  merged;
- Transposes feeding a MatMul stay float32: onnxruntime's CPU fusion of the
  two crashes the process on float16 (_transposes_into_matmul).

float16 keeps about 3 significant digits (unit roundoff 4.9e-4), so the
result agrees with Keras's float32 outputs to a few 1e-4 relative, not 1e-5:
validate picks its tolerance from the "bridge.precision" metadata written
here. onnxconverter-common is an optional dependency (extra 'fp16').
"""
from __future__ import annotations

import warnings

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, numpy_helper

from ..errors import DependencyError
from ..passes.outputs import name_outputs_at_source
from ..passes.prune import prune_unused
from ..dtypes import PRECISION_KEY

FP16_MAX = 65504.0

# Kept in float32 on top of the converter's own list (Resize, Range, CumSum,
# TopK, Min, Max, ...), each for a reason:
KEEP_FLOAT32 = frozenset({
    # exponentials: exp overflows float16 past 11.1
    "Exp", "Pow", "Softplus",
    # an exp and a sum over the axis
    "Softmax", "LogSoftmax",
    # sums and means over many elements
    "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum",
    "ReduceLogSumExp", "ReduceProd", "GlobalAveragePool", "GlobalLpPool",
    # statistics (mean, variance) of a normalization
    "LayerNormalization", "GroupNormalization", "InstanceNormalization",
    "MeanVarianceNormalization", "LpNormalization",
    # recurrences written out as subgraphs: the error would compound over
    # time steps, and the converter's float16 subgraphs crash onnxruntime
    "Scan", "Loop", "If",
})


def library():
    """onnxconverter_common.float16, or a DependencyError naming the extra."""
    try:
        from onnxconverter_common import float16
    except ImportError:
        raise DependencyError(
            "precision 'fp16' needs onnxconverter-common, which is not installed; install the "
            "extra: pip install 'keras-onnx-bridge[fp16]' (or pip install onnxconverter-common)"
        ) from None
    return float16


def block_list() -> frozenset:
    return frozenset(library().DEFAULT_OP_BLOCK_LIST) | KEEP_FLOAT32


def to_float16(model: onnx.ModelProto, *, keep_io_types: bool = True) -> onnx.ModelProto:
    """A float16 copy of `model` (a float32 model from the converter)."""
    f16 = library()
    model = _copy(model)
    ops = block_list()
    names = _transposes_into_matmul(model) | _wide_range_nodes(model)
    blocked = [n for n in model.graph.node if n.op_type in ops or n.name in names]
    _localize_subgraph_initializers(model, blocked)
    _split_shared_initializers(model, blocked)
    unnamed = _name_omitted_outputs(model)
    float_outputs = {o.name for o in model.graph.output
                     if o.type.tensor_type.elem_type == TensorProto.FLOAT}
    # the model's own Casts to float32 must now make float16
    casts_to_float = {n.name for n in model.graph.node if n.op_type == "Cast"
                      and _to(n) == TensorProto.FLOAT and n.name not in names}
    with warnings.catch_warnings():
        # it warns for every weight under 1e-7 it rounds up; weights beyond
        # float16's range are never converted (_wide_range_nodes)
        warnings.simplefilter("ignore")
        model = f16.convert_float_to_float16(
            model, keep_io_types=keep_io_types, op_block_list=sorted(ops),
            node_block_list=sorted(names), max_finite_val=FP16_MAX, check_fp16_ready=False)
    for n in model.graph.node:
        if n.name in casts_to_float:
            _set_to(n, TensorProto.FLOAT16)
    del model.graph.value_info[:]
    _unname_outputs(model, unnamed)
    if keep_io_types:
        _float32_outputs(model, float_outputs)
    _fold_casts(model)
    _merge_duplicate_casts(model)
    name_outputs_at_source(model)
    prune_unused(model)
    kept = [p for p in model.metadata_props if p.key != PRECISION_KEY]   # one key, float16 now
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=PRECISION_KEY, value="fp16")
    return model


# -- before the converter ------------------------------------------------------

def _copy(model):
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def _subgraphs(node):
    for a in node.attribute:
        if a.type == AttributeProto.GRAPH:
            yield a.g
        yield from a.graphs


def _graph_reads(g) -> set:
    names = set()
    for n in g.node:
        names |= {i for i in n.input if i}
        for sub in _subgraphs(n):
            names |= _graph_reads(sub)
    return names


def _rename_reads(g, old, new):
    for n in g.node:
        for k, i in enumerate(n.input):
            if i == old:
                n.input[k] = new
        for sub in _subgraphs(n):
            _rename_reads(sub, old, new)


def _transposes_into_matmul(model) -> set:
    """Transposes that feed a MatMul stay float32 (they only move data, so
    nothing is lost): onnxruntime's CPU MatmulTransposeFusion crashes the
    process on a float16 Transpose that swaps batch axes ahead of a MatMul."""
    into_matmul = {i for n in model.graph.node if n.op_type == "MatMul" for i in n.input}
    return {n.name for n in model.graph.node
            if n.op_type == "Transpose" and n.name and n.output[0] in into_matmul}


# outputs of these hold what their inputs hold, give or take a sign or a sum
# (not Min / Max: against a huge constant they are guards, e.g. 1/x capped at 1e12)
_CARRY_RANGE = frozenset({
    "Add", "Sub", "Mul", "Div", "Neg", "Abs", "Sum", "Where", "Cast", "Identity",
    "Expand", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Transpose", "Concat", "Tile",
    "Gather", "Slice", "Pad",
})


def _wide_range_nodes(model) -> set:
    """Keras writes masks as `x - 1e9 * (1 - mask)`: 1e9 is beyond float16
    (it would become inf, and x - inf - ... NaN in a fully masked row). The
    nodes reading such a constant, and what carries its value on until a
    node that bounds it (Softmax, a reduction, ...), stay float32."""
    g = model.graph
    wide = {t.name for t in g.initializer if t.data_type == TensorProto.FLOAT
            and np.any(np.abs(numpy_helper.to_array(t)) > FP16_MAX)}
    for n in g.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].type == AttributeProto.TENSOR:
            t = n.attribute[0].t
            if t.data_type == TensorProto.FLOAT and np.any(np.abs(numpy_helper.to_array(t)) > FP16_MAX):
                wide.add(n.output[0])
    names = set()
    for n in g.node:  # in topological order
        if n.name and any(i in wide for i in n.input):
            names.add(n.name)
            if n.op_type in _CARRY_RANGE:
                wide.update(n.output)
    return names


def _name_omitted_outputs(model) -> list:
    """The converter's topological sort treats an omitted optional output ('')
    as a value and loops on it (e.g. GRU's Y): name them for the while."""
    named = []
    for n in model.graph.node:
        for k, o in enumerate(n.output):
            if not o:
                n.output[k] = f"{n.name}/omitted_output_{k}"
                named.append(n.output[k])
    return named


def _unname_outputs(model, names):
    names = set(names)
    for n in model.graph.node:
        for k, o in enumerate(n.output):
            if o in names:
                n.output[k] = ""


def _localize_subgraph_initializers(model, blocked):
    """A blocked node's subgraph stays float32, but the outer initializers it
    reads by name would be retyped: give the subgraph float32 copies."""
    inits = {t.name: t for t in model.graph.initializer}
    for node in blocked:
        for sub in _subgraphs(node):
            for name in sorted(_graph_reads(sub) & set(inits)):
                local = sub.initializer.add()
                local.CopyFrom(inits[name])
                local.name = f"{name}/{node.name}/float32"
                _rename_reads(sub, name, local.name)


def _split_shared_initializers(model, blocked):
    """An initializer read by both a blocked and a float16 node gets a copy
    for the float16 readers (the converter would leave it float32 for all)."""
    g = model.graph
    inits = {t.name: t for t in g.initializer if t.data_type == TensorProto.FLOAT}
    blocked_reads = {i for n in blocked for i in n.input}
    blocked_ids = {id(n) for n in blocked}
    copies = {}
    for n in g.node:
        if id(n) in blocked_ids:
            continue
        for k, i in enumerate(n.input):
            if i in inits and i in blocked_reads:
                if i not in copies:
                    t = g.initializer.add()
                    t.CopyFrom(inits[i])
                    t.name = copies[i] = f"{i}/float16"
                n.input[k] = copies[i]


# -- after the converter -------------------------------------------------------

def _to(node) -> int:
    return next(a.i for a in node.attribute if a.name == "to")


def _set_to(node, dtype):
    for a in node.attribute:
        if a.name == "to":
            a.i = dtype


def _elem_types(model) -> dict:
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    types = {v.name: v.type.tensor_type.elem_type for v in list(g.value_info) + list(g.input)
             + list(g.output)}
    types.update({t.name: t.data_type for t in g.initializer})
    return types


def _float32_outputs(model, names):
    """A graph output made by a blocked node comes out of the converter as
    float16 (it casts the node's output back before it looks at outputs):
    cast it to float32 again."""
    g = model.graph
    for out in g.output:
        t = out.type.tensor_type
        if out.name in names and t.elem_type == TensorProto.FLOAT16:
            inner = f"{out.name}/float16"
            for n in g.node:
                for k, o in enumerate(n.output):
                    if o == out.name:
                        n.output[k] = inner
            g.node.append(onnx.helper.make_node("Cast", [inner], [out.name], to=TensorProto.FLOAT,
                                                name=f"{out.name}/float32"))
            t.elem_type = TensorProto.FLOAT


def _fold_casts(model):
    """Cast(Cast(x, float16), float) -> Cast(x, float), and a Cast to the type
    its input already has -> nothing (both only drop a rounding)."""
    g = model.graph
    types = _elem_types(model)
    producers = {o: n for n in g.node for o in n.output}
    outputs = {o.name for o in g.output}
    for n in g.node:
        if n.op_type != "Cast":
            continue
        first = producers.get(n.input[0])
        if (first is not None and first.op_type == "Cast" and _to(first) == TensorProto.FLOAT16
                and _to(n) == TensorProto.FLOAT):
            n.input[0] = first.input[0]
    rename = {}
    for n in g.node:
        if n.op_type == "Cast" and types.get(n.input[0]) == _to(n):
            if n.output[0] in outputs:   # name_outputs_at_source drops it where it can
                n.op_type = "Identity"
                del n.attribute[:]
            else:
                rename[n.output[0]] = n.input[0]
    _bypass(model, rename)


def _merge_duplicate_casts(model):
    """The converter casts a graph input once per consumer: keep one Cast."""
    g = model.graph
    outputs = {o.name for o in g.output}
    seen, rename = {}, {}
    for n in g.node:
        if n.op_type == "Cast" and n.output[0] not in outputs:
            key = (n.input[0], _to(n))
            if key in seen:
                rename[n.output[0]] = seen[key]
            else:
                seen[key] = n.output[0]
    _bypass(model, rename)


def _bypass(model, rename: dict):
    """Point readers of each key at its value; prune_unused drops the rest."""
    if not rename:
        return

    def resolve(name):
        while name in rename:
            name = rename[name]
        return name

    def visit(g):
        for n in g.node:
            for k, i in enumerate(n.input):
                if i in rename:
                    n.input[k] = resolve(i)
            for sub in _subgraphs(n):
                visit(sub)
    visit(model.graph)
