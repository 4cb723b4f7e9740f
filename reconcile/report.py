"""The reconciliation report's data: categories of differences, each explained, with rows.

One shape for every rendering: built from the ``reconcile.*`` models by :mod:`reconcile.compare`,
written as a terminal summary (here), CSV or JSON (:mod:`reconcile.files`) and HTML
(:mod:`reconcile.html`). It holds no warehouse connection, so a report can be rendered from a
sample (``scripts/screenshot_report.py``) as well as from a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Reconcile runs in a report's trend, the one it is made by included: the history chart draws
#: no more (more would make bars thinner than their labels), and no more are read.
HISTORY_RUNS = 30


@dataclass
class Category:
    key: str  # e.g. "attempt_missing"
    title: str  # e.g. "Attempt missing in 360Learning"
    cause_and_fix: str  # one line: the likely cause, and what to do
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass
class HistoryPoint:
    run_id: int
    at: datetime  # UTC
    counts: dict[str, int]  # category key -> rows found by that reconcile run


@dataclass
class Report:
    run_id: int
    generated_at: datetime  # UTC
    categories: list[Category]
    history: list[HistoryPoint] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c.count for c in self.categories)


def text_summary(report: Report) -> str:
    """The terminal summary: each category's count and what to do, differences first."""
    lines = [f"reconciliation, run {report.run_id}: {report.total:,} difference(s)"]
    for c in sorted(report.categories, key=lambda c: c.count == 0):
        mark = f"{c.count:>7,}" if c.count else "   none"
        lines.append(f"{mark}  {c.title}")
        if c.count:
            lines.append(f"         {c.cause_and_fix}")
    return "\n".join(lines)
