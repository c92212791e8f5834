"""The command-line side of bridge.deploy: the options it adds to `convert`
and `check`, the `quantize` subcommand, and the forms that take many files.
bridge/cli.py registers these and hands over when one of them is used."""
from __future__ import annotations

import argparse
import os

from ..errors import OptionError
from . import batch
from .triton import DEFAULT_MAX_BATCH


def add_convert_options(p) -> None:
    p.add_argument("--precision", choices=["fp32", "fp16"], default="fp32",
                   help="fp16: float16 weights and arithmetic, float32 kept where float16 loses "
                        "too much (needs the 'fp16' extra)")
    p.add_argument("--keep-io-types", action=argparse.BooleanOptionalAction, default=True,
                   help="with --precision fp16: keep float inputs and outputs float32 (default); "
                        "--no-keep-io-types makes them float16")
    p.add_argument("--triton-repo", metavar="DIR",
                   help="write a Triton model repository entry DIR/NAME/1/model.onnx + "
                        "DIR/NAME/config.pbtxt instead of -o")
    p.add_argument("--name", help="with --triton-repo: the model's name (default: the file's stem)")
    p.add_argument("--max-batch", type=int, default=DEFAULT_MAX_BATCH,
                   help=f"with --triton-repo: max_batch_size, 0 for none ({DEFAULT_MAX_BATCH})")
    p.add_argument("--jobs", type=int, help="with several files: worker processes (default: one "
                                            "per CPU, at most one per file)")


def add_check_options(p) -> None:
    p.add_argument("-o", "--output", metavar="OUTDIR",
                   help="with several models: check OUTDIR/<stem>.onnx for each (default: the "
                        ".onnx beside each model)")
    p.add_argument("--jobs", type=int, help="with several models: worker processes")


def add_quantize(sub, tolerances) -> None:
    q = sub.add_parser("quantize", help="int8 post-training quantization (ONNX Runtime's)")
    q.add_argument("model", help="a float32 ONNX file written by 'bridge convert'")
    q.add_argument("-o", "--output", help="the int8 ONNX file (default: MODEL.int8.onnx)")
    q.add_argument("--calibration", metavar="DATA.npz",
                   help="inputs for static quantization ('input:<name>' arrays, or named after "
                        "the inputs); without it, dynamic quantization")
    q.add_argument("--reference", metavar="REF.npz",
                   help="Keras's inputs and outputs to report parity against (default: one "
                        "beside MODEL, else the float model's own outputs)")
    q.add_argument("--per-channel", action=argparse.BooleanOptionalAction, default=True,
                   help="quantize weights per output channel (default) or per tensor")
    tolerances(q)


# -- convert -------------------------------------------------------------------

def is_batch_convert(a) -> bool:
    """Several files, a Triton repository, or -o naming a folder."""
    out = a.output or ""
    return (len(a.model) > 1 or bool(a.triton_repo)
            or out.endswith(("/", os.sep)) or os.path.isdir(out))


def convert(a) -> int:
    if a.triton_repo and a.output:
        raise OptionError("pass -o OUT or --triton-repo DIR, not both")
    if len(a.model) > 1:
        if a.weights:
            raise OptionError("--weights goes with one architecture JSON; convert such files "
                              "one at a time")
        if a.name:
            raise OptionError("--name names one model; with several files each is named after "
                              "its file")
    if a.triton_repo and len(a.model) == 1:
        return _triton_one(a)
    jobs = []
    dsts = [None] * len(a.model) if a.triton_repo else batch.plan_outputs(a.model, a.output)
    if a.output:
        os.makedirs(a.output, exist_ok=True)
    for src, dst in zip(a.model, dsts):
        job = {"src": src, "dst": dst, "opset": a.opset, "backend": a.backend,
               "precision": a.precision, "keep_io_types": a.keep_io_types, "check": a.check,
               "rtol": a.rtol, "atol": a.atol, "provider": a.provider}
        if a.triton_repo:
            job.update(triton_repo=a.triton_repo, max_batch=a.max_batch)
        if a.weights:
            job["weights"] = a.weights
        jobs.append(job)
    results = batch.run_jobs(batch.convert_job, jobs, a.jobs)
    print(batch.tally(results, "converted"))
    return batch.exit_code(results)


def _triton_one(a) -> int:
    from .triton import default_name, to_triton
    src = a.model[0]
    model_path, config_path = to_triton(src, a.triton_repo, name=a.name or default_name(src),
                                        max_batch=a.max_batch, weights=a.weights, opset=a.opset,
                                        backend=a.backend, precision=a.precision,
                                        keep_io_types=a.keep_io_types)
    print(f"wrote {model_path} and {config_path}")
    if not a.check:
        return 0
    from ..validate import check
    report = check(src, model_path, rtol=a.rtol, atol=a.atol, weights=a.weights, provider=a.provider)
    print(report)
    return 0 if report.passed else 1


# -- check ---------------------------------------------------------------------

KERAS_SUFFIXES = (".h5", ".hdf5", ".keras", ".json")


def single_check(a):
    """(model, onnx) for the one-model form `check MODEL OUT.onnx` (any second
    path that is not a Keras file, as before), else None."""
    if len(a.model) == 2 and not a.output and not a.model[1].lower().endswith(KERAS_SUFFIXES):
        return a.model[0], a.model[1]
    return None


def check(a) -> int:
    if a.reference:
        raise OptionError("--reference goes with one model; with several, each model's reference "
                          "is found beside it (model.npz, model.reference.npz, "
                          "model_inputs_and_outputs.h5)")
    onnx_paths = batch.plan_outputs(a.model, a.output)
    jobs = [{"src": m, "onnx": o, "rtol": a.rtol, "atol": a.atol, "provider": a.provider}
            for m, o in zip(a.model, onnx_paths)]
    results = batch.run_jobs(batch.check_job, jobs, a.jobs)
    print(batch.tally(results, "checked"))
    return batch.exit_code(results)


# -- quantize ------------------------------------------------------------------

def quantize(a) -> int:
    from .quantize import quantize as run_quantize
    out = a.output or os.path.splitext(a.model)[0] + ".int8.onnx"
    report = run_quantize(a.model, out, calibration=a.calibration, reference=a.reference,
                          per_channel=a.per_channel, rtol=a.rtol, atol=a.atol, provider=a.provider)
    mode = "static, calibrated on " + a.calibration if a.calibration else "dynamic"
    before, after = os.path.getsize(a.model), os.path.getsize(out)
    print(f"wrote {out} (int8 {mode}; {after / 1e6:.2f} MB, {after / before:.0%} of "
          f"{before / 1e6:.2f} MB)")
    print(report)
    return 0 if report.passed else 1
