"""``python cli.py run``: extract, transform (with audits), plan, push, as ONE run record.

The catalog job (learning objects, courses) and the statistics job (enrollments, learners,
attempts) also run alone, as the schedule fires them: ``only="catalog"`` or ``"stats"``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from commands import stages
from commands.push import planned_share_groups
from commands.report import RunReport
from extract.streams import STREAMS
from extract.streams.context import ProgressFn as StreamsProgressFn
from go1sync.settings import Config
from load.push import ALL_PARTS
from load.result import ProgressFn as PushProgressFn
from warehouse.session import run_session
from warehouse.transform import project_for

JOBS: dict[str | None, tuple[list[str], frozenset[str]]] = {
    None: (list(STREAMS), ALL_PARTS),
    "catalog": (["learning_objects"], frozenset({"courses"})),
    "stats": (["enrollments", "user_accounts"], frozenset({"attempts"})),
}


PHASES = ("extract", "transform", "plan", "push")


def run_pipeline(config: Config, only: str | None = None, since: datetime | None = None,
                 dry_run: bool = False, lock_wait: float = 0.0, *,
                 on_phase: Callable[[str], None] = lambda phase: None,
                 streams_progress: StreamsProgressFn = lambda stats: None,
                 push_progress: PushProgressFn = lambda kind, count: None) -> RunReport:
    """The whole sync; ``on_phase`` hears each of :data:`PHASES` as it starts."""
    streams, parts = JOBS[only]
    go1 = config.go1()
    limits = config.http_limits()
    project = project_for(config)
    l360 = None if dry_run else config.l360()  # settings checked before anything runs
    path = config.warehouse_path()
    options = {"only": only, "since": since.isoformat() if since else None, "dry_run": dry_run}
    with run_session(path, "run", options, config.memory_limit(), lock_wait) as session:
        report = RunReport("run", session.run_id, path)
        on_phase("extract")
        stages.extract(session, report, go1, streams, since, streams_progress, limits=limits)
        on_phase("transform")
        stages.transform(session, report, project)
        on_phase("plan")
        stages.plan(session, report, planned_share_groups(config))
        if l360 is not None:
            on_phase("push")
            stages.push_changes(session, report, l360, parts, push_progress, limits=limits)
        return stages.finish(session, report)
