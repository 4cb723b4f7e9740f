"""Restoring courses that are live in Go1 again (published again, back in My Library).

The bulk upsert is documented as replacing a matched course's data, not as restoring it; the
documented way back from archived is ``PUT /api/v2/courses/{courseId}/archive`` with
``ArchiveCourseBody`` ``{"archived": false}``. Each restore goes through the ledger like any
other write: recorded ``pending`` before the call, then ``success`` (and the snapshot's course
live again) or ``error`` (sent again next run). The call is idempotent, so the client may
retry it after a timeout.
"""

from __future__ import annotations

import duckdb

from apiclient.paths import segment
from load.client import L360Client
from load.errors import LoadError, ScopeError
from load.ledger import PushRow, record_call, record_pending
from load.result import PushResult

KIND = "course_restore"
BODY = {"archived": False}

# Restores due now (outbound.course_changes.restore): a course whose data changed is upserted
# before it is restored, and one whose upsert failed waits.
_DUE = ("SELECT key, course_id, payload_hash FROM outbound.course_changes WHERE restore "
        "ORDER BY key")


def restore_courses(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int,
                    result: PushResult) -> None:
    due = con.execute(_DUE).fetchall()
    if not due:
        return
    record_pending(con, run_id, [PushRow(KIND, str(k), "restore", BODY, h) for k, _, h in due])
    count = result.count(KIND)
    count.sent += len(due)
    for key, course_id, _ in due:
        error = None
        if course_id is None:
            error = "360Learning's id of this course is unknown: restored once it is read"
        else:
            try:
                client.put(f"/api/v2/courses/{segment(course_id)}/archive", BODY)
            except ScopeError as exc:
                record_call(con, run_id, KIND, str(key), str(exc))
                raise  # the API client cannot restore any course: say so, once
            except LoadError as exc:
                error = str(exc)
        record_call(con, run_id, KIND, str(key), error)
        if error:
            count.failed += 1
            result.errors.append((KIND, str(key), error))
        else:
            count.succeeded += 1
