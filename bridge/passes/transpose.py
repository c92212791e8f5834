"""Transpose optimization over the whole graph: sink each Transpose toward
the outputs through the ops that do not care about layout, until it meets
its inverse (both vanish), an op that needs that layout (it stays, once),
or a graph output.

The emitters compute spatial layers channels-first and hand Keras's layout
back wherever a layer's semantics need it (Dense on a feature map, Reshape,
LayerNormalization, a model output). Where such a layer is followed by more
channels-first work, the two Transposes meet here and cancel: a
squeeze-and-excitation block, ConvNeXt's pointwise MLP (its Dense layers
become 1x1 Conv), a residual Add of both layouts.

How a Transpose passes a node is the node's rule in transpose_rules.RULES:
rewrite the node to work on the untransposed input (remapping axes,
permuting constants) and put the Transpose after it. A rule applies when it
does not add Transposes on the other inputs than it removes. As in
ONNX Runtime's and tf2onnx's transpose optimizers; see those for the
general design.

Also here: a Transpose whose input comes from a graph input through
layout-agnostic ops moves up to that input (ops run on the transposed
value instead); a Transpose of a producer Transpose is one Transpose; and a
Transpose that only moves axes of size 1 is a Reshape.
"""
from __future__ import annotations

import numpy as np

from . import transpose_rules as rules
from .net import inverse, transpose_of
from .transpose_einsum import absorb_output
from .transpose_patches import candidates, patchify


def _compose(net, node) -> bool:
    """Transpose(Transpose(x, p), q) -> Transpose(x, p[q]); identity -> gone."""
    perm = node.attr("perm")
    changed = False
    src = net.producer(node.inputs[0])
    if src is not None and src.op == "Transpose" and not src.domain:
        inner = src.attr("perm")
        net.set_input(node, 0, src.inputs[0])
        perm = [inner[p] for p in perm]
        node.attrs["perm"] = perm
        if not net.consumers(src.outputs[0]) and src.outputs[0] not in net.pinned:
            net.remove(src)
        changed = True
    if perm == sorted(perm):
        changed |= net.bypass(node)
    return changed


def _sink_once(net) -> bool:
    changed = False
    for node in list(net.nodes):
        if node.domain or not _alive(net, node):
            continue
        if node.op == "Transpose":
            changed |= _compose(net, node) or absorb_output(net, node)
            continue
        rule = rules.RULES.get(node.op)
        perm = _common_perm(net, node)
        if rule is not None and perm is not None and rule(net, node, perm):
            changed = True
    return changed


def _alive(net, node) -> bool:
    return any(net.producer(o) is node for o in node.outputs if o)


def _common_perm(net, node):
    """The perm most of the node's Transposed inputs share."""
    counts = {}
    for i in node.inputs:
        p = transpose_of(net, i)
        if p is not None:
            counts[tuple(p)] = counts.get(tuple(p), 0) + 1
    if not counts:
        return None
    return list(max(counts, key=counts.get))


# -- a Transpose near a graph input moves up to it ---------------------------------

def _hoist(net) -> bool:
    """For graph input -> a -> b -> ... -> Transpose(P), where each op has one
    consumer and a rule: Transpose the input instead and let the chain run
    on it. Done as: insert Transpose(P) then Transpose(P^-1) at the input and
    sink the second one down the chain into the first (they cancel)."""
    changed = False
    for node in list(net.nodes):
        if node.op != "Transpose" or node.domain or not _alive(net, node):
            continue
        chain, x = [], node.inputs[0]
        while True:
            p = net.producer(x)
            if p is None or len(p.outputs) != 1 or net.only_consumer(x) is None \
                    or p.op not in rules.HOISTABLE:
                break
            data = [i for i in p.inputs if i and not net.is_const(i)]
            if len(data) != 1 or data[0] != p.inputs[0]:
                break
            chain.append(p)
            x = p.inputs[0]
        if not chain or x not in {i.name for i in net.inputs} or len(net.consumers(x)) != 1:
            continue
        perm = node.attr("perm")
        first = chain[-1]
        t = net.make("Transpose", [x], hint=f"{x}/Transpose", at=first, perm=perm)
        u = net.make("Transpose", [t.outputs[0]], hint=f"{x}/untranspose", at=first, perm=inverse(perm))
        s = net.shape(x)
        if s is not None:
            net.shapes[t.outputs[0]] = tuple(s[p] for p in perm)
            net.shapes[u.outputs[0]] = s
        net.set_input(first, 0, u.outputs[0])
        changed = True
        for op in reversed(chain):
            if not rules.RULES[op.op](net, op, inverse(perm)):
                break
        else:
            _compose(net, node)
    return changed


# -- clean-up --------------------------------------------------------------------

def _size_one_moves(net) -> bool:
    """A Transpose whose non-1 axes keep their order is a Reshape."""
    changed = False
    for node in list(net.nodes):
        if node.op != "Transpose" or node.domain:
            continue
        shape = net.shape(node.inputs[0])
        perm = node.attr("perm")
        if shape is None or len(shape) != len(perm):
            continue
        moved = [p for p in perm if shape[p] != 1]
        if moved != sorted(moved) or sum(d is None for d in shape) > 1:
            continue
        target = [shape[p] if shape[p] is not None else -1 for p in perm]
        node.op = "Reshape"
        node.attrs = {}
        node.inputs.append("")
        net.set_input(node, 1, net.add_const(np.asarray(target, np.int64), f"{node.outputs[0]}/shape"))
        changed = True
    return changed


def _sink(net) -> bool:
    changed = False
    for _ in range(4 * len(net.nodes) + 8):   # each round moves Transposes further; ends when none moves
        if not _sink_once(net):
            break
        changed = True
    return changed


def _try_patches(net) -> bool:
    """transpose_patches.patchify each candidate; keep it where it pays."""
    changed, tried = False, set()
    while True:
        todo = [c for c in candidates(net) if c.outputs[0] not in tried]
        if not todo:
            return changed
        c = todo[0]
        tried.add(c.outputs[0])
        state, before = net.snapshot(), net.count("Transpose")
        patchify(net, c)
        _sink(net)
        if net.count("Transpose") < before:
            changed = True
        else:
            net.restore(state)


def optimize_transposes(net) -> bool:
    changed = _sink(net)
    changed |= _try_patches(net)
    # after sinking, not interleaved with it: sinking would move them back down
    changed |= _hoist(net)
    changed |= _size_one_moves(net)
    if changed:
        net.drop_unused_consts()
    return changed
