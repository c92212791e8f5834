"""Fingerprints of the graphs the converter exports for every model file in
tests/fixtures (and the shared corpus, when present), for refactors that
must not change what is exported.

    python tests/graph_snapshot.py before.json          # on the old tree
    python tests/graph_snapshot.py after.json --diff before.json

A fingerprint is the SHA-256 of the serialized ModelProto, or the error class
and message when the file does not convert. JSON architectures are paired
with the weights file beside them ('<stem>_weights.h5' or '<stem>.weights.h5').
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import bridge  # noqa: E402
from tests.helpers import CORPUS, FIXTURES  # noqa: E402


def model_files() -> list:
    """(label, src, weights, root) for every convertible-looking file."""
    out = []
    roots = [os.path.normpath(r) for r in [FIXTURES] + ([CORPUS] if os.path.isdir(CORPUS) else [])]
    for root in roots:
        for path in sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True)):
            stem, ext = os.path.splitext(path)
            if ext == ".json":
                weights = next((w for w in (stem + "_weights.h5", stem + ".weights.h5")
                                if os.path.exists(w)), None)
                if weights:
                    out.append((os.path.relpath(path, root), path, weights, root))
            elif ext in (".h5", ".keras") and not stem.endswith(("_weights", ".weights")):
                out.append((os.path.relpath(path, root), path, None, root))
    return out


def fingerprint(src, weights, opset, root) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proto = bridge.to_onnx(src, weights=weights, opset=opset)
    except Exception as e:  # a snapshot records failures too
        # Paths in messages are made relative so that checkouts compare.
        return f"{type(e).__name__}: {e}".replace(root, "<root>")
    # the layer map (bridge.taps) is metadata, not the graph: left out, so
    # snapshots taken before it existed still compare
    for p in [p for p in proto.metadata_props if p.key == "bridge.layers"]:
        proto.metadata_props.remove(p)
    return hashlib.sha256(proto.SerializeToString()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--diff", help="an earlier snapshot to compare with")
    ap.add_argument("--opsets", default="13,17,20")
    args = ap.parse_args()
    opsets = [int(o) for o in args.opsets.split(",")]
    snap = {}
    for label, src, weights, root in model_files():
        for opset in opsets:
            snap[f"{label}@{opset}"] = fingerprint(src, weights, opset, root)
    with open(args.out, "w") as fh:
        json.dump(snap, fh, indent=1, sort_keys=True)
    print(f"{len(snap)} graphs fingerprinted -> {args.out}")
    if args.diff:
        with open(args.diff) as fh:
            old = json.load(fh)
        changed = sorted(k for k in set(old) | set(snap) if old.get(k) != snap.get(k))
        for k in changed:
            print(f"changed: {k}\n  before: {old.get(k)}\n  after:  {snap.get(k)}")
        print(f"{len(changed)} of {len(snap)} differ")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
