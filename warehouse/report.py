"""The reconciliation report's data: categories of differences, each explained, with rows.

Built from the ``reconcile.*`` models; rendered as text, CSV, JSON (here) and HTML
(``warehouse/report_html.py``).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


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


def write_files(report: Report, folder: Path, fmt: str) -> list[Path]:
    """One CSV or JSON file per category in ``folder`` (every row, no truncation)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in report.categories:
        path = folder / f"{c.key}.{fmt}"
        if fmt == "csv":
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=c.columns)
                writer.writeheader()
                writer.writerows(c.rows)
        else:
            path.write_text(json.dumps({"category": c.key, "title": c.title,
                                        "cause_and_fix": c.cause_and_fix, "count": c.count,
                                        "rows": c.rows}, indent=1, default=str),
                            encoding="utf-8")
        written.append(path)
    return written
