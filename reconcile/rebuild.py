"""Rebuilding the pushed snapshot from what 360Learning holds, for a lost or restored warehouse.

The snapshot (``meta.pushed_courses``, ``meta.pushed_attempts``) is what the diff compares
against: lose it and every course looks new and every statistic unsent, so a push would resend
them all (an old completion sent again merges into a newer open attempt) and never archive
what left Go1 meanwhile. Here it is read back instead: each course Go1 ever listed is asked of
the integration (there is no list of an integration's courses), its archived state taken from
the platform's course list; each 360Learning attempt is tied to the Go1 enrollment with the
same course, learner and first activity (to the second).

What was pushed is not known, only what 360Learning holds now, so rebuilt rows carry the hash
``rebuilt``: the next push upserts each live course once more (an upsert is idempotent and
leaves archived courses archived), archives what Go1 retired, restores what it re-published,
sends open attempts again as progress of the same attempt, and never resends a closed one.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from go1sync.settings import L360Settings
from load.client import L360Client
from load.errors import LoadError
from load.integration import find_integration
from load.push import remember_target
from reconcile.readback import ReadProgress, read_back
from warehouse.connection import transaction

REBUILT = "rebuilt"  # the payload hash of a rebuilt row: differs from every real payload

_COURSES = """
INSERT INTO meta.pushed_courses BY NAME
SELECT i.external_id,
       $hash AS payload_hash,
       coalesce(c.record ->> '$.status' = 'archived', false) AS archived,
       i.record ->> '$.courseId' AS course_id,
       i.record AS payload,
       $run AS run_id,
       now() AS confirmed_at,
       NULL AS resource_id
FROM raw.l360_integration_courses AS i
LEFT JOIN raw.l360_courses AS c
    ON c._run_id = $run AND c.course_id = i.record ->> '$.courseId'
WHERE i._run_id = $run AND i.found
  AND (c.record ->> '$.status') IS DISTINCT FROM 'deleted'
"""

_ATTEMPTS = """
INSERT INTO meta.pushed_attempts
SELECT a.key, $hash, a.external_course_id, a.user_email,
       CASE WHEN bool_or(s.record ->> '$.completedAt' IS NOT NULL
                         OR TRY_CAST(s.record ->> '$.progress' AS DOUBLE) >= 100)
            THEN 'closed' ELSE 'open' END,
       NULL, $run, now()
FROM outbound.attempt_payloads AS a
JOIN meta.pushed_courses AS p ON p.external_id = a.external_course_id
JOIN raw.l360_course_stats AS s
    ON s._run_id = $run AND s.course_id = p.course_id AND s.user_id = a.l360_user_id
   AND date_trunc('second', TRY_CAST(s.record ->> '$.firstActivityAt' AS TIMESTAMPTZ))
       = date_trunc('second', a.first_activity)
GROUP BY a.key, a.external_course_id, a.user_email
"""

# attempts of the integration's courses that no Go1 enrollment explains
_UNMATCHED = """
SELECT count(*) FROM raw.l360_course_stats AS s
JOIN meta.pushed_courses AS p ON p.course_id = s.course_id
WHERE s._run_id = $run AND NOT EXISTS (
    SELECT 1 FROM outbound.attempt_payloads AS a
    WHERE a.external_course_id = p.external_id AND a.l360_user_id = s.user_id
      AND date_trunc('second', a.first_activity)
          = date_trunc('second', TRY_CAST(s.record ->> '$.firstActivityAt' AS TIMESTAMPTZ)))
"""


@dataclass
class Rebuilt:
    integration_id: str
    asked: int = 0  # Go1 learning objects asked of the integration
    courses: int = 0
    archived: int = 0
    attempts: int = 0
    closed: int = 0
    unmatched_attempts: int = 0


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] else 0


def rebuild_snapshot(con: duckdb.DuckDBPyConnection, client: L360Client,
                     settings: L360Settings, run_id: int, replace: bool = False,
                     progress: ReadProgress = lambda what, done, total: None
                     ) -> Rebuilt:
    """Read the integration's courses and attempts back into ``meta.pushed_*``.

    Refused when the snapshot holds rows (unless ``replace``) or rows are still unsettled:
    a snapshot that exists is better evidence than a read-back.
    """
    held = _count(con, "SELECT (SELECT count(*) FROM meta.pushed_courses) "
                       "+ (SELECT count(*) FROM meta.pushed_attempts)", {})
    if held and not replace:
        raise LoadError(f"this warehouse's snapshot holds {held:,} pushed row(s): "
                        "rebuild-snapshot is for a lost or restored warehouse; add --replace "
                        "to read it back from 360Learning anyway")
    if _count(con, "SELECT count(*) FROM meta.push_ledger "
                   "WHERE status IN ('pending', 'submitted', 'uncertain')", {}):
        raise LoadError("some pushed rows are not settled yet: run `python cli.py push` first")
    found = find_integration(client, settings)
    if found is None:
        raise LoadError(f"360Learning has no {settings.platform_name!r} integration in group "
                        f"{settings.group_ids[0]}: nothing to rebuild, a first push creates it")
    integration_id = str(found["_id"])
    ids = [str(r[0]) for r in con.execute(
        "SELECT DISTINCT lo_id FROM raw.go1_learning_objects WHERE lo_id IS NOT NULL "
        "ORDER BY 1").fetchall()]
    if not ids:
        raise LoadError("no Go1 learning objects in this warehouse yet: extract first")
    read_back(con, client, integration_id, run_id, ids, progress)
    params: dict[str, object] = {"run": run_id, "hash": REBUILT}
    with transaction(con):
        con.execute("DELETE FROM meta.pushed_attempts")
        con.execute("DELETE FROM meta.pushed_courses")
        con.execute(_COURSES, params)
        con.execute(_ATTEMPTS, params)
        remember_target(con, settings.api_url, integration_id, settings.group_ids[0], run_id)
    result = Rebuilt(integration_id, asked=len(ids))
    row = con.execute("SELECT count(*), count(*) FILTER (archived) FROM meta.pushed_courses"
                      ).fetchone()
    result.courses, result.archived = (int(row[0]), int(row[1])) if row else (0, 0)
    row = con.execute("SELECT count(*), count(*) FILTER (attempt_state = 'closed') "
                      "FROM meta.pushed_attempts").fetchone()
    result.attempts, result.closed = (int(row[0]), int(row[1])) if row else (0, 0)
    result.unmatched_attempts = _count(con, _UNMATCHED, {"run": run_id})
    return result
