"""A layer call's arguments, with the tensors the converter emitted in place
of the TensorRefs the readers recorded.

The readers keep a call's positional arguments in `Call.args` when they are
not a plain list of tensors (op layers: constants, a bare tensor, nested
lists) and its keyword arguments in `Call.kwargs`, with every tensor as a
TensorRef that is also one of `Call.inputs`.
"""
from __future__ import annotations

from ...ir import TensorRef, map_refs


def _count(value) -> int:
    if isinstance(value, TensorRef):
        return 1
    if isinstance(value, (list, tuple)):
        return sum(_count(v) for v in value)
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values())
    return 0


def bound_call(call, inputs, *, preserve: bool = False):
    """(args, kwargs) of `call` with Tensors for TensorRefs.

    Without recorded positional arguments, the first argument is the list of
    positional input tensors; a single one is unnested as Keras does, unless
    `preserve` (op layers keep their first argument's structure)."""
    kwargs = dict(call.kwargs or {}) if call is not None else {}
    refs = tuple(call.inputs) if call is not None else ()
    env = dict(zip(refs, inputs))
    raw_args = call.args if call is not None else None
    kw = map_refs(kwargs, env.__getitem__)
    if raw_args is not None:
        return list(map_refs(list(raw_args), env.__getitem__)), kw
    n = len(inputs) - _count(kwargs)
    first = list(inputs[:n])
    if len(first) == 1 and not preserve:
        return [first[0]], kw
    return [first], kw


def forced_training(ctx) -> bool:
    """Whether this call runs in training mode under Keras's predict(): a
    tf.keras call given training=True explicitly keeps it; Keras 3 records
    `training` in every node but predict() overrides it with False."""
    if ctx.model.keras_major >= 3 or ctx.call is None:
        return False
    return (ctx.call.kwargs or {}).get("training") is True


def refuse_training(ctx, what: str) -> None:
    """Raise the error for a random-at-predict call (see forced_training)."""
    from ...errors import UnsupportedError
    raise UnsupportedError([f"{ctx.where()}: is called with training=True, so Keras {what} at "
                            f"random even in predict(), which cannot be exported; call it with "
                            f"training=False (or leave training unset) and save again"])
