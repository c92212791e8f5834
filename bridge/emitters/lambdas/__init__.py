"""Lambda layers translated from their byte code, without running it.

unmarshal.py reads the marshalled code object of any CPython 3.5-3.13 as
data; opcodes.py decodes its instructions for the version that wrote it;
interpret.py runs them symbolically, and namespace.py gives the names and
operations their meaning over the op table (bridge/emitters/tfops); layer.py
registers the Lambda emitter. Importing this package registers it.
"""
from . import layer  # noqa: F401
from .layer import describe, read_function

__all__ = ["describe", "read_function"]
