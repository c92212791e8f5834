"""Write bridge/emitters/lazy_index.py: which module registers each Keras
class of the emitter families bridge/emitters/__init__.py imports lazily.

    python tests/make_emitter_index.py          # after adding or moving a lazy family's class

tests/test_emitter_index.py checks the file against this computation.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "bridge", "emitters", "lazy_index.py")

# The families imported on demand, in the order they are indexed (a class a
# family registers through another is credited to the first one imported).
LAZY_MODULES = ["attention", "conv_lstm", "lambdas", "legacy", "locally_connected", "preprocessing",
                "recurrent", "tfops", "libraries.kcv", "libraries.keras_hub", "libraries.larq",
                "libraries.qkeras", "libraries.tfmot"]

_PROBE = """
import importlib, json, sys
from bridge.registry import REGISTRY
import bridge.emitters
REGISTRY.set_loader(None)
index = {}
for module in json.loads(sys.argv[1]):
    before = set(REGISTRY._by_class)
    importlib.import_module("bridge.emitters." + module)
    for name in sorted(set(REGISTRY._by_class) - before):
        index[name] = module
print(json.dumps(index))
"""


def compute() -> dict:
    import json
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(LAZY_MODULES)], check=True,
                         capture_output=True, text=True, cwd=os.path.join(HERE, ".."))
    return json.loads(out.stdout.strip().splitlines()[-1])


def render(index: dict) -> str:
    lines = ['"""Which lazily imported emitter module registers each Keras class.',
             "Made by tests/make_emitter_index.py; do not edit by hand."
             '"""', "", "LAZY_MODULES = ["]
    lines += [f"    {m!r}," for m in LAZY_MODULES]
    lines += ["]", "", "LAZY = {"]
    lines += [f"    {k!r}: {v!r}," for k, v in sorted(index.items())]
    lines += ["}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    text = render(compute())
    with open(TARGET, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {TARGET}")
