"""Runs the chosen streams, each in one transaction with its cursor and outcome.

Invariant: raw rows, the new cursor and the stream's record commit together or not at all, so
a stream that fails halfway leaves the warehouse as it was and keeps its previous cursor. One
stream failing does not stop the others, except when Go1 refuses the credentials: then every
stream would fail the same way, so the extract stops with that one error.

The catalog runs beside the enrollments and the accounts (which read the enrollments just
landed, so they follow them): two lanes sharing the client's requests in flight, each on its
own DuckDB connection and transaction, writing tables of their own. Run one after the other,
the whole extract took about the sum of its streams' wire times; side by side it takes about
the longer lane's.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from extract.client import Go1Client
from extract.errors import AuthError, ExtractError
from extract.landing import prepare_statements
from extract.streams import STREAMS, StreamContext, StreamStats
from extract.streams.context import ProgressFn
from go1sync.settings import Go1Settings
from warehouse.cursors import set_cursor


@dataclass
class StreamOutcome:
    stats: StreamStats
    ok: bool
    seconds: float
    error: str | None = None


def run_streams(con: duckdb.DuckDBPyConnection, client: Go1Client, settings: Go1Settings,
                run_id: int, streams: Sequence[str], since: datetime | None = None,
                progress: ProgressFn = lambda stats: None) -> list[StreamOutcome]:
    unknown = [s for s in streams if s not in STREAMS]
    if unknown:
        raise ExtractError(f"unknown stream {unknown[0]!r}; choose from {', '.join(STREAMS)}")
    prepare_statements()
    started_at = datetime.now(UTC)
    ctx = StreamContext(con, client, settings, run_id, started_at, since, progress)
    ordered = [name for name in STREAMS if name in streams]
    beside = [name for name in ordered if name in BESIDE]
    chain = [name for name in ordered if name not in BESIDE]
    if not beside or not chain:
        return [_run_one(ctx, name) for name in ordered]
    return _side_by_side(ctx, beside, chain, ordered)


# Streams that depend on no other stream of the run, and run beside the rest.
BESIDE = frozenset({"learning_objects"})


def _side_by_side(ctx: StreamContext, beside: list[str], chain: list[str],
                  ordered: list[str]) -> list[StreamOutcome]:
    """Run ``beside`` in a thread on a connection of its own, ``chain`` here; outcomes in the
    usual order. Ctrl-C or a refused credential here stops the other lane too: the client is
    closed, so its next request fails and its transaction rolls back before this returns."""
    outcomes: dict[str, StreamOutcome] = {}
    failure: list[BaseException] = []
    lane_con = ctx.con.cursor()
    lane_ctx = dataclasses.replace(ctx, con=lane_con)

    def lane() -> None:
        try:
            for name in beside:
                outcomes[name] = _run_one(lane_ctx, name)
        except BaseException as exc:  # handed to the main thread, which raises it
            failure.append(exc)

    thread = threading.Thread(target=lane, name="extract-catalog", daemon=True)
    thread.start()
    try:
        for name in chain:
            outcomes[name] = _run_one(ctx, name)
    except BaseException:
        ctx.client.close()  # the other lane's next request fails: it rolls back and ends
        thread.join()
        lane_con.close()
        raise
    thread.join()
    lane_con.close()
    if failure:
        raise failure[0]
    return [outcomes[name] for name in ordered]


def _run_one(ctx: StreamContext, name: str) -> StreamOutcome:
    con = ctx.con
    began = time.monotonic()
    stream_started = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        stats = STREAMS[name](ctx)
        if stats.cursor is not None:
            set_cursor(con, name, stats.cursor, ctx.run_id)
        record_stream(con, ctx.run_id, stats, "success", stream_started, None)
        con.execute("COMMIT")
        return StreamOutcome(stats, True, time.monotonic() - began)
    except duckdb.InterruptException:
        # DuckDB turns Ctrl-C during a query into its own error: it stops the whole command,
        # as it would anywhere else, not just this stream
        con.execute("ROLLBACK")
        raise KeyboardInterrupt from None
    except (ExtractError, duckdb.Error) as exc:
        con.execute("ROLLBACK")
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        failed = StreamStats(name)
        record_stream(con, ctx.run_id, failed, "failed", stream_started, message)
        if isinstance(exc, AuthError):
            raise
        return StreamOutcome(failed, False, time.monotonic() - began, message)
    except BaseException:
        con.execute("ROLLBACK")
        raise


def record_stream(con: duckdb.DuckDBPyConnection, run_id: int, stats: StreamStats, status: str,
            started: datetime, error: str | None) -> None:
    # the time now, not now(): DuckDB's now() is the transaction's start, the stream's own
    con.execute(
        "INSERT INTO meta.stream_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, stats.stream, status, started, datetime.now(UTC), stats.requests, stats.pages,
         stats.records_read, stats.records_landed, stats.window_from, stats.window_to, error],
    )
