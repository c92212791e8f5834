"""What each ONNX runtime reads and runs right: one table, consulted by the
pipeline (opset and IR version) and by emitters through `ctx.target` (which
constructs to avoid). Emitters never test a target's name, only its
capabilities, so a new runtime is one row here.

Measured with tests/runtime_matrix.py (numbers in the README):

  onnxruntime  everything the converter emits. The opset and IR version are
               capped at what ONNX Runtime reads on every platform it ships
               for: Node and web 1.30 (npm) read IR 13 and opset 26, while
               the Python 1.32 wheel reads opset 28 (IR 14).
  openvino     LSTM/GRU/RNN nodes only with Sigmoid/Tanh/Relu activations
               (it refuses HardSigmoid, Keras 1/2's default recurrent one,
               and Affine, Elu, Softsign, Softplus); it ignores sequence_lens
               (masks), computes wrong values from initial states and from
               some bidirectional nodes (a GRU's sequence, per-direction
               activations): each direction is a node of its own. It
               resizes a 5-D value only on its last three axes (NCDHW):
               channels-last 3-D upsampling computes channels-first. Its
               casts to float8 round differently (float8 quantized layers
               round in float32 arithmetic instead).
  tract        LSTM/GRU/RNN nodes run with their default activations whatever
               the node says (wrong numbers, no error), a sequence_lens
               computed at run time (a Keras mask) is refused; initial
               states, and an LSTM's Y with Y_c, fail at run time; it has
               no float8 types.
  reference    onnx.reference ignores LSTM/GRU/RNN activations and
               sequence_lens, does not run RNN with Relu, and before opset 15
               computes BatchNormalization with training statistics (its
               momentum attribute is filled in); it implements
               QuantizeLinear / DequantizeLinear only from opset 19, its
               default.
  portable     the intersection: what all of the above run right.

A recurrent layer a target cannot run as one node becomes an explicit
recurrence (an ONNX Scan over time, bridge/emitters/recurrent_scan.py);
`bridge inspect --target` lists those layers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .errors import TargetError

# The activations an ONNX LSTM / GRU / RNN computes when `activations` is not
# given (f, g, h): the only ones some runtimes honour.
RNN_DEFAULTS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh"), "RNN": ("Tanh",)}


@dataclass(frozen=True)
class Target:
    name: str
    runtime: str                 # the runtime bridge.check(runtime=) runs it on
    min_opset: int
    max_opset: int               # highest opset the runtime reads
    max_ir: int                  # highest IR version the runtime reads
    # ONNX activation names its LSTM/GRU/RNN nodes compute (None: all ONNX lists)
    rnn_activations: Optional[frozenset] = None
    rnn_defaults_only: bool = False   # only the ops' default activations, in order
    rnn_sequence_lens: bool = True    # honours a sequence_lens computed at run time
    rnn_initial_states: bool = True   # runs initial_h / initial_c computed in the graph
    rnn_y_with_y_c: bool = True       # gives an LSTM's Y and Y_c from one node
    rnn_bidirectional: bool = True    # runs direction="bidirectional" nodes right
    resize_any_axes: bool = True      # resizes a 5-D value on any axes (not only NC's last three)
    float8_casts: bool = True         # casts to and from float8 types (opset 19) exactly
    why_min_opset: str = ""
    default_opset: int = 17           # what to_onnx(target=...) picks without --opset

    def rnn_node_reason(self, kind: str, acts: list) -> Optional[str]:
        """Why a `kind` node with these ONNX activations cannot run natively
        on this target (None: it can)."""
        if self.rnn_defaults_only and tuple(acts) != RNN_DEFAULTS[kind]:
            return (f"{self.name} runs an ONNX {kind} only with its default activations "
                    f"({', '.join(RNN_DEFAULTS[kind])}), not {', '.join(acts)}")
        if self.rnn_activations is not None:
            bad = sorted(set(acts) - self.rnn_activations)
            if bad:
                return f"{self.name} does not run an ONNX {kind} with {', '.join(bad)}"
        return None


_SIGMOID_TANH_RELU = frozenset({"Sigmoid", "Tanh", "Relu"})

TARGETS = {t.name: t for t in [
    Target("onnxruntime", "onnxruntime", 13, 26, 13),
    Target("openvino", "openvino", 13, 26, 13, rnn_activations=_SIGMOID_TANH_RELU,
           rnn_sequence_lens=False, rnn_initial_states=False, rnn_bidirectional=False,
           resize_any_axes=False, float8_casts=False),
    Target("tract", "tract", 13, 26, 13, rnn_defaults_only=True, rnn_sequence_lens=False,
           rnn_initial_states=False, rnn_y_with_y_c=False, float8_casts=False),
    Target("reference", "reference", 15, 26, 13, rnn_defaults_only=True, rnn_sequence_lens=False,
           default_opset=19, why_min_opset="before opset 15 onnx.reference computes BatchNormalization with "
                         "training statistics"),
    Target("portable", "onnxruntime", 15, 26, 13, rnn_activations=_SIGMOID_TANH_RELU,
           rnn_defaults_only=True, rnn_sequence_lens=False, rnn_initial_states=False,
           rnn_y_with_y_c=False, rnn_bidirectional=False, resize_any_axes=False, float8_casts=False,
           default_opset=19,   # onnx.reference's QuantizeLinear / DequantizeLinear, as for 'reference'
           why_min_opset="before opset 15 onnx.reference computes BatchNormalization with "
                         "training statistics"),
]}
DEFAULT = "onnxruntime"


def get(name) -> Target:
    key = (name or DEFAULT).lower()
    if key not in TARGETS:
        raise TargetError(f"unknown target {name!r}; use one of {', '.join(TARGETS)}")
    return TARGETS[key]
