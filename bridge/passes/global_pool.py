"""ReduceMean / ReduceMax over every spatial axis of an N, C, spatial...
value, keeping dims, is GlobalAveragePool / GlobalMaxPool: one op runtimes
keep in their blocked channels-first layouts (ONNX Runtime's NCHWc) where a
ReduceMean makes them convert the whole feature map back and forth.

GlobalMaxPool only on 4-D values: onnx.reference (1.23) reduces a
GlobalMaxPool's two axes before the last, whatever its rank (wrong for a
Conv1D's or Conv3D's feature map), and every target's graph must run there."""

_GLOBAL = {"ReduceMean": "GlobalAveragePool", "ReduceMax": "GlobalMaxPool"}


def use_global_pools(net) -> bool:
    changed = False
    for node in net.nodes:
        if node.op not in _GLOBAL or node.domain or not node.attr("keepdims", 1):
            continue
        rank = net.rank(node.inputs[0])
        axes = node.attr("axes")
        if axes is None and len(node.inputs) > 1 and node.inputs[1]:
            axes = net.value(node.inputs[1])
        if rank is None or rank < 3 or axes is None or (node.op == "ReduceMax" and rank != 4):
            continue
        if sorted(int(a) % rank for a in axes) != list(range(2, rank)):
            continue
        node.op = _GLOBAL[node.op]
        node.attrs = {}
        if len(node.inputs) > 1:
            net.set_input(node, 1, "")
            del node.inputs[1:]
        changed = True
    return changed
