"""bridge convert MODEL [-o OUT.onnx] [--weights W] [--opset N] [--backend B] [--target T]
                      [--batch-size N] [--check]
                      [--precision fp32|fp16] [--no-keep-io-types] [--external-data]
bridge convert MODEL... -o OUTDIR/ [--jobs N]                 (bridge.deploy.batch)
bridge convert MODEL... --triton-repo DIR [--name N] [--max-batch B]  (bridge.deploy.triton)"""
from __future__ import annotations

import argparse
import os

from ..deploy.triton import DEFAULT_MAX_BATCH
from ..errors import OptionError
from .options import (BACKENDS, add_limits, add_plugin, add_target, add_tolerances, import_plugins,
                      limits_from, report, tally)

HELP = "convert Keras files to ONNX"
ORDER = 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="+", help="Keras .h5 / .keras file, or architecture .json with "
                                            "--weights; several convert in parallel (see -o)")
    p.add_argument("-o", "--output", help="ONNX file to write (default: MODEL with .onnx), or a "
                                          "folder (OUTDIR/) for OUTDIR/<stem>.onnx")
    p.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    p.add_argument("--opset", type=int, help="target ONNX opset (default 17)")
    p.add_argument("--backend", choices=BACKENDS,
                   help="the Keras backend the file was saved under (overrides the file)")
    add_target(p)
    p.add_argument("--batch-size", type=int, help="fix the batch dimension (default: dynamic)")
    p.add_argument("--external-data", action="store_true",
                   help="write the weights to OUT.onnx.data beside the model (automatic above 2 GiB)")
    p.add_argument("--check", action="store_true", help="check parity after converting (on the "
                                                        "target's runtime unless --runtime says)")
    add_tolerances(p)
    p.add_argument("--precision", choices=["fp32", "fp16"], default="fp32",
                   help="fp16: float16 weights and arithmetic, float32 kept where float16 loses "
                        "too much (needs the 'fp16' extra)")
    p.add_argument("--keep-io-types", action=argparse.BooleanOptionalAction, default=True,
                   help="with --precision fp16: float inputs and outputs stay float32 (default); "
                        "--no-keep-io-types makes them float16")
    p.add_argument("--triton-repo", metavar="DIR",
                   help="write a Triton model repository entry DIR/NAME/1/model.onnx + "
                        "DIR/NAME/config.pbtxt instead of -o")
    p.add_argument("--name", help="with --triton-repo: the model's name (default: the file's stem)")
    p.add_argument("--max-batch", type=int, default=DEFAULT_MAX_BATCH,
                   help=f"with --triton-repo: max_batch_size, 0 for none ({DEFAULT_MAX_BATCH})")
    add_plugin(p)
    p.add_argument("--jobs", type=int, help="with several files: worker processes (default: one "
                                            "per CPU, at most one per file)")
    add_limits(p)


def run(a: argparse.Namespace) -> int:
    import_plugins(a.plugin)
    if _many(a):
        return _convert_many(a)
    from ..convert import convert_file
    from ..progress import Progress
    model = a.model[0]
    out = a.output or os.path.splitext(model)[0] + ".onnx"
    with Progress() as progress:      # on a terminal, for conversions past a second or two
        proto, external = convert_file(model, out, weights=a.weights, opset=a.opset,
                                       backend=a.backend, precision=a.precision,
                                       keep_io_types=a.keep_io_types, target=a.target,
                                       batch_size=a.batch_size, limits=limits_from(a),
                                       external_data=a.external_data or None, progress=progress)
    where = f"{out} and {out}.data" if external else out
    print(f"wrote {where} (opset {proto.opset_import[0].version}, {len(proto.graph.node)} nodes)")
    if a.check:
        return report(model, out, None, a)
    return 0


def _many(a) -> bool:
    """Several files, a Triton repository, or -o naming a folder with a
    trailing slash (an existing folder without one is refused as the file
    to write, so a mistyped destination never converts somewhere else)."""
    out = a.output or ""
    return len(a.model) > 1 or bool(a.triton_repo) or out.endswith(("/", os.sep))


def _convert_many(a) -> int:
    from ..deploy.batch import convert_files
    if a.triton_repo and a.output:
        raise OptionError("pass -o OUT or --triton-repo DIR, not both")
    if len(a.model) > 1 and a.weights:
        raise OptionError("--weights goes with one architecture JSON; convert such files one at a time")
    if len(a.model) > 1 and a.name:
        raise OptionError("--name names one model; with several files each is named after its file")
    options = {"opset": a.opset, "backend": a.backend, "precision": a.precision,
               "keep_io_types": a.keep_io_types, "limits": limits_from(a)}
    for_files = {"target": a.target, "batch_size": a.batch_size, "external_data": a.external_data or None}
    if a.triton_repo:
        given = [f"--{k.replace('_', '-')}" for k, v in for_files.items() if v is not None]
        if given:
            raise OptionError(f"{', '.join(given)} do not go with --triton-repo (Triton serves the "
                              f"model with ONNX Runtime and batches it itself); drop them")
    else:
        options.update(for_files)
    if a.weights:
        options["weights"] = a.weights
    if a.triton_repo and len(a.model) == 1:
        return _triton_one(a, options)
    results = convert_files(a.model, a.output, jobs=a.jobs, triton_repo=a.triton_repo,
                            max_batch=a.max_batch, check=a.check, rtol=a.rtol, atol=a.atol,
                            provider=a.provider, **options)
    return tally(results, "converted")


def _triton_one(a, options) -> int:
    from ..deploy.triton import default_name, to_triton
    src = a.model[0]
    model_path, config_path = to_triton(src, a.triton_repo, name=a.name or default_name(src),
                                        max_batch=a.max_batch, **options)
    print(f"wrote {model_path} and {config_path}")
    return report(src, model_path, None, a) if a.check else 0
