"""The stages as ``run`` and the single-stage commands compose them, inside one session.

Each function runs one stage against the session's warehouse and puts what it did on the
report; the status rules stay in :class:`commands.report.RunReport`, and
:func:`finish` writes the report into the session's run record. So ``run`` and ``extract``
(say) cannot disagree about what a failed stream makes of a run.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime

from commands.report import RunReport
from extract.client import Go1Client
from extract.events import EventRef, processed, record_events, touched_by
from extract.events import land_events as land_events_of
from extract.runner import StreamOutcome, record_stream, run_streams
from extract.streams.context import ProgressFn, StreamContext, StreamStats
from go1sync.settings import Go1Settings, HttpLimits, L360Settings
from load.changes import make_plan
from load.client import L360Client
from load.push import ALL_PARTS, push
from load.result import KindCount
from load.result import ProgressFn as PushProgressFn
from warehouse.models import Project, run_project
from warehouse.session import RunSession


def extract(session: RunSession, report: RunReport, settings: Go1Settings,
            streams: Sequence[str], since: datetime | None,
            progress: ProgressFn = lambda stats: None, *, limits: HttpLimits) -> None:
    session.note("extract", f"streams {', '.join(streams)}")

    def noted(stats: StreamStats) -> None:
        session.note("extract", f"{stats.stream}: {stats.records_read:,} read in "
                                f"{stats.requests:,} requests")
        progress(stats)

    with Go1Client(settings, limits=limits) as client:
        report.streams = run_streams(session.con, client, settings, session.run_id, streams,
                                     since, noted)


def land_events(session: RunSession, report: RunReport, settings: Go1Settings,
                events: Sequence[EventRef], *, limits: HttpLimits) -> dict[str, set[str]]:
    """A micro-run's extract: the records of the events not processed yet, the stream's
    record and the events themselves (``meta.webhook_events``) in one transaction; returns
    the keys the models rebuild for all of ``events`` (those an earlier, failed micro-run
    landed included)."""
    session.note("extract", f"{len(events):,} webhook event(s)")
    began = time.monotonic()
    started = datetime.now(UTC)
    con = session.con
    with Go1Client(settings, limits=limits) as client:
        ctx = StreamContext(con, client, settings, session.run_id, started)
        done = processed(con, (e.key for e in events))
        fresh = [e for e in events if e.key not in done]
        con.execute("BEGIN TRANSACTION")
        try:
            landed = land_events_of(ctx, fresh)
            record_events(con, session.run_id, fresh, landed.outcomes)
            record_stream(con, session.run_id, landed.stats, "success", started, None)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    report.streams = [StreamOutcome(landed.stats, True, time.monotonic() - began)]
    return touched_by(con, (e.key for e in events))


def transform(session: RunSession, report: RunReport, project: Project,
              touched: Mapping[str, Collection[str]] | None = None) -> None:
    """The models; with ``touched`` (a micro-run), only the incremental ones, for those keys."""
    what = "incremental models" if touched is not None else "models"
    session.note("transform", f"{len(project.models):,} {what}")
    report.models = run_project(session.con, project, session.run_id, touched=touched)


def plan(session: RunSession, report: RunReport,
         groups: Sequence[str] | None = None) -> None:
    session.note("plan")
    report.plan = make_plan(session.con, groups=groups)


def push_changes(session: RunSession, report: RunReport, settings: L360Settings,
                 parts: frozenset[str] = ALL_PARTS,
                 progress: PushProgressFn = lambda kind, count: None, *,
                 limits: HttpLimits) -> None:
    session.note("push")

    def noted(kind: str, count: KindCount) -> None:
        session.note("push", f"{kind}: {count.succeeded:,} ok, {count.failed:,} failed")
        progress(kind, count)

    with L360Client(settings, limits=limits) as client:
        report.pushed = push(session.con, client, settings, session.run_id, noted,
                             parts=parts)


def finish(session: RunSession, report: RunReport) -> RunReport:
    """The run record says what the report says: status, counts, what went wrong."""
    session.counts = report.counts()
    session.status = report.status
    problems = report.problems()
    session.error = "; ".join(problems) if problems else None
    return report
