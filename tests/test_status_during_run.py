"""``status`` while a run writes the warehouse: DuckDB lets nobody else read it, the lock file
tells what the run is doing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sandbox.go1 import Go1Sandbox
from tests.helpers import ROOT, run_cli


def test_status_during_a_run_shows_its_stage(go1: Go1Sandbox, sync_env: dict[str, str]) -> None:
    go1.faults.latency_ms = 150  # a run long enough to look at
    env = {**{k: v for k, v in os.environ.items()
              if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}, **sync_env}
    running = subprocess.Popen([sys.executable, "cli.py", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = Path(sync_env["GO1SYNC_WAREHOUSE"] + ".lock")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the run notes its stage once it has started
            text = lock.read_text() if lock.exists() else ""
            if '"stage": "extract"' in text and "read in" in text:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the run never noted its stage: {text!r}")
        shown = run_cli("status", env=sync_env)
    finally:
        running.terminate()
        running.wait(timeout=30)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].strip() == "run in progress"
    assert f"`run` by pid {running.pid}" in lines[1] and "now extract: " in lines[1]
    # killed, it leaves its note behind, but no lock: status reads the warehouse again
    assert json.loads(lock.read_text())["stage"] == "extract"
    after = run_cli("status", env=sync_env)
    assert after.returncode == 0, after.stderr
    assert "run in progress" not in after.stdout and after.stdout.startswith("runs")
