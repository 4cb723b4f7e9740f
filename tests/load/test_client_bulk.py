"""Bulk operations against the stub's tiny bulk engine: submit, poll, results, slots.

The stub advances an operation one status per poll and refuses a fourth unfinished operation
with 429 ``bulkOperationsConcurrencyLimitReached``, so a runner that lost count would show up
as a refused submit.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from load import (
    BATCH_LIMITS,
    BulkRunner,
    BulkTimeout,
    ItemResult,
    NotFound,
    RetryPolicy,
    SubmitUncertain,
    batches,
    operation_kind,
)
from tests.load.conftest import OPERATIONS, FakeClock, MakeClient, StubL360, api_error

INTEGRATION = "64a1b2c3d4e5f6a7b8c9d0e1"
COURSES = f"/api/v2/bulk/integrations/{INTEGRATION}/courses"
STATS = f"/api/v2/bulk/integrations/{INTEGRATION}/stats"


def courses(n: int, failing: tuple[int, ...] = ()) -> list[dict[str, object]]:
    return [{"externalId": f"lo-{i}", "name": f"Course {i}", **({"fail": True} if i in failing
                                                                 else {})} for i in range(n)]


def test_submit_poll_and_paged_results(stub: StubL360, runner: BulkRunner,
                                       clock: FakeClock) -> None:
    stub.results_page_size = 2
    items = courses(5, failing=(3,))
    operation = runner.submit("PUT", COURSES, items)
    assert operation.kind == "importExternalCourses"
    assert operation.location == f"{stub.url}{OPERATIONS}/{operation.id}"
    assert operation.size == 5
    assert operation.submitted_at.tzinfo is UTC
    assert runner.in_flight == 1
    [submit] = stub.submits()
    assert submit.method == "PUT" and submit.json() == {"input": items}

    outcome = runner.wait(operation)
    assert runner.in_flight == 0
    assert outcome.status == "completed" and outcome.error_message is None
    assert [r.input["externalId"] for r in outcome.results] == [f"lo-{i}" for i in range(5)]
    assert [r.ok for r in outcome.results] == [True, True, True, False, True]
    assert outcome.results[0] == ItemResult(input=items[0], ok=True,
                                            resource_id=f"{1:024x}", error=None)
    assert outcome.failed[0].error == "invalid item 3" and outcome.failed[0].resource_id is None
    assert len(outcome.succeeded) == 4
    polls = stub.calls("GET", f"{OPERATIONS}/{operation.id}")
    assert len(polls) == 3  # pending, running, completed
    results = stub.calls("GET", f"{OPERATIONS}/{operation.id}/results")
    assert [c.query for c in results] == ["", "page=2", "page=3"]
    assert clock.sleeps == [0.2, 0.4]  # poll backoff doubles


def test_run_is_submit_then_wait(stub: StubL360, runner: BulkRunner) -> None:
    outcome = runner.run("POST", STATS, [{"courseIdentifier": {"type": "externalId",
                                                                 "value": "lo-1"}}])
    assert outcome.status == "completed"
    assert outcome.operation.kind == "importExternalStatistics"
    assert len(outcome.results) == 1 and outcome.results[0].ok


def test_poll_backoff_stops_growing_at_poll_max(stub: StubL360, runner: BulkRunner,
                                               clock: FakeClock) -> None:
    stub.plans.append(["pending"] * 3 + ["queued"] * 3 + ["running"] * 4 + ["completed"])
    runner.run("PUT", COURSES, courses(1))
    assert clock.sleeps == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0, 5.0, 5.0]


def test_an_operation_ending_in_error_is_an_outcome(stub: StubL360, runner: BulkRunner) -> None:
    stub.plans.append(["pending", "error"])
    outcome = runner.run("PUT", COURSES, courses(3))
    assert outcome.status == "error"
    assert outcome.results == []  # 400 bulkOperationNotRun: nothing ran
    assert outcome.error_message == "The operation failed."
    assert runner.in_flight == 0


def test_an_operation_ending_in_error_keeps_the_results_it_has(stub: StubL360,
                                                               runner: BulkRunner) -> None:
    stub.plans.append(["running", "error"])
    stub.error_results = True
    outcome = runner.run("PUT", COURSES, courses(2, failing=(1,)))
    assert outcome.status == "error"
    assert [r.ok for r in outcome.results] == [True, False]


def test_a_fourth_submit_waits_for_one_of_three_to_end(stub: StubL360, runner: BulkRunner,
                                                      clock: FakeClock) -> None:
    stub.default_plan = ["pending", "running", "running", "completed"]
    operations = [runner.submit("PUT", COURSES, courses(1)) for _ in range(3)]
    assert runner.in_flight == 3
    fourth = runner.submit("PUT", COURSES, courses(1))  # same thread: must not deadlock
    assert stub.refused_submits == 0  # the runner never sent a fourth while three ran
    assert runner.in_flight == 3
    first_done = min(c.at for c in stub.calls("GET", f"{OPERATIONS}/{operations[0].id}")[3:])
    assert stub.submits()[3].at > first_done
    outcomes = [runner.wait(op) for op in [*operations, fourth]]
    assert [o.status for o in outcomes] == ["completed"] * 4
    assert runner.in_flight == 0
    assert clock.sleeps[:3] == [0.2, 0.4, 0.8]  # the waiting submit backs off too


def test_a_blocked_submit_resumes_when_another_thread_sees_one_end(
        stub: StubL360, make_client: MakeClient) -> None:
    client = make_client(clock=time.monotonic, sleep=time.sleep)
    runner = BulkRunner(client, poll_initial=0.01, poll_max=0.02, poll_timeout=10)
    stub.hold = True  # every operation stays running
    operations = [runner.submit("PUT", COURSES, courses(1)) for _ in range(3)]
    submitted: list[object] = []
    thread = threading.Thread(target=lambda: submitted.append(
        runner.submit("PUT", COURSES, courses(1))))
    thread.start()
    time.sleep(0.2)
    assert len(stub.submits()) == 3 and submitted == []  # blocked
    stub.hold = False
    outcome = runner.wait(operations[0])
    thread.join(timeout=5)
    assert outcome.status == "completed"
    assert len(submitted) == 1 and len(stub.submits()) == 4
    assert stub.refused_submits == 0


def test_429_concurrency_limit_waits_and_submits_again(stub: StubL360, make_client: MakeClient,
                                                      clock: FakeClock) -> None:
    # Three operations started by someone else fill the platform.
    others = [stub.add_operation("importExternalCourses", [], ["running"]) for _ in range(3)]
    client = make_client(retry=RetryPolicy(max_attempts=2, base_delay=1.0, jitter="none"))
    runner_waits: list[float] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        runner_waits.append(seconds)
        if len(runner_waits) == 2:  # the others end during the runner's second wait
            for op_id in others:
                stub.finish(op_id)

    runner = BulkRunner(client, sleep=sleep, clock=clock, poll_max=5.0)
    operation = runner.submit("PUT", COURSES, courses(1))
    assert stub.refused_submits == 4  # 2 attempts of the client's, twice
    assert len(stub.submits()) == 5
    assert clock.sleeps == [1.0, 5.0, 1.0, 5.0]  # the client's backoff, then the runner's wait
    assert operation.id not in others
    assert runner.in_flight == 1


def test_no_free_slot_within_the_timeout_raises(stub: StubL360, make_client: MakeClient,
                                                clock: FakeClock) -> None:
    stub.hold = True
    runner = BulkRunner(make_client(), sleep=clock.sleep, clock=clock, poll_timeout=30)
    for _ in range(3):
        runner.submit("PUT", COURSES, courses(1))
    with pytest.raises(BulkTimeout, match="no bulk slot came free"):
        runner.submit("PUT", COURSES, courses(1))
    assert runner.in_flight == 3
    assert len(stub.submits()) == 3


def test_an_operation_still_running_after_poll_timeout(stub: StubL360, make_client: MakeClient,
                                                       clock: FakeClock) -> None:
    stub.hold = True
    runner = BulkRunner(make_client(), sleep=clock.sleep, clock=clock, poll_timeout=60)
    operation = runner.submit("PUT", COURSES, courses(1))
    with pytest.raises(BulkTimeout) as caught:
        runner.wait(operation)
    assert caught.value.operation_id == operation.id
    assert "still running after 60s" in str(caught.value)
    assert runner.in_flight == 1  # it still runs on the platform
    stub.hold = False
    assert runner.settle(operation.id).status == "completed"
    assert runner.in_flight == 0


def test_settle_waits_on_an_operation_from_an_earlier_process(stub: StubL360,
                                                              runner: BulkRunner) -> None:
    op_id = stub.add_operation("importExternalStatistics", [{"x": 1}, {"x": 2, "fail": True}],
                               ["running", "running", "completed"])
    outcome = runner.settle(op_id)
    assert outcome.status == "completed"
    assert outcome.operation.kind == "importExternalStatistics"
    assert outcome.operation.submitted_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert [r.ok for r in outcome.results] == [True, False]
    assert runner.in_flight == 0


def test_settle_of_an_unknown_operation_is_not_found(stub: StubL360, runner: BulkRunner) -> None:
    with pytest.raises(NotFound) as caught:
        runner.settle("0" * 24)
    assert caught.value.code == "bulkOperationNotFound"


def test_a_submit_that_may_have_started_an_operation_frees_its_slot(
        stub: StubL360, make_client: MakeClient, clock: FakeClock) -> None:
    stub.api_script.append(api_error(500, "internal"))
    runner = BulkRunner(make_client(), sleep=clock.sleep, clock=clock)
    with pytest.raises(SubmitUncertain) as caught:
        runner.submit("PUT", COURSES, courses(2))
    assert caught.value.payload == {"input": courses(2)}
    assert runner.in_flight == 0
    assert len(stub.submits()) == 1


def test_a_202_without_location_is_uncertain(stub: StubL360, runner: BulkRunner) -> None:
    stub.api_script.append(("empty", 202, {}))
    with pytest.raises(SubmitUncertain, match="without a Location"):
        runner.submit("PUT", COURSES, courses(1))
    assert runner.in_flight == 0


def test_find_operations_filters_by_type_and_time(stub: StubL360, runner: BulkRunner) -> None:
    stub.api_script.append(("json", 200, [{"_id": "a" * 24, "type": "importExternalCourses"}],
                            {}))
    since = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    found = runner.find_operations(kind="importExternalCourses", since=since,
                                   slack=timedelta(minutes=1))
    assert found == [{"_id": "a" * 24, "type": "importExternalCourses"}]
    [call] = stub.calls("GET", OPERATIONS)
    assert call.query == ("type%5Beq%5D=importExternalCourses"
                          "&createdAt%5Bgte%5D=2026-01-02T03%3A03%3A05.000Z")


def test_batches_and_limits() -> None:
    assert list(batches(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(batches([], 3)) == []
    with pytest.raises(ValueError):
        list(batches([1], 0))
    assert BATCH_LIMITS == {"courses_upsert": 10_000, "courses_archive": 1_000,
                            "stats": 10_000, "groups": 20_000}
    assert operation_kind("DELETE", COURSES) == ("archiveExternalCourses", 1_000)
    assert operation_kind("POST", "/api/v2/bulk/groups/catalog") == (
        "addContentsToGroupsCatalog", 20_000)


def test_oversized_or_empty_batches_are_refused(stub: StubL360, runner: BulkRunner) -> None:
    with pytest.raises(ValueError, match="at most 1000 items"):
        runner.submit("DELETE", COURSES, [{"externalId": str(i)} for i in range(1001)])
    with pytest.raises(ValueError, match="nothing to submit"):
        runner.submit("PUT", COURSES, [])
    assert stub.submits() == [] and runner.in_flight == 0
