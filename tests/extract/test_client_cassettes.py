"""The client against recorded Go1 exchanges: no server in replay, the sandbox when recording.

Replay (the default, ``--record-mode=none``) points the client at a closed loopback port: any
request the cassette does not hold fails instead of reaching a network. To record again, delete
the cassette and run ``pytest tests/extract/test_client_cassettes.py --record-mode=once``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from extract import Go1Client
from extract.endpoints import ENROLLMENTS_PATH
from go1sync.settings import Go1Settings, load_config
from tests.cassette_tools import filter_token, strings

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
AUTH_PATH = "/oauth/token"
REPLAY_URL = "http://127.0.0.1:9"  # the discard port: nothing answers there
SEED: dict[str, Any] = {"seed": 7, "learning_objects": 30, "users": 10, "enrollments": 60}
TYPES = ("course", "document", "interactive", "text", "video", "link", "audio")
INCLUDES = ("core", "relevance", "lifecycle", "provider", "topics")
LIBRARY_PARAMS = [("collection", "library"), *(("type[]", t) for t in TYPES),
                  *(("include[]", i) for i in INCLUDES), ("use_scroll", "true"), ("limit", "20")]
ENROLLMENT_PARAMS = [("update_time_gte", "2000-01-01T00:00:00Z"),
                     ("update_time_lte", "2100-01-01T00:00:00Z"),
                     ("sort", "updated_time"), ("order", "asc"), ("limit", "50"), ("offset", "0")]


def _sandbox_secret() -> str:
    """The client secret the cassettes were recorded with (the sandbox's, built unserved)."""
    from sandbox.go1 import Go1Sandbox, Go1Seed

    return Go1Sandbox(Go1Seed(**SEED)).client_secret


@pytest.fixture
def go1_settings(record_mode: str) -> Iterator[Go1Settings]:
    if record_mode == "none":
        yield load_config(env={"GO1_AUTH_URL": REPLAY_URL + AUTH_PATH, "GO1_API_URL": REPLAY_URL,
                               "GO1_CLIENT_ID": "replay-client",
                               "GO1_CLIENT_SECRET": "replay-secret"}).go1()
        return
    from sandbox.go1 import Go1Sandbox, Go1Seed

    sandbox = Go1Sandbox(Go1Seed(**SEED)).serve()
    try:
        assert urlsplit(sandbox.auth_url).path == AUTH_PATH, "replay expects this token path"
        yield load_config(env=sandbox.env()).go1()
    finally:
        sandbox.stop()


@pytest.mark.vcr
def test_token_library_page_and_enrollment_page(go1_settings: Go1Settings) -> None:
    with Go1Client(go1_settings, sleep=lambda _: None) as client:
        library = client.get("/learning-objects", LIBRARY_PARAMS)
        enrollments = client.get(ENROLLMENTS_PATH, ENROLLMENT_PARAMS)
        stats = client.stats.snapshot()

    assert (stats.token_fetches, stats.requests, stats.retries) == (1, 2, 0)
    assert library.status == 200
    assert library.data["total"] >= len(library.data["hits"]) > 0
    assert library.data["next_scroll_id"]
    first = library.data["hits"][0]
    assert {"id", "lo_id", "core", "relevance", "lifecycle", "provider", "topics"} <= set(first)
    assert library.url.startswith("/learning-objects?collection=library&type%5B%5D=course&")

    assert enrollments.status == 200
    assert enrollments.data["total"] >= len(enrollments.data["hits"]) > 0
    assert {"id", "lo_id", "user_account_id", "status", "updated_time"} <= set(
        enrollments.data["hits"][0])
    assert enrollments.text.strip().startswith("{")  # the body kept as text, for raw.*


def test_cassettes_hold_no_credentials() -> None:
    cassettes = sorted(CASSETTES.rglob("*.yaml")) + sorted(CASSETTES.rglob("*.yml"))
    assert cassettes, f"no cassette under {CASSETTES}"
    secret = _sandbox_secret()
    for path in cassettes:
        raw = path.read_text(encoding="utf-8")
        text = raw + "\n" + "\n".join(strings(yaml.safe_load(raw)))
        assert secret not in text, f"{path} holds the sandbox's client secret"
        assert not re.search(r"(?im)^\s*authorization:", text), f"{path} keeps Authorization"
        assert not re.search(r"Bearer\s+[\w.~+/=-]{6,}", text), f"{path} holds a bearer token"
        assert "client_secret" not in text, f"{path} holds a posted client_secret"
        tokens = re.findall(r'"access_token":\s*"([^"]*)"', text)
        assert all(t == "FILTERED" for t in tokens), f"{path} holds an access_token"


def test_token_filter_rewrites_token_and_length() -> None:
    body = b'{"token_type": "Bearer", "access_token": "eyJ.long.token", "expires_in": 43200}'
    response = {"body": {"string": body}, "headers": {"Content-Length": [str(len(body))]}}
    filtered = filter_token(response)
    assert b"eyJ" not in filtered["body"]["string"]
    assert b'"access_token": "FILTERED"' in filtered["body"]["string"]
    assert filtered["headers"]["Content-Length"] == [str(len(filtered["body"]["string"]))]
    other = {"body": {"string": b'{"hits": []}'}, "headers": {}}
    assert filter_token(other) == {"body": {"string": b'{"hits": []}'}, "headers": {}}
