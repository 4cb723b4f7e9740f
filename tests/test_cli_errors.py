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

import duckdb
import pytest
from click.testing import CliRunner

from go1sync import cli
from sandbox.go1 import Go1Sandbox, Go1Seed
from tests.helpers import ROOT, run_cli, sigint_as_at_a_terminal

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
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=sigint_as_at_a_terminal)
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


@pytest.mark.parametrize("raised", [RuntimeError("Query interrupted"),
                                    duckdb.InterruptException("INTERRUPT Error: Interrupted!")])
def test_a_duckdb_query_interrupted_outside_a_session_exits_130(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raised: BaseException) -> None:
    """Ctrl-C during a read-only command's query (status, plan, models): DuckDB's Python client
    raises a bare RuntimeError('Query interrupted'), the KeyboardInterrupt lost; it ends as
    any Ctrl-C."""
    import commands.status

    def interrupted_query(*_: object) -> None:
        raise raised

    monkeypatch.setattr(commands.status, "run_status", interrupted_query)
    result = CliRunner().invoke(cli.main, ["status"],
                                env={"GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().startswith("interrupted: what was committed is kept")
    assert "Traceback" not in result.output


def test_a_corrupt_block_read_outside_a_session_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    """A corrupt block that a read-only command's query meets (DuckDB reads blocks lazily)
    names the configured warehouse and how to restore it."""
    import commands.status

    def corrupt(*_: object) -> None:
        raise duckdb.Error("Corrupt database file: computed checksum 1 does not match stored "
                           "checksum 2 in block at location 4096")

    monkeypatch.setattr(commands.status, "run_status", corrupt)
    path = tmp_path / "w.duckdb"
    result = CliRunner().invoke(cli.main, ["status"], env={"GO1SYNC_WAREHOUSE": str(path)})
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: the warehouse {path} is unreadable: the file is corrupt")
    assert "python cli.py rebuild-snapshot" in line


def test_a_bug_in_a_query_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only local faults become one line: a query go1sync got wrong is a bug."""
    import commands.status

    def bug(*_: object) -> None:
        raise duckdb.BinderException('Binder Error: Referenced column "nope" not found')

    monkeypatch.setattr(commands.status, "run_status", bug)
    result = CliRunner().invoke(cli.main, ["status"])
    assert isinstance(result.exception, duckdb.BinderException)
