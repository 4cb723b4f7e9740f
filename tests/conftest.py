"""Shared fixtures: a served Go1 sandbox and a configuration pointing at it; and the check that
every request a test's client sends to a sandbox follows the published OpenAPI files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from go1sync.settings import Config, load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.httpserver import ServedApi
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.contract.openapi_requests import check_log

SMALL = Go1Seed(seed=7, learning_objects=120, users=40, enrollments=600)


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    sandbox = Go1Sandbox(SMALL).serve()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def go1_env(go1: Go1Sandbox, tmp_path: Path) -> dict[str, str]:
    return {**go1.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")}


@pytest.fixture
def config(go1_env: dict[str, str]) -> Config:
    return load_config(env=go1_env)


@pytest.fixture
def l360(go1: Go1Sandbox) -> Iterator[L360Sandbox]:
    """A 360Learning platform that knows the Go1 sandbox's learners by email."""
    with L360Sandbox(learner_emails=learner_emails(go1)) as sandbox:
        yield sandbox


@pytest.fixture
def sync_env(go1: Go1Sandbox, l360: L360Sandbox, tmp_path: Path) -> dict[str, str]:
    """Settings pointing at both sandboxes and a fresh warehouse."""
    return {**go1.env(), **l360.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")}


@pytest.fixture(autouse=True)
def requests_follow_the_documents(request: pytest.FixtureRequest,
                                  monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After each test, every request the sandboxes it served received is checked against the
    OpenAPI files (tests/contract/openapi_requests.py): a client that sends an undocumented
    path, parameter, value or body fails the test that made it send it, whatever the sandbox
    answered. Tests of the sandboxes themselves send malformed requests on purpose, and so does
    a test marked ``undocumented_on_purpose`` (a wrong setting, say): they are not checked."""
    here = Path(str(request.node.fspath))
    if "sandbox" in here.parts or request.node.get_closest_marker("undocumented_on_purpose"):
        yield
        return
    served: list[tuple[str, ServedApi]] = []
    serve = ServedApi.serve

    def recorded(api: ServedApi, host: str = "127.0.0.1", port: int = 0) -> ServedApi:
        served.append(("go1" if isinstance(api, Go1Sandbox) else "l360", api))
        return serve(api, host, port)

    monkeypatch.setattr(ServedApi, "serve", recorded)
    yield
    problems = [line for name, api in served for line in check_log(name, api.requests).messages()]
    if problems:
        pytest.fail(f"{len(problems)} request(s) the OpenAPI files do not document:\n"
                    + "\n".join(problems[:20]), pytrace=False)
