"""Shared fixtures: a served Go1 sandbox and a configuration pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.go1 import Go1Sandbox, Go1Seed
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
