"""The events a delivery holds, and the inbox that keeps them: dedupe, done, torn lines,
compaction, two processes at once, and a process killed right after an append."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from go1sync.webhooks.events import Event, EventRefused, parse_event
from go1sync.webhooks.inbox import DONE, EVENTS, SEEN, Inbox

ROOT = Path(__file__).resolve().parents[2]


def envelope(event_id: object = "evt-1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": event_id, "event_type": "enrollment.complete",
                            "webhook_version": "1", "sent": "2025-03-01T10:00:00Z",
                            "attempt_number": 1, "webhook_id": 77,
                            "data": {"id": 5001, "lo_id": 36439791}}
    body.update(fields)
    return {name: value for name, value in body.items() if value is not None}


def event(event_id: object = "evt-1", **fields: Any) -> Event:
    return parse_event(json.dumps(envelope(event_id, **fields)).encode(),
                       received_at="2025-03-01T10:00:01.000Z")


# -- events ----------------------------------------------------------------------------------

def test_an_event_keeps_its_whole_envelope() -> None:
    parsed = event(extra={"nested": [1, 2]}, data={"id": "e-9", "lo_id": 3, "user_id": 12})
    assert parsed.event_id == "evt-1"
    assert parsed.event_type == "enrollment.complete"
    assert parsed.object_id == "e-9" and parsed.lo_id == "3"
    assert parsed.sent == "2025-03-01T10:00:00Z" and parsed.attempt_number == 1
    assert parsed.data == {"id": "e-9", "lo_id": 3, "user_id": 12}
    assert parsed.body["extra"] == {"nested": [1, 2]} and parsed.body["webhook_id"] == 77
    assert parsed.keys == ("id:evt-1", "ots:enrollment.complete|e-9|2025-03-01T10:00:00Z")
    assert parse_event(b'{"event_type": "content.add"}').received_at.endswith("Z")


def test_numeric_ids_are_kept_as_strings() -> None:
    parsed = event(12345, data={"id": 678, "lo_id": 36439791.0}, attempt_number="2")
    assert (parsed.event_id, parsed.object_id, parsed.lo_id) == ("12345", "678", "36439791")
    assert parsed.attempt_number == 2
    assert parsed.keys[0] == "id:12345"


def test_missing_fields_are_tolerated() -> None:
    no_id = event(None)
    assert no_id.event_id is None
    assert no_id.keys == ("ots:enrollment.complete|5001|2025-03-01T10:00:00Z",)
    lo_only = event(None, data={"lo_id": 36439791})
    assert lo_only.keys == ("ots:enrollment.complete|36439791|2025-03-01T10:00:00Z",)
    bare = parse_event(b'{"event_type": "content.add"}')
    assert (bare.event_id, bare.object_id, bare.sent, bare.attempt_number) == (None,) * 4
    assert bare.data == {}
    # with no id and no sent, a key from the body: Go1's retry of it is still a repeat
    first = parse_event(b'{"event_type": "content.add", "attempt_number": 1, "data": {"id": 4}}')
    again = parse_event(b'{"event_type": "content.add", "attempt_number": 2, "data": {"id": 4}}')
    other = parse_event(b'{"event_type": "content.add", "attempt_number": 1, "data": {"id": 5}}')
    assert first.keys == again.keys != other.keys
    assert first.keys[0].startswith("body:")


@pytest.mark.parametrize(("body", "reason"), [
    (b"\xff\xfe{}", "the body is not UTF-8"),
    (b"{not json", "the body is not JSON"),
    (b"", "the body is not JSON"),
    (b"[1, 2]", "the body is not a JSON object (it is an array)"),
    (b'"enrollment.complete"', "the body is not a JSON object (it is a string)"),
    (b"null", "the body is not a JSON object (it is null)"),
    (b'{"id": 1, "data": {}}', "the event has no event_type"),
    (b'{"event_type": 3}', "the event's event_type is not a string (it is a number)"),
    (b'{"event_type": ""}', "the event's event_type is empty"),
    (b'{"event_type": "content.add", "data": [1]}',
     "the event's data is not an object (it is an array)"),
    (b'{"event_type": "content.add", "data": null}',
     "the event's data is not an object (it is null)"),
    (b"[" * 100_000 + b"]" * 100_000, "the body is not JSON Go1 would send"),
])
def test_what_is_not_an_event(body: bytes, reason: str) -> None:
    with pytest.raises(EventRefused) as caught:
        parse_event(body)
    assert caught.value.reason.startswith(reason)


# -- the inbox -------------------------------------------------------------------------------

def test_append_dedupes_by_each_key(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox")
    assert inbox.append(event("evt-1"))
    assert not inbox.append(event("evt-1"))  # the same id
    assert not inbox.append(event("evt-1", sent="2025-03-02T00:00:00Z"))  # same id, other sent
    assert not inbox.append(event("evt-other"))  # same type, object and sent
    assert not inbox.append(event(None))
    assert inbox.append(event("evt-2", sent="2025-03-01T10:00:05Z"))
    assert inbox.append(event("evt-3", event_type="enrollment.create"))
    assert [stored.event.event_id for stored in inbox.pending()] == ["evt-1", "evt-2", "evt-3"]
    assert inbox.counts() == (3, 0)
    lines = (tmp_path / "inbox" / EVENTS).read_bytes().splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first == {"keys": ["id:evt-1", "ots:enrollment.complete|5001|2025-03-01T10:00:00Z"],
                     "received_at": "2025-03-01T10:00:01.000Z", "event": envelope("evt-1")}


def test_the_folder_and_files_are_private(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "deep" / "inbox")
    assert not (tmp_path / "deep").exists()  # nothing before the first write
    assert inbox.pending() == [] and inbox.counts() == (0, 0)
    assert not (tmp_path / "deep").exists()
    inbox.append(event())
    inbox.mark_done(["id:evt-1"])
    assert stat.S_IMODE((tmp_path / "deep" / "inbox").stat().st_mode) == 0o700
    for name in (EVENTS, DONE):
        assert stat.S_IMODE((tmp_path / "deep" / "inbox" / name).stat().st_mode) == 0o600


def test_done_events_leave_pending_and_stay_seen(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    for number in range(1, 4):
        inbox.append(event(f"evt-{number}", sent=f"2025-03-01T10:00:0{number}Z"))
    first, second, third = inbox.pending()
    assert (first.offset, second.offset > first.offset) == (0, True)
    inbox.mark_done(first.keys)
    inbox.mark_done([])  # nothing: no line
    assert [stored.event.event_id for stored in inbox.pending()] == ["evt-2", "evt-3"]
    inbox.mark_done([*second.keys, *third.keys])  # a batch: one line, one fsync
    assert inbox.pending() == [] and inbox.counts() == (0, 3)
    assert len((tmp_path / DONE).read_bytes().splitlines()) == 2
    assert not inbox.append(event("evt-2"))  # done is still seen


def test_a_torn_last_line_is_ignored_then_cut(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.append(event("evt-1"))
    whole = (tmp_path / EVENTS).read_bytes()
    with open(tmp_path / EVENTS, "ab") as file:  # a crash in the middle of a write
        file.write(b'{"keys": ["id:evt-torn"], "received_at": "2025-03-01T1')
    reader = Inbox(tmp_path)
    assert [stored.event.event_id for stored in reader.pending()] == ["evt-1"]
    assert reader.counts() == (1, 0)
    # it was never acknowledged: its key is not seen, and the next append cuts it off
    assert reader.append(event("evt-torn", sent="2025-03-01T11:00:00Z"))
    assert (tmp_path / EVENTS).read_bytes().startswith(whole)
    assert [stored.event.event_id for stored in inbox.pending()] == ["evt-1", "evt-torn"]
    assert all(json.loads(line) for line in (tmp_path / EVENTS).read_bytes().splitlines())
    # the first object learns of the other's line under the lock
    assert not inbox.append(event("evt-torn"))


def test_a_torn_done_line_is_ignored(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.append(event("evt-1"))
    with open(tmp_path / DONE, "ab") as file:
        file.write(b'{"keys": ["id:evt-1"]')
    assert len(inbox.pending()) == 1
    inbox.mark_done(["id:evt-1"])
    assert inbox.pending() == []
    assert [json.loads(line)["keys"] for line in (tmp_path / DONE).read_bytes().splitlines()] \
        == [["id:evt-1"]]


def test_an_unreadable_whole_line_is_skipped(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    inbox = Inbox(tmp_path)
    inbox.append(event("evt-1"))
    with open(tmp_path / EVENTS, "ab") as file:
        file.write(b"garbage\n")
    inbox.append(event("evt-2", sent="2025-03-01T12:00:00Z"))
    assert [stored.event.event_id for stored in Inbox(tmp_path).pending()] == ["evt-1", "evt-2"]
    assert "skipped an unreadable line" in caplog.text


def test_compaction_keeps_pending_events_and_dedupe(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    for number in range(1, 4):
        inbox.append(event(f"evt-{number}", sent=f"2025-03-01T10:00:0{number}Z"))
    first, *_ = inbox.pending()
    inbox.mark_done(first.keys)
    assert not inbox.compact()  # events pending and a small file: nothing to do
    inbox.mark_done([key for stored in inbox.pending() for key in stored.keys])
    assert inbox.compact()  # all done
    assert (tmp_path / EVENTS).read_bytes() == b""
    assert (tmp_path / DONE).read_bytes() == b""
    assert len((tmp_path / SEEN).read_bytes().splitlines()) == 3
    assert not inbox.compact()  # nothing left to compact
    assert inbox.counts() == (0, 3)
    for number in range(1, 4):
        assert not inbox.append(event(f"evt-{number}"))
        assert not Inbox(tmp_path).append(event(f"evt-{number}"))  # as another process
    assert inbox.append(event("evt-4", sent="2025-03-01T10:00:04Z"))
    assert [stored.event.event_id for stored in inbox.pending()] == ["evt-4"]


def test_a_large_file_is_compacted_with_events_still_pending(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path, compact_bytes=2000)
    for number in range(10):
        inbox.append(event(f"evt-{number}", sent=f"2025-03-01T10:00:{number:02}Z"))
    assert not inbox.compact()  # nothing done: nothing to drop
    done = inbox.pending()[:7]
    inbox.mark_done([key for stored in done for key in stored.keys])
    assert inbox.compact()
    assert [stored.event.event_id for stored in inbox.pending()] == ["evt-7", "evt-8", "evt-9"]
    assert inbox.pending()[0].offset == 0
    assert not inbox.append(event("evt-0")) and not inbox.append(event("evt-9"))
    assert inbox.counts() == (3, 7)


def test_seen_keys_are_forgotten_after_keep_seen(tmp_path: Path) -> None:
    now = [1_740_823_201.0]  # 2025-03-01T10:00:01Z, when the events were received
    inbox = Inbox(tmp_path, keep_seen=86400.0, clock=lambda: now[0])
    inbox.append(event("evt-1"))
    inbox.mark_done(["id:evt-1"])
    inbox.compact()
    now[0] += 3600
    inbox.append(event("evt-2", sent="2025-03-01T11:00:00Z"))
    inbox.mark_done(["id:evt-2"])
    inbox.compact()
    assert not inbox.append(event("evt-1"))
    now[0] += 2 * 86400
    inbox.append(event("evt-3", sent="2025-03-03T00:00:00Z"))
    inbox.mark_done(["id:evt-3"])
    assert inbox.compact()
    assert (tmp_path / SEEN).read_bytes().count(b"\n") == 1  # evt-3's only
    assert inbox.append(event("evt-1"))  # a month-old repeat is taken again


def test_two_inboxes_on_one_folder_behave_as_two_processes(tmp_path: Path) -> None:
    receiver, worker = Inbox(tmp_path), Inbox(tmp_path)
    assert receiver.append(event("evt-1"))
    assert not worker.append(event("evt-1"))
    assert worker.append(event("evt-2", sent="2025-03-01T10:00:02Z"))
    assert not receiver.append(event("evt-2"))
    assert [stored.event.event_id for stored in worker.pending()] == ["evt-1", "evt-2"]
    worker.mark_done([key for stored in worker.pending() for key in stored.keys])
    assert receiver.pending() == []
    assert worker.compact()  # replaces events.jsonl under the receiver's open descriptor
    assert receiver.append(event("evt-3", sent="2025-03-01T10:00:03Z"))
    assert [stored.event.event_id for stored in worker.pending()] == ["evt-3"]
    assert json.loads((tmp_path / EVENTS).read_bytes())["event"]["id"] == "evt-3"
    assert not receiver.append(event("evt-1")) and not worker.append(event("evt-2"))


def test_concurrent_appends_store_each_event_once(tmp_path: Path) -> None:
    inboxes = [Inbox(tmp_path), Inbox(tmp_path)]
    stored: list[str] = []
    lock = threading.Lock()

    def deliver(number: int) -> None:
        for index in range(40):  # every event delivered by all eight threads
            if inboxes[number % 2].append(event(f"evt-{index}",
                                                sent=f"2025-03-01T10:{index:02}:00Z")):
                with lock:
                    stored.append(f"evt-{index}")

    threads = [threading.Thread(target=deliver, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(stored) == sorted(f"evt-{index}" for index in range(40))
    assert len(Inbox(tmp_path).pending()) == 40


KILLED = """
import json, os, signal, sys
from go1sync.webhooks.events import parse_event
from go1sync.webhooks.inbox import Inbox
inbox = Inbox(sys.argv[1])
body = json.dumps({"id": "evt-killed", "event_type": "enrollment.complete",
                   "sent": "2025-03-01T10:00:00Z", "data": {"id": 42}}).encode()
assert inbox.append(parse_event(body))
os.kill(os.getpid(), signal.SIGKILL)  # the instant after the 2xx would have gone out
"""


def test_an_event_appended_survives_a_kill_right_after(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path / "inbox")], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                           timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    inbox = Inbox(tmp_path / "inbox")
    [stored] = inbox.pending()
    assert stored.event.event_id == "evt-killed" and stored.event.object_id == "42"
    assert not inbox.append(parse_event(json.dumps(stored.event.body).encode()))
