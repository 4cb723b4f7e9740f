"""Shared set-up of the load tests: a scripted 360Learning stub, a fake clock, the VCR config.

The stub models just enough of the API for the client: the JSON token call, bearer checks, a
queue of scripted answers (an error, a ``Retry-After``, a dropped connection, a stall), and a
tiny bulk engine (operations advance one status per poll, results come in pages linked by
``Link``, at most three operations unfinished). Data lives in the real sandbox
(``sandbox.l360``); here each test states exactly the answers it needs and reads back what the
client sent. Cassettes are replayed with no server, so they must never hold a credential.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from go1sync.settings import L360Settings, load_config
from load import BulkRunner, L360Client
from tests.cassette_tools import vcr_settings
from tests.stub_server import Action, FakeClock, ScriptedStub, Seen, json_answer

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "tests" / "cassettes" / "load"

TOKEN_PATH = "/api/v2/oauth2/token"
OPERATIONS = "/api/v2/bulk/operations"
CLIENT_ID = "stub-l360-client"
CLIENT_SECRET = "stub-l360-secret-41d8e2"
TERMINAL = ("completed", "error")

def api_error(status: int, code: str, message: str = "A message.",
              headers: dict[str, str] | None = None) -> Action:
    """The usual body: ``{"error": {"code", "message"}}``."""
    return json_answer(status, {"error": {"code": code, "message": message}}, headers)


@dataclass
class StubOperation:
    id: str
    type: str
    input: list[dict[str, Any]]
    statuses: list[str]  # the answer to each successive poll; the last one repeats
    polls: int = 0
    error_message: str | None = None

    @property
    def status(self) -> str:
        """What the last poll saw ("pending" before any): an operation advances when polled."""
        return self.statuses[min(self.polls, len(self.statuses)) - 1] if self.polls else "pending"


_KINDS = {("PUT", "courses"): "importExternalCourses",
          ("DELETE", "courses"): "archiveExternalCourses",
          ("POST", "stats"): "importExternalStatistics"}
_BULK_SUBMIT = re.compile(r"^/api/v2/bulk/integrations/[0-9a-f]{24}/(courses|stats)$")
_OPERATION = re.compile(r"^/api/v2/bulk/operations/([0-9a-f]{24})(/results)?$")


class StubL360(ScriptedStub):
    """360Learning's JSON token call, bearer and version checks, and a tiny bulk engine."""

    token_path = TOKEN_PATH

    def __init__(self) -> None:
        super().__init__(expires_in=3600)
        self.routes: dict[tuple[str, str], Callable[[Seen], Action]] = {}
        # bulk engine
        self.operations: dict[str, StubOperation] = {}
        self.plans: deque[list[str]] = deque()  # statuses of the next submitted operations
        self.default_plan = ["pending", "running", "completed"]
        self.results_page_size = 2
        self.max_running = 3
        self.hold = False  # polls answer "running" and do not advance while set
        self.error_results = False  # whether an operation ending in error has results
        self.refused_submits = 0
        self._ids = itertools.count(1)

    def submits(self) -> list[Seen]:
        return [s for s in self.calls() if _BULK_SUBMIT.match(s.path)]

    def running(self) -> int:
        with self._lock:
            return sum(op.status not in TERMINAL for op in self.operations.values())

    def add_operation(self, type_: str, items: list[dict[str, Any]],
                      statuses: list[str]) -> str:
        """An operation as if another process had submitted it."""
        with self._lock:
            op_id = f"{next(self._ids):024x}"
            self.operations[op_id] = StubOperation(op_id, type_, items, statuses)
        return op_id

    def finish(self, op_id: str, status: str = "completed") -> None:
        """End an operation as if it had run to ``status``."""
        with self._lock:
            op = self.operations[op_id]
            op.statuses = [status]
            op.polls = 1

    # -- dispatch -------------------------------------------------------------------------

    def _token(self, seen: Seen) -> Action:
        with self._lock:
            if self.token_script:
                return self.token_script.popleft()
            try:
                form = seen.json()
            except ValueError:
                return json_answer(400, {"error": "invalid_request"})
            if not isinstance(form, dict) or (
                    form.get("client_id"), form.get("client_secret"), form.get("grant_type")) != (
                    CLIENT_ID, CLIENT_SECRET, "client_credentials"):
                return json_answer(401, {"error": "invalid_client"})
            return self.issue(lambda n: f"tok{n}-{'x' * 24}")

    def _api(self, seen: Seen) -> Action:
        with self._lock:
            if not self.bearer_is_valid(seen):
                return json_answer(401, {"error": "invalid_token"})
            if seen.headers.get("360-api-version") != "v2.0":
                return api_error(400, "invalidApiVersion")
            if self.api_script:
                return self.api_script.popleft()
            route = self.routes.get((seen.method, seen.path))
        if route is not None:
            return route(seen)
        if _BULK_SUBMIT.match(seen.path):
            return self._submit(seen)
        match = _OPERATION.match(seen.path)
        if match and seen.method == "GET":
            return self._results(seen, match.group(1)) if match.group(2) else self._poll(
                match.group(1))
        if seen.method == "GET":
            return json_answer(200, [])
        return json_answer(200, {})

    def _submit(self, seen: Seen) -> Action:
        kind = _KINDS[(seen.method, seen.path.rsplit("/", 1)[1])]
        items = seen.json()["input"]
        with self._lock:
            if sum(op.status not in TERMINAL for op in self.operations.values()) >= \
                    self.max_running:
                self.refused_submits += 1
                return api_error(429, "bulkOperationsConcurrencyLimitReached")
            op_id = f"{next(self._ids):024x}"
            plan = self.plans.popleft() if self.plans else list(self.default_plan)
            self.operations[op_id] = StubOperation(op_id, kind, items, plan)
        return ("empty", 202, {"Location": f"{self.url}{OPERATIONS}/{op_id}"})

    def _poll(self, op_id: str) -> Action:
        with self._lock:
            op = self.operations.get(op_id)
            if op is None:
                return api_error(404, "bulkOperationNotFound")
            if self.hold and op.status not in TERMINAL:
                status = "running"
            else:
                op.polls += 1
                status = op.status
        body: dict[str, Any] = {"_id": op.id, "type": op.type,
                                "createdAt": "2026-01-02T03:04:05.000Z", "status": status}
        if status == "error":
            body["errorMessage"] = op.error_message or "The operation failed."
        return json_answer(200, body)

    def _results(self, seen: Seen, op_id: str) -> Action:
        with self._lock:
            op = self.operations.get(op_id)
        if op is None:
            return api_error(404, "bulkOperationNotFound")
        if op.status not in TERMINAL or (op.status == "error" and not self.error_results):
            return api_error(400, "bulkOperationNotRun")
        entries = []
        for index, item in enumerate(op.input):
            if item.get("fail"):
                entries.append({"input": item, "status": "error",
                                "errorMessage": f"invalid item {index}"})
            else:
                entries.append({"input": item, "status": "success",
                                "resourceId": f"{index + 1:024x}"})
        page = int(dict(parse_qsl(seen.query)).get("page", "1"))
        size = self.results_page_size
        chunk = entries[(page - 1) * size: page * size]
        headers = {}
        if page * size < len(entries):
            headers["Link"] = f'<{self.url}{seen.path}?page={page + 1}>; rel="next"'
        return json_answer(200, chunk, headers)

@pytest.fixture
def stub() -> Iterator[StubL360]:
    server = StubL360()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def l360_settings(url: str, secret: str = CLIENT_SECRET) -> L360Settings:
    return load_config(env={"L360_API_URL": url, "L360_CLIENT_ID": CLIENT_ID,
                            "L360_CLIENT_SECRET": secret,
                            "L360_GROUP_IDS": "5f0c0ffee0000000000000aa",
                            "L360_ADMIN_EMAIL": "admin@example.com"}).l360()


MakeClient = Callable[..., L360Client]


@pytest.fixture
def make_client(stub: StubL360, clock: FakeClock) -> Iterator[MakeClient]:
    clients: list[L360Client] = []

    def make(*, secret: str = CLIENT_SECRET, **kwargs: Any) -> L360Client:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("sleep", clock.sleep)
        kwargs.setdefault("timeout", (2.0, 5.0))
        client = L360Client(l360_settings(stub.url, secret), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def runner(make_client: MakeClient, clock: FakeClock) -> BulkRunner:
    return BulkRunner(make_client(), sleep=clock.sleep, clock=clock, poll_initial=0.2,
                      poll_max=5.0, poll_timeout=600)


# -- cassettes ----------------------------------------------------------------------------------


def drop_client_secret(request: Any) -> Any:
    """Take ``client_secret`` out of the JSON token body before the request is recorded."""
    body = request.body
    if not body or not urlsplit(request.uri).path.endswith(TOKEN_PATH):
        return request
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return request
    if isinstance(data, dict) and "client_secret" in data:
        del data["client_secret"]
        text = json.dumps(data)
        request.body = text.encode("utf-8") if isinstance(body, bytes) else text
        for name in list(getattr(request, "headers", {}) or {}):
            if name.lower() == "content-length":
                request.headers[name] = str(len(text.encode("utf-8")))
    return request


@pytest.fixture
def vcr_config(record_mode: str) -> dict[str, Any]:
    return vcr_settings(record_mode, before_record_request=drop_client_secret)


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return os.path.join(CASSETTES, Path(str(request.node.fspath)).stem)
