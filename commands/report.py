"""What a run of stages did, in one shape for every command that runs them.

``extract``, ``transform``, ``plan``/``push`` and ``run`` each fill the stages they ran; the
status rules live here once (SQLMesh's commands all return one kind of result over
``Context``): a stage that failed entirely makes the run ``failed``, one that failed in part
(a stream of several, rows 360Learning refused) makes it ``partial``. ``counts()`` is what
``meta.runs.counts`` holds, keyed by stage, whatever the command, so ``status`` reads every
run the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.runner import StreamOutcome
from load.changes import Plan
from load.result import PushResult
from warehouse.models import RunResult


@dataclass
class RunReport:
    command: str
    run_id: int
    warehouse: Path
    streams: list[StreamOutcome] = field(default_factory=list)
    models: RunResult | None = None
    plan: Plan | None = None
    pushed: PushResult | None = None
    # the settled run this one changed nothing against: its transform, plan and push skipped
    unchanged_since: int | None = None

    @property
    def failed_streams(self) -> list[str]:
        return [o.stats.stream for o in self.streams if not o.ok]

    @property
    def status(self) -> str:
        """``success``, ``partial`` (some of the work failed) or ``failed`` (all of a stage)."""
        if self.streams and len(self.failed_streams) == len(self.streams):
            return "failed"
        if self.failed_streams or (self.pushed is not None and self.pushed.failed):
            return "partial"
        return "success"

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def problems(self) -> list[str]:
        """What went wrong, a phrase each, for the run record and the last line of output."""
        found = [f"stream {o.stats.stream} failed: {o.error}" for o in self.streams if not o.ok]
        if self.pushed is not None and self.pushed.failed:
            found.append(f"{self.pushed.failed} row(s) not pushed")
        if self.models is not None:
            found += [f"audit {a.model}.{a.audit}: {a.failing_rows} row(s)"
                      for a in self.models.failed_audits]
        return found

    def counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {}
        if self.streams:
            counts["extract"] = {o.stats.stream: {"requests": o.stats.requests,
                                                  "read": o.stats.records_read,
                                                  "landed": o.stats.records_landed, "ok": o.ok}
                                 for o in self.streams}
        if self.models is not None:
            counts["transform"] = {m.name: m.rows for m in self.models.models}
        if self.plan is not None:
            counts["plan"] = {"courses": self.plan.courses, "attempts": self.plan.attempts}
        if self.pushed is not None:
            counts["push"] = {k: vars(c) for k, c in self.pushed.counts.items()}
        if self.unchanged_since is not None:
            counts["unchanged_since"] = self.unchanged_since
        return counts
