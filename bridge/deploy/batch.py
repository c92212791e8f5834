"""Many files in one command: convert (or check) each in its own worker
process, print one summary line per file as it finishes, keep going past a
bad file.

With one job at a time (--jobs 1, or one file) it all runs in this process.
Workers are started with 'spawn' (a fresh interpreter, no state forked from
the parent: onnxruntime's thread pools do not survive a fork), so each job is
a plain picklable dict and the worker functions live at module level. A file
that kills its worker outright (a crash inside a native library) breaks the
pool; the jobs left are then rerun one process each, so the crash is pinned
on its own file and the others still finish.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from ..errors import OptionError
from .triton import DEFAULT_MAX_BATCH

OK, MISMATCH, ERROR = "ok", "mismatch", "error"


@dataclass
class FileResult:
    src: str
    status: str                  # OK, MISMATCH or ERROR
    text: str                    # the summary, or the error message
    warnings: list = field(default_factory=list)

    def line(self) -> str:
        tag = {OK: "ok      ", MISMATCH: "MISMATCH", ERROR: "FAILED  "}[self.status]
        if self.status != ERROR:
            return f"{tag} {self.src} {self.text}"
        # error messages mostly start with the file already
        return f"{tag} {self.text}" if self.text.startswith(self.src) else f"{tag} {self.src}: {self.text}"


def output_path(src, outdir=None) -> str:
    """OUTDIR/<stem>.onnx, or <stem>.onnx beside the source without OUTDIR."""
    src = os.fspath(src)
    if outdir is None:
        return os.path.splitext(src)[0] + ".onnx"
    return os.path.join(os.fspath(outdir), os.path.splitext(os.path.basename(src))[0] + ".onnx")


def plan_outputs(sources, outdir=None) -> list:
    """One output per source; two sources with the same output are refused
    (one would overwrite the other)."""
    outs = [output_path(s, outdir) for s in sources]
    seen = {}
    for s, o in zip(sources, outs):
        if o in seen:
            raise OptionError(f"{seen[o]} and {s} would both be written to {o}; convert files "
                              f"with the same name into different folders")
        seen[o] = s
    return outs


def convert_files(sources, outdir=None, *, jobs=None, triton_repo=None,
                  max_batch: int = DEFAULT_MAX_BATCH, check: bool = False, rtol=None,
                  atol: float = 0.0, provider: str = "auto", **convert_options) -> list:
    """Convert each Keras file into OUTDIR/<stem>.onnx (beside it without
    OUTDIR), or into the Triton repository `triton_repo` as <stem>, in up to
    `jobs` processes; print a line per file; return the FileResults.
    `convert_options`: to_onnx's (opset, backend, precision, ...)."""
    dsts = [None] * len(sources) if triton_repo else plan_outputs(sources, outdir)
    if outdir and not triton_repo:
        os.makedirs(outdir, exist_ok=True)
    work = []
    for src, dst in zip(sources, dsts):
        job = {"src": os.fspath(src), "dst": dst, "check": check, "rtol": rtol, "atol": atol,
               "provider": provider, **convert_options}
        if triton_repo:
            job.update(triton_repo=os.fspath(triton_repo), max_batch=max_batch)
        work.append(job)
    return run_jobs(convert_job, work, jobs)


def check_files(models, outdir=None, *, jobs=None, rtol=None, atol: float = 0.0,
                provider: str = "auto") -> list:
    """Check each Keras model against OUTDIR/<stem>.onnx (the .onnx beside it
    without OUTDIR), with the reference beside the model; print a line per
    model; return the FileResults."""
    work = [{"src": os.fspath(m), "onnx": o, "rtol": rtol, "atol": atol, "provider": provider}
            for m, o in zip(models, plan_outputs(models, outdir))]
    return run_jobs(check_job, work, jobs)


# -- the workers (run in child processes) --------------------------------------

def convert_job(job: dict) -> FileResult:
    """job: src, dst or triton_repo (+ max_batch), the to_onnx options, and
    check (+ rtol, atol, provider) to check parity after converting."""
    def work():
        from ..convert import to_onnx
        opts = {k: job[k] for k in ("weights", "opset", "backend", "precision", "keep_io_types",
                                    "limits", "target", "batch_size", "external_data") if k in job}
        if job.get("triton_repo"):
            from .triton import default_name, to_triton
            dst, config = to_triton(job["src"], job["triton_repo"], name=default_name(job["src"]),
                                    max_batch=job["max_batch"], **opts)
            proto = None
            text = f"-> {dst} and {config}"
        else:
            dst = job["dst"]
            proto = to_onnx(job["src"], dst, **opts)
            text = f"-> {dst} (opset {proto.opset_import[0].version}, {len(proto.graph.node)} nodes)"
        if not job.get("check"):
            return OK, text
        status, parity = _parity(job, dst)
        return status, f"{text}; {parity}"
    return _guarded(job["src"], work)


def check_job(job: dict) -> FileResult:
    """job: src (the Keras file), onnx, rtol, atol, provider."""
    def work():
        status, parity = _parity(job, job["onnx"])
        return status, f"vs {job['onnx']}: {parity}"
    return _guarded(job["src"], work)


def _parity(job, onnx_path):
    from ..validate import check
    report = check(job["src"], onnx_path, rtol=job.get("rtol"), atol=job.get("atol", 0.0),
                   provider=job.get("provider", "auto"))
    worst = max(report.outputs, key=lambda o: o.rel)
    parity = (f"rel {worst.rel:.2e} (rtol {report.rtol:g}) against {report.reference}"
              if not worst.problem else worst.problem)
    if not report.passed:
        failing = [o.name for o in report.outputs if not o.passed]
        parity += f"; outputs {failing} differ"
    return (OK if report.passed else MISMATCH), parity


def _guarded(src, work) -> FileResult:
    from ..errors import BridgeError
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status, text = work()
        except BridgeError as e:
            status, text = ERROR, str(e)
        except Exception as e:  # a converter bug: say so, and go on with the next file
            first = str(e).splitlines()[0] if str(e) else ""
            status, text = ERROR, (f"internal error: {type(e).__name__}: {first} (convert this file "
                                   f"alone with --debug and report it)")
    return FileResult(src, status, text, [str(w.message) for w in caught])


# -- the parent -----------------------------------------------------------------

def run_jobs(worker, jobs: list, n_jobs=None, *, out=None, err=None) -> list:
    """Run `worker` over `jobs` in up to `n_jobs` processes; print each
    FileResult's line to `out` as it finishes (warnings to `err`), a progress
    counter to `err` when it is a terminal; return the results in job order."""
    out = out or sys.stdout
    err = err or sys.stderr
    n_jobs = max(1, min(n_jobs or os.cpu_count() or 1, len(jobs)))
    progress = _Progress(len(jobs), err)
    results = {}

    def done(i, r):
        results[i] = r
        progress.clear()
        print(r.line(), file=out, flush=True)
        for w in r.warnings:
            print(f"warning: {r.src}: {w}", file=err)
        progress.show(len(results))

    progress.show(0)
    if n_jobs == 1:   # one at a time: no worker process to pay for
        for i, job in enumerate(jobs):
            done(i, worker(job))
        progress.clear()
        return [results[i] for i in range(len(jobs))]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_jobs, mp_context=ctx) as pool:
        futures = {pool.submit(worker, job): i for i, job in enumerate(jobs)}
        for f in as_completed(futures):
            try:
                done(futures[f], f.result())
            except BrokenProcessPool:
                pass   # rerun below, one process each
    for i, job in enumerate(jobs):
        if i not in results:
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                try:
                    r = pool.submit(worker, job).result()
                except BrokenProcessPool:
                    r = FileResult(job["src"], ERROR, "the worker process crashed on this file "
                                   "(a native library failed); convert it alone with --debug "
                                   "and report it")
            done(i, r)
    progress.clear()
    return [results[i] for i in range(len(jobs))]


def exit_code(results) -> int:
    """2 if any file failed, else 1 if any parity check failed, else 0."""
    statuses = {r.status for r in results}
    return 2 if ERROR in statuses else 1 if MISMATCH in statuses else 0


def summary(results, verb: str) -> str:
    """'3 of 4 converted; 1 failed'."""
    n = len(results)
    errors = sum(r.status == ERROR for r in results)
    mism = sum(r.status == MISMATCH for r in results)
    text = f"{n - errors} of {n} {verb}"
    if mism:
        text += f", {mism} with a parity mismatch"
    if errors:
        text += f"; {errors} failed"
    return text


class _Progress:
    """'[k/n]' on the terminal's last line; nothing when not a terminal."""

    def __init__(self, total, stream):
        self.total, self.stream = total, stream
        self.on = bool(getattr(stream, "isatty", lambda: False)())

    def show(self, k):
        if self.on and k < self.total:
            self.stream.write(f"\r[{k}/{self.total}] working...")
            self.stream.flush()

    def clear(self):
        if self.on:
            self.stream.write("\r\033[K")
            self.stream.flush()
