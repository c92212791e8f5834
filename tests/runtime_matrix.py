"""The runtime matrix: every fixture model (tests/fixtures, and the shared
corpus's models that carry Keras's own outputs) converted at the given
opsets (and target), run in each ONNX runtime, compared with what Keras
computed (the .npz / *_inputs_and_outputs.h5 beside each model) within
rtol 1e-4. The README's runtime table holds its numbers.

    python tests/runtime_matrix.py                                # opsets 17 and the highest
    python tests/runtime_matrix.py --target openvino --opsets 17  # exported for one runtime
    python tests/runtime_matrix.py --every 4 --runtimes reference # a quarter of the models

A model counts for a runtime when ONNX Runtime (Python) matches Keras on it:
the table is "matched by RUNTIME of the models ONNX Runtime matches".
Models run in worker processes, a chunk at a time: a runtime that crashes
or hangs (--timeout per model) costs that model only. ONNX Runtime for Node
runs when tests/node_runtime.py finds it. --json keeps every result, with
the first line of each failure, for finding what a runtime gets wrong.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

RTOL = 1e-4
PY_RUNTIMES = ["onnxruntime", "openvino", "tract", "reference"]


def models() -> list:
    """(label, src, weights, reference) for every model with Keras's outputs beside it."""
    from bridge.validate import find_reference_beside
    from tests.graph_snapshot import model_files
    out = []
    for label, src, weights, _root in model_files():
        if label.startswith("custom/"):
            continue        # converted with the user's emitter (tests/test_custom_layers.py)
        stem = os.path.splitext(src)[0]
        ref = find_reference_beside(src)
        if ref is None and stem.endswith("_config"):     # DL4J examples: NAME_config.json
            ref = find_reference_beside(stem[:-len("_config")] + "_model.h5")
        if ref is None or _no_predictions(ref):
            continue
        out.append((label, src, weights, ref))
    return out


def _no_predictions(ref) -> bool:
    if not ref.endswith(".h5"):
        return False
    import h5py
    with h5py.File(ref, "r") as f:
        return "predictions" not in f


def _feed(proto, ins: dict) -> dict:
    from bridge.runtimes import io_names
    names = [n for n, _ in io_names(proto)[0]]
    if all(n in ins for n in names):
        return {n: ins[n] for n in names}
    return dict(zip(names, ins.values()))       # Keras 1 input names: by position


def _expected(proto, outs: dict) -> dict:
    from bridge.runtimes import io_names
    names = io_names(proto)[1]
    if all(n in outs for n in names):
        return {n: outs[n] for n in names}
    return dict(zip(names, outs.values()))


def rtol_for(label: str, rtol: float) -> float:
    """`rtol`, or the looser bar of a model Keras computed in 16-bit floats
    (tests/test_formats.py: they match to 16-bit rounding)."""
    from tests.test_formats import CASES
    sixteen = {f"formats/{src}": tol for _, src, _, tol in CASES}
    return max(rtol, sixteen.get(label, rtol))


def _verdict(got: dict, expected: dict, label: str) -> str:
    from bridge.validate import compare
    rep = compare(got, expected, rtol=rtol_for(label, RTOL), atol=0.0)
    if rep.passed:
        return "ok"
    worst = max(rep.outputs, key=lambda o: o.rel)
    return f"mismatch: {worst.problem or f'rel {worst.rel:.2e}'}"


def work(item: dict) -> dict:
    """Convert one model at one opset, run it on every runtime asked for."""
    import bridge
    from bridge.runtime import run
    from bridge.validate import load_reference
    res = {}
    kw = {"weights": item["weights"], "opset": item["opset"]}
    if item["target"]:
        kw["target"] = item["target"]
    if item["batch_size"]:
        kw["batch_size"] = item["batch_size"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proto = bridge.to_onnx(item["src"], item["onnx"], **kw)
    except Exception as e:
        return {"convert": f"{type(e).__name__}: {str(e)[:200]}"}
    ins, outs = load_reference(item["ref"])
    feed, expected = _feed(proto, ins), _expected(proto, outs)
    for rt in item["runtimes"]:
        try:
            got = run(item["onnx"], feed, provider="cpu", runtime=rt).outputs
            res[rt] = _verdict(got, expected, item["label"])
        except Exception as e:
            res[rt] = f"error: {type(e).__name__}: {str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}"
    return res


def worker(jobs_file: str, start: int) -> None:
    with open(jobs_file) as fh:
        items = json.load(fh)
    for k in range(start, len(items)):
        print(json.dumps({"k": k, "res": work(items[k])}), flush=True)


def run_items(items: list, timeout: float, jobs: int) -> list:
    """Results in order; workers are restarted past a crash or a hang."""
    results = [None] * len(items)
    chunks = [list(range(i, len(items), jobs)) for i in range(jobs)]
    tmp = tempfile.mkdtemp(prefix="bridge-matrix-")
    procs = {}

    def spawn(c, pos):
        f = os.path.join(tmp, f"chunk{c}.json")
        with open(f, "w") as fh:
            json.dump([items[i] for i in chunks[c]], fh)
        p = subprocess.Popen([sys.executable, __file__, "--worker", f, str(pos)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs[c] = [p, pos, time.time()]

    for c in range(jobs):
        if chunks[c]:
            spawn(c, 0)
    done = 0
    while procs:
        fds = {procs[c][0].stdout.fileno(): c for c in procs}
        ready, _, _ = select.select(list(fds), [], [], 5)
        for fd in ready:
            c = fds[fd]
            p, pos, _ = procs[c]
            line = p.stdout.readline()
            if line:
                rec = json.loads(line)
                results[chunks[c][rec["k"]]] = rec["res"]
                procs[c][1], procs[c][2] = rec["k"] + 1, time.time()
                done += 1
                if done % 50 == 0:
                    print(f"  {done}/{len(items)}", file=sys.stderr, flush=True)
                continue
            p.wait()
            _next(c, "crashed", procs, chunks, results, spawn)
        for c in list(procs):
            p, pos, t0 = procs[c]
            if time.time() - t0 > timeout:
                p.kill()
                p.wait()
                _next(c, f"timeout after {timeout:.0f} s", procs, chunks, results, spawn)
    return results


def _next(c, why, procs, chunks, results, spawn):
    p, pos, _ = procs.pop(c)
    if pos < len(chunks[c]):
        results[chunks[c][pos]] = {"crash": why}
        if pos + 1 < len(chunks[c]):
            spawn(c, pos + 1)


def run_node(items: list, results: list) -> None:
    from bridge.validate import load_reference
    from tests import node_runtime
    todo = [k for k, r in enumerate(results) if r and "convert" not in r]
    jobs, expects = [], []
    import onnx
    for k in todo:
        proto = onnx.load(items[k]["onnx"], load_external_data=False)
        ins, outs = load_reference(items[k]["ref"])
        feed = _feed(proto, ins)
        from bridge.runtimes import feed_for
        jobs.append((items[k]["onnx"], list(feed_for(proto, feed).items())))
        expects.append(_expected(proto, outs))
    with tempfile.TemporaryDirectory() as tmp:
        got = node_runtime.run_batch(jobs, tmp, timeout=3600)
    for k, g, e in zip(todo, got, expects):
        results[k]["node"] = f"error: {g[:300]}" if isinstance(g, str) else _verdict(g, e, items[k]["label"])


def summary(items: list, results: list, runtimes: list, versions: dict) -> str:
    lines = ["| runtime | " + " | ".join(f"opset {o}" for o in _opsets(items)) + " |",
             "|---|" + "---|" * len(_opsets(items))]
    for rt in runtimes:
        cells = []
        for o in _opsets(items):
            base = [r for it, r in zip(items, results) if it["opset"] == o and r
                    and r.get("onnxruntime") == "ok"]
            n = sum(1 for r in base if r.get(rt) == "ok")
            cells.append(f"{n} / {len(base)}")
        lines.append(f"| {rt} {versions.get(rt, '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _opsets(items):
    return sorted({it["opset"] for it in items})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--opsets", default="17,max", help="comma-separated; 'max' = the highest")
    ap.add_argument("--target", default=None, help="convert with target=TARGET")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--runtimes", default=",".join(PY_RUNTIMES + ["node"]))
    ap.add_argument("--every", type=int, default=1, help="take every N-th model (a subset)")
    ap.add_argument("--match", default="", help="only models whose label contains this")
    ap.add_argument("--failed-in", help="only the models some runtime failed in this --json file")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per model and opset")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every result here")
    a = ap.parse_args()
    if a.worker:
        worker(a.worker[0], int(a.worker[1]))
        return 0

    from bridge import runtimes as rts
    from tests import node_runtime
    wanted = [r for r in a.runtimes.split(",") if r]
    py = [r for r in PY_RUNTIMES if r in wanted and rts.available(r)]
    use_node = "node" in wanted and node_runtime.available()
    versions = {r: rts.version(r) for r in py}
    if use_node:
        versions["node"] = node_runtime.version()
    missing = [r for r in wanted if r not in py and not (r == "node" and use_node)]
    if missing:
        print(f"not installed here, left out: {', '.join(missing)}", file=sys.stderr)
    opsets = []
    for o in a.opsets.split(","):
        opsets.append(_max_opset(a.target) if o == "max" else int(o))
    tmp = tempfile.mkdtemp(prefix="bridge-matrix-onnx-")
    ms = [m for m in models() if a.match in m[0]][::a.every]
    if a.failed_in:
        with open(a.failed_in) as fh:
            bad = {it["label"] for it in json.load(fh)["items"]
                   if any(v != "ok" for k, v in it.items() if k not in ("label", "opset"))}
        ms = [m for m in ms if m[0] in bad]
    items = []
    for n, (label, src, weights, ref) in enumerate(ms):
        for o in opsets:
            items.append({"label": label, "src": src, "weights": weights, "ref": ref, "opset": o,
                          "target": a.target, "batch_size": a.batch_size, "runtimes": py,
                          "onnx": os.path.join(tmp, f"m{n}_{o}.onnx")})
    print(f"{len(ms)} models x opsets {opsets} on {', '.join(py + (['node'] if use_node else []))}",
          file=sys.stderr)
    results = run_items(items, a.timeout, a.jobs)
    if use_node:
        run_node(items, results)
    table = summary(items, results, py + (["node"] if use_node else []), versions)
    print(f"target {a.target or '(default)'}: matched Keras (rtol {RTOL:g}) of the models "
          f"ONNX Runtime matches\n{table}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"versions": versions, "target": a.target, "items": [
                {"label": it["label"], "opset": it["opset"], **(r or {})}
                for it, r in zip(items, results)]}, fh, indent=1)
    return 0


def _max_opset(target) -> int:
    import opsets
    try:
        from bridge.targets import TARGETS
        return min(opsets.max_opset(), TARGETS[target or "onnxruntime"].max_opset)
    except ImportError:
        return opsets.max_opset()


if __name__ == "__main__":
    sys.exit(main())
