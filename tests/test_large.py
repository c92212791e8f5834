"""Memory and size (slow tier): `bridge convert` runs as its own process and
its peak resident memory is read from the kernel (VmHWM); it must stay
within 2x the model's weight bytes plus 150 MB (the interpreter, numpy, h5py
and onnx themselves). The converted file must load in ONNX Runtime and match
what tf-keras computed within 1e-5.

BRIDGE_SLOW=1: a ~120 MB dense model and ResNet50 (98 MB).
BRIDGE_SLOW=full adds the big ones: a 2.4 GiB three-layer dense model (past
protobuf's 2 GiB: written with external data) and ConvNeXt-XLarge (1.3 GiB).
The models are made by tf-keras in a subprocess (tests/make_large.py).
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import bridge
from bridge.validate import compare
from tests.measure import BRIDGE_CLI, can_measure_memory, run_measured

pytestmark = pytest.mark.slow
HERE = os.path.dirname(os.path.abspath(__file__))
MB = 1 << 20


def peak_rss(args) -> tuple:
    """(output, peak resident bytes) of `bridge ARGS` in its own process."""
    if not can_measure_memory():
        pytest.skip("needs Linux's /proc to read a process's peak memory")
    m = run_measured(BRIDGE_CLI, args)
    return m.output, m.peak_bytes


def _make(kind, path):
    pytest.importorskip("tf_keras")
    subprocess.run([sys.executable, os.path.join(HERE, "make_large.py"), kind, path], check=True,
                   stdout=subprocess.DEVNULL)
    return path, path.replace(".h5", ".npz")


def _convert_and_check(src, ref, tmp_path, *, external: bool):
    dst = str(tmp_path / "model.onnx")
    out, peak = peak_rss(["convert", src, "-o", dst])
    with np.load(ref) as z:
        x, y, weight_bytes = z["x"], z["y"], int(z["weight_bytes"])
    assert os.path.exists(dst + ".data") == external, out
    got = list(bridge.run(dst, [x], provider="cpu").outputs.values())[0]
    report = compare({"y": got}, {"y": y}, rtol=1e-5, atol=0.0)
    assert report.passed, str(report)
    limit = 2 * weight_bytes + 150 * MB
    assert peak <= limit, f"peak {peak / MB:.0f} MB for {weight_bytes / MB:.0f} MB of weights"


@pytest.mark.parametrize("kind", ["dense_120mb", "resnet50"])
def test_peak_memory(kind, tmp_path):
    src, ref = _make(kind, str(tmp_path / f"{kind}.h5"))
    _convert_and_check(src, ref, tmp_path, external=False)


@pytest.mark.heavy
@pytest.mark.parametrize("kind, external", [("dense_2_4gib", True), ("convnext_xlarge", False)])
def test_big_models(kind, external, tmp_path):
    src, ref = _make(kind, str(tmp_path / f"{kind}.h5"))
    _convert_and_check(src, ref, tmp_path, external=external)
