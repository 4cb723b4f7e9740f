"""`python cli.py extract` as a user runs it: exit codes, one-line errors, no secret anywhere."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sandbox.go1 import Go1Sandbox
from tests.helpers import ROOT
from tests.helpers import run_cli as cli
from warehouse import RunLock, open_warehouse


def test_extract_lands_every_stream_and_prints_a_summary(go1_env: dict[str, str]) -> None:
    result = cli("extract", env=go1_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["stream", "status", "requests"]
    assert [line.split()[:2] for line in lines[1:4]] == [
        ["learning_objects", "ok"], ["enrollments", "ok"], ["user_accounts", "ok"]]
    con = open_warehouse(go1_env["GO1SYNC_WAREHOUSE"])
    assert con.execute("SELECT command, status FROM meta.runs").fetchall() == [
        ("extract", "success")]


def test_one_stream_can_be_chosen(go1_env: dict[str, str]) -> None:
    result = cli("extract", "--stream", "learning_objects", env=go1_env)
    assert result.returncode == 0, result.stderr
    con = open_warehouse(go1_env["GO1SYNC_WAREHOUSE"])
    assert con.execute("SELECT stream FROM meta.stream_runs").fetchall() == [
        ("learning_objects",)]


@pytest.mark.undocumented_on_purpose  # GO1_ENROLLMENTS_PATH names a path Go1 lacks
def test_a_failed_stream_exits_1_and_the_others_still_land(go1_env: dict[str, str]) -> None:
    env = {**go1_env, "GO1_ENROLLMENTS_PATH": "/v2/enrollments"}  # not served: 404
    result = cli("extract", env=env)
    assert result.returncode == 1
    assert re.search(r"^enrollments +FAILED ", result.stdout, re.MULTILINE)
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: stream(s) failed: enrollments; their cursors were kept")
    con = open_warehouse(go1_env["GO1SYNC_WAREHOUSE"])
    assert con.execute("SELECT stream, status FROM meta.stream_runs ORDER BY stream").fetchall() \
        == [("enrollments", "failed"), ("learning_objects", "success"),
            ("user_accounts", "success")]
    assert con.execute("SELECT status FROM meta.runs").fetchone() == ("partial",)


def test_a_wrong_secret_is_one_clear_line(go1_env: dict[str, str]) -> None:
    wrong = "not-the-secret-4711"
    result = cli("extract", env={**go1_env, "GO1_CLIENT_SECRET": wrong})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: Go1 refused the client credentials (check GO1_CLIENT_ID and "
        "GO1_CLIENT_SECRET): AUTH_TOKEN_INVALID Invalid credentials.")
    assert wrong not in result.stdout + result.stderr


@pytest.mark.parametrize(("args", "env_change", "message"), [
    (["extract"], {"GO1_CLIENT_ID": ""}, "missing setting GO1_CLIENT_ID"),
    (["extract"], {"GO1_API_URL": "http://gateway.go1.com"}, "invalid setting GO1_API_URL"),
    (["extract", "--since", "last week"], {}, "is neither a date nor a date-time"),
    (["extract", "--since", "2999-01-01"], {}, "is in the future"),
    (["extract", "--stream", "courses"], {}, "Invalid value for '--stream'"),
])
def test_bad_usage_or_configuration_exits_2(go1_env: dict[str, str], args: list[str],
                                            env_change: dict[str, str], message: str) -> None:
    result = cli(*args, env={**go1_env, **env_change})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_concurrent_run_is_refused(go1_env: dict[str, str]) -> None:
    with RunLock(go1_env["GO1SYNC_WAREHOUSE"], "extract"):
        result = cli("extract", env=go1_env)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: another run is in progress (started ")
    assert f"by pid {os.getpid()}" in result.stderr
    assert "Traceback" not in result.stderr


def test_retries_are_logged_with_v_only(go1: Go1Sandbox, go1_env: dict[str, str]) -> None:
    for verbose in ((), ("-v",)):
        go1.faults.add("429", path="/learning-objects", retry_after=0)
        result = cli(*verbose, "extract", "--stream", "learning_objects", env=go1_env)
        assert result.returncode == 0, result.stderr
        retried = [line for line in result.stderr.splitlines() if "trying again" in line]
        assert len(retried) == (1 if verbose else 0), result.stderr


@pytest.mark.parametrize("args", [("-v", "--log-format", "json", "extract"),
                                  ("extract", "-v", "--log-format", "json")])
def test_log_records_can_be_json_lines(go1: Go1Sandbox, go1_env: dict[str, str],
                                       args: tuple[str, ...]) -> None:
    go1.faults.add("429", path="/learning-objects", retry_after=0)
    result = cli(*args, "--stream", "learning_objects", env=go1_env)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    retry = next(r for r in records if "trying again" in r["message"])
    assert retry["level"] == "INFO" and retry["logger"] == "go1sync.extract"
    assert retry["time"].endswith("Z")
    assert not [line for line in result.stderr.splitlines()
                if line.startswith(("INFO ", "WARNING "))]  # no text records beside them


def test_secrets_and_tokens_never_reach_warehouse_logs_or_cassettes(
        go1: Go1Sandbox, go1_env: dict[str, str]) -> None:
    go1.faults.add("429", path="/learning-objects", retry_after=0)
    go1.faults.add("401", path="/enrollments")  # forces a second token
    result = cli("-v", "extract", env=go1_env)
    assert result.returncode == 0, result.stderr
    tokens = {r.headers["Authorization"].removeprefix("Bearer ")
              for r in go1.requests if "Authorization" in r.headers}
    assert len(tokens) >= 2
    secrets = [go1_env["GO1_CLIENT_SECRET"], *tokens]
    warehouse = Path(go1_env["GO1SYNC_WAREHOUSE"])
    places = {"stdout and logs": (result.stdout + result.stderr).encode()}
    for file in [*warehouse.parent.glob(warehouse.name + "*"),
                 *(ROOT / "tests" / "cassettes").rglob("*.yaml")]:
        places[str(file)] = file.read_bytes()
    assert "retrying" in result.stderr or "trying again" in result.stderr  # logs were written
    for name, content in places.items():
        for secret in secrets:
            assert secret.encode() not in content, f"a secret is in {name}"
