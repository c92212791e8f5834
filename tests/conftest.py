"""The slow tier: whole networks (tests/test_applications.py) are built,
saved, converted and compared live, which takes minutes on a small machine.
They run when asked for:

    BRIDGE_SLOW=1 python -m pytest tests/test_applications.py       # one network per family
    BRIDGE_SLOW=full python -m pytest tests/test_applications.py    # every variant
    python -m pytest --slow ...                                      # same as BRIDGE_SLOW=1

and are skipped otherwise (they also need tf-keras / Keras 3 importable)."""
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="run the slow tier (whole keras.applications networks)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: whole-network tests, run with --slow or BRIDGE_SLOW=1")
    config.addinivalue_line("markers", "heavy: the biggest variants, run with BRIDGE_SLOW=full")


def slow_level(config) -> str:
    level = os.environ.get("BRIDGE_SLOW", "").strip().lower()
    if config.getoption("--slow") and level in ("", "0"):
        level = "1"
    return level


def pytest_collection_modifyitems(config, items):
    level = slow_level(config)
    skip_slow = pytest.mark.skip(reason="slow tier: run with --slow or BRIDGE_SLOW=1")
    skip_heavy = pytest.mark.skip(reason="heaviest variants: run with BRIDGE_SLOW=full")
    for item in items:
        if "slow" in item.keywords and level in ("", "0"):
            item.add_marker(skip_slow)
        elif "heavy" in item.keywords and level != "full":
            item.add_marker(skip_heavy)
