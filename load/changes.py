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
    attempts: dict[str, int] = field(default_factory=dict)
    held_attempts: int = 0  # course not in 360Learning yet
    rejected_courses: int = 0  # cannot make a valid payload
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        sent = sum(n for op, n in self.courses.items() if op != "unchanged")
        return sent - self.rejected_courses + sum(
            n for op, n in self.attempts.items() if op not in ATTEMPTS_NOT_SENT)


def make_plan(con: duckdb.DuckDBPyConnection, samples: int = 3) -> Plan:
    """Count what a push would send now, without sending anything.

    Attempts are counted against the courses 360Learning already confirmed; courses that this
    push would add make their attempts sendable in the same push.
    """
    prepare(con)
    plan = Plan()
    for op, n, keys in con.execute(
            "SELECT operation, count(*), list(key ORDER BY key)[1:$n] FROM course_changes "
            "GROUP BY operation", {"n": samples}).fetchall():
        plan.courses[op] = n
        plan.samples[f"course {op}"] = keys
    row = con.execute("SELECT count(*) FROM course_changes "
                      "WHERE operation IN ('add', 'change') AND payload_error IS NOT NULL"
                      ).fetchone()
    plan.rejected_courses = int(row[0]) if row else 0
    for op, n, keys in con.execute(
            "SELECT a.operation, count(*), list(a.key ORDER BY a.key)[1:$n] "
            "FROM attempt_changes AS a LEFT JOIN course_changes AS c "
            "  ON c.key = a.external_course_id "
            "WHERE a.course_in_360 OR (c.operation = 'add' AND c.payload_error IS NULL) "
            "GROUP BY a.operation", {"n": samples}).fetchall():
        plan.attempts[op] = n
        plan.samples[f"attempt {op}"] = keys
    row = con.execute(
        "SELECT count(*) FROM attempt_changes AS a LEFT JOIN course_changes AS c "
        "  ON c.key = a.external_course_id "
        "WHERE NOT a.course_in_360 AND NOT (c.operation = 'add' AND c.payload_error IS NULL) "
        "  AND a.operation NOT IN ('unchanged', 'closed_in_360')").fetchone()
    plan.held_attempts = int(row[0]) if row else 0
    return plan
