"""bridge check MODEL OUT.onnx [--reference REF] [--weights W] [--rtol R] [--atol A] [--provider P]
                  [--runtime RT] [--layers] [--json [PATH]] [--plot PNG]
bridge check MODEL... [-o OUTDIR] [--jobs N]             (bridge.deploy.batch)"""
from __future__ import annotations

import argparse

from ..errors import OptionError
from .options import add_plugin, add_tolerances, import_plugins, report, tally

HELP = "compare ONNX models with Keras's outputs"
ORDER = 2
KERAS_SUFFIXES = (".h5", ".hdf5", ".keras", ".json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="+", help="the Keras file the ONNX model came from, then the "
                                            "ONNX file; or several Keras files (see -o)")
    p.add_argument("--reference", help=".npz (input:<name>/output:<name>, or input_0../output_0..) "
                                       "or *_inputs_and_outputs.h5")
    p.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    add_tolerances(p)
    p.add_argument("-o", "--output", metavar="OUTDIR",
                   help="with several models: check OUTDIR/<stem>.onnx for each (default: the "
                        ".onnx beside each model)")
    p.add_argument("--jobs", type=int, help="with several models: worker processes")
    p.add_argument("--layers", action="store_true",
                   help="also compare every layer's output with Keras's, in graph order, and name "
                        "the first that diverges (references: 'layer:<name>' arrays in REF, else "
                        "Keras live)")
    p.add_argument("--json", nargs="?", const="-", metavar="PATH",
                   help="write the report as JSON to PATH (alone: to stdout, instead of the text)")
    add_plugin(p)
    p.add_argument("--plot", metavar="PNG", help="draw the error of every layer (implies --layers; "
                                                 "needs the 'plot' extra, matplotlib)")


def run(a: argparse.Namespace) -> int:
    import_plugins(a.plugin)     # the emitters MODEL was converted with, for --layers
    # the one-model form: MODEL and any second path that is not a Keras file
    if len(a.model) == 2 and not a.output and not a.model[1].lower().endswith(KERAS_SUFFIXES):
        return report(a.model[0], a.model[1], a.reference, a)
    from ..deploy.batch import check_files
    if a.layers or a.json or a.plot:
        raise OptionError("--layers, --json and --plot go with one model: bridge check MODEL OUT.onnx")
    if a.reference:
        raise OptionError("--reference goes with one model; with several, each model's reference "
                          "is found beside it (model.npz, model.reference.npz, "
                          "model_inputs_and_outputs.h5)")
    results = check_files(a.model, a.output, jobs=a.jobs, rtol=a.rtol, atol=a.atol,
                          provider=a.provider)
    return tally(results, "checked")
