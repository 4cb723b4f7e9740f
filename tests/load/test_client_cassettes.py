"""The client against recorded 360Learning exchanges: no server in replay, the sandbox when
recording.

Replay (the default, ``--record-mode=none``) points the client at a closed loopback port: any
request the cassette does not hold fails instead of reaching a network. To record again, delete
the cassette and run ``pytest tests/load/test_client_cassettes.py --record-mode=once``: the
filters in ``conftest.py`` drop the Authorization header, the posted ``client_secret`` and the
issued ``access_token`` before anything is written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from go1sync.settings import L360Settings, load_config
from load import BulkRunner, L360Client
from tests.cassette_tools import filter_token, strings
from tests.load.conftest import CASSETTES, drop_client_secret

ALL_CASSETTES = CASSETTES.parent  # every cassette of the project, Go1's too
REPLAY_URL = "http://127.0.0.1:9"  # the discard port: nothing answers there


def _course(n: int) -> dict[str, Any]:
    return {"externalId": f"go1-{n}", "name": f"Course {n}", "description": "<p>About it</p>",
            "launchUrl": f"https://acme.mygo1.com/play/{36439790 + n}", "defaultLang": "en",
            "sources": [{"name": "Go1"}], "subjects": ["Leadership"], "duration": 15,
            "contentType": "course"}


def _sandbox_secret() -> str:
    """The client secret the cassettes were recorded with (the sandbox's default)."""
    from sandbox.l360 import L360Sandbox

    sandbox = L360Sandbox()
    try:
        return sandbox.client_secret
    finally:
        sandbox.stop()


@pytest.fixture
def l360(record_mode: str) -> Iterator[tuple[L360Settings, Any, Callable[[float], None]]]:
    """Settings, the sandbox (None in replay), and the sleep polls use."""
    if record_mode == "none":
        yield (load_config(env={"L360_API_URL": REPLAY_URL, "L360_CLIENT_ID": "replay-client",
                                "L360_CLIENT_SECRET": "replay-secret",
                                "L360_GROUP_IDS": "000000000000000000000000",
                                "L360_ADMIN_EMAIL": "admin@acme-corp.com"}).l360(),
               None, lambda _: None)
        return
    from sandbox.l360 import L360Sandbox

    sandbox = L360Sandbox().serve()
    try:
        yield load_config(env=sandbox.env()).l360(), sandbox, time.sleep
    finally:
        sandbox.stop()


@pytest.mark.vcr
def test_token_user_lookup_and_a_bulk_upsert(
        l360: tuple[L360Settings, Any, Callable[[float], None]]) -> None:
    settings, sandbox, sleep = l360
    if sandbox is not None:
        sandbox.faults_360.item_error("go1-3", "Invalid launchUrl.")
    with L360Client(settings, sleep=sleep) as client:
        [admin] = client.get_all("/api/v2/users", [("mail[eq]", settings.admin_email)])
        assert admin["mail"] == settings.admin_email
        found = list(client.get_all("/api/v2/integrations",
                                    [("externalPlatform[eq]", settings.platform_name)]))
        assert found == []
        created = client.post("/api/v2/integrations", {
            "externalPlatform": settings.platform_name, "groupId": settings.group_ids[0],
            "authorId": admin["_id"]})
        assert created.status == 201
        integration_id = created.data["_id"]

        runner = BulkRunner(client, sleep=sleep, poll_initial=0.05, poll_max=0.2)
        items = [_course(n) for n in range(4)]
        outcome = runner.run("PUT", f"/api/v2/bulk/integrations/{integration_id}/courses",
                             items)
        stats = client.stats.snapshot()

    assert re.fullmatch(r"[0-9a-f]{24}", outcome.operation.id)
    assert outcome.operation.kind == "importExternalCourses"
    assert outcome.status == "completed"
    assert [r.input["externalId"] for r in outcome.results] == [i["externalId"] for i in items]
    assert [r.ok for r in outcome.results] == [True, True, True, False]
    assert all(re.fullmatch(r"[0-9a-f]{24}", r.resource_id or "") for r in outcome.succeeded)
    assert outcome.failed[0].error == "Invalid launchUrl."
    assert (stats.token_fetches, stats.retries, stats.writes) == (1, 0, 2)
    assert stats.reads >= 4  # users, integrations, one poll at least, results


def test_cassettes_hold_no_secret_and_no_token() -> None:
    cassettes = sorted(ALL_CASSETTES.rglob("*.yaml")) + sorted(ALL_CASSETTES.rglob("*.yml"))
    assert any(path.is_relative_to(CASSETTES) for path in cassettes), f"none under {CASSETTES}"
    secret = _sandbox_secret()
    for path in cassettes:
        raw = path.read_text(encoding="utf-8")
        text = raw + "\n" + "\n".join(strings(yaml.safe_load(raw)))
        assert secret not in text, f"{path} holds the 360Learning sandbox's client secret"
        assert "client_secret" not in text, f"{path} holds a posted client_secret"
        assert not re.search(r"(?im)^\s*authorization:", text), f"{path} keeps Authorization"
        assert not re.search(r"Bearer\s+[\w.~+/=-]{6,}", text), f"{path} holds a bearer token"
        tokens = re.findall(r'"access_token":\s*"([^"]*)"', text)
        assert all(t == "FILTERED" for t in tokens), f"{path} holds an access_token"


def test_cassette_filters_drop_the_secret_and_the_token() -> None:
    class Recorded:
        uri = "http://127.0.0.1:5/api/v2/oauth2/token"
        body: Any = (b'{"grant_type": "client_credentials", "client_id": "c", '
                     b'"client_secret": "s3cr3t"}')

    request = drop_client_secret(Recorded())
    assert b"s3cr3t" not in request.body and b"client_secret" not in request.body
    assert b'"client_id": "c"' in request.body

    body = b'{"token_type": "Bearer", "access_token": "eyJ.long.token", "expires_in": "3600"}'
    response = {"body": {"string": body}, "headers": {"Content-Length": [str(len(body))]}}
    filtered = filter_token(response)
    assert b"eyJ" not in filtered["body"]["string"]
    assert filtered["headers"]["Content-Length"] == [str(len(filtered["body"]["string"]))]


def test_cassette_directory_is_the_load_one(vcr_cassette_dir: str) -> None:
    assert Path(vcr_cassette_dir) == CASSETTES / "test_client_cassettes"
