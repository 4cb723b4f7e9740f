"""`plan` and `push` as a user runs them: what is printed, exit codes, one-line errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commands.extract import run_extract
from commands.transform import run_transform
from go1sync.settings import load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.helpers import run_cli as cli
from warehouse import open_warehouse


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(Go1Seed(seed=5, learning_objects=60, users=20, enrollments=200)).serve() as sb:
        yield sb


@pytest.fixture
def env(sync_env: dict[str, str]) -> dict[str, str]:
    """Both sandboxes, with Go1 already extracted and mapped: ready to plan and push."""
    config = load_config(env=sync_env)
    assert run_extract(config, ["learning_objects", "enrollments", "user_accounts"]).ok
    run_transform(config)
    return sync_env


def test_plan_counts_and_sends_nothing(env: dict[str, str], l360: L360Sandbox) -> None:
    result = cli("plan", env=env)
    assert result.returncode == 0, result.stderr
    rows = {tuple(line.split()[:2]): line.split()[2] for line in result.stdout.splitlines()
            if line.startswith(("course ", "attempt "))}
    assert int(rows[("course", "add")]) > 0 and int(rows[("attempt", "new")]) > 0
    assert l360.requests == []  # not even a token


def test_push_sends_then_finds_nothing_new(env: dict[str, str]) -> None:
    first = cli("push", env=env)
    assert first.returncode == 0, first.stderr
    assert "course_upsert" in first.stdout and "attempt" in first.stdout
    second = cli("push", env=env)
    assert second.returncode == 0
    assert "nothing new to push" in second.stdout


def test_push_exits_1_when_rows_fail(env: dict[str, str], l360: L360Sandbox) -> None:
    con = open_warehouse(env["GO1SYNC_WAREHOUSE"])
    row = con.execute("SELECT min(external_id) FROM marts.content_360 WHERE NOT archived"
                      ).fetchone()
    con.close()
    assert row is not None
    refused = str(row[0])
    l360.faults_360.item_error(refused, "Invalid course: refused by the sandbox.")
    result = cli("push", env=env)
    assert result.returncode == 1
    assert "refused by the sandbox" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "will be sent again next run" in result.stderr


def test_a_learner_without_an_account_is_a_warning_not_a_failure(
        env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    gone = learner_emails(go1)[0]
    l360.delete_user(gone)
    result = cli("push", env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "360Learning account" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: 1 learner(s) have no ")
    assert "see `python cli.py status`" in warnings[0]
    status = cli("status", env=env)
    assert "learners without a 360Learning account (1;" in status.stdout
    assert gone in status.stdout


@pytest.mark.parametrize(("change", "message"), [
    ({"L360_ADMIN_EMAIL": "nobody@acme-corp.com"},
     "the connector admin nobody@acme-corp.com (L360_ADMIN_EMAIL) is not a 360Learning user"),
    ({"L360_GROUP_IDS": "aaaaaaaaaaaaaaaaaaaaaaaa"},
     "360Learning has no group aaaaaaaaaaaaaaaaaaaaaaaa (L360_GROUP_IDS)"),
    ({"L360_PLATFORM_NAME": "360Learning"},
     "360Learning reserves the platform name '360Learning' (L360_PLATFORM_NAME): "
     "choose another"),
])
def test_integration_setup_errors_are_one_line(env: dict[str, str], change: dict[str, str],
                                               message: str) -> None:
    result = cli("push", env={**env, **change})
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {message}"


def test_a_wrong_360learning_secret_is_named_not_shown(env: dict[str, str]) -> None:
    result = cli("push", env={**env, "L360_CLIENT_SECRET": "wrong-secret-31337"})
    assert result.returncode == 1
    assert "L360_CLIENT_SECRET" in result.stderr and "wrong-secret-31337" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_push_needs_its_settings(env: dict[str, str]) -> None:
    result = cli("push", env={**env, "L360_ADMIN_EMAIL": ""})
    assert result.returncode == 2
    assert "missing setting L360_ADMIN_EMAIL" in result.stderr


def test_a_push_that_settles_an_earlier_run_says_so_apart_from_what_it_sent(
        env: dict[str, str], go1: Go1Sandbox) -> None:
    assert cli("push", env=env).returncode == 0
    # As if that push had been interrupted after the statistics' submit: the operation and its
    # rows recorded as submitted, its results never read, none of its rows in the snapshot.
    con = open_warehouse(env["GO1SYNC_WAREHOUSE"])
    ((op_id, rows),) = con.execute("SELECT bulk_operation_id, count(*) FROM meta.push_ledger "
                                   "WHERE kind = 'attempt' GROUP BY 1").fetchall()
    con.execute("UPDATE meta.push_ledger SET status = 'submitted' WHERE bulk_operation_id = ?",
                [op_id])
    con.execute("UPDATE meta.bulk_operations SET status = 'submitted', settled_at = NULL "
                "WHERE operation_id = ?", [op_id])
    con.execute("DELETE FROM meta.pushed_attempts")
    (course,) = con.execute("SELECT min(external_id) FROM meta.pushed_courses").fetchone() \
        or (None,)
    con.close()
    # and since then, a title was edited in Go1: what this push itself sends
    go1.edit_title(str(course), "Edited since the interrupted push")
    config = load_config(env=env)
    assert run_extract(config, ["learning_objects"]).ok
    run_transform(config)

    result = cli("push", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"settled 1 operation(s) left by an earlier run: {rows:,} attempt row(s) confirmed "
        "(sent by that run, not counted below)",
        f"{'kind':<15} {'sent':>9} {'ok':>9} {'failed':>7} {'rejected':>8}",
        f"{'course_upsert':<15} {1:>9,} {1:>9,} {0:>7,} {0:>8,}",
    ]
    again = cli("push", env=env)
    assert "nothing new to push" in again.stdout.splitlines()
    assert not again.stdout.startswith("settled")  # settled once, and for good


def test_an_adopted_operation_is_counted_with_the_earlier_runs_rows(env: dict[str, str]) -> None:
    assert cli("push", env=env).returncode == 0
    # As if the process had died between the 202 and recording the operation's id: the rows
    # pending, the operation unknown to the ledger (found in 360Learning's list, adopted).
    con = open_warehouse(env["GO1SYNC_WAREHOUSE"])
    ((op_id, rows),) = con.execute("SELECT bulk_operation_id, count(*) FROM meta.push_ledger "
                                   "WHERE kind = 'attempt' GROUP BY 1").fetchall()
    con.execute("UPDATE meta.push_ledger SET status = 'pending', bulk_operation_id = NULL "
                "WHERE kind = 'attempt'")
    con.execute("DELETE FROM meta.bulk_operations WHERE operation_id = ?", [op_id])
    con.execute("DELETE FROM meta.pushed_attempts")
    con.close()
    result = cli("push", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        f"settled 1 operation(s) left by an earlier run: {rows:,} attempt row(s) confirmed "
        "(sent by that run, not counted below)",
        f"{'kind':<15} {'sent':>9} {'ok':>9} {'failed':>7} {'rejected':>8}",
        "nothing new to push",
    ]
