"""ONNX Runtime for Node from Python: many models in one `node` process
(tests/node/run_onnx.js), arrays passed as raw files.

onnxruntime-node is looked for in the folder named by BRIDGE_NODE_MODULES
(a node_modules folder made with `npm install --prefix DIR onnxruntime-node
--ignore-scripts`; its install script downloads from outside the registry,
the CPU binaries are in the package), else in examples/web/node_modules.
`available()` says whether node and the package are there, so tests skip
cleanly without them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "node", "run_onnx.js")
_CANDIDATES = [os.environ.get("BRIDGE_NODE_MODULES", ""),
               os.path.join(HERE, "..", "examples", "web", "node_modules")]


def node_modules() -> str | None:
    for c in _CANDIDATES:
        if c and os.path.isfile(os.path.join(c, "onnxruntime-node", "package.json")):
            return os.path.abspath(c)
    return None


def available() -> bool:
    return shutil.which("node") is not None and node_modules() is not None


def version() -> str:
    with open(os.path.join(node_modules(), "onnxruntime-node", "package.json")) as fh:
        return json.load(fh)["version"]


def run_batch(jobs: list, workdir: str, timeout: float = 600) -> list:
    """jobs: [(onnx path, [(name, array), ...])] -> per job {name: array} or
    an error string."""
    specs = []
    for k, (model, inputs) in enumerate(jobs):
        out = os.path.join(workdir, f"job{k}")
        os.makedirs(out, exist_ok=True)
        ins = []
        for i, (name, arr) in enumerate(inputs):
            arr = np.ascontiguousarray(arr)
            f = os.path.join(out, f"input_{i}.bin")
            (arr.astype(np.uint8) if arr.dtype == np.bool_ else arr).tofile(f)
            ins.append({"name": name, "dtype": str(arr.dtype), "shape": list(arr.shape), "file": f})
        specs.append({"model": os.path.abspath(model), "inputs": ins, "out": out})
    jobs_file = os.path.join(workdir, "jobs.json")
    with open(jobs_file, "w") as fh:
        json.dump(specs, fh)
    env = dict(os.environ, NODE_PATH=node_modules())
    r = subprocess.run(["node", RUNNER, jobs_file], env=env, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"node runner failed: {r.stderr.strip()[-2000:]}")
    results = []
    for s in specs:
        with open(os.path.join(s["out"], "result.json")) as fh:
            res = json.load(fh)
        if "error" in res:
            results.append(res["error"])
            continue
        results.append({o["name"]: np.fromfile(o["file"], dtype=_NP[o["dtype"]]).reshape(o["shape"])
                        for o in res["outputs"]})
    return results


_NP = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
       "int8": np.int8, "uint8": np.uint8, "int16": np.int16, "bool": np.bool_}
