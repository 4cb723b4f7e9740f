"""Process start: a command imports what it uses, not the whole tool (issue 15: start counts
in every run, and `--help` or `--version` should answer at once)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT

HEAVY = ("duckdb", "sqlglot", "jinja2", "rich", "waitress", "extract.client", "load.client",
         "warehouse.models")


def _imported(*args: str) -> set[str]:
    """The modules ``python cli.py ARGS`` imports (``-X importtime`` lists each)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "cli.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("webhooks", "--help"),
                                  ("run", "--help")])
def test_help_and_version_load_none_of_the_stages(args: tuple[str, ...]) -> None:
    loaded = _imported(*args)
    assert "go1sync.cli" in loaded  # the measure sees the imports at all
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
