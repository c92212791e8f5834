"""The README stays true: its support table is the registry, and it gives
exactly the two set-up commands .ci/run relies on."""
import os
import re

from bridge.registry import REGISTRY, support_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md")).read()


def test_support_table_matches_registry():
    table = README.split("<!-- support-table:start -->")[1].split("<!-- support-table:end -->")[0]
    assert table.strip() == support_table().strip(), "README table is stale: paste `bridge layers`"
    listed = re.findall(r"^\| ([^|]+?) \| \d+ \|", table, re.M)
    assert sorted(listed) == REGISTRY.class_names()


def test_two_setup_commands():
    setup = README.split("## Set up on a fresh machine")[1].split("\n## ")[0]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.S)
    assert len(commands) == 2
    assert "examples/" in commands[0] and "--check" in commands[0]
    assert "pytest" in commands[1]
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert "python -m pytest -q" in ci
