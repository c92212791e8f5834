"""bridge inspect MODEL [--weights W] [--opset N] [--backend B] [--target T]"""
from __future__ import annotations

import argparse

from .options import BACKENDS, add_target

HELP = "list layers, shapes, weights and support"
ORDER = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model")
    p.add_argument("--weights")
    p.add_argument("--opset", type=int)
    p.add_argument("--backend", choices=BACKENDS,
                   help="the Keras backend the file was saved under (overrides the file)")
    add_target(p)


def run(a: argparse.Namespace) -> int:
    from ..inspect import inspect_model
    print(inspect_model(a.model, weights=a.weights, opset=a.opset, backend=a.backend,
                        target=a.target))
    return 0
