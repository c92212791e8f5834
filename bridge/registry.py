"""The emitter registry: Keras class name -> emitter function.

Keyed by the class-name string Keras writes into its config, so nothing here
needs Keras installed. Register your own layer::

    @bridge.register("Swish2")
    def swish2(layer, inputs, ctx):
        x = inputs[0]
        return [x.like(ctx.g.op("Mul", x.name, ctx.g.op("Sigmoid", x.name)))]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class Emitter:
    class_name: str
    fn: Callable
    min_opset: int
    check: Optional[Callable] = None   # (layer, opset) -> list of problems
    note: Optional[Callable] = None    # (layer, keras_major, target) -> str | None, shown by inspect


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
        `note(layer, keras_major, target)` says how a convertible layer is
        exported when that is worth knowing (e.g. a fallback, for the
        bridge.targets.Target converted for); `bridge inspect` shows it.
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

    def lookup(self, class_name: str, opset: int) -> Optional[Emitter]:
        usable = [e for e in self._by_class.get(class_name, ()) if e.min_opset <= opset]
        return usable[-1] if usable else None

    def min_opset(self, class_name: str) -> Optional[int]:
        entries = self._by_class.get(class_name)
        return entries[0].min_opset if entries else None

    def class_names(self) -> list[str]:
        return sorted(self._by_class)

    def __contains__(self, class_name: str) -> bool:
        return class_name in self._by_class


REGISTRY = EmitterRegistry()
register = REGISTRY.register


def support_table(registry: EmitterRegistry = None) -> str:
    """Markdown table of the registered Keras classes (kept in the README)."""
    registry = registry or REGISTRY
    rows = ["| Keras class | from opset | emitter module |", "|---|---|---|"]
    for name in registry.class_names():
        e = registry._by_class[name][0]
        rows.append(f"| {name} | {e.min_opset} | {e.fn.__module__.rsplit('.', 1)[-1]} |")
    return "\n".join(rows)
