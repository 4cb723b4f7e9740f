"""`python cli.py check`: a checklist, and a non-zero exit naming what is wrong."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
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


def test_a_missing_scope_is_named(sync_env: dict[str, str], go1: Go1Sandbox,
                                  l360: L360Sandbox) -> None:
    go1.faults.add("403", path="/report-data/enrolment/enrollments")
    l360.faults.add("403", path="/api/v2/groups/")
    result = check(sync_env)
    assert result.returncode == 1
    found = failures(result)
    assert any("enrollment.read" in f and "invalid_scope" in f for f in found)
    assert any("360Learning group" in f and "invalid_scope" in f for f in found)
