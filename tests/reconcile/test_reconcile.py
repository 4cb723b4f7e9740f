"""Reconciliation against both sandboxes: each kind of difference found, a clean sync clean."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from commands.extract import run_extract
from commands.reconcile import run_reconcile
from commands.transform import run_transform
from go1sync.settings import Config, load_config
from sandbox.go1 import Go1Sandbox
from sandbox.l360 import L360Sandbox
from tests.helpers import push, run_cli, sync

READ_BACK_SIDE = {"course_missing", "archived_in_360_published_in_go1",
                  "live_in_360_archived_in_go1", "course_fields_differ", "attempt_missing",
                  "attempt_values_differ", "open_in_360_completed_in_go1",
                  "multiple_attempts_per_enrollment", "learner_without_360_user", "scorm_twin"}


def synced(sync_env: dict[str, str]) -> Config:
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    return config


def counts(config: Config) -> dict[str, int]:
    report, _ = run_reconcile(config)
    return {c.key: c.count for c in report.categories}


def test_a_clean_sync_reports_no_difference_in_360learning(sync_env: dict[str, str]) -> None:
    found = counts(synced(sync_env))
    assert {k: n for k, n in found.items() if k in READ_BACK_SIDE and n} == {}


def test_each_kind_of_difference_is_found(sync_env: dict[str, str], go1: Go1Sandbox,
                                          l360: L360Sandbox) -> None:
    config = synced(sync_env)
    live = sorted({e for (_, e), c in l360.courses.items() if not c["archived"]})
    with_attempts = sorted({(a["externalCourseId"], a["mail"]) for a in l360.attempts})
    closed = sorted({(a["externalCourseId"], a["mail"]) for a in l360.attempts
                     if a["completed"]} - set(with_attempts[:2]))
    l360.delete_course(live[0])                                   # course missing
    l360.archive_course(live[1])                                  # archived there, live in Go1
    l360.edit_course(live[2], name="Renamed in 360Learning")      # fields differ
    l360.delete_attempts(*with_attempts[0])                       # attempt missing
    l360.duplicate_attempt(*with_attempts[1])                     # two attempts, one enrollment
    l360.edit_attempt(*closed[0], completedAt=None, completed=False, progress=40)  # reopened
    still_open = sorted({(a["externalCourseId"], a["mail"]) for a in l360.attempts
                         if not a["completed"]} - set(with_attempts[:2]) - {closed[0]})
    l360.edit_attempt(*still_open[0], progress=70)               # progress differs
    l360.delete_user(with_attempts[-1][1])                        # learner without a user
    l360.add_imported_course(l360.courses[next(k for k in l360.courses
                                               if k[1] == live[3])]["name"])  # SCORM twin
    go1.retire(live[4])                                           # archived in Go1 ...
    run_extract(config, ["learning_objects"])
    run_transform(config)                                         # ... not pushed yet
    found = counts(config)
    for category in ("course_missing", "archived_in_360_published_in_go1",
                     "live_in_360_archived_in_go1", "course_fields_differ", "attempt_missing",
                     "attempt_values_differ", "multiple_attempts_per_enrollment",
                     "open_in_360_completed_in_go1", "enrollment_of_unsynced_content",
                     "rejected",  # Go1 learners without an email, in the seeded data
                     "learner_without_360_user", "scorm_twin"):
        assert found[category] >= 1, (category, found)


def test_requeue_sends_the_differences_again(sync_env: dict[str, str],
                                             l360: L360Sandbox) -> None:
    config = synced(sync_env)
    live = sorted({e for (_, e), c in l360.courses.items() if not c["archived"]})
    l360.edit_course(live[0], name="Renamed in 360Learning")
    pair = sorted({(a["externalCourseId"], a["mail"]) for a in l360.attempts})[0]
    l360.delete_attempts(*pair)
    _, requeued = run_reconcile(config, requeue=True)
    assert requeued >= 2
    pushed = push(config)
    assert pushed.count("course_upsert").succeeded >= 1
    assert pushed.count("attempt").succeeded >= 1
    after = counts(config)
    assert after["course_fields_differ"] == 0 and after["attempt_missing"] == 0


def test_reconcile_command_writes_every_format(sync_env: dict[str, str],
                                               tmp_path: Path) -> None:
    synced(sync_env)
    text = run_cli("reconcile", env=sync_env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("reconciliation, run ")
    csv_dir, json_dir = tmp_path / "csv", tmp_path / "json"
    assert run_cli("reconcile", "--format", "csv", "--out", str(csv_dir),
                   env=sync_env).returncode == 0
    assert (csv_dir / "scorm_twin.csv").read_text().startswith("go1_key,")
    assert run_cli("reconcile", "--format", "json", "--out", str(json_dir),
                   env=sync_env).returncode == 0
    data = json.loads((json_dir / "enrollment_of_unsynced_content.json").read_text())
    assert data["count"] == len(data["rows"]) > 0
    html = tmp_path / "r.html"
    result = run_cli("reconcile", "--format", "html", "--out", str(html), env=sync_env)
    assert result.returncode == 0, result.stderr
    page = html.read_text()
    assert "go1sync reconciliation" in page and "Go1 content also imported" in page


def _built_by_last_run(config: Config) -> set[str]:
    con = duckdb.connect(str(config.warehouse_path()), read_only=True)
    try:
        return {str(r[0]) for r in con.execute(
            "SELECT model FROM meta.model_runs WHERE run_id = (SELECT max(run_id) FROM "
            "meta.runs WHERE command = 'reconcile')").fetchall()}
    finally:
        con.close()


def test_a_reconcile_rebuilds_the_marts_only_when_something_landed_since(
        sync_env: dict[str, str], go1: Go1Sandbox) -> None:
    """After a run the marts are what the raw tables make: only the comparison models are
    built. After an extract with no transform, a renamed course must be compared as Go1 has
    it now: everything is built, and the rename shows as a difference to push."""
    config = synced(sync_env)
    assert _built_by_last_run(config) == set()  # no reconcile yet
    counts(config)
    assert _built_by_last_run(config) == {"l360_attempts", "differences"}

    lo_id = next(iter(sorted(go1.library)))
    go1.edit_title(lo_id, "Renamed in Go1 since the run")
    run_extract(config, ["learning_objects"])
    counts(config)
    assert {"go1_learning_objects", "content_360", "rejects", "differences"} <= \
        _built_by_last_run(config)
    con = duckdb.connect(str(config.warehouse_path()), read_only=True)
    try:
        names = con.execute("SELECT name FROM marts.content_360 WHERE external_id = ?",
                            [lo_id]).fetchall()
    finally:
        con.close()
    assert names == [("Renamed in Go1 since the run",)]
