"""Regenerate every committed fixture with real Keras, in one go.

Needs a Python (3.11) with the versions in tests/requirements-fixtures.txt
(tensorflow-cpu, tf-keras, keras 3):

    pip install -r tests/requirements-fixtures.txt
    python tests/make_all_fixtures.py              # everything this Python can make
    python tests/make_all_fixtures.py --only keras3

It runs, each with this interpreter:

    tests/make_fixtures.py           tf-keras case fixtures     tests/fixtures/<family>/
    tests/make_keras3_fixtures.py    Keras 3 case fixtures      tests/fixtures/keras3/
    tests/make_format_fixtures.py    file-format fixtures       tests/fixtures/formats/
    tests/test_reshape_layout.py     masked-mean and TF1 bilinear references

The Keras 1.2.2 / Keras 2.1.6 + Theano fixtures (tests/fixtures/legacy)
need Python 3.6 and those Keras versions: pass --legacy-python with the
source folders of both Keras versions to run tests/make_legacy_fixtures.py
too (its docstring says how to build that Python).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

STEPS = {
    "tf-keras": ["make_fixtures.py"],
    "keras3": ["make_keras3_fixtures.py"],
    "formats": ["make_format_fixtures.py"],
    "references": ["test_reshape_layout.py"],
}


def pinned() -> dict:
    """{distribution: version} from tests/requirements-fixtures.txt."""
    out = {}
    with open(os.path.join(HERE, "requirements-fixtures.txt")) as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                out[name.strip()] = version.strip()
    return out


def version_mismatches() -> list:
    wrong = []
    for name, want in pinned().items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != want:
            wrong.append(f"{name}: {have or 'not installed'} (fixtures were made with {want})")
    return wrong


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", action="append", choices=sorted(STEPS), help="one group (repeatable)")
    p.add_argument("--legacy-python", help="a Python 3.6 with Theano 1.0.5 (see make_legacy_fixtures.py)")
    p.add_argument("--keras1-src", help="folder holding Keras 1.2.2's keras/ package")
    p.add_argument("--keras2-src", help="folder holding Keras 2.1.6's keras/ package")
    p.add_argument("--any-version", action="store_true",
                   help="run even when the installed versions differ from the pinned ones")
    a = p.parse_args()
    wrong = version_mismatches()
    if wrong and not a.any_version:
        print("installed versions differ from tests/requirements-fixtures.txt:\n  "
              + "\n  ".join(wrong) + "\n(--any-version to go on anyway)", file=sys.stderr)
        return 2
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for group in a.only or list(STEPS):
        for script in STEPS[group]:
            print(f"== {group}: tests/{script}", flush=True)
            subprocess.run([sys.executable, os.path.join(HERE, script)], env=env, cwd=ROOT, check=True)
    if a.legacy_python:
        for which, src in (("keras1", a.keras1_src), ("keras2", a.keras2_src)):
            if not src:
                print(f"skipping {which}: pass --{which}-src", file=sys.stderr)
                continue
            legacy_env = dict(os.environ, PYTHONPATH=src, KERAS_BACKEND="theano")
            print(f"== legacy {which}: tests/make_legacy_fixtures.py", flush=True)
            subprocess.run([a.legacy_python, os.path.join(HERE, "make_legacy_fixtures.py"), which],
                           env=legacy_env, cwd=ROOT, check=True)
    else:
        print("legacy fixtures (Keras 1.2.2 / 2.1.6 on Theano) left as they are: see "
              "tests/make_legacy_fixtures.py and --legacy-python")
    return 0


if __name__ == "__main__":
    sys.exit(main())
