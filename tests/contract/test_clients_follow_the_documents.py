"""Every request go1sync's two clients send, checked against the published OpenAPI files.

One scenario makes every call go1sync has (extract/endpoints.py and load/endpoints.py list
them): a first sync of a portal large enough for the user-account list, on a gateway that
answers the enrollment list only at the OpenAPI's relative server entry, a platform whose
upsert resourceIds are not course ids and whose lists page in small pages; then a course
retired and published again, a learner completing a course, a group removed from the
settings, a reconcile and a check. The
sandboxes' request logs are then checked by ``tests/contract/openapi_requests.py``, which reads
the OpenAPI files itself: path (against the top-level server), method, each query parameter's
name and format, headers, body schema. The calls no OpenAPI file documents must be exactly the
known, commented list in that module.

The per-test check in ``tests/conftest.py`` applies the same validator to every other test
that drives a client against the sandboxes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from commands.microrun import micro_run
from commands.reconcile import run_reconcile
from commands.run import run_pipeline
from extract import Go1Client
from extract.endpoints import ENDPOINTS as GO1_ENDPOINTS
from extract.endpoints import ENROLLMENTS_OPENAPI_SERVER_PATH
from extract.events import EventRef
from extract.streams import user_accounts
from go1sync.settings import load_config
from load.endpoints import ENDPOINTS as L360_ENDPOINTS
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.go1.app import ROUTE_SCOPES as GO1_ROUTE_SCOPES
from sandbox.httpserver import LoggedRequest
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.contract import openapi_requests as oa
from tests.contract.openapi_requests import UNDOCUMENTED, Report, check_log
from tests.helpers import run_cli


@dataclass
class Logs:
    go1: list[LoggedRequest]
    l360: list[LoggedRequest]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logs]:
    """The request logs of both sandboxes after the whole scenario."""
    patch = pytest.MonkeyPatch()
    patch.setattr(user_accounts, "LIST_WHEN_UNKNOWN_OVER", 20)  # the list, at a small size
    seed = Go1Seed(seed=13, learning_objects=80, users=60, enrollments=400)
    warehouse = tmp_path_factory.mktemp("contract") / "w.duckdb"
    go1 = Go1Sandbox(seed, enrollments_path=ENROLLMENTS_OPENAPI_SERVER_PATH).serve()
    go1.user_list_shape = "long"  # the list's hits carry emails: it is read through
    l360 = L360Sandbox(learner_emails=learner_emails(go1)).serve()
    l360.faults_360.resource_ids = "opaque"  # each course id read through its integration
    for kind in ("users", "courseStats", "courses", "bulkOperations"):
        l360.page_sizes[kind] = 7  # Link-followed pages everywhere
    env = {**go1.env(), **l360.env(), "GO1SYNC_WAREHOUSE": str(warehouse)}
    config = load_config(env=env)
    try:
        first = run_pipeline(config)
        assert first.ok, (first.failed_streams, first.pushed and first.pushed.errors[:3])
        live = sorted(e for (_, e), c in l360.courses.items() if not c["archived"])
        go1.retire(live[0])
        started = next(e for e, v in go1.enrollments.items() if v["status"] == "in-progress")
        go1.complete_enrollment(started)
        assert run_pipeline(config).ok
        go1.publish(live[0])  # restored with its own call
        assert run_pipeline(config).ok
        env["L360_GROUP_IDS"] = l360.group_ids[0]  # a group removed: its shares taken back
        config = load_config(env=env)
        assert run_pipeline(config).ok
        run_reconcile(config)
        # webhooks: registered (created, then updated in place), events processed as a
        # micro-run (a completion, an object that left My Library), checked, removed
        env.update({"GO1_WEBHOOK_SECRET": "contract-webhook-secret",
                    "GO1SYNC_WEBHOOK_URL": "http://127.0.0.1:9/go1/webhooks"})
        config = load_config(env=env)
        for _ in range(2):
            registered = run_cli("webhooks", "register", env=env)
            assert registered.returncode == 0, registered.stderr
        started = next(e for e, v in go1.enrollments.items() if v["status"] == "in-progress")
        go1.complete_enrollment(started)
        go1.remove_from_library(live[1])
        gone = go1.learning_objects[live[1]]
        assert micro_run(config, [
            EventRef("id:e1", "enrollment.complete", started, go1.enrollments[started]["lo_id"]),
            EventRef("id:e2", "content.remove", gone["id"], live[1])]).ok
        checked = run_cli("check", env=env)
        assert checked.returncode == 0, checked.stdout
        assert "registered and active" in checked.stdout
        removed = run_cli("webhooks", "remove", env=env)
        assert removed.returncode == 0, removed.stderr
        yield Logs(go1.requests, l360.requests)
    finally:
        patch.undo()
        go1.stop()
        l360.stop()


def assert_documented(report: Report) -> None:
    assert report.checked > 0
    assert report.ok, "\n" + "\n".join(report.messages()[:30])


def test_every_go1_request_follows_the_openapi_file(logs: Logs) -> None:
    assert_documented(check_log("go1", logs.go1))


def test_every_360learning_request_follows_the_openapi_files(logs: Logs) -> None:
    report = check_log("l360", logs.l360)
    assert_documented(report)
    followed = [r for r in logs.l360 if "page" in r.query]
    assert followed, "the scenario should follow Link headers (small page sizes)"


def test_the_undocumented_calls_are_exactly_the_known_list(logs: Logs) -> None:
    seen = check_log("go1", logs.go1).undocumented_seen | check_log(
        "l360", logs.l360).undocumented_seen
    assert seen == set(UNDOCUMENTED)


def test_the_scenario_makes_every_call_of_the_endpoint_tables(logs: Logs) -> None:
    """So that a call added to a client but not to its table (or never exercised here) shows."""
    for endpoints, log in ((GO1_ENDPOINTS, logs.go1), (L360_ENDPOINTS, logs.l360)):
        made = {(r.method, r.path) for r in log}
        for endpoint in endpoints:
            assert any(endpoint.matches(m, p) for m, p in made), (endpoint.method, endpoint.path)
        unlisted = {(m, p) for m, p in made if not any(e.matches(m, p) for e in endpoints)}
        assert unlisted == set()


#: The scopes of the Go1 calls no OpenAPI operation documents: the token call needs none, and
#: Go1's scope page (and Totara's plugin) give user.read for the accounts.
GO1_UNDOCUMENTED_SCOPES: dict[tuple[str, str], str | None] = {
    ("POST", "/oauth/token"): None,
    ("GET", "/user-accounts"): "user.read",
    ("GET", "/user-accounts/{id}"): "user.read",
    # the contract README lists them (Webhooks); the OpenAPI's webhook operations give the scopes
    ("GET", "/webhooks/{id}"): "webhook.read",
    ("DELETE", "/webhooks/{id}"): "webhook.write",
}


def _go1_documented_scope(method: str, path: str) -> str | None:
    """A Go1 call's scope as the documents give it: its operation's OAuth2 security entry (the
    operation an undocumented path borrows its query from, for the relative server entry),
    else the list above."""
    paths = oa.load_document("go1-openapi.yml").content["paths"]
    borrowed = UNDOCUMENTED.get(("go1", method, path))
    if borrowed is not None and borrowed.query_from is not None:
        method, path = borrowed.query_from
    operation = paths.get(path, {}).get(method.lower())
    if operation is None:
        return GO1_UNDOCUMENTED_SCOPES[(method, path)]
    [requirement] = operation["security"]
    [scope] = requirement["OAuth2"]
    return str(scope)


def test_the_endpoint_tables_name_the_scopes_the_documents_name() -> None:
    """Each 360Learning scope is the one its operation's description names; each Go1 scope is
    its operation's OAuth2 security entry, or the written-down scope of an undocumented call.
    The Go1 sandbox's routes are held to the same documents, so neither side can drift."""
    documented: dict[tuple[str, str], str | None] = {}
    for name in ("360learning-core-api.json", "360learning-bulk-api.json"):
        for path, methods in oa.load_document(name).content["paths"].items():
            for method, operation in methods.items():
                found = re.search(r"Required OAuth scope: `([^`]+)`",
                                  operation.get("description", ""))
                documented[(method.upper(), path)] = found.group(1) if found else None
    for endpoint in L360_ENDPOINTS:
        assert documented[(endpoint.method, endpoint.path)] == endpoint.scope, endpoint.path
    for endpoint in GO1_ENDPOINTS:
        assert endpoint.scope == _go1_documented_scope(endpoint.method, endpoint.path), \
            endpoint.path
    for (method, path), scope in GO1_ROUTE_SCOPES.items():
        assert scope == _go1_documented_scope(method, path), (method, path)


@pytest.mark.undocumented_on_purpose
def test_an_undocumented_parameter_sent_by_a_client_fails_the_check(tmp_path: Path) -> None:
    """The check is not vacuous: the real client, one parameter too many, is caught."""
    with Go1Sandbox(Go1Seed(seed=3, learning_objects=5, users=2, enrollments=5)) as go1:
        settings = load_config(env=go1.env()).go1()
        with Go1Client(settings) as client:
            client.get("/learning-objects", [("collection", "library"), ("limit", "1"),
                                             ("page_size", "5")])
        report = check_log("go1", go1.requests)
    assert not report.ok
    assert any("'page_size' is not declared by GET /learning-objects" in m
               for m in report.messages())
