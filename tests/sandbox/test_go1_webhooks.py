"""The Go1 sandbox's webhooks: the ``/webhooks`` routes, and the signed deliveries it sends.

The routes are driven with plain ``requests``, as a third-party client would; deliveries are
received by a tiny local receiver (the sandboxes' own :class:`ApiServer`, on port 0, whose
request log keeps each body and header) and checked with this file's own HMAC computation,
written from the contract README, not from the sandbox's code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.go1.webhooks import EVENT_TYPES
from sandbox.httpserver import ApiServer, LoggedRequest, Response, Router

TINY = Go1Seed(seed=3, learning_objects=20, users=6, enrollments=40)
MISSING_SCOPES = {"message": "Missing scopes"}
ISO_MILLIS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SIGNATURE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")
FAST = (0.02, 0.02)  # retry delays small enough for a test
SECRET = "MyS3cretK#y"


class Client:
    """One token, the two headers Go1 wants, one keep-alive session."""

    def __init__(self, sb: Go1Sandbox) -> None:
        self.sb = sb
        self.session = requests.Session()
        self.session.headers["Api-Version"] = "2025-01-01"
        token = requests.post(sb.auth_url, data={
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "grant_type": "client_credentials"}, timeout=5).json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None,
             content_type: str = "application/json", raw: bytes | None = None
             ) -> requests.Response:
        data = raw if raw is not None else None if body is None else json.dumps(body)
        headers = {} if data is None else {"Content-Type": content_type}
        return self.session.request(method, self.sb.url + path, data=data, headers=headers,
                                    timeout=5)

    def register(self, url: str, event_types: list[str] | tuple[str, ...] = EVENT_TYPES,
                 **extra: Any) -> dict[str, Any]:
        response = self.call("POST", "/webhooks",
                             {"url": url, "event_types": list(event_types), **extra})
        assert response.status_code == 201, response.text
        record: dict[str, Any] = response.json()
        return record


class Receiver:
    """A webhook endpoint on loopback: ``POST /hook`` and ``POST /other`` answer 200, unless a
    fault says otherwise (``receiver.server.faults``)."""

    def __init__(self) -> None:
        router = Router()
        for path in ("/hook", "/other"):
            router.add("POST", path, lambda req: Response(200, {"received": True}))
        self.server = ApiServer(router).serve()

    def url(self, path: str = "/hook") -> str:
        return self.server.url + path

    def got(self, path: str = "/hook") -> list[LoggedRequest]:
        return [r for r in self.server.requests if r.path == path]

    def bodies(self, path: str = "/hook") -> list[dict[str, Any]]:
        return [r.json() for r in self.got(path)]


@pytest.fixture()
def sb() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(TINY).serve() as sandbox:
        sandbox.delivery_retry_delays = FAST
        yield sandbox


@pytest.fixture()
def client(sb: Go1Sandbox) -> Client:
    return Client(sb)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    try:
        yield endpoint
    finally:
        endpoint.server.stop()


def verify(request: LoggedRequest, secret: str) -> int:
    """The signature checked as a receiver would (the contract README): ``t`` and the hex
    HMAC-SHA256 of ``"<t>.<raw body>"``; returns ``t``."""
    found = SIGNATURE.match(request.headers["go1-signature"])
    assert found, request.headers["go1-signature"]
    expected = hmac.new(secret.encode(), found.group(1).encode() + b"." + request.body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, found.group(2))
    return int(found.group(1))


def an_enrollment(sb: Go1Sandbox, status: str = "in-progress") -> dict[str, Any]:
    return next(e for e in sb.enrollments.values() if e["status"] == status)


def a_library_lo(sb: Go1Sandbox) -> str:
    return sorted(sb.library)[0]


# registering --------------------------------------------------------------------------------
def test_a_webhook_is_created_listed_read_patched_and_deleted(client: Client) -> None:
    created = client.register("https://webhook-consumer.com/go1", ["enrollment.complete"],
                              name="My webhook", secret_key=SECRET)
    assert list(created) == ["id", "portal_id", "name", "url", "secret_key", "event_types",
                             "status", "created_by", "created_time", "updated_by",
                             "updated_time"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", created["id"])
    assert created["portal_id"] == "11905591" and created["status"] == "active"
    assert created["secret_key"] == SECRET  # served back, as the OpenAPI says Go1 does
    assert ISO_MILLIS_Z.match(created["created_time"])
    assert created["updated_time"] == created["created_time"]
    webhook = created["id"]

    listed = client.call("GET", "/webhooks")
    assert listed.status_code == 200
    assert listed.json() == {"total": 1, "hits": [created]}
    assert client.call("GET", f"/webhooks/{webhook}").json() == created

    patched = client.call("PATCH", f"/webhooks/{webhook}",
                          {"status": "inactive", "event_types": ["content.add"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "inactive"
    assert patched.json()["event_types"] == ["content.add"]
    assert patched.json()["name"] == "My webhook"  # what was not sent stays
    merged = client.call("PATCH", f"/webhooks/{webhook}",
                         {"secret_key": None, "oauth2": {"grant_type": "client_credentials"}},
                         content_type="application/merge-patch+json")
    assert merged.status_code == 200, merged.text
    assert "secret_key" not in merged.json()  # RFC 7396: null removes the member
    assert merged.json()["oauth2"] == {"grant_type": "client_credentials"}
    assert client.sb.webhooks == [merged.json()]

    deleted = client.call("DELETE", f"/webhooks/{webhook}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.call("GET", "/webhooks").json() == {"total": 0, "hits": []}
    for method in ("GET", "PATCH", "DELETE"):
        gone = client.call(method, f"/webhooks/{webhook}",
                           {"name": "x"} if method == "PATCH" else None)
        assert gone.status_code == 404, method
        assert gone.json()["error_code"] == "WEBHOOK_NOT_FOUND"


def test_every_event_type_of_the_request_enum_can_be_subscribed(client: Client) -> None:
    record = client.register("http://127.0.0.1:9/x", EVENT_TYPES)
    assert record["event_types"] == list(EVENT_TYPES)
    assert len(EVENT_TYPES) == 12  # the OpenAPI's request enum (the response enum has 7)


@pytest.mark.parametrize(("scope", "allowed", "refused"), [
    ("webhook.read", ["POST /webhooks"], ["GET /webhooks", "GET /webhooks/{id}"]),
    ("webhook.write", ["GET /webhooks", "GET /webhooks/{id}"],
     ["POST /webhooks", "PATCH /webhooks/{id}", "DELETE /webhooks/{id}"]),
])
def test_each_webhook_route_needs_its_scope(client: Client, scope: str, allowed: list[str],
                                            refused: list[str]) -> None:
    webhook = client.register("https://example.com/hook")["id"]
    client.sb.scopes.discard(scope)  # the token already issued loses it too
    bodies = {"POST": {"url": "https://example.com/2", "event_types": ["content.add"]},
              "PATCH": {"name": "renamed"}}
    for route in refused + allowed:
        method, path = route.split(" ")
        response = client.call(method, path.replace("{id}", webhook), bodies.get(method))
        if route in refused:
            assert response.status_code == 401, route
            assert response.json() == MISSING_SCOPES, route
            assert "WWW-Authenticate" not in response.headers
        else:
            assert response.status_code in (200, 201), (route, response.text)


def test_webhook_routes_need_a_token_and_the_api_version(client: Client) -> None:
    anonymous = requests.get(client.sb.url + "/webhooks", timeout=5,
                             headers={"Api-Version": "2025-01-01"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error_code"] == "AUTH_TOKEN_INVALID"
    del client.session.headers["Api-Version"]
    assert client.call("GET", "/webhooks").json()["error_code"] == "INVALID_API_VERSION"


GOOD = {"url": "https://example.com/hook", "event_types": ["enrollment.complete"]}


@pytest.mark.parametrize("body", [
    {"event_types": ["content.add"]},  # url missing
    {"url": "https://example.com/hook"},  # event_types missing
    {**GOOD, "event_types": []},
    {**GOOD, "event_types": "content.add"},
    {**GOOD, "event_types": ["content.unknown"]},
    {**GOOD, "event_types": [1]},
    {**GOOD, "url": "/relative/path"},
    {**GOOD, "url": "ftp://example.com/hook"},
    {**GOOD, "url": "https:///no-host"},
    {**GOOD, "url": "https://example.com:port/x"},
    {**GOOD, "url": 42},
    {**GOOD, "name": 3},
    {**GOOD, "secret_key": ["s"]},
    {**GOOD, "secret_key": None},
    {**GOOD, "oauth2": "{}"},
    {**GOOD, "integration_system_id": 7},
    {**GOOD, "status": "active"},  # only an update takes a status
    {**GOOD, "colour": "red"},
    [GOOD],
    "https://example.com/hook",
])
def test_a_create_body_outside_the_schema_is_400(client: Client, body: Any) -> None:
    response = client.call("POST", "/webhooks", body)
    assert response.status_code == 400, body
    assert response.json()["error_code"] == "INVALID_PARAMETER"
    assert client.sb.webhooks == []


def test_a_create_body_that_is_not_json_is_400(client: Client) -> None:
    for raw, content_type in ((b"{not json", "application/json"),
                              (b"url=https%3A%2F%2Fx.com", "application/x-www-form-urlencoded"),
                              (json.dumps(GOOD).encode(), "application/merge-patch+json"),
                              (json.dumps(GOOD).encode(), "text/plain")):
        response = client.call("POST", "/webhooks", raw=raw, content_type=content_type)
        assert response.status_code == 400, content_type
        assert response.json()["error_code"] == "INVALID_PARAMETER"
    ok = client.call("POST", "/webhooks", raw=json.dumps(GOOD).encode(),
                     content_type="application/json; charset=utf-8")
    assert ok.status_code == 201


@pytest.mark.parametrize(("body", "content_type"), [
    ({"status": "paused"}, "application/json"),
    ({"event_types": []}, "application/json"),
    ({"url": None}, "application/json"),
    ({"name": None}, "application/json"),  # null is a value of the wrong type here
    ({"url": None}, "application/merge-patch+json"),  # a required member cannot be removed
    ({"status": None}, "application/merge-patch+json"),
    ({"id": "other"}, "application/json"),
    ({"created_by": "me"}, "application/json"),
    ({"oauth2": []}, "application/merge-patch+json"),
    ({"name": "x"}, "text/plain"),
])
def test_an_update_body_outside_the_schema_is_400(client: Client, body: Any,
                                                  content_type: str) -> None:
    record = client.register("https://example.com/hook", name="kept")
    response = client.call("PATCH", f"/webhooks/{record['id']}", body, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER"
    assert client.sb.webhooks == [record]  # nothing changed


# deliveries ---------------------------------------------------------------------------------
def test_a_delivery_is_signed_with_the_secret_key(sb: Go1Sandbox, client: Client,
                                                  receiver: Receiver) -> None:
    webhook = client.register(receiver.url(), ["enrollment.complete"], secret_key=SECRET)
    enrollment = an_enrollment(sb)
    before = int(time.time())
    sb.complete_enrollment(enrollment["id"])
    assert sb.wait_deliveries(5)
    [request] = receiver.got()
    assert request.headers["content-type"] == "application/json"
    assert before - 1 <= verify(request, SECRET) <= int(time.time()) + 1
    body = request.json()
    assert list(body) == ["id", "event_type", "webhook_version", "sent", "attempt_number",
                          "webhook_id", "data"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        body["id"])
    assert body["event_type"] == "enrollment.complete"
    assert body["webhook_version"] == "1" and body["attempt_number"] == 1
    assert body["webhook_id"] == webhook["id"]
    assert ISO_MILLIS_Z.match(body["sent"])
    assert body["data"] == {"id": enrollment["id"], "lo_id": enrollment["lo_id"],
                            "user_id": enrollment["user_account_id"]}
    # the delivery is thin: its ids read the details back
    assert client.call("GET", f"/enrollments/{body['data']['id']}").json()["status"] == \
        "completed"
    [attempt] = sb.deliveries
    assert (attempt.event_id, attempt.event_type, attempt.webhook_id, attempt.url,
            attempt.attempt_number, attempt.status, attempt.error, attempt.duplicate) == \
        (body["id"], "enrollment.complete", webhook["id"], receiver.url(), 1, 200, None, False)
    assert attempt.body == request.body


def test_a_wrong_secret_does_not_verify_and_no_secret_means_no_signature(
        sb: Go1Sandbox, client: Client, receiver: Receiver) -> None:
    client.register(receiver.url(), ["content.add"], secret_key=SECRET)
    client.register(receiver.url("/other"), ["content.add"])
    sb.add_to_library(a_library_lo(sb))
    assert sb.wait_deliveries(5)
    [signed] = receiver.got()
    with pytest.raises(AssertionError):
        verify(signed, "not-the-secret")
    [unsigned] = receiver.got("/other")
    assert "go1-signature" not in unsigned.headers
    assert unsigned.json()["id"] == signed.json()["id"]  # one event, one id, two webhooks


def test_a_failed_delivery_is_retried_with_the_next_attempt_number(
        sb: Go1Sandbox, client: Client, receiver: Receiver) -> None:
    client.register(receiver.url(), ["enrollment.create"], secret_key=SECRET)
    receiver.server.faults.add("500", path="/hook", times=1)
    receiver.server.faults.add("drop", path="/hook", times=1)  # then no answer at all
    enrollment = an_enrollment(sb)
    sb.reenroll(enrollment["id"])
    assert sb.wait_deliveries(5)
    got = receiver.got()
    bodies = [r.json() for r in got]
    assert [b["attempt_number"] for b in bodies] == [1, 2, 3]
    assert len({b["id"] for b in bodies}) == 1 and len({b["sent"] for b in bodies}) == 1
    for request in got:  # each attempt serialised and signed again
        verify(request, SECRET)
    attempts = sb.deliveries
    assert [a.status for a in attempts] == [500, None, 200]
    assert attempts[1].error
    new = bodies[0]["data"]["id"]
    assert new != enrollment["id"] and new in sb.enrollments  # the new enrollment


def test_a_delivery_is_given_up_after_its_retries(sb: Go1Sandbox, client: Client,
                                                  receiver: Receiver) -> None:
    client.register(receiver.url(), ["content.remove"])
    receiver.server.faults.add("503", path="/hook", times=None)
    sb.remove_from_library(a_library_lo(sb))
    assert sb.wait_deliveries(5)
    assert [a.attempt_number for a in sb.deliveries] == [1, 2, 3]  # 1 + len(FAST)
    assert all(a.status == 503 for a in sb.deliveries)


def test_a_retry_does_not_hold_back_later_events(sb: Go1Sandbox, client: Client,
                                                 receiver: Receiver) -> None:
    sb.delivery_retry_delays = (0.4,)
    client.register(receiver.url(), ["content.add", "content.decommission"])
    receiver.server.faults.add("500", path="/hook", times=1)
    lo = a_library_lo(sb)
    sb.add_to_library(lo)
    sb.retire(lo)
    assert sb.wait_deliveries(5)
    assert [(b["event_type"], b["attempt_number"]) for b in receiver.bodies()] == [
        ("content.add", 1), ("content.decommission", 1), ("content.add", 2)]


def test_duplicate_deliveries_send_each_success_twice(sb: Go1Sandbox, client: Client,
                                                      receiver: Receiver) -> None:
    sb.duplicate_deliveries = True
    client.register(receiver.url(), ["enrollment.create"], secret_key=SECRET)
    lo = next(lo for lo in sb.learning_objects)
    user = next(u for u in sb.user_accounts
                if not any(e["user_account_id"] == u and e["lo_id"] == lo
                           for e in sb.enrollments.values()))
    new = sb.start_enrollment(lo, user)
    assert sb.wait_deliveries(5)
    first, second = receiver.got()
    assert first.json() == second.json()  # the same id, attempt_number 1 again
    assert first.json()["attempt_number"] == 1 and first.json()["data"]["id"] == new
    verify(second, SECRET)
    assert [a.duplicate for a in sb.deliveries] == [False, True]


def test_the_data_and_envelope_knobs_trim_what_is_sent(sb: Go1Sandbox, client: Client,
                                                       receiver: Receiver) -> None:
    client.register(receiver.url(), ["enrollment.complete", "content.decommission"])
    sb.delivery_data_fields = ("id", "lo_id")
    sb.complete_enrollment(an_enrollment(sb)["id"])
    sb.delivery_envelope_fields = ("event_type", "data")
    lo = a_library_lo(sb)
    sb.remove(lo)
    assert sb.wait_deliveries(5)
    complete, decommission = receiver.bodies()
    assert set(complete["data"]) == {"id", "lo_id"} and len(complete) == 7
    assert decommission == {"event_type": "content.decommission",
                            "data": {"id": sb.learning_objects[lo]["id"], "lo_id": lo}}
    assert decommission["data"]["id"].startswith("con_")
    with pytest.raises(ValueError):
        sb.delivery_envelope_fields = ("event",)
    with pytest.raises(ValueError):
        sb.delivery_data_fields = ("email",)


def test_a_paused_queue_holds_deliveries_then_sends_them_in_order(
        sb: Go1Sandbox, client: Client, receiver: Receiver) -> None:
    client.register(receiver.url(), ["content.add", "content.remove"])
    sb.pause_deliveries()
    lo = a_library_lo(sb)
    sb.remove_from_library(lo)
    sb.add_to_library(lo)
    assert not sb.wait_deliveries(0.2)  # held: not settled
    assert receiver.got() == [] and sb.deliveries == []
    sb.resume_deliveries()
    assert sb.wait_deliveries(5)
    assert [b["event_type"] for b in receiver.bodies()] == ["content.remove", "content.add"]


def test_only_active_subscribed_webhooks_receive_and_only_the_listed_changes_fire(
        sb: Go1Sandbox, client: Client, receiver: Receiver) -> None:
    every = client.register(receiver.url(), EVENT_TYPES)
    paused = client.register(receiver.url("/other"), EVENT_TYPES)
    assert client.call("PATCH", f"/webhooks/{paused['id']}",
                       {"status": "inactive"}).status_code == 200
    lo = a_library_lo(sb)
    sb.edit_title(lo, "No event for a title")  # none of these fire
    sb.publish(lo)
    sb.edit_email(next(iter(sb.user_accounts)), "new@example.com")
    sb.add_user_account("9990001", "someone@example.com")
    assert sb.wait_deliveries(5)
    assert receiver.got() == []
    started = an_enrollment(sb)
    sb.complete_enrollment(started["id"])
    new = sb.reenroll(an_enrollment(sb)["id"])
    sb.add_to_library(lo)
    sb.remove_from_library(lo)
    sb.retire(lo)
    sb.remove(lo)
    assert sb.wait_deliveries(5)
    assert [b["event_type"] for b in receiver.bodies()] == [
        "enrollment.complete", "enrollment.create", "content.add", "content.remove",
        "content.decommission", "content.decommission"]
    assert receiver.bodies()[1]["data"]["id"] == new
    assert {b["webhook_id"] for b in receiver.bodies()} == {every["id"]}
    assert receiver.got("/other") == []  # inactive


def test_emit_sends_any_event_even_of_an_unknown_type(sb: Go1Sandbox, client: Client,
                                                      receiver: Receiver) -> None:
    client.register(receiver.url(), ["content.add"])
    client.register(receiver.url("/other"), ["enrollment.complete"])
    odd = sb.emit("content.library.future", ["not", "an", "object"])
    known = sb.emit("content.add", {"id": "con_x", "lo_id": "1", "extra": {"nested": True}})
    assert sb.wait_deliveries(5)
    hook, other = receiver.bodies(), receiver.bodies("/other")
    assert [(b["id"], b["event_type"], b["data"]) for b in hook] == [
        (odd, "content.library.future", ["not", "an", "object"]),
        (known, "content.add", {"id": "con_x", "lo_id": "1", "extra": {"nested": True}})]
    assert [b["id"] for b in other] == [odd]  # an unknown type goes to every active webhook


def test_a_frozen_clock_signs_with_its_time(sb: Go1Sandbox, client: Client,
                                            receiver: Receiver) -> None:
    client.register(receiver.url(), ["content.add"], secret_key=SECRET)
    sb.set_now(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    sb.emit("content.add", {"id": "con_1", "lo_id": "1"})
    assert sb.wait_deliveries(5)
    [request] = receiver.got()
    assert verify(request, SECRET) == int(datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp())
    assert request.json()["sent"] == "2025-03-01T12:00:00.000Z"


def test_stop_ends_the_sender_thread_and_drops_what_is_queued(client: Client,
                                                              receiver: Receiver) -> None:
    sb = client.sb
    client.register(receiver.url(), ["content.add"])
    sb.emit("content.add", {"id": "con_1", "lo_id": "1"})
    assert sb.wait_deliveries(5)
    [sender] = [t for t in threading.enumerate() if t.name == "go1-sandbox-webhooks"
                and t is sb._deliveries._thread]
    sb.pause_deliveries()
    sb.emit("content.add", {"id": "con_2", "lo_id": "2"})
    sb.stop()
    assert not sender.is_alive()
    assert sb.wait_deliveries(0)  # the queued event was dropped
    assert len(receiver.got()) == 1
