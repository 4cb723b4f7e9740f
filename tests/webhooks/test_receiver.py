"""The receiver over a real waitress server on a free port, spoken to as Go1 would."""

from __future__ import annotations

import errno
import json
import logging
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from go1sync.webhooks.inbox import Inbox
from go1sync.webhooks.receiver import MAX_BODY, ReceiverApp
from go1sync.webhooks.server import ListenError, ReceiverServer, parse_listen
from go1sync.webhooks.signature import digest, sign

SECRET = "whsec-receiver-test"
NOW = 1_740_823_200.0


def delivery(event_id: str = "evt-1", **fields: Any) -> bytes:
    body = {"id": event_id, "event_type": "enrollment.complete", "webhook_version": "1",
            "sent": "2025-03-01T10:00:00Z", "attempt_number": 1,
            "data": {"id": 5001, "lo_id": 36439791}, **fields}
    return json.dumps(body).encode()


class Receiver:
    def __init__(self, url: str, inbox: Inbox, stored: list[int]) -> None:
        self.url = url
        self.inbox = inbox
        self.stored = stored
        self.session = requests.Session()

    def post(self, body: bytes | Any, signature: str | None = None, *, signed: bool = True,
             **headers: str) -> requests.Response:
        if signed and signature is None:
            signature = sign(SECRET, body, NOW)
        if signature is not None:
            headers["Go1-Signature"] = signature
        return self.session.post(f"{self.url}/go1/webhooks", data=body, headers=headers,
                                 timeout=10)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    inbox = Inbox(tmp_path / "inbox")
    stored: list[int] = []
    app = ReceiverApp(inbox, SECRET, clock=lambda: NOW, on_stored=lambda: stored.append(1))
    with ReceiverServer(app, "127.0.0.1:0", threads=4) as server:
        client = Receiver(server.url, inbox, stored)
        yield client
        client.session.close()


def test_a_delivery_is_stored_then_a_repeat_is_a_duplicate(receiver: Receiver) -> None:
    answer = receiver.post(delivery())
    assert (answer.status_code, answer.json()) == (200, {"status": "stored"})
    assert answer.headers["Content-Type"] == "application/json"
    assert [stored.event.event_id for stored in receiver.inbox.pending()] == ["evt-1"]
    again = receiver.post(delivery(attempt_number=2))  # Go1's retry: same id
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    same = receiver.post(delivery("evt-other"))  # same type, object and sent
    assert same.json() == {"status": "duplicate"}
    assert len(receiver.inbox.pending()) == 1
    assert receiver.stored == [1]  # the worker woken once
    health = requests.get(f"{receiver.url}/healthz", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok", "pending": 1})


@pytest.mark.parametrize("signature", [
    None,
    "garbage",
    "t=1740823200",
    sign("another-secret", delivery(), NOW),
    sign(SECRET, delivery("evt-tampered"), NOW),
    sign(SECRET, delivery(), NOW - 301),
    sign(SECRET, delivery(), NOW + 301),
], ids=["missing", "malformed", "no-v1", "wrong-secret", "tampered", "stale", "future"])
def test_a_bad_signature_is_refused_and_nothing_stored(
        receiver: Receiver, signature: str | None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="go1sync.webhooks"):
        answer = receiver.post(delivery(), signature, signed=False)
    assert answer.status_code == 401
    assert answer.json()["status"] == "refused"
    assert receiver.inbox.pending() == [] and receiver.stored == []
    [line] = [record for record in caplog.records if record.name == "go1sync.webhooks"]
    assert line.levelno == logging.INFO and "from 127.0.0.1" in line.getMessage()
    assert answer.json()["reason"] in line.getMessage()
    for secret_part in (SECRET, digest(SECRET, delivery(), int(NOW)), signature or SECRET):
        assert secret_part not in line.getMessage() and secret_part not in answer.text


def test_a_body_over_1_mib_is_refused(receiver: Receiver) -> None:
    padding = MAX_BODY - len(delivery(padding=""))
    exactly = delivery(padding="x" * padding)
    assert len(exactly) == MAX_BODY
    assert receiver.post(exactly).json() == {"status": "stored"}
    over = delivery("evt-2", padding="x" * (padding + 1))
    assert len(over) == MAX_BODY + 1
    answer = receiver.post(over)
    assert answer.status_code == 413
    assert answer.json() == {"status": "too large",
                             "reason": f"the body is over {MAX_BODY} bytes"}
    # the same without a length: chunked
    chunked = receiver.post(iter([over[:1000], over[1000:]]), sign(SECRET, over, NOW))
    assert chunked.status_code == 413
    assert len(receiver.inbox.pending()) == 1


def test_invalid_json_or_a_body_that_is_no_event_is_400(receiver: Receiver) -> None:
    answer = receiver.post(b"{not json")
    assert answer.status_code == 400
    assert answer.json()["status"] == "invalid"
    assert answer.json()["reason"].startswith("the body is not JSON")
    assert receiver.post(b'{"id": "evt-1"}').json()["reason"] == "the event has no event_type"
    assert receiver.post(b"[1]").status_code == 400
    assert receiver.inbox.pending() == []


def test_other_paths_and_methods(receiver: Receiver) -> None:
    missing = requests.post(f"{receiver.url}/webhooks", data=b"{}", timeout=10)
    assert (missing.status_code, missing.json()) == (404, {"status": "not found"})
    wrong = requests.get(f"{receiver.url}/go1/webhooks", timeout=10)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")
    assert wrong.json() == {"status": "method not allowed"}
    health = requests.post(f"{receiver.url}/healthz", timeout=10)
    assert (health.status_code, health.headers["Allow"]) == (405, "GET")


def test_an_inbox_that_cannot_be_written_is_503(receiver: Receiver,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def full(event: object) -> bool:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(receiver.inbox, "append", full)
    answer = receiver.post(delivery())
    assert (answer.status_code, answer.json()) == (503, {"status": "unavailable"})
    assert receiver.stored == []


def test_a_failing_wake_up_hook_still_answers_stored(tmp_path: Path) -> None:
    def broken() -> None:
        raise RuntimeError("the worker is gone")

    app = ReceiverApp(Inbox(tmp_path), SECRET, clock=lambda: NOW, on_stored=broken)
    with ReceiverServer(app, "127.0.0.1:0", threads=1) as server:
        body = delivery()
        answer = requests.post(f"{server.url}/go1/webhooks", data=body, timeout=10,
                               headers={"Go1-Signature": sign(SECRET, body, NOW)})
    assert (answer.status_code, answer.json()) == (200, {"status": "stored"})


def test_nothing_secret_is_stored(receiver: Receiver) -> None:
    body = delivery()
    header = sign(SECRET, body, NOW)
    receiver.post(body, header)
    receiver.inbox.mark_done(["id:evt-1"])
    receiver.inbox.compact()
    for path in receiver.inbox.directory.iterdir():
        text = path.read_bytes()
        assert SECRET.encode() not in text and header.split("v1=")[1].encode() not in text


def test_the_secret_is_not_in_the_app_repr(tmp_path: Path) -> None:
    assert SECRET not in repr(ReceiverApp(Inbox(tmp_path), SECRET))
    with pytest.raises(ValueError, match="secret is empty"):
        ReceiverApp(Inbox(tmp_path), "")


# -- the server ------------------------------------------------------------------------------

@pytest.mark.parametrize("listen", ["nonsense", "127.0.0.1:", ":8787", "127.0.0.1:70000",
                                    "127.0.0.1:-1", "::1:8787", "127.0.0.1:http"])
def test_a_bad_listen_value_is_a_value_error_naming_it(listen: str) -> None:
    with pytest.raises(ValueError) as caught:
        ReceiverServer(ReceiverApp(Inbox("/nonexistent"), SECRET), listen)
    assert repr(listen) in str(caught.value) and "\n" not in str(caught.value)


def test_listen_values() -> None:
    assert parse_listen("127.0.0.1:8787") == ("127.0.0.1", 8787)
    assert parse_listen("[::1]:0") == ("::1", 0)
    assert parse_listen("0.0.0.0:443") == ("0.0.0.0", 443)


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ReceiverServer(ReceiverApp(Inbox(tmp_path), SECRET), f"127.0.0.1:{port}")
        with pytest.raises(ListenError) as caught:
            server.start()
    assert str(caught.value) == f"cannot listen on 127.0.0.1:{port}: the address is in use"
    assert caught.value.errno == errno.EADDRINUSE
    assert isinstance(caught.value, OSError)


def test_stop_closes_cleanly(tmp_path: Path) -> None:
    server = ReceiverServer(ReceiverApp(Inbox(tmp_path), SECRET), "127.0.0.1:0").start()
    url = server.url
    session = requests.Session()  # a kept-alive connection, open when the server stops
    assert session.get(f"{url}/healthz", timeout=10).status_code == 200
    thread = server._thread
    server.stop()
    assert thread is not None and not thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/healthz", timeout=2)
    server.stop()  # twice is harmless
    with pytest.raises(RuntimeError):
        _ = server.url


def test_stop_lets_a_request_in_hand_finish() -> None:
    started = threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started.set()
        time.sleep(0.4)
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", "2")])
        return [b"{}"]

    server = ReceiverServer(slow, "127.0.0.1:0", threads=2).start()
    answers: list[int] = []
    client = threading.Thread(target=lambda: answers.append(
        requests.get(f"{server.url}/healthz", timeout=10).status_code))
    client.start()
    assert started.wait(5)
    server.stop()
    client.join(10)
    assert answers == [200]
