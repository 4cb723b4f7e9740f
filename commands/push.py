"""``python cli.py plan`` and ``push``: what would be sent, and sending it."""

from __future__ import annotations

from commands import stages
from commands.report import RunReport
from load.changes import Plan, make_plan
from load.result import ProgressFn
from settings import Config
from warehouse.connection import connect
from warehouse.session import run_session


def run_plan(config: Config) -> Plan:
    """What a push would send now; reads the warehouse only, calls no API."""
    con = connect(config.warehouse_path(), read_only=True, memory_limit=config.memory_limit())
    try:
        return make_plan(con)
    finally:
        con.close()


def run_push(config: Config, progress: ProgressFn = lambda kind, count: None) -> RunReport:
    settings = config.l360()
    path = config.warehouse_path()
    with run_session(path, "push", {}, config.memory_limit()) as session:
        report = RunReport("push", session.run_id, path)
        stages.push_changes(session, report, settings, progress=progress,
                            limits=config.http_limits())
        return stages.finish(session, report)
