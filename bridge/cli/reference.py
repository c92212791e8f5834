"""bridge reference MODEL [-o REF.npz] [--layers] [--inputs INPUTS.npz] [--weights W] [--seed N]
(bridge.reference.make_reference; needs the Keras that reads MODEL)"""
from __future__ import annotations

import argparse
import os

HELP = "write a reference .npz computed by Keras (inputs, outputs, every layer's output)"
ORDER = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="Keras .h5 / .keras file, or architecture .json with --weights")
    p.add_argument("-o", "--output", metavar="REF.npz",
                   help="the file to write (default: MODEL's stem + .reference.npz, which check "
                        "finds beside the model)")
    p.add_argument("--layers", action="store_true",
                   help="also every layer's output, as 'layer:<name>' ('outer/inner' inside "
                        "nested models)")
    p.add_argument("--inputs", metavar="INPUTS.npz",
                   help="the inputs ('input:<name>' arrays or named after the inputs; default: "
                        "random, standard normal, batch 2)")
    p.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (0)")


def run(a: argparse.Namespace) -> int:
    from ..reference import LAYER_PREFIX, make_reference
    out = a.output or os.path.splitext(a.model)[0] + ".reference.npz"
    arrays = make_reference(a.model, out, layers=a.layers, inputs=a.inputs, weights=a.weights,
                            seed=a.seed)
    count = {k: sum(1 for n in arrays if n.startswith(k)) for k in ("input:", "output:", LAYER_PREFIX)}
    print(f"wrote {out} ({count['input:']} inputs, {count['output:']} outputs"
          + (f", {count[LAYER_PREFIX]} layer outputs" if a.layers else "") + ")")
    return 0
