"""Render a sample reconciliation report and screenshot it with headless Chromium.

The HTML page is reviewed by looking at it: this gives a reproducible sample (with the awkward
data a real Go1 catalog has: markup in titles, quotes, ampersands, an empty category, a history)
and a PNG of it, so a design change can be judged without a browser at hand.

    .venv/bin/python scripts/screenshot_report.py [--html PATH] [--png PATH]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from reconcile.compare import COLUMNS  # noqa: E402
from reconcile.html import render_html  # noqa: E402
from reconcile.report import Category, HistoryPoint, Report  # noqa: E402

DEFAULT_PNG = Path("reports/reconcile-sample.png")
NASTY_TITLE = '<script>alert(1)</script> "Safety first" & ampersands'


def _row(go1_key: Any, email: str | None, go1: Any, l360: Any, detail: str) -> dict[str, Any]:
    """A row shaped like ``reconcile.differences``."""
    course = f"go1-{go1_key}" if isinstance(go1_key, int) else str(go1_key).split(":")[0]
    return {
        "go1_key": go1_key,
        "external_course_id": course,
        "user_email": email,
        "go1_value": go1,
        "l360_value": l360,
        "detail": detail,
    }


def sample_report() -> Report:
    """A report with the cases the page must handle: many rows, hostile text, nothing, history."""
    now = datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
    missing = [
        _row(40117, None, NASTY_TITLE, None,
             "never confirmed by 360Learning (see the push ledger)"),
        _row(40233, None, "Excel: Pivot tables & charts", None,
             "pushed, but 360Learning does not know it"),
        _row(51009, None, 'Leading "difficult" conversations', None,
             "pushed, but 360Learning does not know it"),
    ]
    differ = [
        _row(f"go1-{70000 + i}:learner{i:03d}@example.com", f"learner{i:03d}@example.com",
             round(1.0 - (i % 5) * 0.1, 2), round(0.5 + (i % 3) * 0.1, 2),
             "progress differs" if i % 2 else "completion date differs")
        for i in range(64)
    ]
    no_user = [
        _row(f"go1-{80000 + i}:new.starter{i}@example.com", f"new.starter{i}@example.com",
             "enrolled", None, "no 360Learning user with this email")
        for i in range(7)
    ]
    rejected = [
        _row(90001, None, "Onboarding <b>bold</b> & co", "HTTP 400",
             "360Learning refused the course: name longer than 255 characters"),
        _row(90002, None, "Fire safety 2024", "mapping", "no language mapped for 'xx-YY'"),
    ]
    categories = [
        Category("course_missing", "Course missing in 360Learning",
                 "Its upsert failed or never ran, or the course was deleted in 360Learning: see "
                 "the push ledger, then reconcile --requeue and push.", COLUMNS, missing),
        Category("attempt_values_differ", "Progress, completion date or result differ",
                 "Edited in 360Learning, or a later record merged into this attempt: reconcile "
                 "--requeue and push.", COLUMNS, differ),
        Category("attempt_missing", "Attempt missing in 360Learning",
                 "The attempt was deleted in 360Learning, or merged into another: reconcile "
                 "--requeue and push.", COLUMNS, []),
        Category("learner_without_360_user", "Go1 learner without a 360Learning user",
                 "The description requires the same email on both sides: create the user in "
                 "360Learning or fix the email; the attempts go out next run.", COLUMNS, no_user),
        Category("rejected", "Rejected by the mapping or by 360Learning",
                 "See the reason: fix the data in Go1, or the setting named; 360Learning refusals "
                 "are sent again next run.", COLUMNS, rejected),
    ]
    history = [
        HistoryPoint(101, now - timedelta(days=3), {
            "course_missing": 12, "attempt_values_differ": 140, "learner_without_360_user": 9}),
        HistoryPoint(104, now - timedelta(days=2), {
            "course_missing": 5, "attempt_values_differ": 96, "attempt_missing": 4,
            "learner_without_360_user": 8, "rejected": 3}),
        HistoryPoint(107, now - timedelta(days=1), {
            "course_missing": 4, "attempt_values_differ": 71, "learner_without_360_user": 7,
            "rejected": 2}),
        HistoryPoint(110, now, {c.key: c.count for c in categories}),
    ]
    return Report(run_id=110, generated_at=now, categories=categories, history=history)


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
