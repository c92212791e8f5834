"""The emitter registry: Keras class name -> emitter function.

Keyed by the class-name string Keras writes into its config, so nothing here
needs Keras installed. Register your own layer::

    @bridge.register("Swish2")
    def swish2(layer, inputs, ctx):
        x = inputs[0]
        return [x.like(ctx.g.op("Mul", x.name, ctx.g.op("Sigmoid", x.name)))]
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Callable, Mapping, Optional


@dataclass(frozen=True)
class Emitter:
    class_name: str
    fn: Callable
    min_opset: int
    check: Optional[Callable] = None   # (layer, opset) -> list of problems
    note: Optional[Callable] = None    # (layer, keras_major) -> str | None, shown by inspect


class EmitterRegistry:
    def __init__(self):
        self._by_class: dict[str, list[Emitter]] = {}

    def register(self, *class_names: str, min_opset: int = 13, check: Optional[Callable] = None,
                 note: Optional[Callable] = None, replace: bool = False):
        """Decorator registering `fn(layer, inputs, ctx) -> outputs` for each class name.

        `min_opset` lets one layer have several decompositions: conversion
        picks the highest `min_opset` at or below the target opset.
        `check(layer, opset)` returns the problems that make a layer
        unconvertible, so they can all be reported before emitting anything.
        `note(layer, keras_major)` says how a convertible layer is exported
        when that is worth knowing (e.g. a fallback); `bridge inspect` shows it.
        A second registration for the same class and min_opset raises unless
        `replace=True`.
        """
        if not class_names:
            raise TypeError("register() needs at least one Keras class name")

        def deco(fn):
            for cls in class_names:
                entries = self._by_class.setdefault(cls, [])
                clash = [e for e in entries if e.min_opset == min_opset]
                if clash and not replace:
                    raise ValueError(f"an emitter for {cls!r} at min_opset {min_opset} is already "
                                     f"registered ({clash[0].fn.__module__}.{clash[0].fn.__name__}); "
                                     f"pass replace=True to override it")
                entries[:] = [e for e in entries if e.min_opset != min_opset]
                entries.append(Emitter(cls, fn, min_opset, check, note))
                entries.sort(key=lambda e: e.min_opset)
            return fn
        return deco

    def unregister(self, class_name: str) -> None:
        self._by_class.pop(class_name, None)

    def lookup(self, class_name: str, opset: int, name: Optional[str] = None) -> Optional[Emitter]:
        """The emitter for a layer of this class (and, given `name`, this
        layer name) at `opset`: one passed for this conversion first (see
        `given`), by layer name then class; else the highest registered
        `min_opset` at or below `opset`. A Keras 3 registered name
        ('package>ClassName') and its bare class name find each other."""
        given = _GIVEN.get()
        for key in (name, class_name) + _aliases(class_name, given):
            if key is not None and key in given:
                return Emitter(class_name, given[key], 13)
        for key in (class_name,) + _aliases(class_name, self._by_class):
            usable = [e for e in self._by_class.get(key, ()) if e.min_opset <= opset]
            if usable:
                return usable[-1]
        return None

    def min_opset(self, class_name: str) -> Optional[int]:
        for key in (class_name,) + _aliases(class_name, self._by_class):
            if self._by_class.get(key):
                return self._by_class[key][0].min_opset
        return None

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

    def __contains__(self, class_name: str) -> bool:
        return class_name in self._by_class


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


def support_table(registry: EmitterRegistry = None) -> str:
    """Markdown table of the registered Keras classes (kept in the README)."""
    registry = registry or REGISTRY
    rows = ["| Keras class | from opset | emitter module |", "|---|---|---|"]
    for name in registry.class_names():
        e = registry._by_class[name][0]
        rows.append(f"| {name} | {e.min_opset} | {e.fn.__module__.rsplit('.', 1)[-1]} |")
    return "\n".join(rows)
