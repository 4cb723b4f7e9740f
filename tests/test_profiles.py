"""Profiles: a test and a production platform never see each other's data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from go1sync.settings import SettingsError, load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.helpers import run_cli as cli


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(Go1Seed(seed=9, learning_objects=40, users=12, enrollments=120)).serve() as sb:
        yield sb


@pytest.fixture
def platforms(go1: Go1Sandbox) -> Iterator[tuple[L360Sandbox, L360Sandbox]]:
    emails = learner_emails(go1)
    with L360Sandbox(learner_emails=emails, seed=1) as test, \
            L360Sandbox(learner_emails=emails, seed=2) as production:
        yield test, production


def write_config(tmp_path: Path, go1: Go1Sandbox, test: L360Sandbox,
                 production: L360Sandbox) -> Path:
    def table(name: str, sb: L360Sandbox) -> str:
        e = sb.env()
        return (f'[profiles.{name}.l360]\napi_url = "{e["L360_API_URL"]}"\n'
                f'client_id = "{e["L360_CLIENT_ID"]}"\n'
                f'client_secret = "{e["L360_CLIENT_SECRET"]}"\n'
                f'group_ids = "{e["L360_GROUP_IDS"]}"\nadmin_email = "{e["L360_ADMIN_EMAIL"]}"\n'
                f'[profiles.{name}.warehouse]\npath = "{tmp_path / (name + ".duckdb")}"\n')
    g = go1.env()
    file = tmp_path / "go1sync.toml"
    file.write_text(
        f'[go1]\nauth_url = "{g["GO1_AUTH_URL"]}"\napi_url = "{g["GO1_API_URL"]}"\n'
        f'portal_url = "{g["GO1_PORTAL_URL"]}"\nclient_id = "{g["GO1_CLIENT_ID"]}"\n'
        f'client_secret = "{g["GO1_CLIENT_SECRET"]}"\n'
        + table("test", test) + table("production", production))
    return file



def test_each_profile_pushes_to_its_own_platform_from_its_own_warehouse(
        tmp_path: Path, go1: Go1Sandbox,
        platforms: tuple[L360Sandbox, L360Sandbox]) -> None:
    test, production = platforms
    config = write_config(tmp_path, go1, test, production)
    result = cli("--config", str(config), "--profile", "test", "run")
    assert result.returncode == 0, result.stderr
    assert test.courses and production.requests == []  # production saw nothing at all
    assert (tmp_path / "test.duckdb").exists() and not (tmp_path / "production.duckdb").exists()

    result = cli("--config", str(config), "--profile", "production", "run")
    assert result.returncode == 0, result.stderr
    assert len(production.courses) == len(test.courses)


def test_the_test_profile_is_never_scheduled(tmp_path: Path, go1: Go1Sandbox,
                                             platforms: tuple[L360Sandbox, L360Sandbox]) -> None:
    config = write_config(tmp_path, go1, *platforms)
    for command in ("schedule", "serve"):
        result = cli("--config", str(config), "--profile", "test", command)
        assert result.returncode == 2
        assert "runs by hand only" in result.stderr
    assert cli("--config", str(config), "--profile", "production", "schedule").returncode == 0


def test_a_warehouse_refuses_to_push_to_another_platform(
        tmp_path: Path, go1: Go1Sandbox, platforms: tuple[L360Sandbox, L360Sandbox]) -> None:
    test, production = platforms
    config = write_config(tmp_path, go1, test, production)
    assert cli("--config", str(config), "--profile", "test", "run").returncode == 0
    # production credentials, but the test profile's warehouse
    mixed = tmp_path / "mixed.toml"
    mixed.write_text(config.read_text().replace(str(tmp_path / "production.duckdb"),
                                                str(tmp_path / "test.duckdb")))
    result = cli("--config", str(mixed), "--profile", "production", "push")
    assert result.returncode == 1
    assert "this warehouse pushes to" in result.stderr
    assert "needs its own warehouse" in result.stderr
    assert [r for r in production.requests if r.method != "GET"] == []


def test_unknown_profile_and_profile_without_a_file(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[profiles.test.warehouse]\npath = "t.duckdb"\n')
    with pytest.raises(SettingsError, match="no profile 'prod' .defined: test."):
        load_config(file, env={}, profile="prod")
    with pytest.raises(SettingsError, match="needs a config file"):
        load_config(None, env={"GO1SYNC_PROFILE": "test"})
    config = load_config(file, env={}, profile="test")
    assert (config.warehouse_path(), config.scheduled) == (Path("t.duckdb"), False)
