"""Pushes whose outcome is not known at once: a lost answer, a stuck operation, a refused batch.

Each test reproduces a defect of the torture test against the sandboxes: 360Learning takes a
statistics submit and the answer is lost (a 5xx, a reset, a read timeout); an operation an
earlier run left keeps running; one invalid item makes 360Learning refuse a whole batch.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from commands.extract import run_extract
from commands.transform import run_transform
from extract.streams import STREAMS
from go1sync.settings import Config, load_config
from load.client import L360Client
from load.push import push as push_rows
from load.result import PushResult
from sandbox.go1 import Go1Sandbox
from sandbox.l360 import L360Sandbox
from tests.helpers import push, run_cli, sync
from warehouse import open_warehouse
from warehouse.session import run_session


@pytest.fixture
def config(sync_env: dict[str, str]) -> Config:
    return load_config(env=sync_env)


def refresh(config: Config) -> None:
    assert run_extract(config, list(STREAMS)).ok
    run_transform(config)


def push_with(config: Config, read_timeout: float) -> PushResult:
    """A push whose client gives up reading an answer after ``read_timeout`` seconds."""
    settings = config.l360()
    with run_session(config.warehouse_path(), "push", {}, config.memory_limit()) as session, \
            L360Client(settings, timeout=(5.0, read_timeout)) as client:
        return push_rows(session.con, client, settings, session.run_id)


def stats_path(l360: L360Sandbox) -> str:
    (integration,) = l360.integrations
    return f"/api/v2/bulk/integrations/{integration['_id']}/stats"


def complete_some(go1: Go1Sandbox, n: int) -> list[str]:
    """Complete ``n`` enrollments still in progress; their ids."""
    open_ones = sorted(e for e, doc in go1.enrollments.items()
                       if doc.get("status") == "in-progress")[:n]
    assert len(open_ones) == n
    for enrollment_id in open_ones:
        go1.complete_enrollment(enrollment_id)
    return open_ones


def per_enrollment(l360: L360Sandbox) -> Counter[tuple[str, str, str]]:
    return Counter((a["externalCourseId"], a["mail"].lower(), a["firstActivityAt"])
                   for a in l360.attempts)


def stats_items(l360: L360Sandbox) -> list[dict[str, Any]]:
    """Every statistics item 360Learning received, in order."""
    return [item for r in l360.requests if r.method == "POST" and r.path.endswith("/stats")
            for item in r.json()["input"]]


def ledger(config: Config, sql: str) -> list[tuple[Any, ...]]:
    con = open_warehouse(config.warehouse_path())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("fault", ["500", "504", "drop", "stall"])
def test_a_lost_answer_after_an_accepted_submit_makes_no_duplicate_attempt(
        fault: str, config: Config, go1: Go1Sandbox, l360: L360Sandbox) -> None:
    assert sync(config).failed == 0
    completed = complete_some(go1, 4)
    refresh(config)
    l360.faults.stall_s = 1.5
    l360.faults.add(fault, path=stats_path(l360), after_handling=True)
    l360.clear_requests()

    lost = push_with(config, read_timeout=0.5)
    deadline = time.monotonic() + 10  # a stalled request is logged once the stall ends
    while not stats_items(l360) and time.monotonic() < deadline:
        time.sleep(0.05)
    # 360Learning took the completions (of learners it knows); go1sync could not know
    taken = {(i["courseIdentifier"]["value"], i["firstActivityAt"]) for i in stats_items(l360)}
    sent = len(taken)
    assert sent >= 2 and lost.count("attempt").uncertain == sent and lost.failed == 0
    uncertain = sorted(k for (k,) in ledger(
        config, "SELECT key FROM meta.push_ledger WHERE status = 'uncertain'"))
    assert len(uncertain) == sent and set(uncertain) <= set(completed)
    # until settled, neither these rows nor their courses' statistics are planned
    assert ledger(config, "SELECT count(*) FROM outbound.attempt_changes WHERE send") == [(0,)]

    # a learner of one of them starts the course again: resending the old completed record
    # would merge into this new open attempt
    go1.reenroll(uncertain[0])
    refresh(config)
    l360.clear_requests()
    healed = push(config)
    assert healed.settled_operations == 1
    resent = [i for i in stats_items(l360)
              if (i["courseIdentifier"]["value"], i["firstActivityAt"]) in taken]
    assert resent == [], "a completion whose answer was lost was sent again"
    assert ledger(config, "SELECT DISTINCT status FROM meta.push_ledger "
                          f"WHERE key IN {tuple(uncertain)} ORDER BY 1") == [("success",)]
    assert max(per_enrollment(l360).values()) == 1
    assert push(config).counts == {}


def test_rows_of_a_submit_that_never_ran_are_sent_again_once_the_list_proves_it(
        config: Config, go1: Go1Sandbox, l360: L360Sandbox) -> None:
    assert sync(config).failed == 0
    complete_some(go1, 4)
    refresh(config)
    # the gateway answered 502 and 360Learning never saw the request
    l360.faults.add("502", path=stats_path(l360))
    lost = push(config)
    uncertain = [k for (k,) in ledger(config, "SELECT key FROM meta.push_ledger "
                                              "WHERE status = 'uncertain'")]
    assert len(uncertain) >= 2 and lost.count("attempt").uncertain == len(uncertain)

    l360.clear_requests()
    healed = push(config)
    assert healed.settled_operations == 0
    assert healed.count("attempt").succeeded == len(uncertain)
    assert len(stats_items(l360)) == len(uncertain)
    assert ledger(config, "SELECT DISTINCT status FROM meta.push_ledger "
                          f"WHERE key IN {tuple(uncertain)} AND run_id = "
                          "(SELECT max(run_id) FROM meta.push_ledger)") == [("success",)]
    assert max(per_enrollment(l360).values()) == 1


def test_a_stuck_operation_does_not_stop_a_catalog_change(
        config: Config, go1: Go1Sandbox, l360: L360Sandbox) -> None:
    assert sync(config).failed == 0
    complete_some(go1, 4)
    refresh(config)
    # the operation the submit starts runs for a long time, and its answer is lost
    l360.faults_360.stall_next()
    l360.faults.add("504", path=stats_path(l360), after_handling=True)
    assert push(config).count("attempt").uncertain >= 2
    uncertain = sorted(k for (k,) in ledger(config, "SELECT key FROM meta.push_ledger "
                                                    "WHERE status = 'uncertain'"))
    courses = sorted(e for _, e in l360.courses)
    go1.edit_title(courses[0], "A title edited while an operation is stuck")
    refresh(config)
    env_config = load_config(env={**go1.env(), **l360.env(),
                                  "GO1SYNC_WAREHOUSE": str(config.warehouse_path()),
                                  "GO1SYNC_SETTLE_SECONDS": "1"})
    l360.clear_requests()
    result = push(env_config)
    assert [kind for _, kind, _ in result.stuck_operations] == ["unrecorded"]
    assert result.count("course_upsert").succeeded == 1
    upserted = [r for r in l360.requests if r.method == "PUT" and r.path.endswith("/courses")]
    assert len(upserted) == 1
    # the stuck operation's rows wait, and the statistics of their courses with them
    held = {c for (c,) in ledger(config, "SELECT DISTINCT external_course_id "
                                         "FROM outbound.unsettled")}
    assert held and not [i for i in stats_items(l360) if i["courseIdentifier"]["value"] in held]
    assert sorted(k for (k,) in ledger(config, "SELECT key FROM meta.push_ledger "
                                               "WHERE status = 'uncertain'")) == uncertain
    assert ledger(config, "SELECT count(*) FROM outbound.attempt_changes "
                          "WHERE held_reason = 'operation_unsettled'") >= [(len(uncertain),)]

    shown = run_cli("status", env={"GO1SYNC_WAREHOUSE": str(config.warehouse_path())})
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "answer lost" in x)
    assert f"attempt: {len(uncertain)} row(s) submitted" in line and " ago" in line

    # once it ends, the next push adopts it: nothing is sent twice
    l360.release_stalled()
    l360.clear_requests()
    assert push(config).settled_operations == 1
    assert not [k for (k,) in ledger(config, "SELECT key FROM meta.push_ledger WHERE "
                                             "status = 'uncertain'")]
    assert max(per_enrollment(l360).values()) == 1


def test_one_invalid_item_does_not_hold_back_its_batch(
        config: Config, go1: Go1Sandbox, l360: L360Sandbox) -> None:
    refresh(config)
    sendable = [k for (k,) in ledger(config, "SELECT key FROM outbound.attempt_changes "
                                             "WHERE planned ORDER BY key")]
    courses = ledger(config, "SELECT count(*) FROM outbound.course_changes WHERE upsert")
    # 360Learning refuses a whole statistics batch because of one item in it
    bad = sendable[len(sendable) // 3]
    ((payload,),) = ledger(config, "SELECT payload FROM outbound.attempt_changes "
                                   f"WHERE key = '{bad}'")
    item = json.loads(payload)
    l360.faults_360.refuse_batches_with(
        lambda i: i.get("courseIdentifier") == item["courseIdentifier"]
        and i.get("firstActivityAt") == item["firstActivityAt"])
    result = push(config)
    attempts = result.count("attempt")
    assert attempts.rejected == 1 and attempts.succeeded == len(sendable) - 1
    assert result.count("course_upsert").succeeded == courses[0][0]
    assert ledger(config, "SELECT status, error LIKE '%invalid%' FROM meta.push_ledger "
                          f"WHERE kind = 'attempt' AND key = '{bad}'") == [("rejected", True)]
    assert len(l360.attempts) == len(sendable) - 1
    # halving: a few extra submits, not one per item
    submits = [r for r in l360.requests if r.method == "POST" and r.path.endswith("/stats")]
    assert len(submits) <= 2 * (len(sendable).bit_length() + 1)
