"""The report as files for scripts and spreadsheets: one CSV or JSON file per category.

Unlike the HTML page, which shows the first rows of a category, these hold every row: they are
what a person filters in a spreadsheet or a script feeds on.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from reconcile.report import Report

#: What a spreadsheet reads as the start of a formula (or, tab and CR, turns into one after a
#: paste): a Go1 title ``=HYPERLINK(...)`` would run in whoever opens the file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, with a ``'`` before it (shown
    as text, the quote hidden). Only text: a number stays a number (-3 is not a formula, and
    a quote would make it text); every other value is written as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def write_files(report: Report, folder: Path, fmt: str) -> list[Path]:
    """One CSV or JSON file per category in ``folder`` (every row, no truncation); in CSV, text
    that would start a formula is quoted (:func:`safe_cell`), JSON keeps every value as is."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in report.categories:
        path = folder / f"{c.key}.{fmt}"
        if fmt == "csv":
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=c.columns)
                writer.writeheader()
                writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in c.rows)
        else:
            path.write_text(json.dumps({"category": c.key, "title": c.title,
                                        "cause_and_fix": c.cause_and_fix, "count": c.count,
                                        "rows": c.rows}, indent=1, default=str),
                            encoding="utf-8")
        written.append(path)
    return written
