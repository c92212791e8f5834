"""fold_batch_norm: BatchNormalization and per-channel affine constants into
the linear op before (or, unpadded, after) them."""
import numpy as np
import pytest

from bridge.passes import fold_batch_norm
from tests.pass_cases import Case, check, rng_array as r

# numpy's divide-by-zero and overflow warnings are failures here: a user sees them
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
C = 4


def _bn(prefix="bn", c=C):
    return {f"{prefix}_s": r(c, positive=True), f"{prefix}_b": r(c, seed=1),
            f"{prefix}_m": r(c, seed=2), f"{prefix}_v": r(c, seed=3, positive=True)}


def _bn_node(x, y, prefix="bn"):
    return ("BatchNormalization", [x, f"{prefix}_s", f"{prefix}_b", f"{prefix}_m", f"{prefix}_v"], [y],
            {"epsilon": 1e-3})


CONV = {"w": r(C, 3, 3, 3, scale=0.3), "b": r(C, seed=4)}
CASES = [
    Case("conv_bn", [("Conv", ["x", "w", "b"], ["c"], {"pads": [1, 1, 1, 1]}), _bn_node("c", "y")],
         {"x": (None, 3, 6, 6)}, {"y": 4}, {**CONV, **_bn()}, ["Conv"]),
    Case("conv_without_bias_bn", [("Conv", ["x", "w"], ["c"]), _bn_node("c", "y")],
         {"x": (None, 3, 6, 6)}, {"y": 4}, {"w": CONV["w"], **_bn()}, ["Conv"]),
    Case("conv_transpose_bn", [("ConvTranspose", ["x", "wt"], ["c"], {"strides": [2, 2]}), _bn_node("c", "y")],
         {"x": (None, 3, 5, 5)}, {"y": 4}, {"wt": r(3, C, 3, 3, scale=0.3), **_bn()}, ["ConvTranspose"]),
    Case("gemm_bn", [("Gemm", ["x", "g", "gb"], ["c"]), _bn_node("c", "y")],
         {"x": (None, 8)}, {"y": 2}, {"g": r(8, C, scale=0.3), "gb": r(C, seed=5), **_bn()}, ["Gemm"]),
    Case("gemm_transb_bn", [("Gemm", ["x", "g", "gb"], ["c"], {"transB": 1}), _bn_node("c", "y")],
         {"x": (None, 8)}, {"y": 2}, {"g": r(C, 8, scale=0.3), "gb": r(C, seed=5), **_bn()}, ["Gemm"]),
    Case("matmul_bn_gets_a_bias", [("MatMul", ["x", "m"], ["c"]), _bn_node("c", "y")],
         {"x": (None, 8)}, {"y": 2}, {"m": r(8, C, scale=0.3), **_bn()}, ["MatMul", "Add"]),
    Case("matmul_add_mul_add_3d", [("MatMul", ["x", "m"], ["c"]), ("Add", ["c", "mb"], ["d"]),
                                   ("Mul", ["d", "k"], ["e"]), ("Add", ["k2", "e"], ["y"])],
         {"x": (None, 5, 8)}, {"y": 3}, {"m": r(8, C, scale=0.3), "mb": r(C, seed=6), "k": r(C, seed=7),
                                         "k2": r(1, 1, C, seed=8)}, ["MatMul", "Add"]),
    Case("conv_mul_sub_div_per_channel", [("Conv", ["x", "w", "b"], ["c"]), ("Mul", ["c", "k"], ["d"]),
                                          ("Sub", ["d", "k3"], ["e"]), ("Div", ["e", "k4"], ["y"])],
         {"x": (None, 3, 6, 6)}, {"y": 4}, {**CONV, "k": r(1, C, 1, 1, seed=7), "k3": r(C, 1, 1, seed=9),
                                            "k4": r(C, 1, 1, seed=10, positive=True)}, ["Conv"]),
    Case("bn_before_unpadded_conv", [_bn_node("x", "n"), ("Conv", ["n", "w1", "b1"], ["y"])],
         {"x": (None, C, 6, 6)}, {"y": 4}, {**_bn(), "w1": r(3, C, 1, 1, scale=0.3), "b1": r(3, seed=4)},
         ["Conv"]),
    # stays: padding would add zeros the normalization never saw
    Case("bn_before_padded_conv", [_bn_node("x", "n"), ("Conv", ["n", "w1"], ["y"], {"pads": [1, 1, 1, 1]})],
         {"x": (None, C, 6, 6)}, {"y": 4}, {**_bn(), "w1": r(3, C, 3, 3, scale=0.3)},
         ["BatchNormalization", "Conv"]),
    # stays: the Conv's output is read by another node too
    Case("conv_read_twice", [("Conv", ["x", "w", "b"], ["c"]), _bn_node("c", "y"), ("Relu", ["c"], ["z"])],
         {"x": (None, 3, 6, 6)}, {"y": 4, "z": 4}, {**CONV, **_bn()}, ["Conv", "BatchNormalization", "Relu"]),
    # stays: the constant varies along a spatial axis
    Case("conv_mul_spatial", [("Conv", ["x", "w", "b"], ["c"]), ("Mul", ["c", "k"], ["y"])],
         {"x": (None, 3, 6, 6)}, {"y": 4}, {**CONV, "k": r(1, 1, 4, 1, seed=7)}, ["Conv", "Mul"]),
    # a scale with a zero channel folds (and nothing is divided by it on the way)
    Case("conv_times_a_zero_channel", [("Conv", ["x", "w", "b"], ["c"]), ("Mul", ["c", "k"], ["y"])],
         {"x": (None, 3, 6, 6)}, {"y": 4}, {**CONV, "k": np.array([0.5, 0, -2, 1], np.float32).reshape(C, 1, 1)},
         ["Conv"]),
    # stays: a division by a zero channel is inf or nan as it comes, not once folded into the sums
    Case("conv_divided_by_a_zero_channel", [("Conv", ["x", "w", "b"], ["c"]), ("Div", ["c", "k"], ["y"])],
         {"x": (None, 3, 6, 6)}, {"y": 4}, {**CONV, "k": np.array([0.5, 0, -2, 1], np.float32).reshape(C, 1, 1)},
         ["Conv", "Div"]),
    # stays: x / c folds, c / x does not
    Case("const_divided_by_conv", [("Conv", ["x", "w", "b"], ["c"]), ("Div", ["k", "c"], ["y"])],
         {"x": (None, 3, 6, 6)}, {"y": 4}, {**CONV, "k": r(C, 1, 1, seed=7)}, ["Conv", "Div"]),
    # stays: a bias Add after a bare MatMul is already where it belongs
    Case("matmul_bias", [("MatMul", ["x", "m"], ["c"]), ("Add", ["c", "mb"], ["y"])],
         {"x": (None, 5, 8)}, {"y": 3}, {"m": r(8, C, scale=0.3), "mb": r(C, seed=6)}, ["MatMul", "Add"]),
    # a kernel two convolutions share (a shared layer) is scaled into a copy for each
    Case("shared_kernel", [("Conv", ["x", "w"], ["c"]), _bn_node("c", "y"),
                           ("Conv", ["x2", "w"], ["c2"]), _bn_node("c2", "y2", "bn2")],
         {"x": (None, 3, 6, 6), "x2": (None, 3, 5, 5)}, {"y": 4, "y2": 4},
         {"w": CONV["w"], **_bn(), **{k.replace("bn", "bn2"): v[::-1].copy() for k, v in _bn().items()}},
         ["Conv", "Conv"]),
    # two bias-less convolutions, each with a scale then a shift: each gets a bias of its own
    # (the first one's, made as zeros and then shifted, is not shared as zeros with the second)
    Case("two_convs_scale_then_shift", [("Conv", ["x", "w"], ["c"]), ("Mul", ["c", "k"], ["d"]),
                                        ("Add", ["d", "k2"], ["y"]), ("Conv", ["x", "w"], ["c2"]),
                                        ("Mul", ["c2", "k3"], ["d2"]), ("Add", ["d2", "k4"], ["y2"])],
         {"x": (None, 3, 6, 6)}, {"y": 4, "y2": 4},
         {"w": CONV["w"], "k": r(C, 1, 1, seed=7), "k2": r(C, 1, 1, seed=8), "k3": r(C, 1, 1, seed=9),
          "k4": r(C, 1, 1, seed=10)}, ["Conv", "Conv"]),
    # the output keeps its name when the folded node made it
    Case("conv_bn_output_name", [("Conv", ["x", "w", "b"], ["c"]), _bn_node("c", "logits")],
         {"x": (None, 3, 6, 6)}, {"logits": 4}, {**CONV, **_bn()}, ["Conv"]),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_fold_batch_norm(case):
    check(fold_batch_norm, case)


def test_folded_conv_has_just_its_kernel_and_bias():
    out = check(fold_batch_norm, CASES[0])
    assert sorted(tuple(t.dims) for t in out.graph.initializer) == [(C,), (C, 3, 3, 3)]
    assert all(t.data_type == 1 for t in out.graph.initializer)   # float32 stays float32
