"""``python cli.py reconcile``: read 360Learning back, compare in SQL, explain each difference.

The stages are ``reconcile``'s: the read-back (``reconcile.readback``), the comparison models
(``models/reconcile/``, run with the rest of the project so they compare the current marts),
the report (``reconcile.compare``) and, when asked, the requeue (``reconcile.requeue``). The
keys it found are kept for the next report's "new" and "resolved" (``meta.reconcile_keys``).
"""

from __future__ import annotations

from typing import Any

import duckdb

from go1sync.settings import Config
from load.client import L360Client
from reconcile.compare import build_report, remember_keys
from reconcile.readback import ReadProgress, pushed_integration, read_back
from reconcile.report import HistoryPoint, Report
from reconcile.requeue import requeue_differences
from warehouse.models import Project, run_project
from warehouse.models.history import up_to_date
from warehouse.session import run_session
from warehouse.transform import project_for

RECONCILE_SCHEMA = "reconcile"


def _models_to_build(con: duckdb.DuckDBPyConnection, project: Project) -> dict[str, Any]:
    """The comparison models alone when what they read is current (a reconcile after a run),
    else every model: the comparison must see the marts as the raw tables make them. At a
    million enrollments, rebuilding the marts was most of the reconcile's own time."""
    own = {m.name for m in project.models.values() if m.schema == RECONCILE_SCHEMA}
    upstream = [m for m in project.selection(own) if m.name not in own]
    if up_to_date(con, upstream):
        return {"select": own, "with_upstream": False}
    return {}


def run_reconcile(config: Config, requeue: bool = False,
                  progress: ReadProgress = lambda what, done, total: None
                  ) -> tuple[Report, int]:
    """Read back, compare, and (with ``requeue``) mark the differing rows to be sent again;
    return the report and how many rows were requeued."""
    settings = config.l360()
    project = project_for(config)
    with run_session(config.warehouse_path(), "reconcile", {"requeue": requeue},
                     config.memory_limit()) as session:
        con = session.con
        integration = pushed_integration(con)
        with L360Client(settings, limits=config.http_limits()) as client:
            read_back(con, client, integration, session.run_id, progress=progress)
        run_project(con, project, session.run_id, **_models_to_build(con, project))
        report = build_report(con, session.run_id, config.profile, settings.api_url)
        requeued = requeue_differences(con) if requeue else 0
        remember_keys(con, session.run_id)
        counts = {c.key: c.count for c in report.categories}
        session.counts = {"reconcile": counts | {"requeued": requeued}}
        report.history.append(HistoryPoint(session.run_id, report.generated_at, counts))
        return report, requeued
