"""bridge layers: the supported Keras layer classes as a Markdown table."""
from __future__ import annotations

import argparse

HELP = "print the supported Keras layer classes (Markdown table)"
ORDER = 4


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(a: argparse.Namespace) -> int:
    from .. import emitters  # noqa: F401  (registers the built-in emitters)
    from ..registry import support_table
    print(support_table())
    return 0
