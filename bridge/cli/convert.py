"""bridge convert MODEL [-o OUT.onnx] [--weights W] [--opset N] [--backend B] [--target T]
[--batch-size N] [--check]"""
from __future__ import annotations

import argparse
import os

from .options import BACKENDS, add_target, add_tolerances, report

HELP = "convert a Keras file to ONNX"
ORDER = 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="Keras .h5 file, or architecture .json with --weights")
    p.add_argument("-o", "--output", help="ONNX file to write (default: MODEL with .onnx)")
    p.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    p.add_argument("--opset", type=int, help="target ONNX opset (default 17)")
    p.add_argument("--backend", choices=BACKENDS,
                   help="the Keras backend the file was saved under (overrides the file)")
    add_target(p)
    p.add_argument("--batch-size", type=int, help="fix the batch dimension (default: dynamic)")
    p.add_argument("--check", action="store_true", help="check parity after converting (on the "
                                                        "target's runtime unless --runtime says)")
    add_tolerances(p)


def run(a: argparse.Namespace) -> int:
    from ..convert import to_onnx
    out = a.output or os.path.splitext(a.model)[0] + ".onnx"
    proto = to_onnx(a.model, out, weights=a.weights, opset=a.opset, backend=a.backend,
                    target=a.target, batch_size=a.batch_size)
    print(f"wrote {out} (opset {proto.opset_import[0].version}, {len(proto.graph.node)} nodes)")
    if a.check:
        return report(a.model, out, None, a)
    return 0
