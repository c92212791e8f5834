"""bridge convert MODEL [-o OUT.onnx] [--weights W] [--opset N] [--backend B] [--check]"""
from __future__ import annotations

import argparse
import os

from .options import BACKENDS, add_tolerances, report

HELP = "convert a Keras file to ONNX"
ORDER = 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="Keras .h5 file, or architecture .json with --weights")
    p.add_argument("-o", "--output", help="ONNX file to write (default: MODEL with .onnx)")
    p.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    p.add_argument("--opset", type=int, help="target ONNX opset (default 17)")
    p.add_argument("--backend", choices=BACKENDS,
                   help="the Keras backend the file was saved under (overrides the file)")
    p.add_argument("--check", action="store_true", help="check parity after converting")
    add_tolerances(p)


def run(a: argparse.Namespace) -> int:
    from ..convert import to_onnx
    out = a.output or os.path.splitext(a.model)[0] + ".onnx"
    proto = to_onnx(a.model, out, weights=a.weights, opset=a.opset, backend=a.backend)
    print(f"wrote {out} (opset {proto.opset_import[0].version}, {len(proto.graph.node)} nodes)")
    if a.check:
        return report(a.model, out, None, a)
    return 0
