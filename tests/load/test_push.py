"""Push against both sandboxes: what 360Learning receives, run after run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from commands.extract import run_extract
from commands.transform import run_transform
from extract.streams import STREAMS
from go1sync.settings import Config, load_config
from load.changes import make_plan
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.helpers import push, sync
from warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(Go1Seed(seed=11, learning_objects=80, users=25, enrollments=300)).serve() as sb:
        yield sb


@pytest.fixture
def l360(go1: Go1Sandbox) -> Iterator[L360Sandbox]:
    with L360Sandbox(learner_emails=learner_emails(go1)) as sb:
        assert len(sb.group_ids) >= 2  # one hosts the integration, the others share
        yield sb


@pytest.fixture
def config(go1: Go1Sandbox, l360: L360Sandbox, tmp_path: Path) -> Config:
    return load_config(env={**go1.env(), **l360.env(),
                            "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})


def writes(l360: L360Sandbox) -> list[tuple[str, str, int]]:
    """The write calls 360Learning received (method, path, items), token calls aside."""
    found = []
    for r in l360.requests:
        if r.method == "GET" or r.path.endswith("/oauth2/token"):
            continue
        body = r.json() if r.body else None
        items = len(body["input"]) if isinstance(body, dict) and "input" in body else 1
        found.append((r.method, r.path, items))
    return found


def marts(config: Config, sql: str) -> list[tuple[Any, ...]]:
    con = open_warehouse(config.warehouse_path())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def attempts_of(l360: L360Sandbox, external_course_id: str, mail: str) -> list[dict[str, Any]]:
    """The learner's attempts on a course: the warehouse holds emails lower-cased, 360Learning
    its users' own spelling (Go1's, in the sandbox)."""
    return [a for a in l360.attempts
            if a["externalCourseId"] == external_course_id and a["mail"].lower() == mail]


def start_new_learner(go1: Go1Sandbox, l360: L360Sandbox) -> tuple[str, str, str]:
    """A learner with an email starts a pushed course they had no enrollment on: (course,
    their email as 360Learning knows it, the new enrollment's id)."""
    lo_id = sorted(e for _, e in l360.courses)[2]
    account = next(uid for uid, a in sorted(go1.user_accounts.items())
                   if (a.get("user") or {}).get("email")
                   and not any(str(e["lo_id"]) == lo_id and str(e["user_account_id"]) == uid
                               for e in go1.enrollments.values()))
    mail = go1.user_accounts[account]["user"]["email"].strip().lower()
    return lo_id, mail, go1.start_enrollment(lo_id, account)


def test_first_push_creates_every_course_and_attempt(config: Config, l360: L360Sandbox) -> None:
    result = sync(config)
    assert result.failed == 0, result.errors
    live = {r[0] for r in marts(config, "SELECT external_id FROM marts.content_360 "
                                        "WHERE NOT archived")}
    assert {external_id for _, external_id in l360.courses} == live
    assert all(not c["archived"] for c in l360.courses.values())
    expected = marts(config, "SELECT external_course_id, user_email, progress "
                             "FROM marts.attempts_360 a JOIN marts.content_360 c "
                             "ON c.external_id = a.external_course_id WHERE NOT c.archived")
    got = sorted((a["externalCourseId"], a["mail"].lower(), a["progress"])
                 for a in l360.attempts)
    assert got == sorted(expected)
    # the other group receives the courses in its catalog and library
    course_ids = {c["courseId"] for c in l360.courses.values()}
    other = l360.group_ids[1]
    assert l360.catalog[other] == course_ids and l360.library[other] == course_ids


def test_a_second_push_with_nothing_new_makes_no_write_call(config: Config,
                                                            l360: L360Sandbox) -> None:
    sync(config)
    l360.clear_requests()
    result = sync(config)
    assert result.counts == {}
    assert writes(l360) == []


def test_one_edited_title_makes_exactly_one_upsert(config: Config, go1: Go1Sandbox,
                                                   l360: L360Sandbox) -> None:
    sync(config)
    lo_id = sorted(external_id for _, external_id in l360.courses)[0]
    go1.edit_title(lo_id, "A title edited in Go1")
    l360.clear_requests()
    sync(config)
    assert [(m, n) for m, _, n in writes(l360)] == [("PUT", 1)]
    course = next(c for (_, e), c in l360.courses.items() if e == lo_id)
    assert course["name"] == "A title edited in Go1"


def test_a_retired_course_is_archived_and_nothing_else_is_touched(
        config: Config, go1: Go1Sandbox, l360: L360Sandbox) -> None:
    sync(config)
    lo_id = sorted(external_id for _, external_id in l360.courses)[1]
    go1.retire(lo_id)
    l360.clear_requests()
    sync(config)
    assert [(m, n) for m, _, n in writes(l360)] == [("DELETE", 1)]
    archived = {e for (_, e), c in l360.courses.items() if c["archived"]}
    assert archived == {lo_id}


def test_an_attempt_opens_then_closes_on_completion(config: Config, go1: Go1Sandbox,
                                                    l360: L360Sandbox) -> None:
    sync(config)
    lo_id, mail, enrollment = start_new_learner(go1, l360)
    sync(config)
    opened = attempts_of(l360, lo_id, mail)
    assert [(a["progress"], a["completed"]) for a in opened] == [(50, False)]

    go1.complete_enrollment(enrollment, passed=True)
    sync(config)
    closed = attempts_of(l360, lo_id, mail)
    assert len(closed) == 1  # the same attempt, closed: the learner has one attempt
    assert (closed[0]["progress"], closed[0]["completed"]) == (100, True)

    time.sleep(1.1)  # the re-enrolment starts after the completion (Go1 may write whole seconds)
    go1.reenroll(enrollment)
    sync(config)
    both = sorted(attempts_of(l360, lo_id, mail), key=lambda a: a["firstActivityAt"])
    assert [(a["progress"], a["completed"]) for a in both] == [(100, True), (50, False)]


def test_a_closed_attempt_is_not_sent_again_when_go1_regrades_it(
        config: Config, go1: Go1Sandbox, l360: L360Sandbox) -> None:
    """360Learning never updates a completed attempt; a record sent again could only land on
    the learner's newer attempt. The change stays in Go1 and in the plan, and is not sent."""
    sync(config)
    lo_id, mail, enrollment = start_new_learner(go1, l360)
    go1.complete_enrollment(enrollment, passed=True)
    sync(config)
    assert [(a["progress"], a["result"]) for a in attempts_of(l360, lo_id, mail)] == [
        (100, "success")]

    time.sleep(1.1)  # the re-grade is a later update (Go1 may write whole seconds)
    go1.complete_enrollment(enrollment, passed=False)
    l360.clear_requests()
    result = sync(config)
    assert not any(path.endswith("/stats") for _, path, _ in writes(l360))
    assert result.count("attempt").sent == 0
    assert [(a["progress"], a["result"]) for a in attempts_of(l360, lo_id, mail)] == [
        (100, "success")]
    results = dict(marts(config, "SELECT go1_enrollment_id, result FROM marts.attempts_360"))
    assert results[enrollment] == "failed"  # Go1's word, kept in the warehouse
    con = open_warehouse(config.warehouse_path())
    try:
        plan = make_plan(con)
    finally:
        con.close()
    assert plan.closed_in_360 == 1 and plan.writes == 0


def test_attempts_360learning_refuses_are_reported_and_sent_again(
        config: Config, go1: Go1Sandbox, l360: L360Sandbox) -> None:
    """A learner listed when the push began but refused by the import (deleted meanwhile, say)
    is a failure, and goes out again next run. (A learner with no user at all is not sent:
    tests/load/test_push_fidelity.py.)"""
    refused = learner_emails(go1)[0]
    user_id = l360.users[refused]
    l360.faults_360.item_error(user_id, "Unknown user: no user with internalId " + user_id)
    first = sync(config)
    failed = [(k, e) for kind, k, e in first.errors if kind == "attempt"]
    assert failed and all(user_id in e for _, e in failed)
    assert first.count("course_upsert").failed == 0  # nothing else fails
    ledger = marts(config, "SELECT count(*) FROM meta.push_ledger WHERE status = 'error'")
    assert ledger == [(first.count("attempt").failed,)]

    l360.faults_360.clear()
    l360.clear_requests()
    second = sync(config)
    assert second.count("attempt").succeeded == first.count("attempt").failed
    assert second.failed == 0
    course = marts(config, "SELECT external_course_id FROM marts.attempts_360 "
                           f"WHERE go1_enrollment_id = '{failed[0][0]}'")[0][0]
    assert len(attempts_of(l360, course, refused)) >= 1


def test_an_operation_ending_in_error_is_sent_again(config: Config, l360: L360Sandbox) -> None:
    assert run_extract(config, list(STREAMS)).ok
    run_transform(config)
    l360.faults_360.operation_error_next(1)  # the course upsert ends in error
    first = push(config)
    assert first.count("course_upsert").failed == first.count("course_upsert").sent > 0
    assert l360.courses == {}  # nothing was created by the failed operation
    second = push(config)
    assert second.failed == 0
    assert second.count("course_upsert").succeeded == first.count("course_upsert").sent


def test_payloads_are_valid_against_the_openapi_schemas(config: Config) -> None:
    assert run_extract(config, list(STREAMS)).ok
    run_transform(config)
    spec = json.loads((ROOT / "sandbox/contracts/360learning-bulk-api.json").read_text())

    def schema(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}

    con = open_warehouse(config.warehouse_path())
    courses = [json.loads(p) for (p,) in con.execute(
        "SELECT payload FROM outbound.course_payloads WHERE payload_error IS NULL").fetchall()]
    stats = [json.loads(p) for (p,) in con.execute(
        "SELECT payload FROM outbound.attempt_payloads").fetchall()]
    assert courses and stats
    for item in courses:
        jsonschema.validate(item, schema("ExternalCourseDTO"))
    for item in stats:
        jsonschema.validate(item, schema("ImportExternalStatisticsDTO"))
        assert item["timeSpent"] >= 1 and "score" not in item and "forceNew" not in item


def test_a_crash_between_submit_and_results_makes_no_duplicate_attempt(
        config: Config, l360: L360Sandbox, go1: Go1Sandbox) -> None:
    assert run_extract(config, list(STREAMS)).ok
    run_transform(config)
    l360.faults_360.operation_delay_s = 0.5  # the stats operation stays open long enough
    env = {**os.environ, **go1.env(), **l360.env(),
           "GO1SYNC_WAREHOUSE": str(config.warehouse_path())}
    pusher = subprocess.Popen([sys.executable, "cli.py", "push"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            r.method == "POST" and r.path.endswith("/stats") and r.status == 202
            for r in l360.requests):
        time.sleep(0.02)
    pusher.send_signal(signal.SIGKILL)
    pusher.wait()
    assert any(r.path.endswith("/stats") for r in l360.requests), "the push never sent stats"
    con = open_warehouse(config.warehouse_path())
    left = con.execute("SELECT count(*) FILTER (WHERE status IN ('pending', 'submitted')) "
                       "FROM meta.push_ledger WHERE kind = 'attempt'").fetchone()
    con.close()
    # killed after the 202: its rows are pending (the id never recorded) or submitted
    assert left is not None and left[0] >= 1

    l360.faults_360.operation_delay_s = 0.02
    result = push(config)
    assert result.settled_operations >= 1
    per_enrollment: dict[tuple[str, str, str], int] = {}
    for a in l360.attempts:
        key = (a["externalCourseId"], a["mail"], a["firstActivityAt"])
        per_enrollment[key] = per_enrollment.get(key, 0) + 1
    assert per_enrollment and max(per_enrollment.values()) == 1
    assert push(config).counts == {}  # and nothing is left to send


def test_an_operation_whose_id_was_never_recorded_is_adopted_not_resent(
        config: Config, l360: L360Sandbox) -> None:
    assert sync(config).failed == 0
    # As if the process died between the 202 and recording the operation id: the rows are
    # pending, the operation unknown to the ledger, the attempts not yet confirmed.
    con = open_warehouse(config.warehouse_path())
    (op_id,) = con.execute("SELECT DISTINCT bulk_operation_id FROM meta.push_ledger "
                           "WHERE kind = 'attempt'").fetchone() or (None,)
    con.execute("UPDATE meta.push_ledger SET status = 'pending', bulk_operation_id = NULL "
                "WHERE kind = 'attempt'")
    con.execute("DELETE FROM meta.bulk_operations WHERE operation_id = ?", [op_id])
    con.execute("DELETE FROM meta.pushed_attempts")
    con.close()
    attempts_before = len(l360.attempts)
    l360.clear_requests()

    result = push(config)
    assert result.settled_operations == 1
    assert not any(r.path.endswith("/stats") and r.method == "POST" for r in l360.requests)
    assert len(l360.attempts) == attempts_before
    statuses = marts(config, "SELECT DISTINCT status, bulk_operation_id FROM meta.push_ledger "
                             "WHERE kind = 'attempt'")
    assert statuses == [("success", op_id)]


def test_a_course_without_a_valid_payload_is_rejected_and_the_rest_goes(
        config: Config, l360: L360Sandbox) -> None:
    assert run_extract(config, list(STREAMS)).ok
    run_transform(config)
    con = open_warehouse(config.warehouse_path())
    (bad,) = con.execute("SELECT min(external_id) FROM marts.content_360 "
                         "WHERE NOT archived").fetchone() or (None,)
    # no author and no provider name: 360Learning's sources would be empty
    con.execute("UPDATE marts.content_360 SET sources = [] WHERE external_id = ?", [bad])
    live = con.execute("SELECT count(*) FROM marts.content_360 WHERE NOT archived").fetchone()
    con.close()
    result = push(config)
    assert result.count("course_upsert").rejected == 1
    assert result.count("course_upsert").succeeded == (live[0] if live else 0) - 1
    assert bad not in {external_id for _, external_id in l360.courses}
    assert marts(config, "SELECT status, error LIKE '%sources%' FROM meta.push_ledger "
                         f"WHERE key = '{bad}'") == [("rejected", True)]


def test_groups_follow_the_settings(config: Config, go1: Go1Sandbox,
                                    l360: L360Sandbox) -> None:
    sync(config)
    host, other = l360.group_ids[0], l360.group_ids[1]
    course_ids = {c["courseId"] for c in l360.courses.values()}
    assert l360.catalog[other] == course_ids

    only_host = load_config(env={**go1.env(), **l360.env(), "L360_GROUP_IDS": host,
                                 "GO1SYNC_WAREHOUSE": str(config.warehouse_path())})
    l360.clear_requests()
    removed = push(only_host)
    assert removed.count("unshare_catalog").succeeded == len(course_ids)
    assert not l360.catalog.get(other) and not l360.library.get(other)
    assert not any(r.path.endswith("/courses") for r in l360.requests)  # courses untouched

    added = push(config)
    assert added.count("share_library").succeeded == len(course_ids)
    assert l360.catalog[other] == course_ids and l360.library[other] == course_ids
    assert push(config).counts == {}  # and then nothing is left to do
