"""The 360Learning sandbox, seen from a client: plain ``requests`` against a served sandbox.

Every test asserts what a client would see (status codes, bodies, headers) and, where it
matters, what the platform then holds. Served bodies are checked against the OpenAPI's response
schemas, so the sandbox cannot drift from the published files unnoticed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the project is not necessarily installed in the venv
    sys.path.insert(0, str(ROOT))

from sandbox.l360 import L360Sandbox  # noqa: E402
from sandbox.l360.app import DEFAULT_SCOPES  # noqa: E402
from sandbox.l360.spec import load_spec  # noqa: E402

LEARNERS = ("ada@acme-corp.com", "alan@acme-corp.com", "grace@acme-corp.com",
            "edsger@acme-corp.com")
COURSES = "/api/v2/bulk/integrations/{}/courses"
STATS = "/api/v2/bulk/integrations/{}/stats"
ARCHIVE = "/api/v2/courses/{}/archive"
#: every route the sandbox serves and the scope its OpenAPI description names, written out by
#: hand so that a wrong reading of the descriptions (spec.py) shows here
ROUTE_SCOPES: dict[tuple[str, str], str | None] = {
    ("POST", "/api/v2/oauth2/token"): None,
    ("GET", "/api/v2/integrations"): "integrations:read",
    ("POST", "/api/v2/integrations"): "integrations:write",
    ("GET", "/api/v2/integrations/{integrationId}/courses/{externalId}"): "integrations:read",
    ("GET", "/api/v2/users"): "users:read",
    ("GET", "/api/v2/users/{userId}"): "users:read",
    ("GET", "/api/v2/groups/{groupId}"): "groups:read",
    ("GET", "/api/v2/groups/{groupId}/catalog/{contentType}-ids"): "groups:read",
    ("GET", "/api/v2/groups/{groupId}/library/{contentType}-ids"): "groups:read",
    ("GET", "/api/v2/courses/stats"): "courseStats:read",
    ("GET", "/api/v2/courses"): "courses:read",
    ("GET", "/api/v2/courses/{courseId}"): "courses:read",
    ("PUT", "/api/v2/courses/{courseId}/archive"): "courses:write",
    ("PUT", "/api/v2/bulk/integrations/{integrationId}/courses"): "integrations:bulk",
    ("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses"): "integrations:bulk",
    ("POST", "/api/v2/bulk/integrations/{integrationId}/stats"): "integrations:bulk",
    ("POST", "/api/v2/bulk/groups/catalog"): "groups:bulk",
    ("DELETE", "/api/v2/bulk/groups/catalog"): "groups:bulk",
    ("POST", "/api/v2/bulk/groups/library"): "groups:bulk",
    ("DELETE", "/api/v2/bulk/groups/library"): "groups:bulk",
    ("GET", "/api/v2/bulk/operations"): "bulkOperations:read",
    ("GET", "/api/v2/bulk/operations/{bulkOperationId}"): "bulkOperations:read",
    ("GET", "/api/v2/bulk/operations/{bulkOperationId}/results"): "bulkOperations:read",
}
INVALID_SCOPE = {"error": {"code": "invalid_scope", "message": "The given access token does "
                           "not have the required OAuth scope to execute the request."}}


def course(external_id: str, **fields: Any) -> dict[str, Any]:
    item = {"externalId": external_id, "name": f"Course {external_id}",
            "launchUrl": f"https://acme.mygo1.com/play/{external_id}", "defaultLang": "en",
            "sources": [{"name": "Go1"}], "subjects": ["Leadership"]}
    item.update(fields)
    return item


def stat(external_id: str, mail: str, first: str, last: str, progress: float,
         **fields: Any) -> dict[str, Any]:
    item = {"courseIdentifier": {"type": "externalId", "value": external_id},
            "userIdentifier": {"type": "mail", "value": mail}, "progress": progress,
            "timeSpent": 1, "firstActivityAt": first, "lastActivityAt": last}
    item.update(fields)
    return item


def conforms(method: str, path: str, status: int, body: Any) -> None:
    """The body is what the OpenAPI documents for that operation and status."""
    validator = load_spec().response_validator(method, path, status)
    errors = [error.message for error in validator.iter_errors(body)]
    assert not errors, errors[:3]


class Client:
    """A minimal 360Learning client: a token, the two headers, waits out ``tooManyRequests``."""

    def __init__(self, sb: L360Sandbox) -> None:
        self.sb = sb
        self.session = requests.Session()
        self.session.headers["360-api-version"] = "v2.0"
        response = self.token()
        assert response.status_code == 200, response.text
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def token(self, **overrides: Any) -> requests.Response:
        body = {"grant_type": "client_credentials", "client_id": self.sb.client_id,
                "client_secret": self.sb.client_secret, **overrides}
        return requests.post(self.sb.url + "/api/v2/oauth2/token", json=body, timeout=5)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.sb.url + path
        for _ in range(50):
            response = self.session.request(method, url, timeout=5, **kwargs)
            if response.status_code != 429 or response.json() != {"error": "tooManyRequests"}:
                return response
            time.sleep(0.05)
        raise AssertionError("rate limited for too long")

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params)

    def get_all(self, path: str, **params: Any) -> list[Any]:
        """Every page, following ``Link: rel="next"``."""
        response = self.get(path, **params)
        items: list[Any] = []
        while True:
            assert response.status_code == 200, response.text
            items.extend(response.json())
            if "next" not in response.links:
                return items
            response = self.call("GET", response.links["next"]["url"])

    def submit(self, method: str, path: str, items: list[dict[str, Any]]) -> str:
        response = self.call(method, path, json={"input": items})
        assert response.status_code == 202, response.text
        location = response.headers["Location"]
        assert location.startswith(self.sb.url + "/api/v2/bulk/operations/")
        return location.rsplit("/", 1)[1]

    def wait(self, op_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status = self.get(f"/api/v2/bulk/operations/{op_id}").json()
            if status["status"] in ("completed", "error"):
                return dict(status)
            time.sleep(0.02)
        raise AssertionError(f"operation {op_id} did not finish")

    def results(self, op_id: str) -> list[dict[str, Any]]:
        response = self.get(f"/api/v2/bulk/operations/{op_id}/results")
        assert response.status_code == 200, response.text
        return list(response.json())

    def run(self, method: str, path: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Submit, wait until completed, return the results."""
        op_id = self.submit(method, path, items)
        assert self.wait(op_id)["status"] == "completed"
        return self.results(op_id)

    def user_id(self, mail: str) -> str:
        found = self.get("/api/v2/users", **{"mail[eq]": mail}).json()
        assert len(found) == 1
        return str(found[0]["_id"])

    def integration(self, name: str = "Go1") -> str:
        found = self.get("/api/v2/integrations", **{"externalPlatform[eq]": name}).json()
        if found:
            return str(found[0]["_id"])
        response = self.call("POST", "/api/v2/integrations", json={
            "externalPlatform": name, "groupId": self.sb.group_ids[0],
            "authorId": self.user_id(self.sb.admin_email)})
        assert response.status_code == 201, response.text
        return str(response.json()["_id"])

    def attempts(self, course_id: str, user_id: str) -> list[dict[str, Any]]:
        return self.get_all("/api/v2/courses/stats",
                            **{"courseId[eq]": course_id, "userId[eq]": user_id})


@pytest.fixture
def sb() -> Iterator[L360Sandbox]:
    sandbox = L360Sandbox(learner_emails=LEARNERS, seed=7).serve()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def client(sb: L360Sandbox) -> Client:
    return Client(sb)


@pytest.fixture
def with_course(sb: L360Sandbox, client: Client) -> tuple[str, str]:
    """An integration and one course ``c1`` in it: ``(integration_id, course_id)``."""
    integration = client.integration()
    [result] = client.run("PUT", COURSES.format(integration), [course("c1")])
    return integration, str(result["resourceId"])


# token, headers, errors -------------------------------------------------------------------
def test_token_is_json_only_and_says_why_it_refuses(sb: L360Sandbox, client: Client) -> None:
    ok = client.token()
    assert ok.status_code == 200
    body = ok.json()
    conforms("POST", "/api/v2/oauth2/token", 200, {**body, "expires_in": 3600})
    assert body["token_type"] == "Bearer" and body["access_token"]
    seen = {type(client.token().json()["expires_in"]) for _ in range(12)}
    assert seen == {int, str}  # the contract: expires_in may come as a string ("3600")
    assert client.token(client_secret="wrong").json() == {"error": "invalid_client"}
    assert client.token(client_secret="wrong").status_code == 401
    refused = client.token(grant_type="password")
    assert (refused.status_code, refused.json()) == (400, {"error": "unsupported_grant_type"})
    form = requests.post(sb.url + "/api/v2/oauth2/token", timeout=5, data={
        "grant_type": "client_credentials", "client_id": sb.client_id,
        "client_secret": sb.client_secret})
    assert (form.status_code, form.json()) == (400, {"error": "invalid_request"})
    missing = requests.post(sb.url + "/api/v2/oauth2/token", json={
        "grant_type": "client_credentials"}, timeout=5)
    assert (missing.status_code, missing.json()) == (400, {"error": "invalid_request"})


def test_every_call_needs_a_valid_token_and_the_version_header(sb: L360Sandbox,
                                                               client: Client) -> None:
    assert client.get("/api/v2/users").status_code == 200
    anonymous = requests.get(sb.url + "/api/v2/users", headers={"360-api-version": "v2.0"},
                             timeout=5)
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "invalid_token"})
    del client.session.headers["360-api-version"]
    no_version = client.get("/api/v2/users")
    assert no_version.status_code == 400
    assert no_version.json()["error"]["code"] == "invalidInput"
    assert "360-api-version" in no_version.json()["error"]["message"]
    client.session.headers["360-api-version"] = "v1.0"
    assert client.get("/api/v2/users").status_code == 400
    client.session.headers["360-api-version"] = "v2.0"
    sb.expire_tokens()
    assert client.get("/api/v2/users").json() == {"error": "invalid_token"}


def test_gateway_faults_answer_in_360learning_shapes(sb: L360Sandbox, client: Client) -> None:
    sb.faults.add("503", path="/api/v2/users", retry_after=2)
    sb.faults.add("401", path="/api/v2/users")
    unavailable = client.get("/api/v2/users")
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "2"
    assert unavailable.json()["error"]["code"] == "serviceUnavailable"
    assert client.get("/api/v2/users").json() == {"error": "invalid_token"}
    assert client.get("/api/v2/users").status_code == 200  # the token was never revoked
    assert client.get("/api/v2/nowhere").json()["error"]["code"] == "notFound"


def test_invalid_bodies_and_queries_get_the_documented_400(client: Client) -> None:
    integration = client.integration()
    nameless = course("c1")
    del nameless["name"]
    response = client.call("PUT", COURSES.format(integration),
                           json={"input": [course("c0"), nameless]})
    assert response.status_code == 400
    conforms("PUT", "/api/v2/bulk/integrations/{integrationId}/courses", 400, response.json())
    assert response.json()["error"]["code"] == "invalidInput"
    assert "input[1]" in response.json()["error"]["message"]
    assert "name" in response.json()["error"]["message"]
    response = client.call("POST", STATS.format(integration), json={"input": [
        stat("c1", LEARNERS[0], "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 10,
             timeSpent=0)]})
    assert response.status_code == 400 and "timeSpent" in response.json()["error"]["message"]
    response = client.call("POST", STATS.format(integration), json={"input": [
        stat("c1", LEARNERS[0], "2024-01-01", "2024-01-01T00:00:00Z", 10)]})
    assert response.status_code == 400 and "date-time" in response.json()["error"]["message"]
    bad: Any
    for bad in ({"input": {"externalId": "c1"}}, {"items": []}, [course("c1")]):
        response = client.call("PUT", COURSES.format(integration), json=bad)
        assert response.json() == {"error": {
            "code": "invalidInput", "message": "The input of a bulk operation must be an array."}}
    response = client.call("DELETE", COURSES.format(integration),
                           json={"input": [{"externalId": str(n)} for n in range(1001)]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "inputTooLong"
    response = client.get("/api/v2/courses/stats", **{"courseId[eq]": "not-an-object-id"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalidInput"
    response = client.call("POST", "/api/v2/integrations", json={"externalPlatform": "X"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalidInput"
    missing = client.call("PUT", COURSES.format("0" * 24), json={"input": [course("c1")]})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "integrationNotFound"


def test_only_documented_operations_are_served(sb: L360Sandbox, client: Client,
                                               with_course: tuple[str, str]) -> None:
    integration, course_id = with_course
    served = sb._app.router.routes()
    assert sorted(served) == sorted(ROUTE_SCOPES)
    published = set(load_spec().paths())
    assert all(route in published for route in served)
    for path in (f"/api/v2/users/{sb.admin_id}/whatever", f"/api/v2/integrations/{integration}"
                 "/courses", f"/api/v2/courses/{course_id}/stats", "/api/v2/course",
                 f"/api/v2/users/{sb.admin_id}/custom-links",  # published, but not served
                 "/api/v1/users", "/api/v2/bulk/integrations/courses"):
        response = client.get(path)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "notFound"), \
            path


def test_each_route_needs_the_scope_its_operation_names(sb: L360Sandbox) -> None:
    """The scopes the sandbox checks are the OpenAPI descriptions' own, and its token carries
    every one of them by default."""
    assert {route: load_spec().operation(*route).scope for route in ROUTE_SCOPES} == ROUTE_SCOPES
    assert sorted(sb.scopes) == sorted(DEFAULT_SCOPES)


@pytest.mark.parametrize("removed", DEFAULT_SCOPES)
def test_a_missing_scope_answers_403_invalid_scope(sb: L360Sandbox, client: Client,
                                                   removed: str) -> None:
    """Every operation that needs the removed scope is refused, without naming it; every other
    operation still gets past the gate."""
    sb.faults_360.rate_limits = False
    sb.scopes.discard(removed)
    needing = [route for route, scope in ROUTE_SCOPES.items() if scope == removed]
    assert needing
    for method, pattern in ROUTE_SCOPES:
        if pattern == "/api/v2/oauth2/token":
            continue
        path = pattern.replace("{contentType}", "course").replace("{externalId}", "c1")
        for name in ("integrationId", "userId", "groupId", "courseId", "bulkOperationId"):
            path = path.replace(f"{{{name}}}", "a" * 24)
        response = client.call(method, path, json={"input": []} if method != "GET" else None)
        if (method, pattern) in needing:
            assert response.status_code == 403, (method, path, response.text)
            conforms(method, pattern, 403, response.json())
            assert response.json() == INVALID_SCOPE
            assert removed not in response.text and "scope:" not in response.text
        else:
            assert response.status_code != 403, (method, path, response.text)
    assert client.token().status_code == 200  # the token endpoint needs no scope


def test_scopes_are_checked_after_the_token_and_header_before_limits_and_body(
        sb: L360Sandbox, client: Client, with_course: tuple[str, str]) -> None:
    integration, course_id = with_course
    sb.scopes.discard("bulkOperations:read")
    op_id = client.submit("PUT", COURSES.format(integration), [course("c2")])  # still allowed
    assert client.get(f"/api/v2/bulk/operations/{op_id}").json() == INVALID_SCOPE
    assert client.get("/api/v2/bulk/operations").status_code == 403
    assert client.get(f"/api/v2/courses/{course_id}").status_code == 200
    sb.scopes.add("bulkOperations:read")  # a live set: the same token works again
    assert client.wait(op_id)["status"] == "completed"
    sb.scopes.discard("courses:write")
    broken = client.call("PUT", ARCHIVE.format(course_id), json={"archived": "yes"})
    assert broken.json() == INVALID_SCOPE  # not the body's 400
    anonymous = requests.put(sb.url + ARCHIVE.format(course_id), json={"archived": True},
                             headers={"360-api-version": "v2.0"}, timeout=5)
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "invalid_token"})
    no_version = client.session.put(sb.url + ARCHIVE.format(course_id), json={"archived": True},
                                    headers={"360-api-version": "v1.0"}, timeout=5)
    assert no_version.json()["error"]["code"] == "invalidInput"
    sb.reset_rate_limits()
    refused = [client.session.put(sb.url + ARCHIVE.format(course_id), timeout=5,
                                  json={"archived": True}).status_code for _ in range(15)]
    assert refused == [403] * 15  # refused before the rate limit, and not counted by it
    admin = client.user_id(sb.admin_email)
    created = client.session.post(sb.url + "/api/v2/integrations", timeout=5, json={
        "externalPlatform": "Other", "groupId": sb.group_ids[0], "authorId": admin})
    assert created.status_code == 201
    sb.faults.add("403", path="/api/v2/users")  # an injected 403 has the same documented body
    assert client.get("/api/v2/users").json() == INVALID_SCOPE
    assert sb.courses[(integration, "c1")]["archived"] is False


# users, groups, integrations --------------------------------------------------------------
def test_users_are_found_by_mail_and_listed_page_by_page(sb: L360Sandbox,
                                                         client: Client) -> None:
    found = client.get("/api/v2/users", **{"mail[eq]": "ada@acme-corp.com"})
    conforms("GET", "/api/v2/users", 200, found.json())
    assert [u["mail"] for u in found.json()] == ["ada@acme-corp.com"]
    assert found.json()[0]["_id"] == sb.users["ada@acme-corp.com"]
    assert client.get("/api/v2/users", **{"mail[eq]": "nobody@acme-corp.com"}).json() == []
    new_id = sb.add_user("new.learner@acme-corp.com")
    sb.page_sizes["users"] = 2
    first = client.get("/api/v2/users")
    assert len(first.json()) == 2 and first.links["next"]["url"].startswith(sb.url)
    [logged] = [r for r in sb.requests if r.path == "/api/v2/users" and not r.query]
    assert logged.response_headers["Link"] == first.headers["Link"]  # the log keeps it
    everyone = client.get_all("/api/v2/users")
    assert len(everyone) == 1 + len(LEARNERS) + 1 and everyone[-1]["_id"] == new_id
    one = client.get(f"/api/v2/users/{new_id}")
    conforms("GET", "/api/v2/users/{userId}", 200, one.json())
    assert one.json()["mail"] == "new.learner@acme-corp.com"
    assert client.get(f"/api/v2/users/{'a' * 24}").json()["error"]["code"] == "userNotFound"
    group = client.get(f"/api/v2/groups/{sb.group_ids[1]}")
    conforms("GET", "/api/v2/groups/{groupId}", 200, group.json())
    assert client.get(f"/api/v2/groups/{'b' * 24}").json()["error"]["code"] == "groupNotFound"


def test_mail_filters_compare_exactly(sb: L360Sandbox, client: Client) -> None:
    """Nothing in the OpenAPI says ``mail[eq]`` folds case: the sandbox does not."""
    mixed = sb.add_user("Mixed.Case@Acme-Corp.com")
    assert sb.add_user("mixed.case@acme-corp.com") == mixed  # emails stay unique, any case
    everyone = client.get_all("/api/v2/users")

    def mails(**filters: Any) -> list[str]:
        found = client.get("/api/v2/users", **filters)
        assert found.status_code == 200, found.text
        conforms("GET", "/api/v2/users", 200, found.json())
        return [user["mail"] for user in found.json()]

    assert mails(**{"mail[eq]": "Mixed.Case@Acme-Corp.com"}) == ["Mixed.Case@Acme-Corp.com"]
    for other in ("mixed.case@acme-corp.com", "MIXED.CASE@ACME-CORP.COM", "ADA@acme-corp.com"):
        assert mails(**{"mail[eq]": other}) == []
    assert mails(**{"mail[in]": "ADA@acme-corp.com,alan@acme-corp.com"}) == ["alan@acme-corp.com"]
    assert len(mails(**{"mail[ne]": "ADA@acme-corp.com"})) == len(everyone)
    assert len(mails(**{"mail[nin]": "ada@acme-corp.com,MIXED.case@acme-corp.com"})) == \
        len(everyone) - 1


def test_integration_is_found_or_created_and_names_can_be_refused(sb: L360Sandbox,
                                                                  client: Client) -> None:
    assert client.get("/api/v2/integrations", **{"externalPlatform[eq]": "Go1"}).json() == []
    admin = client.user_id(sb.admin_email)
    body = {"externalPlatform": "Go1", "groupId": sb.group_ids[0], "authorId": admin,
            "defaultProgress": 0, "noGroupPropagation": False}
    created = client.call("POST", "/api/v2/integrations", json=body)
    assert created.status_code == 201
    conforms("POST", "/api/v2/integrations", 201, created.json())
    listed = client.get("/api/v2/integrations", **{"externalPlatform[eq]": "Go1"})
    conforms("GET", "/api/v2/integrations", 200, listed.json())
    assert [i["_id"] for i in listed.json()] == [created.json()["_id"]]
    assert sb.integrations[0]["_id"] == created.json()["_id"]
    again = client.call("POST", "/api/v2/integrations", json=body)
    assert again.json()["error"]["code"] == "duplicateExternalPlatform"
    for name in ("360Learning", "go1-RESERVED"):
        refused = client.call("POST", "/api/v2/integrations",
                              json={**body, "externalPlatform": name})
        assert refused.status_code == 400
        conforms("POST", "/api/v2/integrations", 400, refused.json())
        assert refused.json()["error"]["code"] == "reservedPlatformName"
    nobody = client.call("POST", "/api/v2/integrations",
                         json={**body, "externalPlatform": "Go2", "authorId": "c" * 24})
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (404, "userNotFound")
    nowhere = client.call("POST", "/api/v2/integrations",
                          json={**body, "externalPlatform": "Go2", "groupId": "d" * 24})
    assert (nowhere.status_code, nowhere.json()["error"]["code"]) == (404, "groupNotFound")


def test_group_ids_must_be_object_ids() -> None:
    with pytest.raises(ValueError, match="ObjectId"):
        L360Sandbox(group_ids=("grp_main",))
    custom = L360Sandbox(group_ids=("a" * 24, "b" * 24))
    assert custom.group_ids == ("a" * 24, "b" * 24)
    with custom:
        assert custom.env()["L360_GROUP_IDS"] == f"{'a' * 24},{'b' * 24}"


# courses and sharing ----------------------------------------------------------------------
def test_upsert_replaces_a_course_whole_and_leaves_it_archived(sb: L360Sandbox,
                                                                client: Client) -> None:
    integration = client.integration()
    first = client.run("PUT", COURSES.format(integration), [
        course("c1", description="Old text", duration=30, imageUrl="https://img/1.png",
               contentType="video"),
        course("c2")])
    conforms("GET", "/api/v2/bulk/operations/{bulkOperationId}/results", 200, first)
    course_id = first[0]["resourceId"]
    assert sb.catalog[sb.group_ids[0]] >= {course_id} and course_id in sb.library[sb.group_ids[0]]
    [replaced] = client.run("PUT", COURSES.format(integration), [course("c1", name="Renamed")])
    assert replaced["resourceId"] == course_id  # same course, replaced whole
    held = sb.courses[(integration, "c1")]
    assert held["name"] == "Renamed" and held["courseId"] == course_id
    assert "description" not in held and "duration" not in held and "imageUrl" not in held
    read = client.get(f"/api/v2/integrations/{integration}/courses/c1")
    conforms("GET", "/api/v2/integrations/{integrationId}/courses/{externalId}", 200,
             read.json())
    assert read.json()["courseId"] == course_id and "description" not in read.json()
    archived = client.run("DELETE", COURSES.format(integration),
                          [{"externalId": "c1"}, {"externalId": "never-sent"}])
    assert archived[0] == {"input": {"externalId": "c1"}, "status": "success",
                           "resourceId": course_id}
    assert archived[1]["status"] == "error" and "never-sent" in archived[1]["errorMessage"]
    assert sb.courses[(integration, "c1")]["archived"] is True
    status = client.get(f"/api/v2/courses/{course_id}")
    conforms("GET", "/api/v2/courses/{courseId}", 200, status.json())
    assert status.json()["status"] == "archived"
    # the upsert replaces the data but does not restore: that is PUT /courses/{id}/archive
    [upserted] = client.run("PUT", COURSES.format(integration), [course("c1", name="Again")])
    assert upserted == {"input": course("c1", name="Again"), "status": "success",
                        "resourceId": course_id}
    held = sb.courses[(integration, "c1")]
    assert held["archived"] is True and held["name"] == "Again"
    assert client.get(f"/api/v2/courses/{course_id}").json()["status"] == "archived"
    assert sb.courses[(integration, "c2")]["archived"] is False  # new, never archived
    other = client.get(f"/api/v2/integrations/{integration}/courses/unknown")
    assert (other.status_code, other.json()["error"]["code"]) == \
        (400, "courseNotBelongToIntegration")


def test_archive_route_archives_and_restores_one_course(sb: L360Sandbox, client: Client,
                                                         with_course: tuple[str, str]) -> None:
    integration, course_id = with_course
    path = "/api/v2/courses/{courseId}/archive"
    before = client.get(f"/api/v2/courses/{course_id}").json()
    archived = client.call("PUT", ARCHIVE.format(course_id), json={"archived": True})
    assert archived.status_code == 200, archived.text
    conforms("PUT", path, 200, archived.json())
    # the CourseDTO that GET /courses/{id} answers; archiving leaves modifiedAt as it was
    assert archived.json() == {**before, "status": "archived"}
    assert client.get(f"/api/v2/courses/{course_id}").json() == archived.json()
    assert sb.courses[(integration, "c1")]["archived"] is True
    again = client.call("PUT", ARCHIVE.format(course_id), json={"archived": True})
    assert again.json() == archived.json()  # archiving an archived course changes nothing
    restored = client.call("PUT", ARCHIVE.format(course_id), json={"archived": False})
    assert restored.status_code == 200
    conforms("PUT", path, 200, restored.json())
    assert restored.json() == before and restored.json()["status"] == "published"
    assert sb.courses[(integration, "c1")]["archived"] is False
    imported = sb.add_imported_course("SCORM course")  # any integration's course
    other = client.call("PUT", ARCHIVE.format(imported), json={"archived": True})
    conforms("PUT", path, 200, other.json())
    assert other.json()["status"] == "archived"
    for unknown in ("0" * 24, "not-an-object-id"):
        missing = client.call("PUT", ARCHIVE.format(unknown), json={"archived": False})
        assert missing.status_code == 404
        conforms("PUT", path, 404, missing.json())
        assert missing.json()["error"]["code"] == "courseNotFound"
    for bad in ({}, {"archived": "false"}, None):
        invalid = client.call("PUT", ARCHIVE.format(course_id), json=bad)
        assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "invalidInput")
    assert sb.courses[(integration, "c1")]["archived"] is False


def test_filtered_course_pages_answer_what_filtering_every_course_answers(
        sb: L360Sandbox, client: Client) -> None:
    """``type`` and ``status`` filters are read from the stored course (no answer built per
    course and page), others from the built answers: both page like the unfiltered list."""
    integration = client.integration()
    client.run("PUT", COURSES.format(integration), [course(f"c{n}") for n in range(7)])
    sb.archive_course("c2")
    sb.archive_course("c5")
    sb.add_imported_course("SCORM one")
    sb.add_imported_course("SCORM two")
    sb.page_sizes["courses"] = 2
    every = client.get_all("/api/v2/courses")
    assert len(every) == 9
    for name, value in (("type", "external"), ("type", "elearning standard"),
                        ("status", "archived"), ("status", "published"),
                        ("sourceLang", every[0]["sourceLang"])):
        listed = client.get_all("/api/v2/courses", **{f"{name}[eq]": value})
        assert listed == [c for c in every if c[name] == value], (name, value)
        unwanted = client.get_all("/api/v2/courses", **{f"{name}[ne]": value})
        assert unwanted == [c for c in every if c[name] != value], (name, value)
    both = client.get_all("/api/v2/courses", **{"type[eq]": "external", "status[eq]": "archived"})
    assert {c["_id"] for c in both} == {sb.courses[(integration, e)]["courseId"]
                                        for e in ("c2", "c5")}


def test_courses_are_shared_to_more_groups_catalogs_and_libraries(
        sb: L360Sandbox, client: Client, with_course: tuple[str, str]) -> None:
    _, course_id = with_course
    sales = sb.group_ids[1]
    share = [{"groupId": sales, "contentType": "course", "contentId": course_id}]
    for shelf in ("catalog", "library"):
        results = client.run("POST", f"/api/v2/bulk/groups/{shelf}",
                             [*share, {**share[0], "contentId": "e" * 24}])
        assert [r["status"] for r in results] == ["success", "error"]
        listed = client.get_all(f"/api/v2/groups/{sales}/{shelf}/course-ids")
        assert listed == [course_id]
    assert sb.catalog[sales] == {course_id} and sb.library[sales] == {course_id}
    client.run("DELETE", "/api/v2/bulk/groups/library", share)
    assert sb.library[sales] == set() and sb.catalog[sales] == {course_id}


# statistics: the attempt rule -------------------------------------------------------------
def test_attempt_rule_create_close_then_new_attempt(sb: L360Sandbox, client: Client,
                                                    with_course: tuple[str, str]) -> None:
    integration, course_id = with_course
    ada = client.user_id(LEARNERS[0])
    # (a) the first record creates an attempt
    client.run("POST", STATS.format(integration), [
        stat("c1", LEARNERS[0], "2024-01-01T09:00:00Z", "2024-01-01T10:00:00Z", 40,
             timeSpent=600_000)])
    [attempt] = client.attempts(course_id, ada)
    assert attempt["progress"] == 40 and "completedAt" not in attempt
    # (b) same firstActivityAt, progress 100: the same attempt is completed (closed)
    client.run("POST", STATS.format(integration), [
        stat("c1", LEARNERS[0], "2024-01-01T09:00:00Z", "2024-01-03T10:00:00.5+01:00", 100,
             score=85, result="success", timeSpent=900_000)])
    [closed] = client.attempts(course_id, ada)
    conforms("GET", "/api/v2/courses/stats", 200, [closed])
    assert closed["_id"] == attempt["_id"]
    assert (closed["progress"], closed["score"], closed["timeSpent"]) == (100, 85, 900_000)
    assert closed["completedAt"] == closed["lastActivityAt"] == "2024-01-03T09:00:00.500Z"
    # re-sending the closed attempt's record changes nothing, and is still a success (but
    # only while no later attempt is open: then it would merge into that one, as in (d))
    [again] = client.run("POST", STATS.format(integration), [
        stat("c1", LEARNERS[0], "2024-01-01T09:00:00Z", "2024-01-03T09:00:00.500Z", 100)])
    assert again == {**again, "status": "success", "resourceId": closed["_id"]}
    assert client.attempts(course_id, ada) == [closed]
    # (c) starts after the last activity of every attempt: a second attempt
    client.run("POST", STATS.format(integration), [
        stat("c1", LEARNERS[0], "2024-02-01T09:00:00Z", "2024-02-02T09:00:00Z", 30)])
    attempts = client.attempts(course_id, ada)
    assert [a["progress"] for a in attempts] == [100, 30]
    assert attempts[0] == closed and "completedAt" not in attempts[1]
    # forceNew always opens one more
    client.run("POST", STATS.format(integration), [
        stat("c1", LEARNERS[0], "2024-01-01T09:00:00Z", "2024-01-01T09:30:00Z", 5,
             forceNew=True)])
    assert len(client.attempts(course_id, ada)) == 3
    held = [a for a in sb.attempts if a["userId"] == ada]
    assert held[0]["completed"] and held[0]["result"] == "success" and held[0]["mail"] == \
        LEARNERS[0] and held[0]["externalCourseId"] == "c1"
    effects = [e["action"] for op in sb.operations.values() for e in op.get("effects", [])]
    assert effects == ["created", "updated", "ignored", "created", "created"]


def test_attempt_rule_ordering_hazard(sb: L360Sandbox, client: Client,
                                      with_course: tuple[str, str]) -> None:
    """(d) An older enrollment sent after a newer one merges into the newer open attempt."""
    integration, course_id = with_course
    older = ("2024-01-10T08:00:00Z", "2024-01-12T08:00:00Z", 100)
    newer = ("2024-03-01T08:00:00Z", "2024-03-02T08:00:00Z", 20)
    # wrong order, over two operations: one attempt with the wrong data
    client.run("POST", STATS.format(integration), [stat("c1", LEARNERS[1], *newer)])
    client.run("POST", STATS.format(integration), [stat("c1", LEARNERS[1], *older)])
    [merged] = client.attempts(course_id, client.user_id(LEARNERS[1]))
    assert merged["firstActivityAt"] == "2024-01-10T08:00:00.000Z"
    assert merged["completedAt"] == "2024-01-12T08:00:00.000Z" and merged["progress"] == 100
    # oldest first, in one operation (applied in input order): two attempts, as in Go1
    client.run("POST", STATS.format(integration), [stat("c1", LEARNERS[2], *older),
                                                   stat("c1", LEARNERS[2], *newer)])
    two = client.attempts(course_id, client.user_id(LEARNERS[2]))
    assert [(a["progress"], "completedAt" in a) for a in two] == [(100, True), (20, False)]


def test_unknown_user_and_course_fail_alone(sb: L360Sandbox, client: Client,
                                            with_course: tuple[str, str]) -> None:
    integration, course_id = with_course
    records = [stat("c1", LEARNERS[0], "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", 10),
               stat("c1", "stranger@elsewhere.com", "2024-01-01T00:00:00Z",
                    "2024-01-01T01:00:00Z", 10),
               stat("nope", LEARNERS[1], "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", 10),
               stat(course_id, LEARNERS[3], "2024-01-01T00:00:00Z",
                    "2024-01-01T01:00:00Z", 10,
                    courseIdentifier={"type": "internalId", "value": course_id}),
               # a mail is matched exactly: one that differs only in case is nobody's ...
               stat("c1", LEARNERS[1].upper(), "2024-01-01T00:00:00Z",
                    "2024-01-01T01:00:00Z", 10),
               # ... while the same record by the user's internalId is the user's
               stat("c1", LEARNERS[1], "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", 10,
                    userIdentifier={"type": "internalId", "value": sb.users[LEARNERS[1]]})]
    results = client.run("POST", STATS.format(integration), records)
    conforms("GET", "/api/v2/bulk/operations/{bulkOperationId}/results", 200, results)
    assert [r["status"] for r in results] == \
        ["success", "error", "error", "success", "error", "success"]
    assert [r["input"] for r in results] == records
    assert results[1]["errorMessage"].startswith("Unknown user")
    assert results[2]["errorMessage"].startswith("Unknown course")
    assert results[4]["errorMessage"] == \
        f"Unknown user: no user with mail {LEARNERS[1].upper()}."
    assert {a["mail"] for a in sb.attempts} == {LEARNERS[0], LEARNERS[1], LEARNERS[3]}


# bulk operations: lifecycle, limits, faults -----------------------------------------------
def test_operation_lifecycle_and_results_shape(sb: L360Sandbox, client: Client) -> None:
    integration = client.integration()
    sb.faults_360.operation_delay_s = 0.15
    op_id = client.submit("PUT", COURSES.format(integration), [course("c1")])
    pending = client.get(f"/api/v2/bulk/operations/{op_id}")
    conforms("GET", "/api/v2/bulk/operations/{bulkOperationId}", 200, pending.json())
    assert pending.json()["status"] == "pending"
    assert pending.json()["type"] == "importExternalCourses"
    early = client.get(f"/api/v2/bulk/operations/{op_id}/results")
    assert (early.status_code, early.json()["error"]["code"]) == (400, "bulkOperationNotRun")
    seen: list[str] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (not seen or seen[-1] != "completed"):
        body = client.get(f"/api/v2/bulk/operations/{op_id}").json()
        conforms("GET", "/api/v2/bulk/operations/{bulkOperationId}", 200, body)
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        time.sleep(0.03)
    assert seen == ["pending", "queued", "running", "completed"]
    [result] = client.results(op_id)
    assert result == {"input": course("c1"), "status": "success",
                      "resourceId": sb.courses[(integration, "c1")]["courseId"]}
    missing = client.get(f"/api/v2/bulk/operations/{'f' * 24}")
    assert (missing.status_code, missing.json()["error"]["code"]) == \
        (404, "bulkOperationNotFound")
    listed = client.get_all("/api/v2/bulk/operations", **{"status[eq]": "completed"})
    assert [op["_id"] for op in listed] == sb.operation_ids_submitted() == [op_id]
    assert sb.operations[op_id]["kind"] == "importExternalCourses"


def test_upsert_resource_ids_are_course_ids_or_opaque(sb: L360Sandbox, client: Client) -> None:
    """``resourceId`` is documented only as "the unique ID of the impacted resource"."""
    integration = client.integration()
    assert sb.faults_360.resource_ids == "course_id"
    plain = client.run("PUT", COURSES.format(integration), [course("c1")])
    course_id = sb.courses[(integration, "c1")]["courseId"]
    assert plain[0]["resourceId"] == course_id
    with pytest.raises(ValueError, match="resource_ids"):
        sb.faults_360.resource_ids = "courseId"
    sb.faults_360.resource_ids = "opaque"
    results = client.run("PUT", COURSES.format(integration), [course("c1"), course("c2")])
    conforms("GET", "/api/v2/bulk/operations/{bulkOperationId}/results", 200, results)
    opaque = [r["resourceId"] for r in results]
    course_ids = {c["courseId"] for c in sb.courses.values()}
    assert len(set(opaque)) == 2 and not set(opaque) & course_ids
    assert all(re.fullmatch(r"[a-f0-9]{24}", value) for value in opaque)
    again = client.run("PUT", COURSES.format(integration), [course("c2"), course("c1")])
    assert [r["resourceId"] for r in again] == opaque[::-1]  # stable per course
    assert client.get(f"/api/v2/courses/{opaque[0]}").json()["error"]["code"] == \
        "courseNotFound"
    [shared] = client.run("POST", "/api/v2/bulk/groups/catalog", [
        {"groupId": sb.group_ids[1], "contentType": "course", "contentId": opaque[0]}])
    assert shared["status"] == "error" and shared["errorMessage"].startswith("Course not found")
    # every kind of operation: an archive's resourceId is no courseId either
    [archived] = client.run("DELETE", COURSES.format(integration), [{"externalId": "c1"}])
    assert archived["resourceId"] != course_id and archived["resourceId"] not in course_ids
    sb.faults_360.resource_ids = "course_id"
    assert client.run("PUT", COURSES.format(integration), [course("c1")])[0]["resourceId"] == \
        course_id


def test_a_fourth_concurrent_bulk_operation_is_refused(sb: L360Sandbox,
                                                       client: Client) -> None:
    integration = client.integration()
    sb.faults_360.operation_delay_s = 0.3
    for n in range(3):
        client.submit("PUT", COURSES.format(integration), [course(f"c{n}")])
    refused = client.call("PUT", COURSES.format(integration), json={"input": [course("c3")]})
    assert refused.status_code == 429
    conforms("PUT", "/api/v2/bulk/integrations/{integrationId}/courses", 429, refused.json())
    assert refused.json()["error"]["code"] == "bulkOperationsConcurrencyLimitReached"
    assert len(sb.operation_ids_submitted()) == 3
    sb.faults_360.operation_delay_s = 0.0
    assert sb.wait_for_operations(timeout=5)
    client.submit("PUT", COURSES.format(integration), [course("c3")])  # room again


def test_write_and_read_rate_limits(sb: L360Sandbox, client: Client) -> None:
    admin = client.user_id(sb.admin_email)
    sb.reset_rate_limits()
    statuses = []
    for n in range(11):
        response = client.session.post(sb.url + "/api/v2/integrations", timeout=5, json={
            "externalPlatform": f"P{n}", "groupId": sb.group_ids[0], "authorId": admin})
        statuses.append(response.status_code)
    assert statuses == [201] * 10 + [429]
    assert response.json() == {"error": "tooManyRequests"}
    assert "Retry-After" not in response.headers
    gets = [client.session.get(sb.url + "/api/v2/users", timeout=5) for _ in range(52)]
    assert [g.status_code for g in gets].count(429) >= 1
    assert gets[-1].json() == {"error": "tooManyRequests"}
    time.sleep(1.05)
    assert client.session.get(sb.url + "/api/v2/users", timeout=5).status_code == 200
    sb.faults_360.rate_limits = False
    assert all(client.session.get(sb.url + "/api/v2/users", timeout=5).status_code == 200
               for _ in range(60))


def test_operation_and_item_errors(sb: L360Sandbox, client: Client) -> None:
    integration = client.integration()
    sb.faults_360.operation_error_next()
    op_id = client.submit("PUT", COURSES.format(integration), [course("c1"), course("c2")])
    failed = client.wait(op_id)
    conforms("GET", "/api/v2/bulk/operations/{bulkOperationId}", 200, failed)
    assert failed["status"] == "error" and failed["errorMessage"]
    assert client.results(op_id) == [] and sb.courses == {}
    sb.faults_360.operation_error_next(after_items=1)
    op_id = client.submit("PUT", COURSES.format(integration), [course("c1"), course("c2")])
    assert client.wait(op_id)["status"] == "error"
    assert [r["input"]["externalId"] for r in client.results(op_id)] == ["c1"]
    assert list(sb.courses) == [(integration, "c1")]
    sb.faults_360.item_error(["c2"], "Sandbox says no.", times=1)
    results = client.run("PUT", COURSES.format(integration), [course("c1"), course("c2")])
    assert results[1] == {"input": course("c2"), "status": "error",
                          "errorMessage": "Sandbox says no."}
    assert client.run("PUT", COURSES.format(integration), [course("c2")])[0]["status"] == \
        "success"  # the rule fired once


def test_process_mode_prints_its_url_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.l360", "--port", "0", "--seed", "3",
         "--learner-email", "a@b.co,c@d.co"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("L360_SANDBOX_URL=http://127.0.0.1:")
        url = first.split("=", 1)[1]
        exports = [process.stdout.readline().strip() for _ in range(6)]
        assert exports[0] == f"export L360_API_URL={url}"
        assert "export L360_PLATFORM_NAME=Go1" in exports
        token = requests.post(url + "/api/v2/oauth2/token", timeout=5, json={
            "grant_type": "client_credentials", "client_id": "sandbox-360-client",
            "client_secret": "sandbox-360-secret"})
        assert token.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
