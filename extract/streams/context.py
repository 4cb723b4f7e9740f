"""What every stream gets: the connection, the client, the run, and a buffered lander.

A stream reads pages and hands their bodies to :class:`Lander`, which lands them in batches,
so neither a whole stream nor row-by-row inserts ever sit in memory: a batch closes at 5,000
records or at a statement's share of DuckDB's memory limit, whichever comes first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from extract.client import Go1Client, Page
from extract.errors import ExtractError
from extract.landing import HITS, RawTable, land_bodies, piece_bytes, rejects_count, settle
from go1sync.settings import Go1Settings


@dataclass
class StreamStats:
    """What one stream did; becomes a row of ``meta.stream_runs`` and a line of the summary."""

    stream: str
    requests: int = 0
    pages: int = 0
    records_read: int = 0
    records_landed: int = 0
    expected: int | None = None  # records the stream expects to read, once Go1 said (a total)
    window_from: datetime | None = None
    window_to: datetime | None = None
    cursor: datetime | None = None  # the new cursor, written only if the stream succeeds
    notes: list[str] = field(default_factory=list)


ProgressFn = Callable[[StreamStats], None]


@dataclass
class StreamContext:
    con: duckdb.DuckDBPyConnection
    client: Go1Client
    settings: Go1Settings
    run_id: int
    started_at: datetime  # the run's start, UTC: no window reads past it
    since: datetime | None = None  # --since: replaces the cursor for this run
    progress: ProgressFn = lambda stats: None


_REJECTS_NOTE = " (kept in raw.go1_rejects, shown in marts.rejects as unreadable_record)"


class Lander:
    """Buffers response bodies and lands them a batch at a time."""

    def __init__(self, ctx: StreamContext, table: RawTable, stats: StreamStats,
                 hits_path: str = HITS, batch_records: int = 5000) -> None:
        self.ctx = ctx
        self.table = table
        self.stats = stats
        self.hits_path = hits_path
        self.batch_records = batch_records
        self.batch_bytes = piece_bytes(ctx.con)
        self._bodies: list[str] = []
        self._buffered = 0
        self._buffered_bytes = 0

    def add(self, page: Page, records: int) -> None:
        self._bodies.append(page.text)
        self._buffered += records
        self._buffered_bytes += len(page.text)
        self.stats.pages += 1
        self.stats.records_read += records
        if self._buffered >= self.batch_records or self._buffered_bytes >= self.batch_bytes:
            self.flush()
        self.ctx.progress(self.stats)

    def flush(self) -> None:
        if self._bodies:
            land_bodies(self.ctx.con, self.table, self.ctx.run_id, datetime.now(UTC),
                        self._bodies, self.hits_path, self.batch_bytes)
        self._bodies = []
        self._buffered = 0
        self._buffered_bytes = 0

    def finish(self) -> int:
        """Land what is left, drop what is not new, and return the rows this run added.

        Records set aside (DuckDB cannot read them, or they are no objects) are counted in the
        stream's notes, so the summary says that some of what was read did not land.
        """
        self.flush()
        con, run_id = self.ctx.con, self.ctx.run_id
        self.stats.records_landed = settle(con, self.table, run_id)
        rejected = rejects_count(con, self.table, run_id)  # the stream's, whichever lander
        if rejected:
            notes = [n for n in self.stats.notes if not n.endswith(_REJECTS_NOTE)]
            self.stats.notes = [*notes, f"{rejected} record(s) could not be landed{_REJECTS_NOTE}"]
        return self.stats.records_landed


def hits_of(page: Page) -> list[Any]:
    """The ``hits`` of a list page; a body without a list is a contract breach, not empty.

    Its items are whatever Go1 sent: a caller reading fields in Python must skip those that
    are no objects (landing sets them aside)."""
    data = page.data
    hits = data.get("hits") if isinstance(data, dict) else None
    if not isinstance(hits, list):
        raise ExtractError(f"GET {page.url}: the response has no 'hits' list")
    return hits


def pooled(ctx: StreamContext, requests: Iterable[tuple[str, list[tuple[str, str]]]],
            on_page: Callable[[Page], None], on_missing: Callable[[str], None]) -> None:
    """Send requests through the client's pool, a bounded number pending at a time;
    ``on_missing`` hears the path of each that Go1 answered 404."""
    waiting = deque(requests)
    pending: dict[Future[Page], str] = {}
    most_pending = 2 * ctx.settings.max_in_flight
    try:
        while waiting or pending:
            while waiting and len(pending) < most_pending:
                path, params = waiting.popleft()
                pending[ctx.client.submit(path, params)] = path
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                path = pending.pop(future)
                try:
                    page = future.result()
                except ExtractError as exc:
                    if exc.status != 404:
                        raise
                    on_missing(path)
                    continue
                on_page(page)
    finally:
        for future in pending:
            future.cancel()
