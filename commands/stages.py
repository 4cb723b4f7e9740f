"""The stages as ``run`` and the single-stage commands compose them, inside one session.

Each function runs one stage against the session's warehouse and puts what it did on the
report; the status rules stay in :class:`commands.report.RunReport`, and
:func:`finish` writes the report into the session's run record. So ``run`` and ``extract``
(say) cannot disagree about what a failed stream makes of a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from commands.report import RunReport
from extract.client import Go1Client
from extract.runner import run_streams
from extract.streams.context import ProgressFn, StreamStats
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


def transform(session: RunSession, report: RunReport, project: Project) -> None:
    session.note("transform", f"{len(project.models):,} models")
    report.models = run_project(session.con, project, session.run_id)


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
