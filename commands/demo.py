"""``python cli.py demo``: go1sync end to end on the built-in sandbox, the production path.

Starts seeded Go1 and 360Learning stand-ins in this process and runs what the schedule runs
(``commands.run.run_pipeline``); then changes Go1 the way a day of use does (a learner finishes
a course, a course is retired, a title is edited) and runs again, so the second run shows
what an incremental run picks up and pushes. Last, the near-real-time path: the webhook
receiver and its worker start (``commands.webhooks``), go1sync's webhook is registered on the
Go1 stand-in, a learner finishes a course, and the demo times the signed delivery, the
micro-run and the push until 360Learning shows the attempt closed.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commands.report import RunReport
from commands.run import run_pipeline
from extract.streams.learning_objects import SYNCED_TYPES
from go1sync.settings import Config, inbox_beside, load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from warehouse.status import MartsSummary, read_marts_summary

SEED = Go1Seed(seed=7, learning_objects=300, users=80, enrollments=2000)


@dataclass
class DemoRun:
    run: RunReport
    marts: MartsSummary  # what the models made of it


@dataclass
class NearRealTime:
    """The webhook step: what changed in Go1, and the seconds until 360Learning showed it
    (None: not within :data:`NEAR_REAL_TIME_DEADLINE`)."""

    change: str
    seconds: float | None
    batch_seconds: float


@dataclass
class DemoReport:
    warehouse: Path
    runs: list[DemoRun]
    changes: list[str]
    near_real_time: NearRealTime | None = None


NEAR_REAL_TIME_DEADLINE = 30.0  # seconds the demo waits for the attempt to close
DEMO_BATCH_SECONDS = 1.0  # the worker's gathering window in the demo (5 s by default)


def change_go1(go1: Go1Sandbox) -> list[str]:
    """A day of Go1 activity, picked deterministically from the seeded data."""
    changes = []
    synced_library = sorted(
        (lo_id for lo_id in go1.library
         if go1.learning_objects[lo_id]["core"]["type"] in SYNCED_TYPES
         and go1.learning_objects[lo_id]["lifecycle"]["state"] == "published"),
        key=int)
    started = sorted(e["id"] for e in go1.enrollments.values()
                     if e["status"] == "in-progress" and str(e["lo_id"]) in go1.library)
    if started:
        go1.complete_enrollment(started[0], passed=True)
        changes.append(f"enrollment {started[0]} completed (pass)")
    if synced_library:
        go1.retire(synced_library[0])
        changes.append(f"learning object {synced_library[0]} retired")
    if len(synced_library) > 1:
        title = str(go1.learning_objects[synced_library[1]]["core"]["title"])
        go1.edit_title(synced_library[1], "Edited in Go1: " + title)
        changes.append(f"learning object {synced_library[1]} title edited")
    return changes


def run_demo(warehouse: Path, echo: Callable[[str], None] = print) -> DemoReport:
    for leftover in (warehouse, Path(f"{warehouse}.wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(inbox_beside(warehouse), ignore_errors=True)  # the webhook step's
    go1 = Go1Sandbox(SEED).serve()
    l360 = L360Sandbox(learner_emails=learner_emails(go1)).serve()
    try:
        config = load_config(env={**go1.env(), **l360.env(),
                                  "GO1SYNC_WAREHOUSE": str(warehouse)})
        echo(f"Go1 sandbox on {go1.url}, 360Learning sandbox on {l360.url}; "
             f"warehouse {warehouse}")
        first = _run(config)
        changes = change_go1(go1)
        second = _run(config)
        l360.wait_for_operations()
        live = near_real_time(go1, l360, {**go1.env(), **l360.env(),
                                          "GO1SYNC_WAREHOUSE": str(warehouse)})
    finally:
        go1.stop()
        l360.stop()
    return DemoReport(warehouse, [first, second], changes, live)


def near_real_time(go1: Go1Sandbox, l360: L360Sandbox, env: dict[str, str]) -> NearRealTime:
    """Receive Go1's webhooks, finish a course in Go1, time it until 360Learning shows it."""
    from commands.webhooks import register_webhook, start_receiving

    env = {**env, "GO1_WEBHOOK_SECRET": secrets.token_urlsafe(24)}  # never shown
    receiving = start_receiving(load_config(env=env), listen=("127.0.0.1", 0),
                                batch_seconds=DEMO_BATCH_SECONDS, log=lambda line: None)
    try:
        register_webhook(load_config(env={**env, "GO1SYNC_WEBHOOK_URL":
                                          f"{receiving.url}/go1/webhooks"}))
        enrollment_id, course, email = _open_attempt(go1, l360)
        began = time.monotonic()
        go1.complete_enrollment(enrollment_id, passed=True)
        change = f"enrollment {enrollment_id} completed (course {course}, {email})"
        while time.monotonic() - began < NEAR_REAL_TIME_DEADLINE:
            if any(a["externalCourseId"] == course and a["mail"] == email and a["completed"]
                   for a in l360.attempts):
                return NearRealTime(change, time.monotonic() - began, DEMO_BATCH_SECONDS)
            time.sleep(0.05)
        return NearRealTime(change, None, DEMO_BATCH_SECONDS)
    finally:
        receiving.stop()


def _open_attempt(go1: Go1Sandbox, l360: L360Sandbox) -> tuple[str, str, str]:
    """An in-progress Go1 enrollment whose attempt 360Learning holds open."""
    open_pairs = {(a["externalCourseId"], a["mail"]) for a in l360.attempts
                  if not a["completed"]}
    emails = {uid: str(acc.get("user", {}).get("email", "")).strip().lower()
              for uid, acc in go1.user_accounts.items()}
    for enrollment_id, e in sorted(go1.enrollments.items()):
        pair = (str(e["lo_id"]), emails.get(str(e["user_account_id"]), ""))
        if e["status"] == "in-progress" and pair in open_pairs:
            return enrollment_id, pair[0], pair[1]
    raise RuntimeError("the demo's sandbox has no open attempt to complete")


def _run(config: Config) -> DemoRun:
    report = run_pipeline(config)
    return DemoRun(report, read_marts_summary(config.warehouse_path()))


# What the demo suggests looking at afterwards, each as a `sql` command line that works with
# what pip installed (its duckdb package has no shell).
DEMO_QUERIES = (
    ("courses for 360Learning, by type and whether archived",
     "SELECT content_type, archived, archived_reason, count(*) FROM marts.content_360 "
     "GROUP BY ALL ORDER BY ALL"),
    ("learners with open attempts",
     "SELECT user_email, count(*) AS open_attempts FROM marts.attempts_360 "
     "WHERE attempt_state = 'open' GROUP BY 1 ORDER BY 2 DESC LIMIT 10"),
    ("why records were not mapped",
     "SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL ORDER BY 3 DESC"),
    ("what the next push would send",
     "SELECT operation, count(*) FROM outbound.attempt_changes WHERE planned GROUP BY 1"),
)


def query_hints(program: str, warehouse: Path) -> list[tuple[str, str]]:
    """(title, command line) per demo query: ``program sql --warehouse W "SELECT …"``, quoted
    for a POSIX shell (double quotes: the queries' own quotes are single)."""
    import shlex

    def quoted(text: str) -> str:
        return f'"{text}"' if not set(text) & set('"$`\\!') else shlex.quote(text)

    return [(title, f"{program} sql --warehouse {shlex.quote(str(warehouse))} {quoted(sql)}")
            for title, sql in DEMO_QUERIES]
