"""The README's paths: `demo` with no setup, and `sandbox` whose printed variables work."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest

import console
from extract.streams import StreamStats
from warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO1_", "GO1SYNC_"))}
    return {**env, **extra}


def test_demo_extracts_changes_go1_and_extracts_again(tmp_path: Path) -> None:
    warehouse = tmp_path / "demo.duckdb"
    result = subprocess.run([sys.executable, "cli.py", "demo", "--warehouse", str(warehouse)],
                            cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Run 1" in result.stdout and "Run 2" in result.stdout
    assert "completed (pass)" in result.stdout and "retired" in result.stdout
    con = open_warehouse(warehouse)
    landed = dict(con.execute(
        "SELECT stream, records_landed FROM meta.stream_runs WHERE run_id = "
        "(SELECT max(run_id) FROM meta.runs WHERE command = 'run')").fetchall())
    # the second run lands exactly the three changes: one enrollment, two learning objects
    assert landed == {"learning_objects": 2, "enrollments": 1, "user_accounts": 0}
    # ... and the models map them: the retired course archived, the finished course closed
    changed = re.search(r"enrollment (\d+) completed .*learning object (\d+) retired",
                        result.stdout)
    assert changed, result.stdout
    done, lo_id = changed.groups()
    assert con.execute("SELECT archived, archived_reason FROM marts.content_360 "
                       "WHERE external_id = ?", [lo_id]).fetchone() == (True, "retired")
    assert con.execute("SELECT attempt_state, progress FROM marts.attempts_360 "
                       "WHERE go1_enrollment_id = ?", [done]).fetchone() == ("closed", 100)
    assert result.stdout.count("mapped: ") == 2


def test_sandbox_prints_variables_that_point_extract_at_it(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "cli.py", "sandbox", "--go1-port", "0", "--learning-objects", "50",
         "--enrollments", "200", "--users", "20"],
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        env: dict[str, str] = {}
        while len(env) < 5:
            line = server.stdout.readline()
            assert line, "the sandbox stopped before printing its variables"
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = value
        assert env["GO1_API_URL"].startswith("http://127.0.0.1:")
        result = subprocess.run(
            [sys.executable, "cli.py", "extract"], cwd=ROOT, capture_output=True, text=True,
            env=clean_env(**env, GO1SYNC_WAREHOUSE=str(tmp_path / "w.duckdb")), timeout=120)
        assert result.returncode == 0, result.stderr
    finally:
        # SIGTERM: SIGINT is ignored by processes a non-interactive shell starts in background.
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(timeout=10) == 0
        finally:
            if server.poll() is None:  # never leave a sandbox holding the fixed 360 port
                server.kill()


def test_sandbox_refuses_a_non_loopback_host() -> None:
    result = subprocess.run([sys.executable, "cli.py", "sandbox", "--host", "0.0.0.0"],
                            cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "loopback only" in result.stderr


def test_progress_is_shown_per_stream_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(click.utils, "_default_text_stderr", lambda: terminal)
    with console.StreamProgress() as progress:
        progress.update(StreamStats("learning_objects", pages=3, records_read=210))
        progress.update(StreamStats("enrollments", pages=40, records_read=2000))
    lines = [" ".join(line.split()) for line in terminal.getvalue().split("\r") if line]
    assert lines == ["learning_objects 3 pages 210 records", "enrollments 40 pages 2,000 records"]


def test_progress_is_silent_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with console.StreamProgress() as progress:
        progress.update(StreamStats("enrollments", pages=1, records_read=50))
    assert piped.getvalue() == ""
