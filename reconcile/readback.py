"""Reading 360Learning back, for the reconciliation report: what the platform holds now.

Each pushed course is read through its integration (there is no endpoint that lists an
integration's courses); the platform's courses, attempts and users are listed page by page.
Everything lands verbatim in ``raw.l360_*`` for this run, in one transaction, so a report
always compares one consistent read; the comparison itself is SQL (``models/reconcile/``).
The 360Learning calls are the client's (``load``): the read-back adds no HTTP of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from load.client import L360Client
from load.course_ids import external_course
from load.errors import LoadError
from load.lists import COURSE_STATS, COURSES, USERS, insert_rows, land_list
from warehouse.connection import transaction


def pushed_integration(con: duckdb.DuckDBPyConnection) -> str:
    """The integration this warehouse pushes to: what there is to read back."""
    row = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
    if row is None:
        raise LoadError("nothing was pushed from this warehouse yet: run `python cli.py push` "
                        "(or run) first")
    return str(row[0])


@dataclass
class ReadBack:
    """What was read, per ``raw.l360_*`` table (without the prefix): rows landed this run."""

    counts: dict[str, int] = field(default_factory=dict)


def read_back(con: duckdb.DuckDBPyConnection, client: L360Client, integration_id: str,
              run_id: int, external_ids: Sequence[str] | None = None,
              progress: Callable[[int, int], None] = lambda done, total: None) -> ReadBack:
    """Land every pushed course (or each of ``external_ids``), found or not, and the
    platform's lists for ``run_id``.

    All or nothing: a read that fails half-way leaves the previous read-back in place, so the
    models never compare half of today's 360Learning with yesterday's.
    """
    result = ReadBack()
    now = datetime.now(UTC)
    with transaction(con):
        pushed = list(external_ids) if external_ids is not None else [
            str(r[0]) for r in con.execute(
                "SELECT external_id FROM meta.pushed_courses ORDER BY 1").fetchall()]
        rows: list[tuple[Any, ...]] = []
        for done, external_id in enumerate(pushed, 1):
            if done % 100 == 0:
                progress(done, len(pushed))
            data = external_course(client, integration_id, external_id)
            rows.append((run_id, now, external_id, data is not None,
                         None if data is None else json.dumps(data)))
        insert_rows(con, "raw.l360_integration_courses", ("external_id", "found"), rows)
        result.counts["integration_courses"] = len(rows)
        for raw in (COURSES, COURSE_STATS, USERS):
            result.counts[raw.table.removeprefix("raw.l360_")] = land_list(
                con, client, run_id, now, raw)
    return result
