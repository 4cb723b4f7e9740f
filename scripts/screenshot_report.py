"""Render a sample reconciliation report and screenshot it with headless Chromium.

The HTML page is reviewed by looking at it: this gives a reproducible sample and a PNG of it,
so a design change can be judged without a browser at hand. The sample is a drifted world as a
real one looks: a little drift that needs action (some of it new since the last reconcile, some
resolved) beside hundreds of rows excluded by design (enrollments of content that is not
synced, mapping rejects, learners without an account), with the awkward data a real Go1
catalog has (markup in titles, quotes, ampersands), an empty category and a history. Titles,
kinds, ranks and columns come from the seed, as a run's do.

    .venv/bin/python scripts/screenshot_report.py [--html PATH] [--png PATH]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from reconcile.html import render_html  # noqa: E402
from reconcile.report import Category, Context, HistoryPoint, Report  # noqa: E402

DEFAULT_PNG = Path("reports/reconcile-sample.png")
SEED = ROOT / "models" / "seeds" / "reconcile_categories.csv"
NASTY_TITLE = '<script>alert(1)</script> "Safety first" & ampersands'
TITLES = ["Excel: Pivot tables & charts", 'Leading "difficult" conversations',
          "Fire safety 2024", "GDPR essentials", "Onboarding <b>bold</b> & co",
          "Negotiation skills", "Time management", "Cyber security awareness"]


def _row(key: Any, course: str | None = None, title: str | None = None,
         email: str | None = None, go1: Any = None, l360: Any = None,
         detail: str | None = None, new: bool = False) -> dict[str, Any]:
    """A row shaped like ``reconcile.differences`` as the report reads it."""
    return {"go1_key": key, "external_course_id": course, "course_title": title,
            "user_email": email, "go1_value": go1, "l360_value": l360, "detail": detail,
            "row_key": str(key), "new": new}


def _rows() -> dict[str, list[dict[str, Any]]]:
    """The sample's rows per category: a little drift, a lot excluded by design."""
    missing = [
        _row("40117", "40117", NASTY_TITLE,
             detail="never confirmed by 360Learning (see the push ledger)", new=True),
        _row("40233", "40233", TITLES[0], detail="pushed, but 360Learning does not know it"),
        _row("51009", "51009", TITLES[1], detail="pushed, but 360Learning does not know it"),
    ]
    archived = [_row("51230", "51230", TITLES[3], go1="published", l360="archived", new=True)]
    reopened = [
        _row(f"7100{i}", f"3640{i}", TITLES[i], f"learner{i:03d}@example.com", "completed",
             "open (progress 40)", "the learner finished in Go1; the attempt is still open "
             "in 360Learning", new=True)
        for i in range(2)
    ]
    differ = [
        _row(f"7200{i:02d}", f"3641{i % 8}", TITLES[i % 8], f"learner{i:03d}@example.com",
             "progress 100", f"progress {50 + (i % 3) * 10}", new=i < 5)
        for i in range(64)
    ]
    fields = [_row(f"3642{i}", f"3642{i}", TITLES[i + 2], go1=f"name = {TITLES[i + 2]}",
                   l360=f"name = {TITLES[i + 2]} (copy)") for i in range(3)]
    no_user = [_row(f"new.starter{i}@example.com", email=f"new.starter{i}@example.com",
                    go1=f"{1 + i % 3} attempt(s)") for i in range(7)]
    rejected = [_row(f"9000{i}", go1=reason, detail=f"rejected by the mapping: {reason}")
                for i, reason in enumerate(["learner_without_email"] * 12
                                           + ["missing_title"] * 4 + ["type_not_synced"] * 2)]
    unsynced = [_row(f"8{i:05d}", f"3650{i % 40:02d}", None if i % 3 else "Leadership playlist",
                     f"learner{i % 90:03d}@example.com", new=i >= 405) for i in range(415)]
    return {"course_missing": missing, "archived_in_360_published_in_go1": archived,
            "open_in_360_completed_in_go1": reopened, "attempt_values_differ": differ,
            "course_fields_differ": fields, "learner_without_360_user": no_user,
            "rejected": rejected, "enrollment_of_unsynced_content": unsynced}


#: What the previous reconcile (run 107) found: the sample's changes are counted from it.
PREVIOUS = {"course_missing": 4, "attempt_missing": 4, "attempt_values_differ": 71,
            "course_fields_differ": 3, "learner_without_360_user": 7, "rejected": 18,
            "enrollment_of_unsynced_content": 409}


def sample_report() -> Report:
    """A drifted report with the cases the page must handle: both kinds, new and resolved
    categories, many rows, hostile text, empty categories, a history and its context."""
    now = datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
    rows = _rows()
    categories = []
    with SEED.open(encoding="utf-8") as file:
        for line in csv.DictReader(file):
            key = line["category"]
            found = rows.get(key, [])
            before = PREVIOUS.get(key, 0)
            new = sum(1 for r in found if r["new"]) if before else len(found)
            for r in found:
                r["new"] = r["new"] or not before
            gone = before - (len(found) - new)
            categories.append(Category(
                key, line["title"], line["cause_and_fix"], line["columns"].split(), found,
                kind=line["kind"], severity=int(line["severity:INTEGER"]), previous=before,
                resolved=gone, resolved_keys=[], keyed=True))
    history = [
        HistoryPoint(101, now - timedelta(days=3), {
            "course_missing": 12, "attempt_values_differ": 140, "learner_without_360_user": 9,
            "rejected": 21, "enrollment_of_unsynced_content": 398}),
        HistoryPoint(104, now - timedelta(days=2), {
            "course_missing": 5, "attempt_values_differ": 96, "attempt_missing": 4,
            "learner_without_360_user": 8, "rejected": 19,
            "enrollment_of_unsynced_content": 402}),
        HistoryPoint(107, now - timedelta(days=1), PREVIOUS),
        HistoryPoint(110, now, {c.key: c.count for c in categories}),
    ]
    context = Context("production", "https://app.360learning.com",
                      now - timedelta(minutes=50), now - timedelta(minutes=2))
    return Report(run_id=110, generated_at=now, categories=categories, history=history,
                  context=context, previous_run_id=107)


def chromium_command(chromium: str, html: Path, png: Path, profile: Path) -> list[str]:
    """Headless Chromium that talks to nobody: no sync, no updates, a throwaway profile."""
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
        "--window-size=1280,1600", f"--screenshot={png}", html.resolve().as_uri(),
    ]


def main(argv: list[str] | None = None) -> int:
    """Write the sample page, screenshot it; exit 1 with one line when Chromium is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--html", type=Path, help="where to write the page (default: a temp file)")
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG, help=f"default: {DEFAULT_PNG}")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for Chromium")
    args = parser.parse_args(argv)

    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is not installed: apt-get install -y chromium", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="go1sync-shot-") as tmp:
        html: Path = args.html or Path(tmp) / "reconcile-sample.html"
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(sample_report()), encoding="utf-8")
        png: Path = args.png.resolve()
        png.parent.mkdir(parents=True, exist_ok=True)
        png.unlink(missing_ok=True)
        profile = Path(tmp) / "profile"
        profile.mkdir()
        try:
            done = subprocess.run(
                chromium_command(chromium, html, png, profile),
                capture_output=True, text=True, timeout=args.timeout, check=False,
            )
        except subprocess.TimeoutExpired:
            print(f"chromium did not finish within {args.timeout:g}s", file=sys.stderr)
            return 1
        if not png.is_file() or png.stat().st_size == 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            print(f"chromium wrote no screenshot (exit {done.returncode}): {' | '.join(tail)}",
                  file=sys.stderr)
            return 1
    source = f" from {args.html}" if args.html else ""
    print(f"wrote {png} ({png.stat().st_size:,} bytes){source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
