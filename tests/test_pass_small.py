"""The small passes, one case table each: remove_noops, fold_constants,
merge_reshapes, use_global_pools, fold_zero_pads, fuse_gelu."""
import numpy as np
import pytest

from bridge.passes import (flatten_concats, fold_constants, fold_zero_pads, fuse_gelu,
                           fuse_hard_activations, guard_zero_pad_maxpool, merge_reshapes, remove_noops,
                           use_global_pools)
from tests.pass_cases import Case, check, rng_array as r

X = {"x": (None, 4, 5, 6)}
I64 = np.int64

NOOPS = [
    Case("identity_at_output", [("Relu", ["x"], ["a"]), ("Identity", ["a"], ["y"])], X, {"y": 4}, {}, ["Relu"]),
    Case("identity_inside", [("Identity", ["x"], ["a"]), ("Relu", ["a"], ["y"])], X, {"y": 4}, {}, ["Relu"]),
    # stays: an input handed straight to an output needs a node
    Case("identity_input_to_output", [("Identity", ["x"], ["y"])], X, {"y": 4}, {}, ["Identity"]),
    # stays: the output's value is read inside too
    Case("output_read_by_others", [("Relu", ["x"], ["a"]), ("Identity", ["a"], ["h"]), ("Neg", ["a"], ["y"])],
         X, {"h": 4, "y": 4}, {}, ["Relu", "Identity", "Neg"]),
    Case("transpose_identity", [("Transpose", ["x"], ["a"], {"perm": [0, 1, 2, 3]}), ("Relu", ["a"], ["y"])],
         X, {"y": 4}, {}, ["Relu"]),
    Case("reshape_same", [("Reshape", ["x", "s"], ["a"]), ("Relu", ["a"], ["y"])], X, {"y": 4},
         {"s": np.array([-1, 4, 5, 6], I64)}, ["Relu"]),
    Case("pad_zero", [("Pad", ["x", "p"], ["a"]), ("Relu", ["a"], ["y"])], X, {"y": 4},
         {"p": np.zeros(8, I64)}, ["Relu"]),
    Case("slice_everything", [("Slice", ["x", "s", "e"], ["a"]), ("Relu", ["a"], ["y"])], X, {"y": 4},
         {"s": np.array([0], I64), "e": np.array([2 ** 63 - 1], I64)}, ["Relu"]),
    Case("add_zero_mul_one", [("Add", ["x", "z"], ["a"]), ("Mul", ["a", "o"], ["b"]), ("Relu", ["b"], ["y"])],
         X, {"y": 4}, {"z": np.zeros((1, 1), np.float32), "o": np.ones(1, np.float32)}, ["Relu"]),
    # stays: adding zeros of a bigger shape broadcasts
    Case("add_zero_broadcasting", [("Add", ["x", "z"], ["a"]), ("Relu", ["a"], ["y"])], X, {"y": 5},
         {"z": np.zeros((2, 1, 1, 1, 1), np.float32)}, ["Add", "Relu"]),
    Case("expand_to_own_shape", [("Expand", ["x", "s"], ["a"]), ("Relu", ["a"], ["y"])], X, {"y": 4},
         {"s": np.array([1, 4, 5, 6], I64)}, ["Relu"]),
    # stays: a batch of 1 would become 2
    Case("expand_of_the_batch", [("Expand", ["x", "s"], ["a"]), ("Relu", ["a"], ["y"])], X, {"y": 4},
         {"s": np.array([2, 4, 5, 6], I64)}, ["Expand", "Relu"]),
    Case("concat_one", [("Concat", ["x"], ["a"], {"axis": 1}), ("Relu", ["a"], ["y"])], X, {"y": 4}, {},
         ["Relu"]),
]

CONSTS = [
    Case("transpose_of_weight", [("Transpose", ["w"], ["wt"], {"perm": [1, 0]}), ("MatMul", ["x", "wt"], ["y"])],
         {"x": (None, 3)}, {"y": 2}, {"w": r(5, 3)}, ["MatMul"]),
    Case("reshape_cast_concat", [("Reshape", ["a", "s"], ["b"]), ("Cast", ["b"], ["c"], {"to": 1}),
                                 ("Concat", ["c", "d"], ["e"], {"axis": 0}), ("Add", ["x", "e"], ["y"])],
         {"x": (None, 4)}, {"y": 2},
         {"a": np.arange(2, dtype=I64), "s": np.array([2], I64), "d": r(2)}, ["Add"]),
    Case("shape_of_static_dims", [("Shape", ["x"], ["s"], {"start": 1}), ("Concat", ["m", "s"], ["t"], {"axis": 0}),
                                  ("Reshape", ["x", "t"], ["y"])],
         X, {"y": 4}, {"m": np.array([-1], I64)}, ["Reshape"]),
    Case("constant_node", [("Constant", [], ["c"], {"value_floats": [1.0, 2.0, 3.0, 4.0]}),
                           ("Add", ["x", "c"], ["y"])], {"x": (None, 4)}, {"y": 2}, {}, ["Add"]),
    # stay: a quantized weight keeps its int8 (the folded float32 would be 4x the file),
    # and a Gather that repeats rows (a scale per group, per row) is an expansion
    Case("int8_weight_stays_int8", [("Cast", ["q"], ["f"], {"to": 1}), ("Mul", ["f", "s"], ["w"]),
                                    ("MatMul", ["x", "w"], ["y"])], {"x": (None, 16)}, {"y": 2},
         {"q": np.arange(-64, 64, dtype=np.int8).reshape(16, 8), "s": r(8)}, ["Cast", "Mul", "MatMul"]),
    Case("gather_repeating_rows", [("Gather", ["s", "g"], ["e"], {"axis": 0}), ("MatMul", ["x", "e"], ["y"])],
         {"x": (None, 64)}, {"y": 2}, {"s": r(2, 2), "g": np.repeat(np.arange(2, dtype=I64), 32)},
         ["Gather", "MatMul"]),
    # stays: the batch size is only known when it runs
    Case("shape_with_batch", [("Shape", ["x"], ["s"]), ("Reshape", ["x", "s"], ["y"])],
         X, {"y": 4}, {}, ["Shape", "Reshape"]),
    # stays: an Expand of a scalar to a large shape is cheaper than its result
    Case("big_expand", [("Expand", ["z", "s"], ["e"]), ("Add", ["x", "e"], ["y"])],
         {"x": (None, 300, 300)}, {"y": 3}, {"z": np.float32(1.0), "s": np.array([1, 300, 300], I64)},
         ["Expand", "Add"]),
]

RESHAPES = [
    Case("chain", [("Flatten", ["x"], ["a"]), ("Unsqueeze", ["a", "ax"], ["b"]), ("Reshape", ["b", "s"], ["y"])],
         X, {"y": 3}, {"ax": np.array([1], I64), "s": np.array([0, 12, 10], I64)}, ["Reshape"]),
    Case("reduce_keeps_dims", [("ReduceMean", ["x"], ["m"], {"axes": [2, 3], "keepdims": 0}),
                               ("Reshape", ["m", "s"], ["y"])],
         X, {"y": 4}, {"s": np.array([-1, 4, 1, 1], I64)}, ["ReduceMean"]),
    # stays: the reshape is not back to the kept shape
    Case("reduce_then_other_shape", [("ReduceMean", ["x"], ["m"], {"axes": [2, 3], "keepdims": 0}),
                                     ("Reshape", ["m", "s"], ["y"])],
         X, {"y": 4}, {"s": np.array([-1, 1, 1, 4], I64)}, ["ReduceMean", "Reshape"]),
]

CONCATS = [
    Case("nested", [("Concat", ["x", "x2"], ["a"], {"axis": 1}), ("Concat", ["x3", "x4"], ["b"], {"axis": 1}),
                    ("Concat", ["a", "b", "x"], ["y"], {"axis": -3})],
         {**X, "x2": (None, 2, 5, 6), "x3": (None, 1, 5, 6), "x4": (None, 3, 5, 6)}, {"y": 4}, {}, ["Concat"]),
    # stay: the inner one is read elsewhere too; another axis
    Case("inner_read_twice", [("Concat", ["x", "x2"], ["a"], {"axis": 1}), ("Concat", ["a", "x"], ["y"], {"axis": 1}),
                              ("Relu", ["a"], ["z"])],
         {**X, "x2": (None, 2, 5, 6)}, {"y": 4, "z": 4}, {}, ["Concat", "Concat", "Relu"]),
    Case("other_axis", [("Concat", ["x", "x"], ["a"], {"axis": 2}), ("Concat", ["a", "x2"], ["y"], {"axis": 1})],
         {**X, "x2": (None, 2, 10, 6)}, {"y": 4}, {}, ["Concat", "Concat"]),
]

POOLS = [
    Case("mean", [("ReduceMean", ["x"], ["y"], {"axes": [2, 3], "keepdims": 1})], X, {"y": 4}, {},
         ["GlobalAveragePool"]),
    Case("max_axes_input", [("ReduceMax", ["x", "a"], ["y"], {"keepdims": 1})], X, {"y": 4},
         {"a": np.array([-1, 2], I64)}, ["GlobalMaxPool"], opset=18),
    Case("channels_stay", [("ReduceMean", ["x"], ["y"], {"axes": [1], "keepdims": 1})], X, {"y": 4}, {},
         ["ReduceMean"]),
    Case("mean_1d", [("ReduceMean", ["x"], ["y"], {"axes": [2], "keepdims": 1})], {"x": (None, 4, 5)}, {"y": 3},
         {}, ["GlobalAveragePool"]),
    # stay: onnx.reference's GlobalMaxPool is right on 4-D values only
    Case("max_1d_stays", [("ReduceMax", ["x"], ["y"], {"axes": [2], "keepdims": 1})], {"x": (None, 4, 5)},
         {"y": 3}, {}, ["ReduceMax"]),
    Case("max_3d_stays", [("ReduceMax", ["x"], ["y"], {"axes": [2, 3, 4], "keepdims": 1})],
         {"x": (None, 4, 5, 3, 2)}, {"y": 5}, {}, ["ReduceMax"]),
    Case("dropped_dims_stay", [("ReduceMean", ["x"], ["y"], {"axes": [2, 3], "keepdims": 0})], X, {"y": 2}, {},
         ["ReduceMean"]),
]

W = r(3, 4, 3, 3, scale=0.3)
PADS = [
    Case("into_conv", [("Pad", ["x", "p"], ["a"]), ("Conv", ["a", "w"], ["y"], {"pads": [1, 0, 0, 0]})],
         X, {"y": 4}, {"p": np.array([0, 0, 1, 2, 0, 0, 0, 1], I64), "w": W}, ["Conv"]),
    Case("into_maxpool_after_relu", [("Relu", ["x"], ["r"]), ("Pad", ["r", "p"], ["a"]),
                                     ("MaxPool", ["a"], ["y"], {"kernel_shape": [3, 3], "strides": [2, 2]})],
         X, {"y": 4}, {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64)}, ["Relu", "MaxPool"]),
    Case("into_count_including_avgpool", [("Pad", ["x", "p"], ["a"]),
                                          ("AveragePool", ["a"], ["y"], {"kernel_shape": [2, 2],
                                                                         "count_include_pad": 1})],
         X, {"y": 4}, {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64)}, ["AveragePool"]),
    # stay: MaxPool pads with -inf, so a negative input would see it
    Case("maxpool_of_any_input", [("Pad", ["x", "p"], ["a"]), ("MaxPool", ["a"], ["y"], {"kernel_shape": [2, 2]})],
         X, {"y": 4}, {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64)}, ["Pad", "MaxPool"]),
    Case("maxpool_pad_as_wide_as_kernel", [("Relu", ["x"], ["r"]), ("Pad", ["r", "p"], ["a"]),
                                           ("MaxPool", ["a"], ["y"], {"kernel_shape": [2, 2]})],
         X, {"y": 4}, {"p": np.array([0, 0, 2, 0, 0, 0, 0, 0], I64)}, ["Relu", "Pad", "MaxPool"]),
    Case("channel_padding", [("Pad", ["x", "p"], ["a"]), ("Conv", ["a", "w5"], ["y"])],
         X, {"y": 4}, {"p": np.array([0, 1, 0, 0, 0, 0, 0, 0], I64), "w5": r(3, 5, 3, 3)}, ["Pad", "Conv"]),
    Case("non_zero_value", [("Pad", ["x", "p", "v"], ["a"]), ("Conv", ["a", "w"], ["y"])],
         X, {"y": 4}, {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64), "v": np.float32(1.0), "w": W},
         ["Pad", "Conv"]),
]


GUARDS = [
    # ONNX Runtime would fold the Pad into MaxPool's -inf padding: a 1x1 Conv by 1 pads instead
    Case("spatial", [("Pad", ["x", "p"], ["a"]), ("MaxPool", ["a"], ["y"], {"kernel_shape": [2, 2]})],
         X, {"y": 4}, {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64)}, ["Conv", "MaxPool"]),
    Case("channels_too", [("Pad", ["x", "p"], ["a"]), ("MaxPool", ["a"], ["y"], {"kernel_shape": [2, 2]})],
         X, {"y": 4}, {"p": np.array([0, 1, 0, 1, 0, 0, 0, 0], I64)},
         ["Shape", "Slice", "Slice", "Concat", "Expand", "Concat", "Shape", "Slice", "Slice", "Concat",
          "Expand", "Concat", "MaxPool"]),
    # stays: a Pad that feeds more than the MaxPool is left to the runtime
    Case("read_twice", [("Pad", ["x", "p"], ["a"]), ("MaxPool", ["a"], ["y"], {"kernel_shape": [2, 2]}),
                        ("Relu", ["a"], ["z"])],
         X, {"y": 4, "z": 4}, {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64)}, ["Pad", "MaxPool", "Relu"]),
]


def _gelu(order):
    """0.5 x (1 + erf(x / sqrt 2)) written in two of the orders emitters use."""
    head = [("Mul", ["x", "k"], ["s"]), ("Erf", ["s"], ["e"]), ("Add", ["e", "one"], ["a"])]
    if order == "half_first":
        tail = [("Mul", ["x", "half"], ["h"]), ("Mul", ["h", "a"], ["y"])]
    else:
        tail = [("Mul", ["x", "a"], ["m"]), ("Mul", ["m", "half"], ["y"])]
    return head + tail


GC = {"k": np.float32(1 / np.sqrt(2)), "one": np.float32(1.0), "half": np.float32(0.5)}
GELUS = [
    Case("half_first", _gelu("half_first"), X, {"y": 4}, GC, ["Gelu"], opset=20),
    Case("half_last", _gelu("half_last"), X, {"y": 4}, GC, ["Gelu"], opset=20),
    Case("before_opset_20", _gelu("half_first"), X, {"y": 4}, GC, ["Mul", "Erf", "Add", "Mul", "Mul"]),
    Case("other_constant", _gelu("half_first"), X, {"y": 4}, {**GC, "half": np.float32(0.4)},
         ["Mul", "Erf", "Add", "Mul", "Mul"], opset=20),
]


F = np.float32
HARD = [
    # tf-keras's hard_swish: x * ReLU6(x + 3) * (1 / 6)
    Case("hard_swish", [("Add", ["x", "three"], ["a"]), ("Clip", ["a", "zero", "six"], ["c"]),
                        ("Mul", ["c", "sixth"], ["h"]), ("Mul", ["x", "h"], ["y"])],
         X, {"y": 4}, {"three": F(3), "zero": F(0), "six": F(6), "sixth": F(1 / 6)}, ["HardSwish"]),
    Case("hard_sigmoid_with_the_3_in_a_bias", [("Clip", ["x", "zero", "six"], ["c"]), ("Mul", ["c", "sixth"], ["y"])],
         X, {"y": 4}, {"zero": F(0), "six": F(6), "sixth": F(1 / 6)}, ["HardSigmoid"]),
    Case("hard_swish_before_opset_14", [("Add", ["x", "three"], ["a"]), ("Clip", ["a", "zero", "six"], ["c"]),
                                        ("Mul", ["c", "sixth"], ["h"]), ("Mul", ["x", "h"], ["y"])],
         X, {"y": 4}, {"three": F(3), "zero": F(0), "six": F(6), "sixth": F(1 / 6)}, ["HardSigmoid", "Mul"],
         opset=13),
    # stays: 1/5 is not 1/6
    Case("other_scale", [("Clip", ["x", "zero", "six"], ["c"]), ("Mul", ["c", "fifth"], ["y"])],
         X, {"y": 4}, {"zero": F(0), "six": F(6), "fifth": F(0.2)}, ["Clip", "Mul"]),
]


@pytest.mark.parametrize("pass_fn, case", [
    *[(remove_noops, c) for c in NOOPS], *[(fold_constants, c) for c in CONSTS],
    *[(merge_reshapes, c) for c in RESHAPES], *[(flatten_concats, c) for c in CONCATS],
    *[(use_global_pools, c) for c in POOLS],
    *[(fold_zero_pads, c) for c in PADS], *[(fuse_gelu, c) for c in GELUS],
    *[(guard_zero_pad_maxpool, c) for c in GUARDS], *[(fuse_hard_activations, c) for c in HARD],
], ids=lambda v: v.name if isinstance(v, Case) else v.__name__)
def test_small_passes(pass_fn, case):
    check(pass_fn, case)
