"""The webhook worker: pending events become one micro-run; a failure keeps them; a warehouse
held by another run is waited out, not counted as a failure."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from commands.report import RunReport
from commands.webhooks import Worker
from extract.events import EventRef
from go1sync.settings import load_config
from go1sync.webhooks.events import parse_event
from go1sync.webhooks.inbox import Inbox
from load.errors import LoadError
from warehouse.lock import RunInProgress


def _event(n: int) -> bytes:
    return json.dumps({"id": f"ev-{n}", "event_type": "enrollment.complete",
                       "sent": "2026-12-02T08:05:00.000Z",
                       "data": {"id": str(71000000 + n), "lo_id": "36400001"}}).encode()


class FakeRun:
    """Stands in for the micro-run: records what it was given, fails as told."""

    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.calls: list[list[EventRef]] = []
        self.failures = failures or []

    def __call__(self, config: Any, events: Sequence[EventRef], lock_wait: float,
                 project: Any) -> RunReport:
        self.calls.append(list(events))
        if self.failures:
            raise self.failures.pop(0)
        return RunReport("webhook", len(self.calls), Path("w.duckdb"))


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    box = Inbox(tmp_path / "inbox").open()
    for n in range(3):
        assert box.append(parse_event(_event(n)))
    return box


def _worker(inbox: Inbox, run: FakeRun, lines: list[str]) -> Worker:
    worker = Worker(load_config(env={}), inbox, 0.01, lines.append, run=run)
    worker._project = object()  # type: ignore[assignment]  # no models needed by the fake
    return worker


def test_pending_events_go_in_one_micro_run_then_are_done(inbox: Inbox) -> None:
    run = FakeRun()
    lines: list[str] = []
    report = _worker(inbox, run, lines).once()
    assert report is not None
    assert [[e.object_id for e in call] for call in run.calls] == [
        ["71000000", "71000001", "71000002"]]
    assert run.calls[0][0].key == "id:ev-0" and run.calls[0][0].event_type == "enrollment.complete"
    assert inbox.pending() == []
    assert lines and "3 event(s)" in lines[0]


def test_a_failed_micro_run_keeps_its_events_and_backs_off(inbox: Inbox) -> None:
    run = FakeRun([LoadError("360Learning answered 503")])
    lines: list[str] = []
    worker = _worker(inbox, run, lines)
    assert worker.once() is None
    assert worker.failures == 1
    assert len(inbox.pending()) == 3
    assert "failed: 360Learning answered 503" in lines[-1]
    assert worker.once() is not None  # the next try takes the same events
    assert [len(c) for c in run.calls] == [3, 3]
    assert worker.failures == 0 and inbox.pending() == []


def test_a_held_warehouse_is_waited_out_without_counting_a_failure(inbox: Inbox) -> None:
    busy = RunInProgress("another run is in progress (run 7 by pid 4242)")
    run = FakeRun([busy, busy])
    lines: list[str] = []
    worker = _worker(inbox, run, lines)
    worker.once()
    worker.once()
    assert worker.failures == 0 and worker.waiting_for_run
    assert len([line for line in lines if "wait" in line]) == 1  # said once, not per look
    assert worker.once() is not None
    assert not worker.waiting_for_run and inbox.pending() == []


def test_a_bug_in_a_micro_run_does_not_stop_the_worker(inbox: Inbox) -> None:
    run = FakeRun([ZeroDivisionError("division by zero")])
    lines: list[str] = []
    worker = _worker(inbox, run, lines)
    assert worker.once() is None
    assert "failed unexpectedly: ZeroDivisionError" in lines[-1]
    assert worker.once() is not None


def test_the_worker_stops_when_asked(inbox: Inbox) -> None:
    run = FakeRun()
    lines: list[str] = []
    worker = _worker(inbox, run, lines)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,))
    thread.start()
    for _ in range(200):
        if not inbox.pending():
            break
        stop.wait(0.02)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert len(run.calls) == 1 and inbox.pending() == []
