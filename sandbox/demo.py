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
from sandbox.go1 import Go1Sandbox, Go1Seed
from settings import load_config

STREAMS = ["learning_objects", "enrollments", "user_accounts"]
SYNCED = {"course", "document", "interactive", "text", "video", "link", "audio"}

QUERIES = (
    ("what each run did",
     "SELECT run_id, stream, records_read, records_landed FROM meta.stream_runs ORDER BY 1, 2;"),
    ("the catalog by type and state",
     "SELECT record->>'$.core.type' AS type, record->>'$.lifecycle.state' AS state, count(*) "
     "FROM raw.go1_learning_objects_latest GROUP BY ALL ORDER BY ALL;"),
    ("enrollments by status",
     "SELECT record->>'$.status' AS status, count(*) FROM raw.go1_enrollments_latest "
     "GROUP BY ALL ORDER BY 2 DESC;"),
)


@dataclass
class DemoReport:
    warehouse: Path
    runs: list[ExtractReport]
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
    try:
        config = load_config(env={**go1.env(), "GO1SYNC_WAREHOUSE": str(warehouse)})
        echo(f"Go1 sandbox on {go1.url}; warehouse {warehouse}")
        first = run_extract(config, STREAMS)
        changes = change_go1(go1)
        second = run_extract(config, STREAMS)
    finally:
        go1.stop()
    return DemoReport(warehouse, [first, second], changes)
