"""bridge check MODEL OUT.onnx [--reference REF] [--weights W] [--rtol R] [--atol A] [--provider P]
[--runtime RT]"""
from __future__ import annotations

import argparse

from .options import add_tolerances, report

HELP = "compare an ONNX model with Keras's outputs"
ORDER = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the Keras file the ONNX model came from")
    p.add_argument("onnx", help="the ONNX file")
    p.add_argument("--reference", help=".npz (input:<name>/output:<name>, or input_0../output_0..) "
                                       "or *_inputs_and_outputs.h5")
    p.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    add_tolerances(p)


def run(a: argparse.Namespace) -> int:
    return report(a.model, a.onnx, a.reference, a)
