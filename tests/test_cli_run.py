"""`python cli.py run` end to end, as a subprocess against both sandboxes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.helpers import ROOT
from tests.helpers import run_cli as cli
from warehouse import RunLock, open_warehouse


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
    # nothing landed after a run that left nothing to send: no model rebuilt, no diff, and
    # not one call to 360Learning, not even a token
    skipped = ("nothing landed since run 2, which left nothing to send: transform, plan and "
               "push skipped")
    assert f"transform\n  {skipped}\n" in third.stdout
    assert l360.requests == []
    status = cli("status", env=sync_env)
    assert "landed 0 of " in status.stdout and skipped in status.stdout

    go1.edit_title(lo_id, "Renamed again")
    fourth = cli("run", env=sync_env)
    assert fourth.returncode == 0, fourth.stderr
    assert "skipped" not in fourth.stdout  # a new title landed: a full run
    assert [w.split()[0] for w in writes(l360)] == ["PUT"]

    con = open_warehouse(sync_env["GO1SYNC_WAREHOUSE"])
    runs = con.execute("SELECT command, status, counts->>'$.push' IS NOT NULL, "
                       "(SELECT count(*) FROM meta.model_runs AS m WHERE m.run_id = r.run_id) "
                       "FROM meta.runs AS r ORDER BY run_id").fetchall()
    models = runs[0][3]
    assert models > 0
    # one run record per run, stages inside; the third built nothing and pushed nothing
    assert runs == [("run", "success", True, models), ("run", "success", True, models),
                    ("run", "success", False, 0), ("run", "success", True, models)]


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


def refuse_learner(go1: Go1Sandbox, l360: L360Sandbox) -> None:
    """360Learning refuses one learner's statistics (a user deleted after it was listed)."""
    user_id = l360.users[learner_emails(go1)[0]]
    l360.faults_360.item_error(user_id, f"Unknown user: no user with internalId {user_id}.")


def test_run_exits_1_and_says_where_to_look_when_rows_fail(
        sync_env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    refuse_learner(go1, l360)
    result = cli("run", env=sync_env)
    assert result.returncode == 1
    assert "not pushed (sent again next run; `python cli.py status` shows them)" in result.stderr


def test_status_shows_runs_cursors_rejects_what_was_not_pushed_and_the_readings(
        sync_env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    refuse_learner(go1, l360)
    assert cli("run", env=sync_env).returncode == 1
    result = cli("status", env=sync_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "run        partial" in out and "pushed " in out and " failed" in out
    assert "enrollments       20" in out  # the cursor, a UTC instant
    assert "rejects by reason" in out and "status_ignored" in out
    assert "not pushed in the last push" in out and "Unknown user" in out
    assert "go1   enrollments_path          /enrollments" in out
    assert "l360  resource_id_is_course_id  true" in out


def test_a_run_whose_only_unsent_rows_wait_for_accounts_succeeds_with_one_warning(
        sync_env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    for email in learner_emails(go1)[:3]:
        l360.delete_user(email)
    result = cli("run", env=sync_env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [warnings[0]] and "3 learner(s) have no 360Learning account" in \
        warnings[0]


def test_a_missing_go1_scope_is_named_by_run(sync_env: dict[str, str], go1: Go1Sandbox) -> None:
    go1.scopes.discard("user.read")
    result = cli("run", "--dry-run", env=sync_env)
    assert result.returncode == 1
    assert "user_accounts" in result.stderr.splitlines()[-1]
    assert "lacks the scope user.read" in result.stdout
    assert "refused a freshly issued token" not in result.stdout + result.stderr


@pytest.mark.parametrize("scope", ["bulkOperations:read", "integrations:bulk", "users:read",
                                   "integrations:read"])
def test_a_missing_360learning_scope_stops_the_push_naming_it(
        sync_env: dict[str, str], l360: L360Sandbox, scope: str) -> None:
    l360.scopes.discard(scope)
    result = cli("run", env=sync_env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: 360Learning refused ") and f"the scope {scope}" in last
    if scope == "bulkOperations:read":  # refused before anything was submitted
        assert [r for r in l360.requests if r.method != "GET" and "token" not in r.path] == []


def test_status_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    result = cli("status", env={"GO1SYNC_WAREHOUSE": str(tmp_path / "none.duckdb")})
    assert result.returncode == 1
    assert "no warehouse at" in result.stderr and "extract" in result.stderr


def test_a_run_told_to_wait_follows_the_run_in_progress(sync_env: dict[str, str],
                                                         l360: L360Sandbox) -> None:
    """What a scheduled run does when the other job still holds the warehouse."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
    holder = RunLock(sync_env["GO1SYNC_WAREHOUSE"], "run").acquire()
    waiting = subprocess.Popen(
        [sys.executable, "cli.py", "run", "--dry-run", "--wait-for-lock", "120"], cwd=ROOT,
        env={**clean, **sync_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert waiting.stderr is not None
        told = waiting.stderr.readline()
        assert "another run is in progress" in told and "waiting up to 120s" in told
        assert waiting.poll() is None  # still waiting while the lock is held
    finally:
        holder.release()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "dry run: nothing pushed" in out

    free = cli("run", "--dry-run", "--wait-for-lock", "0", env=sync_env)
    assert free.returncode == 0, free.stderr  # nothing holds it now


def test_a_run_that_waits_in_vain_says_how_long(sync_env: dict[str, str]) -> None:
    with RunLock(sync_env["GO1SYNC_WAREHOUSE"], "extract"):
        result = cli("run", "--wait-for-lock", "1", env=sync_env)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("Error: another run is in progress (")
    assert result.stderr.splitlines()[-1].endswith("command extract); waited 1s for it")
