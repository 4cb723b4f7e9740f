"""The three streams against the Go1 sandbox: what lands in raw.*, what Go1 was asked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apiclient.retry import RetryPolicy
from commands.extract import run_extract
from extract.client import Go1Client
from extract.endpoints import ENROLLMENTS_OPENAPI_SERVER_PATH, ENROLLMENTS_PATH
from extract.runner import StreamOutcome, run_streams
from extract.streams import learning_objects, user_accounts
from extract.streams.learning_objects import SYNCED_TYPES
from go1sync.settings import Config, load_config
from sandbox.go1 import Go1Sandbox, Go1Seed
from tests.helpers import readings
from warehouse import open_warehouse
from warehouse.cursors import get_cursor, set_cursor
from warehouse.runs import start_run

ALL = ["learning_objects", "enrollments", "user_accounts"]


def raw_latest(config: Config, table: str, key: str) -> dict[str, dict]:
    con = open_warehouse(config.warehouse_path())
    try:
        rows = con.execute(f"SELECT {key}, record FROM raw.{table}_latest").fetchall()
    finally:
        con.close()
    return {k: json.loads(r) for k, r in rows}


def listed_library(go1: Go1Sandbox) -> set[str]:
    return {lo for lo in go1.library
            if go1.learning_objects[lo]["core"]["type"] in SYNCED_TYPES
            and go1.learning_objects[lo]["lifecycle"]["state"] in ("published", "retired",
                                                                   "removed")}


def requests_to(go1: Go1Sandbox, path: str) -> list:
    return [r for r in go1.requests if r.path == path]


def test_raw_rows_equal_the_sandbox_data(go1: Go1Sandbox, config: Config) -> None:
    report = run_extract(config, ALL)
    assert report.ok, [o.error for o in report.streams]

    los = raw_latest(config, "go1_learning_objects", "lo_id")
    assert set(los) == listed_library(go1)
    assert all(los[lo] == go1.served_learning_object(lo) for lo in los)
    types = {r["core"]["type"] for r in los.values()}
    assert types <= set(SYNCED_TYPES) and "playlist" not in types and "award" not in types

    enrollments = raw_latest(config, "go1_enrollments", "enrollment_id")
    assert enrollments == dict(go1.enrollments.items())

    accounts = raw_latest(config, "go1_user_accounts", "user_account_id")
    mentioned = {str(e["user_account_id"]) for e in go1.enrollments.values()}
    assert set(accounts) == mentioned - set(go1.deleted_user_ids)
    assert all(accounts[a] == go1.user_accounts[a] for a in accounts)


def test_catalog_lists_each_state_alone_with_includes(go1: Go1Sandbox, config: Config) -> None:
    run_extract(config, ["learning_objects"])
    firsts = [r for r in requests_to(go1, "/learning-objects") if "scroll_id" not in r.query]
    assert sorted(r.query["state[]"][0] for r in firsts) == ["published", "removed", "retired"]
    for request in firsts:
        assert request.query["collection"] == ["library"]
        assert request.query["type[]"] == list(SYNCED_TYPES)
        assert request.query["include[]"] == ["core", "relevance", "lifecycle", "provider",
                                              "topics"]
        assert len(request.query["state[]"]) == 1
    con = open_warehouse(config.warehouse_path())
    listed = dict(
        con.execute("SELECT lo_id, listed_state FROM raw.go1_library_listings").fetchall())
    assert listed == {lo: go1.learning_objects[lo]["lifecycle"]["state"]
                      for lo in listed_library(go1)}


def test_catalog_pages_across_scroll_pages(go1: Go1Sandbox, config: Config,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(learning_objects, "SCROLL_LIMIT", 7)
    run_extract(config, ["learning_objects"])
    scrolls = [r for r in requests_to(go1, "/learning-objects") if "scroll_id" in r.query]
    assert len(scrolls) > 6
    assert set(raw_latest(config, "go1_learning_objects", "lo_id")) == listed_library(go1)
    # each state's scroll stops once it has every object its total announced: no empty page
    listed = listed_library(go1)
    pages = sum(-(-len([lo for lo in listed
                        if go1.learning_objects[lo]["lifecycle"]["state"] == state]) // 7) or 1
                for state in learning_objects.STATES)
    assert len(requests_to(go1, "/learning-objects")) == pages


def test_an_expired_scroll_is_restarted(go1: Go1Sandbox, config: Config,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(learning_objects, "SCROLL_LIMIT", 7)
    expired = {"done": False}
    original = learning_objects.Lander.add

    def add_then_expire(self: learning_objects.Lander, page, records: int) -> None:
        original(self, page, records)
        if not expired["done"] and self.stats.pages == 2:
            expired["done"] = True
            go1.set_now(go1.now() + timedelta(minutes=6))  # past the 5-minute scroll life

    monkeypatch.setattr(learning_objects.Lander, "add", add_then_expire)
    report = run_extract(config, ["learning_objects"])
    go1.set_now(None)
    assert report.ok
    assert any("restarted" in n for n in report.streams[0].stats.notes)
    assert set(raw_latest(config, "go1_learning_objects", "lo_id")) == listed_library(go1)


def test_content_that_leaves_my_library_is_absent_from_the_next_listing(
        go1: Go1Sandbox, config: Config) -> None:
    run_extract(config, ["learning_objects"])
    gone = sorted(listed_library(go1))[0]
    go1.remove_from_library(gone)
    run_extract(config, ["learning_objects"])
    con = open_warehouse(config.warehouse_path())
    per_run = con.execute("SELECT _run_id, count(*) FILTER (WHERE lo_id = ?) "
                          "FROM raw.go1_library_listings GROUP BY 1 ORDER BY 1", [gone]).fetchall()
    assert per_run == [(1, 1), (2, 0)]


def test_retired_and_removed_content_is_listed_under_its_state(
        go1: Go1Sandbox, config: Config) -> None:
    published = sorted(lo for lo in listed_library(go1)
                       if go1.learning_objects[lo]["lifecycle"]["state"] == "published")
    go1.retire(published[0])
    go1.remove(published[1])
    run_extract(config, ["learning_objects"])
    con = open_warehouse(config.warehouse_path())
    states = dict(con.execute(
        "SELECT l.lo_id, l.listed_state || '/' || (r.record->>'$.lifecycle.state') "
        "FROM raw.go1_library_listings l JOIN raw.go1_learning_objects_latest r USING (lo_id) "
        "WHERE l.lo_id IN (?, ?)", published[:2]).fetchall())
    assert states == {published[0]: "retired/retired", published[1]: "removed/removed"}


def test_enrollments_are_read_ascending_in_windows_up_to_the_run_start(
        go1: Go1Sandbox, config: Config) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    run_extract(config, ["enrollments"])
    pages = requests_to(go1, ENROLLMENTS_PATH)
    assert pages and all(r.query["sort"] == ["updated_time"] and r.query["order"] == ["asc"]
                         and r.query["limit"] == ["50"] for r in pages)
    upper = {r.query["update_time_lte"][0] for r in pages}
    assert len(upper) == 1
    assert datetime.fromisoformat(upper.pop()) >= before
    con = open_warehouse(config.warehouse_path())
    cursor = get_cursor(con, "enrollments")
    assert cursor is not None and before <= cursor <= datetime.now(UTC)


def test_a_window_past_ten_thousand_is_cut(tmp_path: Path) -> None:
    seed = Go1Seed(seed=3, learning_objects=200, users=400, enrollments=23_000)
    with Go1Sandbox(seed).serve() as go1:
        config = load_config(env={**go1.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb"),
                                  "GO1SYNC_MAX_IN_FLIGHT": "8"})
        report = run_extract(config, ["enrollments"])
        assert report.ok, report.streams[0].error
        assert any("cut in" in n for n in report.streams[0].stats.notes)
        offsets = [int(r.query["offset"][0]) + int(r.query["limit"][0])
                   for r in requests_to(go1, ENROLLMENTS_PATH)]
        assert max(offsets) <= 10_000
        assert raw_latest(config, "go1_enrollments", "enrollment_id") == dict(
            go1.enrollments.items())


def test_the_overlap_is_read_again_but_not_landed_twice(go1: Go1Sandbox,
                                                        config: Config) -> None:
    run_extract(config, ["enrollments"])
    in_progress = sorted(e["id"] for e in go1.enrollments.values()
                         if e["status"] == "in-progress")
    go1.complete_enrollment(in_progress[0])
    go1.clear_requests()
    second = run_extract(config, ["enrollments"]).streams[0].stats
    first_request = requests_to(go1, ENROLLMENTS_PATH)[0]
    gte = datetime.fromisoformat(first_request.query["update_time_gte"][0])
    con = open_warehouse(config.warehouse_path())
    started = con.execute("SELECT started_at FROM meta.runs WHERE run_id = 2").fetchone()
    assert started is not None and gte <= started[0] - timedelta(minutes=59)
    assert second.records_landed == 1
    rows = con.execute("SELECT count(*), count(DISTINCT enrollment_id) FROM raw.go1_enrollments "
                       "WHERE enrollment_id = ?", [in_progress[0]]).fetchone()
    assert rows == (2, 1)  # the in-progress version and the completed one
    latest = raw_latest(config, "go1_enrollments", "enrollment_id")[in_progress[0]]
    assert latest["status"] == "completed"


def move_cursor_back(config: Config, days: int) -> datetime:
    """Age the stored cursor, so that a second run within the same second is told apart."""
    con = open_warehouse(config.warehouse_path())
    try:
        cursor = get_cursor(con, "enrollments")
        assert cursor is not None
        set_cursor(con, "enrollments", cursor - timedelta(days=days), 1)
        return cursor - timedelta(days=days)
    finally:
        con.close()


def test_since_replaces_the_cursor_for_one_run(go1: Go1Sandbox, config: Config) -> None:
    run_extract(config, ["enrollments"])
    old = move_cursor_back(config, days=30)
    go1.clear_requests()
    report = run_extract(config, ["enrollments"], since=datetime(2025, 6, 1, tzinfo=UTC))
    stats = report.streams[0].stats
    assert stats.records_landed == 0  # all read again, nothing new
    gte = {r.query["update_time_gte"][0] for r in requests_to(go1, ENROLLMENTS_PATH)}
    assert min(gte) == "2025-06-01T00:00:00Z"
    con = open_warehouse(config.warehouse_path())
    # since <= the cursor: everything after it was read, so the cursor moves to the run's end
    cursor = get_cursor(con, "enrollments")
    assert cursor is not None and cursor == stats.window_to and cursor > old


def test_a_since_later_than_the_cursor_leaves_the_cursor(go1: Go1Sandbox,
                                                         config: Config) -> None:
    run_extract(config, ["enrollments"])
    old = move_cursor_back(config, days=30)
    run_extract(config, ["enrollments"], since=datetime.now(UTC) - timedelta(days=1))
    con = open_warehouse(config.warehouse_path())
    assert get_cursor(con, "enrollments") == old  # the 29 days between were not read


def fast_client(config: Config) -> Go1Client:
    return Go1Client(config.go1(), retry=RetryPolicy(max_attempts=6, base_delay=0.01,
                                                     max_delay=0.02), sleep=lambda s: None)


def run_with(config: Config, client: Go1Client, streams: list[str],
             since: datetime | None = None) -> list[StreamOutcome]:
    con = open_warehouse(config.warehouse_path())
    try:
        run_id = start_run(con, "extract", {})
        return run_streams(con, client, config.go1(), run_id, streams, since)
    finally:
        con.close()


def test_a_stream_failing_halfway_keeps_its_cursor_and_lands_nothing(
        go1: Go1Sandbox, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    with fast_client(config) as client:
        run_with(config, client, ["enrollments"])
    con = open_warehouse(config.warehouse_path())
    cursor = get_cursor(con, "enrollments")
    rows_before = con.execute("SELECT count(*) FROM raw.go1_enrollments").fetchone()
    con.close()
    for e in sorted(go1.enrollments.values(), key=lambda e: e["id"])[:3]:
        if e["status"] == "in-progress":
            go1.complete_enrollment(e["id"])

    pages = {"n": 0}
    from extract.streams import context

    original = context.Lander.add

    def add_then_break(self: context.Lander, page, records: int) -> None:
        original(self, page, records)
        pages["n"] += 1
        if pages["n"] == 1:
            go1.faults.add("503", path=ENROLLMENTS_PATH, times=None)

    monkeypatch.setattr(context.Lander, "add", add_then_break)
    with fast_client(config) as client:
        outcomes = run_with(config, client, ["enrollments"],
                            since=datetime(2025, 1, 1, tzinfo=UTC))
    go1.faults.clear()
    assert not outcomes[0].ok and "503" in (outcomes[0].error or "")
    con = open_warehouse(config.warehouse_path())
    assert get_cursor(con, "enrollments") == cursor
    assert con.execute("SELECT count(*) FROM raw.go1_enrollments").fetchone() == rows_before
    assert con.execute("SELECT status, error LIKE '%503%' FROM meta.stream_runs "
                       "WHERE run_id = 2").fetchone() == ("failed", True)


def test_retries_on_429_5xx_and_dropped_connections_lose_nothing(
        go1: Go1Sandbox, config: Config) -> None:
    go1.faults.add("429", path=ENROLLMENTS_PATH, retry_after=0)
    go1.faults.add("429", path="/learning-objects")
    go1.faults.add("500", path=ENROLLMENTS_PATH)
    go1.faults.add("502", path="/user-accounts")
    go1.faults.add("drop", path=ENROLLMENTS_PATH)
    with fast_client(config) as client:
        outcomes = run_with(config, client, ALL)
        assert client.stats.retries >= 5
    assert all(o.ok for o in outcomes)
    assert {r.status for r in go1.requests} >= {0, 429, 500, 502, 200}
    assert raw_latest(config, "go1_enrollments", "enrollment_id") == dict(go1.enrollments.items())
    assert set(raw_latest(config, "go1_learning_objects", "lo_id")) == listed_library(go1)


def test_the_token_is_fetched_again_after_a_401(go1: Go1Sandbox, config: Config) -> None:
    with fast_client(config) as client:
        run_with(config, client, ["learning_objects"])
        go1.expire_tokens()
        outcomes = run_with(config, client, ["enrollments"])
    assert outcomes[0].ok
    assert len(requests_to(go1, "/oauth/token")) == 2
    assert [r.status for r in go1.requests].count(401) == 1


def test_user_accounts_are_not_read_again_without_a_reason(go1: Go1Sandbox,
                                                          config: Config) -> None:
    run_extract(config, ALL)
    go1.clear_requests()
    report = run_extract(config, ["user_accounts"])  # no enrollment changed in this run
    assert report.ok
    read = sorted(r.path.rsplit("/", 1)[1] for r in go1.requests
                  if r.path.startswith("/user-accounts"))
    mentioned = {str(e["user_account_id"]) for e in go1.enrollments.values()}
    without_email = {uid for uid in mentioned - set(go1.deleted_user_ids)
                     if not go1.user_accounts[uid]["user"].get("email")}
    assert without_email  # the seed plants accounts with no or an empty email
    assert set(go1.deleted_user_ids) & mentioned  # and learners Go1 answers 404 for
    # only those read without an email, one request each: a learner Go1 did not know when
    # the last accounts stream asked is asked again only once active again
    assert read == sorted(without_email)


def test_learners_of_a_run_that_read_no_accounts_are_read_by_the_next(
        go1: Go1Sandbox, config: Config) -> None:
    """An enrollments-only extract (or one whose accounts stream failed) leaves its learners
    to the next accounts stream, however many runs later."""
    assert run_extract(config, ["enrollments"]).ok
    assert run_extract(config, ["learning_objects"]).ok
    assert raw_latest(config, "go1_user_accounts", "user_account_id") == {}
    assert run_extract(config, ["user_accounts"]).ok
    landed = set(raw_latest(config, "go1_user_accounts", "user_account_id"))
    mentioned = {str(e["user_account_id"]) for e in go1.enrollments.values()}
    assert landed == mentioned - set(go1.deleted_user_ids)


def test_a_changed_email_is_read_when_the_learner_is_active_again(go1: Go1Sandbox,
                                                                  config: Config) -> None:
    run_extract(config, ALL)
    active, idle = sorted(uid for uid, a in go1.user_accounts.items() if a["user"].get("email")
                          and any(str(e["user_account_id"]) == uid
                                  for e in go1.enrollments.values()))[:2]
    go1.edit_email(active, "new.address@example.com")
    go1.edit_email(idle, "idle.new@example.com")
    enrollment = next(e for e in go1.enrollments.values()
                      if str(e["user_account_id"]) == active and e["status"] != "completed")
    go1.complete_enrollment(str(enrollment["id"]))
    go1.clear_requests()
    assert run_extract(config, ["enrollments", "user_accounts"]).ok
    accounts = raw_latest(config, "go1_user_accounts", "user_account_id")
    assert accounts[active]["user"]["email"] == "new.address@example.com"
    assert accounts[idle]["user"]["email"] != "idle.new@example.com"  # nothing new for idle
    assert f"/user-accounts/{idle}" not in {r.path for r in go1.requests}


def _latest_emails(config: Config) -> dict[str, str | None]:
    accounts = raw_latest(config, "go1_user_accounts", "user_account_id")
    return {a: (r.get("user") or {}).get("email") for a, r in accounts.items()}


@pytest.fixture
def many_learners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        tuple[Go1Sandbox, Config]]:
    """300 learners, more than the stream reads one by one before it tries the list."""
    monkeypatch.setattr(user_accounts, "LIST_WHEN_UNKNOWN_OVER", 10)
    seed = Go1Seed(seed=5, learning_objects=30, users=300, enrollments=900)
    with Go1Sandbox(seed).serve() as go1:
        yield go1, load_config(env={**go1.env(),
                                    "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})


def _every_learner_has_an_email(go1: Go1Sandbox, config: Config) -> None:
    emails = _latest_emails(config)
    mentioned = {str(e["user_account_id"]) for e in go1.enrollments.values()}
    learners = mentioned - set(go1.deleted_user_ids)
    assert learners <= set(emails)  # the list may land accounts with no enrollment too
    assert all(emails[a] == go1.user_accounts[a]["user"].get("email") for a in learners)
    assert sum(emails[a] is not None for a in learners) > 0.9 * len(learners)


def test_short_list_hits_are_never_landed_and_each_account_is_read(
        many_learners: tuple[Go1Sandbox, Config]) -> None:
    """The list's hits are {id, status} (public client fixtures): no email can come from it."""
    go1, config = many_learners
    assert go1.user_list_shape == "short"
    assert run_extract(config, ALL).ok
    assert len(requests_to(go1, "/user-accounts")) == 1  # one page tells the reading
    singles = [r for r in go1.requests if r.path.startswith("/user-accounts/")]
    assert len(singles) == len({str(e["user_account_id"]) for e in go1.enrollments.values()})
    _every_learner_has_an_email(go1, config)
    assert readings(config)["user_list_has_emails"] == "false"

    # Learners active again: read one by one again, and the list is not asked a second time.
    go1.clear_requests()
    for enrollment_id in sorted(go1.enrollments)[:40]:
        if go1.enrollments[enrollment_id]["status"] != "completed":
            go1.complete_enrollment(enrollment_id)
    assert run_extract(config, ALL).ok
    assert requests_to(go1, "/user-accounts") == []
    _every_learner_has_an_email(go1, config)


def test_long_list_hits_with_an_email_save_the_single_reads(
        many_learners: tuple[Go1Sandbox, Config]) -> None:
    go1, config = many_learners
    go1.user_list_shape = "long"
    assert run_extract(config, ALL).ok
    assert len(requests_to(go1, "/user-accounts")) == 6  # 300 accounts, 50 a page
    singles = {r.path.rsplit("/", 1)[1] for r in go1.requests
               if r.path.startswith("/user-accounts/")}
    no_email = {a for a, account in go1.user_accounts.items()
                if not account["user"].get("email")}
    mentioned = {str(e["user_account_id"]) for e in go1.enrollments.values()}
    # only those the list holds no email for: gone from Go1, or without an email
    assert singles == mentioned & (set(go1.deleted_user_ids) | no_email)
    _every_learner_has_an_email(go1, config)


def test_no_email_is_lost_whatever_the_list_answers_from_run_to_run(
        many_learners: tuple[Go1Sandbox, Config]) -> None:
    """Long, then short, then long list hits, with learners active in between; and a
    warehouse where list hits without email were landed by an older go1sync."""
    go1, config = many_learners
    go1.user_list_shape = "long"
    assert run_extract(config, ALL).ok
    con = open_warehouse(config.warehouse_path())
    con.execute("DELETE FROM meta.api_readings")  # ask the list again next run
    # what go1sync before this change did: a short hit landed as an account's latest version
    con.execute("INSERT INTO raw.go1_user_accounts SELECT _run_id, now(), 'old', "
                "user_account_id, json_object('id', user_account_id, 'status', 'active') "
                "FROM raw.go1_user_accounts_latest")
    con.close()
    for shape in ("short", "long"):
        go1.user_list_shape = shape
        active = [e for e in sorted(go1.enrollments)
                  if go1.enrollments[e]["status"] == "in-progress"][:15]
        for enrollment_id in active:  # their learners are read again this run
            go1.complete_enrollment(enrollment_id)
        assert run_extract(config, ALL).ok
        _every_learner_has_an_email(go1, config)


def test_enrollments_come_from_the_gateway_path(go1: Go1Sandbox, config: Config) -> None:
    assert run_extract(config, ["enrollments"]).ok
    assert {r.path for r in go1.requests if "enrol" in r.path} == {ENROLLMENTS_PATH}
    assert readings(config)["enrollments_path"] == ENROLLMENTS_PATH
    assert raw_latest(config, "go1_enrollments", "enrollment_id") == dict(go1.enrollments.items())


def test_a_gateway_that_answers_404_is_read_at_the_openapi_form_and_remembered(
        tmp_path: Path) -> None:
    seed = Go1Seed(seed=7, learning_objects=40, users=20, enrollments=300)
    with Go1Sandbox(seed, enrollments_path=ENROLLMENTS_OPENAPI_SERVER_PATH).serve() as go1:
        config = load_config(env={**go1.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
        report = run_extract(config, ["enrollments"])
        assert report.ok, report.streams[0].error
        tried = [(r.path, r.status) for r in go1.requests if "enrol" in r.path]
        assert tried[0] == (ENROLLMENTS_PATH, 404)  # the gateway path once
        assert {p for p, _ in tried[1:]} == {ENROLLMENTS_OPENAPI_SERVER_PATH}
        assert raw_latest(config, "go1_enrollments", "enrollment_id") == dict(
            go1.enrollments.items())
        assert readings(config)["enrollments_path"] == ENROLLMENTS_OPENAPI_SERVER_PATH
        assert "read from GET /report-data/enrolment/enrollments" in report.streams[0].stats.notes

        go1.clear_requests()  # the next run goes straight to the path that answered
        assert run_extract(config, ["enrollments"]).ok
        assert {r.path for r in go1.requests if "enrol" in r.path} == {
            ENROLLMENTS_OPENAPI_SERVER_PATH}


def test_a_remembered_path_that_starts_answering_404_is_found_again(
        go1: Go1Sandbox, config: Config) -> None:
    con = open_warehouse(config.warehouse_path())
    con.execute("INSERT INTO meta.api_readings VALUES ('go1', ?, 'enrollments_path', ?, NULL, "
                "NULL, now())", [go1.url, ENROLLMENTS_OPENAPI_SERVER_PATH])
    con.close()
    assert run_extract(config, ["enrollments"]).ok
    assert [r.path for r in go1.requests if "enrol" in r.path][0] == \
        ENROLLMENTS_OPENAPI_SERVER_PATH
    assert readings(config)["enrollments_path"] == ENROLLMENTS_PATH


@pytest.mark.undocumented_on_purpose  # GO1_ENROLLMENTS_PATH names a path Go1 lacks
def test_a_set_enrollments_path_is_the_only_one_asked(go1_env: dict[str, str],
                                                       go1: Go1Sandbox) -> None:
    config = load_config(env={**go1_env, "GO1_ENROLLMENTS_PATH": "/v2/enrollments"})
    report = run_extract(config, ["enrollments"])
    assert not report.ok
    assert [r.path for r in go1.requests if "enrol" in r.path] == ["/v2/enrollments"]
    assert "HTTP 404" in (report.streams[0].error or "")
    assert "enrollments_path" not in readings(config)


def test_404_on_both_paths_names_both_and_the_setting(tmp_path: Path) -> None:
    seed = Go1Seed(seed=7, learning_objects=20, users=10, enrollments=50)
    with Go1Sandbox(seed, enrollments_path="/v9/enrollments").serve() as go1:
        config = load_config(env={**go1.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
        report = run_extract(config, ["enrollments"])
    error = report.streams[0].error or ""
    assert not report.ok
    assert f"GET {ENROLLMENTS_PATH} and GET {ENROLLMENTS_OPENAPI_SERVER_PATH}" in error
    assert "GO1_ENROLLMENTS_PATH" in error
