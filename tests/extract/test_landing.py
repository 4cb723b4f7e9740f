"""Landing: records split from pages by DuckDB, verbatim, keyed, hashed, and settled."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from extract.landing import ENROLLMENTS, USER_ACCOUNTS, WHOLE_BODY, land_bodies, settle
from warehouse import open_warehouse

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return open_warehouse(tmp_path / "w.duckdb")


def page(*hits: dict) -> str:
    return json.dumps({"total": len(hits), "hits": list(hits)})


def enrollment(id_: str, status: str, updated: str) -> dict:
    return {"id": id_, "status": status, "updated_time": updated, "new_field": {"x": [1, 2]}}


def test_records_land_verbatim_with_key_and_hash(con: duckdb.DuckDBPyConnection) -> None:
    hit = enrollment("7", "completed", "2025-01-01T00:00:00+0000")
    assert land_bodies(con, ENROLLMENTS, 1, NOW, [page(hit)]) == 1
    row = con.execute(
        "SELECT enrollment_id, record, _record_hash FROM raw.go1_enrollments").fetchone()
    assert row is not None
    key, record, digest = row
    assert key == "7"
    assert json.loads(record) == hit  # fields the mapping does not know survive too
    assert len(digest) == 32


def test_settle_keeps_one_copy_per_key_and_the_newest_version(
        con: duckdb.DuckDBPyConnection) -> None:
    older = enrollment("1", "in-progress", "2025-01-01T00:00:00Z")
    newer = enrollment("1", "completed", "2025-01-02T00:00:00.5+00:00")
    land_bodies(con, ENROLLMENTS, 1, NOW, [page(newer, enrollment("2", "x", "2025-01-01T00:00Z"))])
    land_bodies(con, ENROLLMENTS, 1, NOW, [page(older, newer)])
    assert settle(con, ENROLLMENTS, 1) == 2
    assert con.execute(
        "SELECT record->>'status' FROM raw.go1_enrollments WHERE enrollment_id = '1'"
    ).fetchall() == [("completed",)]


def test_an_unchanged_record_read_again_is_not_landed_again(
        con: duckdb.DuckDBPyConnection) -> None:
    first = enrollment("1", "in-progress", "2025-01-01T00:00:00Z")
    land_bodies(con, ENROLLMENTS, 1, NOW, [page(first)])
    settle(con, ENROLLMENTS, 1)
    changed = enrollment("1", "completed", "2025-01-03T00:00:00Z")
    land_bodies(con, ENROLLMENTS, 2, NOW, [page(first, enrollment("3", "x", "2025-01-01T00Z"))])
    assert settle(con, ENROLLMENTS, 2) == 1  # only the new id 3
    land_bodies(con, ENROLLMENTS, 3, NOW, [page(changed)])
    assert settle(con, ENROLLMENTS, 3) == 1
    latest = con.execute("SELECT enrollment_id, record->>'status', _run_id "
                         "FROM raw.go1_enrollments_latest ORDER BY 1").fetchall()
    assert latest == [("1", "completed", 3), ("3", "x", 2)]


def test_a_record_without_a_key_is_kept(con: duckdb.DuckDBPyConnection) -> None:
    land_bodies(con, ENROLLMENTS, 1, NOW, [page({"status": "completed"}, {"status": "other"})])
    assert settle(con, ENROLLMENTS, 1) == 2
    assert con.execute("SELECT count(*) FROM raw.go1_enrollments_latest").fetchone() == (2,)


def test_a_single_object_body_is_one_record(con: duckdb.DuckDBPyConnection) -> None:
    body = '{"id": 5,  "user": {"email": "Ann@Example.com"}}'
    land_bodies(con, USER_ACCOUNTS, 1, NOW, [body], WHOLE_BODY)
    listed = page({"id": 5, "user": {"email": "Ann@Example.com"}})
    land_bodies(con, USER_ACCOUNTS, 2, NOW, [listed])
    settle(con, USER_ACCOUNTS, 2)
    # the same account read by id and from the list hashes the same: not landed twice
    assert con.execute("SELECT count(*), any_value(user_account_id) "
                       "FROM raw.go1_user_accounts").fetchone() == (1, "5")
