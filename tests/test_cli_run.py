"""`python cli.py run` end to end, as a subprocess against both sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.demo import learner_emails
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from tests.helpers import run_cli as cli
from warehouse import open_warehouse


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(Go1Seed(seed=3, learning_objects=60, users=20, enrollments=250)).serve() as sb:
        yield sb


def writes(l360: L360Sandbox) -> list[str]:
    return [f"{r.method} {r.path}" for r in l360.requests
            if r.method != "GET" and not r.path.endswith("/oauth2/token")]


def test_run_syncs_then_follows_changes_then_has_nothing_to_do(
        sync_env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    first = cli("run", env=sync_env)
    assert first.returncode == 0, first.stderr
    assert {"extract", "transform", "plan", "push"} <= set(first.stdout.split())
    courses = len(l360.courses)
    assert courses > 0 and l360.attempts

    lo_id = sorted(e for _, e in l360.courses)[0]
    go1.edit_title(lo_id, "Renamed in Go1")
    l360.clear_requests()
    second = cli("run", env=sync_env)
    assert second.returncode == 0, second.stderr
    assert [w.split()[0] for w in writes(l360)] == ["PUT"]
    assert next(c for (_, e), c in l360.courses.items() if e == lo_id)["name"] == "Renamed in Go1"

    l360.clear_requests()
    third = cli("run", env=sync_env)
    assert third.returncode == 0, third.stderr
    assert "nothing new to push" in third.stdout
    assert writes(l360) == []

    con = open_warehouse(sync_env["GO1SYNC_WAREHOUSE"])
    runs = con.execute("SELECT command, status, counts->>'$.push' IS NOT NULL FROM meta.runs "
                       "ORDER BY run_id").fetchall()
    assert runs == [("run", "success", True)] * 3  # one run record per run, stages inside


def test_only_catalog_pushes_no_statistics_and_dry_run_pushes_nothing(
        sync_env: dict[str, str], l360: L360Sandbox) -> None:
    dry = cli("run", "--dry-run", env=sync_env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing pushed" in dry.stdout and l360.requests == []
    catalog = cli("run", "--only", "catalog", env=sync_env)
    assert catalog.returncode == 0, catalog.stderr
    assert l360.courses and l360.attempts == []
    stats = cli("run", "--only", "stats", env=sync_env)
    assert stats.returncode == 0, stats.stderr
    assert l360.attempts


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--since", "last tuesday"], "is neither a date nor a date-time"),
    (["run", "--only", "everything"], "Invalid value for '--only'"),
])
def test_run_refuses_bad_options(sync_env: dict[str, str], args: list[str],
                                 message: str) -> None:
    result = cli(*args, env=sync_env)
    assert result.returncode == 2
    assert message in result.stderr


def test_run_exits_1_and_says_where_to_look_when_rows_fail(
        sync_env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    l360.delete_user(learner_emails(go1)[0])
    result = cli("run", env=sync_env)
    assert result.returncode == 1
    assert "not pushed (sent again next run; `python cli.py status` shows them)" in result.stderr


def test_status_shows_runs_cursors_rejects_and_what_was_not_pushed(
        sync_env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    l360.delete_user(learner_emails(go1)[0])
    assert cli("run", env=sync_env).returncode == 1
    result = cli("status", env=sync_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "run        partial" in out and "pushed " in out and " failed" in out
    assert "enrollments       20" in out  # the cursor, a UTC instant
    assert "rejects by reason" in out and "status_ignored" in out
    assert "not pushed in the last push" in out and "Unknown user" in out


def test_status_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    result = cli("status", env={"GO1SYNC_WAREHOUSE": str(tmp_path / "none.duckdb")})
    assert result.returncode == 1
    assert "no warehouse at" in result.stderr and "extract" in result.stderr
