"""The filled op table: importing this module registers every operation
family in TABLE (the front-ends import TABLE from here)."""
from __future__ import annotations

from . import image, indexing, joins, linalg, math_ops, reductions, shapes  # noqa: F401
from .table import TABLE

__all__ = ["TABLE"]
