"""The ``plan`` and ``push`` commands as functions: a session, the client, the push."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from load.changes import Plan, make_plan
from load.client import L360Client
from load.push import push
from load.result import ProgressFn, PushResult
from settings import Config
from warehouse.connection import connect
from warehouse.errors import WarehouseError
from warehouse.session import run_session


@dataclass
class PushReport:
    run_id: int
    warehouse: Path
    result: PushResult


def run_plan(config: Config) -> Plan:
    """What a push would send now; reads the warehouse only, calls no API."""
    path = config.warehouse_path()
    con = connect(path, read_only=True, memory_limit=config.memory_limit())
    try:
        found = con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                            "table_schema = 'marts' AND table_name = 'content_360'").fetchone()
        if not found or not found[0]:
            raise WarehouseError("no marts yet: run `python cli.py transform` first")
        return make_plan(con)
    finally:
        con.close()


def run_push(config: Config, progress: ProgressFn = lambda kind, count: None) -> PushReport:
    settings = config.l360()
    path = config.warehouse_path()
    with run_session(path, "push", {}, config.memory_limit()) as session, \
            L360Client(settings) as client:
        result = push(session.con, client, settings, session.run_id, progress)
        session.counts = {kind: vars(count) for kind, count in result.counts.items()}
        if result.failed:
            session.status = "partial"
            session.error = f"{result.failed} row(s) failed; see meta.push_ledger"
        return PushReport(session.run_id, path, result)
