"""The Lambda layer: its function read from the config and translated
without running it.

How Keras stores the function (KERAS_FACTS.md):
- Keras 2 / tf.keras: config "function" is [code, defaults, closure] with
  `code` the base64 of marshal.dumps(func.__code__) (Keras 1 and 2.0: the
  raw marshal bytes as a raw_unicode_escape string; very old files: the
  code alone), function_type "lambda"; "function" type: the name of a
  function of `module` (builtins, library functions).
- Keras 3: {"class_name": "__lambda__", "config": {"code", "defaults",
  "closure"}} for a lambda; {"class_name": "function", "module": ...,
  "config": name} for a named function, whose code is not in the file.
- `arguments` are keyword arguments the function is called with; Keras
  calls function(inputs, **arguments) with `inputs` one tensor or the list
  of them, and mask=None / training=False when the function takes them.

The code is decoded (unmarshal.py, opcodes.py) and interpreted
symbolically (interpret.py over namespace.py) into ONNX nodes through the
op table. A code object that lives in a library (its file is TensorFlow's
or Keras's own: `Lambda(tf.nn.relu)` stores the wrapper's byte code) and a
named-function reference are looked up as that library's function, never
interpreted. Whatever cannot be proven is refused with the disassembled
body and how to give the layer an emitter of one's own.

Config keys read: function, function_type, module, arguments, output_shape.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Optional

from ...errors import UnsupportedError
from ...registry import register
from ..tfops.values import plain
from .interpret import Interpreter, Refused
from .namespace import ROOT_NAMES, Namespace, Ref, Shape
from .opcodes import DecodeError, detect, disassemble
from .unmarshal import Code, MarshalError, read_code

# Where a library function's code lives -> the namespace root it is called through.
_LIBRARY_FILES = ((re.compile(r"(^|[/\\])(tf_keras|keras)[/\\](src[/\\])?backend"), "K"),
                  (re.compile(r"(^|[/\\])keras[/\\](src[/\\])?ops"), "ops"),
                  (re.compile(r"(^|[/\\])(tf_keras|keras)[/\\](src[/\\])?activations"), "activations"),
                  (re.compile(r"(^|[/\\])tensorflow[/\\]"), "tf"))
_TF_PREFIXES = ("", "nn.", "math.", "image.", "linalg.")
HOW_TO = ("to convert it anyway, give the layer an emitter of your own: "
          "bridge.to_onnx(src, dst, emitters={{'{name}': fn}}) or `bridge convert --plugin MODULE` "
          "(README, 'Writing an emitter')")


@dataclass
class LambdaFunction:
    """What the config says the function is."""
    code: Optional[Code] = None
    instrs: list = field(default_factory=list)
    defaults: tuple = ()
    closure: tuple = ()
    module: str = ""
    name: str = ""
    problem: str = ""        # why it cannot be read at all

    @property
    def body(self) -> str:
        if self.code is None:
            return f"    {self.module + '.' if self.module else ''}{self.name}  # a reference, no code in the file"
        return disassemble(self.code, self.instrs)


def _raw_code(text: str) -> bytes:
    """Keras's func_load: base64, else the raw_unicode_escape string of Keras 1 / 2.0."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=False)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return text.encode("raw_unicode_escape")


def read_function(layer) -> LambdaFunction:
    c = layer.config
    fn = c.get("function")
    if isinstance(fn, dict) and fn.get("class_name") == "__lambda__":
        conf = fn.get("config") or {}
        fn = [conf.get("code"), conf.get("defaults"), conf.get("closure")]
    elif isinstance(fn, dict):          # Keras 3: a named function, by reference only
        return LambdaFunction(module=str(fn.get("module") or ""), name=str(fn.get("config") or ""))
    if c.get("function_type") == "function" and isinstance(fn, str):
        return LambdaFunction(module=str(c.get("module") or ""), name=fn)
    if isinstance(fn, str):
        fn = [fn, None, None]
    if not isinstance(fn, (list, tuple)) or not fn or not isinstance(fn[0], str):
        return LambdaFunction(problem="the config holds no function")
    out = LambdaFunction(defaults=tuple(plain(fn[1]) or ()) if len(fn) > 1 else (),
                         closure=tuple(plain(fn[2]) or ()) if len(fn) > 2 else ())
    try:
        out.code = read_code(_raw_code(fn[0]))
        detect_version = detect(out.code)
        out.instrs = detect_version[1]
    except (MarshalError, DecodeError) as e:
        out.code = None
        out.problem = f"its byte code cannot be read: {e}"
        return out
    for pattern, root in _LIBRARY_FILES:
        if pattern.search(out.code.filename):
            out.module, out.name = root, out.code.name
            break
    return out


def _library_ref(fn: LambdaFunction) -> Optional[Ref]:
    """The namespace path of a library function named by module and name."""
    module, name = fn.module, fn.name
    if module == "builtins":
        return Ref("builtins", (name,)) if Namespace.knows_global(name) and name not in ROOT_NAMES else None
    for pattern, root in _LIBRARY_FILES:
        if module == root or pattern.search(module.replace(".", "/") + "/"):
            if root == "activations":
                return Ref("keras", ("activations", name))
            if root == "tf":
                from ..tfops.tf_functions import TF
                hint = "nn." if "nn" in module else "math." if "math" in module else \
                    "image." if "image" in module else ""
                for p in (hint,) + _TF_PREFIXES:
                    if p + name in TF:
                        return Ref("tf", tuple((p + name).split(".")))
                return None
            return Ref(root, (name,))
    return None


def _problem(layer, fn: LambdaFunction) -> Optional[str]:
    """Why the function cannot be translated, found without tensors (None: try it)."""
    if fn.problem:
        return fn.problem
    if fn.module or fn.code is None:
        if _library_ref(fn) is None:
            return (f"the file records only the name of function '{fn.name}' of module '{fn.module}', "
                    f"not its code, and it is not a function this converter knows")
        return None
    scan = Interpreter.static_scan(fn.code, fn.instrs, Namespace.knows_global)
    return None if scan is None else _refusal_text(scan, fn)


def _refusal_text(r: Refused, fn: LambdaFunction) -> str:
    at = f" at offset {r.instr.offset} ({r.instr.name})" if r.instr is not None else ""
    return f"cannot translate its function without running it: {r.reason}{at}; the body is\n{fn.body}"


def _check(layer, opset) -> list:
    p = _problem(layer, read_function(layer))
    return [] if p is None else [f"{p}\n{HOW_TO.format(name=layer.name)}"]


def _bind(layer, fn: LambdaFunction, inputs):
    """The function's arguments by name and its closure cells by name."""
    code = fn.code
    arguments = dict(plain(layer.config.get("arguments") or {}))
    params = code.varnames[:code.argcount + code.kwonlyargcount]
    if not params:
        raise Refused("the function takes no argument")
    args = {params[0]: inputs}
    positional = code.varnames[:code.argcount]
    defaults = dict(zip(positional[len(positional) - len(fn.defaults):], fn.defaults)) if fn.defaults else {}
    for p in params[1:]:
        if p in arguments:
            args[p] = arguments.pop(p)
        elif p == "mask":
            args[p] = None
        elif p == "training":
            args[p] = False
        elif p in defaults:
            args[p] = defaults[p]
        else:
            raise Refused(f"argument '{p}' has no value in the file (keyword-only defaults are not saved)")
    if arguments:
        raise Refused(f"the config passes arguments the function does not take: {sorted(arguments)}")
    if len(fn.closure) != len(code.freevars):
        raise Refused(f"the closure holds {len(fn.closure)} values for {len(code.freevars)} free variables")
    return args, dict(zip(code.freevars, fn.closure))


def _stored_shape(layer, n_out: int):
    """Keras's output_shape when the config stores one as a shape (not a function)."""
    s = layer.config.get("output_shape")
    if layer.config.get("output_shape_type", "raw") != "raw" or not isinstance(s, (list, tuple)) or not s:
        return None
    if n_out == 1 and all(d is None or isinstance(d, int) for d in s):
        return [tuple(s)]
    return None


def _merge(t, stored):
    if stored is None:
        return t
    stored = tuple(stored)
    if len(stored) == t.rank - 1:
        stored = (None,) + stored
    if len(stored) != t.rank:
        return t
    shape = tuple(a if a is not None else b for a, b in zip(t.shape, stored))
    from dataclasses import replace
    return replace(t, shape=shape)


def _outputs(value, ctx) -> list:
    from ...context import Tensor
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)) and not isinstance(value, Shape) and value \
            and all(isinstance(v, Tensor) for v in value):
        return list(value)
    raise Refused(f"the function returns {type(value).__name__}, not a tensor or a list of tensors")


def _note(layer, keras_major, target=None):
    fn = read_function(layer)
    return "translated from its byte code" if fn.code is not None and not fn.module else "a library function"


@register("Lambda", check=_check, note=_note, layout="any", weights=())
def lambda_layer(layer, inputs, ctx):
    """Lambda(function, arguments, output_shape): the function's byte code
    interpreted symbolically over the op table (see the module doc)."""
    fn = read_function(layer)
    problem = _problem(layer, fn)
    if problem is not None:
        raise UnsupportedError([f"{ctx.where()}: {problem}\n{HOW_TO.format(name=layer.name)}"],
                               ctx.model.source)
    call_inputs = inputs[0] if len(inputs) == 1 else list(inputs)
    ns = Namespace(ctx)
    try:
        if fn.code is None or fn.module:
            arguments = dict(plain(layer.config.get("arguments") or {}))
            value = ns.call(_library_ref(fn), [call_inputs], arguments)
        else:
            args, cells = _bind(layer, fn, call_inputs)
            value = Interpreter(fn.code, fn.instrs, ns).run(args, cells)
        outs = _outputs(value, ctx)
    except Refused as r:
        raise UnsupportedError([f"{ctx.where()}: {_refusal_text(r, fn)}\n{HOW_TO.format(name=layer.name)}"],
                               ctx.model.source) from None
    stored = _stored_shape(layer, len(outs))
    return [_merge(t, s) for t, s in zip(outs, stored or [None] * len(outs))]


def describe(layer) -> str:
    """The function's body as `bridge inspect` shows it."""
    fn = read_function(layer)
    return fn.body if not fn.problem else f"    ({fn.problem})"
