"""Hostile files through the API and the CLI: the hand-made corpus and
hypothesis-driven mutations of the real fixture files
(tests/make_hostile_files.py), each in a child process under a 4 GiB memory
cap and a 30 s limit (tests/fuzz_runner.py). Every case must end converted
(a model ONNX Runtime loads, holding none of the local marker file's bytes)
or in a BridgeError naming the file, with exit 2 and one line on stderr from
the CLI and nothing left at the destination.

The mutation test draws BRIDGE_FUZZ cases (default 500; BRIDGE_FUZZ=2000 for
a long run) from a fixed seed. Plus: eight processes writing one destination
leave one whole file, written with the mode open() would give it."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest

from tests import make_hostile_files as hostile
from tests.fuzz_runner import ROOT, Worker, failures

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CASES = int(os.environ.get("BRIDGE_FUZZ", "500"))
SEEDS = hostile.seed_files()
KINDS = ["bytes", "structure", "config", "weights"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def env(folder):
    return hostile.write_marker(str(folder / "local"))


@pytest.fixture(scope="module")
def worker():
    with Worker() as w:
        yield w


def test_hand_made_corpus(folder, env, worker):
    """Each hand-made hostile file ends as expected: the error class it
    must raise and the words its message must hold, or a converted model."""
    problems = []
    os.makedirs(folder / "corpus")
    for case in hostile.hand_made(str(folder / "corpus"), env):
        case = dict(case, cli=case.get("cli", True))
        result = worker.run(case)
        problems += failures(result)
        api = result["api"]
        want = case["expect"]
        if want == "ok" and api["outcome"] != "ok":
            problems.append(f"{case['name']}: expected to convert, got {api}")
        elif want not in (None, "ok") and api.get("class") != want:
            problems.append(f"{case['name']}: expected {want}, got {api.get('class')}: {api.get('detail')}")
        missing = [w for w in case["words"] if w not in api.get("detail", "")]
        if missing and api["outcome"] == "error":
            problems.append(f"{case['name']}: the message lacks {missing}: {api.get('detail')}")
    assert not problems, "\n".join(problems)


_count = itertools.count()


@settings(max_examples=CASES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, len(SEEDS) - 1),
       plan=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 2 ** 32 - 1)), min_size=1, max_size=3),
       cli=st.integers(0, 9))
def test_mutated_fixture(folder, env, worker, seed, plan, cli):
    """A real fixture file damaged one to three times (bytes, config,
    weights, links, archive) converts or fails cleanly."""
    src, weights = SEEDS[seed]
    case = hostile.mutate_file(src, weights, str(folder / f"m{next(_count)}"), plan, env)
    case["cli"] = True if cli == 0 else None      # the CLI always on errors, on 1 in 10 others
    result = worker.run(case)
    assert not failures(result), "\n".join(failures(result))


def test_eight_writers_one_destination(tmp_path):
    """Eight processes converting different models to one path: the file
    there is always one of them, whole, with the mode open() gives, and no
    temporary file is left."""
    models = [os.path.join(hostile.FIXTURES, "models", "intermediate_output.h5"),
              os.path.join(hostile.FIXTURES, "formats", "k3_cnn.keras")]
    models = [m for m in (models + [s for s, w in SEEDS if w is None]) if os.path.exists(m)][:8]
    script = "import sys, bridge; bridge.to_onnx(sys.argv[1], sys.argv[2])"
    expected = set()
    for i, m in enumerate(models):
        own = tmp_path / f"own{i}.onnx"
        subprocess.run([sys.executable, "-c", script, m, str(own)], check=True, cwd=ROOT)
        expected.add(own.read_bytes())
    shared = tmp_path / "shared" / "model.onnx"
    shared.parent.mkdir()
    umask = os.umask(0o022)
    os.umask(umask)
    for _ in range(2):
        procs = [subprocess.Popen([sys.executable, "-c", script, m, str(shared)], cwd=ROOT) for m in models]
        assert all(p.wait() == 0 for p in procs)
        assert shared.read_bytes() in expected
        assert sorted(os.listdir(shared.parent)) == ["model.onnx"]
        assert os.stat(shared).st_mode & 0o777 == 0o666 & ~umask


def test_closed_pipe_is_a_normal_end():
    """`bridge layers | head -1`: the CLI stops quietly when its reader goes."""
    p = subprocess.Popen([sys.executable, "-m", "bridge", "layers"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.close()             # before it writes anything: its first write fails
    err = p.stderr.read().decode()
    assert p.wait() == 0, err
    assert "internal error" not in err and "BrokenPipe" not in err and "Traceback" not in err, err
