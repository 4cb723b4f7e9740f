"""``python cli.py demo``: go1sync end to end on the built-in sandbox, the production path.

Starts seeded Go1 and 360Learning stand-ins in this process and runs what the schedule runs
(``commands.run.run_pipeline``); then changes Go1 the way a day of use does (a learner finishes
a course, a course is retired, a title is edited) and runs again, so the second run shows
what an incremental run picks up and pushes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commands.report import RunReport
from commands.run import run_pipeline
from extract.streams.learning_objects import SYNCED_TYPES
from go1sync.settings import Config, load_config
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
class DemoReport:
    warehouse: Path
    runs: list[DemoRun]
    changes: list[str]


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
    finally:
        go1.stop()
        l360.stop()
    return DemoReport(warehouse, [first, second], changes)


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
