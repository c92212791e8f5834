"""The `bridge` command: one module per subcommand in this package, found by
the dispatcher, so a new subcommand is a new module and nothing else.

A subcommand module defines HELP (one line), `add_arguments(parser)` and
`run(args) -> int` (the exit code); ORDER places it in `bridge --help`.
Errors print one line and exit non-zero (2 for bad input, 1 for a parity
mismatch, 3 for a converter bug); --debug shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings
from types import ModuleType
from typing import Optional, Sequence

from ..errors import MAX_MESSAGE, BridgeError, one_line


def subcommands(only: Optional[str] = None) -> dict:
    """{name: module} of every subcommand module in this package, in ORDER;
    with `only`, just that one when it exists (a command line that names its
    subcommand does not import the others)."""
    names = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    if only in names:
        names = [only]
    found = []
    for name in names:
        mod = importlib.import_module(f"{__name__}.{name}")
        if hasattr(mod, "run") and hasattr(mod, "add_arguments"):
            found.append(mod)
    found.sort(key=lambda m: (getattr(m, "ORDER", 100), _name(m)))
    return {_name(m): m for m in found}


def _name(mod: ModuleType) -> str:
    return getattr(mod, "NAME", mod.__name__.rsplit(".", 1)[-1])


def parser(commands: Optional[dict] = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridge",
                                description="Keras model files to ONNX, without TensorFlow.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, mod in (commands or subcommands()).items():
        mod.add_arguments(sub.add_parser(name, help=mod.HELP))
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = subcommands(next((x for x in args if not x.startswith("-")), None))
    a = parser(commands).parse_args(args)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rc = commands[a.cmd].run(a)
            sys.stdout.flush()
        for w in caught:
            print(f"warning: {one_line(str(w.message), MAX_MESSAGE)}", file=sys.stderr)
        return rc
    except BrokenPipeError:
        return _reader_gone()
    except BridgeError as e:
        if a.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a converter bug, not the user's doing
        if a.debug:
            raise
        print(f"internal error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
              f"(re-run with --debug and report it)", file=sys.stderr)
        return 3


def _reader_gone() -> int:
    """Whoever read our output stopped (`bridge layers | head`): a normal
    end. Later writes (and the flush at exit) go nowhere instead of failing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return 0
