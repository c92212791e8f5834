"""Runs hostile cases (tests/make_hostile_files.py) through the converter in
a child process under a memory cap, and judges each outcome.

The child (`python tests/fuzz_runner.py --serve`) reads one case per line
(JSON) on stdin and answers one JSON line per case. It converts each case
with the API (bridge.to_onnx) and, when asked, with the CLI's `main` in the
same process (its stdout and its file descriptor 2 captured, so C libraries
writing to stderr count too). Its address space is capped (RLIMIT_AS,
BRIDGE_FUZZ_MEMORY, default 4 GiB). The parent (`Worker`) gives each case a
time limit; a case that passes it is a hang, and the child is restarted, as
it is after a crash.

An outcome is acceptable when it is one of:
  - "ok": converted; the file at the destination is the model, ONNX Runtime
    loads it, and no bytes of the local marker file are in it;
  - "error": a BridgeError whose message names the file, nothing left at the
    destination; from the CLI, exit 2 and exactly one line on stderr.
Everything else ("internal", "hang", "crash", "memory" -- a MemoryError
the converter caught, or the child's peak passing half the cap -- "leak",
"unloadable", "unnamed", "left file", "cli ...") is a failure.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MEMORY = int(os.environ.get("BRIDGE_FUZZ_MEMORY", str(4 << 30)))
TIMEOUT = float(os.environ.get("BRIDGE_FUZZ_TIMEOUT", "30"))
PEAK = MEMORY // 2          # a case that takes half the cap is a blowup, even if it fits

GOOD = ("ok", "error")


# -- the child ------------------------------------------------------------------------

def _names_file(msg: str, case: dict) -> bool:
    return any(p and p in msg for p in (case["src"], case.get("weights")))


def _judge_output(dst: str, marker_check) -> tuple:
    import onnxruntime as ort
    if not os.path.isfile(dst):
        return "no file", "converted but nothing at the destination"
    data = open(dst, "rb").read()
    if marker_check(data):
        return "leak", "the local marker file's bytes are in the output"
    try:
        ort.InferenceSession(dst, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 -- any refusal is the finding
        return "unloadable", f"ONNX Runtime refuses it: {str(e)[:300]}"
    return "ok", ""


def _api(case: dict, marker_check) -> dict:
    import bridge
    dst = case["dst"]
    t0 = time.time()
    try:
        bridge.to_onnx(case["src"], dst, weights=case.get("weights"))
    except bridge.BridgeError as e:
        msg = str(e)
        if os.path.lexists(dst) and not case.get("dst_exists"):
            return {"outcome": "left file", "detail": msg[:300], "class": type(e).__name__}
        if not _names_file(msg, case):
            return {"outcome": "unnamed", "detail": msg[:300], "class": type(e).__name__}
        if len(msg) > 4000 or "\n" in msg:
            return {"outcome": "long message", "detail": msg[:300], "class": type(e).__name__}
        if "out of memory" in msg or "more memory than" in msg:     # a MemoryError the nets caught
            return {"outcome": "memory", "detail": msg[:300], "class": type(e).__name__}
        return {"outcome": "error", "class": type(e).__name__, "detail": msg,
                "seconds": round(time.time() - t0, 3)}
    except BaseException as e:  # noqa: BLE001 -- the finding
        if isinstance(e, KeyboardInterrupt):
            raise
        tb = traceback.extract_tb(e.__traceback__)
        where = " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno}" for f in tb[::-1][:4])
        return {"outcome": "internal", "class": type(e).__name__, "detail": f"{str(e)[:300]} at {where}"}
    outcome, detail = _judge_output(dst, marker_check)
    return {"outcome": outcome, "detail": detail, "seconds": round(time.time() - t0, 3)}


def _cli(case: dict, marker_check) -> dict:
    from bridge import cli
    dst = case["dst"]
    argv = ["convert", case["src"], "-o", dst]
    if case.get("weights"):
        argv += ["--weights", case["weights"]]
    with tempfile.TemporaryFile() as err, open(os.devnull, "w") as null:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        real_out, sys.stdout = sys.stdout, null
        try:
            rc = cli.main(argv)
        except SystemExit as e:
            rc = e.code
        except BaseException as e:  # noqa: BLE001
            rc = f"raised {type(e).__name__}: {str(e)[:200]}"
        finally:
            sys.stdout = real_out
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    if rc == 0:
        outcome, detail = _judge_output(dst, marker_check)
        return {"outcome": outcome, "detail": detail}
    lines = text.splitlines()
    if rc != 2:
        return {"outcome": "cli exit", "detail": f"exit {rc}: {text[:300]}"}
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return {"outcome": "cli lines", "detail": f"{len(lines)} lines: {text[:300]}"}
    if os.path.lexists(dst) and not case.get("dst_exists"):
        return {"outcome": "left file", "detail": text[:300]}
    if not _names_file(lines[0], case):
        return {"outcome": "unnamed", "detail": text[:300]}
    return {"outcome": "error", "detail": lines[0][:300]}


def _clear(dst: str) -> None:
    if os.path.isfile(dst) or os.path.islink(dst):
        os.unlink(dst)


def serve() -> int:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    sys.path.insert(0, ROOT)
    from tests.make_hostile_files import leaked
    import warnings
    warnings.simplefilter("ignore")
    out = os.fdopen(os.dup(1), "w")
    for line in sys.stdin:
        case = json.loads(line)
        result = {"name": case["name"]}
        if not case.get("dst_exists"):
            _clear(case["dst"])
        result["api"] = _api(case, leaked)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10
        if peak > PEAK:                    # a new high of the child's memory, past what any case needs
            result["api"] = {"outcome": "memory", "detail": f"peak memory {peak >> 20} MiB"}
        if case.get("cli") or (case.get("cli") is None and result["api"]["outcome"] != "ok"):
            if not case.get("dst_exists"):
                _clear(case["dst"])
            result["cli"] = _cli(case, leaked)
        if not case.get("dst_exists"):
            _clear(case["dst"])
        out.write(json.dumps(result) + "\n")
        out.flush()
    return 0


# -- the parent -----------------------------------------------------------------------

class Worker:
    """One child process running cases one at a time, restarted after a hang
    or a crash."""

    def __init__(self, timeout: float = TIMEOUT):
        self.timeout = timeout
        self.proc = None
        self.buf = b""

    def _start(self):
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        self.buf = b""

    def run(self, case: dict) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write((json.dumps(case) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.time() + self.timeout * (2 if case.get("cli") is not False else 1)
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                self.close()
                return {"name": case["name"], "api": {"outcome": "hang",
                                                      "detail": f"over {self.timeout:.0f} s"}}
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    code = self.proc.wait()
                    self.proc = None
                    what = signal.Signals(-code).name if code < 0 else f"exit {code}"
                    return {"name": case["name"], "api": {"outcome": "crash", "detail": what}}
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        if self.proc is not None:
            try:
                self.proc.kill()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.close()
        return False


def failures(result: dict) -> list:
    """The ways one case's result is unacceptable."""
    out = []
    for side in ("api", "cli"):
        r = result.get(side)
        if r is not None and r["outcome"] not in GOOD:
            out.append(f"{result['name'][:200]} [{side}] {r['outcome']}: {r.get('class', '')} "
                       f"{r.get('detail', '')}")
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        sys.exit(serve())
    print(__doc__)
    sys.exit(2)
