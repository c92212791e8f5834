"""Options and steps several subcommands share (not a subcommand itself)."""
from __future__ import annotations

import argparse
import json
import os

from ..errors import OptionError

BACKENDS = ["tensorflow", "theano", "cntk"]


def add_tolerances(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rtol", type=float, help="max ||onnx-keras||/||keras|| per output (default by the "
                                              "model's precision: 1e-5 float32, 5e-3 fp16, 5e-2 int8)")
    p.add_argument("--atol", type=float, default=0.0, help="also pass an output whose max |onnx-keras| <= ATOL (0)")
    p.add_argument("--provider", default="auto", help="auto, cpu or cuda")
    p.add_argument("--runtime", default=None,
                   choices=["onnxruntime", "openvino", "tract", "reference"],
                   help="the runtime that runs the ONNX model for the check (default onnxruntime, or "
                        "the --target's; the others come with pip install "
                        "'keras-onnx-bridge[runtimes]')")


def add_plugin(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (it registers emitters for your own layers with "
                        "bridge.register); repeatable")


def add_target(p: argparse.ArgumentParser) -> None:
    from ..targets import TARGETS
    p.add_argument("--target", choices=list(TARGETS), default=None,
                   help="the runtime the file is for: caps opset and IR version and avoids what "
                        "that runtime gets wrong (default onnxruntime; portable = all of them)")


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
    """Print the parity report of `onnx_path` against Keras's outputs (layer
    by layer with --layers; as JSON, a plot); 0 on parity, 1 if not."""
    from ..validate import check
    json_to, plot_to = getattr(a, "json", None), getattr(a, "plot", None)
    result = check(model, onnx_path, reference, rtol=a.rtol, atol=a.atol,
                   weights=getattr(a, "weights", None), provider=a.provider,
                   runtime=runtime_for(a), layers=bool(getattr(a, "layers", False) or plot_to))
    if json_to == "-":
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result)
        if json_to:
            with open(json_to, "w", encoding="utf-8") as fh:
                json.dump(result.to_dict(), fh, indent=1)
    if plot_to:
        result.plot(plot_to, title=os.path.basename(os.fspath(model)))
    return 0 if result.passed else 1


def runtime_for(a) -> str:
    """--runtime, else the runtime of --target, else onnxruntime."""
    if a.runtime:
        return a.runtime
    from ..targets import get
    return get(getattr(a, "target", None)).runtime


def tally(results, verb: str) -> int:
    """After the one line per file of a many-file command: the count, and the
    exit code (2 if any file failed, else 1 if any parity check failed)."""
    from ..deploy.batch import exit_code, summary
    print(summary(results, verb))
    return exit_code(results)


def import_plugins(modules) -> None:
    """--plugin MODULE: import each (the current folder is searched too)."""
    import importlib
    import sys
    if modules and "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise OptionError(f"--plugin {name}: cannot import it ({e}); pass an importable module "
                              f"name (a .py file in the current folder, or an installed package)") from None
