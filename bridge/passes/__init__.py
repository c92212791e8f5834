"""Graph passes over the emitted model, one per module; each takes a Net
(net.py) and returns whether it changed it. run_passes runs them in order:

  remove_noops           Identity and friends; outputs named at their source
  fold_constants         what only depends on initializers, Shape of static shapes
  optimize_transposes    sink / cancel / hoist Transposes (transpose.py)
  merge_reshapes         chains of shape-only ops, keepdims after reductions
  flatten_concats        a Concat of a Concat along the same axis is one Concat
  use_global_pools       ReduceMean over all spatial axes -> GlobalAveragePool
  fold_batch_norm        BatchNormalization and per-channel Mul/Add into Conv/Gemm/MatMul
  fold_zero_pads         zero Pad into Conv / AveragePool / MaxPool (non-negative input)
  guard_zero_pad_maxpool the zero Pads left before a MaxPool become Concats
  fuse_gelu              erf-GELU -> Gelu (opset 20+)
  fuse_hard_activations  Clip/Mul hard sigmoid -> HardSigmoid, x * that -> HardSwish
  prune_unused           last: rewrites leave nodes and constants unused
"""
from .concat import flatten_concats
from .fold_batch_norm import fold_batch_norm
from .fold_constants import fold_constants
from .gelu import fuse_gelu
from .hard_activations import fuse_hard_activations
from .global_pool import use_global_pools
from .maxpool_zero_pad import guard_zero_pad_maxpool
from .net import Net, Node
from .noop import name_outputs_at_source, remove_noops
from .pad_fold import fold_zero_pads
from .prune import prune_unused
from .reshapes import merge_reshapes
from .transpose import optimize_transposes

PASSES = (remove_noops, fold_constants, optimize_transposes, fold_constants, merge_reshapes,
          flatten_concats, remove_noops, use_global_pools, fold_batch_norm, fold_zero_pads,
          guard_zero_pad_maxpool, fuse_gelu, fuse_hard_activations, prune_unused)

__all__ = ["Net", "Node", "PASSES", "run_passes", "on_model", "optimize", "fold_batch_norm", "fold_constants",
           "fuse_gelu", "fuse_hard_activations", "use_global_pools", "guard_zero_pad_maxpool", "remove_noops",
           "fold_zero_pads", "prune_unused", "merge_reshapes", "flatten_concats", "optimize_transposes",
           "name_outputs_at_source"]


def optimize(net: Net) -> Net:
    """Run every pass over `net` (shapes inferred once, kept by the passes)."""
    net.infer_shapes()
    for p in PASSES:
        p(net)
    return net


def run_passes(model) -> None:
    """Optimize an onnx ModelProto in place."""
    net = optimize(Net.from_model(model))
    net.write_to(model)


def on_model(model, *passes) -> None:
    """Run some passes (without shape inference) on an onnx ModelProto in place."""
    net = Net.from_model(model)
    for p in passes:
        p(net)
    net.write_to(model)
