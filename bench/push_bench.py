"""Push benchmark: a first push of 50,000 courses and 500,000 attempts.

Builds marts of that size directly (the push reads only marts.content_360 and
marts.attempts_360), serves the 360Learning sandbox in its own process with its rate limits on
(10 writes/s, 50 reads/s, 3 bulk operations at once), pushes, and prints the API calls made
next to the minimum (one submit per batch at the documented maxima, one status poll and one
results read per operation, and the integration setup), and the wall time.

    python bench/push_bench.py                      # 50,000 courses, 500,000 attempts
    python bench/push_bench.py --courses 5000 --attempts 50000
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402

LEARNERS = 20_000


def build_marts(warehouse: Path, courses: int, attempts: int) -> None:
    from warehouse import open_warehouse

    con = open_warehouse(warehouse)
    con.execute("""
        CREATE TABLE marts.content_360 AS
        SELECT CAST(36400000 + i AS VARCHAR) AS external_id, 'Course ' || i AS name,
               '<p>About course ' || i || '</p>' AS description,
               'https://img.example.com/' || i || '.jpg' AS image, 30 AS duration,
               ['Author ' || (i % 97)] AS authors, ['Author ' || (i % 97)] AS sources,
               'authors' AS sources_source, 'en' AS lang, 'mapped' AS lang_source,
               'https://acme.mygo1.com/play/' || (36400000 + i) AS launch_url,
               TIMESTAMPTZ '2025-01-01 00:00:00+00' AS modified_at, ['Sales'] AS subjects,
               'course' AS content_type, false AS archived,
               'Provider ' || (i % 13) AS provider_name,
               'https://img.example.com/provider/' || (i % 13) || '.png' AS provider_logo
        FROM range($n) AS r(i)""", {"n": courses})
    con.execute("""
        CREATE TABLE marts.attempts_360 AS
        SELECT CAST(36400000 + (i % $courses) AS VARCHAR) AS external_course_id,
               'learner' || (i // $courses) % $learners || '@acme-corp.com' AS user_email,
               TIMESTAMPTZ '2025-02-01 00:00:00+00' + to_seconds(i) AS first_activity,
               TIMESTAMPTZ '2025-03-01 00:00:00+00' + to_seconds(i) AS last_activity,
               CASE WHEN i % 3 = 0 THEN TIMESTAMPTZ '2025-03-01 00:00:00+00' + to_seconds(i)
               END AS completed_at,
               CASE WHEN i % 3 = 0 THEN 100 ELSE 50 END AS progress,
               CASE WHEN i % 3 = 0 THEN 'success' END AS result,
               CAST(NULL AS DOUBLE) AS score, 0 AS time_spent_ms,
               CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'open' END AS attempt_state,
               CAST(71000000 + i AS VARCHAR) AS go1_enrollment_id
        FROM range($n) AS r(i)""", {"n": attempts, "courses": courses, "learners": LEARNERS})
    # the outbound models (payloads, change sets) over these marts, as a transform makes them
    from go1sync.settings import load_config
    from warehouse.models import run_project
    from warehouse.runs import start_run
    from warehouse.transform import project_for

    project = project_for(load_config(env={"GO1_PORTAL_URL": "https://acme.mygo1.com"}))
    # (and the seeds their audits read)
    outbound = [name for name, model in project.models.items()
                if model.schema in ("outbound", "seeds")]
    run_project(con, project, start_run(con, "bench", {}), outbound, with_upstream=False)
    con.close()


def start_sandbox(emails_file: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.l360", "--port", "0",
                             "--learner-emails-file", str(emails_file)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            env[name] = value.strip("'\"")
            if len(env) == 6:
                break
    return proc, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--courses", type=int, default=50_000)
    parser.add_argument("--attempts", type=int, default=500_000)
    args = parser.parse_args()

    from commands.push import run_push
    from go1sync.settings import load_config
    from load.bulk import BATCH_LIMITS

    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "push.duckdb"
        build_marts(warehouse, args.courses, args.attempts)
        emails = Path(tmp) / "learners.txt"
        emails.write_text("".join(f"learner{i}@acme-corp.com\n" for i in range(LEARNERS)))
        proc, env = start_sandbox(emails)
        try:
            config = load_config(env={**os.environ, **env, "GO1SYNC_WAREHOUSE": str(warehouse)})
            began = time.monotonic()
            report = run_push(config)
            seconds = time.monotonic() - began
        finally:
            proc.terminate()
            proc.wait()
        from warehouse import open_warehouse
        con = open_warehouse(warehouse)
        operations = con.execute("SELECT kind, count(*) FROM meta.bulk_operations "
                                 "GROUP BY 1 ORDER BY 1").fetchall()
        con.close()

    groups = len(env["L360_GROUP_IDS"].split(",")) - 1
    minimum = {
        "course_upsert": math.ceil(args.courses / BATCH_LIMITS["courses_upsert"]),
        "share (catalog + library)": 2 * math.ceil(args.courses * groups / BATCH_LIMITS["groups"]),
        "attempt": math.ceil(args.attempts / BATCH_LIMITS["stats"]),
    }
    submits = sum(minimum.values())
    assert report.pushed is not None
    counts = report.pushed.counts
    print(f"first push of {args.courses:,} courses and {args.attempts:,} attempts: "
          f"{seconds:.1f}s, peak {peak_rss_mb():.0f} MB")
    for kind, c in counts.items():
        print(f"  {kind:<15} {c.sent:>9,} sent {c.succeeded:>9,} ok {c.failed:>6,} failed")
    result = report.pushed
    print(f"  API calls made: {result.api_writes:,} writes and {result.api_reads:,} reads "
          "(the token call aside)")
    print(f"  bulk operations recorded in the ledger: {dict(operations)} "
          "(sharing is not ledgered)")
    users = math.ceil((LEARNERS + 1) / 500)  # the learners and the admin, 500 a page
    print(f"  minimum submits at the documented maxima: {minimum} = {submits}; "
          f"minimum reads: a poll and a results read per operation = {2 * submits}, "
          f"the user list to match learners = {users}, the resourceId reading = 1, the "
          "bulk-operations scope probe = 1, plus the integration setup")
    print("  (each operation is polled with backoff from 0.2 s, so reads above the minimum are "
          "polls of operations still running)")


if __name__ == "__main__":
    main()
