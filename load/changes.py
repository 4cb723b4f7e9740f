"""What would be pushed: the candidate snapshot diffed against the committed one, in SQL.

The queries live in ``load/sql/``; this module only names them and reads their results, so the
payload of every row can be read, and queried, as SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).with_name("sql")
COURSE_SEND = ("add", "change")


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Define the candidate and change views for this connection (temporary, never stored)."""
    for name in ("candidate_courses", "candidate_attempts", "course_changes", "attempt_changes"):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {_sql(name)}")


# Attempt operations that send nothing: the same payload, or an attempt 360Learning has closed.
ATTEMPTS_NOT_SENT = frozenset({"unchanged", "closed_in_360"})


@dataclass
class Plan:
    """Counts per kind and operation, and a few example keys of each."""

    courses: dict[str, int] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)  # sendable now, by operation
    held_attempts: int = 0  # course not in 360Learning yet
    rejected_courses: int = 0  # cannot make a valid payload
    restores_with_upsert: int = 0  # restores whose data changed too: an upsert, then a restore
    learners_without_account: int = 0  # no 360Learning user with their email (last user list)
    attempts_without_account: int = 0
    users_listed: bool = False  # whether a 360Learning user list was read yet
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        sent = sum(n for op, n in self.courses.items() if op != "unchanged")
        return sent - self.rejected_courses + self.restores_with_upsert + sum(
            n for op, n in self.attempts.items() if op not in ATTEMPTS_NOT_SENT)


def make_plan(con: duckdb.DuckDBPyConnection, samples: int = 3) -> Plan:
    """Count what a push would send now, without sending anything.

    Attempts are counted against the courses 360Learning already confirmed; courses that this
    push would add make their attempts sendable in the same push. Learners are matched against
    the last user list read from 360Learning (a push reads it again first).
    """
    prepare(con)
    plan = Plan()
    for op, n, keys in con.execute(
            "SELECT operation, count(*), list(key ORDER BY key)[1:$n] FROM course_changes "
            "GROUP BY operation", {"n": samples}).fetchall():
        plan.courses[op] = n
        plan.samples[f"course {op}"] = keys
    row = con.execute(
        "SELECT count(*) FILTER (upsert AND payload_error IS NOT NULL), "
        "count(*) FILTER (operation = 'restore' AND upsert AND payload_error IS NULL) "
        "FROM course_changes").fetchone()
    plan.rejected_courses, plan.restores_with_upsert = (int(v) for v in row) if row else (0, 0)
    # held: as attempt_changes says, except that a course this push adds is no reason to wait
    attempts = ("SELECT a.*, CASE WHEN a.held = 'course_not_in_360' AND c.operation = 'add' "
                "AND c.payload_error IS NULL THEN NULL ELSE a.held END AS will_hold "
                "FROM attempt_changes AS a LEFT JOIN course_changes AS c "
                "ON c.key = a.external_course_id")
    for op, n, keys in con.execute(
            f"SELECT operation, count(*), list(key ORDER BY key)[1:$n] FROM ({attempts}) "
            "WHERE will_hold IS NULL GROUP BY operation", {"n": samples}).fetchall():
        plan.attempts[op] = n
        plan.samples[f"attempt {op}"] = keys
    row = con.execute(
        f"SELECT count(*) FILTER (will_hold = 'course_not_in_360'), "
        "count(DISTINCT user_email) FILTER (will_hold = 'no_360_account'), "
        "count(*) FILTER (will_hold = 'no_360_account'), bool_or(users_listed) "
        f"FROM ({attempts}) WHERE operation IN ('new', 'progress', 'close')").fetchone()
    if row:
        plan.held_attempts, plan.learners_without_account, plan.attempts_without_account = (
            int(v or 0) for v in row[:3])
        plan.users_listed = bool(row[3])
    return plan
