"""Landing: records split from pages by DuckDB, verbatim, keyed, hashed, and settled; the
per-hit path for bodies DuckDB refuses or that are too large for one statement."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from extract.landing import (
    ENROLLMENTS,
    LEARNING_OBJECTS,
    USER_ACCOUNTS,
    WHOLE_BODY,
    hit_texts,
    land_bodies,
    piece_bytes,
    settle,
)
from warehouse import open_warehouse

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return open_warehouse(tmp_path / "w.duckdb")


def page(*hits: dict) -> str:
    return json.dumps({"total": len(hits), "hits": list(hits)})


def enrollment(id_: str, status: str, updated: str) -> dict:
    return {"id": id_, "status": status, "updated_time": updated, "new_field": {"x": [1, 2]}}


def test_two_different_catalog_records_of_one_lo_id_both_land_every_run(
        con: duckdb.DuckDBPyConnection) -> None:
    """So the models can reject the older as duplicate_key; only identical copies are one."""
    older = {"lo_id": "5", "title": "Old", "updated_time": "2025-01-01T00:00:00Z"}
    newer = {"lo_id": "5", "title": "New", "updated_time": "2025-02-01T00:00:00Z"}
    for run in (1, 2):
        land_bodies(con, LEARNING_OBJECTS, run, NOW, [page(older, newer, newer)])
        assert settle(con, LEARNING_OBJECTS, run) == 2
    titles = con.execute("SELECT _run_id, list(record ->> '$.title' ORDER BY record ->> '$.title') "
                         "FROM raw.go1_learning_objects GROUP BY 1 ORDER BY 1").fetchall()
    assert titles == [(1, ["New", "Old"]), (2, ["New", "Old"])]
    # one record again, as before: unchanged, not landed
    land_bodies(con, LEARNING_OBJECTS, 3, NOW, [page(newer)])
    assert settle(con, LEARNING_OBJECTS, 3) == 1  # the key's records changed: two became one
    land_bodies(con, LEARNING_OBJECTS, 4, NOW, [page(newer)])
    assert settle(con, LEARNING_OBJECTS, 4) == 0  # and now it is unchanged


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


def test_a_body_landed_hit_by_hit_hashes_as_it_does_whole(
        con: duckdb.DuckDBPyConnection) -> None:
    """The per-hit path (a body DuckDB refuses, or one over a statement's share of memory)
    lands each hit as the whole-page path does: read again unchanged, nothing lands again."""
    hits = [{**enrollment(str(n), "completed", "2025-01-01T00:00:00Z"), "title": "café 😀",
             "score": 1e5, "ratio": 0.1} for n in range(6)]
    body = json.dumps({"total": 6, "hits": hits}, indent=1, ensure_ascii=True)
    land_bodies(con, ENROLLMENTS, 1, NOW, [body])
    assert settle(con, ENROLLMENTS, 1) == 6
    land_bodies(con, ENROLLMENTS, 2, NOW, [body], budget=100)  # hit by hit, in pieces
    assert settle(con, ENROLLMENTS, 2) == 0
    cut = body.replace('"completed"', '"completed \\ud83d"', 1)
    land_bodies(con, ENROLLMENTS, 3, NOW, [cut, page(enrollment("9", "x", "2025-01-02Z"))])
    assert settle(con, ENROLLMENTS, 3) == 1  # only 9: the others unchanged, one refused
    assert con.execute("SELECT stream, go1_key, raw_text LIKE '%\\ud83d%' "
                       "FROM raw.go1_rejects").fetchall() == [("enrollments", "0", True)]


def test_hit_texts_are_cut_from_the_body_as_it_came() -> None:
    body = ('{ "meta": {"hits": [0]}, "note": "\\"hits\\": [9]",\n "hits" : [ {"a": "\\ud83d"} ,'
            ' 5 , [1, {"b": null}] ,"s" ], "total": 3 }')
    assert hit_texts(body) == ['{"a": "\\ud83d"}', "5", '[1, {"b": null}]', '"s"']
    assert hit_texts('{"total": 0, "hits": []}') == []
    assert hit_texts("[1, 2]") == [] and hit_texts('{"hits": 5}') == []
    with pytest.raises(ValueError):
        hit_texts('{"hits": [1,')


@pytest.mark.parametrize(("limit", "piece"), [("256MB", 244.1 * 2**20 / 16),
                                              ("8GB", 64 * 2**20), ("1MB", 256 * 2**10)])
def test_a_statement_takes_a_sixteenth_of_the_memory_limit(limit: str, piece: float) -> None:
    con = duckdb.connect(config={"memory_limit": limit})
    try:
        assert piece_bytes(con) == pytest.approx(piece, rel=0.01)
    finally:
        con.close()
