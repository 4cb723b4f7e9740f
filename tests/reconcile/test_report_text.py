"""The report as text, JSON and CSV: what needs action first, the excluded apart, the changes.

No API here: the report is written by hand, so the exact lines a person reads are pinned.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconcile.files import dumps, report_document, write_files, write_summary
from reconcile.report import EXCLUDED, Category, Context, Report, text_summary

NOW = datetime(2026, 11, 3, 8, 15, tzinfo=UTC)
ATTEMPT_COLUMNS = ["go1_key", "course_title", "user_email", "go1_value", "l360_value"]


def _attempts(n: int, new: int) -> list[dict[str, Any]]:
    return [{"go1_key": f"e{i}", "external_course_id": "36400181", "course_title": "Fire safety",
             "user_email": f"u{i}@example.com", "go1_value": "progress 100",
             "l360_value": "progress 50", "detail": None, "row_key": f"e{i}", "new": i < new}
            for i in range(n)]


def _report() -> Report:
    """A drifted report compared with run 7: attempts differ (2 new, 1 resolved), a course
    came back (resolved), and 415 enrollments of unsynced content, excluded by design."""
    unsynced = [{"go1_key": f"8{i}", "external_course_id": "36500001", "course_title": None,
                 "user_email": "a@example.com", "row_key": f"8{i}", "new": False}
                for i in range(415)]
    categories = [
        Category("enrollment_of_unsynced_content", "Enrollment of content that is not synced",
                 "Add it to My Library if it should sync.", ["go1_key", "course_title"],
                 unsynced, kind=EXCLUDED, severity=13, previous=415, resolved=0, keyed=True),
        Category("course_missing", "Course missing in 360Learning", "Requeue and push.",
                 ["go1_key", "course_title"], [], severity=1, previous=1, resolved=1,
                 resolved_keys=["36400001"], keyed=True),
        Category("attempt_values_differ", "Progress, completion date or result differ",
                 "Requeue and push.", ATTEMPT_COLUMNS, _attempts(3, new=2), severity=5,
                 previous=2, resolved=1, keyed=True),
        Category("learner_without_360_user", "Go1 learner without a 360Learning user",
                 "Create the user.", ["user_email"], [], kind=EXCLUDED, severity=11,
                 previous=0, resolved=0, keyed=True),
    ]
    return Report(9, NOW, categories, context=Context(
        "production", "https://app.360learning.com", NOW - timedelta(minutes=35),
        NOW - timedelta(minutes=1)), previous_run_id=7)


def test_the_text_leads_with_what_needs_action() -> None:
    assert text_summary(_report()).splitlines() == [
        "reconciliation, run 9: 3 difference(s) need action; 415 excluded by design",
        "profile: production · platform: https://app.360learning.com · Go1 extracted: "
        "2026-11-03 07:40 UTC · 360Learning read back: 2026-11-03 08:14 UTC",
        "",
        "needs action: 3; since run 7: 2 new, 2 resolved",
        "      3  Progress, completion date or result differ  [2 new, 1 resolved]",
        "         Requeue and push.",
        "   none  Course missing in 360Learning  [resolved (was 1)]",
        "",
        "excluded by design: 415; not drift: go1sync leaves these out on purpose",
        "    415  Enrollment of content that is not synced  [unchanged]",
        "         Add it to My Library if it should sync.",
        "   none  Go1 learner without a 360Learning user",
    ]


def test_a_first_reconcile_without_drift_says_so() -> None:
    report = _report()
    for c in report.categories:
        c.previous = c.resolved = None
        c.keyed = False
        if c.needs_action:
            c.rows = []
    report.previous_run_id = None
    lines = text_summary(report).splitlines()
    assert lines[0] == "reconciliation, run 9: nothing needs action; 415 excluded by design"
    assert lines[3] == "needs action: 0"
    assert "[" not in text_summary(report)  # nothing to compare with


def test_the_json_document_splits_the_totals_and_orders_the_categories() -> None:
    document = json.loads(dumps(report_document(_report(), requeued=0)))
    assert document["needs_action"] == {
        "total": 3, "previous": 3, "new": 2, "resolved": 2,
        "change": "since run 7: 2 new, 2 resolved", "categories": ["attempt_values_differ"]}
    assert document["excluded"]["total"] == 415
    assert document["excluded"]["categories"] == ["enrollment_of_unsynced_content"]
    assert document["context"] == {
        "profile": "production", "platform_url": "https://app.360learning.com",
        "go1_extracted_at": "2026-11-03T07:40:00+00:00",
        "read_back_at": "2026-11-03T08:14:00+00:00"}
    assert [(c["category"], c["kind"]) for c in document["categories"]] == [
        ("course_missing", "needs_action"), ("attempt_values_differ", "needs_action"),
        ("learner_without_360_user", "excluded"), ("enrollment_of_unsynced_content", "excluded")]
    course = document["categories"][0]
    assert course["change"] == "resolved (was 1)" and course["resolved_keys"] == ["36400001"]
    attempts = document["categories"][1]
    assert [r["new"] for r in attempts["rows"]] == [True, True, False]
    assert document["requeued"] == 0


def test_csv_files_have_the_category_columns_and_a_summary_in_order(tmp_path: Path) -> None:
    report = _report()
    written = write_files(report, tmp_path, "csv")
    assert [p.name for p in written] == [
        "course_missing.csv", "attempt_values_differ.csv", "learner_without_360_user.csv",
        "enrollment_of_unsynced_content.csv"]
    with (tmp_path / "attempt_values_differ.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [*ATTEMPT_COLUMNS, "new"]
    assert rows[1] == ["e0", "Fire safety", "u0@example.com", "progress 100", "progress 50",
                       "True"]
    summary = write_summary(report, tmp_path, "csv")
    with summary.open(newline="", encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    assert [(r["category"], r["kind"], r["count"], r["change"]) for r in lines] == [
        ("course_missing", "needs_action", "0", "resolved (was 1)"),
        ("attempt_values_differ", "needs_action", "3", "2 new, 1 resolved"),
        ("learner_without_360_user", "excluded", "0", ""),
        ("enrollment_of_unsynced_content", "excluded", "415", "unchanged")]
    as_json = json.loads(write_summary(report, tmp_path, "json").read_text(encoding="utf-8"))
    assert as_json["needs_action"]["total"] == 3 and "rows" not in as_json["categories"][0]
