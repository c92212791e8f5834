"""The emitter registry: Keras class name -> emitter function.

Keyed by the class-name string Keras writes into its config, so nothing here
needs Keras installed. Register your own layer::

    @bridge.register("Swish2")
    def swish2(layer, inputs, ctx):
        x = inputs[0]
        return [x.like(ctx.g.op("Mul", x.name, ctx.g.op("Sigmoid", x.name)))]

An emitter is `fn(layer, inputs, ctx) -> list of Tensors` (the `Emitter`
protocol): `layer` the IR layer (name, class_name, config, weights),
`inputs` the Tensors of this call, `ctx` the Context (builder, weights,
constants, layouts).

Layouts. A Tensor may be held transposed inside the graph (Tensor.perm: a
channels_last conv stack computes in NCHW). What the emitter is handed is
declared at registration, and dispatch converts every input before the call
(one cached Transpose per tensor and layout):

    layout="keras"           Keras's own order (perm None): the default, safe
                             for any emitter
    layout="channels_first"  channels at ONNX axis 1, as ONNX Conv / Pool
                             want them: a channels_last layer's input
                             transposed NHWC -> NCHW, a data_format=
                             'channels_first' layer's input in Keras order
    layout="any"             as it comes: the emitter reads Tensor.perm
                             itself (elementwise ops, reductions over
                             onnx_axis, ...) and keeps transposes away
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Protocol, Sequence, Union

from .context import Context, Tensor
from .ir import Layer

LAYOUTS = ("keras", "channels_first", "any")


class Emitter(Protocol):
    """What `register` takes: Keras layer call -> the Tensors of its outputs."""

    def __call__(self, layer: Layer, inputs: list[Tensor], ctx: Context) -> Sequence[Tensor]:
        ...


Check = Callable[[Layer, int], list]            # (layer, opset) -> problems
Note = Callable[[Layer, int, object], Optional[str]]   # (layer, keras_major, target) -> note
# A layer's weight names in Keras's order (its `layer.weights`): fixed, or
# computed from its config when options add or drop a weight.
WeightNames = Union[Sequence[str], Callable[[dict], Sequence[str]]]


def with_bias(*names: str) -> Callable[[dict], list]:
    """Weight names followed by 'bias' unless the config says use_bias=False."""
    def names_for(config: dict) -> list:
        return list(names) + ([] if config.get("use_bias", True) is False else ["bias"])
    return names_for


@dataclass(frozen=True)
class Registration:
    """One emitter registered for one Keras class."""
    class_name: str
    fn: Emitter
    min_opset: int
    check: Optional[Check] = None   # (layer, opset) -> list of problems
    note: Optional[Note] = None     # (layer, keras_major, target) -> str | None, shown by inspect
    layout: str = "keras"           # what dispatch hands the emitter (see the module doc)
    weights: Optional[WeightNames] = None   # weight names in Keras's order; None: not declared


class EmitterRegistry:
    def __init__(self):
        self._by_class: dict[str, list[Registration]] = {}

    def register(self, *class_names: str, min_opset: int = 13, check: Optional[Check] = None,
                 note: Optional[Note] = None, layout: str = "keras",
                 weights: Optional[WeightNames] = None,
                 replace: bool = False) -> Callable[[Emitter], Emitter]:
        """Decorator registering `fn(layer, inputs, ctx) -> outputs` for each class name.

        `min_opset` lets one layer have several decompositions: conversion
        picks the highest `min_opset` at or below the target opset.
        `check(layer, opset)` returns the problems that make a layer
        unconvertible, so they can all be reported before emitting anything.
        `note(layer, keras_major, target)` says how a convertible layer is
        exported when that is worth knowing (e.g. a fallback, for the
        bridge.targets.Target converted for); `bridge inspect` shows it.
        `layout` says how the inputs are handed over ("keras", the default,
        "channels_first" or "any"; see the module doc).
        `weights` names the layer's weights in Keras's order (its
        `layer.weights`), as a tuple or a function of the config (see
        `with_bias`); () for a layer without weights. Readers name the
        variables of formats that store no names (Keras 3) with it, so an
        emitter can ask for ctx.weight(layer, "gamma") whatever the format.
        A second registration for the same class and min_opset raises unless
        `replace=True`. A replacement takes over from its `min_opset` up (a
        built-in decomposition for a later opset no longer shadows yours),
        and keeps the class's declared `weights` unless it declares its own
        (they name Keras's variables, whoever emits the layer).
        """
        if not class_names:
            raise TypeError("register() needs at least one Keras class name")
        if layout not in LAYOUTS:
            raise ValueError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")

        def deco(fn: Emitter) -> Emitter:
            for cls in class_names:
                entries = self._by_class.setdefault(cls, [])
                clash = [e for e in entries if e.min_opset == min_opset]
                if clash and not replace:
                    raise ValueError(f"an emitter for {cls!r} at min_opset {min_opset} is already "
                                     f"registered ({clash[0].fn.__module__}.{clash[0].fn.__name__}); "
                                     f"pass replace=True to override it")
                names = weights if weights is not None else next(
                    (e.weights for e in entries if e.weights is not None), None)
                entries[:] = [e for e in entries if e.min_opset < min_opset
                              or (e.min_opset > min_opset and not replace)]
                entries.append(Registration(cls, fn, min_opset, check, note, layout, names))
                entries.sort(key=lambda e: e.min_opset)
            return fn
        return deco

    def unregister(self, class_name: str) -> None:
        self._by_class.pop(class_name, None)

    def _entries(self, class_name: str) -> list:
        """A registered class ('package>Class', as Keras writes it) matches
        its exact name first, then its name without the package. Not the
        other way: a bare 'Class' in a file is the user's own class, which
        a library's 'package>Class' emitter would compute wrongly."""
        entries = self._by_class.get(class_name)
        if not entries and ">" in class_name:
            entries = self._by_class.get(class_name.rpartition(">")[2])
        return entries or []

    def lookup(self, class_name: str, opset: int, name: Optional[str] = None) -> Optional[Registration]:
        """The emitter for a layer of this class (and, given `name`, this
        layer name) at `opset`: one passed for this conversion first (see
        `given`), by layer name then class; else the highest registered
        `min_opset` at or below `opset`."""
        given = _GIVEN.get()
        for key in (name, class_name) + _aliases(class_name, given):
            if key is not None and key in given:
                return Registration(class_name, given[key], 13)
        usable = [e for e in self._entries(class_name) if e.min_opset <= opset]
        return usable[-1] if usable else None

    def min_opset(self, class_name: str) -> Optional[int]:
        entries = self._entries(class_name)
        return entries[0].min_opset if entries else None
    @contextlib.contextmanager
    def given(self, emitters: Optional[Mapping[str, Callable]]):
        """Within the block, `emitters` ({layer name or class name: fn})
        come before the registered ones, for this conversion only: the
        global registry is not touched."""
        for key, fn in (emitters or {}).items():
            if not isinstance(key, str) or not callable(fn):
                raise TypeError(f"emitters maps layer or class names to emitter functions; got "
                                f"{key!r}: {fn!r}")
        token = _GIVEN.set(dict(emitters or {}))
        try:
            yield self
        finally:
            _GIVEN.reset(token)

    def class_names(self) -> list[str]:
        return sorted(self._by_class)

    def weight_names(self, class_name: str, config: dict) -> Optional[list]:
        """The declared weight names of a layer of this class and config, in
        Keras's order; None when no registration declares them."""
        for e in self._entries(class_name):
            if e.weights is not None:
                return list(e.weights(config) if callable(e.weights) else e.weights)
        return None

    def registrations(self, class_name: str) -> list[Registration]:
        """Every registration of a class, lowest min_opset first."""
        return list(self._entries(class_name))

    def __contains__(self, class_name: str) -> bool:
        return bool(self._entries(class_name))


def _aliases(class_name: str, keys) -> tuple:
    """Other spellings of a Keras 3 registered name: 'pkg>Name' -> 'Name';
    'Name' -> every registered 'pkg>Name'."""
    if ">" in class_name:
        return (class_name.split(">", 1)[1],)
    return tuple(k for k in keys if isinstance(k, str) and k.endswith(">" + class_name))


_GIVEN: contextvars.ContextVar = contextvars.ContextVar("bridge_given_emitters", default={})

REGISTRY = EmitterRegistry()
register = REGISTRY.register

PLUGIN_GROUP = "bridge.emitters"
_loaded_plugins: set = set()
_scanned: list = [None]      # the sys.path last scanned: a scan costs milliseconds, so once per path


def load_plugins() -> list:
    """Import the emitter packages installed under the entry-point group
    'bridge.emitters' (once each): an entry point names a module that
    registers emitters when imported, or a function called with REGISTRY.
    Returns the names loaded now."""
    import sys
    from importlib import metadata
    if _scanned[0] == tuple(sys.path):
        return []
    _scanned[0] = tuple(sys.path)
    try:
        eps = metadata.entry_points(group=PLUGIN_GROUP)
    except TypeError:       # Python < 3.10
        eps = metadata.entry_points().get(PLUGIN_GROUP, [])
    loaded = []
    for ep in eps:
        key = f"{ep.name}={ep.value}"
        if key in _loaded_plugins:
            continue
        _loaded_plugins.add(key)
        obj = ep.load()
        if callable(obj) and not isinstance(obj, type(contextlib)):
            obj(REGISTRY)
        loaded.append(ep.name)
    return loaded


def support_table(registry: Optional[EmitterRegistry] = None) -> str:
    """Markdown table of the registered Keras classes (kept in the README)."""
    registry = registry or REGISTRY
    rows = ["| Keras class | from opset | emitter module |", "|---|---|---|"]
    for name in registry.class_names():
        e = registry.registrations(name)[0]
        rows.append(f"| {name} | {e.min_opset} | {e.fn.__module__.rsplit('.', 1)[-1]} |")
    return "\n".join(rows)
