"""The report as files for scripts and spreadsheets: one CSV or JSON file per category.

Unlike the HTML page, which shows the first rows of a category, these hold every row: they are
what a person filters in a spreadsheet or a script feeds on.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from reconcile.report import Report


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
