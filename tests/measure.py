"""Run Python code in a process of its own and measure the whole process:
wall time from start to exit and peak resident memory. Used by
tests/test_large.py and examples/benchmark.py.

Peak memory is the process's VmHWM (Linux), read as it exits: it belongs to
the process's own address space. (getrusage's ru_maxrss would also count the
parent the child was forked from.)
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

_PEAK = """
import atexit as _atexit
def _peak():
    with open("/proc/self/status") as f:
        print("PEAK_KB", [l for l in f if l.startswith("VmHWM:")][0].split()[1], flush=True)
_atexit.register(_peak)
"""

BRIDGE_CLI = "import sys\nfrom bridge.cli import main\nsys.exit(main())\n"


@dataclass
class Measured:
    output: str
    seconds: float
    peak_bytes: int      # 0 where the system does not report it


def can_measure_memory() -> bool:
    return os.path.exists("/proc/self/status")


def run_measured(code: str, args=(), env=None) -> Measured:
    """Run `code` (with sys.argv[1:] = args) in a new interpreter; raises
    RuntimeError with its output when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK + code, *map(str, args)], capture_output=True,
                          text=True, env=env)
    seconds = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(out[-3000:])
    peak = int(out.split("PEAK_KB")[1].split()[0]) * 1024 if "PEAK_KB" in out else 0
    return Measured(out, seconds, peak)
