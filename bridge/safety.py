"""Limits on what a model file may ask of the converter.

A model file is untrusted input: it can declare a dataset of 256 GiB in a
few kilobytes, inflate a zip entry a thousandfold, nest its JSON a hundred
thousand levels deep, or name a dimension of 2**40. The readers (and the few
emitters that build constants from config values) check these limits before
they allocate anything, and refuse with a LimitError that names the limit.

The defaults never refuse a real model (a 10,000-layer network, ConvNeXt-
XLarge's 1.3 GiB, a 2.4 GiB dense model); raise them for a file you trust:

    bridge.to_onnx("big.keras", "big.onnx", limits=bridge.Limits(max_weight_bytes=200 << 30))
    bridge.limits.max_weight_bytes = 200 << 30      # the process-wide default
    bridge convert big.keras --limit max_weight_bytes=200GiB

`current()` is the Limits of the conversion running in this thread.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import re
from dataclasses import dataclass

from .errors import LimitError, OptionError


@dataclass
class Limits:
    """What one conversion may read and build (bytes, counts, depths)."""
    # all weights of the model together, as arrays in memory
    max_weight_bytes: int = 64 << 30
    # stored data (a zip entry, a compressed or unallocated HDF5 dataset)
    # may inflate to this many times the bytes that hold it (anything up to
    # 1 MiB always may); Keras itself stores both uncompressed
    max_inflation: int = 100
    # the model's JSON config (config.json, the model_config attribute, a JSON file)
    max_config_bytes: int = 64 << 20
    # nesting of the JSON config, and the number of lists and objects in it
    max_json_depth: int = 200
    max_json_items: int = 5_000_000
    # models nested inside models
    max_model_depth: int = 32
    # layers (nested models' included) and their calls
    max_layers: int = 100_000
    max_calls: int = 1_000_000
    # elements of one input or of one constant the converter builds from
    # config values (a dimension of 2**40 is refused, not allocated)
    max_tensor_elements: int = 1 << 28
    # nodes in the exported graph (a 10,000-layer network has some 30,000)
    max_nodes: int = 1_000_000
    # seconds a child process has to get through an HDF5 file before this
    # process reads it (HDF5's C library loops or crashes on some damaged
    # files); 0 skips that probe for files you trust
    hdf5_probe_seconds: float = 5.0

    def replace(self, **changes) -> "Limits":
        return dataclasses.replace(self, **changes)


SLACK = 1 << 20   # inflation below this many bytes is never refused

# The process-wide default, exported as `bridge.limits`.
DEFAULT = Limits()
_current: contextvars.ContextVar = contextvars.ContextVar("bridge_limits", default=None)


def current() -> Limits:
    got = _current.get()
    return DEFAULT if got is None else got


@contextlib.contextmanager
def applied(limits):
    """Run a conversion under `limits` (a Limits, a dict of fields to
    change, or None for the default)."""
    token = _current.set(resolve(limits))
    try:
        yield
    finally:
        _current.reset(token)


def resolve(limits) -> Limits:
    if limits is None:
        return current()
    if isinstance(limits, Limits):
        return limits
    if isinstance(limits, dict):
        try:
            return current().replace(**limits)
        except TypeError:
            pass
    names = ", ".join(f.name for f in dataclasses.fields(Limits))
    raise OptionError(f"limits={limits!r} is not a bridge.Limits or a dict of its fields ({names})")


_NUMBER = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)


def parse_setting(text: str) -> tuple:
    """'max_weight_bytes=8GiB' -> ('max_weight_bytes', 8589934592)."""
    fields = {f.name: f for f in dataclasses.fields(Limits)}
    key, sep, value = str(text).partition("=")
    key = key.strip().replace("-", "_")
    if not sep or key not in fields:
        raise OptionError(f"--limit {text!r}: expected NAME=VALUE with NAME one of {', '.join(fields)}")
    m = _NUMBER.match(value)
    if not m:
        raise OptionError(f"--limit {text!r}: the value is not a number (sizes may end in KiB, MiB, "
                          f"GiB, TiB)")
    unit = (m.group(2) or "").lower()[:1]
    number = float(m.group(1).replace("_", "")) * (1 << {"": 0, "b": 0, "k": 10, "m": 20, "g": 30, "t": 40}[unit])
    return key, (number if fields[key].type in (float, "float") else int(number))


def size(n: int) -> str:
    """Bytes for messages: '1.5 GiB'."""
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def refuse(what: str, limit_name: str) -> LimitError:
    """The error for `what` (e.g. "dataset 'x' declares 256.0 GiB") over a limit."""
    value = getattr(current(), limit_name)
    shown = size(value) if limit_name.endswith("_bytes") else value
    return LimitError(f"{what}, over the limit {limit_name} ({shown}); if you trust this file, raise "
                      f"it: to_onnx(..., limits=bridge.Limits({limit_name}=...)) or --limit "
                      f"{limit_name}=...")


def check_elements(shape, what: str) -> None:
    """Refuse, before allocating it, a constant of `shape` (a shape or an
    element count) that is over max_tensor_elements."""
    n = 1
    if isinstance(shape, int):
        n = shape
    else:
        for d in shape:
            n *= max(int(d), 0)
    if n > current().max_tensor_elements:
        raise refuse(f"{what} would hold {n} elements", "max_tensor_elements")


def check_count(n: int, what: str) -> None:
    """Refuse, before the loop starts, `n` nodes, node inputs or loop rounds
    (in Python) that one config value asks an emitter for: more than the
    graph may hold (max_nodes)."""
    if n > current().max_nodes:
        raise refuse(f"{what}: {n}", "max_nodes")


def check_inflation(declared: int, stored: int, what: str) -> None:
    """`declared` bytes of data held in `stored` bytes: refused when the
    ratio passes max_inflation (and the amount 1 MiB)."""
    lim = current()
    if declared > SLACK and declared > lim.max_inflation * max(stored, 0):
        raise refuse(f"{what} inflates {size(stored)} to {size(declared)}", "max_inflation")
