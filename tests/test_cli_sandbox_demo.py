"""The README's paths: `demo` with no setup, and `sandbox` whose printed variables work."""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from extract.streams import StreamStats
from go1sync import console
from go1sync.progress import Progress
from sandbox import users_for
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


class Sandbox:
    """``python cli.py sandbox`` in the background, on free ports, with its own warehouse."""

    def __init__(self, warehouse: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "cli.py", "sandbox", "--go1-port", "0", "--l360-port", "0",
             "--warehouse", str(warehouse), *args],
            cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.heading = self.process.stdout.readline()
        self.env: dict[str, str] = {}
        while "GO1SYNC_WAREHOUSE" not in self.env:  # the last one
            line = self.process.stdout.readline()
            assert line.startswith("export "), line
            name, _, value = line.removeprefix("export ").strip().partition("=")
            self.env[name] = shlex.split(value)[0]

    def stop(self) -> str:
        """SIGTERM (SIGINT is ignored by processes a non-interactive shell starts in the
        background); its stderr."""
        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
            assert self.process.returncode == 0, err
            return err
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.fixture
def sandboxes() -> Iterator[Callable[..., Sandbox]]:
    started: list[Sandbox] = []

    def start(warehouse: Path, *args: str) -> Sandbox:
        started.append(Sandbox(warehouse, *args))
        return started[-1]

    yield start
    for sandbox in started:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait()


def test_sandbox_prints_variables_that_point_extract_at_it_and_its_own_warehouse(
        tmp_path: Path, sandboxes: Callable[..., Sandbox]) -> None:
    warehouse = tmp_path / "sandbox.duckdb"
    server = sandboxes(warehouse, "--learning-objects", "50", "--enrollments", "200",
                       "--users", "20")
    assert re.fullmatch(
        r"# Go1 sandbox on http://127\.0\.0\.1:\d+ \(50 learning objects, 20 users, 200 "
        r"enrollments\), 360Learning sandbox on http://127\.0\.0\.1:\d+, warehouse "
        + re.escape(str(warehouse)) + r" \(emptied\); ready in \d+\.\ds\n", server.heading)
    assert server.env["GO1_API_URL"].startswith("http://127.0.0.1:")
    assert server.env["GO1SYNC_WAREHOUSE"] == str(warehouse)
    result = subprocess.run([sys.executable, "cli.py", "extract"], cwd=ROOT,
                            capture_output=True, text=True, env=clean_env(**server.env),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert warehouse.is_file()  # the sandbox's warehouse, not the default one
    # a second sandbox on the same warehouse would empty it under the first one's feet
    second = subprocess.run(
        [sys.executable, "cli.py", "sandbox", "--go1-port", "0", "--l360-port", "0",
         "--warehouse", str(warehouse)], cwd=ROOT, env=clean_env(), capture_output=True,
        text=True, timeout=60)
    assert (second.returncode, second.stderr) == (1, (
        f"Error: {warehouse} is the warehouse of a sandbox still running: stop it, or give "
        "this one another --warehouse\n"))
    assert "Ctrl-C (or SIGTERM) stops them." in server.stop()
    # the next session starts with an empty warehouse, as its stand-ins start empty
    sandboxes(warehouse).stop()
    assert not warehouse.exists()


def test_sandbox_users_grow_with_enrollments_unless_given(
        tmp_path: Path, sandboxes: Callable[..., Sandbox]) -> None:
    # 80 users and 300 learning objects cannot make 30,000 distinct enrollments
    server = sandboxes(tmp_path / "s.duckdb", "--enrollments", "30000")
    assert "(300 learning objects, 1,200 users, 30,000 enrollments)" in server.heading
    server.stop()
    result = subprocess.run(
        [sys.executable, "cli.py", "sandbox", "--go1-port", "0", "--l360-port", "0",
         "--warehouse", str(tmp_path / "t.duckdb"), "--users", "10", "--enrollments", "30000"],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (2, (
        "Error: cannot generate 30,000 enrollments for 10 users and 300 learning objects: give "
        "more --users or --learning-objects (without --users, it grows with --enrollments)\n"))


def test_users_for_keeps_the_default_seeds_ratio() -> None:
    assert [users_for(n) for n in (0, 2000, 2001, 200_000)] == [80, 80, 81, 8000]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something already listens on (the OS picks it: never a fixed one)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


@pytest.mark.parametrize("option", ["--go1-port", "--l360-port"])
def test_a_port_in_use_is_one_line_naming_the_port_and_the_option(
        tmp_path: Path, busy_port: int, option: str) -> None:
    ports = {"--go1-port": "0", "--l360-port": "0", option: str(busy_port)}
    result = subprocess.run(
        [sys.executable, "cli.py", "sandbox", *(x for kv in ports.items() for x in kv),
         "--warehouse", str(tmp_path / "s.duckdb")],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", (
        f"Error: cannot listen on 127.0.0.1:{busy_port} ({option}): Address already in use; "
        f"another sandbox may be running: stop it, or choose another {option} (0: any free "
        "port)\n"))
    assert not (tmp_path / "s.duckdb.sandbox.lock").exists()  # checked before anything else


@pytest.mark.parametrize("module", ["sandbox.go1", "sandbox.l360"])
def test_a_sandbox_process_on_a_port_in_use_says_so_in_one_line(busy_port: int,
                                                                module: str) -> None:
    result = subprocess.run([sys.executable, "-m", module, "--port", str(busy_port)], cwd=ROOT,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", (
        f"python -m {module}: cannot listen on 127.0.0.1:{busy_port} (--port): Address already "
        "in use; another sandbox may be running: stop it, or choose another --port (0: any "
        "free port)\n"))


def test_sandbox_never_empties_a_warehouse_it_did_not_make(tmp_path: Path) -> None:
    real = tmp_path / "go1sync.duckdb"
    real.write_bytes(b"not the sandbox's")
    result = subprocess.run(
        [sys.executable, "cli.py", "sandbox", "--go1-port", "0", "--l360-port", "0",
         "--warehouse", str(real)], cwd=ROOT, env=clean_env(), capture_output=True, text=True,
        timeout=60)
    assert (result.returncode, result.stderr) == (2, (
        f"Error: {real} exists and is not a sandbox warehouse (no go1sync.duckdb.sandbox.lock "
        "beside it): it is left alone; choose another --warehouse\n"))
    assert real.read_bytes() == b"not the sandbox's"


def test_sandbox_refuses_a_non_loopback_host() -> None:
    result = subprocess.run([sys.executable, "cli.py", "sandbox", "--host", "0.0.0.0"],
                            cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "loopback only" in result.stderr


def test_progress_is_shown_per_stream_on_a_terminal() -> None:
    terminal = io.StringIO()
    with Progress(terminal, live=True) as bars:
        show = console.stream_progress(bars)
        show(StreamStats("learning_objects", requests=3, records_read=210, expected=400))
        show(StreamStats("enrollments", requests=40, records_read=2000))
    shown = terminal.getvalue()
    assert "learning_objects" in shown and "210/400" in shown and "3 requests" in shown
    assert "enrollments" in shown and "40 requests" in shown


def test_progress_is_quiet_when_piped() -> None:
    piped = io.StringIO()
    with Progress(piped, live=False) as bars:
        console.stream_progress(bars)(StreamStats("enrollments", pages=1, records_read=50))
    assert piped.getvalue() == ""  # a plain line only once a task has run PLAIN_EVERY seconds
