"""bridge convert | check | inspect. Errors print one line and exit non-zero
(2 for bad input, 1 for a parity mismatch); --debug shows the traceback."""
from __future__ import annotations

import argparse
import os
import sys
import warnings

from .errors import BridgeError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridge", description="Keras model files to ONNX, without TensorFlow.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("convert", help="convert a Keras file to ONNX")
    c.add_argument("model", help="Keras .h5 file, or architecture .json with --weights")
    c.add_argument("-o", "--output", help="ONNX file to write (default: MODEL with .onnx)")
    c.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    c.add_argument("--opset", type=int, help="target ONNX opset (default 17)")
    c.add_argument("--backend", choices=["tensorflow", "theano", "cntk"],
                   help="the Keras backend the file was saved under (overrides the file)")
    _target_options(c)
    c.add_argument("--batch-size", type=int, help="fix the batch dimension (default: dynamic)")
    c.add_argument("--check", action="store_true", help="check parity after converting (on the "
                                                        "target's runtime unless --runtime says)")
    _tolerances(c)

    k = sub.add_parser("check", help="compare an ONNX model with Keras's outputs")
    k.add_argument("model", help="the Keras file the ONNX model came from")
    k.add_argument("onnx", help="the ONNX file")
    k.add_argument("--reference", help=".npz (input:<name>/output:<name>, or input_0../output_0..) "
                                       "or *_inputs_and_outputs.h5")
    k.add_argument("--weights", help="weights-only HDF5 for an architecture JSON")
    _tolerances(k)

    i = sub.add_parser("inspect", help="list layers, shapes, weights and support")
    i.add_argument("model")
    i.add_argument("--weights")
    i.add_argument("--opset", type=int)
    i.add_argument("--backend", choices=["tensorflow", "theano", "cntk"],
                   help="the Keras backend the file was saved under (overrides the file)")
    _target_options(i)

    sub.add_parser("layers", help="print the supported Keras layer classes (Markdown table)")
    return p


def _target_options(p):
    from .targets import TARGETS
    p.add_argument("--target", choices=list(TARGETS), default=None,
                   help="the runtime the file is for: caps opset and IR version and avoids what "
                        "that runtime gets wrong (default onnxruntime; portable = all of them)")


def _tolerances(p):
    p.add_argument("--rtol", type=float, default=1e-5, help="max ||onnx-keras||/||keras|| per output (1e-5)")
    p.add_argument("--atol", type=float, default=0.0, help="also pass an output whose max |onnx-keras| <= ATOL (0)")
    p.add_argument("--provider", default="auto", help="auto, cpu or cuda")
    p.add_argument("--runtime", default=None,
                   choices=["onnxruntime", "openvino", "tract", "reference"],
                   help="the runtime that runs the ONNX model for the check (default onnxruntime, or "
                        "the --target's; "
                        "the others come with pip install 'keras-onnx-bridge[runtimes]')")


def _convert(a) -> int:
    from .convert import to_onnx
    out = a.output or os.path.splitext(a.model)[0] + ".onnx"
    proto = to_onnx(a.model, out, weights=a.weights, opset=a.opset, backend=a.backend,
                    target=a.target, batch_size=a.batch_size)
    print(f"wrote {out} (opset {proto.opset_import[0].version}, {len(proto.graph.node)} nodes)")
    if a.check:
        return _report(a.model, out, None, a)
    return 0


def _report(model, onnx_path, reference, a) -> int:
    from .validate import check
    report = check(model, onnx_path, reference, rtol=a.rtol, atol=a.atol,
                   weights=getattr(a, "weights", None), provider=a.provider,
                   runtime=_runtime_for(a))
    print(report)
    return 0 if report.passed else 1


def _runtime_for(a) -> str:
    if a.runtime:
        return a.runtime
    from .targets import get
    return get(getattr(a, "target", None)).runtime


def _inspect(a) -> int:
    from .inspect import inspect_model
    print(inspect_model(a.model, weights=a.weights, opset=a.opset, backend=a.backend,
                        target=a.target))
    return 0


def main(argv=None) -> int:
    a = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if a.cmd == "convert":
                rc = _convert(a)
            elif a.cmd == "check":
                rc = _report(a.model, a.onnx, a.reference, a)
            elif a.cmd == "layers":
                from .registry import support_table
                print(support_table())
                rc = 0
            else:
                rc = _inspect(a)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        return rc
    except BridgeError as e:
        if a.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a converter bug, not the user's doing
        if a.debug:
            raise
        print(f"internal error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
              f"(re-run with --debug and report it)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
