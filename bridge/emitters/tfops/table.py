"""The op table and the front-ends' spellings of its ops.

`OpTable` holds each operation once, under a canonical name; its declared
parameters are the Python signature of its implementation
`fn(ctx, <params>)`. `Frontend` maps one source's spellings (TF symbols,
raw TF op types, keras.ops functions) onto table entries: a `Spelling` says
how that source's arguments (positional order, renamed keywords, its own
defaults, arguments that must keep their default) become the op's.
Registering a name twice raises, as bridge.registry does, unless
`replace=True`.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable

from .values import refuse


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable
    signature: inspect.Signature = field(repr=False)

    @property
    def params(self) -> tuple:
        """The declared parameter names, in positional order (ctx excluded)."""
        return tuple(self.signature.parameters)[1:]

    def invoke(self, ctx, args=(), kwargs=None, what: str | None = None):
        """fn(ctx, *args, **kwargs), after checking them against the declared
        parameters; `what` names the op in messages (default: its name)."""
        try:
            bound = self.signature.bind(ctx, *args, **(kwargs or {}))
        except TypeError as e:
            refuse(ctx, f"{what or self.name}: {e}")
        return self.fn(*bound.args, **bound.kwargs)


class OpTable:
    def __init__(self):
        self._ops: dict[str, Op] = {}
        self.frontends: dict[str, Frontend] = {}

    def register(self, *names: str, replace: bool = False):
        """Decorator: `fn(ctx, ...)` implements the op under each name."""
        if not names:
            raise TypeError("register() needs at least one op name")

        def deco(fn):
            for name in names:
                self.add(name, fn, replace=replace)
            return fn
        return deco

    def add(self, name: str, fn: Callable, *, replace: bool = False) -> Op:
        if name in self._ops and not replace:
            old = self._ops[name].fn
            raise ValueError(f"op {name!r} is already registered ({old.__module__}.{old.__qualname__}); "
                             f"pass replace=True to override it")
        sig = inspect.signature(fn)
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        if not sig.parameters or any(p.kind not in kinds for p in sig.parameters.values()):
            raise TypeError(f"op {name!r}: fn(ctx, ...) must declare every parameter by name "
                            f"(no *args / **kwargs)")
        self._ops[name] = Op(name, fn, sig)
        return self._ops[name]

    def __getitem__(self, name: str) -> Op:
        return self._ops[name]

    def __contains__(self, name) -> bool:
        return name in self._ops

    def names(self) -> list:
        return sorted(self._ops)

    def call(self, ctx, name: str, *args, **kwargs):
        """Op `name` on Tensors and Python constants, arguments bound by its
        declared parameters; returns a Tensor (or a list for split/unstack)."""
        return self._ops[name].invoke(ctx, args, kwargs)

    def frontend(self, source: str, display: str) -> Frontend:
        """A new front-end; `display` formats a spelling for messages ("tf.{}")."""
        if source in self.frontends:
            raise ValueError(f"front-end {source!r} already exists")
        self.frontends[source] = Frontend(self, source, display)
        return self.frontends[source]


@dataclass(frozen=True)
class Spelling:
    """How one source writes an op. `params` is the source's positional
    order in its own names (a last "*rest" collects the remaining positional
    arguments into a list); "name" (the graph-node name) is dropped wherever
    it appears. `rename` maps the source's names to the op's, `defaults`
    holds the source's defaults where they differ from the op's, `ignore`
    the arguments that do not change the result, `only_default` the
    arguments accepted only at the given value, and `adapt(ctx, kwargs)`
    rewrites the bound arguments (in the op's names) where the source
    encodes them differently. `prepare` is for the front-end itself (how
    its recorded call becomes positional and keyword arguments)."""
    display: str
    op: str
    params: tuple
    rename: Mapping = field(default_factory=dict)
    defaults: Mapping = field(default_factory=dict)
    ignore: tuple = ()
    only_default: Mapping = field(default_factory=dict)
    adapt: Callable | None = None
    prepare: Callable | None = None

    def bind(self, ctx, args=(), kwargs=None) -> dict:
        """The op's keyword arguments for a call written in this spelling."""
        star = self.params[-1][1:] if self.params and self.params[-1].startswith("*") else None
        named = self.params[:-1] if star else self.params
        if len(args) > len(named) and star is None:
            refuse(ctx, f"{self.display} takes at most {len(named)} positional arguments "
                        f"({len(args)} given)")
        bound = dict(zip(named, args))
        for k, v in (kwargs or {}).items():
            if k in bound:
                refuse(ctx, f"{self.display} got two values for argument '{k}'")
            bound[k] = v
        if star:
            extra = list(args[len(named):])
            if star in bound and extra:
                refuse(ctx, f"{self.display} got two values for argument '{star}'")
            bound.setdefault(star, extra)
        for k in ("name",) + tuple(self.ignore):
            bound.pop(k, None)
        for k, v in self.defaults.items():
            bound.setdefault(k, v)
        for k, default in self.only_default.items():
            if k in bound and not _same(bound.pop(k), default):
                refuse(ctx, f"{self.display} with {k} other than {default!r} is not supported")
        out = {}
        for k, v in bound.items():
            k = self.rename.get(k, k)
            if k in out:
                refuse(ctx, f"{self.display} got '{k}' under two names")
            out[k] = v
        return self.adapt(ctx, out) if self.adapt else out


def _same(value, default) -> bool:
    if value is default:
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):   # arrays
        return False


class Frontend(Mapping):
    """One source's spellings -> table ops (a read-only mapping by spelling)."""

    def __init__(self, table: OpTable, source: str, display: str):
        self.table, self.source, self.display = table, source, display
        self._by_name: dict[str, Spelling] = {}

    def spell(self, *names: str, op: str, params: tuple | None = None, replace: bool = False,
              **how) -> None:
        """Spell table op `op` as each of `names` (see Spelling for `how`);
        `params` defaults to the op's own parameters."""
        if op not in self.table:
            raise ValueError(f"{self.source} spelling {names[0]!r}: no op {op!r} in the table")
        for name in names:
            if name in self._by_name and not replace:
                raise ValueError(f"{self.source} spelling {name!r} is already mapped to "
                                 f"{self._by_name[name].op!r}; pass replace=True to override it")
            self._by_name[name] = Spelling(self.display.format(name), op,
                                           tuple(self.table[op].params if params is None else params),
                                           **how)

    def call(self, ctx, name: str, args=(), kwargs=None):
        """The op spelled `name`, called as this source writes it."""
        sp = self._by_name[name]
        return self.table[sp.op].invoke(ctx, (), sp.bind(ctx, args, kwargs), what=sp.display)

    def __getitem__(self, name: str) -> Spelling:
        return self._by_name[name]

    def __iter__(self):
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)


TABLE = OpTable()
