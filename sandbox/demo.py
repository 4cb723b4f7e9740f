"""The README's first command: go1sync end to end on the sandbox, no credentials, no network.

Starts a seeded Go1 sandbox in this process, extracts, then changes Go1 the way a day of use
does (a learner finishes a course, a course is retired, a title is edited) and extracts again,
so the second run shows what incremental extraction picks up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from extract.job import ExtractReport, run_extract
from load.job import PushReport, run_push
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from settings import Config, load_config
from warehouse.connection import connect
from warehouse.transform import run_transform

STREAMS = ["learning_objects", "enrollments", "user_accounts"]
SYNCED = {"course", "document", "interactive", "text", "video", "link", "audio"}

QUERIES = (
    ("courses for 360Learning, by type and whether archived",
     "SELECT content_type, archived, archived_reason, count(*) FROM marts.content_360 "
     "GROUP BY ALL ORDER BY ALL;"),
    ("learners with open attempts",
     "SELECT user_email, count(*) AS open_attempts FROM marts.attempts_360 "
     "WHERE attempt_state = 'open' GROUP BY 1 ORDER BY 2 DESC LIMIT 10;"),
    ("why records were not mapped",
     "SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL ORDER BY 3 DESC;"),
)


@dataclass
class DemoRun:
    extract: ExtractReport
    marts: dict[str, int]  # what the models made of it
    push: PushReport


def learner_emails(go1: Go1Sandbox) -> list[str]:
    """The Go1 learners' emails: 360Learning must know the same people by the same email."""
    found = {((a.get("user") or {}).get("email") or "").strip().lower()
             for a in go1.user_accounts.values()}
    return sorted(e for e in found if e)


@dataclass
class DemoReport:
    warehouse: Path
    runs: list[DemoRun]
    changes: list[str]


def change_go1(go1: Go1Sandbox) -> list[str]:
    """A day of Go1 activity, picked deterministically from the seeded data."""
    changes = []
    synced_library = sorted(
        (lo_id for lo_id in go1.library
         if go1.learning_objects[lo_id]["core"]["type"] in SYNCED
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
        go1.edit_title(synced_library[1], "Edited in Go1: " + _title(go1, synced_library[1]))
        changes.append(f"learning object {synced_library[1]} title edited")
    return changes


def _title(go1: Go1Sandbox, lo_id: str) -> str:
    return str(go1.learning_objects[lo_id]["core"]["title"])


def run_demo(warehouse: Path, echo: Callable[[str], None] = print) -> DemoReport:
    for leftover in (warehouse, Path(f"{warehouse}.wal")):
        leftover.unlink(missing_ok=True)
    go1 = Go1Sandbox(Go1Seed(seed=7, learning_objects=300, users=80, enrollments=2000)).serve()
    l360 = L360Sandbox(learner_emails=learner_emails(go1)).serve()
    try:
        config = load_config(env={**go1.env(), **l360.env(),
                                  "GO1SYNC_WAREHOUSE": str(warehouse)})
        echo(f"Go1 sandbox on {go1.url}, 360Learning sandbox on {l360.url}; "
             f"warehouse {warehouse}")
        first = _run(config)
        changes = change_go1(go1)
        second = _run(config)
    finally:
        go1.stop()
        l360.stop()
    return DemoReport(warehouse, [first, second], changes)


def _run(config: Config) -> DemoRun:
    extracted = run_extract(config, STREAMS)
    run_transform(config)
    con = connect(config.warehouse_path(), read_only=True)
    try:
        row = con.execute(
            "SELECT (SELECT count(*) FROM marts.content_360 WHERE NOT archived),"
            " (SELECT count(*) FROM marts.content_360 WHERE archived),"
            " (SELECT count(*) FROM marts.attempts_360 WHERE attempt_state = 'open'),"
            " (SELECT count(*) FROM marts.attempts_360 WHERE attempt_state = 'closed'),"
            " (SELECT count(*) FROM marts.rejects)").fetchone()
    finally:
        con.close()
    names = ("live courses", "archived courses", "open attempts", "closed attempts", "rejects")
    pushed = run_push(config)
    return DemoRun(extracted, dict(zip(names, row or (), strict=True)), pushed)
