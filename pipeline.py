"""``python cli.py run``: extract, transform (with audits), plan, push, as ONE run record.

The catalog job (learning objects, courses) and the statistics job (enrollments, learners,
attempts) also run alone, as the schedule fires them: ``only="catalog"`` or ``"stats"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from extract.client import Go1Client
from extract.runner import StreamOutcome, run_streams
from load.changes import Plan, make_plan
from load.client import L360Client
from load.push import push
from load.result import PushResult
from settings import Config
from warehouse.models import load_project, run_project
from warehouse.session import run_session
from warehouse.transform import MODELS_DIR

JOBS: dict[str | None, tuple[list[str], frozenset[str]]] = {
    None: (["learning_objects", "enrollments", "user_accounts"],
           frozenset({"courses", "attempts"})),
    "catalog": (["learning_objects"], frozenset({"courses"})),
    "stats": (["enrollments", "user_accounts"], frozenset({"attempts"})),
}


@dataclass
class RunReport:
    run_id: int
    warehouse: Path
    streams: list[StreamOutcome] = field(default_factory=list)
    models: list[Any] = field(default_factory=list)
    plan: Plan | None = None
    pushed: PushResult | None = None

    @property
    def failed_streams(self) -> list[str]:
        return [o.stats.stream for o in self.streams if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed_streams and not (self.pushed and self.pushed.failed)


def run_pipeline(config: Config, only: str | None = None, since: datetime | None = None,
                 dry_run: bool = False, lock_wait: float = 0.0) -> RunReport:
    streams, parts = JOBS[only]
    go1 = config.go1()
    project = load_project(MODELS_DIR, variables=config.model_variables())
    l360 = None if dry_run else config.l360()  # settings checked before anything runs
    path = config.warehouse_path()
    options = {"only": only, "since": since.isoformat() if since else None, "dry_run": dry_run}
    with run_session(path, "run", options, config.memory_limit(), lock_wait) as session:
        report = RunReport(session.run_id, path)
        with Go1Client(go1) as client:
            report.streams = run_streams(session.con, client, go1, session.run_id, streams,
                                         since)
        report.models = run_project(session.con, project, session.run_id).models
        report.plan = make_plan(session.con)
        if l360 is not None:
            with L360Client(l360) as client360:
                report.pushed = push(session.con, client360, l360, session.run_id,
                                     parts=parts)
        session.counts = _counts(report)
        if not report.ok:
            session.status = "partial"
            session.error = "; ".join(
                [f"stream {s} failed" for s in report.failed_streams]
                + ([f"{report.pushed.failed} row(s) not pushed"]
                   if report.pushed and report.pushed.failed else []))
        return report


def _counts(report: RunReport) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "extract": {o.stats.stream: {"read": o.stats.records_read,
                                     "landed": o.stats.records_landed, "ok": o.ok}
                    for o in report.streams},
        "transform": {m.name: m.rows for m in report.models},
    }
    if report.plan is not None:
        counts["plan"] = {"courses": report.plan.courses, "attempts": report.plan.attempts}
    if report.pushed is not None:
        counts["push"] = {k: vars(c) for k, c in report.pushed.counts.items()}
    return counts
