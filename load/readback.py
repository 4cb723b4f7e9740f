"""Reading 360Learning back, for the reconciliation report: what the platform holds now.

Each pushed course is read through its integration (there is no endpoint that lists an
integration's courses); the platform's courses, attempts and users are listed page by page.
Everything lands verbatim in ``raw.l360_*`` for this run, in one transaction, so a report
always compares one consistent read; the comparison itself is SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from load.client import L360Client
from load.course_ids import external_course
from load.lists import COURSE_STATS, COURSES, USERS, insert_rows, land_list


@dataclass
class ReadBack:
    counts: dict[str, int] = field(default_factory=dict)


def read_back(con: duckdb.DuckDBPyConnection, client: L360Client, integration_id: str,
              run_id: int) -> ReadBack:
    result = ReadBack()
    now = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        pushed = [str(r[0]) for r in con.execute(
            "SELECT external_id FROM meta.pushed_courses ORDER BY 1").fetchall()]
        rows: list[tuple[Any, ...]] = []
        for external_id in pushed:
            data = external_course(client, integration_id, external_id)
            rows.append((run_id, now, external_id, data is not None,
                         None if data is None else json.dumps(data)))
        insert_rows(con, "raw.l360_integration_courses", ("external_id", "found"), rows)
        result.counts["integration_courses"] = len(rows)
        for raw in (COURSES, COURSE_STATS, USERS):
            result.counts[raw.table.removeprefix("raw.l360_")] = land_list(
                con, client, run_id, now, raw)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result
