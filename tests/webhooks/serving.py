"""What the end-to-end tests of ``webhooks serve`` share: both sandboxes synced once, the
receiver as a subprocess, signed deliveries made without go1sync's own code, and reads of the
warehouse that never get in a micro-run's way.

A :class:`World` is a Go1 and a 360Learning sandbox served in the test process, a warehouse
filled by one full run (in process, as ``tests/models/test_incremental.py`` does), and the
settings a user would export. :class:`Receiver` is ``python cli.py webhooks serve`` started
with ``subprocess.Popen`` on a free port: its stdout and stderr are read by threads (the pipes
never fill), and its URL is read from the line it prints when it listens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import requests

from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.httpserver import ServedApi
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.contract.openapi_requests import check_log
from tests.helpers import clean_env

ROOT = Path(__file__).resolve().parents[2]
SEED = Go1Seed(seed=7, learning_objects=120, users=40, enrollments=600)  # conftest's SMALL
#: distinctive, so that a grep for it finds nothing else
SECRET = "whsec-e2e-Zq8vR3kW5mN1pT6yJ4hL"
DEADLINE = 20.0  # seconds for anything the receiver is to do
BATCH_SECONDS = 0.5
RETRY_DELAYS = (0.2, 0.5, 1.0)
LISTENING = re.compile(r"receiving Go1 webhooks on (http://[^\s;]+/go1/webhooks)")

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, deadline: float = DEADLINE,
             every: float = 0.1) -> T:
    """Poll ``check`` until it returns something true; fail naming ``what`` after
    ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:.0f} s: {what} (last: {value!r})")
        time.sleep(every)


# -- deliveries made by hand -----------------------------------------------------------------

def signature(secret: str, body: bytes, t: int) -> str:
    """``Go1-Signature`` as the issue states it, computed here (not with go1sync's ``sign``)."""
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def envelope(event_type: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    """A delivery body shaped as Go1's: ``{id, event_type, webhook_version, sent,
    attempt_number, webhook_id, data}``."""
    sent = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({"id": event_id or str(uuid.uuid4()), "event_type": event_type,
                       "webhook_version": "1", "sent": sent, "attempt_number": 1,
                       "webhook_id": "e2e-by-hand", "data": data},
                      separators=(",", ":")).encode()


def deliver(url: str, body: bytes, *, secret: str = SECRET, t: int | None = None,
            header: str | None = None) -> requests.Response:
    """POST ``body`` to the receiver, signed with ``secret`` at ``t`` (default now), or with
    ``header`` as the whole ``Go1-Signature``."""
    stamp = int(time.time()) if t is None else t
    value = header if header is not None else signature(secret, body, stamp)
    return requests.post(url, data=body, timeout=10,
                         headers={"Content-Type": "application/json", "Go1-Signature": value})


# -- the receiver ----------------------------------------------------------------------------

class Receiver:
    """``python cli.py webhooks serve --listen 127.0.0.1:0`` in a subprocess."""

    def __init__(self, env: dict[str, str], batch_seconds: float = BATCH_SECONDS) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "cli.py", "webhooks", "serve", "--listen", "127.0.0.1:0",
             "--batch-seconds", str(batch_seconds)],
            cwd=ROOT, env=clean_env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [self._reader(self.process.stdout, self.stdout),
                         self._reader(self.process.stderr, self.stderr)]
        self.returncode: int | None = None
        try:
            self.url = wait_for(self._listening, "webhooks serve says where it listens")
        except BaseException:
            self.kill()
            raise

    @staticmethod
    def _reader(stream: Any, into: list[str]) -> threading.Thread:
        def read() -> None:
            for line in stream:
                into.append(line.rstrip("\n"))
        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def _listening(self) -> str | None:
        for line in list(self.stderr):
            found = LISTENING.search(line)
            if found:
                return found.group(1)
        if self.process.poll() is not None:
            raise AssertionError(f"webhooks serve exited {self.process.returncode}:\n"
                                 + self.output())
        return None

    @property
    def base(self) -> str:
        return self.url.removesuffix("/go1/webhooks")

    def pending(self) -> int:
        """What ``GET /healthz`` says is waiting in the inbox."""
        answer = requests.get(self.base + "/healthz", timeout=10)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["pending"])

    def running(self) -> bool:
        return self.process.poll() is None

    def saw(self, text: str) -> bool:
        return any(text in line for line in list(self.stderr))

    def output(self) -> str:
        return "\n".join(["[stdout]", *self.stdout, "[stderr]", *self.stderr])

    def terminate(self, timeout: float = DEADLINE) -> int:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self._finished()

    def kill(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        return self._finished()

    def _finished(self) -> int:
        for reader in self._readers:
            reader.join(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.returncode = self.process.returncode
        return self.returncode


# -- the world -------------------------------------------------------------------------------

@dataclass
class World:
    """Both sandboxes, a synced warehouse in ``folder``, the receivers started on it, and every
    CLI output seen (for the secret's grep)."""

    go1: Go1Sandbox
    l360: L360Sandbox
    folder: Path
    receivers: list[Receiver] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # enrollments and objects a test took
    checked: dict[str, int] = field(default_factory=dict)  # sandbox requests checked so far

    @property
    def warehouse(self) -> Path:
        return self.folder / "w.duckdb"

    def env(self, **extra: str) -> dict[str, str]:
        return {**self.go1.env(), **self.l360.env(), "GO1SYNC_WAREHOUSE": str(self.warehouse),
                "GO1_WEBHOOK_SECRET": SECRET, **extra}

    @property
    def receiver(self) -> Receiver:
        return self.receivers[-1]

    # processes -----------------------------------------------------------------------------
    def cli(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """``python cli.py ARGS`` with this world's settings (``tests.helpers.run_cli``)."""
        from tests.helpers import run_cli

        result = run_cli(*args, env=self.env(**extra), timeout=120)
        self.outputs += [result.stdout, result.stderr]
        return result

    def serve(self, batch_seconds: float = BATCH_SECONDS, register: bool = True) -> Receiver:
        """Start ``webhooks serve``; ``register``: point the Go1 portal's webhook at it (the
        previous receiver's, if any, is removed first)."""
        receiver = Receiver(self.env(), batch_seconds)
        previous = self.receivers[-1] if self.receivers else None
        self.receivers.append(receiver)
        if register:
            if previous is not None and any(w["url"] == previous.url for w in self.go1.webhooks):
                gone = self.cli("webhooks", "remove", GO1SYNC_WEBHOOK_URL=previous.url)
                assert gone.returncode == 0, gone.stderr
            done = self.cli("webhooks", "register", GO1SYNC_WEBHOOK_URL=receiver.url)
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.startswith("registered webhook "), done.stdout
        return receiver

    def serving(self) -> Receiver:
        """The running receiver, started (and registered) again if a test stopped it."""
        if not self.receivers or not self.receiver.running():
            return self.serve()
        return self.receiver

    def stop(self) -> None:
        for receiver in self.receivers:
            receiver.terminate()

    # the warehouse -------------------------------------------------------------------------
    @contextmanager
    def run_lock(self, wait: float = DEADLINE) -> Iterator[None]:
        """Hold the warehouse's run lock, as a scheduled run does."""
        from warehouse.lock import RunLock

        lock = RunLock(self.warehouse, "run", wait).acquire()
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def reading(self, *, locked: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the warehouse, under the run lock (a micro-run starting
        meanwhile waits for it instead of failing to open the file); ``locked``: the caller
        holds the lock already."""
        from warehouse.connection import connect

        with nullcontext() if locked else self.run_lock():
            con = connect(self.warehouse, read_only=True)
            try:
                yield con
            finally:
                con.close()

    def query(self, sql: str, params: Sequence[Any] = (), *, locked: bool = False
              ) -> list[tuple[Any, ...]]:
        with self.reading(locked=locked) as con:
            return con.execute(sql, list(params)).fetchall()

    def strings_holding(self, text: str) -> list[str]:
        """``schema.table.column`` of every warehouse column whose values, as text, hold
        ``text`` somewhere."""
        found = []
        with self.reading() as con:
            columns = con.execute("SELECT table_schema, table_name, column_name FROM "
                                  "information_schema.columns ORDER BY ALL").fetchall()
            for schema, table, column in columns:
                row = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE '
                                  f'strpos(CAST("{column}" AS VARCHAR), ?) > 0',
                                  [text]).fetchone()
                if row and row[0]:
                    found.append(f"{schema}.{table}.{column}")
        return found

    def webhook_runs(self, locked: bool = False) -> list[tuple[int, str, Any]]:
        """``(run_id, status, options)`` of each micro-run, oldest first."""
        return [(int(r[0]), str(r[1]), json.loads(r[2]) if isinstance(r[2], str) else r[2])
                for r in self.query("SELECT run_id, status, options FROM meta.runs WHERE "
                                    "command = 'webhook' ORDER BY run_id", locked=locked)]

    def events_of(self, object_id: str) -> list[tuple[str, str, int, str]]:
        """``(event_key, event_type, run_id, outcome)`` of the processed events naming
        ``object_id`` (``data.id``)."""
        return [(str(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in self.query(
            "SELECT event_key, event_type, run_id, outcome FROM meta.webhook_events "
            "WHERE object_id = ? ORDER BY event_key", [object_id])]

    # 360Learning -----------------------------------------------------------------------------
    def attempts_of(self, lo_id: str, email: str) -> list[dict[str, Any]]:
        return [a for a in self.l360.attempts
                if a["externalCourseId"] == lo_id and a["mail"] == email]

    def course(self, lo_id: str) -> dict[str, Any] | None:
        return next((c for (_, external), c in self.l360.courses.items()
                     if external == lo_id), None)

    def settled(self) -> bool:
        """Nothing left in the inbox and no bulk operation going on in 360Learning."""
        return self.receiver.pending() == 0 and self.l360.wait_for_operations(0.5)

    # picking test data -------------------------------------------------------------------
    def email(self, user_account_id: str) -> str | None:
        account = self.go1.user_accounts.get(user_account_id) or {}
        value = ((account.get("user") or {}).get("email") or "").strip()
        return value or None

    def open_attempt(self) -> tuple[str, str, str]:
        """``(enrollment id, lo_id, email)`` of an in-progress Go1 enrollment, the only one
        of its learner on its course, whose 360Learning attempt is the only one and open."""
        go1 = self.go1
        listed = list(go1.enrollments.items())
        pairs: dict[tuple[str, str], int] = {}
        for _, doc in [*listed, *go1.archived_enrollments.items()]:
            key = (str(doc["user_account_id"]), str(doc["lo_id"]))
            pairs[key] = pairs.get(key, 0) + 1
        for enrollment_id, doc in sorted(listed):
            user, lo_id = str(doc["user_account_id"]), str(doc["lo_id"])
            email = self.email(user)
            if (doc["status"] != "in-progress" or email is None or pairs[(user, lo_id)] != 1
                    or enrollment_id in self.used or lo_id in self.used):
                continue
            attempts = self.attempts_of(lo_id, email)
            if len(attempts) == 1 and not attempts[0]["completed"]:
                self.used.update({enrollment_id, lo_id})
                return enrollment_id, lo_id, email
        raise AssertionError("the seed has no open attempt left to close")

    def synced_courses(self) -> list[str]:
        """lo_ids of the courses 360Learning holds, not archived, in Go1's library and
        published, not yet taken by a test."""
        go1 = self.go1
        return sorted((external for (_, external), c in self.l360.courses.items()
                       if not c["archived"] and external in go1.library
                       and go1.learning_objects[external]["lifecycle"]["state"] == "published"
                       and external not in self.used), key=int)

    def fresh_pair(self) -> tuple[str, str, str]:
        """``(lo_id, user_account_id, email)``: a synced course and a learner 360Learning
        knows who never enrolled in it."""
        go1 = self.go1
        taken = {(str(d["user_account_id"]), str(d["lo_id"]))
                 for d in [*go1.enrollments.values(), *go1.archived_enrollments.values()]}
        known = set(self.l360.users)
        for lo_id in self.synced_courses():
            for user in sorted(go1.user_accounts):
                email = self.email(user)
                if email in known and (user, lo_id) not in taken \
                        and str(go1.user_accounts[user].get("status")) == "active":
                    assert email is not None
                    self.used.add(lo_id)
                    return lo_id, user, email
        raise AssertionError("the seed has no learner left to enrol")


@contextmanager
def world_in(folder: Path) -> Iterator[World]:
    """A :class:`World` in ``folder``: both sandboxes served, one full run done; every receiver
    started in it is stopped on the way out, then the sandboxes."""
    from commands.run import run_pipeline
    from go1sync.settings import load_config

    go1 = Go1Sandbox(SEED).serve()
    try:
        go1.delivery_retry_delays = RETRY_DELAYS
        with L360Sandbox(learner_emails=learner_emails(go1)) as l360:
            world = World(go1, l360, folder)
            try:
                env = world.env()
                del env["GO1_WEBHOOK_SECRET"]  # a scheduled run needs no secret
                report = run_pipeline(load_config(env=env))
                assert report.ok, report.problems()
                assert l360.wait_for_operations(DEADLINE)
                yield world
            finally:
                world.stop()
    finally:
        go1.stop()


def undocumented(apis: Sequence[tuple[str, ServedApi]], since: dict[str, int]) -> list[str]:
    """The requests the sandboxes received from position ``since[name]`` on that the OpenAPI
    files do not document (each log is checked whole: a request may follow a link)."""
    problems = []
    for name, api in apis:
        problems += [str(p) for p in check_log(name, api.requests).problems
                     if p.index >= since.get(name, 0)]
    return problems
