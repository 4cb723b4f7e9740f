"""Transform benchmark: time and peak memory of the models on a large raw layer.

Lands the sandbox's seeded catalog and enrollments straight into raw.* (no HTTP: this measures
the models), then runs ``transform`` in a child process so its peak memory is its own.

    python bench/transform_bench.py                      # 50k LOs, 20k users, 500k enrollments
    python bench/transform_bench.py --enrollments 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402

PAGE = 5000


def land(warehouse: Path, learning_objects: int, users: int, enrollments: int) -> dict:
    from extract.landing import (
        ENROLLMENTS,
        LEARNING_OBJECTS,
        USER_ACCOUNTS,
        land_bodies,
        settle,
    )
    from extract.streams.learning_objects import SYNCED_TYPES
    from sandbox.go1 import Go1Sandbox, Go1Seed
    from warehouse import open_warehouse

    began = time.monotonic()
    go1 = Go1Sandbox(Go1Seed(seed=7, learning_objects=learning_objects, users=users,
                             enrollments=enrollments))
    listed = [lo for lo in sorted(go1.library)
              if go1.learning_objects[lo]["core"]["type"] in SYNCED_TYPES]
    los = [go1.served_learning_object(lo) for lo in listed]
    enrolls = list(go1.enrollments.values())
    accounts = list(go1.user_accounts.values())
    generated = time.monotonic() - began

    def pages(records: list) -> list[str]:
        return [json.dumps({"total": len(records), "hits": records[i:i + PAGE]})
                for i in range(0, len(records), PAGE)]

    con = open_warehouse(warehouse)
    now = datetime.now(UTC)
    con.execute("INSERT INTO meta.runs (run_id, command, started_at, status) "
                "VALUES (nextval('meta.run_ids'), 'bench', now(), 'success')")
    con.execute("INSERT INTO meta.stream_runs (run_id, stream, status, started_at) "
                "VALUES (1, 'learning_objects', 'success', now())")
    for table, records in ((LEARNING_OBJECTS, los), (ENROLLMENTS, enrolls),
                           (USER_ACCOUNTS, accounts)):
        bodies = pages(records)
        for i in range(0, len(bodies), 2):  # batches the size the extract lands
            land_bodies(con, table, 1, now, bodies[i:i + 2])
        settle(con, table, 1)
    con.execute("INSERT INTO raw.go1_library_listings "
                "SELECT 1, lo_id, record->>'$.lifecycle.state' FROM raw.go1_learning_objects")
    con.close()
    return {"learning_objects": len(los), "enrollments": len(enrolls), "users": len(accounts),
            "generated_s": generated}


def child(warehouse: str) -> None:
    from commands.transform import run_transform
    from go1sync.settings import load_config

    config = load_config(env={**os.environ, "GO1SYNC_WAREHOUSE": warehouse,
                              "GO1_PORTAL_URL": "https://acme.mygo1.com"})
    began = time.monotonic()
    report = run_transform(config)
    assert report.models is not None
    print(json.dumps({
        "seconds": time.monotonic() - began,
        "peak_rss_mb": peak_rss_mb(),
        "models": [(m.name, m.rows, m.seconds) for m in report.models.models],
        "audits": len(report.models.audits),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learning-objects", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--enrollments", type=int, default=500_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        landed = land(warehouse, args.learning_objects, args.users, args.enrollments)
        print(f"raw layer: {landed['learning_objects']:,} learning objects in My Library, "
              f"{landed['enrollments']:,} enrollments, {landed['users']:,} users")
        out = subprocess.run([sys.executable, __file__, "--child", str(warehouse)], cwd=ROOT,
                             capture_output=True, text=True, env=dict(os.environ), check=False)
        if out.returncode != 0:
            raise SystemExit(out.stderr)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    for name, rows, seconds in figures["models"]:
        print(f"  {name:<28} {rows:>9,} rows {seconds:6.2f}s")
    print(f"transform: {figures['seconds']:.1f}s in all (target < 10 s), "
          f"{figures['audits']} audits, peak RSS {figures['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
