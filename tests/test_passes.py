"""Graph passes, each on the structure it promises (parity is in the case tables)."""
import os

import bridge
from tests.helpers import FIXTURES, OPSETS, count_ops


def _pred(proto, op_type):
    """op types feeding each node of op_type."""
    made_by = {o: n.op_type for n in proto.graph.node for o in n.output}
    return [made_by.get(n.input[0]) for n in proto.graph.node if n.op_type == op_type]


def test_zero_pad_never_meets_maxpool():
    src = os.path.join(FIXTURES, "pooling", "zero_pad_maxpool2d_same_negative.h5")
    for opset in OPSETS:
        proto = bridge.to_onnx(src, opset=opset)
        assert _pred(proto, "MaxPool") == ["Conv"]        # the zero padding, as a 1x1 Conv by 1
        assert count_ops(proto, "Pad") == 0


def test_zero_pad_before_conv_folds_into_it():
    # exact: Conv pads with zeros too
    src = os.path.join(FIXTURES, "conv", "zero_pad_conv2d.h5")
    proto = bridge.to_onnx(src)
    assert count_ops(proto, "Pad") == 0 and count_ops(proto, "Concat") == 0


def test_outputs_named_at_source():
    proto = bridge.to_onnx(os.path.join(FIXTURES, "core", "dense_2d.h5"))
    assert count_ops(proto, "Identity") == 0
    assert proto.graph.node[-1].output[0] == proto.graph.output[0].name


def test_output_that_feeds_other_layers_keeps_its_identity():
    proto = bridge.to_onnx(os.path.join(FIXTURES, "models", "intermediate_output.h5"))
    assert [o.name for o in proto.graph.output] == ["hidden", "head"]
    assert count_ops(proto, "Identity") == 1


def test_nothing_unused_is_left():
    proto = bridge.to_onnx(os.path.join(FIXTURES, "models", "nested_shared_functional.h5"))
    used = {i for n in proto.graph.node for i in n.input}
    assert all(t.name in used for t in proto.graph.initializer)


def test_zero_pad_rewrite_leaves_no_unused_constant():
    proto = bridge.to_onnx(os.path.join(FIXTURES, "pooling", "zero_pad_maxpool2d_negative.h5"))
    used = {i for n in proto.graph.node for i in n.input}
    assert all(t.name in used for t in proto.graph.initializer)
