"""Reading 360Learning back, for the reconciliation report: what the platform holds now.

The platform's external courses, attempts and users are listed page by page (500 a page), the
lists side by side under the client's one read limit (:func:`load.lists.land_lists`). The
listing gives each course's name, description, duration, language and archived state, so
those are checked for every pushed course. What only ``GET /api/v2/integrations/{id}/courses/
{externalId}`` tells (the launch URL, image, subjects, sources), one call per course at 50 a
second, is read for the courses whose listed fields already differ, those the listing lacks
(to tell a missing course from one never given an id) and a bounded sample of the others
(:data:`SAMPLE`, by a stable hash, so successive reports look at different courses only when
the catalog changes). 50,000 courses: about 100 pages and a few hundred calls, not 17
minutes of 50,000 calls, read a few at once.
Everything lands verbatim in ``raw.l360_*`` for this run, in one transaction, so a report
always compares one consistent read; the comparison itself is SQL (``models/reconcile/``).
The 360Learning calls are the client's (``load``): the read-back adds no HTTP of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from load.client import L360Client
from load.course_ids import external_course
from load.errors import LoadError
from load.lists import (
    COURSE_STATS,
    COURSES,
    SCORM_COURSES,
    USERS,
    RawList,
    insert_rows,
    land_lists,
)
from warehouse.connection import transaction

SAMPLE = 100  # courses read one by one beyond those whose listed fields differ

# What a read-back is at: (what, done, of how many if known), for a progress bar each.
ReadProgress = Callable[[str, int, int | None], None]
# Each list's bar, with what the committed snapshot says 360Learning should hold (None: the
# users, whom go1sync never wrote).
_LISTS = ((COURSES, "360Learning courses", "SELECT count(*) FROM meta.pushed_courses"),
          (SCORM_COURSES, "360Learning SCORM imports", None),
          (COURSE_STATS, "360Learning statistics", "SELECT count(*) FROM meta.pushed_attempts"),
          (USERS, "360Learning users", None))
ONE_BY_ONE = "courses read one by one"

# The pushed courses to read one by one: no id known yet, absent from the listing (or
# deleted), a listed field other than pushed, or in the sample.
_TO_READ = """
WITH listed AS (
    SELECT course_id, record FROM raw.l360_courses WHERE _run_id = $run
),
pushed AS (
    SELECT p.external_id, p.payload, p.course_id, l.record AS listed,
           p.course_id IS NULL OR l.course_id IS NULL
           OR (l.record ->> '$.status') = 'deleted'
           OR (NOT p.archived AND (
               (p.payload ->> '$.name') IS DISTINCT FROM (l.record ->> '$.name')
               OR (p.payload ->> '$.description') IS DISTINCT FROM (l.record ->> '$.description')
               OR (p.payload ->> '$.duration') IS DISTINCT FROM (l.record ->> '$.duration')
               OR (p.payload ->> '$.defaultLang') IS DISTINCT FROM (l.record ->> '$.defaultLang')
           )) AS must
    FROM meta.pushed_courses AS p
    LEFT JOIN listed AS l ON l.course_id = p.course_id
)
SELECT external_id FROM pushed WHERE must
UNION ALL
SELECT external_id FROM (
    SELECT external_id FROM pushed WHERE NOT must ORDER BY md5(external_id), external_id
    LIMIT $sample)
ORDER BY 1
"""


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


def _bar(progress: ReadProgress, label: str,
         expected: int | None) -> Callable[[int], None]:
    """A list's landed count as its bar: of what the snapshot expects, or more if it holds
    more (courses someone added by hand count too)."""
    def show(landed: int) -> None:
        progress(label, landed, None if expected is None else max(landed, expected))
    return show


def read_back(con: duckdb.DuckDBPyConnection, client: L360Client, integration_id: str,
              run_id: int, external_ids: Sequence[str] | None = None,
              progress: ReadProgress = lambda what, done, total: None,
              sample: int = SAMPLE) -> ReadBack:
    """Land the platform's lists and the courses to read one by one (``external_ids``: each
    of those, as the snapshot rebuild needs; else the pushed courses :data:`_TO_READ`
    picks), found or not, for ``run_id``.

    All or nothing: a read that fails half-way leaves the previous read-back in place, so the
    models never compare half of today's 360Learning with yesterday's.
    """
    result = ReadBack()
    now = datetime.now(UTC)
    with transaction(con):
        bars: list[tuple[RawList, Callable[[int], None]]] = []
        for raw, label, expected_sql in _LISTS:
            row = con.execute(expected_sql).fetchone() if expected_sql else None
            expected = int(row[0]) if row else None
            progress(label, 0, expected)
            bars.append((raw, _bar(progress, label, expected)))
        for (raw, _), landed in zip(bars, land_lists(con, client, run_id, now, bars),
                                    strict=True):
            name = raw.table.removeprefix("raw.l360_")
            result.counts[name] = result.counts.get(name, 0) + landed
        chosen = list(external_ids) if external_ids is not None else [
            str(r[0]) for r in con.execute(_TO_READ, {"run": run_id, "sample": sample})
            .fetchall()]
        rows: list[tuple[Any, ...]] = []
        # as many at once as the client has connections: one after the other, each read's
        # round trip adds up, while 360Learning allows 50 reads a second
        with ThreadPoolExecutor(client.connections, thread_name_prefix="l360-course") as pool:
            read = pool.map(lambda external_id: external_course(client, integration_id,
                                                                external_id), chosen)
            for done, (external_id, data) in enumerate(zip(chosen, read, strict=True), 1):
                progress(ONE_BY_ONE, done, len(chosen))
                rows.append((run_id, now, external_id, data is not None,
                             None if data is None else json.dumps(data)))
        insert_rows(con, "raw.l360_integration_courses", ("external_id", "found"), rows)
        result.counts["integration_courses"] = len(rows)
    return result
