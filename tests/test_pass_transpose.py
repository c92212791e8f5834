"""optimize_transposes: one case per rule of bridge/passes/transpose_rules.py
(a Transpose to channels-last, the op, a Transpose back), plus cancelling,
hoisting to an input and the size-1 Reshape."""
import numpy as np
import pytest

from bridge.passes import optimize_transposes
from tests.pass_cases import Case, check, rng_array as r

NHWC, NCHW = [0, 2, 3, 1], [0, 3, 1, 2]
X = {"x": (None, 4, 5, 6)}          # channels-first N, C, H, W


def _around(op_nodes, expect, consts=None, inputs=None, out_rank=4, back=True, opset=17, name=None):
    """x -> Transpose(NHWC) -> op_nodes (reading 't', writing 'o') -> Transpose(NCHW) -> y."""
    nodes = [("Transpose", ["x"], ["t"], {"perm": NHWC})] + op_nodes
    nodes.append(("Transpose", ["o"], ["y"], {"perm": NCHW}) if back else ("Relu", ["o"], ["y"]))
    return Case(name or op_nodes[0][0], nodes, inputs or X, {"y": out_rank}, consts or {}, expect,
                opset=opset)


CASES = [
    Case("pair_cancels", [("Transpose", ["x"], ["t"], {"perm": NHWC}), ("Relu", ["t"], ["u"]),
                          ("Transpose", ["u"], ["y"], {"perm": NCHW})], X, {"y": 4}, {}, ["Relu"]),
    Case("two_compose", [("Transpose", ["x"], ["t"], {"perm": [0, 2, 1, 3]}),
                         ("Transpose", ["t"], ["y"], {"perm": [0, 1, 3, 2]})], X, {"y": 4}, {},
         ["Transpose"]),
    _around([("Sigmoid", ["t"], ["o"])], ["Sigmoid"]),
    _around([("Clip", ["t", "lo", "hi"], ["o"])], ["Clip"],
            {"lo": np.float32(0.0), "hi": np.float32(0.5)}),
    _around([("Add", ["t", "c"], ["o"])], ["Add"], {"c": r(4)}, name="add_channel_const"),
    _around([("Mul", ["c", "t"], ["o"])], ["Mul"], {"c": r(5, 1, 4)}, name="mul_const_first"),
    _around([("Transpose", ["z"], ["tz"], {"perm": NHWC}), ("Add", ["t", "tz"], ["o"])], ["Add"],
            inputs={**X, "z": (None, 4, 5, 6)}, name="add_two_transposed"),
    # stays: the other input would need a Transpose of its own
    _around([("Add", ["t", "z"], ["o"])], ["Transpose", "Add", "Transpose"],
            inputs={**X, "z": (None, 5, 6, 4)}, name="add_plain_input"),
    _around([("Transpose", ["z"], ["tz"], {"perm": NHWC}), ("Concat", ["t", "tz"], ["o"], {"axis": -1})],
            ["Concat"], inputs={**X, "z": (None, 3, 5, 6)}, name="concat"),
    _around([("ReduceMean", ["t"], ["o"], {"axes": [1, 2], "keepdims": 1})], ["ReduceMean"],
            name="reduce_keepdims"),
    Case("reduce_dropping_axes", [("Transpose", ["x"], ["t"], {"perm": NHWC}),
                                  ("ReduceMean", ["t"], ["y"], {"axes": [1, 2], "keepdims": 0})],
         X, {"y": 2}, {}, ["ReduceMean"]),
    _around([("ReduceSum", ["t", "ax"], ["o"], {"keepdims": 1})], ["ReduceSum"],
            {"ax": np.array([3], np.int64)}, name="reduce_axes_input"),
    _around([("Softmax", ["t"], ["o"], {"axis": -1})], ["Softmax"], name="softmax"),
    _around([("Pad", ["t", "p"], ["o"])], ["Pad"],
            {"p": np.array([0, 1, 2, 0, 0, 0, 1, 0], np.int64)}, name="pad"),
    _around([("Slice", ["t", "s", "e", "a"], ["o"])], ["Slice"],
            {"s": np.array([1], np.int64), "e": np.array([3], np.int64), "a": np.array([3], np.int64)},
            name="slice_channels"),
    _around([("Split", ["t", "sp"], ["o", "o2"], {"axis": 3})], ["Split"],
            {"sp": np.array([1, 3], np.int64)}, name="split"),
    _around([("Resize", ["t", "", "sc"], ["o"], {"mode": "nearest"})], ["Resize"],
            {"sc": np.array([1, 2, 3, 1], np.float32)}, name="resize"),
    _around([("LayerNormalization", ["t", "g", "b"], ["o"], {"axis": -1})],
            ["ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"],
            {"g": r(4, positive=True), "b": r(4)}, name="layer_norm_over_channels"),
    # two of them: the nodes each one is written out as have names of their own
    Case("two_layer_norms_over_channels",
         [("Transpose", ["x"], ["t"], {"perm": NHWC}), ("LayerNormalization", ["t", "g", "b"], ["o"], {"axis": -1}),
          ("Transpose", ["o"], ["u"], {"perm": NCHW}), ("Relu", ["u"], ["v"]),
          ("Transpose", ["v"], ["t2"], {"perm": NHWC}),
          ("LayerNormalization", ["t2", "g", "b"], ["o2"], {"axis": -1}),
          ("Transpose", ["o2"], ["y"], {"perm": NCHW})],
         X, {"y": 4}, {"g": r(4, positive=True), "b": r(4)},
         ["ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add", "Relu",
          "ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"]),
    # 1x1 Conv for a MatMul over the channels; its result goes back to channels-first
    _around([("MatMul", ["t", "w"], ["o"])], ["Conv"], {"w": r(4, 7)}, name="matmul_channels"),
    Case("matmul_last_axis_kept", [("Transpose", ["x"], ["t"], {"perm": [0, 2, 1, 3]}),
                                   ("MatMul", ["t", "w"], ["m"]),
                                   ("Transpose", ["m"], ["y"], {"perm": [0, 2, 1, 3]})],
         X, {"y": 4}, {"w": r(6, 3)}, ["MatMul"]),
    Case("squeeze", [("Transpose", ["x"], ["t"], {"perm": [0, 2, 3, 1]}), ("Squeeze", ["t", "ax"], ["y"])],
         {"x": (None, 4, 1, 6)}, {"y": 3}, {"ax": np.array([1], np.int64)}, ["Squeeze", "Transpose"]),
    Case("unsqueeze", [("Transpose", ["x"], ["t"], {"perm": NHWC}), ("Unsqueeze", ["t", "ax"], ["u"]),
                       ("Transpose", ["u"], ["y"], {"perm": [0, 1, 4, 2, 3]})],
         X, {"y": 5}, {"ax": np.array([1], np.int64)}, ["Unsqueeze"]),
    # ViT patches: (N, C, h, w) -> channels-last -> (N, h*w, C): a Reshape and one Transpose
    Case("reshape_merging_spatial", [("Transpose", ["x"], ["t"], {"perm": NHWC}),
                                     ("Reshape", ["t", "sh"], ["y"])],
         X, {"y": 3}, {"sh": np.array([0, 30, 4], np.int64)}, ["Reshape", "Transpose"]),
    # VGG's Flatten before Dense: the kernel's rows are permuted instead
    Case("flatten_into_dense", [("Transpose", ["x"], ["t"], {"perm": NHWC}), ("Flatten", ["t"], ["f"]),
                                ("Gemm", ["f", "w", "b"], ["y"])],
         X, {"y": 2}, {"w": r(120, 3, scale=0.1), "b": r(3)}, ["Reshape", "Gemm"]),
    # SE block: global pooling, Reshape to (1, 1, C), channels-first again
    Case("size_one_moves_are_a_reshape", [("ReduceMean", ["x"], ["m"], {"axes": [2, 3], "keepdims": 0}),
                                          ("Reshape", ["m", "sh"], ["r"]),
                                          ("Transpose", ["r"], ["y"], {"perm": NCHW})],
         X, {"y": 4}, {"sh": np.array([-1, 1, 1, 4], np.int64)}, ["ReduceMean", "Reshape", "Reshape"]),
    # EfficientNet's stem: the preprocessing moves behind the input's Transpose
    Case("hoisted_to_the_input", [("Mul", ["x", "k"], ["a"]), ("Sub", ["a", "c"], ["b"]),
                                  ("Pad", ["b", "p"], ["d"]), ("Transpose", ["d"], ["t"], {"perm": NCHW}),
                                  ("Conv", ["t", "w"], ["y"])],
         {"x": (None, 5, 6, 3)}, {"y": 4},
         {"k": np.float32(0.5), "c": r(3), "p": np.array([0, 0, 1, 0, 0, 1, 0, 0], np.int64),
          "w": r(2, 3, 3, 3)}, ["Transpose", "Mul", "Sub", "Pad", "Conv"]),
    # attention: Q K^T and the weighted sum of V read the projections as they were made
    Case("attention_as_einsums", [("Transpose", ["q"], ["tq"], {"perm": [0, 2, 1, 3]}),
                                  ("Transpose", ["k"], ["tk"], {"perm": [0, 2, 3, 1]}),
                                  ("MatMul", ["tq", "tk"], ["s"]), ("Softmax", ["s"], ["p"], {"axis": -1}),
                                  ("Transpose", ["v"], ["tv"], {"perm": [0, 2, 1, 3]}),
                                  ("MatMul", ["p", "tv"], ["o"]),
                                  ("Transpose", ["o"], ["y"], {"perm": [0, 2, 1, 3]})],
         {"q": (None, 5, 2, 3), "k": (None, 6, 2, 3), "v": (None, 6, 2, 3)}, {"y": 4}, {},
         ["Einsum", "Softmax", "Einsum"]),
    # ViT's patch embedding: a MatMul on the patches, one Transpose instead of two
    Case("patches_as_matmul", [("Transpose", ["x"], ["t"], {"perm": NCHW}),
                               ("Conv", ["t", "w", "b"], ["c"], {"kernel_shape": [4, 4], "strides": [4, 4]}),
                               ("Transpose", ["c"], ["u"], {"perm": NHWC}), ("Reshape", ["u", "sh"], ["y"])],
         {"x": (None, 8, 12, 3)}, {"y": 3}, {"w": r(5, 3, 4, 4), "b": r(5), "sh": np.array([0, 6, 5], np.int64)},
         ["Reshape", "Transpose", "Reshape", "MatMul", "Add", "Reshape"]),
    # stays: more convolutions follow, so channels-first pays
    Case("patches_in_a_cnn", [("Transpose", ["x"], ["t"], {"perm": NCHW}),
                              ("Conv", ["t", "w"], ["c"], {"kernel_shape": [4, 4], "strides": [4, 4]}),
                              ("Conv", ["c", "w2"], ["y"], {"kernel_shape": [1, 1]})],
         {"x": (None, 8, 12, 3)}, {"y": 4}, {"w": r(5, 3, 4, 4), "w2": r(2, 5, 1, 1)},
         ["Transpose", "Conv", "Conv"]),
    # stays: the output needs Keras's layout
    Case("graph_output_keeps_its_transpose", [("Transpose", ["x"], ["t"], {"perm": NHWC}),
                                              ("Relu", ["t"], ["y"])], X, {"y": 4}, {}, ["Transpose", "Relu"]),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_transposes(case):
    check(optimize_transposes, case)


def test_rules_cover_what_they_claim():
    from bridge.passes.transpose_rules import HOISTABLE, RULES
    assert HOISTABLE <= set(RULES)
