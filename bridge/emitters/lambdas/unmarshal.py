"""Python code objects read from `marshal` bytes of any CPython 3.5-3.13,
without running anything.

Why not `marshal.loads`: it only reads the running interpreter's own code
layout, and the bytes come from the model file, so they are untrusted data.
Why not the `xdis` package (which reads every version's layout): it is GPL
licensed, and this project is Apache-2.0; and what a Lambda needs is a small
part of it. This module reads the marshal stream as data: numbers, strings,
tuples, lists, dicts, sets and code objects become plain Python values and
`Code` records; nothing in the stream is called, imported or evaluated.

The layout of a code object changed twice, and no file records which Python
wrote it (KERAS_FACTS.md), so each layout is tried in turn and the one that
reads the whole stream wins:

    3.5-3.7   argcount kwonly nlocals stacksize flags | code consts names
              varnames freevars cellvars filename name | firstlineno lnotab
    3.8-3.10  argcount posonly kwonly nlocals stacksize flags | ... as above
    3.11+     argcount posonly kwonly stacksize flags | code consts names
              localsplusnames localspluskinds filename name qualname |
              firstlineno linetable exceptiontable

Which minor version inside a layout is decided from the instructions
(opcodes.py).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Optional

LAYOUTS = ("3.11", "3.8", "3.5")     # the first version of each code layout

# 3.11+: what each of localsplusnames is (CO_FAST_LOCAL / CELL / FREE)
_FAST_LOCAL, _FAST_CELL, _FAST_FREE = 0x20, 0x40, 0x80
# co_flags bits the interpreter cares about
CO_VARARGS, CO_VARKEYWORDS, CO_GENERATOR = 0x04, 0x08, 0x20


class MarshalError(ValueError):
    """The bytes are not a marshalled code object of a supported Python."""


@dataclass
class Code:
    """A code object as data. `layout` is the first version of its layout
    ("3.5", "3.8" or "3.11"); `locals` are the fast locals (arguments
    first) as LOAD_FAST numbers them, `cells` the cell then free variable
    names as LOAD_DEREF numbers them before 3.11 (from 3.11 both index
    `localsplus`)."""
    layout: str
    argcount: int
    posonlyargcount: int
    kwonlyargcount: int
    flags: int
    code: bytes
    consts: tuple
    names: tuple
    varnames: tuple
    cellvars: tuple
    freevars: tuple
    filename: str
    name: str
    localsplus: tuple = ()
    stacksize: int = 0
    version: Optional[str] = field(default=None, compare=False)   # set by opcodes.detect

    @property
    def arg_names(self) -> tuple:
        n = self.argcount + self.kwonlyargcount
        n += bool(self.flags & CO_VARARGS) + bool(self.flags & CO_VARKEYWORDS)
        return self.varnames[:n]

    @property
    def deref_names(self) -> tuple:
        """What LOAD_DEREF / STORE_DEREF's argument indexes."""
        return self.localsplus if self.layout == "3.11" else self.cellvars + self.freevars

    @property
    def fast_names(self) -> tuple:
        """What LOAD_FAST / STORE_FAST's argument indexes."""
        return self.localsplus if self.layout == "3.11" else self.varnames


def read_code(data: bytes) -> Code:
    """The code object marshalled in `data` (MarshalError if it is none)."""
    if not data or data[0] & 0x7F != ord("c"):
        raise MarshalError("the bytes do not hold a marshalled code object")
    errors = []
    for layout in LAYOUTS:
        r = _Reader(data, layout)
        try:
            value = r.read()
        except (MarshalError, IndexError, struct.error, UnicodeDecodeError, TypeError, ValueError) as e:
            errors.append(f"{layout}: {e}")
            continue
        if r.pos == len(data) and isinstance(value, Code):
            return value
        errors.append(f"{layout}: {len(data) - r.pos} bytes left over")
    raise MarshalError("the code object matches no CPython 3.5-3.13 layout (" + "; ".join(errors) + ")")


class _Reader:
    """marshal.c's r_object, as data only."""

    def __init__(self, data: bytes, layout: str):
        self.data, self.pos, self.layout = data, 0, layout
        self.refs: list = []
        self.depth = 0

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MarshalError("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def long(self) -> int:
        return struct.unpack("<i", self.take(4))[0]

    def size(self) -> int:
        n = self.long()
        if n < 0 or n > len(self.data):
            raise MarshalError(f"bad size {n}")
        return n

    def read(self):
        self.depth += 1
        if self.depth > 100:
            raise MarshalError("nested too deeply")
        try:
            return self._read()
        finally:
            self.depth -= 1

    def _keep(self, flag: bool, value):
        if flag:
            self.refs.append(value)
        return value

    def _read(self):
        code = self.byte()
        flag, t = bool(code & 0x80), chr(code & 0x7F)
        simple = {"N": None, "F": False, "T": True, ".": Ellipsis, "0": _NULL, "S": StopIteration}
        if t in simple:
            return simple[t]
        if t == "i":
            return self._keep(flag, self.long())
        if t == "l":
            n = self.long()
            digits = struct.unpack(f"<{abs(n)}H", self.take(2 * abs(n)))
            v = sum(d << (15 * i) for i, d in enumerate(digits))
            return self._keep(flag, -v if n < 0 else v)
        if t == "g":
            return self._keep(flag, struct.unpack("<d", self.take(8))[0])
        if t == "y":
            re, im = struct.unpack("<dd", self.take(16))
            return self._keep(flag, complex(re, im))
        if t in "fx":   # textual float / complex (marshal version 0, still readable)
            n = self.byte()
            text = self.take(n).decode("ascii")
            return self._keep(flag, float(text))
        if t == "s":
            return self._keep(flag, bytes(self.take(self.size())))
        if t in "tu":
            return self._keep(flag, self.take(self.size()).decode("utf-8", "surrogatepass"))
        if t in "aA":
            return self._keep(flag, self.take(self.size()).decode("latin-1"))
        if t in "zZ":
            return self._keep(flag, self.take(self.byte()).decode("latin-1"))
        if t in "()[<>":
            n = self.byte() if t == ")" else self.size()
            slot = len(self.refs)
            if flag:
                self.refs.append(None)
            items = [self.read() for _ in range(n)]
            value = {"(": tuple, ")": tuple, "[": list, "<": set, ">": frozenset}[t](items)
            if flag:
                self.refs[slot] = value
            return value
        if t == "{":
            slot = len(self.refs)
            if flag:
                self.refs.append(None)
            d = {}
            while True:
                k = self.read()
                if k is _NULL:
                    break
                d[k] = self.read()
            if flag:
                self.refs[slot] = d
            return d
        if t == "r":
            i = self.long()
            if not 0 <= i < len(self.refs) or self.refs[i] is None:
                raise MarshalError(f"bad reference {i}")
            return self.refs[i]
        if t == "c":
            slot = len(self.refs)
            if flag:
                self.refs.append(None)
            value = self._code()
            if flag:
                self.refs[slot] = value
            return value
        raise MarshalError(f"unknown marshal type {t!r} at byte {self.pos - 1}")

    def _code(self) -> Code:
        lay = self.layout
        argcount = self.long()
        posonly = self.long() if lay != "3.5" else 0
        kwonly = self.long()
        if lay != "3.11":
            self.long()                       # nlocals
        stacksize, flags = self.long(), self.long()
        code = self._typed(bytes, "code")
        consts = self._typed(tuple, "consts")
        names = self._typed(tuple, "names")
        if lay == "3.11":
            plus = self._typed(tuple, "localsplusnames")
            kinds = self._typed(bytes, "localspluskinds")
            if len(kinds) != len(plus):
                raise MarshalError("localsplus names and kinds differ in length")
            varnames = tuple(n for n, k in zip(plus, kinds) if k & _FAST_LOCAL)
            cellvars = tuple(n for n, k in zip(plus, kinds) if k & _FAST_CELL)
            freevars = tuple(n for n, k in zip(plus, kinds) if k & _FAST_FREE)
        else:
            plus = ()
            varnames = self._typed(tuple, "varnames")
            freevars = self._typed(tuple, "freevars")
            cellvars = self._typed(tuple, "cellvars")
        filename = self._typed(str, "filename")
        name = self._typed(str, "name")
        if lay == "3.11":
            self._typed(str, "qualname")
        self.long()                           # firstlineno
        self._typed(bytes, "line table")
        if lay == "3.11":
            self._typed(bytes, "exception table")
        for group in (names, varnames, freevars, cellvars, plus):
            if not all(isinstance(n, str) for n in group):
                raise MarshalError("a name table holds something other than names")
        return Code(lay, argcount, posonly, kwonly, flags, code, consts, names, varnames, cellvars,
                    freevars, filename, name, plus, stacksize)

    def _typed(self, kind, what: str):
        v = self.read()
        if not isinstance(v, kind):
            raise MarshalError(f"{what} is a {type(v).__name__}, not a {kind.__name__}")
        return v


class _Null:
    def __repr__(self):
        return "<NULL>"


_NULL = _Null()
