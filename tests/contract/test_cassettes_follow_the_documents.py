"""Every request recorded in a cassette, checked against the OpenAPI files.

The cassette tests replay without a server, so the per-test sandbox check in
``tests/conftest.py`` never sees what they send: recorded against our own sandbox, they would
only prove the client matches a recording of it. Here each recorded request is held to the
documents instead. The recording filters took the secrets out (the ``Authorization`` header,
the posted ``client_secret``); a placeholder is put back where they were, since the client did
send them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from sandbox.httpserver import Headers, LoggedRequest
from tests.contract.openapi_requests import check_log

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
PLACEHOLDER = "FILTERED"
#: the header each API's calls carry, token call included: which API a recording is of
API_BY_HEADER = {"api-version": "go1", "360-api-version": "l360"}


def _body(raw: Any) -> bytes:
    if raw is None:
        return b""
    return raw if isinstance(raw, bytes) else str(raw).encode("utf-8")


def _restored(body: bytes, content_type: str) -> bytes:
    """The token request's body with the filtered client secret back, as a placeholder."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        pairs.setdefault("client_secret", [PLACEHOLDER])
        return "&".join(f"{k}={v}" for k, values in pairs.items() for v in values).encode()
    data = json.loads(body)
    if isinstance(data, dict) and data.get("grant_type") == "client_credentials":
        data.setdefault("client_secret", PLACEHOLDER)
    return json.dumps(data).encode("utf-8")


def recorded(path: Path) -> tuple[str, list[LoggedRequest]]:
    """A cassette's requests as a sandbox would have logged them, and the API they went to."""
    interactions = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]
    apis, log = set(), []
    for interaction in interactions:
        request = interaction["request"]
        headers = {name: values[-1] for name, values in (request.get("headers") or {}).items()}
        apis |= {api for name, api in API_BY_HEADER.items()
                 if name in {h.lower() for h in headers}}
        body = _body(request.get("body"))
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        parts = urlsplit(request["uri"])
        token_call = body and b"client_credentials" in body
        if token_call:
            body = _restored(body, content_type)
        elif not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = f"Bearer {PLACEHOLDER}"
        form = None
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()}
        log.append(LoggedRequest(request["method"], parts.path,
                                 parse_qs(parts.query, keep_blank_values=True),
                                 Headers(headers.items()), form,
                                 int(interaction["response"]["status"]["code"]),
                                 datetime(2026, 1, 1, tzinfo=UTC), body, {}))
    [api] = apis  # one cassette, one API
    return api, log


@pytest.mark.parametrize("cassette", sorted(CASSETTES.rglob("*.yaml")),
                         ids=lambda p: str(p.relative_to(CASSETTES)))
def test_every_recorded_request_follows_the_openapi_files(cassette: Path) -> None:
    api, log = recorded(cassette)
    report = check_log(api, log)
    assert report.checked == len(log) > 1
    assert report.ok, "\n" + "\n".join(report.messages())
