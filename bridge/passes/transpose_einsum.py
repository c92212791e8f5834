"""Transposes that meet a product of two computed values become part of an
Einsum's subscripts instead of nodes of their own.

Attention is the case: Q K^T and softmax(...) V multiply values that the
projections made in (batch, time, heads, depth) order, so a MatMul needs
three Transposes around it (two in, one out). As one Einsum that reads
each operand in the order it was made ("nthk,nshk->nhts") none is left.
A MatMul with a constant operand stays a MatMul (see transpose_rules.matmul).
"""
from __future__ import annotations

import string

from .net import transpose_of


def _parse(equation: str):
    if "..." in equation or "->" not in equation:
        return None
    ins, out = equation.replace(" ", "").split("->")
    terms = ins.split(",")
    if not all(t.isalpha() for t in terms + [out]):
        return None
    return terms, out


def absorb_inputs(net, node, perm=None) -> bool:
    """Einsum(Transpose(a, p), ...) -> Einsum(a, ...) with a's subscripts."""
    parsed = _parse(node.attr("equation", ""))
    if parsed is None:
        return False
    terms, out = parsed
    changed = False
    for i, name in enumerate(node.inputs):
        p = transpose_of(net, name)
        if p is None or len(p) != len(terms[i]):
            continue
        sub = [""] * len(p)
        for k, src in enumerate(p):
            sub[src] = terms[i][k]
        terms[i] = "".join(sub)
        t = net.producer(name)
        net.set_input(node, i, t.inputs[0])
        if not net.consumers(name) and name not in net.pinned:
            net.remove(t)
        changed = True
    node.attrs["equation"] = ",".join(terms) + "->" + out
    return changed


def absorb_output(net, t) -> bool:
    """Transpose(Einsum(...), p) -> Einsum(...) with permuted output subscripts."""
    node = net.producer(t.inputs[0])
    if node is None or node.op != "Einsum" or node.domain or net.only_consumer(t.inputs[0]) is not t:
        return False
    parsed = _parse(node.attr("equation", ""))
    if parsed is None:
        return False
    terms, out = parsed
    perm = t.attr("perm")
    node.attrs["equation"] = ",".join(terms) + "->" + "".join(out[p] for p in perm)
    made = t.outputs[0]
    net.remove(t)
    net.set_output(node, 0, made)
    return True


def matmul_as_einsum(net, node) -> bool:
    """MatMul of two computed values, one of them Transposed: an Einsum."""
    a, b = node.inputs
    ra, rb = net.rank(a), net.rank(b)
    if net.is_const(a) or net.is_const(b) or ra is None or ra != rb or ra < 2 or ra > 20:
        return False
    if transpose_of(net, a) is None and transpose_of(net, b) is None:
        return False
    sa, sb = net.shape(a), net.shape(b)
    if any(x != y or (x == 1) != (y == 1) for x, y in zip(sa[:-2], sb[:-2])):
        return False      # MatMul would broadcast; an Einsum label may not
    letters = string.ascii_lowercase
    batch = letters[:ra - 2]
    i, j, k = letters[ra - 2:ra + 1]
    node.op = "Einsum"
    node.attrs = {"equation": f"{batch}{i}{j},{batch}{j}{k}->{batch}{i}{k}"}
    absorb_inputs(net, node)
    return True
