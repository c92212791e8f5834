"""bridge quantize MODEL.onnx [-o OUT.onnx] [--calibration DATA.npz] [--reference REF.npz]
                 [--no-per-channel] [--rtol R] [--atol A] [--provider P]   (bridge.deploy.quantize)"""
from __future__ import annotations

import argparse
import os

from .options import add_tolerances

HELP = "int8 post-training quantization of an exported model (ONNX Runtime's)"
ORDER = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a float32 ONNX file written by 'bridge convert'")
    p.add_argument("-o", "--output", help="the int8 ONNX file (default: MODEL.int8.onnx)")
    p.add_argument("--calibration", metavar="DATA.npz",
                   help="inputs for static quantization ('input:<name>' arrays, or named after "
                        "the inputs); without it, dynamic quantization")
    p.add_argument("--reference", metavar="REF.npz",
                   help="Keras's inputs and outputs to report parity against (default: one "
                        "beside MODEL, else the float model's own outputs)")
    p.add_argument("--per-channel", action=argparse.BooleanOptionalAction, default=True,
                   help="quantize weights per output channel (default) or per tensor")
    add_tolerances(p)


def run(a: argparse.Namespace) -> int:
    from ..deploy.quantize import quantize
    out = a.output or os.path.splitext(a.model)[0] + ".int8.onnx"
    result = quantize(a.model, out, calibration=a.calibration, reference=a.reference,
                      per_channel=a.per_channel, rtol=a.rtol, atol=a.atol, provider=a.provider)
    mode = "static, calibrated on " + a.calibration if a.calibration else "dynamic"
    before, after = os.path.getsize(a.model), os.path.getsize(out)
    print(f"wrote {out} (int8 {mode}; {after / 1e6:.2f} MB, {after / before:.0%} of "
          f"{before / 1e6:.2f} MB)")
    print(result)
    return 0 if result.passed else 1
