"""Options and steps several subcommands share (not a subcommand itself)."""
from __future__ import annotations

import argparse

BACKENDS = ["tensorflow", "theano", "cntk"]


def add_tolerances(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rtol", type=float, help="max ||onnx-keras||/||keras|| per output (default by the "
                                              "model's precision: 1e-5 float32, 5e-3 fp16, 5e-2 int8)")
    p.add_argument("--atol", type=float, default=0.0, help="also pass an output whose max |onnx-keras| <= ATOL (0)")
    p.add_argument("--provider", default="auto", help="auto, cpu or cuda")


def add_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="raise (or lower) a limit on what the file may ask for, e.g. "
                        "max_weight_bytes=200GiB (see bridge.Limits; repeatable)")


def limits_from(a: argparse.Namespace):
    """The bridge.Limits that --limit options ask for (None: the defaults)."""
    if not getattr(a, "limit", None):
        return None
    from ..safety import current, parse_setting
    return current().replace(**dict(parse_setting(s) for s in a.limit))


def report(model, onnx_path, reference, a) -> int:
    """Print the parity report of `onnx_path` against Keras's outputs; 0 on parity, 1 if not."""
    from ..validate import check
    result = check(model, onnx_path, reference, rtol=a.rtol, atol=a.atol,
                   weights=getattr(a, "weights", None), provider=a.provider)
    print(result)
    return 0 if result.passed else 1


def tally(results, verb: str) -> int:
    """After the one line per file of a many-file command: the count, and the
    exit code (2 if any file failed, else 1 if any parity check failed)."""
    from ..deploy.batch import exit_code, summary
    print(summary(results, verb))
    return exit_code(results)
