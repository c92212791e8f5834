"""The command line: convert, check, inspect, layers; exit codes."""
import os
import subprocess
import sys

import numpy as np

from bridge import cli
from bridge.validate import load_reference
from tests.helpers import FIXTURES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(FIXTURES, "models", "nested_shared_functional.h5")
REF = MODEL[:-3] + ".npz"


def test_convert_and_check(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert cli.main(["convert", MODEL, "-o", str(out), "--opset", "15", "--check"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out} (opset 15" in text and "PASS" in text


def test_check_exit_codes(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert cli.main(["convert", MODEL, "-o", str(out)]) == 0
    assert cli.main(["check", MODEL, str(out), "--reference", REF]) == 0
    ins, outs = load_reference(REF)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{f"input:{k}": v for k, v in ins.items()},
             **{f"output:{k}": v * 1.001 for k, v in outs.items()})
    assert cli.main(["check", MODEL, str(out), "--reference", str(bad)]) == 1
    assert "MISMATCH" in capsys.readouterr().out
    assert cli.main(["check", MODEL, str(out), "--reference", str(bad), "--rtol", "1e-2"]) == 0
    assert cli.main(["check", MODEL, str(out), "--reference", str(tmp_path / "none.npz")]) == 2


def test_inspect(capsys):
    assert cli.main(["inspect", MODEL]) == 0
    text = capsys.readouterr().out
    assert "encoder" in text and "inner_dense" in text and "(None, 4)" in text
    assert "all layers convert at opset 17" in text


def test_inspect_reports_unsupported_layers(tmp_path, capsys):
    import h5py
    import json
    import shutil
    p = tmp_path / "m.h5"
    shutil.copy(MODEL, p)
    with h5py.File(p, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        cfg["config"]["layers"][-1]["class_name"] = "Mystery"
        f.attrs["model_config"] = json.dumps(cfg)
    assert cli.main(["inspect", str(p)]) == 0
    text = capsys.readouterr().out
    assert "Mystery" in text and "1 layer(s) cannot be converted" in text


def test_console_entry_points(tmp_path):
    out = tmp_path / "m.onnx"
    r = subprocess.run([sys.executable, "-m", "bridge", "convert", MODEL, "-o", str(out)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.exists()
    r = subprocess.run([sys.executable, "-m", "bridge", "convert", str(tmp_path / "missing.h5")],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_inspect_names_the_scan_fallback(capsys):
    src = os.path.join(FIXTURES, "recurrent", "lstm_scan_swish.h5")
    assert cli.main(["inspect", src]) == 0
    text = capsys.readouterr().out
    assert "Scan" in text and "swish" in text
