"""Past Go1's 10,000-result offset cap, windows are cut by time: a day holding 50,000 updates
(a bulk assignment) is read whole, and no page is asked twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commands.extract import run_extract
from extract.streams.windows import MAX_REACHABLE, PAGE_SIZE
from go1sync.settings import load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from warehouse import open_warehouse

DAY = datetime(2026, 11, 5, tzinfo=UTC)  # after the seed's own updates


@pytest.mark.slow
def test_a_day_of_50000_updates_is_read_whole_without_a_page_asked_twice(
        tmp_path: Path) -> None:
    seed = Go1Seed(seed=5, learning_objects=300, users=2_000, enrollments=50_000)
    with Go1Sandbox(seed).serve() as go1:
        go1.bulk_update_day(DAY)
        served = len(go1.enrollments)
        assert served == 50_000 > MAX_REACHABLE
        config = load_config(env={**go1.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
        report = run_extract(config, ["enrollments"])
        pages = [(r.query.get("update_time_gte", [""])[0], r.query.get("update_time_lte", [""])[0],
                  r.query.get("offset", [""])[0])
                 for r in go1.requests if r.path == go1.enrollments_path]
    assert report.ok, [o.error for o in report.streams]
    con = open_warehouse(config.warehouse_path())
    try:
        landed = con.execute("SELECT count(DISTINCT enrollment_id) FROM raw.go1_enrollments"
                             ).fetchone()
    finally:
        con.close()
    assert landed == (served,)
    asked_twice = {page: n for page, n in Counter(pages).items() if n > 1}
    assert asked_twice == {}
    floor = -(-served // PAGE_SIZE)
    assert len(pages) <= floor * 1.05, (len(pages), floor)  # the cuts' own probes aside
