"""The lazily loaded emitter families (bridge/emitters/__init__.py): the
index says exactly which module registers each of their classes, and a
conversion that needs none of them does not import them."""
import subprocess
import sys

from bridge.emitters import lazy_index
from tests import make_emitter_index


def test_index_is_current():
    assert lazy_index.LAZY_MODULES == make_emitter_index.LAZY_MODULES
    assert lazy_index.LAZY == make_emitter_index.compute(), \
        "run: python tests/make_emitter_index.py"


def test_a_cnn_loads_no_lazy_family(tmp_path):
    code = ("import sys, bridge\n"
            "bridge.to_onnx(sys.argv[1])\n"
            "from bridge.emitters.lazy_index import LAZY_MODULES\n"
            "print([m for m in LAZY_MODULES if 'bridge.emitters.' + m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code, make_emitter_index.HERE + "/../examples/small_cnn.h5"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
