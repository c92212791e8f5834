"""A Lambda's byte code run symbolically: the stack machine of CPython
3.5-3.13, over values that stand for tensors, constants and module
functions, never over real Python objects of the file.

Only straight-line code is interpreted: every jump (a branch, a loop, a
short-circuit `and` / `or`, a conditional expression), nested functions and
comprehensions, exceptions, generators and stores outside the function's
locals are refused, naming the instruction, because what they compute
cannot be proven from the code alone. What the values mean (a tensor op, a
module attribute, a constant) is the namespace's business (namespace.py):
this module only moves them around the stack as each version lays it out.

Version differences handled here:
- binary operators: BINARY_ADD, INPLACE_ADD, ... up to 3.10; BINARY_OP with
  an operator number from 3.11; BINARY_SLICE from 3.12;
- comparisons: COMPARE_OP's argument is the operator (<= 3.11), the
  operator << 4 (3.12), << 5 (3.13);
- calls: CALL_FUNCTION with keyword pairs on the stack (3.5), CALL_FUNCTION
  and CALL_FUNCTION_KW with a names tuple (3.6+), LOAD_METHOD / CALL_METHOD
  (3.7-3.11), PRECALL + CALL with KW_NAMES (3.11), CALL + KW_NAMES (3.12),
  CALL / CALL_KW (3.13); a callable travels with a NULL beside it (3.11+:
  PUSH_NULL, the low bit of LOAD_GLOBAL and, from 3.12, of LOAD_ATTR; NULL
  first up to 3.12, second in 3.13);
- locals: LOAD_FAST and LOAD_DEREF index the locals and cells (<= 3.10) or
  one `localsplus` table (3.11+); LOAD_FAST_LOAD_FAST and friends (3.13);
  RETURN_CONST (3.12+); CALL_INTRINSIC_1 for unary + and list -> tuple.
"""
from __future__ import annotations

from .opcodes import Instr, at_least
from .unmarshal import CO_GENERATOR, CO_VARARGS, CO_VARKEYWORDS, Code

NULL = type("Null", (), {"__repr__": lambda self: "<NULL>"})()

_BINARY = {"ADD": "+", "SUBTRACT": "-", "MULTIPLY": "*", "TRUE_DIVIDE": "/", "FLOOR_DIVIDE": "//",
           "MODULO": "%", "POWER": "**", "MATRIX_MULTIPLY": "@", "AND": "&", "OR": "|", "XOR": "^",
           "LSHIFT": "<<", "RSHIFT": ">>"}
_BINARY_OP = ("+", "&", "//", "<<", "@", "*", "%", "|", "**", ">>", "-", "/", "^")   # 3.11+ numbering
_COMPARE = ("<", "<=", "==", "!=", ">", ">=")
_UNARY = {"UNARY_NEGATIVE": "-", "UNARY_POSITIVE": "+", "UNARY_INVERT": "~", "UNARY_NOT": "not"}
_NO_OPS = {"NOP", "RESUME", "CACHE", "PRECALL", "COPY_FREE_VARS", "MAKE_CELL", "EXTENDED_ARG"}

# What each refused instruction means, for the message.
_WHY = (("JUMP", "a branch or a loop"), ("FOR_ITER", "a loop"), ("GET_ITER", "a loop"),
        ("MAKE_FUNCTION", "a nested function, lambda or comprehension"),
        ("LOAD_CLOSURE", "a nested function, lambda or comprehension"),
        ("LOAD_FAST_AND_CLEAR", "a comprehension"), ("TO_BOOL", "a branch on a value"),
        ("SETUP", "a try / with block"), ("RAISE", "raising an exception"), ("YIELD", "a generator"),
        ("STORE_ATTR", "changing an attribute"), ("STORE_SUBSCR", "item assignment"),
        ("STORE_GLOBAL", "changing a global"), ("CALL_FUNCTION_EX", "a call with *args or **kwargs"),
        ("BUILD_LIST_UNPACK", "unpacking with *"), ("BUILD_TUPLE_UNPACK", "unpacking with *"),
        ("DICT_MERGE", "a call with **kwargs"), ("UNPACK_EX", "starred unpacking"),
        ("FORMAT", "string formatting"), ("BUILD_STRING", "string formatting"))


class Refused(Exception):
    """The body does something that cannot be translated without running it."""

    def __init__(self, reason: str, instr: Instr | None = None):
        super().__init__(reason)
        self.reason, self.instr = reason, instr


class Interpreter:
    """Runs one code object over `ns` (namespace.Namespace) values."""

    def __init__(self, code: Code, instrs: list, ns):
        self.code, self.instrs, self.ns = code, instrs, ns
        self.version = code.version or code.layout

    def run(self, args: dict, cells: dict):
        """The function's return value, given its arguments by name and the
        values of its free variables (closure cells) by name."""
        c = self.code
        if c.flags & CO_GENERATOR:
            raise Refused("the function is a generator")
        if c.flags & (CO_VARARGS | CO_VARKEYWORDS):
            raise Refused("the function takes *args or **kwargs")
        self.fast = dict(args)
        self.cells = dict(cells)
        self.stack: list = []
        self.kwnames: tuple = ()
        for ins in self.instrs:
            self.ins = ins
            name = ins.name
            if name in _NO_OPS:
                continue
            if name in ("RETURN_VALUE", "RETURN_CONST"):
                return self.pop() if name == "RETURN_VALUE" else self.ns.constant(self.code.consts[ins.arg])
            handler = getattr(self, "op_" + name, None)
            if handler is None:
                handler = self._generic(name)
            handler(ins.arg)
        raise Refused("the body does not end in a return")

    @classmethod
    def static_scan(cls, code: Code, instrs: list, knows_global) -> "Refused | None":
        """What is refused whatever the inputs: an instruction not
        interpreted, or a global name `knows_global(name)` does not know."""
        version = code.version or code.layout
        for ins in instrs:
            name = ins.name
            if name in _NO_OPS or name in ("RETURN_VALUE", "RETURN_CONST") or hasattr(cls, "op_" + name):
                if name in ("LOAD_GLOBAL", "LOAD_NAME"):
                    g = code.names[ins.arg >> 1 if at_least(version, "3.11") and name == "LOAD_GLOBAL"
                                   else ins.arg]
                    if not knows_global(g):
                        return Refused(f"global name '{g}' is not a module this converter knows (tf, K, "
                                       f"keras, ops, np, math) or a Python builtin; if it is a function "
                                       f"of your own, its code is not in the file", ins)
                continue
            if any(name.startswith(p) and name[len(p):] in _BINARY for p in ("BINARY_", "INPLACE_")) \
                    or name in _UNARY:
                continue
            why = next((w for key, w in _WHY if key in name), None)
            return Refused(f"{why} ({name})" if why else f"instruction {name} is not one this converter "
                           f"interprets", ins)
        return None

    # -- the stack ----------------------------------------------------------------------------
    def push(self, v):
        self.stack.append(v)

    def pop(self):
        if not self.stack:
            raise Refused("the byte code pops an empty stack", self.ins)
        return self.stack.pop()

    def popn(self, n: int) -> list:
        if n == 0:
            return []
        if n > len(self.stack):
            raise Refused("the byte code pops an empty stack", self.ins)
        out = self.stack[-n:]
        del self.stack[-n:]
        return out

    def _refuse(self, name: str):
        why = next((w for key, w in _WHY if key in name), None)
        raise Refused(f"{why} ({name})" if why else f"instruction {name} is not one this converter "
                      f"interprets", self.ins)

    def _generic(self, name: str):
        for prefix in ("BINARY_", "INPLACE_"):
            if name.startswith(prefix) and name[len(prefix):] in _BINARY:
                return lambda arg: self._binary(_BINARY[name[len(prefix):]])
        if name in _UNARY:
            return lambda arg: self.push(self.ns.unary(_UNARY[name], self.pop()))
        self._refuse(name)

    def _binary(self, op: str):
        b = self.pop()
        a = self.pop()
        self.push(self.ns.binary(op, a, b))

    # -- constants, locals, cells, globals, attributes ---------------------------------------
    def op_LOAD_CONST(self, arg):
        self.push(self.ns.constant(self.code.consts[arg]))

    def _fast(self, i: int):
        name = self.code.fast_names[i]
        if name not in self.fast:
            raise Refused(f"local variable '{name}' is read before it is set", self.ins)
        return self.fast[name]

    def op_LOAD_FAST(self, arg):
        self.push(self._fast(arg))

    op_LOAD_FAST_CHECK = op_LOAD_FAST

    def op_LOAD_FAST_LOAD_FAST(self, arg):
        self.push(self._fast(arg >> 4))
        self.push(self._fast(arg & 15))

    def op_STORE_FAST(self, arg):
        self.fast[self.code.fast_names[arg]] = self.pop()

    def op_STORE_FAST_LOAD_FAST(self, arg):
        self.op_STORE_FAST(arg >> 4)
        self.push(self._fast(arg & 15))

    def op_STORE_FAST_STORE_FAST(self, arg):
        self.op_STORE_FAST(arg >> 4)
        self.op_STORE_FAST(arg & 15)

    def op_DELETE_FAST(self, arg):
        self.fast.pop(self.code.fast_names[arg], None)

    def op_LOAD_DEREF(self, arg):
        name = self.code.deref_names[arg]
        if name in self.cells:
            self.push(self.cells[name])
        elif name in self.fast:         # 3.11+: an argument that is also a cell
            self.push(self.fast[name])
        else:
            raise Refused(f"closure variable '{name}' has no value in the file", self.ins)

    def op_STORE_DEREF(self, arg):
        self.cells[self.code.deref_names[arg]] = self.pop()

    def op_LOAD_GLOBAL(self, arg):
        if at_least(self.version, "3.11"):
            name, null = self.code.names[arg >> 1], arg & 1
        else:
            name, null = self.code.names[arg], False
        v = self.ns.global_(name)
        self._push_callable(v, null)

    op_LOAD_NAME = op_LOAD_GLOBAL

    def _push_callable(self, v, null):
        """A value with the NULL that 3.11+ keeps beside a callable."""
        if null and self.version == "3.13":
            self.push(v)
            self.push(NULL)
        elif null:
            self.push(NULL)
            self.push(v)
        else:
            self.push(v)

    def op_LOAD_ATTR(self, arg):
        method = False
        if at_least(self.version, "3.12"):
            arg, method = arg >> 1, arg & 1
        obj = self.pop()
        self._push_callable(self.ns.attr(obj, self.code.names[arg]), method)

    def op_LOAD_METHOD(self, arg):
        obj = self.pop()
        self._push_callable(self.ns.attr(obj, self.code.names[arg]), True)

    def op_PUSH_NULL(self, arg):
        self.push(NULL)

    def op_IMPORT_NAME(self, arg):
        fromlist = self.pop()
        level = self.pop()
        self.push(self.ns.import_(self.code.names[arg], fromlist, level))

    def op_IMPORT_FROM(self, arg):
        self.push(self.ns.attr(self.stack[-1] if self.stack else None, self.code.names[arg]))

    # -- stack shuffles ---------------------------------------------------------------------
    def op_POP_TOP(self, arg):
        self.pop()

    def op_DUP_TOP(self, arg):
        self.push(self.stack[-1])

    def op_DUP_TOP_TWO(self, arg):
        self.stack.extend(self.stack[-2:])

    def op_ROT_TWO(self, arg):
        self.stack[-2:] = self.stack[-1:-3:-1]

    def op_ROT_THREE(self, arg):
        self.stack[-3:] = [self.stack[-1]] + self.stack[-3:-1]

    def op_ROT_FOUR(self, arg):
        self.stack[-4:] = [self.stack[-1]] + self.stack[-4:-1]

    def op_COPY(self, arg):
        self.push(self.stack[-arg])

    def op_SWAP(self, arg):
        self.stack[-1], self.stack[-arg] = self.stack[-arg], self.stack[-1]

    # -- operators --------------------------------------------------------------------------
    def op_BINARY_OP(self, arg):
        if arg >= 2 * len(_BINARY_OP):
            self._refuse(f"BINARY_OP {arg}")
        self._binary(_BINARY_OP[arg % len(_BINARY_OP)])

    def op_COMPARE_OP(self, arg):
        shift = 5 if self.version == "3.13" else 4 if self.version == "3.12" else 0
        b, a = self.pop(), self.pop()
        self.push(self.ns.compare(_COMPARE[arg >> shift], a, b))

    def op_IS_OP(self, arg):
        b, a = self.pop(), self.pop()
        self.push(self.ns.compare("is not" if arg else "is", a, b))

    def op_CONTAINS_OP(self, arg):
        b, a = self.pop(), self.pop()
        self.push(self.ns.compare("not in" if arg else "in", a, b))

    def op_CALL_INTRINSIC_1(self, arg):
        if arg == 5:        # INTRINSIC_UNARY_POSITIVE
            self.push(self.ns.unary("+", self.pop()))
        elif arg == 6:      # INTRINSIC_LIST_TO_TUPLE
            self.push(tuple(self.pop()))
        else:
            self._refuse(f"CALL_INTRINSIC_1 {arg}")

    def op_BINARY_SUBSCR(self, arg):
        key = self.pop()
        self.push(self.ns.subscript(self.pop(), key))

    def op_BINARY_SLICE(self, arg):
        stop, start = self.pop(), self.pop()
        self.push(self.ns.subscript(self.pop(), slice(start, stop)))

    def op_BUILD_SLICE(self, arg):
        self.push(slice(*self.popn(arg)))

    # -- containers -------------------------------------------------------------------------
    def op_BUILD_TUPLE(self, arg):
        self.push(tuple(self.popn(arg)))

    def op_BUILD_LIST(self, arg):
        self.push(list(self.popn(arg)))

    def op_LIST_EXTEND(self, arg):
        v = self.pop()
        if not isinstance(v, (list, tuple)):
            raise Refused("a list is extended with something that is not a list or a tuple", self.ins)
        self.stack[-arg].extend(v)

    def op_LIST_TO_TUPLE(self, arg):
        self.push(tuple(self.pop()))

    def op_BUILD_MAP(self, arg):
        items = self.popn(2 * arg)
        self.push(dict(zip(items[::2], items[1::2])))

    def op_BUILD_CONST_KEY_MAP(self, arg):
        keys = self.pop()
        self.push(dict(zip(keys, self.popn(arg))))

    def op_UNPACK_SEQUENCE(self, arg):
        seq = self.ns.unpack(self.pop(), arg)
        self.stack.extend(reversed(list(seq)))

    # -- calls ------------------------------------------------------------------------------
    def _call(self, fn, args, kwargs=None):
        self.push(self.ns.call(fn, list(args), dict(kwargs or {})))

    def _with_names(self, args: list, names: tuple):
        n = len(names)
        return (args[:len(args) - n], dict(zip(names, args[len(args) - n:]))) if n else (args, {})

    def op_CALL_FUNCTION(self, arg):
        if self.version == "3.5":
            nkw, npos = arg >> 8, arg & 0xFF
            pairs = self.popn(2 * nkw)
            kwargs = dict(zip(pairs[::2], pairs[1::2]))
            args = self.popn(npos)
            self._call(self.pop(), args, kwargs)
        else:
            args = self.popn(arg)
            self._call(self.pop(), args)

    def op_CALL_FUNCTION_KW(self, arg):
        names = self.pop()
        args, kwargs = self._with_names(self.popn(arg), names)
        self._call(self.pop(), args, kwargs)

    def _two_slots(self):
        """The callable of a 3.7+ method-style call (NULL beside it, or a
        method and its object: never made here, as attributes resolve)."""
        b, a = self.pop(), self.pop()
        if a is NULL:
            return b
        if b is NULL:
            return a
        raise Refused("a method call on an object this converter did not resolve", self.ins)

    def op_CALL_METHOD(self, arg):
        args = self.popn(arg)
        self._call(self._two_slots(), args)

    def op_KW_NAMES(self, arg):
        self.kwnames = self.code.consts[arg]

    def op_CALL(self, arg):
        args, kwargs = self._with_names(self.popn(arg), self.kwnames)
        self.kwnames = ()
        self._call(self._two_slots(), args, kwargs)

    def op_CALL_KW(self, arg):
        names = self.pop()
        args, kwargs = self._with_names(self.popn(arg), names)
        self._call(self._two_slots(), args, kwargs)
