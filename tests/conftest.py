"""Shared fixtures: a served Go1 sandbox and a configuration pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.demo import learner_emails
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from settings import Config, load_config

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
