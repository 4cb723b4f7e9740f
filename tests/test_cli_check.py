"""`python cli.py check`: a checklist, and a non-zero exit naming what is wrong."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.endpoints import ENROLLMENTS_OPENAPI_SERVER_PATH
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.helpers import run_cli


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(Go1Seed(seed=3, learning_objects=20, users=5, enrollments=30)).serve() as sb:
        yield sb


def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli("check", env=env)


def failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("FAIL")]


def test_everything_in_place(sync_env: dict[str, str], l360: L360Sandbox) -> None:
    result = check(sync_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert failures(result) == []
    assert "not set up yet: the first push creates it" in result.stdout
    assert not [r for r in l360.requests if r.method != "GET" and "token" not in r.path]


def test_a_wrong_go1_secret(sync_env: dict[str, str]) -> None:
    result = check({**sync_env, "GO1_CLIENT_SECRET": "nope-123"})
    assert result.returncode == 1
    assert any("Go1 credentials" in f and "GO1_CLIENT_SECRET" in f for f in failures(result))
    assert "nope-123" not in result.stdout + result.stderr
    assert "Error: " in result.stderr and "check(s) failed" in result.stderr


def test_an_unknown_group_and_an_unknown_admin(sync_env: dict[str, str]) -> None:
    groups = sync_env["L360_GROUP_IDS"] + ",bbbbbbbbbbbbbbbbbbbbbbbb"
    result = check({**sync_env, "L360_GROUP_IDS": groups, "L360_ADMIN_EMAIL": "ghost@acme.com"})
    assert result.returncode == 1
    found = failures(result)
    assert any("group bbbbbbbbbbbbbbbbbbbbbbbb" in f for f in found)
    assert any("connector admin ghost@acme.com" in f and "not a 360Learning user" in f
               for f in found)
    assert len(found) == 2  # the other checks still pass


@pytest.mark.parametrize(("scope", "check_name"), [
    ("lo.read", "Go1 credentials and scope lo.read"),
    ("enrollment.read", "Go1 scope enrollment.read"),
    ("user.read", "Go1 scope user.read"),
])
def test_a_missing_go1_scope_is_named(sync_env: dict[str, str], go1: Go1Sandbox, scope: str,
                                      check_name: str) -> None:
    """Go1 answers a missing scope with 401 {"message": "Missing scopes"}, not 403."""
    go1.scopes.discard(scope)
    result = check(sync_env)
    assert result.returncode == 1
    assert failures(result) == [line for line in result.stdout.splitlines()
                                if line.startswith(f"FAIL {check_name}")]
    assert f": missing scope {scope}: " in failures(result)[0]
    assert "refused a freshly issued token" not in result.stdout


@pytest.mark.parametrize(("scope", "check_name"), [
    ("integrations:read", "360Learning credentials and scope integrations:read"),
    ("groups:read", "360Learning group"),
    ("users:read", "connector admin"),
    ("bulkOperations:read", "360Learning scope bulkOperations:read"),
    ("courses:read", "360Learning scope courses:read"),
    ("courseStats:read", "360Learning scope courseStats:read"),
])
def test_a_missing_360learning_scope_is_named(sync_env: dict[str, str], l360: L360Sandbox,
                                              scope: str, check_name: str) -> None:
    """360Learning's 403 invalid_scope does not name the scope: check names it from the
    OpenAPI's description of the operation."""
    l360.scopes.discard(scope)
    result = check(sync_env)
    assert result.returncode == 1
    assert any(f.startswith(f"FAIL {check_name}") for f in failures(result))
    # every check that failed failed for that scope, and says so
    assert all(f": missing scope {scope}: " in f for f in failures(result))


def test_check_says_where_enrollments_are_read_and_what_it_cannot_prove(
        sync_env: dict[str, str]) -> None:
    result = check(sync_env)
    assert result.returncode == 0, result.stdout
    assert "Go1 scope enrollment.read: enrollments readable at GET /enrollments" in result.stdout
    assert "note 360Learning write scopes: integrations:write, integrations:bulk, " \
        "courses:write, groups:bulk: not proven here" in result.stdout


def test_check_finds_enrollments_at_the_openapi_form(tmp_path: Path) -> None:
    seed = Go1Seed(seed=3, learning_objects=20, users=5, enrollments=30)
    with Go1Sandbox(seed, enrollments_path=ENROLLMENTS_OPENAPI_SERVER_PATH).serve() as go1, \
            L360Sandbox(learner_emails=learner_emails(go1)) as l360:
        result = check({**go1.env(), **l360.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w")})
    assert result.returncode == 0, result.stdout
    assert ("enrollments readable at GET /report-data/enrolment/enrollments (the OpenAPI's "
            "server entry: GET /enrollments answered 404)") in result.stdout
