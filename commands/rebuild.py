"""``python cli.py rebuild-snapshot``: a lost or restored warehouse resumes without resending.

One run: extract Go1 (what the warehouse lost is read again), transform, then read back from
360Learning what the integration holds and rebuild ``meta.pushed_*`` from it
(``reconcile.rebuild``). The next ``run`` or ``push`` then sends only what differs.
"""

from __future__ import annotations

from commands import stages
from commands.report import RunReport
from extract.streams import STREAMS
from go1sync.settings import Config
from load.client import L360Client
from reconcile.readback import ReadProgress
from reconcile.rebuild import Rebuilt, rebuild_snapshot
from warehouse.session import run_session
from warehouse.transform import project_for


def run_rebuild(config: Config, replace: bool = False,
                progress: ReadProgress = lambda what, done, total: None
                ) -> tuple[RunReport, Rebuilt | None]:
    go1, l360, limits = config.go1(), config.l360(), config.http_limits()
    project = project_for(config)
    path = config.warehouse_path()
    with run_session(path, "rebuild-snapshot", {"replace": replace},
                     config.memory_limit()) as session:
        report = RunReport("rebuild-snapshot", session.run_id, path)
        stages.extract(session, report, go1, list(STREAMS), None, limits=limits)
        if report.failed_streams:
            return stages.finish(session, report), None
        stages.transform(session, report, project)
        with L360Client(l360, limits=limits) as client:
            rebuilt = rebuild_snapshot(session.con, client, l360, session.run_id, replace,
                                       progress)
        stages.finish(session, report)
        session.counts = report.counts() | {"rebuild": vars(rebuilt)}
        return report, rebuilt
