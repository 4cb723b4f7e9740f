"""``python cli.py plan`` and ``push``: what would be sent, and sending it."""

from __future__ import annotations

from commands import stages
from commands.report import RunReport
from go1sync.settings import Config, SettingsError
from load.changes import Plan, make_plan, share_groups
from load.result import ProgressFn
from warehouse.connection import connect
from warehouse.session import run_session


def planned_share_groups(config: Config) -> list[str] | None:
    """The groups a push now would share with (L360_GROUP_IDS but the first), so the plan
    counts the shares of the courses it adds; None when the setting is unset or invalid (the
    plan then counts with the groups the last push recorded; a push would refuse it anyway)."""
    try:
        return share_groups(config.get("l360.group_ids"))
    except SettingsError:
        return None


def run_plan(config: Config) -> Plan:
    """What a push would send now; reads the warehouse only, calls no API."""
    con = connect(config.warehouse_path(), read_only=True, memory_limit=config.memory_limit())
    try:
        return make_plan(con, groups=planned_share_groups(config))
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
