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
from warehouse.settled import last_stamp, record_settled, settled_stamp, unchanged_since
from warehouse.transform import models_digest, project_for

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
    """The whole sync; ``on_phase`` hears each of :data:`PHASES` as it starts.

    A run that lands nothing after one that left nothing to send stops after its extract
    (:mod:`warehouse.settled`): the report's ``unchanged_since`` names that run."""
    streams, parts = JOBS[only]
    go1 = config.go1()
    limits = config.http_limits()
    l360 = None if dry_run else config.l360()  # settings checked before anything runs
    groups = planned_share_groups(config)
    stamp = None if l360 is None else settled_stamp(models_digest(config), l360.api_url,
                                                    groups or [])
    path = config.warehouse_path()
    options = {"only": only, "since": since.isoformat() if since else None, "dry_run": dry_run}
    with run_session(path, "run", options, config.memory_limit(), lock_wait) as session:
        # The models are loaded (and a broken one refused) before anything is read, unless
        # they are the very models of the last settled run: a quiet run then never needs them
        # (loading them is about a second), and a busy one loads them after its extract.
        project = None if stamp is not None and stamp == last_stamp(session.con) \
            else project_for(config)
        report = RunReport("run", session.run_id, path)
        on_phase("extract")
        stages.extract(session, report, go1, streams, since, streams_progress, limits=limits)
        if stamp is not None:
            report.unchanged_since = unchanged_since(session.con, session.run_id, parts, stamp)
            if report.unchanged_since is not None:
                session.note("transform", "skipped: nothing landed since run "
                                          f"{report.unchanged_since}, which left nothing to send")
                # as settled as that run: the next quiet run compares itself with this one
                record_settled(session.con, session.run_id, parts, stamp)
                return stages.finish(session, report)
        on_phase("transform")
        stages.transform(session, report, project or project_for(config))
        on_phase("plan")
        stages.plan(session, report, groups)
        if l360 is not None:
            on_phase("push")
            stages.push_changes(session, report, l360, parts, push_progress, limits=limits)
            if (stamp is not None and report.ok and report.pushed is not None
                    and report.pushed.work_left == 0):
                record_settled(session.con, session.run_id, parts, stamp)
        return stages.finish(session, report)
