"""``python cli.py webhooks serve`` as a user runs it: a subprocess against both sandboxes.

Issue 13's "What must be shown", one test each. The Go1 sandbox delivers to the receiver once
``webhooks register`` points its webhook there; the refusals, the kill and the repeats are
sent by hand, signed here with ``hmac`` (not go1sync's ``sign``). What is asserted is what a
user sees: 360Learning's courses and attempts, the warehouse's ``meta.runs`` and
``meta.webhook_events``, exit codes and output lines.

The tests that do not disturb one another share one world (a module fixture: one sync, one
receiver; a test that stopped the receiver leaves the next to start and register another);
the kill and the held lock get a world of their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clean_env
from tests.webhooks.serving import (
    BATCH_SECONDS,
    DEADLINE,
    ROOT,
    SECRET,
    World,
    deliver,
    envelope,
    undocumented,
    wait_for,
    world_in,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_in(tmp_path_factory.mktemp("served")) as served:
        served.serve()
        yield served


@pytest.fixture(autouse=True)
def shared_requests_follow_the_documents(request: pytest.FixtureRequest) -> Iterator[None]:
    """The conftest's OpenAPI check sees only the sandboxes a test serves itself: the shared
    world's are checked here, each request once, after the test that made it sent."""
    if "world" not in request.fixturenames:
        yield
        return
    shared: World = request.getfixturevalue("world")
    yield
    apis = [("go1", shared.go1), ("l360", shared.l360)]
    problems = undocumented(apis, shared.checked)
    shared.checked.update({name: len(api.requests) for name, api in apis})
    if problems:
        pytest.fail(f"{len(problems)} request(s) the OpenAPI files do not document:\n"
                    + "\n".join(problems[:20]), pytrace=False)


def _closed(world: World, lo_id: str, email: str) -> list[dict[str, object]]:
    return [a for a in world.attempts_of(lo_id, email) if a["completed"]]


def test_a_completion_closes_the_same_attempt(world: World) -> None:
    world.serving()
    enrollment_id, lo_id, email = world.open_attempt()
    (before,) = world.attempts_of(lo_id, email)
    world.go1.complete_enrollment(enrollment_id)
    wait_for(lambda: _closed(world, lo_id, email), "the attempt is closed in 360Learning")
    (after,) = world.attempts_of(lo_id, email)  # the same attempt: none opened beside it
    assert after["_id"] == before["_id"]
    assert after["completed"] is True and after["progress"] == 100
    wait_for(world.settled, "the receiver and 360Learning are idle")
    assert [(t, outcome) for _, t, _, outcome in world.events_of(enrollment_id)] == \
        [("enrollment.complete", "landed")]
    assert [d.status for d in world.go1.deliveries if d.event_type == "enrollment.complete"
            and json.loads(d.body)["data"]["id"] == enrollment_id] == [200]


def test_a_new_in_progress_enrollment_opens_an_attempt(world: World) -> None:
    world.serving()
    lo_id, user, email = world.fresh_pair()
    assert world.attempts_of(lo_id, email) == []
    enrollment_id = world.go1.start_enrollment(lo_id, user)
    (opened,) = wait_for(lambda: world.attempts_of(lo_id, email),
                         "an attempt is opened in 360Learning")
    assert opened["progress"] == 50
    assert opened["completed"] is False
    wait_for(world.settled, "the receiver and 360Learning are idle")
    assert len(world.attempts_of(lo_id, email)) == 1
    assert [t for _, t, _, _ in world.events_of(enrollment_id)] == ["enrollment.create"]


def test_a_removed_and_a_decommissioned_object_are_archived(world: World) -> None:
    world.serving()
    leaving, retiring = world.synced_courses()[:2]
    world.used.update({leaving, retiring})
    world.go1.remove_from_library(leaving)
    world.go1.retire(retiring)

    def archived() -> bool:
        courses = [world.course(leaving), world.course(retiring)]
        return all(c is not None and c["archived"] for c in courses)

    wait_for(archived, "both courses are archived in 360Learning")
    wait_for(world.settled, "the receiver and 360Learning are idle")
    objects = world.go1.learning_objects
    assert [t for _, t, _, _ in world.events_of(objects[leaving]["id"])] == ["content.remove"]
    assert [t for _, t, _, _ in world.events_of(objects[retiring]["id"])] == \
        ["content.decommission"]


def test_refused_deliveries_push_nothing(world: World) -> None:
    receiver = world.serving()
    wait_for(world.settled, "the receiver and 360Learning are idle")
    enrollment_id, lo_id, email = world.open_attempt()
    user = str(world.go1.enrollments[enrollment_id]["user_account_id"])
    runs, operations = world.webhook_runs(), len(world.l360.operations)
    world.go1.pause_deliveries()  # Go1's own delivery waits: the attempt would close
    try:
        world.go1.complete_enrollment(enrollment_id)
        body = envelope("enrollment.complete", {"id": enrollment_id, "lo_id": lo_id,
                                                "user_id": user})
        now = int(time.time())
        oversized = envelope("enrollment.complete", {"id": enrollment_id, "lo_id": lo_id,
                                                     "padding": "x" * (1024 * 1024)})
        invalid = body[:-7]  # cut inside the data object
        answers = {
            "wrong secret": deliver(receiver.url, body, secret="not-" + SECRET).status_code,
            "no signature": deliver(receiver.url, body, header="").status_code,
            "stale t": deliver(receiver.url, body, t=now - 310).status_code,
            "oversized": deliver(receiver.url, oversized).status_code,
            "invalid JSON": deliver(receiver.url, invalid).status_code,
        }
        assert answers == {"wrong secret": 401, "no signature": 401, "stale t": 401,
                           "oversized": 413, "invalid JSON": 400}
        assert receiver.pending() == 0  # nothing stored: nothing for the worker to take
        time.sleep(3 * BATCH_SECONDS)  # a stored event would be in a micro-run by now
        assert len(world.l360.operations) == operations
        assert world.webhook_runs() == runs
        assert not _closed(world, lo_id, email)
    finally:
        world.go1.resume_deliveries()
    # Go1's own delivery of the same completion goes through: the receiver was listening
    wait_for(lambda: _closed(world, lo_id, email), "Go1's delivery closes the attempt")
    wait_for(world.settled, "the receiver and 360Learning are idle")
    new_runs = world.webhook_runs()[len(runs):]
    assert [(status, options["events"]) for _, status, options in new_runs] == [("success", 1)]
    (event,) = world.events_of(enrollment_id)
    assert event[0] != f"id:{json.loads(body)['id']}"  # Go1's event, not the refused body


def test_a_repeated_delivery_is_processed_once(world: World) -> None:
    receiver = world.serving()
    enrollment_id, lo_id, email = world.open_attempt()
    world.go1.duplicate_deliveries = True
    try:
        world.go1.complete_enrollment(enrollment_id)

        def both() -> list[tuple[bool, int | None]]:
            sent = [(d.duplicate, d.status) for d in world.go1.deliveries
                    if d.event_type == "enrollment.complete"
                    and json.loads(d.body)["data"]["id"] == enrollment_id]
            return sent if len(sent) == 2 else []

        assert wait_for(both, "Go1 sends the completion twice") == [(False, 200), (True, 200)]
    finally:
        world.go1.duplicate_deliveries = False
    wait_for(lambda: _closed(world, lo_id, email), "the attempt is closed in 360Learning")
    wait_for(world.settled, "the receiver and 360Learning are idle")
    # the same type, object and sent under another event id is the same event too
    sent = next(json.loads(d.body) for d in world.go1.deliveries
                if json.loads(d.body)["data"]["id"] == enrollment_id)
    again = json.dumps({**sent, "id": "another-id", "attempt_number": 2}).encode()
    answer = deliver(receiver.url, again)
    assert (answer.status_code, answer.json()) == (200, {"status": "duplicate"})
    assert receiver.pending() == 0
    assert len(world.events_of(enrollment_id)) == 1
    assert len(world.attempts_of(lo_id, email)) == 1


def test_a_manual_run_status_and_plan_work_while_the_receiver_is_up(world: World) -> None:
    receiver = world.serving()
    wait_for(world.settled, "the receiver and 360Learning are idle")
    run = world.cli("run")
    assert run.returncode == 0, run.stdout + run.stderr
    status = world.cli("status")
    assert status.returncode == 0, status.stdout + status.stderr
    plan = world.cli("plan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert receiver.running()
    assert receiver.pending() == 0
    (last,) = world.query("SELECT command, status FROM meta.runs ORDER BY run_id DESC LIMIT 1")
    assert last == ("run", "success")


def test_sigterm_stops_the_receiver_cleanly(world: World) -> None:
    receiver = world.serving()
    assert receiver.terminate() == 0, receiver.output()
    assert receiver.stderr[-1] == "received SIGTERM: webhook receiver stopped", receiver.output()


def test_the_secret_is_found_nowhere(world: World) -> None:
    world.serving()
    enrollment_id, lo_id, email = world.open_attempt()
    world.go1.complete_enrollment(enrollment_id)
    wait_for(lambda: _closed(world, lo_id, email), "the attempt is closed in 360Learning")
    wait_for(world.settled, "the receiver and 360Learning are idle")
    for args in (("status",), ("webhooks", "list"), ("check",)):
        world.cli(*args, GO1SYNC_WEBHOOK_URL=world.receiver.url)
    assert {w["secret_key"] for w in world.go1.webhooks} == {SECRET}  # it was in play
    world.stop()  # every receiver's whole output
    secret = SECRET.encode()
    assert world.strings_holding(SECRET) == []  # DuckDB may compress what a grep would see
    files = [path for path in world.folder.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"w.duckdb", "w.duckdb.lock", "events.jsonl", "done.jsonl"} <= names, names
    assert [str(path) for path in files if secret in path.read_bytes()] == []
    outputs = [r.output() for r in world.receivers] + world.outputs
    assert [text for text in outputs if SECRET in text] == []
    assert any("webhooks: run " in r.output() for r in world.receivers)  # it did work


def test_kill_9_right_after_a_2xx_loses_nothing(tmp_path: Path) -> None:
    with world_in(tmp_path) as world:
        # a long batch window: the kill comes before any micro-run could start
        receiver = world.serve(batch_seconds=5, register=False)
        enrollment_id, lo_id, email = world.open_attempt()
        user = str(world.go1.enrollments[enrollment_id]["user_account_id"])
        world.go1.complete_enrollment(enrollment_id)  # no webhook registered: no delivery
        body = envelope("enrollment.complete", {"id": enrollment_id, "lo_id": lo_id,
                                                "user_id": user})
        answer = deliver(receiver.url, body)
        receiver.process.send_signal(signal.SIGKILL)
        assert receiver.kill() == -signal.SIGKILL
        assert (answer.status_code, answer.json()) == (200, {"status": "stored"})
        assert world.webhook_runs() == []
        assert not _closed(world, lo_id, email)
        world.serve(register=False)
        wait_for(lambda: _closed(world, lo_id, email), "the restarted receiver closes it")
        wait_for(world.settled, "the receiver and 360Learning are idle")
        assert [key for key, _, _, _ in world.events_of(enrollment_id)] == \
            [f"id:{json.loads(body)['id']}"]
        assert [status for _, status, _ in world.webhook_runs()] == ["success"]
        assert len(world.attempts_of(lo_id, email)) == 1


def test_a_delivery_during_a_run_is_processed_after_it(tmp_path: Path) -> None:
    with world_in(tmp_path) as world:
        receiver = world.serve()
        enrollment_id, lo_id, email = world.open_attempt()
        with world.run_lock():  # a scheduled run holds the warehouse
            world.go1.complete_enrollment(enrollment_id)
            wait_for(lambda: [d.status for d in world.go1.deliveries] == [200],
                     "the receiver answers 200 while the run holds the warehouse")
            wait_for(lambda: receiver.saw("another run is in progress"),
                     "the micro-run waits for the run")
            assert receiver.pending() == 1
            assert world.webhook_runs(locked=True) == []
            assert not _closed(world, lo_id, email)
        wait_for(lambda: _closed(world, lo_id, email), "the attempt is closed after the run")
        wait_for(world.settled, "the receiver and 360Learning are idle")
        assert [status for _, status, _ in world.webhook_runs()] == ["success"]
        assert len(world.attempts_of(lo_id, email)) == 1


def test_sigterm_right_after_the_listening_line_stops_it_cleanly(tmp_path: Path) -> None:
    """The receiver is niced on the test's own CPU, so the test reads the line and signals
    before the receiver runs again: a loaded machine and a quick supervisor do the same."""
    settings = clean_env({
        "GO1_CLIENT_ID": "x", "GO1_CLIENT_SECRET": "y", "GO1_PORTAL_URL": "https://acme.mygo1.com",
        "L360_CLIENT_ID": "x", "L360_CLIENT_SECRET": "y", "L360_GROUP_IDS": "a" * 24,
        "L360_ADMIN_EMAIL": "admin@acme.com", "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "GO1_WEBHOOK_SECRET": SECRET})
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(mine)})  # this thread, and the processes it starts
    outcomes: list[tuple[int, str]] = []
    try:
        while len(outcomes) < 5 and all(code == 0 for code, _ in outcomes):
            server = subprocess.Popen(
                ["nice", "-n", "19", sys.executable, "cli.py", "webhooks", "serve", "--listen",
                 "127.0.0.1:0"], cwd=ROOT, env=settings, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            assert server.stderr is not None
            try:
                seen = b""
                while b"SIGTERM stops it" not in seen:
                    chunk = os.read(server.stderr.fileno(), 4096)
                    assert chunk, seen.decode()
                    seen += chunk
                server.send_signal(signal.SIGTERM)
                _, rest = server.communicate(timeout=DEADLINE)
            finally:
                if server.poll() is None:
                    server.kill()
                    server.communicate(timeout=10)
            last = (seen + rest).decode().strip().splitlines()[-1]
            outcomes.append((server.returncode, last))
    finally:
        os.sched_setaffinity(0, mine)
    assert outcomes[-1] == (0, "received SIGTERM: webhook receiver stopped"), outcomes
