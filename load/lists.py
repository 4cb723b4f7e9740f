"""360Learning's paged lists, landed verbatim in ``raw.l360_*``.

The push lists the platform's users to match learners by email (:func:`land_users`); the
reconciliation's read-back lists users, courses and attempts the same way (reconcile reads
them with :func:`land_list`). Each item lands as it came, with the run that read it and a few
keys pulled out for joins.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
from sqlglot import exp

from load.client import L360Client
from warehouse.connection import transaction


@dataclass(frozen=True)
class RawList:
    """A list endpoint and the raw table it lands in; ``columns`` are filled from ``fields``
    of each item."""

    table: str
    path: str
    columns: tuple[str, ...]
    fields: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = ()


USERS = RawList("raw.l360_users", "/api/v2/users", ("user_id", "mail"), ("_id", "mail"))
# The integration's courses are external ones: the filter keeps a platform's native courses
# out of the pages (500 a page: the read-back's floor for a large catalog). The SCORM imports
# are listed too, into the same table: reconcile looks there for Go1 content imported twice.
COURSES = RawList("raw.l360_courses", "/api/v2/courses", ("course_id",), ("_id",),
                  (("type[eq]", "external"),))
SCORM_COURSES = RawList("raw.l360_courses", "/api/v2/courses", ("course_id",), ("_id",),
                        (("type[eq]", "elearning standard"),))
COURSE_STATS = RawList("raw.l360_course_stats", "/api/v2/courses/stats",
                       ("course_id", "user_id"), ("courseId", "userId"))


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...],
                rows: list[tuple[Any, ...]]) -> None:
    """Insert ``(_run_id, _extracted_at, *columns, record)`` rows in one set-based statement,
    a list per column (``executemany`` goes row by row: 12 s for 20,000 users)."""
    if not rows:
        return
    names = ["_run_id", "_extracted_at", *columns, "record"]
    select = exp.select(*(exp.Unnest(expressions=[exp.Placeholder(this=f"c{i}")]).as_(name)
                          for i, name in enumerate(names)))
    statement = exp.insert(select, exp.to_table(table), columns=names)
    con.execute(statement.sql("duckdb"),
                {f"c{i}": list(values) for i, values in enumerate(zip(*rows, strict=True))})


def _chunks(items: Iterable[dict[str, Any]], size: int = 5000) -> Iterable[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# Chunks read ahead of the landing, all lists together: what the readers may hold in memory
# (at 5,000 items a chunk, some 40,000 items) while the caller's thread lands.
_READ_AHEAD = 8


def land_lists(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int,
               now: datetime, lists: Sequence[tuple[RawList, Callable[[int], None]]]
               ) -> list[int]:
    """Land every item of each paged list as this run's rows; return how many of each. Each
    list's ``landing`` hears its count so far after each chunk (a progress bar).

    Each list is read in a thread of its own, all sharing the client's read limit, while they
    land here, on the caller's connection and within its transaction. A paged list follows
    its ``Link`` one page after another, so read one list after the other, the read-back's
    wall time was the sum of its lists' page round trips (a thousand statistics pages of 500
    alone took a minute), not the reads over 360Learning's 50 a second. A list that fails
    stops the others (the client is closed: their next request fails) and raises here.
    """
    arrived: queue.Queue[tuple[int, list[dict[str, Any]] | BaseException | None]] = (
        queue.Queue(_READ_AHEAD))
    stop = threading.Event()

    def hand(item: tuple[int, list[dict[str, Any]] | BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                arrived.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read(index: int, raw: RawList) -> None:
        outcome: BaseException | None = None
        try:
            for chunk in _chunks(client.get_all(raw.path, list(raw.params))):
                if not hand((index, chunk)):
                    return
        except BaseException as exc:  # handed to the caller's thread, which raises it
            outcome = exc
        hand((index, outcome))

    readers = [threading.Thread(target=read, args=(index, raw), daemon=True,
                                name=f"l360-list-{raw.path}") for index, (raw, _) in
               enumerate(lists)]
    for reader in readers:
        reader.start()
    landed = [0] * len(lists)
    reading = len(lists)
    try:
        while reading:
            index, item = arrived.get()
            if item is None:
                reading -= 1
                continue
            if isinstance(item, BaseException):
                raise item
            raw, landing = lists[index]
            insert_rows(con, raw.table, raw.columns, [
                (run_id, now, *(_text(entry.get(f)) for f in raw.fields), json.dumps(entry))
                for entry in item])
            landed[index] += len(item)
            landing(landed[index])
    except BaseException:
        client.close()  # a reader in a request fails at once instead of finishing its list
        raise
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    return landed


def land_list(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int, now: datetime,
              raw: RawList, landing: Callable[[int], None] = lambda landed: None) -> int:
    """Land every item of a paged list as this run's rows; return how many (read while the
    previous chunk lands: :func:`land_lists`)."""
    return land_lists(con, client, run_id, now, [(raw, landing)])[0]


def land_users(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int) -> int:
    """360Learning's users, every page, as the current listing; older listings are dropped
    (a platform's whole user list per run would grow the warehouse for nothing).

    In one transaction: a listing cut short by a failure leaves the previous one in place.
    """
    with transaction(con):
        landed = land_list(con, client, run_id, datetime.now(UTC), USERS)
        con.execute("DELETE FROM raw.l360_users WHERE _run_id < ?", [run_id])
    return landed
