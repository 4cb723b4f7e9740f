"""Go1 extraction under torture (issue 12, part A): records DuckDB cannot read, hits that are
not objects, pages shorter than their total, pages of tens of MB, ids that are not plain.

Each test plants the fault in the Go1 sandbox and asserts what a user sees: the rows in raw.*
and marts.rejects, the requests Go1 received, the stream's outcome.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from commands.extract import run_extract
from commands.transform import run_transform
from extract.endpoints import ENROLLMENTS_PATH
from extract.streams import user_accounts
from extract.streams.enrollments import MAX_REREADS
from extract.streams.learning_objects import SCROLL_LIMIT, SYNCED_TYPES
from go1sync.settings import Config, load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from warehouse import open_warehouse
from warehouse.cursors import get_cursor
from warehouse.migrations import MIGRATIONS_DIR, apply_migrations

ALL = ["learning_objects", "enrollments", "user_accounts"]
CUT_EMOJI = "Fire safety \ud83d"  # a title cut in the middle of an emoji: a lone surrogate


def listed_library(go1: Go1Sandbox) -> set[str]:
    return {lo for lo in go1.library
            if go1.learning_objects[lo]["core"]["type"] in SYNCED_TYPES
            and go1.learning_objects[lo]["lifecycle"]["state"] in ("published", "retired",
                                                                   "removed")}


def query(config: Config, sql: str, *params: object) -> list[tuple]:
    con = open_warehouse(config.warehouse_path())
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def latest(config: Config, table: str, key: str) -> dict[str, dict]:
    return {k: json.loads(r) for k, r in
            query(config, f"SELECT {key}, record FROM raw.{table}_latest")}


def rejects(config: Config) -> list[tuple]:
    """(stream, go1_key, raw_text) of every reject the extract kept."""
    return query(config, "SELECT stream, go1_key, raw_text FROM raw.go1_rejects ORDER BY ALL")


def mart_rejects(config: Config) -> list[tuple]:
    return query(config, "SELECT entity, go1_key, detail FROM marts.rejects "
                         "WHERE reason = 'unreadable_record' ORDER BY ALL")


def with_lone_surrogate(record: dict, field: str) -> str:
    """The record's JSON with ``field`` ending in ``\\ud83d``, as Go1 would escape it."""
    text = json.dumps({**record, field: "x"}, separators=(",", ":"))
    return text.replace('"x"', '"Fire safety \\ud83d"', 1)


# -- records DuckDB cannot read, hits that are not objects ------------------------------------

def test_a_title_with_a_lone_surrogate_is_rejected_and_the_rest_of_the_catalog_lands(
        go1: Go1Sandbox, config: Config) -> None:
    broken = sorted(listed_library(go1))[3]
    go1.edit_title(broken, CUT_EMOJI)
    report = run_extract(config, ["learning_objects"])
    assert report.ok, report.streams[0].error
    landed = latest(config, "go1_learning_objects", "lo_id")
    assert set(landed) == listed_library(go1) - {broken}
    assert all(landed[lo] == go1.served_learning_object(lo) for lo in landed)
    [(stream, key, raw)] = rejects(config)
    assert (stream, key) == ("learning_objects", broken)
    assert '"title":"Fire safety \\ud83d"' in raw and json.loads(raw)["lo_id"] == broken
    assert any("could not be landed" in note for note in report.streams[0].stats.notes)
    # still listed: the course has not left My Library, it just could not be read this time
    assert query(config, "SELECT count(*) FROM raw.go1_library_listings WHERE lo_id = ?",
                 broken) == [(1,)]

    run_transform(config)
    [(entity, key, detail)] = mart_rejects(config)
    assert (entity, key) == ("learning_object", broken)
    assert "surrogate" in detail and "\\ud83d" in detail


def test_an_enrollment_with_a_lone_surrogate_is_rejected_and_the_stream_lands(
        go1: Go1Sandbox, config: Config) -> None:
    broken = sorted(go1.enrollments)[10]
    go1.serve_raw("enrollment", broken, with_lone_surrogate(go1.enrollments[broken], "status"))
    report = run_extract(config, ["enrollments"])
    assert report.ok, report.streams[0].error
    expected = {k: v for k, v in go1.enrollments.items() if k != broken}
    assert latest(config, "go1_enrollments", "enrollment_id") == expected
    assert [(s, k) for s, k, _ in rejects(config)] == [("enrollments", broken)]
    run_transform(config)
    assert [(e, k) for e, k, _ in mart_rejects(config)] == [("enrollment", broken)]


def test_hits_that_are_not_objects_are_rejected_never_crash_the_stream(
        go1: Go1Sandbox, config: Config) -> None:
    los = sorted(listed_library(go1))
    planted = {los[0]: "42", los[1]: "null", los[2]: '"a string"', los[3]: "[1,2]"}
    for lo, text in planted.items():
        go1.serve_raw("learning_object", lo, text)
    enrollment = sorted(go1.enrollments)[5]
    go1.serve_raw("enrollment", enrollment, "7")
    report = run_extract(config, ["learning_objects", "enrollments"])
    assert report.ok, [o.error for o in report.streams]
    assert set(latest(config, "go1_learning_objects", "lo_id")) == set(los) - set(planted)
    assert enrollment not in latest(config, "go1_enrollments", "enrollment_id")
    found = rejects(config)
    assert sorted((s, raw) for s, _, raw in found) == sorted(
        [("enrollments", "7")] + [("learning_objects", t) for t in planted.values()])
    assert query(config, "SELECT count(*) FROM raw.go1_learning_objects "
                         "WHERE json_type(record) <> 'OBJECT'") == [(0,)]
    run_transform(config)
    details = [detail for _, _, detail in mart_rejects(config)]
    assert len(details) == 5
    assert any(d.startswith("a number, not a JSON object") for d in details)
    assert any(d.startswith("a list, not a JSON object") for d in details)


def test_user_accounts_that_cannot_be_read_are_rejected_and_the_others_land(
        go1: Go1Sandbox, config: Config) -> None:
    mentioned = sorted({str(e["user_account_id"]) for e in go1.enrollments.values()}
                       - set(go1.deleted_user_ids))
    surrogate, listed = mentioned[:2]
    go1.serve_raw("user_account", surrogate,
                  with_lone_surrogate(go1.user_accounts[surrogate], "status"))
    go1.serve_raw("user_account", listed, "[]")
    report = run_extract(config, ["enrollments", "user_accounts"])
    assert report.ok, [o.error for o in report.streams]
    accounts = latest(config, "go1_user_accounts", "user_account_id")
    assert set(accounts) == set(mentioned) - {surrogate, listed}
    found = rejects(config)
    assert len(found) == 2 and {(s, k) for s, k, _ in found} == {
        ("user_accounts", None), ("user_accounts", surrogate)}
    run_transform(config)
    assert sorted(e for e, _, _ in mart_rejects(config)) == ["user_account", "user_account"]


@pytest.fixture
def many_learners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        tuple[Go1Sandbox, Config]]:
    """More learners than the stream reads one by one before it tries the account list."""
    monkeypatch.setattr(user_accounts, "LIST_WHEN_UNKNOWN_OVER", 10)
    seed = Go1Seed(seed=5, learning_objects=30, users=120, enrollments=400)
    with Go1Sandbox(seed).serve() as go1:
        yield go1, load_config(env={**go1.env(),
                                    "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})


def test_odd_hits_in_the_account_list_are_read_one_by_one(
        many_learners: tuple[Go1Sandbox, Config]) -> None:
    """A list hit that is a number, or that DuckDB cannot read, lands nothing from the list
    and is no reject there: that account is read by id instead (where the sandbox serves the
    same text, so that is where it is rejected, once), and every other account lands."""
    go1, config = many_learners
    go1.user_list_shape = "long"
    mentioned = {str(e["user_account_id"]) for e in go1.enrollments.values()}
    first, second = sorted(mentioned - set(go1.deleted_user_ids))[:2]
    go1.serve_raw("user_account", first, "5")
    go1.serve_raw("user_account", second,
                  with_lone_surrogate(go1.user_accounts[second], "status"))
    report = run_extract(config, ALL)
    assert report.ok, [o.error for o in report.streams]
    singles = {r.path.rsplit("/", 1)[1] for r in go1.requests
               if r.path.startswith("/user-accounts/")}
    assert {first, second} <= singles  # read by id: the list gave no email for them
    assert sorted((s, k, raw) for s, k, raw in rejects(config) if k != second) == [
        ("user_accounts", None, "5")]
    assert [k for _, k, _ in rejects(config)].count(second) == 1
    accounts = latest(config, "go1_user_accounts", "user_account_id")
    assert mentioned - set(go1.deleted_user_ids) - {first, second} <= set(accounts)
    assert not {first, second} & set(accounts)


# -- short pages ------------------------------------------------------------------------------

def test_a_short_enrollment_page_reads_its_window_again(go1: Go1Sandbox,
                                                        config: Config) -> None:
    go1.short_enrollment_pages(times=1, drop=3, offset=100)
    report = run_extract(config, ["enrollments"])
    assert report.ok, report.streams[0].error
    assert latest(config, "go1_enrollments", "enrollment_id") == dict(go1.enrollments.items())
    at_100 = [r for r in go1.requests
              if r.path == ENROLLMENTS_PATH and r.query["offset"] == ["100"]]
    assert len(at_100) == 2  # the short answer, then the window read again


def test_a_probe_page_that_answers_short_is_read_again(go1: Go1Sandbox,
                                                       config: Config) -> None:
    go1.short_enrollment_pages(times=1, drop=1, offset=0)
    report = run_extract(config, ["enrollments"])
    assert report.ok, report.streams[0].error
    assert latest(config, "go1_enrollments", "enrollment_id") == dict(go1.enrollments.items())


def test_pages_that_keep_answering_short_fail_the_stream_and_keep_the_cursor(
        go1: Go1Sandbox, config: Config) -> None:
    go1.short_enrollment_pages(times=None, drop=1, offset=150)
    report = run_extract(config, ["enrollments"])
    error = report.streams[0].error or ""
    assert not report.ok
    assert f"({MAX_REREADS + 1} reads)" in error and "fewer" in error
    assert query(config, "SELECT count(*) FROM raw.go1_enrollments") == [(0,)]
    con = open_warehouse(config.warehouse_path())
    try:
        assert get_cursor(con, "enrollments") is None
    finally:
        con.close()


# -- pages of tens of MB ------------------------------------------------------------------------

def test_a_catalog_of_long_descriptions_lands_under_the_default_memory_limit(
        tmp_path: Path) -> None:
    """5,000-object scroll pages of 4 KB descriptions (over 20 MB each) under 256MB."""
    seed = Go1Seed(seed=7, learning_objects=8200, users=10, enrollments=20,
                   description_bytes=4096)
    with Go1Sandbox(seed).serve() as go1:
        config = load_config(env={**go1.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
        assert config.memory_limit() == "256MB"
        report = run_extract(config, ["learning_objects"])
        assert report.ok, report.streams[0].error
        firsts = [r for r in go1.requests if r.path == "/learning-objects"
                  and "scroll_id" not in r.query]
        assert {r.query["limit"][0] for r in firsts} == {str(SCROLL_LIMIT)}
        assert report.streams[0].stats.records_read >= SCROLL_LIMIT  # a full page came
        landed = latest(config, "go1_learning_objects", "lo_id")
        assert set(landed) == listed_library(go1)
        assert all(len(r["core"]["description"]) >= 4096 for r in landed.values())


# -- ids in URL paths -------------------------------------------------------------------------

def test_an_account_id_with_a_slash_and_a_question_mark_is_one_path_segment(
        go1: Go1Sandbox, config: Config) -> None:
    odd = "odd/../7?status=x"
    go1.add_user_account(odd, "odd.id@example.com")
    go1.start_enrollment(sorted(listed_library(go1))[0], odd)
    report = run_extract(config, ["enrollments", "user_accounts"])
    assert report.ok, [o.error for o in report.streams]
    asked = [r for r in go1.requests
             if r.path.startswith(("/user-accounts/odd", "/user-accounts/7"))]
    assert [(r.path, r.query) for r in asked] == [(f"/user-accounts/{odd}", {})]
    # one segment as sent, and the sandbox found the account by it
    assert [(r.raw_path, r.status) for r in asked] == [
        ("/user-accounts/odd%2F..%2F7%3Fstatus%3Dx", 200)]


# -- the warehouse ----------------------------------------------------------------------------

def test_migration_0014_adds_the_rejects_table_to_an_existing_warehouse(
        tmp_path: Path) -> None:
    before = tmp_path / "before"
    before.mkdir()
    for migration in MIGRATIONS_DIR.glob("*.sql"):
        if int(migration.name[:4]) < 14:
            shutil.copy(migration, before)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        apply_migrations(con, before)
        assert apply_migrations(con)[0] == 14
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
            "AND table_name = 'go1_rejects' ORDER BY ordinal_position").fetchall()]
    finally:
        con.close()
    assert columns == ["_run_id", "_extracted_at", "stream", "go1_key", "reason", "raw_text"]
