"""The ``extract`` command as one function: session, client, streams, run record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from extract.client import Go1Client
from extract.runner import StreamOutcome, run_streams
from extract.streams.context import ProgressFn
from settings import Config
from warehouse.session import run_session


@dataclass
class ExtractReport:
    run_id: int
    warehouse: Path
    outcomes: list[StreamOutcome]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def run_extract(config: Config, streams: Sequence[str], since: datetime | None = None,
                progress: ProgressFn = lambda stats: None) -> ExtractReport:
    """Extract the chosen streams under the run lock, recorded as one run."""
    settings = config.go1()
    path = config.warehouse_path()
    options = {"streams": list(streams), "since": since.isoformat() if since else None}
    with run_session(path, "extract", options, config.memory_limit()) as session, \
            Go1Client(settings) as client:
        outcomes = run_streams(session.con, client, settings, session.run_id, streams, since,
                               progress)
        session.counts = {
            o.stats.stream: {"requests": o.stats.requests, "read": o.stats.records_read,
                             "landed": o.stats.records_landed, "ok": o.ok}
            for o in outcomes
        }
        failed = [o for o in outcomes if not o.ok]
        if failed:
            session.status = "failed" if len(failed) == len(outcomes) else "partial"
            session.error = "; ".join(f"{o.stats.stream}: {o.error}" for o in failed)
        return ExtractReport(session.run_id, path, outcomes)
