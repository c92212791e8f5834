"""bridge inspect MODEL [--weights W] [--opset N] [--backend B]"""
from __future__ import annotations

import argparse

from .options import BACKENDS

HELP = "list layers, shapes, weights and support"
ORDER = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model")
    p.add_argument("--weights")
    p.add_argument("--opset", type=int)
    p.add_argument("--backend", choices=BACKENDS,
                   help="the Keras backend the file was saved under (overrides the file)")


def run(a: argparse.Namespace) -> int:
    from ..inspect import inspect_model
    print(inspect_model(a.model, weights=a.weights, opset=a.opset, backend=a.backend))
    return 0
