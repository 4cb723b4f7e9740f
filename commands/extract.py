"""``python cli.py extract``: land Go1 data in ``raw.*``, as one run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from commands import stages
from commands.report import RunReport
from extract.streams.context import ProgressFn
from go1sync.settings import Config
from warehouse.session import run_session


def run_extract(config: Config, streams: Sequence[str], since: datetime | None = None,
                progress: ProgressFn = lambda stats: None) -> RunReport:
    """Extract the chosen streams under the run lock, recorded as one run."""
    settings = config.go1()
    path = config.warehouse_path()
    options = {"streams": list(streams), "since": since.isoformat() if since else None}
    with run_session(path, "extract", options, config.memory_limit()) as session:
        report = RunReport("extract", session.run_id, path)
        stages.extract(session, report, settings, streams, since, progress,
                       limits=config.http_limits())
        return stages.finish(session, report)
