"""The push ledger: every row sent, its bulk operation, its outcome, and promotion.

Order of writes, each committed before the next step, so a crash anywhere leaves a ledger the
next run can finish from:

1. rows written ``pending`` (with their payload) before the submit;
2. after the 202, the operation id recorded and the rows marked ``submitted``;
3. when the results are read, in ONE transaction: each row ``success`` or ``error``, the
   operation ``completed``/``error``, and the successes promoted into the committed snapshot.

A submit whose answer was lost (a 5xx, a reset, a timeout after 360Learning may have accepted
it) leaves its rows ``uncertain``: like ``pending`` rows after a crash, they are settled by
finding their operation in 360Learning's list by the inputs it echoes (:func:`adopt`), and
released for sending again only once that list proves no operation took them. Until then the
outbound models hold them, and the statistics of their courses (``operation_unsettled``).

A row is promoted only on 360Learning's success; everything needed to promote it is in its
ledger row, so an operation submitted by a process that died is settled by the next one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from load.bulk import BulkOperation, BulkOutcome
from load.client import JsonText
from warehouse.connection import transaction


@dataclass(frozen=True)
class PushRow:
    kind: str  # course_upsert | course_archive | course_restore | attempt
    key: str
    operation: str
    payload: dict[str, Any] | JsonText  # JsonText: a statistics record, as the model built it
    payload_hash: str | None
    learner_email: str | None = None  # attempts: the learner, whatever identifier is sent


def record_pending(con: duckdb.DuckDBPyConnection, run_id: int, rows: Sequence[PushRow],
                   status: str = "pending", error: str | None = None) -> None:
    """Write rows before they are sent (or ``rejected`` ones that will not be)."""
    if not rows:
        return
    con.execute(
        """
        INSERT OR REPLACE INTO meta.push_ledger BY NAME
        SELECT $run_id AS run_id, r.kind, r.key, r.operation, r.payload_hash, r.payload,
               NULL AS bulk_operation_id, $status AS status, $error AS error,
               1 + coalesce((SELECT count(*) FROM meta.push_ledger AS l
                             WHERE l.kind = r.kind AND l.key = r.key
                               AND l.payload_hash IS NOT DISTINCT FROM r.payload_hash
                               AND l.run_id < $run_id), 0) AS tries,
               now() AS updated_at, r.learner_email
        FROM (SELECT unnest($kinds) AS kind, unnest($keys) AS key, unnest($ops) AS operation,
                     unnest($hashes) AS payload_hash,
                     CAST(unnest($payloads) AS JSON) AS payload,
                     unnest($learners) AS learner_email) AS r
        """,
        {"run_id": run_id, "status": status, "error": error,
         "kinds": [r.kind for r in rows], "keys": [r.key for r in rows],
         "ops": [r.operation for r in rows], "hashes": [r.payload_hash for r in rows],
         "payloads": [r.payload if isinstance(r.payload, JsonText) else json.dumps(r.payload)
                      for r in rows],
         "learners": [r.learner_email for r in rows]})


def record_submitted(con: duckdb.DuckDBPyConnection, run_id: int, kind: str,
                     keys: Sequence[str], operation: BulkOperation) -> None:
    with transaction(con):
        con.execute("INSERT INTO meta.bulk_operations VALUES (?, ?, ?, ?, 'submitted', ?, NULL)",
                    [operation.id, run_id, kind, len(keys), operation.submitted_at])
        con.execute(
            "UPDATE meta.push_ledger SET status = 'submitted', bulk_operation_id = $op, "
            "updated_at = now() "
            "WHERE run_id = $run_id AND kind = $kind AND key IN (SELECT unnest($keys))",
            {"op": operation.id, "run_id": run_id, "kind": kind, "keys": list(keys)})


def record_uncertain(con: duckdb.DuckDBPyConnection, run_id: int, kind: str,
                     keys: Sequence[str], error: str) -> None:
    """The submit of these rows may have started an operation nobody knows the id of."""
    con.execute(
        "UPDATE meta.push_ledger SET status = 'uncertain', error = $error, updated_at = now() "
        "WHERE run_id = $run_id AND kind = $kind AND key IN (SELECT unnest($keys))",
        {"error": error, "run_id": run_id, "kind": kind, "keys": list(keys)})


ResultKey = tuple[str | None, ...]

# The fields of a row's payload that its echoed input is matched by, read by DuckDB from the
# ledger's JSON (``->>``: a string as it is, anything else as its JSON text), so that settling
# an operation does not decode every payload it sent: :func:`_result_key` reads the same
# fields of an echoed input.
_RESULT_KEY_SQL = """
CASE WHEN kind LIKE 'course%' THEN [payload ->> '$.externalId']
     ELSE [payload ->> '$.courseIdentifier.value', payload ->> '$.userIdentifier.value',
           payload ->> '$.firstActivityAt'] END
"""


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _result_key(kind: str, item: dict[str, Any]) -> ResultKey:
    """The ledger key fields an echoed input names (courses: externalId; attempts: course,
    learner and first activity), as :data:`_RESULT_KEY_SQL` reads them from a payload."""
    if kind.startswith("course"):
        return (_text(item.get("externalId")),)
    course, user = item.get("courseIdentifier"), item.get("userIdentifier")
    return (_text(course.get("value")) if isinstance(course, dict) else None,
            _text(user.get("value")) if isinstance(user, dict) else None,
            _text(item.get("firstActivityAt")))


def apply_outcome(con: duckdb.DuckDBPyConnection, outcome: BulkOutcome) -> tuple[int, int]:
    """Record an operation's results and promote its successes; return (succeeded, failed)."""
    op_id = outcome.operation.id
    rows = con.execute(f"SELECT kind, key, {_RESULT_KEY_SQL} FROM meta.push_ledger "
                       "WHERE bulk_operation_id = ?", [op_id]).fetchall()
    by_result_key = {tuple(fields): (kind, key) for kind, key, fields in rows}
    results: dict[str, tuple[bool, str | None, str | None]] = {}
    for item in outcome.results:
        match = by_result_key.get(_result_key(rows[0][0], item.input)) if rows else None
        if match is not None:
            results[match[1]] = (item.ok, item.resource_id, item.error)
    keys = [key for _, key, _ in rows]
    missing = "the operation ended in error" if outcome.status == "error" else \
        "360Learning returned no result for this row"
    ok_keys = [k for k in keys if results.get(k, (False, None, None))[0]]
    succeeded = set(ok_keys)
    failed = [(k, results[k][2] if k in results else missing) for k in keys
              if k not in succeeded]
    resources = [(k, results[k][1]) for k in ok_keys]

    with transaction(con):
        con.execute(
            "UPDATE meta.push_ledger SET status = 'success', error = NULL, updated_at = now() "
            "WHERE bulk_operation_id = $op AND key IN (SELECT unnest($keys))",
            {"op": op_id, "keys": ok_keys})
        if failed:
            con.execute(
                "UPDATE meta.push_ledger AS l SET status = 'error', error = f.error, "
                "updated_at = now() FROM (SELECT unnest($keys) AS key, unnest($errors) AS error) "
                "AS f WHERE l.bulk_operation_id = $op AND l.key = f.key",
                {"op": op_id, "keys": [k for k, _ in failed],
                 "errors": [e or "failed" for _, e in failed]})
        _promote(con, op_id, resources)
        con.execute("UPDATE meta.bulk_operations SET status = ?, settled_at = now() "
                    "WHERE operation_id = ?", [outcome.status, op_id])
    return len(ok_keys), len(failed)


def record_call(con: duckdb.DuckDBPyConnection, run_id: int, kind: str, key: str,
                error: str | None) -> None:
    """The outcome of one row sent by a plain call (not a bulk operation), in ONE transaction
    with its promotion: a restored course is live in the snapshot again."""
    with transaction(con):
        con.execute("UPDATE meta.push_ledger SET status = ?, error = ?, updated_at = now() "
                    "WHERE run_id = ? AND kind = ? AND key = ?",
                    ["error" if error else "success", error, run_id, kind, key])
        if error is None and kind == "course_restore":
            con.execute("UPDATE meta.pushed_courses SET archived = false, run_id = ?, "
                        "confirmed_at = now() WHERE external_id = ?", [run_id, key])


def _promote(con: duckdb.DuckDBPyConnection, op_id: str,
             resources: list[tuple[str, str | None]]) -> None:
    """Move this operation's successful rows into the committed snapshot."""
    if not resources:
        return
    params = {"op": op_id, "keys": [k for k, _ in resources],
              "ids": [r for _, r in resources]}
    con.execute(
        """
        INSERT OR REPLACE INTO meta.pushed_courses BY NAME
        SELECT l.key AS external_id,
               CASE WHEN l.kind = 'course_archive' THEN coalesce(p.payload_hash, '')
                    ELSE l.payload_hash END AS payload_hash,
               -- an upsert replaces a course's data and leaves it archived or not as it was:
               -- restoring one is its own call (load/restore.py)
               l.kind = 'course_archive' OR coalesce(p.archived, false) AS archived,
               -- the course id once confirmed (load/course_ids.py); resourceId as it came
               p.course_id,
               CASE WHEN l.kind = 'course_archive' THEN p.payload ELSE l.payload END AS payload,
               l.run_id, now() AS confirmed_at,
               CASE WHEN l.kind = 'course_archive' THEN p.resource_id
                    ELSE coalesce(r.resource_id, p.resource_id) END AS resource_id
        FROM meta.push_ledger AS l
        JOIN (SELECT unnest($keys) AS key, unnest($ids) AS resource_id) AS r USING (key)
        LEFT JOIN meta.pushed_courses AS p ON p.external_id = l.key
        WHERE l.bulk_operation_id = $op AND l.kind IN ('course_upsert', 'course_archive')
        """, params)
    con.execute(
        """
        INSERT OR REPLACE INTO meta.pushed_attempts
        SELECT l.key, l.payload_hash,
               l.payload ->> '$.courseIdentifier.value',
               coalesce(l.learner_email, l.payload ->> '$.userIdentifier.value'),
               CASE WHEN CAST(l.payload ->> '$.progress' AS DOUBLE) >= 100 THEN 'closed'
                    ELSE 'open' END,
               l.payload, l.run_id, now()
        FROM meta.push_ledger AS l
        WHERE l.bulk_operation_id = $op AND l.kind = 'attempt'
          AND l.key IN (SELECT unnest($keys))
        """, {"op": op_id, "keys": params["keys"]})


def adopt(con: duckdb.DuckDBPyConnection, outcome: BulkOutcome) -> bool:
    """Attach an operation the ledger never recorded (the process died between the 202 and
    recording its id, or the 202 was lost) to the ``pending`` or ``uncertain`` rows its echoed
    inputs match, then settle it.

    Resending those rows instead would be unsafe for statistics: an old completed record sent
    again while a later attempt of the same learner is open merges into that attempt.
    """
    pending = con.execute(f"SELECT run_id, kind, key, {_RESULT_KEY_SQL} FROM meta.push_ledger "
                          "WHERE status IN ('pending', 'uncertain')").fetchall()
    index = {(tuple(fields), kind): (run_id, kind, key)
             for run_id, kind, key, fields in pending}
    matched = []
    for item in outcome.results:
        for kind in ("course_upsert", "course_archive", "attempt"):
            hit = index.get((_result_key(kind, item.input), kind))
            if hit is not None:
                matched.append(hit)
                break
    if not matched:
        return False
    run_id, kind = matched[0][0], matched[0][1]
    keys = [key for r, k, key in matched if (r, k) == (run_id, kind)]
    operation = outcome.operation
    record_submitted(con, run_id, kind, keys,
                     BulkOperation(operation.id, operation.location, operation.kind,
                                   operation.submitted_at, len(keys)))
    apply_outcome(con, outcome)
    return True


def maybe_sent_since(con: duckdb.DuckDBPyConnection) -> Any:
    """When the oldest row that may have been submitted without a recorded operation was
    written (``pending`` or ``uncertain``); None when there is none."""
    row = con.execute("SELECT min(updated_at) FROM meta.push_ledger "
                      "WHERE status IN ('pending', 'uncertain')").fetchone()
    return None if row is None else row[0]


def known_operations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {str(r[0]) for r in con.execute(
        "SELECT operation_id FROM meta.bulk_operations").fetchall()}


def unconfirmed_operations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Operations submitted by an earlier run whose results were never read."""
    return [(str(r[0]), str(r[1])) for r in con.execute(
        "SELECT operation_id, kind FROM meta.bulk_operations WHERE status = 'submitted' "
        "ORDER BY submitted_at").fetchall()]


def abandon_pending(con: duckdb.DuckDBPyConnection) -> int:
    """Rows written but never submitted (the process died before the 202): not in the
    snapshot, so the diff sends them again; mark them so the ledger says what happened."""
    rows = con.execute(
        "UPDATE meta.push_ledger SET status = 'error', updated_at = now(), "
        "error = 'not sent: the run stopped before submitting; sent again by a later run' "
        "WHERE status = 'pending' RETURNING key").fetchall()
    return len(rows)


def release_uncertain(con: duckdb.DuckDBPyConnection) -> int:
    """Rows whose lost submit 360Learning's operations list proves never ran: not in the
    snapshot, so the diff sends them again."""
    rows = con.execute(
        "UPDATE meta.push_ledger SET status = 'error', updated_at = now(), "
        "error = 'not received: no bulk operation took it (360Learning''s operations list); "
        "sent again' WHERE status = 'uncertain' RETURNING key").fetchall()
    return len(rows)
