"""The incremental models: a micro-run maps the keys its events touched exactly as a full
transform maps them, and rebuilds nothing else.

Each test makes changes in the Go1 sandbox, processes the events that name them as a micro-run,
reads the incremental models' tables, runs a full transform, and reads them again: the two must
be equal row for row. A filter in an ``is_incremental()`` branch that misses a key (the
learner's other enrollments after an email change, the enrollments of an object that joined My
Library, a duplicate_key group) shows as a difference here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from commands.microrun import micro_run
from commands.run import run_pipeline
from commands.transform import run_transform
from extract.events import EventRef
from go1sync.settings import Config, load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from warehouse.connection import connect

INCREMENTAL = ("staging.go1_enrollments", "staging.go1_learning_objects", "marts.content_360",
               "marts.enrollment_mapping", "marts.attempts_360", "outbound.attempt_records")


@pytest.fixture
def world(tmp_path: Any) -> Iterator[tuple[Go1Sandbox, L360Sandbox, Config]]:
    go1 = Go1Sandbox(Go1Seed(seed=11, learning_objects=120, users=40, enrollments=600)).serve()
    l360 = L360Sandbox(learner_emails=learner_emails(go1)).serve()
    config = load_config(env={**go1.env(), **l360.env(),
                              "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
    try:
        assert run_pipeline(config).ok
        l360.wait_for_operations()
        yield go1, l360, config
    finally:
        go1.stop()
        l360.stop()


def _tables(config: Config) -> dict[str, list[tuple[Any, ...]]]:
    con = connect(config.warehouse_path(), read_only=True)
    try:
        return {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
                for name in INCREMENTAL}
    finally:
        con.close()


def _models_of_last_run(config: Config) -> tuple[str, list[str]]:
    con = connect(config.warehouse_path(), read_only=True)
    try:
        row = con.execute("SELECT run_id, command FROM meta.runs ORDER BY run_id DESC "
                          "LIMIT 1").fetchone()
        assert row is not None
        models = [str(r[0]) for r in con.execute(
            "SELECT model FROM meta.model_runs WHERE run_id = ? ORDER BY model",
            [row[0]]).fetchall()]
        return str(row[1]), models
    finally:
        con.close()


def _assert_same_as_full(config: Config) -> dict[str, list[tuple[Any, ...]]]:
    after_micro = _tables(config)
    run_transform(config)
    after_full = _tables(config)
    for name in INCREMENTAL:
        missing = [r for r in after_full[name] if r not in after_micro[name]]
        extra = [r for r in after_micro[name] if r not in after_full[name]]
        assert not missing and not extra, (name, missing[:2], extra[:2])
    return after_micro


def _enrollment(go1: Go1Sandbox, status: str) -> tuple[str, dict[str, Any]]:
    return next((i, e) for i, e in sorted(go1.enrollments.items())
                if e["status"] == status and e["lo_id"] in _synced(go1))


def _synced(go1: Go1Sandbox) -> set[str]:
    return {lo for lo in go1.library
            if go1.learning_objects[lo]["lifecycle"]["state"] == "published"}


def test_a_completion_and_a_new_enrollment_map_as_a_full_transform_does(world: Any) -> None:
    go1, l360, config = world
    done_id, done = _enrollment(go1, "in-progress")
    go1.complete_enrollment(done_id)
    taken = {(e["user_account_id"], e["lo_id"]) for e in go1.enrollments.values()}
    lo, user = next((lo, u) for lo in sorted(_synced(go1)) for u in sorted(go1.user_accounts)
                    if (u, lo) not in taken and go1.user_accounts[u]["user"].get("email"))
    new_id = go1.start_enrollment(lo, user)
    report = micro_run(config, [
        EventRef("id:a", "enrollment.complete", done_id, done["lo_id"]),
        EventRef("id:b", "enrollment.create", new_id, lo)])
    assert report.ok, report.problems()
    assert report.pushed is not None
    assert report.pushed.counts["attempt"].succeeded == 2  # one closed, one opened
    assert _models_of_last_run(config) == ("webhook", sorted(m.split(".")[1]
                                                            for m in INCREMENTAL))
    tables = _assert_same_as_full(config)
    closed = [r for r in tables["marts.attempts_360"] if done_id in r]
    assert len(closed) == 1 and "closed" in closed[0]


def test_a_learner_given_an_email_has_every_enrollment_remapped(world: Any) -> None:
    """A learner whose account had no email: all their enrollments were rejects
    (learner_without_email). Go1 gives them one, then an enrollment event comes: the micro-run
    reads the account (the warehouse has none with an email) and every enrollment of that
    learner is mapped again, not only the one the event named."""
    go1, l360, config = world
    no_email = {u for u, a in go1.user_accounts.items() if not a["user"].get("email")}
    theirs: dict[str, list[str]] = {}
    for enrollment_id, e in sorted(go1.enrollments.items()):
        if e["user_account_id"] in no_email and e["lo_id"] in _synced(go1) \
                and e["status"] in ("in-progress", "completed"):
            theirs.setdefault(e["user_account_id"], []).append(enrollment_id)
    user, enrollments = max(theirs.items(), key=lambda item: len(item[1]))
    assert len(enrollments) > 1, "the learner needs several enrollments for this test"
    go1.edit_email(user, "found.at.last@acme-corp.co.uk")
    l360.add_user("found.at.last@acme-corp.co.uk")
    named = enrollments[0]
    go1.complete_enrollment(named)
    assert micro_run(config, [EventRef("id:c", "enrollment.complete", named,
                                       go1.enrollments[named]["lo_id"])]).ok
    tables = _assert_same_as_full(config)
    outcomes = [r[-1] for r in tables["marts.enrollment_mapping"] if r[0] in enrollments]
    assert len(outcomes) == len(enrollments)
    assert "learner_without_email" not in outcomes
    assert outcomes.count("attempt") > 1  # not only the one the event named


def test_objects_that_joined_left_or_retired_map_as_a_full_transform_does(world: Any) -> None:
    go1, l360, config = world
    leaving, retiring = sorted(_synced(go1))[:2]
    joining = next(lo for lo in sorted(go1.learning_objects)
                   if lo not in go1.library
                   and go1.learning_objects[lo]["lifecycle"]["state"] == "published"
                   and go1.learning_objects[lo]["core"]["type"] in ("course", "video"))
    go1.remove_from_library(leaving)
    go1.retire(retiring)
    go1.add_to_library(joining)
    objects = go1.learning_objects
    report = micro_run(config, [
        EventRef("id:d", "content.remove", objects[leaving]["id"], leaving),
        EventRef("id:e", "content.decommission", objects[retiring]["id"], retiring),
        EventRef("id:f", "content.add", objects[joining]["id"], joining)])
    assert report.ok, report.problems()
    tables = _assert_same_as_full(config)
    courses = {r[0]: r for r in tables["marts.content_360"]}
    assert joining in courses
    l360.wait_for_operations()
    archived = {e for (_, e), c in l360.courses.items() if c["archived"]}
    assert {leaving, retiring} <= archived
    assert joining in {e for (_, e), c in l360.courses.items() if not c["archived"]}
