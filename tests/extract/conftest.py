"""Shared set-up of the extract tests: import path and the cassette (VCR) configuration.

Cassettes are replayed in CI with no server at all, so they must never hold a credential:
the bearer header, the posted secret and the issued token are taken out as they are recorded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.cassette_tools import vcr_settings

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "tests" / "cassettes"


@pytest.fixture
def vcr_config(record_mode: str) -> dict[str, Any]:
    return vcr_settings(record_mode, filter_post_data_parameters=["client_secret"])


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return os.path.join(CASSETTES, Path(str(request.node.fspath)).stem)
