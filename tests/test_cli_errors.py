"""The CLI's one error boundary: one line and an exit code, never a traceback.

go1sync's own errors, the operating system's (a port in use, a folder that cannot be
written), and Ctrl-C (exit 130, saying what was kept); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.go1 import Go1Sandbox, Go1Seed
from tests.helpers import ROOT, run_cli

# /sys refuses new files and folders, even to root (tests may run as root, which ignores
# permission bits)
READ_ONLY = Path("/sys/go1sync-test")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error, the last line of stderr and the only one of its kind (retry warnings, which
    a rate-limited read-back may log, can come before it)."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in lines if not line.startswith("WARNING ")]
    assert len(errors) == 1 and errors == lines[-1:], result.stderr
    assert lines[-1].startswith("Error: ")
    return lines[-1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something already listens on."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_a_port_in_use_is_one_line_naming_it(busy_port: int) -> None:
    result = run_cli("sandbox", "--go1-port", str(busy_port), "--l360-port", "0")
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"cannot listen on 127.0.0.1:{busy_port} (--go1-port)" in line
    assert "in use" in line


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only /sys")
def test_a_warehouse_in_a_folder_that_cannot_be_written_is_one_line(go1_env: dict[str, str]
                                                                     ) -> None:
    env = {**go1_env, "GO1SYNC_WAREHOUSE": str(READ_ONLY / "w.duckdb")}
    result = run_cli("extract", "--stream", "learning_objects", env=env)
    assert result.returncode == 1
    assert str(READ_ONLY) in one_line_error(result)


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only /sys")
def test_an_out_that_cannot_be_written_is_one_line(sync_env: dict[str, str]) -> None:
    assert run_cli("run", env=sync_env).returncode == 0
    target = READ_ONLY / "report.html"
    result = run_cli("reconcile", "--format", "html", "--out", str(target), env=sync_env)
    assert result.returncode == 1
    assert str(READ_ONLY) in one_line_error(result)


def test_debug_shows_the_traceback(go1_env: dict[str, str]) -> None:
    env = {**go1_env, "GO1_CLIENT_SECRET": "wrong-secret-5"}
    plain = run_cli("extract", env=env)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    debug = run_cli("--debug", "extract", env=env)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    assert "AuthError" in debug.stderr and "wrong-secret-5" not in debug.stderr
    by_env = run_cli("extract", env={**env, "GO1SYNC_DEBUG": "1"})
    assert "Traceback" in by_env.stderr


def test_ctrl_c_exits_130_and_says_what_was_kept(tmp_path: Path) -> None:
    seed = Go1Seed(seed=7, learning_objects=100, users=60, enrollments=3000)
    with Go1Sandbox(seed).serve() as go1:
        go1.faults.latency_ms = 30
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
        env = {**clean, **go1.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")}
        process = subprocess.Popen([sys.executable, "cli.py", "extract"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not any(r.path == "/enrollments" for r in go1.requests):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        # from the first page on, every answer takes 2 s: the other 59 pages are still to
        # come, so the interrupt lands in the middle of the extract, whatever the machine
        go1.faults.latency_ms = 2000
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert "interrupted: what was committed is kept" in err
