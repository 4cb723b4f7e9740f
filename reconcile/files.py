"""The report for scripts and spreadsheets: one JSON document, or one CSV or JSON file per
category with a summary beside them.

Unlike the HTML page, which shows the first rows of a category, these hold every row: they are
what a person filters in a spreadsheet or a script feeds on. Like every rendering, they lead
with what needs action: the document's totals are split by kind, its categories and the
summary's lines come in the report's order (needs action first, by severity).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from reconcile.formatting import utc
from reconcile.report import EXCLUDED, NEEDS_ACTION, Category, Report, since, since_text

#: What a spreadsheet reads as the start of a formula (or, tab and CR, turns into one after a
#: paste): a Go1 title ``=HYPERLINK(...)`` would run in whoever opens the file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The file beside the per-category files that lists every category with its counts, in order.
SUMMARY = "summary"
#: The summary's columns (CSV), and the per-category fields of the JSON document besides rows.
SUMMARY_COLUMNS = ["category", "kind", "severity", "title", "count", "previous", "new",
                   "resolved", "change", "cause_and_fix"]


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, with a ``'`` before it (shown
    as text, the quote hidden). Only text: a number stays a number (-3 is not a formula, and
    a quote would make it text); every other value is written as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def _iso(value: Any) -> Any:
    return None if value is None else utc(value).isoformat()


def category_document(c: Category, rows: bool = True) -> dict[str, Any]:
    """One category as JSON: its kind, rank and counts, then (``rows``) every row as it is."""
    found: dict[str, Any] = {
        "category": c.key, "kind": c.kind, "severity": c.severity, "title": c.title,
        "count": c.count, "previous": c.previous, "new": c.new, "resolved": c.resolved,
        "change": c.change, "cause_and_fix": c.cause_and_fix, "columns": c.columns,
    }
    if c.resolved_keys:
        found["resolved_keys"] = c.resolved_keys
    if rows:
        found["rows"] = c.rows
    return found


def report_document(report: Report, requeued: int | None = None,
                    rows: bool = True) -> dict[str, Any]:
    """The whole report as one JSON-ready document, needs action first: what
    ``reconcile --format json`` prints, and ``summary.json`` without the rows."""
    context = report.context
    document: dict[str, Any] = {
        "run_id": report.run_id,
        "generated_at": _iso(report.generated_at),
        "previous_run_id": report.previous_run_id,
        "context": None if context is None else {
            "profile": context.profile, "platform_url": context.platform_url,
            "go1_extracted_at": _iso(context.go1_extracted_at),
            "read_back_at": _iso(context.read_back_at),
        } | ({} if context.courses_listed is None else {
            "courses_listed": context.courses_listed, "courses_read": context.courses_read}),
        NEEDS_ACTION: _kind(report, report.needs_action),
        EXCLUDED: _kind(report, report.excluded),
        "categories": [category_document(c, rows) for c in report.ordered],
    }
    if requeued is not None:
        document["requeued"] = requeued
    return document


def _kind(report: Report, categories: list[Category]) -> dict[str, Any]:
    """One kind's totals: now, at the previous reconcile, new and resolved since (``None``
    when not known), in words, and its categories that have rows, most severe first."""
    change = since(report, categories)
    return {"total": sum(c.count for c in categories), "previous": change.previous,
            "new": change.new, "resolved": change.resolved,
            "change": since_text(report, categories),
            "categories": [c.key for c in categories if c.count]}


def dumps(document: Any) -> str:
    """JSON as every file and stdout write it: values DuckDB returns (times, decimals) as
    text, nothing else changed."""
    return json.dumps(document, indent=1, default=str, ensure_ascii=False)


def write_files(report: Report, folder: Path, fmt: str) -> list[Path]:
    """One CSV or JSON file per category in ``folder`` (every row, no truncation); in CSV, text
    that would start a formula is quoted (:func:`safe_cell`), JSON keeps every value as is.
    A CSV has the category's columns, and ``new`` when it is known which rows are."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in report.ordered:
        path = folder / f"{c.key}.{fmt}"
        if fmt == "csv":
            fields = [*c.columns, "new"] if c.keyed else list(c.columns)
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
                writer.writeheader()
                writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in c.rows)
        else:
            path.write_text(dumps(category_document(c)), encoding="utf-8")
        written.append(path)
    return written


def write_summary(report: Report, folder: Path, fmt: str) -> Path:
    """``summary.csv`` or ``summary.json`` beside the category files: every category with its
    kind, rank and counts, needs action first (the JSON also has the totals and the context;
    the CSV is one table, for a spreadsheet)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SUMMARY}.{fmt}"
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for c in report.ordered:
                writer.writerow({k: safe_cell(v) for k, v in
                                 category_document(c, rows=False).items()})
    else:
        path.write_text(dumps(report_document(report, rows=False)), encoding="utf-8")
    return path
