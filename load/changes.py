"""What the next push would send: the outbound change sets, counted.

The rules are the models ``models/outbound/`` (payloads, change sets, ``send``, ``planned``
and ``held_reason`` columns); this module only counts their rows, so ``plan`` and ``push`` read
one relation and Python restates no predicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from warehouse.errors import WarehouseError

OUTBOUND = ("course_changes", "attempt_changes", "share_changes")


def require_outbound(con: duckdb.DuckDBPyConnection) -> None:
    """The outbound models exist (a transform made them), or one line saying what to do."""
    found = {str(r[0]) for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'outbound'"
    ).fetchall()}
    if not set(OUTBOUND) <= found:
        raise WarehouseError("no outbound models yet: run `python cli.py transform` first")


@dataclass
class Plan:
    """Counts per kind and operation, and a few example keys of each."""

    courses: dict[str, int] = field(default_factory=dict)  # rows to write, by operation
    attempts: dict[str, int] = field(default_factory=dict)  # planned, by operation
    unchanged_courses: int = 0
    unchanged_attempts: int = 0
    closed_in_360: int = 0  # changed in Go1 after 360Learning closed them: never sent
    rejected_courses: int = 0  # cannot make a valid payload (marts.rejects, invalid_payload)
    restores_with_upsert: int = 0  # restores whose data changed too: an upsert, then a restore
    held_attempts: int = 0  # course not in 360Learning, and not upserted by this push
    learners_without_account: int = 0  # no 360Learning user with their email (last user list)
    attempts_without_account: int = 0
    users_listed: bool = False  # whether a 360Learning user list was read yet
    share_changes: int = 0  # known now; a course this push adds is shared once it has an id
    unsettled: int = 0  # held until an operation an earlier push left is settled
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        """Rows the push writes: courses (a restore with new data counts twice) and attempts."""
        return (sum(self.courses.values()) + self.restores_with_upsert
                + sum(self.attempts.values()))


def make_plan(con: duckdb.DuckDBPyConnection, samples: int = 3) -> Plan:
    """Count what a push would send now, without sending anything.

    Learners are matched against the last user list read from 360Learning (a push reads it
    again first, so a user created since then is found there).
    """
    require_outbound(con)
    plan = Plan()
    for op, n, keys in con.execute(
            "SELECT operation, count(*), list(key ORDER BY key)[1:$n] FROM outbound.course_changes "
            "WHERE send GROUP BY operation", {"n": samples}).fetchall():
        plan.courses[op] = n
        plan.samples[f"course {op}"] = keys
    row = con.execute(
        "SELECT count(*) FILTER (operation = 'unchanged'), "
        "count(*) FILTER (held_reason = 'invalid_payload'), "
        "count(*) FILTER (operation = 'restore' AND upsert) "
        "FROM outbound.course_changes").fetchone()
    if row:
        plan.unchanged_courses, plan.rejected_courses, plan.restores_with_upsert = (
            int(v or 0) for v in row)
    for op, n, keys in con.execute(
            "SELECT operation, count(*), list(key ORDER BY key)[1:$n] "
            "FROM outbound.attempt_changes WHERE planned GROUP BY operation",
            {"n": samples}).fetchall():
        plan.attempts[op] = n
        plan.samples[f"attempt {op}"] = keys
    row = con.execute(
        "SELECT count(*) FILTER (operation = 'unchanged'), "
        "count(*) FILTER (operation = 'closed_in_360'), "
        "count(*) FILTER (NOT planned AND held_reason = 'course_not_in_360'), "
        "count(DISTINCT user_email) FILTER (held_reason = 'no_360_account'), "
        "count(*) FILTER (held_reason = 'no_360_account'), bool_or(users_listed) "
        "FROM outbound.attempt_changes").fetchone()
    if row:
        (plan.unchanged_attempts, plan.closed_in_360, plan.held_attempts,
         plan.learners_without_account, plan.attempts_without_account) = (
            int(v or 0) for v in row[:5])
        plan.users_listed = bool(row[5])
    row = con.execute("SELECT count(*) FROM outbound.share_changes").fetchone()
    plan.share_changes = int(row[0]) if row else 0
    row = con.execute(
        "SELECT (SELECT count(*) FROM outbound.course_changes WHERE held_reason = $r) "
        "+ (SELECT count(*) FROM outbound.attempt_changes WHERE held_reason = $r)",
        {"r": "operation_unsettled"}).fetchone()
    plan.unsettled = int(row[0]) if row and row[0] else 0
    return plan
