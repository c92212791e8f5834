"""The house rules that can be read off the source (ast, no imports run):
imports follow the pipeline downward and never in a circle, no module takes
another's private names, no source file in bridge/ or opsets/ grows past 600
lines, and no committed text names one machine's paths."""
from __future__ import annotations

import ast
import fnmatch
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("bridge", "opsets")

# The pipeline from the bottom up. A module may import modules of a lower
# level; within one level only when `peers` says so, or when both are in
# the same package below it (an emitter family split into modules). A
# module's level is that of its most specific pattern ("a.b" is the module
# or package a.b itself, "a.b.*" the modules inside it).
LEVELS = [
    # ONNX node builders: nothing Keras-specific
    (["opsets.graph"], False),
    (["opsets.builders"], False),
    (["opsets"], False),
    # what every stage shares: errors, dtypes, the IR, the emitter API
    (["bridge.version", "bridge.errors", "bridge.dtypes"], False),
    # the limits a model file is held to
    (["bridge.safety"], False),
    (["bridge.ir", "bridge.targets"], False),
    (["bridge.context"], False),
    (["bridge.registry"], False),
    # where each layer's output is held in the graph (recorded while emitting)
    (["bridge.taps"], False),
    # 1. read the file as it is (its bytes enter through the guard)
    (["bridge.readers.guard.*"], True),
    (["bridge.readers.guard"], False),
    (["bridge.readers.store", "bridge.readers.config"], False),
    (["bridge.readers.hdf5", "bridge.readers.keras3"], False),
    (["bridge.readers"], False),
    # 2. normalize to one schema
    (["bridge.normalize.*"], True),
    (["bridge.normalize"], False),
    # 3. check support
    (["bridge.support"], False),
    # 4. emit: the walker, the shared helpers, the layer families
    (["bridge.walk"], False),
    (["bridge.emitters.common.*"], True),
    (["bridge.emitters.common"], False),
    # the op table behind the op layers (and Lambda translation): its own modules
    (["bridge.emitters.tfops.*"], True),
    # Lambda layers, translated over that op table
    (["bridge.emitters.lambdas.*"], True),
    (["bridge.emitters.*"], False),
    (["bridge.emitters"], False),
    (["bridge.emit"], False),
    # 5. passes: the graph they share, the Transpose rules' helpers, the rules, the passes
    (["bridge.passes.net"], False),
    (["bridge.passes.transpose_einsum", "bridge.passes.transpose_patches", "bridge.passes.pad_fold"], False),
    (["bridge.passes.transpose_rules"], False),
    (["bridge.passes.*"], False),
    (["bridge.passes"], False),
    # float16: a rewrite of the emitted graph, run by to_onnx when asked for
    (["bridge.deploy.fp16"], False),
    # 6., 7. write and verify: where the file goes, the progress display, the
    # writer, the pipeline itself
    (["bridge.destination"], False),
    (["bridge.progress"], False),
    (["bridge.writer"], False),
    (["bridge.convert"], False),
    # tools around it
    (["bridge.runtimes"], False),
    (["bridge.inspect", "bridge.runtime"], False),
    # per-layer checking: Keras's side (live references, the plot), then the ONNX side
    (["bridge.reference", "bridge.plot"], False),
    (["bridge.probe"], False),
    (["bridge.validate"], False),
    # shipping the result: int8, Triton, many files at once
    (["bridge.deploy.quantize", "bridge.deploy.triton"], False),
    (["bridge.deploy.batch"], False),
    (["bridge.deploy"], False),
    (["bridge.cli.options"], False),
    (["bridge.cli.*"], False),
    (["bridge.cli"], False),
    (["bridge.cli.__main__"], False),
    (["bridge"], False),
    (["bridge.__main__"], False),
]


def _modules() -> dict:
    """{dotted name: path} of every module in the packages."""
    out = {}
    for pkg in PACKAGES:
        for folder, dirs, files in os.walk(os.path.join(ROOT, pkg)):
            dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__"))]
            for f in files:
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(folder, f), ROOT)[:-3]
                    parts = rel.split(os.sep)
                    if parts[-1] == "__init__":
                        parts = parts[:-1]
                    out[".".join(parts)] = os.path.join(folder, f)
    return out


MODULES = _modules()


def _is_package(mod: str) -> bool:
    return MODULES[mod].endswith("__init__.py")


def _imports(mod: str) -> list:
    """(imported module, line, names) for every import statement, function
    level included, resolved to modules of the packages."""
    tree = ast.parse(open(MODULES[mod], encoding="utf-8").read())
    package = mod if _is_package(mod) else mod.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in PACKAGES:
                    out.append((a.name, node.lineno, []))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] not in PACKAGES:
                continue
            plain = []
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in MODULES:
                    out.append((sub, node.lineno, []))
                else:
                    plain.append(a.name)
            if plain:
                out.append((target, node.lineno, plain))
    return out


def _level(mod: str) -> int:
    best, found = -1, None
    for i, (patterns, _) in enumerate(LEVELS):
        for p in patterns:
            if fnmatch.fnmatch(mod, p) and len(p) > best:
                best, found = len(p), i
    assert found is not None, f"{mod} has no level in LEVELS: place it in the pipeline"
    return found


def _family(mod: str) -> str:
    """bridge.emitters.tfops for bridge.emitters.tfops.math: a family split into modules."""
    return ".".join(mod.split(".")[:3])


def test_every_module_has_a_level():
    for mod in MODULES:
        _level(mod)


def test_imports_run_down_the_pipeline():
    wrong = []
    for mod in sorted(MODULES):
        here = _level(mod)
        for target, line, _ in _imports(mod):
            if target not in MODULES:
                continue
            there = _level(target)
            peers = LEVELS[here][1] or _family(mod) == _family(target)
            if there > here or (there == here and not peers and target != mod):
                wrong.append(f"{MODULES[mod]}:{line}: {mod} imports {target}, which sits "
                             f"{'above' if there > here else 'beside'} it")
    assert not wrong, "imports against the pipeline order:\n" + "\n".join(wrong)


def test_no_import_cycle():
    graph = {m: sorted({t for t, _, _ in _imports(m) if t in MODULES and t != m}) for m in MODULES}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in graph[m]:
            if state.get(t) == "open":
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_names_across_modules():
    wrong = []
    for mod in sorted(MODULES):
        for target, line, names in _imports(mod):
            if target == mod:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                wrong.append(f"{MODULES[mod]}:{line}: imports {', '.join(private)} from {target}")
    assert not wrong, "private names imported from other modules:\n" + "\n".join(wrong)


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_module_is_short(mod):
    path = MODULES[mod]
    if os.path.relpath(path, ROOT) == os.path.join("bridge", "emitters", "tfops.py"):
        pytest.skip("being split into a package (issue 14, item 1)")
    n = sum(1 for _ in open(path, encoding="utf-8"))
    assert n <= 600, f"{path} has {n} lines; split it by what it holds"


def test_no_machine_specific_paths():
    hits = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") or d == ".ci"]
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "fixtures")]
        for f in files:
            path = os.path.join(folder, f)
            if not f.endswith((".py", ".md", ".toml", ".txt", ".cfg", ".sh")) and f != "run":
                continue
            text = open(path, encoding="utf-8", errors="replace").read()
            for bad in ("/" + "root/", "/" + "home/"):     # (spelled so that this file has neither)
                if bad in text:
                    hits.append(f"{os.path.relpath(path, ROOT)}: {bad}")
    assert not hits, "machine-specific paths:\n" + "\n".join(hits)


def test_every_builtin_registration_declares_its_layout():
    """A built-in emitter says which layout it handles (bridge.registry):
    the default is for user emitters."""
    missing = []
    for mod in sorted(MODULES):
        if not mod.startswith("bridge.emitters."):
            continue
        tree = ast.parse(open(MODULES[mod], encoding="utf-8").read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register":
                if not any(k.arg == "layout" for k in node.keywords):
                    missing.append(f"{MODULES[mod]}:{node.lineno}")
    assert not missing, "registrations without layout=:\n" + "\n".join(missing)
