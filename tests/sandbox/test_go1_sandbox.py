"""The Go1 sandbox, seen from a client: plain ``requests`` against a served sandbox.

Every test asserts what a client would see (status codes, bodies, headers), because the point of
the sandbox is to behave like Go1 for the extract code. Seeds are small so the file stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the project is not necessarily installed in the venv
    sys.path.insert(0, str(ROOT))

from sandbox.go1 import Go1Sandbox, Go1Seed  # noqa: E402
from sandbox.go1.timefmt import parse_us  # noqa: E402

SYNCED = ("course", "document", "interactive", "text", "video", "link", "audio")
ALL_INCLUDES = ("core", "relevance", "lifecycle", "provider", "topics")
ENROLLMENTS = "/enrollments"  # the gateway's path, the sandbox's default
OPENAPI_SERVER_ENROLLMENTS = "/report-data/enrolment/enrollments"  # relative servers: entry
INVALID_CREDENTIALS = {"error_code": "AUTH_TOKEN_INVALID", "message": "Invalid credentials."}
MISSING_SCOPES = {"message": "Missing scopes"}  # Go1's answer, exactly: no error_code
#: scope -> the routes that need it (Go1's scope page), ``{…}`` filled with existing ids
SCOPED_ROUTES = {"lo.read": ("/learning-objects", "/learning-objects/{lo}"),
                 "enrollment.read": ("/enrollments", "/enrollments/{enrollment}"),
                 "user.read": ("/user-accounts", "/user-accounts/{user}")}
SMALL = Go1Seed(seed=11, learning_objects=120, users=30, enrollments=400)


class Client:
    """A minimal Go1 client: one token, the two headers, one keep-alive session."""

    def __init__(self, sb: Go1Sandbox) -> None:
        self.sb = sb
        self.session = requests.Session()
        self.session.headers["Api-Version"] = "2025-01-01"
        self.login()

    def login(self) -> str:
        response = requests.post(self.sb.auth_url, data={
            "client_id": self.sb.client_id, "client_secret": self.sb.client_secret,
            "grant_type": "client_credentials"}, timeout=5)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        return token

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.sb.url + path, params=params, timeout=5)

    def scroll_library(self, limit: int, includes: tuple[str, ...] = ALL_INCLUDES,
                       **extra: Any) -> tuple[list[dict[str, Any]], int]:
        """Every hit of a library scroll, and the number of requests it took."""
        first = self.get("/learning-objects", collection="library", use_scroll="true",
                         limit=limit, **{"type[]": list(SYNCED), "include[]": list(includes)},
                         **extra)
        assert first.status_code == 200, first.text
        body = first.json()
        hits, calls = list(body["hits"]), 1
        while True:
            page = self.get("/learning-objects", use_scroll="true",
                            scroll_id=body["next_scroll_id"])
            calls += 1
            assert page.status_code == 200, page.text
            body = page.json()
            if not body["hits"]:
                return hits, calls
            hits.extend(body["hits"])


@pytest.fixture(scope="module")
def shared() -> Iterator[Go1Sandbox]:
    """A read-only sandbox for tests that change nothing."""
    with Go1Sandbox(SMALL).serve() as sb:
        yield sb


@pytest.fixture()
def sb() -> Iterator[Go1Sandbox]:
    """A fresh sandbox for tests that change data, faults or the clock."""
    with Go1Sandbox(SMALL).serve() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def big() -> Iterator[Go1Sandbox]:
    """Enough enrollments that one window holds more than 10,000."""
    seed = Go1Seed(seed=5, learning_objects=400, users=300, enrollments=12_000)
    with Go1Sandbox(seed).serve() as sandbox:
        yield sandbox


def _window(sb: Go1Sandbox, gte: int, lte: int) -> list[dict[str, Any]]:
    rows = [e for e in sb.enrollments.values() if gte <= parse_us(e["updated_time"]) <= lte]
    return sorted(rows, key=lambda e: (parse_us(e["updated_time"]), int(e["id"])))


# tokens and headers ---------------------------------------------------------------------
def test_token_is_issued_for_form_encoded_client_credentials(shared: Go1Sandbox) -> None:
    response = requests.post(shared.auth_url, data={
        "client_id": "sandbox-go1-client", "client_secret": "sandbox-go1-secret",
        "grant_type": "client_credentials"}, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token_type", "access_token", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 43_200
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize("form", [
    {"client_id": "sandbox-go1-client", "client_secret": "wrong",
     "grant_type": "client_credentials"},
    {"client_id": "someone-else", "client_secret": "sandbox-go1-secret",
     "grant_type": "client_credentials"},
])
def test_wrong_credentials_get_401_with_go1_error_body(shared: Go1Sandbox,
                                                       form: dict[str, str]) -> None:
    response = requests.post(shared.auth_url, data=form, timeout=5)
    assert response.status_code == 401
    assert response.json() == INVALID_CREDENTIALS


def test_json_token_request_is_refused_and_missing_fields_are_400(shared: Go1Sandbox) -> None:
    as_json = requests.post(shared.auth_url, json={
        "client_id": "sandbox-go1-client", "client_secret": "sandbox-go1-secret",
        "grant_type": "client_credentials"}, timeout=5)
    assert as_json.status_code == 401 and as_json.json() == INVALID_CREDENTIALS
    no_grant = requests.post(shared.auth_url, data={
        "client_id": "sandbox-go1-client", "client_secret": "sandbox-go1-secret"}, timeout=5)
    assert no_grant.status_code == 400 and no_grant.json()["error_code"] == "INVALID_REQUEST"
    other_grant = requests.post(shared.auth_url, data={
        "client_id": "sandbox-go1-client", "client_secret": "sandbox-go1-secret",
        "grant_type": "password"}, timeout=5)
    assert other_grant.status_code == 400
    assert other_grant.json()["error_code"] == "UNSUPPORTED_GRANT_TYPE"


def test_api_calls_need_a_bearer_token_and_the_api_version(shared: Go1Sandbox) -> None:
    client = Client(shared)
    bare = requests.get(shared.url + "/learning-objects",
                        headers={"Api-Version": "2025-01-01"}, timeout=5)
    assert bare.status_code == 401 and bare.json() == INVALID_CREDENTIALS
    no_version = requests.get(shared.url + "/learning-objects", timeout=5, headers={
        "Authorization": client.session.headers["Authorization"]})
    assert no_version.status_code == 400
    assert no_version.json()["error_code"] == "INVALID_API_VERSION"
    assert set(no_version.json()) == {"error_code", "message"}
    client.session.headers["Api-Version"] = "2024-01-01"
    assert client.get("/learning-objects").status_code == 400


# scopes -----------------------------------------------------------------------------------
def _ids(sb: Go1Sandbox) -> dict[str, str]:
    return {"lo": next(iter(sb.learning_objects)), "enrollment": next(iter(sb.enrollments)),
            "user": next(iter(sb.user_accounts))}


def test_the_default_token_carries_every_scope_the_integration_asks_for(shared: Go1Sandbox
                                                                         ) -> None:
    assert shared.scopes == {"lo.read", "enrollment.read", "user.read", "webhook.read",
                             "webhook.write"}
    client = Client(shared)
    for paths in SCOPED_ROUTES.values():
        for path in paths:
            assert client.get(path.format(**_ids(shared))).status_code == 200, path


@pytest.mark.parametrize("scope", sorted(SCOPED_ROUTES))
def test_a_missing_scope_is_401_missing_scopes_on_its_routes_only(sb: Go1Sandbox,
                                                                  scope: str) -> None:
    client = Client(sb)
    sb.scopes.discard(scope)  # the token issued before loses it too: scopes are read per call
    for needed, paths in SCOPED_ROUTES.items():
        for path in paths:
            response = client.get(path.format(**_ids(sb)))
            if needed == scope:
                assert response.status_code == 401, path
                assert response.json() == MISSING_SCOPES
                assert "WWW-Authenticate" not in response.headers
            else:
                assert response.status_code == 200, path
    client.login()  # the token endpoint needs no scope
    assert client.get(SCOPED_ROUTES[scope][0]).json() == MISSING_SCOPES
    sb.scopes.add(scope)
    assert client.get(SCOPED_ROUTES[scope][0]).status_code == 200


def test_the_scope_is_checked_after_the_token_and_before_anything_else(sb: Go1Sandbox) -> None:
    client = Client(sb)
    sb.scopes.discard("user.read")
    invalid = requests.get(sb.url + "/user-accounts", timeout=5, headers={
        "Authorization": "Bearer not-a-token", "Api-Version": "2025-01-01"})
    assert invalid.status_code == 401 and invalid.json() == INVALID_CREDENTIALS
    assert "WWW-Authenticate" in invalid.headers
    no_version = requests.get(sb.url + "/user-accounts", timeout=5, headers={
        "Authorization": client.session.headers["Authorization"]})
    assert no_version.status_code == 401 and no_version.json() == MISSING_SCOPES
    bad_limit = client.get("/user-accounts", limit=0)
    assert bad_limit.status_code == 401 and bad_limit.json() == MISSING_SCOPES
    missing = client.get("/user-accounts/1")  # no such account: the scope still comes first
    assert missing.status_code == 401 and missing.json() == MISSING_SCOPES
    sb.expire_tokens()
    expired = client.get("/user-accounts")
    assert expired.status_code == 401 and expired.json() == INVALID_CREDENTIALS


# routes -----------------------------------------------------------------------------------
def test_the_enrollment_list_is_served_at_the_gateway_path_by_default(shared: Go1Sandbox
                                                                      ) -> None:
    assert shared.enrollments_path == "/enrollments"
    client = Client(shared)
    listed = client.get("/enrollments", sort="updated_time", order="asc", limit=50)
    assert listed.status_code == 200
    assert listed.json() == {"total": len(shared.enrollments),
                             "hits": _window(shared, 0, 2**62)[:50]}
    one = listed.json()["hits"][0]["id"]
    assert client.get(f"/enrollments/{one}").json()["id"] == one
    beside = client.get(OPENAPI_SERVER_ENROLLMENTS, limit=50)
    assert beside.status_code == 404 and beside.json()["error_code"] == "NOT_FOUND"


def test_enrollments_path_moves_the_list_and_enrollments_then_answers_404() -> None:
    with Go1Sandbox(SMALL, enrollments_path=OPENAPI_SERVER_ENROLLMENTS).serve() as sb:
        assert sb.enrollments_path == OPENAPI_SERVER_ENROLLMENTS
        client = Client(sb)
        moved = client.get(OPENAPI_SERVER_ENROLLMENTS, sort="updated_time", order="asc",
                           limit=50)
        assert moved.status_code == 200
        assert moved.json() == {"total": len(sb.enrollments), "hits": _window(sb, 0, 2**62)[:50]}
        gone = client.get("/enrollments", limit=50)
        assert gone.status_code == 404
        assert set(gone.json()) == {"error_code", "message"}
        assert gone.json()["error_code"] == "NOT_FOUND"
        one = next(iter(sb.enrollments))
        assert client.get(f"/enrollments/{one}").status_code == 200  # unaffected
        sb.scopes.discard("enrollment.read")  # the moved list keeps its scope
        assert client.get(OPENAPI_SERVER_ENROLLMENTS).json() == MISSING_SCOPES
    for bad in ("enrollments", "/enrollments/", "/enrollments/{id}", "/user-accounts"):
        with pytest.raises(ValueError):
            Go1Sandbox(SMALL, enrollments_path=bad)


@pytest.mark.parametrize("path", [
    OPENAPI_SERVER_ENROLLMENTS, "/enrolment/enrollments",  # the OpenAPI's relative servers
    "/users", "/users/1", "/user-accounts/1/enrollments", "/oauth/token",  # GET: POST only
    "/portals",  # in the OpenAPI, but not modelled here
])
def test_routes_the_sandbox_does_not_serve_answer_404_or_405(shared: Go1Sandbox,
                                                             path: str) -> None:
    response = Client(shared).get(path)
    assert response.status_code == (405 if path == "/oauth/token" else 404), path
    code = "METHOD_NOT_ALLOWED" if path == "/oauth/token" else "NOT_FOUND"
    assert response.json()["error_code"] == code


# learning objects -----------------------------------------------------------------------
def test_library_scroll_returns_exactly_the_published_synced_library(shared: Go1Sandbox
                                                                     ) -> None:
    hits, calls = Client(shared).scroll_library(limit=7)
    expected = {lo for lo in shared.library
                if shared.learning_objects[lo]["core"]["type"] in SYNCED
                and shared.learning_objects[lo]["lifecycle"]["state"] == "published"}
    assert calls == -(-len(expected) // 7) + 1  # the pages with hits, then an empty one
    assert [h["lo_id"] for h in hits if h["lo_id"] in expected] == [h["lo_id"] for h in hits]
    assert {h["lo_id"] for h in hits} == expected and len(hits) == len(expected)
    for hit in hits:
        assert hit == shared.served_learning_object(hit["lo_id"])
    assert any(t not in SYNCED for t in
               (shared.learning_objects[lo]["core"]["type"] for lo in shared.library))


def test_total_of_a_scroll_counts_every_match(shared: Go1Sandbox) -> None:
    response = Client(shared).get("/learning-objects", collection="library", use_scroll="true",
                                  limit=5)
    body = response.json()
    assert set(body) == {"total", "hits", "next_scroll_id"}
    published = [lo for lo in shared.library
                 if shared.learning_objects[lo]["lifecycle"]["state"] == "published"]
    assert body["total"] == len(published) and len(body["hits"]) == 5


def test_include_selects_sections_and_core_is_the_default(shared: Go1Sandbox) -> None:
    client = Client(shared)
    base = {"id", "lo_id", "created_time", "updated_time", "updated_media_time",
            "updated_metadata_time"}
    plain = client.get("/learning-objects", limit=50).json()["hits"]
    assert plain and all(set(hit) == base | {"core"} for hit in plain)
    only = client.get("/learning-objects", limit=50, **{"include[]": "relevance"}).json()["hits"]
    assert all(set(hit) == base | {"relevance"} for hit in only)
    every = client.get("/learning-objects", limit=50,
                       **{"include[]": list(ALL_INCLUDES)}).json()["hits"]
    assert all(set(hit) == base | set(ALL_INCLUDES) for hit in every)
    bad = client.get("/learning-objects", **{"include[]": "everything"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER"


def test_state_defaults_to_published_and_retired_or_removed_go_alone(shared: Go1Sandbox
                                                                     ) -> None:
    client = Client(shared)

    def states(**params: Any) -> set[str]:
        response = client.get("/learning-objects", use_scroll="true", limit=5000,
                              **{"include[]": "lifecycle"}, **params)
        assert response.status_code == 200, response.text
        return {hit["lifecycle"]["state"] for hit in response.json()["hits"]}

    assert states() == {"published"}
    assert states(**{"state[]": "retired"}) == {"retired"}
    assert states(**{"state[]": "removed"}) == {"removed"}
    assert states(**{"state[]": ["draft", "published"]}) == {"draft", "published"}
    for mix in (["retired", "removed"], ["published", "retired"], ["draft", "removed"]):
        refused = client.get("/learning-objects", **{"state[]": mix})
        assert refused.status_code == 400
        assert refused.json()["error_code"] == "INVALID_PARAMETER"


def test_scroll_expires_after_its_ttl_since_last_use(sb: Go1Sandbox) -> None:
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    sb.set_now(t0)
    client = Client(sb)
    first = client.get("/learning-objects", collection="library", use_scroll="true", limit=3)
    scroll_id = first.json()["next_scroll_id"]
    sb.set_now(t0 + timedelta(seconds=250))
    assert client.get("/learning-objects", scroll_id=scroll_id).status_code == 200
    sb.set_now(t0 + timedelta(seconds=500))  # 250 s after its last use: still alive
    assert client.get("/learning-objects", scroll_id=scroll_id).status_code == 200
    sb.set_now(t0 + timedelta(seconds=801))
    expired = client.get("/learning-objects", scroll_id=scroll_id)
    assert expired.status_code == 404
    assert expired.json()["error_code"] == "SCROLL_ID_NOT_FOUND"
    malformed = client.get("/learning-objects", scroll_id="not a scroll id")
    assert malformed.status_code == 400 and malformed.json()["error_code"] == "INVALID_SCROLL_ID"


def test_offset_paging_is_capped_at_ten_thousand(shared: Go1Sandbox) -> None:
    client = Client(shared)
    for path in ("/learning-objects", ENROLLMENTS, "/user-accounts"):
        assert client.get(path, limit=50, offset=9950).status_code == 200
        capped = client.get(path, limit=50, offset=9951)
        assert capped.status_code == 400, path
        assert capped.json()["error_code"] == "RESULT_WINDOW_TOO_LARGE"
        assert client.get(path, limit=51).status_code == 400
        assert client.get(path, limit=0).status_code == 400
    assert client.get("/learning-objects", use_scroll="true", limit=5000).status_code == 200
    assert client.get("/learning-objects", use_scroll="true", limit=5001).status_code == 400


def test_learning_object_by_lo_id_or_content_id(shared: Go1Sandbox) -> None:
    client = Client(shared)
    lo_id, doc = next(iter(shared.learning_objects.items()))
    assert client.get(f"/learning-objects/{lo_id}").json() == \
        shared.served_learning_object(lo_id, ("core",))
    assert client.get(f"/learning-objects/{doc['id']}").json()["lo_id"] == lo_id
    assert client.get("/learning-objects/1").status_code == 404


# enrollments ----------------------------------------------------------------------------
def test_enrollment_window_is_inclusive_sorted_and_total_uncapped(big: Go1Sandbox) -> None:
    client = Client(big)
    wide = client.get(ENROLLMENTS, update_time_gte="2025-01-01T00:00:00Z",
                      update_time_lte="2026-11-01T00:00:00+00:00", sort="updated_time",
                      order="asc", limit=50)
    assert wide.status_code == 200
    assert wide.json()["total"] == len(big.enrollments) > 10_000
    middle = _window(big, 0, 2**62)[5000]
    edge = middle["updated_time"]
    exact = client.get(ENROLLMENTS, update_time_gte=edge, update_time_lte=edge,
                       sort="updated_time", order="asc", limit=50).json()
    assert middle["id"] in [hit["id"] for hit in exact["hits"]]
    gte = parse_us(edge)
    lte = gte + 20 * 86_400_000_000
    expected = _window(big, gte, lte)
    seen: list[dict[str, Any]] = []
    for offset in range(0, len(expected) + 50, 50):
        page = client.get(ENROLLMENTS, update_time_gte=edge,
                          update_time_lte=datetime.fromtimestamp(lte / 1e6, UTC).isoformat(),
                          sort="updated_time", order="asc", limit=50, offset=offset).json()
        assert page["total"] == len(expected)
        seen.extend(page["hits"])
    assert seen == expected
    descending = client.get(ENROLLMENTS, update_time_gte=edge, sort="updated_time",
                            order="desc", limit=50).json()["hits"]
    assert descending == _window(big, gte, 2**62)[::-1][:50]


@pytest.mark.parametrize("spelling", ["2025-06-01T00:00:00Z", "2025-06-01T00:00:00+00:00",
                                      "2025-06-01T00:00:00.000Z", "2025-06-01T02:00:00+02:00",
                                      "2025-06-01T00:00:00.000000+0000"])
def test_window_bounds_accept_every_iso_spelling(shared: Go1Sandbox, spelling: str) -> None:
    response = Client(shared).get(ENROLLMENTS, update_time_gte=spelling, sort="updated_time",
                                  order="asc", limit=1)
    assert response.status_code == 200
    assert response.json()["total"] == len(_window(shared, parse_us("2025-06-01T00:00:00Z"),
                                                   2**62))


def test_bad_enrollment_parameters_are_400(shared: Go1Sandbox) -> None:
    client = Client(shared)
    for params in ({"update_time_gte": "yesterday"}, {"update_time_lte": "2025-13-01T00:00:00Z"},
                   {"order": "up"}, {"sort": "title"}, {"status": "pending"}, {"limit": "ten"}):
        response = client.get(ENROLLMENTS, **params)
        assert response.status_code == 400, params
        assert response.json()["error_code"] == "INVALID_PARAMETER"


def test_enrollment_filters_and_default_order(shared: Go1Sandbox) -> None:
    client = Client(shared)
    everything = list(shared.enrollments.values())
    completed = client.get(ENROLLMENTS, status="completed,in-progress", limit=50).json()
    assert completed["total"] == sum(e["status"] in ("completed", "in-progress")
                                     for e in everything)
    one = everything[0]
    by_user = client.get(ENROLLMENTS, user_account_id=one["user_account_id"], limit=50).json()
    assert by_user["total"] == sum(e["user_account_id"] == one["user_account_id"]
                                   for e in everything)
    by_lo = client.get(ENROLLMENTS, lo_ids=one["lo_id"], limit=50).json()
    assert {hit["lo_id"] for hit in by_lo["hits"]} == {one["lo_id"]}
    default = client.get(ENROLLMENTS, limit=50).json()["hits"]  # created_time, descending
    newest_first = sorted(everything, key=lambda e: (parse_us(e["created_time"]), int(e["id"])),
                          reverse=True)
    assert default == newest_first[:50]
    assert client.get(ENROLLMENTS, limit=50, offset=50).json()["hits"] == newest_first[50:100]
    ascending = client.get(ENROLLMENTS, order="asc", limit=50, offset=50).json()["hits"]
    assert ascending == newest_first[::-1][50:100]
    assert set(default[0]) >= {"id", "lo_id", "user_account_id", "status", "pass", "result",
                               "created_time", "updated_time", "start_date", "end_date",
                               "enrollment_type", "due_date", "assign_date"}


def test_served_data_has_the_awkward_cases(shared: Go1Sandbox) -> None:
    enrollments = list(shared.enrollments.values())
    statuses = {e["status"] for e in enrollments}
    assert statuses == {"not-started", "in-progress", "completed", "assigned", "pending"}
    assert any(e["status"] == "in-progress" and e["pass"] is True for e in enrollments)
    assert any(e["status"] == "completed" and e["pass"] is False for e in enrollments)
    assert any(e["pass"] is None for e in enrollments)
    assert all(parse_us(e["created_time"]) <= parse_us(e["updated_time"]) for e in enrollments)
    stamps = " ".join(e["updated_time"] for e in enrollments)
    for ending in ("Z ", "+00:00", "+0000"):
        assert ending in stamps + " "
    assert any(len(e["updated_time"]) == 24 for e in enrollments)  # ….123Z
    pairs = {(e["user_account_id"], e["lo_id"]) for e in enrollments}
    assert all((a["user_account_id"], a["lo_id"]) in pairs
               for a in shared.archived_enrollments.values())
    assert shared.archived_enrollments
    languages = {d["relevance"]["language"] for d in shared.learning_objects.values()}
    assert {"", "xx-YY", "he", "es-419"} <= languages
    types = {d["core"]["type"] for d in shared.learning_objects.values()}
    assert types == set(SYNCED) | {"playlist", "award"}
    emails = [u["user"].get("email") for u in shared.user_accounts.values()]
    assert None in emails and "" in emails


def test_archived_enrollments_are_not_listed(shared: Go1Sandbox) -> None:
    client = Client(shared)
    listed = {hit["id"] for offset in range(0, len(shared.enrollments), 50) for hit in
              client.get(ENROLLMENTS, sort="updated_time", order="asc", limit=50,
                         offset=offset).json()["hits"]}
    assert listed == set(shared.enrollments)
    assert not listed & set(shared.archived_enrollments)
    archived = next(iter(shared.archived_enrollments))
    assert client.get(f"/enrollments/{archived}").status_code == 404
    one = next(iter(shared.enrollments))
    slim = client.get(f"/enrollments/{one}").json()
    assert slim["id"] == one and "parent_enrollment_id" in slim


# users ------------------------------------------------------------------------------------
def test_user_accounts_by_id_and_list(shared: Go1Sandbox) -> None:
    client = Client(shared)
    user_id, account = next(iter(shared.user_accounts.items()))
    found = client.get(f"/user-accounts/{user_id}")
    assert found.status_code == 200 and found.json() == account
    assert set(found.json()["user"]) >= {"given_name", "family_name"}
    for missing in ("1", shared.deleted_user_ids[0]):
        response = client.get(f"/user-accounts/{missing}")
        assert response.status_code == 404
        assert response.json()["error_code"] == "USER_ACCOUNT_NOT_FOUND"
    listed = client.get("/user-accounts", limit=50).json()
    assert listed["total"] == len(shared.user_accounts) <= 50


def test_user_list_hits_are_short_by_default(shared: Go1Sandbox) -> None:
    """``{"id", "status"}`` only, as public client fixtures show them: no email to read."""
    assert shared.user_list_shape == "short"
    listed = Client(shared).get("/user-accounts", limit=50).json()
    assert all(set(hit) == {"id", "status"} for hit in listed["hits"])
    accounts = list(shared.user_accounts.values())
    assert listed["hits"] == [{"id": a["id"], "status": a["status"]} for a in accounts]
    assert {hit["status"] for hit in listed["hits"]} == {"active", "inactive"}


def test_user_list_long_shape_serves_the_full_accounts(sb: Go1Sandbox) -> None:
    client = Client(sb)
    sb.user_list_shape = "long"
    sb.edit_email(next(iter(sb.user_accounts)), "changed@example.com")
    long = client.get("/user-accounts", limit=50).json()["hits"]
    assert long == list(sb.user_accounts.values())
    assert long[0]["user"]["email"] == "changed@example.com"
    assert long[0] == client.get(f"/user-accounts/{long[0]['id']}").json()
    with pytest.raises(ValueError):
        sb.user_list_shape = "full"
    assert sb.user_list_shape == "long"
    sb.user_list_shape = "short"
    assert client.get("/user-accounts", limit=50).json()["hits"] == \
        [{"id": hit["id"], "status": hit["status"]} for hit in long]


# torture knobs ----------------------------------------------------------------------------
def test_a_lone_surrogate_is_served_as_its_escape(sb: Go1Sandbox) -> None:
    """Plain UTF-8 cannot carry a lone surrogate: it goes out as ``\\ud83d``, which Python
    reads back as the same cut string."""
    lo = sorted(sb.library)[0]
    sb.edit_title(lo, "Fire safety \ud83d")
    response = Client(sb).get(f"/learning-objects/{lo}", **{"include[]": "core"})
    assert response.status_code == 200
    assert b'"title":"Fire safety \\ud83d"' in response.content
    assert response.json()["core"]["title"] == "Fire safety \ud83d"


def test_a_raw_record_replaces_one_record_everywhere_and_keeps_the_totals(
        sb: Go1Sandbox) -> None:
    client = Client(sb)
    enrollment = sorted(sb.enrollments)[0]
    before = client.get(ENROLLMENTS, limit=50, sort="updated_time", order="asc").json()
    sb.serve_raw("enrollment", enrollment, "42")
    user = next(iter(sb.user_accounts))
    sb.serve_raw("user_account", user, "[]")
    after = client.get(ENROLLMENTS, limit=50, sort="updated_time", order="asc").json()
    assert after["total"] == before["total"]
    assert after["hits"] == [42 if h["id"] == enrollment else h for h in before["hits"]]
    assert client.get(f"/enrollments/{enrollment}").json() == 42
    assert client.get(f"/user-accounts/{user}").json() == []
    sb.user_list_shape = "long"
    assert client.get("/user-accounts", limit=1).json()["hits"] == [[]]
    sb.serve_raw("enrollment", enrollment, None)
    assert client.get(f"/enrollments/{enrollment}").json()["id"] == enrollment
    with pytest.raises(ValueError):
        sb.serve_raw("course", "1", "5")


def test_short_enrollment_pages_drop_hits_and_keep_the_total(sb: Go1Sandbox) -> None:
    client = Client(sb)
    params = {"limit": 50, "sort": "updated_time", "order": "asc"}
    whole = client.get(ENROLLMENTS, offset=50, **params).json()
    sb.short_enrollment_pages(times=2, drop=3, offset=50)
    assert len(client.get(ENROLLMENTS, offset=0, **params).json()["hits"]) == 50  # other offset
    for _ in range(2):
        short = client.get(ENROLLMENTS, offset=50, **params).json()
        assert short["total"] == whole["total"] and short["hits"] == whole["hits"][:-3]
    assert client.get(ENROLLMENTS, offset=50, **params).json() == whole  # used up
    sb.short_enrollment_pages(times=None, drop=1)
    assert all(len(client.get(ENROLLMENTS, offset=o, **params).json()["hits"]) == 49
               for o in (0, 100))
    sb.short_enrollment_pages(times=0)
    assert len(client.get(ENROLLMENTS, offset=0, **params).json()["hits"]) == 50


def test_descriptions_padded_by_the_seed_and_an_added_account() -> None:
    seed = Go1Seed(seed=11, learning_objects=40, users=5, enrollments=10,
                   description_bytes=4096)
    with Go1Sandbox(seed).serve() as sb:
        plain = Go1Sandbox(Go1Seed(seed=11, learning_objects=40, users=5, enrollments=10))
        for lo, doc in sb.learning_objects.items():
            assert len(doc["core"]["description"]) >= 4096
            assert doc["core"]["description"].startswith(
                plain.learning_objects[lo]["core"]["description"])
            assert doc["core"]["title"] == plain.learning_objects[lo]["core"]["title"]
        sb.add_user_account("a/b?c", "odd@example.com")
        assert sb.user_accounts["a/b?c"]["user"]["email"] == "odd@example.com"
        with pytest.raises(ValueError):
            sb.add_user_account("a/b?c", None)
        listed = Client(sb).get("/user-accounts", limit=50).json()
        assert listed["total"] == 6 and listed["hits"][-1] == {"id": "a/b?c", "status": "active"}


# faults -----------------------------------------------------------------------------------
def test_429_with_and_without_retry_after(sb: Go1Sandbox) -> None:
    client = Client(sb)
    sb.faults.add("429", path="/learning-objects", retry_after=2)
    sb.faults.add("429", path="/learning-objects")
    with_header = client.get("/learning-objects")
    assert with_header.status_code == 429 and with_header.headers["Retry-After"] == "2"
    assert with_header.json()["error_code"] == "TOO_MANY_REQUESTS"
    without = client.get("/learning-objects")
    assert without.status_code == 429 and "Retry-After" not in without.headers
    assert client.get("/learning-objects").status_code == 200


def test_server_errors_and_path_filter(sb: Go1Sandbox) -> None:
    client = Client(sb)
    sb.faults.add("500", path=ENROLLMENTS)
    sb.faults.add("502", path=ENROLLMENTS)
    sb.faults.add("503", path=ENROLLMENTS, times=2, retry_after=1)
    assert client.get("/user-accounts").status_code == 200  # other paths are untouched
    assert client.get(ENROLLMENTS).json()["error_code"] == "INTERNAL_SERVER_ERROR"
    bad_gateway = client.get(ENROLLMENTS)
    assert bad_gateway.status_code == 502
    assert bad_gateway.headers["Content-Type"].startswith("text/html")
    assert [client.get(ENROLLMENTS).status_code for _ in range(3)] == [503, 503, 200]
    assert [r.status for r in sb.requests[-6:]] == [200, 500, 502, 503, 503, 200]


def test_dropped_connection_then_recovery(sb: Go1Sandbox) -> None:
    client = Client(sb)
    sb.faults.add("drop", path="/user-accounts")
    with pytest.raises(requests.ConnectionError):
        client.get("/user-accounts")
    assert client.get("/user-accounts").status_code == 200
    assert sb.requests[-2].status == 0


def test_401_fault_rejects_one_request_and_expire_tokens_rejects_all(sb: Go1Sandbox) -> None:
    client = Client(sb)
    sb.faults.add("401")
    rejected = client.get("/learning-objects")
    assert rejected.status_code == 401 and rejected.json() == INVALID_CREDENTIALS
    assert client.get("/learning-objects").status_code == 200  # the token is still good
    sb.expire_tokens()
    expired = client.get("/learning-objects")
    assert expired.status_code == 401 and expired.json() == INVALID_CREDENTIALS
    client.login()
    assert client.get("/learning-objects").status_code == 200


def test_tokens_expire_after_their_ttl(sb: Go1Sandbox) -> None:
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    sb.set_now(t0)
    sb.token_ttl_seconds = 60
    client = Client(sb)
    sb.set_now(t0 + timedelta(seconds=59))
    assert client.get("/user-accounts").status_code == 200
    sb.set_now(t0 + timedelta(seconds=60))
    assert client.get("/user-accounts").status_code == 401


def test_latency_and_seeded_random_faults(sb: Go1Sandbox) -> None:
    client = Client(sb)
    sb.faults.latency_ms = 40
    started = time.perf_counter()
    client.get("/user-accounts")
    assert time.perf_counter() - started >= 0.04
    sb.faults.clear()

    def pattern() -> list[int]:
        sb.faults.clear()
        sb.faults.random("503", 0.3, seed=4, path="/user-accounts")
        return [client.get("/user-accounts").status_code for _ in range(30)]

    first = pattern()
    assert first == pattern() and 503 in first and 200 in first


def test_request_log_records_what_the_client_sent(sb: Go1Sandbox) -> None:
    sb.clear_requests()
    client = Client(sb)
    client.get(ENROLLMENTS, sort="updated_time", **{"status": ["completed"]})
    token_request, call = sb.requests
    assert token_request.form is not None and token_request.form["grant_type"] == \
        "client_credentials"
    assert call.path == ENROLLMENTS and call.query["sort"] == ["updated_time"]
    assert call.headers["api-version"] == "2025-01-01" == call.headers["Api-Version"]
    assert call.status == 200


# determinism and changes --------------------------------------------------------------------
def test_same_seed_serves_identical_data() -> None:
    seed = Go1Seed(seed=21, learning_objects=60, users=15, enrollments=150)
    bodies = []
    for _ in range(2):
        with Go1Sandbox(seed).serve() as sandbox:
            client = Client(sandbox)
            hits, _ = client.scroll_library(limit=25)
            pages = [client.get(ENROLLMENTS, sort="updated_time", order="asc", limit=50,
                                offset=offset).json() for offset in range(0, 150, 50)]
            users = client.get("/user-accounts", limit=50).json()
            bodies.append(json.dumps([hits, pages, users], sort_keys=True))
    assert bodies[0] == bodies[1]
    other = Go1Sandbox(Go1Seed(seed=22, learning_objects=60, users=15, enrollments=150))
    assert list(other.learning_objects.values()) != json.loads(bodies[0])[0]


def test_enrollment_changes_bump_updated_time_and_show_up(sb: Go1Sandbox) -> None:
    now = datetime(2026, 11, 20, 8, 30, 15, tzinfo=UTC)
    sb.set_now(now)
    client = Client(sb)
    open_one = next(e for e in sb.enrollments.values() if e["status"] == "in-progress")
    sb.complete_enrollment(open_one["id"], passed=False)
    user, lo = next(iter(sb.user_accounts)), next(iter(sb.learning_objects))
    pairs = {(e["user_account_id"], e["lo_id"]) for e in sb.enrollments.values()}
    lo = next(lo for lo in sb.learning_objects if (user, lo) not in pairs)
    started = sb.start_enrollment(lo, user)
    with pytest.raises(ValueError):
        sb.start_enrollment(lo, user)
    renewed = sb.reenroll(open_one["id"])
    recent = client.get(ENROLLMENTS, update_time_gte="2026-11-20T08:30:15Z",
                        sort="updated_time", order="asc", limit=50).json()
    assert recent["total"] == 2 and {h["id"] for h in recent["hits"]} == {started, renewed}
    assert all(parse_us(h["updated_time"]) == parse_us("2026-11-20T08:30:15Z")
               for h in recent["hits"])
    assert open_one["id"] in sb.archived_enrollments
    assert sb.archived_enrollments[open_one["id"]]["status"] == "completed"
    assert sb.archived_enrollments[open_one["id"]]["pass"] is False
    renewed_hit = client.get(f"/enrollments/{renewed}").json()
    assert renewed_hit["status"] == "in-progress" and int(renewed) > int(open_one["id"])
    assert renewed_hit["user_account_id"] == open_one["user_account_id"]


def test_catalog_changes_bump_updated_time_and_show_up(sb: Go1Sandbox) -> None:
    sb.set_now(datetime(2026, 11, 21, 7, 40, tzinfo=UTC))
    client = Client(sb)
    before, _ = client.scroll_library(limit=50)
    retired, dropped, renamed = (hit["lo_id"] for hit in before[:3])
    sb.retire(retired)
    sb.remove_from_library(dropped)
    sb.edit_title(renamed, 'Renamed "again" \u2014 ok')
    after, _ = client.scroll_library(limit=50)
    after_ids = {hit["lo_id"] for hit in after}
    assert retired not in after_ids and dropped not in after_ids
    renamed_hit = next(hit for hit in after if hit["lo_id"] == renamed)
    assert renamed_hit["core"]["title"] == 'Renamed "again" \u2014 ok'
    assert parse_us(renamed_hit["updated_time"]) == parse_us("2026-11-21T07:40:00Z")
    retired_list = client.get("/learning-objects", collection="library", use_scroll="true",
                              limit=5000, **{"state[]": "retired", "include[]": "lifecycle"})
    assert retired in {hit["lo_id"] for hit in retired_list.json()["hits"]}
    sb.publish(retired)
    sb.add_to_library(dropped)
    restored, _ = client.scroll_library(limit=50)
    assert {retired, dropped} <= {hit["lo_id"] for hit in restored}


def test_process_mode_prints_its_url_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.go1", "--port", "0", "--learning-objects", "20",
         "--users", "5", "--enrollments", "30", "--seed", "3", "--latency-ms", "1",
         "--enrollments-path", OPENAPI_SERVER_ENROLLMENTS],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("GO1_SANDBOX_URL=http://127.0.0.1:")
        url = first.split("=", 1)[1]
        exports = [process.stdout.readline().strip() for _ in range(5)]
        assert exports[0] == f"export GO1_AUTH_URL={url}/oauth/token"
        token = requests.post(url + "/oauth/token", data={
            "client_id": "sandbox-go1-client", "client_secret": "sandbox-go1-secret",
            "grant_type": "client_credentials"}, timeout=5)
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}",
                   "Api-Version": "2025-01-01"}
        moved = requests.get(url + OPENAPI_SERVER_ENROLLMENTS, headers=headers, timeout=5)
        assert moved.status_code == 200 and moved.json()["total"] == 30
        assert requests.get(url + "/enrollments", headers=headers, timeout=5).status_code == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
