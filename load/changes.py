"""What the next push would send: the outbound change sets, counted.

The rules are the models ``models/outbound/`` (payloads, change sets, ``send``, ``planned``
and ``held_reason`` columns); this module only counts their rows, so ``plan`` and ``push`` read
one relation and Python restates no predicate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from warehouse.errors import WarehouseError

OUTBOUND = ("course_changes", "attempt_changes", "share_changes")
# The session variable outbound.share_changes reads the groups from when it is set (else from
# meta.share_groups, as the last push recorded them).
SHARE_GROUPS_VARIABLE = "share_groups"


def share_groups(group_ids: Sequence[str]) -> list[str]:
    """The groups the integration shares its courses with: the settings' groups but the first,
    which hosts it (and holds its courses already)."""
    return list(group_ids[1:])


@contextmanager
def sharing_with(con: duckdb.DuckDBPyConnection,
                 groups: Sequence[str] | None) -> Iterator[None]:
    """Read outbound.share_changes with these groups (the settings' own) rather than those the
    last push recorded: on a warehouse that never pushed, none are recorded, yet the push will
    share every course it adds. ``None`` leaves the recorded groups. A read-only connection can
    set it, so ``plan`` stays a reader."""
    if groups is None:
        yield
        return
    con.execute(f"SET VARIABLE {SHARE_GROUPS_VARIABLE} = $groups::VARCHAR[]",
                {"groups": list(groups)})
    try:
        yield
    finally:
        con.execute(f"RESET VARIABLE {SHARE_GROUPS_VARIABLE}")


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
    shares: dict[str, int] = field(default_factory=dict)  # share calls (add, remove)
    unchanged_courses: int = 0
    never_pushed_courses: int = 0  # archived in Go1 before any push: nothing to send
    unchanged_attempts: int = 0
    closed_in_360: int = 0  # changed in Go1 after 360Learning closed them: never sent
    rejected_courses: int = 0  # cannot make a valid payload (marts.rejects, invalid_payload)
    restores_with_upsert: int = 0  # restores whose data changed too: an upsert, then a restore
    held_attempts: int = 0  # course not in 360Learning, and not upserted by this push
    learners_without_account: int = 0  # no 360Learning user with their email (last user list)
    attempts_without_account: int = 0
    users_listed: bool = False  # whether a 360Learning user list was read yet
    # of shares["add"]: of courses whose 360Learning id is not known yet (those this push adds,
    # mostly), shared once the push reads it
    shares_awaiting_ids: int = 0
    unsettled: int = 0  # held until an operation an earlier push left is settled
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        """Rows the push writes: courses (a restore with new data counts twice) and attempts."""
        return (sum(self.courses.values()) + self.restores_with_upsert
                + sum(self.attempts.values()))

    @property
    def total(self) -> int:
        """Everything the push sends: the rows it writes and the shares (what its ``sent``
        column adds up to when every call goes through)."""
        return self.writes + sum(self.shares.values())


def make_plan(con: duckdb.DuckDBPyConnection, samples: int = 3,
              groups: Sequence[str] | None = None) -> Plan:
    """Count what a push would send now, without sending anything.

    Learners are matched against the last user list read from 360Learning (a push reads it
    again first, so a user created since then is found there). ``groups``: those the push
    shares with (:func:`share_groups` of the settings), when known.
    """
    require_outbound(con)
    plan = Plan()
    with sharing_with(con, groups):
        _count(con, plan, samples)
    return plan


def _count(con: duckdb.DuckDBPyConnection, plan: Plan, samples: int) -> None:
    for op, n, keys in con.execute(
            "SELECT operation, count(*), list(key ORDER BY key)[1:$n] FROM outbound.course_changes "
            "WHERE send GROUP BY operation", {"n": samples}).fetchall():
        plan.courses[op] = n
        plan.samples[f"course {op}"] = keys
    row = con.execute(
        "SELECT count(*) FILTER (operation = 'unchanged'), "
        "count(*) FILTER (operation = 'never_pushed'), "
        "count(*) FILTER (held_reason = 'invalid_payload'), "
        "count(*) FILTER (operation = 'restore' AND upsert) "
        "FROM outbound.course_changes").fetchone()
    if row:
        (plan.unchanged_courses, plan.never_pushed_courses, plan.rejected_courses,
         plan.restores_with_upsert) = (int(v or 0) for v in row)
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
    for op, n, new in con.execute(
            "SELECT operation, count(*), count(*) FILTER (course_id IS NULL) "
            "FROM outbound.share_changes GROUP BY operation").fetchall():
        plan.shares[str(op)] = int(n)
        plan.shares_awaiting_ids += int(new)
    row = con.execute(
        "SELECT (SELECT count(*) FROM outbound.course_changes WHERE held_reason = $r) "
        "+ (SELECT count(*) FROM outbound.attempt_changes WHERE held_reason = $r)",
        {"r": "operation_unsettled"}).fetchone()
    plan.unsettled = int(row[0]) if row and row[0] else 0
