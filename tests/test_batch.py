"""Many files in one command (bridge.deploy.batch): `bridge convert A B C -o
OUTDIR/` and `bridge check A B C -o OUTDIR/` run each file in a worker
process, print one line per file, keep going past a bad one, and exit 2 when
any failed (1 when only parity failed, 0 when none)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from bridge import cli
from bridge.deploy import batch
from bridge.validate import load_reference
from tests.helpers import FIXTURES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = [
    os.path.join(ROOT, "examples", "small_cnn.h5"),
    os.path.join(FIXTURES, "formats", "k3_cnn.keras"),
    os.path.join(FIXTURES, "models", "nested_shared_functional.h5"),
]


def _bad(tmp_path):
    path = tmp_path / "broken.h5"
    path.write_bytes(b"not a Keras file")
    return str(path)


def _lines(text):
    return [line for line in text.splitlines() if line.split(" ", 1)[0] in ("ok", "FAILED", "MISMATCH")]


def test_three_good_one_bad_from_the_console(tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "bridge", "convert", *GOOD, _bad(tmp_path), "-o",
                        f"{out}/", "--jobs", "2"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2, r.stdout + r.stderr
    assert sorted(os.listdir(out)) == ["k3_cnn.onnx", "nested_shared_functional.onnx", "small_cnn.onnx"]
    lines = _lines(r.stdout)
    assert len(lines) == 4
    assert sum(line.startswith("ok ") for line in lines) == 3
    assert [line for line in lines if line.startswith("FAILED")][0].count("broken.h5") >= 1
    assert r.stdout.rstrip().splitlines()[-1] == "3 of 4 converted; 1 failed"
    assert "\r" not in r.stdout + r.stderr, "progress shown although stderr is not a terminal"


CONVERT_CASES = [
    # id, extra argv, exit code, files written, tally
    ("all good", [], 0, 3, "3 of 3 converted"),
    ("all good, checked, in this process", ["--check", "--jobs", "1"], 0, 3, "3 of 3 converted"),
    ("fp16, checked", ["--check", "--precision", "fp16", "--jobs", "1"], 0, 3, "3 of 3 converted"),
    ("parity too strict", ["--check", "--rtol", "1e-12", "--jobs", "1"], 1, 3,
     "3 with a parity mismatch"),
]


@pytest.mark.parametrize("argv, rc, written, tally", [c[1:] for c in CONVERT_CASES],
                         ids=[c[0] for c in CONVERT_CASES])
def test_convert_many(argv, rc, written, tally, tmp_path, capsys):
    if "fp16" in argv:
        pytest.importorskip("onnxconverter_common")
    out = tmp_path / "out"
    if "--jobs" not in argv:
        argv = [*argv, "--jobs", "2"]
    assert cli.main(["convert", *GOOD, "-o", f"{out}/", *argv]) == rc
    text = capsys.readouterr().out
    assert len(_lines(text)) == 3 and tally in text.splitlines()[-1]
    assert len(os.listdir(out)) == written


def _checked_set(tmp_path):
    """The good models with their references copied beside them, converted into out/."""
    models = []
    for src in GOOD:
        stem = os.path.splitext(src)[0]
        for ext in (os.path.splitext(src)[1], ".npz"):
            shutil.copy(stem + ext, tmp_path)
        models.append(str(tmp_path / os.path.basename(src)))
    assert cli.main(["convert", *models, "-o", str(tmp_path / "out") + "/", "--jobs", "1"]) == 0
    return models


def test_check_many(tmp_path, capsys):
    models = _checked_set(tmp_path)
    out = str(tmp_path / "out")
    assert cli.main(["check", *models, "-o", out, "--jobs", "1"]) == 0
    capsys.readouterr()
    # one reference that disagrees: a mismatch, the others still checked
    ins, outs = load_reference(models[0][:-3] + ".npz")
    np.savez(models[0][:-3] + ".npz", **{f"input:{k}": v for k, v in ins.items()},
             **{f"output:{k}": v * 1.5 for k, v in outs.items()})
    assert cli.main(["check", *models, "-o", out, "--jobs", "2"]) == 1
    text = capsys.readouterr().out
    assert text.count("MISMATCH") == 1 and text.count("\nok ") + text.startswith("ok ") == 2
    # one ONNX file missing: an error, exit 2
    os.remove(os.path.join(out, "k3_cnn.onnx"))
    assert cli.main(["check", *models, "-o", out, "--jobs", "1"]) == 2
    assert "1 failed" in capsys.readouterr().out


def test_two_paths_are_still_model_and_onnx(tmp_path, capsys):
    onnx_path = tmp_path / "exported.bin"     # any name that is not a Keras file
    assert cli.main(["convert", GOOD[0], "-o", str(onnx_path)]) == 0
    assert cli.main(["check", GOOD[0], str(onnx_path)]) == 0
    assert "PASS" in capsys.readouterr().out


def test_check_many_beside_the_models(tmp_path, capsys):
    models = _checked_set(tmp_path)
    for m in models:
        stem = os.path.splitext(os.path.basename(m))[0]
        shutil.move(str(tmp_path / "out" / f"{stem}.onnx"), str(tmp_path / f"{stem}.onnx"))
    assert cli.main(["check", *models, "--jobs", "1"]) == 0
    assert "3 of 3 checked" in capsys.readouterr().out


USAGE_ERRORS = [
    (lambda t: ["convert", GOOD[0], GOOD[0], "-o", f"{t}/out/"], "would both be written"),
    (lambda t: ["convert", *GOOD[:2], "-o", f"{t}/out/", "--name", "x"], "--name names one model"),
    (lambda t: ["convert", *GOOD[:2], "-o", f"{t}/out/", "--weights", "w.h5"], "--weights goes"),
    (lambda t: ["check", *GOOD[:2], "--reference", "r.npz"], "--reference goes with one model"),
    (lambda t: ["convert", *GOOD[:2], "--triton-repo", f"{t}/out", "--target", "tract"],
     "--target do not go with --triton-repo"),
]


@pytest.mark.parametrize("argv, text", USAGE_ERRORS, ids=[u[1] for u in USAGE_ERRORS])
def test_usage_errors(argv, text, tmp_path, capsys):
    assert cli.main(argv(tmp_path)) == 2
    assert text in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


def test_the_export_options_reach_every_file(tmp_path, capsys):
    """--target, --batch-size and --external-data apply to each file as to one."""
    import onnx
    out = tmp_path / "out"
    assert cli.main(["convert", *GOOD[:2], "-o", f"{out}/", "--target", "reference", "--batch-size", "2",
                     "--external-data", "--jobs", "1"]) == 0
    for stem in ("small_cnn", "k3_cnn"):
        proto = onnx.load(str(out / f"{stem}.onnx"), load_external_data=False)
        assert (out / f"{stem}.onnx.data").exists()
        assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
        assert proto.opset_import[0].version == 19       # the reference target's own default


def test_one_file_into_a_folder(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    assert cli.main(["convert", GOOD[0], "-o", str(tmp_path / "out") + os.sep]) == 0
    assert os.listdir(tmp_path / "out") == ["small_cnn.onnx"]


def test_one_file_onto_a_folder_without_the_slash_is_refused(tmp_path, capsys):
    """An existing folder named as the output file is a mistake, not a request
    to write inside it (that takes the trailing slash)."""
    (tmp_path / "out").mkdir()
    assert cli.main(["convert", GOOD[0], "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is a directory" in err and "end the folder with '/'" in err and "\n" not in err
    assert os.listdir(tmp_path / "out") == []


def test_without_a_folder_each_lands_beside_its_model(tmp_path, capsys):
    models = [shutil.copy(src, tmp_path) for src in GOOD[:2]]
    assert cli.main(["convert", *models, "--jobs", "1"]) == 0
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".onnx")) == ["k3_cnn.onnx", "small_cnn.onnx"]


def crash_on(job):
    """A worker that dies outright on one file, as a native crash would."""
    if job["src"] == "crash":
        os._exit(3)
    return batch.FileResult(job["src"], batch.OK, "-> done")


class _Terminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_a_crashing_file_is_pinned_and_the_rest_finish(capsys):
    jobs = [{"src": s} for s in ("a", "crash", "b", "c")]
    err = _Terminal()
    results = batch.run_jobs(crash_on, jobs, 2, err=err)
    assert [r.status for r in results] == [batch.OK, batch.ERROR, batch.OK, batch.OK]
    assert "crashed" in results[1].text
    assert batch.exit_code(results) == 2
    assert len(_lines(capsys.readouterr().out)) == 4
    assert "[0/4]" in err.text and err.text.endswith("\r\033[K"), "progress not shown, or not cleared"
