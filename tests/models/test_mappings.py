"""Every row of the description's two mapping tables, with a concrete Go1 input and the result.

Each test lands raw Go1 JSON the way the extract does, runs the real models/ project, and reads
the marts as an analyst would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.landing import ENROLLMENTS, LEARNING_OBJECTS, USER_ACCOUNTS, WHOLE_BODY, land_bodies
from warehouse import open_warehouse
from warehouse.models import load_project, run_project

MODELS = Path(__file__).resolve().parents[2] / "models"
PORTAL = "https://360learning-dev.mygo1.com"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def learning_object(key: str, **change: Any) -> dict[str, Any]:
    """A Go1 v3 learning object with every include, as the library listing returns it."""
    lo_id = key
    record: dict[str, Any] = {
        "id": f"con_{lo_id}", "lo_id": lo_id,
        "created_time": "2024-01-01T00:00:00Z", "updated_time": "2025-03-01T10:00:00Z",
        "core": {"type": "course", "title": f"Course {lo_id}",
                 "description": "<p>Learn <strong>this</strong> &amp; that</p>",
                 "image": {"value": f"https://img.example.com/{lo_id}.jpg"}},
        "relevance": {"duration": 30, "language": "en", "author": {"name": "Ada Lovelace"}},
        "lifecycle": {"state": "published"},
        "provider": {"name": "Acme Learning", "logo": "https://img.example.com/acme.png"},
        "topics": {"items": [{"id": 1, "name": "Leadership"}, {"id": 2, "name": "Sales"}]},
    }
    for path, value in change.items():
        node = record
        *parents, leaf = path.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        if value is _DROP:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return record


_DROP = object()


def enrollment(id_: str, lo_id: str = "100", user: str = "7", status: str = "in-progress",
               passed: bool | None = None, created: str = "2025-04-01T08:00:00Z",
               updated: str = "2025-04-02T09:30:00Z") -> dict[str, Any]:
    return {"id": id_, "lo_id": lo_id, "user_account_id": user, "status": status,
            "pass": passed, "result": 0, "created_time": created, "updated_time": updated}


def account(id_: str, email: str | None) -> dict[str, Any]:
    return {"id": id_, "user": {"email": email, "given_name": "A", "family_name": "B"}}


@dataclass
class Go1Data:
    learning_objects: list[dict[str, Any]] = field(default_factory=list)
    unlisted: set[str] = field(default_factory=set)  # in raw, not in the latest listing
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=lambda: [account("7", "Ann@Acme.com")])


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_warehouse(tmp_path / "w.duckdb")
    yield con
    con.close()


Transform = Callable[..., duckdb.DuckDBPyConnection]


@pytest.fixture
def transform(warehouse: duckdb.DuckDBPyConnection) -> Transform:
    def run(data: Go1Data, fallback_language: str = "en",
            portal_url: str = PORTAL + "/") -> duckdb.DuckDBPyConnection:
        con = warehouse
        con.execute("INSERT INTO meta.runs (run_id, command, started_at, status) "
                    "VALUES (1, 'extract', now(), 'success')")
        con.execute("INSERT INTO meta.stream_runs (run_id, stream, status, started_at) "
                    "VALUES (1, 'learning_objects', 'success', now())")
        page = json.dumps({"total": len(data.learning_objects), "hits": data.learning_objects})
        land_bodies(con, LEARNING_OBJECTS, 1, NOW, [page])
        listed = [r["lo_id"] for r in data.learning_objects
                  if r.get("lo_id") and r["lo_id"] not in data.unlisted]
        con.execute("INSERT INTO raw.go1_library_listings SELECT 1, unnest($ids), 'published'",
                    {"ids": listed})
        land_bodies(con, ENROLLMENTS, 1, NOW,
                    [json.dumps({"total": 0, "hits": data.enrollments})])
        land_bodies(con, USER_ACCOUNTS, 1, NOW, [json.dumps(a) for a in data.accounts],
                    WHOLE_BODY)
        project = load_project(MODELS, variables={"portal_url": portal_url,
                                                  "fallback_language": fallback_language})
        run_project(con, project, 2)
        return con
    return run


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def course(con: duckdb.DuckDBPyConnection, lo_id: str) -> dict[str, Any]:
    found = rows(con, "SELECT * FROM marts.content_360 WHERE external_id = ?", lo_id)
    assert len(found) == 1, f"{lo_id} is not one course in marts.content_360"
    return found[0]


def reject(con: duckdb.DuckDBPyConnection, key: str) -> tuple[str, str | None]:
    found = rows(con, "SELECT reason, detail FROM marts.rejects WHERE go1_key = ?", key)
    assert len(found) == 1, f"{key} is not one reject"
    return found[0]["reason"], found[0]["detail"]


# --- catalog mapping --------------------------------------------------------------------------

def test_catalog_row_by_row(transform: Transform) -> None:
    con = transform(Go1Data([learning_object("100")]))
    c = course(con, "100")
    assert c["external_id"] == "100"  # id -> externalId (the lo_id)
    assert c["name"] == "Course 100"  # title -> name
    assert c["description"] == "<p>Learn <strong>this</strong> &amp; that</p>"  # HTML kept
    assert c["image"] == "https://img.example.com/100.jpg"  # image -> image URL
    assert c["duration"] == 30  # delivery.duration -> minutes
    assert c["authors"] == ["Ada Lovelace"]  # authors.name -> authors
    assert c["lang"] == "en" and c["lang_source"] == "mapped"
    assert c["launch_url"] == "https://360learning-dev.mygo1.com/play/100"  # no double slash
    assert c["modified_at"] == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)  # updated_time
    assert c["subjects"] == ["Leadership", "Sales"]  # topics -> subjects
    assert c["content_type"] == "course"
    assert c["archived"] is False and c["archived_reason"] is None


@pytest.mark.parametrize(("go1_type", "content_type"), [
    ("audio", "audiobook"), ("course", "course"), ("document", "article"),
    ("interactive", "course"), ("link", "course"), ("text", "article"), ("video", "video"),
])
def test_the_seven_types_and_their_targets(transform: Transform, go1_type: str,
                                           content_type: str) -> None:
    con = transform(Go1Data([learning_object("100", core__type=go1_type)]))
    assert course(con, "100")["content_type"] == content_type


def test_playlist_and_award_are_not_synced_and_unknown_types_are_rejected(
        transform: Transform) -> None:
    con = transform(Go1Data([learning_object("1", core__type="playlist"),
                             learning_object("2", core__type="award"),
                             learning_object("3", core__type="webinar")]))
    assert rows(con, "SELECT * FROM marts.content_360") == []
    assert reject(con, "1") == ("type_not_synced", "playlist")
    assert reject(con, "2") == ("type_not_synced", "award")
    assert reject(con, "3") == ("unknown_type", "webinar")


@pytest.mark.parametrize(("image", "expected"), [
    ("", None), ("   ", None), (_DROP, None), ("https://x/y.png", "https://x/y.png")])
def test_blank_or_missing_image_is_left_empty(transform: Transform, image: Any,
                                              expected: str | None) -> None:
    con = transform(Go1Data([learning_object("100", core__image__value=image)]))
    assert course(con, "100")["image"] == expected


@pytest.mark.parametrize(("duration", "expected"), [
    (0, None), (_DROP, None), (None, None), (7.5, 8), (45, 45), (250_000, None)])
def test_zero_missing_or_out_of_range_duration_is_left_empty(
        transform: Transform, duration: Any, expected: int | None) -> None:
    con = transform(Go1Data([learning_object("100", relevance__duration=duration)]))
    assert course(con, "100")["duration"] == expected


@pytest.mark.parametrize(("language", "lang", "source"), [
    ("en", "en", "mapped"), ("en-US", "en", "mapped"), ("en-GB", "en_GB", "mapped"),
    ("fr-CA", "fr_CA", "mapped"), ("pt-BR", "pt_BR", "mapped"), ("zh-TW", "zh_tw", "mapped"),
    ("zh-Hant", "zh_HANT", "mapped"), ("he", "he_IL", "mapped"), ("iw", "he_IL", "mapped"),
    ("nb", "no", "mapped"), ("es-419", "es_MX", "mapped"), ("pt_PT", "pt", "mapped"),
    ("it-CH", "it", "mapped_language"), ("xx-YY", "en", "fallback"), ("", "en", "fallback"),
])
def test_language_is_mapped_to_a_360learning_value(transform: Transform, language: str,
                                                   lang: str, source: str) -> None:
    con = transform(Go1Data([learning_object("100", relevance__language=language)]))
    c = course(con, "100")
    assert (c["lang"], c["lang_source"]) == (lang, source)


def test_unknown_language_falls_back_to_the_setting_and_is_reported(
        transform: Transform) -> None:
    con = transform(Go1Data([learning_object("100", relevance__language="xx-YY")]),
                    fallback_language="fr")
    c = course(con, "100")
    assert (c["lang"], c["lang_source"], c["go1_language"]) == ("fr", "fallback", "xx-YY")


def test_sources_fall_back_to_the_provider(transform: Transform) -> None:
    con = transform(Go1Data([learning_object("100", relevance__author=_DROP),
                             learning_object("101", relevance__author=_DROP, provider=_DROP)]))
    with_provider, with_nothing = course(con, "100"), course(con, "101")
    assert (with_provider["authors"], with_provider["sources"]) == ([], ["Acme Learning"])
    assert with_provider["sources_source"] == "provider"
    assert (with_nothing["sources"], with_nothing["sources_source"]) == ([], "none")


@pytest.mark.parametrize(("state", "listed", "archived", "reason"), [
    ("published", True, False, None), ("retired", True, True, "retired"),
    ("removed", True, True, "removed"), ("draft", True, True, "draft"),
    ("published", False, True, "left_my_library"),
])
def test_archived_when_not_published_or_gone_from_my_library(
        transform: Transform, state: str, listed: bool, archived: bool,
        reason: str | None) -> None:
    data = Go1Data([learning_object("100", lifecycle__state=state)],
                   unlisted=set() if listed else {"100"})
    c = course(transform(data), "100")
    assert (c["archived"], c["archived_reason"]) == (archived, reason)


def test_a_record_without_lifecycle_takes_the_state_it_was_listed_under(
        transform: Transform) -> None:
    con = transform(Go1Data([learning_object("100", lifecycle__state=_DROP),
                             learning_object("101", lifecycle=_DROP),
                             learning_object("102", lifecycle=_DROP)], unlisted={"102"}))
    assert [(c["archived"], c["archived_reason"]) for c in map(partial(course, con),
            ["100", "101", "102"])] == [(False, None), (False, None), (True, "left_my_library")]


@pytest.mark.parametrize("stamp", ["2025-03-01T11:00:00+01:00", "2025-03-01T10:00:00+0000",
                                   "2025-03-01T10:00:00.000Z"])
def test_modified_at_is_utc_whatever_the_spelling(transform: Transform, stamp: str) -> None:
    con = transform(Go1Data([learning_object("100", updated_time=stamp)]))
    assert course(con, "100")["modified_at"] == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_objects_that_cannot_be_mapped_are_rejected_with_a_reason(transform: Transform) -> None:
    con = transform(Go1Data([learning_object("1", core__title="  "),
                             learning_object("2", updated_time="yesterday"),
                             learning_object("3", lo_id=None)]))
    assert rows(con, "SELECT * FROM marts.content_360") == []
    assert reject(con, "1") == ("missing_title", None)
    assert reject(con, "2") == ("unparseable_timestamp", "yesterday")
    assert rows(con, "SELECT reason FROM marts.rejects WHERE go1_key IS NULL") == [
        {"reason": "missing_id"}]


# --- learner statistics mapping ----------------------------------------------------------------

def attempt(con: duckdb.DuckDBPyConnection, enrollment_id: str) -> dict[str, Any]:
    found = rows(con, "SELECT * FROM marts.attempts_360 WHERE go1_enrollment_id = ?",
                 enrollment_id)
    assert len(found) == 1, f"enrollment {enrollment_id} is not one attempt"
    return found[0]


def stats(transform: Transform, *enrollments: dict[str, Any],
          accounts: list[dict[str, Any]] | None = None) -> duckdb.DuckDBPyConnection:
    data = Go1Data([learning_object("100"), learning_object("200", core__type="playlist")],
                   enrollments=list(enrollments))
    if accounts is not None:
        data.accounts = accounts
    return transform(data)


def test_completed_enrollment_closes_an_attempt(transform: Transform) -> None:
    con = stats(transform, enrollment("1", status="completed", passed=True))
    a = attempt(con, "1")
    assert a["external_course_id"] == "100"  # lo_id -> externalCourseId
    assert a["user_email"] == "ann@acme.com"
    assert a["first_activity"] == datetime(2025, 4, 1, 8, 0, tzinfo=UTC)  # created_time
    assert a["last_activity"] == datetime(2025, 4, 2, 9, 30, tzinfo=UTC)  # updated_time
    assert a["completed_at"] == a["last_activity"]  # completedAt = updated_time when completed
    assert (a["progress"], a["result"], a["attempt_state"]) == (100, "success", "closed")
    assert (a["score"], a["time_spent_ms"]) == (None, 0)  # score undefined, 0 ms spent


def test_in_progress_enrollment_opens_an_attempt(transform: Transform) -> None:
    a = attempt(stats(transform, enrollment("1", status="in-progress")), "1")
    assert (a["progress"], a["result"], a["completed_at"], a["attempt_state"]) == (
        50, None, None, "open")


def test_pass_true_while_in_progress_is_success(transform: Transform) -> None:
    a = attempt(stats(transform, enrollment("1", status="in-progress", passed=True)), "1")
    assert (a["progress"], a["result"], a["attempt_state"]) == (50, "success", "open")


def test_completed_with_pass_false_is_failed(transform: Transform) -> None:
    a = attempt(stats(transform, enrollment("1", status="completed", passed=False)), "1")
    assert (a["progress"], a["result"], a["attempt_state"]) == (100, "failed", "closed")


@pytest.mark.parametrize(("status", "passed"), [("in-progress", False), ("completed", None)])
def test_no_result_otherwise(transform: Transform, status: str, passed: bool | None) -> None:
    assert attempt(stats(transform, enrollment("1", status=status, passed=passed)),
                   "1")["result"] is None


@pytest.mark.parametrize("status", ["not-started", "assigned", "pending", ""])
def test_other_statuses_are_ignored_with_a_reason(transform: Transform, status: str) -> None:
    con = stats(transform, enrollment("1", status=status))
    assert rows(con, "SELECT * FROM marts.attempts_360") == []
    assert reject(con, "1") == ("status_ignored", status or "(none)")


def test_status_spelling_is_tolerated(transform: Transform) -> None:
    a = attempt(stats(transform, enrollment("1", status=" Completed ", passed=True)), "1")
    assert a["progress"] == 100


def test_a_reenrolment_gives_a_second_attempt(transform: Transform) -> None:
    con = stats(transform,
                enrollment("1", status="completed", passed=True, created="2025-01-01T00:00:00Z",
                           updated="2025-01-05T00:00:00Z"),
                enrollment("2", status="in-progress", created="2025-06-01T00:00:00Z",
                           updated="2025-06-02T00:00:00Z"))
    found = rows(con, "SELECT go1_enrollment_id, attempt_state FROM marts.attempts_360 "
                      "ORDER BY first_activity")
    assert found == [{"go1_enrollment_id": "1", "attempt_state": "closed"},
                     {"go1_enrollment_id": "2", "attempt_state": "open"}]


def test_enrollments_of_content_not_synced_are_rejected(transform: Transform) -> None:
    con = stats(transform, enrollment("1", lo_id="200"), enrollment("2", lo_id="999"))
    assert reject(con, "1") == ("content_not_synced", "200")
    assert reject(con, "2") == ("content_not_synced", "999")


def test_learners_without_an_email_are_rejected(transform: Transform) -> None:
    con = stats(transform, enrollment("1", user="7"), enrollment("2", user="8"),
                enrollment("3", user="9"),
                accounts=[account("7", ""), account("8", None)])
    assert [reject(con, key) for key in ("1", "2", "3")] == [
        ("learner_without_email", "7"), ("learner_without_email", "8"),
        ("learner_without_email", "9")]


def test_timestamps_that_do_not_parse_are_rejected(transform: Transform) -> None:
    con = stats(transform, enrollment("1", created="soon"),
                enrollment("2", created="2025-05-01T00:00:00Z", updated="2025-04-01T00:00:00Z"))
    assert reject(con, "1")[0] == "unparseable_timestamp"
    assert reject(con, "2")[0] == "last_activity_before_first_activity"


def test_two_enrollments_that_would_make_one_attempt_keep_the_newest(
        transform: Transform) -> None:
    con = stats(transform, enrollment("1", updated="2025-04-02T00:00:00Z"),
                enrollment("2", updated="2025-04-03T00:00:00Z"))
    assert attempt(con, "2")["go1_enrollment_id"] == "2"
    assert reject(con, "1")[0] == "duplicate_key"


def test_every_enrollment_is_an_attempt_or_a_reject(transform: Transform) -> None:
    con = stats(transform, enrollment("1", status="completed"), enrollment("2", status="assigned"),
                enrollment("3", lo_id="200"), enrollment("4", user="404"))
    counted = rows(con, "SELECT (SELECT count(*) FROM marts.attempts_360) AS attempts, "
                        "(SELECT count(*) FROM marts.rejects WHERE entity = 'enrollment') AS rej")
    assert counted == [{"attempts": 1, "rej": 3}]


def test_columns_explain_the_rule_they_implement(transform: Transform) -> None:
    con = stats(transform, enrollment("1"))
    comments = dict(con.execute(
        "SELECT column_name, comment FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND table_name = 'attempts_360'").fetchall())
    assert "100 progress if the status is completed" in comments["progress"]
    assert comments["completed_at"].startswith("Spec: completedAt")


# --- the outbound payloads' audits ------------------------------------------------------------

def test_the_payload_audits_find_records_the_api_would_refuse(transform: Transform) -> None:
    """The audits of models/outbound are not vacuous: a record 360Learning would refuse (a
    timeSpent below its minimum, progress past 100, a course without sources or with an http
    image) is named, with its key."""
    from warehouse.models.audits import run_audit

    con = transform(Go1Data([learning_object("100"), learning_object("101")],
                            enrollments=[enrollment("9001"), enrollment("9002", lo_id="101")]))
    project = load_project(MODELS, variables={"portal_url": PORTAL, "fallback_language": "en"})

    def failing(model: str, name: str) -> set[str]:
        (audit,) = [a for a in project.models[model].audits if a.name == name]
        return {str(r[0]) for r in con.execute(audit.query.sql("duckdb")).fetchall()} \
            if run_audit(con, model, audit).failing_rows else set()

    def records_failing() -> set[str]:
        return failing("attempt_records", "records_are_valid")

    def courses_failing() -> set[str]:
        (audit,) = project.models["course_payloads"].audits
        return failing("course_payloads", audit.name)

    def patch_record(key: str, patch: str) -> None:
        # the records are a table of the transform: what a mapping bug would have stored
        con.execute("UPDATE outbound.attempt_records SET record = json_merge_patch(record, ?) "
                    "WHERE key = ?", [patch, key])

    assert records_failing() == set() and courses_failing() == set()
    patch_record("9001", '{"timeSpent": -5, "progress": 150}')
    con.execute("UPDATE marts.content_360 SET image = 'http://img.example.com/x.jpg' "
                "WHERE external_id = '101'")
    assert records_failing() == {"9001"}
    # a date-time 360Learning would refuse, were one to get past the rejects
    patch_record("9002", '{"firstActivityAt": "10000-01-01T00:00:00.000Z"}')
    assert records_failing() == {"9001", "9002"}
    assert courses_failing() == set()  # an http image is left out, not sent
    con.execute("UPDATE marts.content_360 SET subjects = NULL WHERE external_id = '100'")
    assert courses_failing() == {"100"}


# --- what cannot be sent is rejected, one record at a time (issue 12) -------------------------

def payload_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The enrollments the next push would send a statistics record for."""
    return [r["key"] for r in rows(con, "SELECT key FROM outbound.attempt_payloads ORDER BY key")]


OUT_OF_RANGE = [
    pytest.param("updated", "10000-01-01T00:00:00Z", id="year-10000"),
    pytest.param("updated", "infinity", id="infinity"),
    pytest.param("updated", "2101-01-01T00:00:00Z", id="after-2100"),
    pytest.param("created", "0000-01-01T00:00:00Z", id="year-0"),
    pytest.param("created", "-0001-06-01T00:00:00Z", id="negative-year"),
    pytest.param("created", "-infinity", id="minus-infinity"),
    pytest.param("created", "1969-12-31T23:59:59Z", id="before-1970"),
]


@pytest.mark.parametrize(("which", "text"), OUT_OF_RANGE)
def test_an_enrollment_timestamp_outside_1970_2100_is_rejected_and_the_rest_goes(
        transform: Transform, which: str, text: str) -> None:
    """360Learning answers 400 for a whole batch with one invalid date-time in it: the
    record with a date out of 1970-2100 is a reject naming the text, the others still go."""
    bad = enrollment("1", status="completed")
    bad[f"{which}_time"] = text
    con = stats(transform, bad, enrollment("2", created="2025-06-01T00:00:00Z",
                                           updated="2025-06-02T00:00:00Z"))
    assert reject(con, "1") == ("timestamp_out_of_range", text)
    assert payload_keys(con) == ["2"]


def test_the_range_bounds_are_inclusive(transform: Transform) -> None:
    con = stats(transform, enrollment("1", created="1970-01-01T00:00:00Z",
                                      updated="2100-12-31T23:59:59.999Z"))
    (payload,) = [json.loads(r["payload"]) for r in
                  rows(con, "SELECT payload FROM outbound.attempt_payloads")]
    assert (payload["firstActivityAt"], payload["lastActivityAt"]) == (
        "1970-01-01T00:00:00.000Z", "2100-12-31T23:59:59.999Z")


@pytest.mark.parametrize(("which", "text"), OUT_OF_RANGE)
def test_a_learning_object_timestamp_outside_1970_2100_is_rejected(
        transform: Transform, which: str, text: str) -> None:
    """updated_time is the course's modifiedAt and orders its versions; created_time is not
    used by the mapping, so only updated_time is checked."""
    con = transform(Go1Data([learning_object("1", updated_time=text),
                             learning_object("2", created_time=text)]))
    assert reject(con, "1") == ("timestamp_out_of_range", text)
    assert [r["external_id"] for r in rows(con, "SELECT external_id FROM marts.content_360")] \
        == ["2"]


@pytest.mark.parametrize(("title", "detail"), [
    (42, "42"), (3.5, "3.5"), (True, "true"), ({"en": "Sales"}, '{"en":"Sales"}'),
    (["Sales"], '["Sales"]')])
def test_a_title_that_is_not_a_string_is_rejected(transform: Transform, title: Any,
                                                  detail: str) -> None:
    con = transform(Go1Data([learning_object("1", core__title=title), learning_object("2")]))
    assert reject(con, "1") == ("invalid_title", detail)
    assert [r["external_id"] for r in rows(con, "SELECT external_id FROM marts.content_360")] \
        == ["2"]


@pytest.mark.parametrize("title", [
    "", "\t\n", "\u00a0", " \u00a0\u2003\u3000\u202f ", "\r\n\u2028\u200b\ufeff", None, _DROP])
def test_a_title_that_is_blank_after_trimming_all_whitespace_is_missing(
        transform: Transform, title: Any) -> None:
    con = transform(Go1Data([learning_object("1", core__title=title)]))
    assert reject(con, "1") == ("missing_title", None)
    assert rows(con, "SELECT * FROM marts.content_360") == []


def test_a_title_is_sent_without_surrounding_whitespace_of_any_kind(
        transform: Transform) -> None:
    con = transform(Go1Data([learning_object("1", core__title="\u00a0\tSales 101\u3000\n")]))
    assert course(con, "1")["name"] == "Sales 101"


def test_two_records_with_one_lo_id_keep_the_newest_and_reject_the_other(
        transform: Transform) -> None:
    # the newer one is landed first: the update time decides before the landing order
    con = transform(Go1Data([
        learning_object("100", id="con_new", core__title="New",
                        updated_time="2025-03-02T00:00:00Z"),
        learning_object("100", id="con_old", core__title="Old",
                        updated_time="2025-03-01T00:00:00Z"),
    ]))
    assert course(con, "100")["name"] == "New"
    reason, detail = reject(con, "100")
    assert reason == "duplicate_key" and detail is not None and "con_new" in detail
    (record,) = rows(con, "SELECT record FROM marts.rejects WHERE go1_key = '100'")
    assert json.loads(record["record"])["id"] == "con_old"


def test_two_records_with_one_lo_id_and_one_update_time_keep_the_one_landed_last(
        transform: Transform) -> None:
    con = transform(Go1Data([learning_object("100", id="con_a", core__title="First"),
                             learning_object("100", id="con_b", core__title="Second")]))
    assert course(con, "100")["name"] == "Second"
    (record,) = rows(con, "SELECT record FROM marts.rejects WHERE go1_key = '100'")
    assert json.loads(record["record"])["id"] == "con_a"


def test_the_same_record_read_twice_is_one_course_and_no_reject(transform: Transform) -> None:
    con = transform(Go1Data([learning_object("100"), learning_object("100")]))
    assert course(con, "100")["name"] == "Course 100"
    assert rows(con, "SELECT * FROM marts.rejects") == []


def test_a_newer_version_in_a_later_run_is_no_duplicate(
        transform: Transform, warehouse: duckdb.DuckDBPyConnection) -> None:
    land_bodies(warehouse, LEARNING_OBJECTS, 0, NOW,
                [json.dumps({"hits": [learning_object("100", core__title="Before")]})])
    con = transform(Go1Data([learning_object("100", core__title="After")]))
    assert course(con, "100")["name"] == "After"
    assert rows(con, "SELECT * FROM marts.rejects") == []


@pytest.mark.parametrize(("value", "detail"), [
    ("yes", '"yes"'), ("true", '"true"'), (1, "1"), (0, "0"), ({"value": True}, '{"value":true}'),
    ([True], "[true]")])
def test_a_pass_that_is_not_a_boolean_is_rejected(transform: Transform, value: Any,
                                                  detail: str) -> None:
    bad = enrollment("1", status="completed")
    bad["pass"] = value
    con = stats(transform, bad, enrollment("2", created="2025-06-01T00:00:00Z",
                                           updated="2025-06-02T00:00:00Z"))
    assert reject(con, "1") == ("invalid_pass", detail)
    assert payload_keys(con) == ["2"]


def test_a_pass_that_is_null_or_absent_is_unknown(transform: Transform) -> None:
    absent = enrollment("2", status="completed", created="2025-06-01T00:00:00Z",
                        updated="2025-06-02T00:00:00Z")
    del absent["pass"]
    con = stats(transform, enrollment("1", status="completed", passed=None), absent)
    assert [attempt(con, key)["result"] for key in ("1", "2")] == [None, None]
    assert rows(con, "SELECT * FROM marts.rejects WHERE entity = 'enrollment'") == []


def test_the_reasons_are_documented_where_an_analyst_looks(transform: Transform) -> None:
    con = stats(transform, enrollment("1"))
    comments = {(table, column): comment for table, column, comment in con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE column_name IN ('outcome', 'reject_reason', 'reason')").fetchall()}
    for reason in ("timestamp_out_of_range", "invalid_pass"):
        assert reason in comments[("enrollment_mapping", "outcome")]
    for reason in ("timestamp_out_of_range", "invalid_title", "duplicate_key"):
        assert reason in comments[("go1_learning_objects", "reject_reason")]


def test_reconcile_lists_the_new_reasons_as_rejected_by_the_mapping(
        transform: Transform) -> None:
    """reconcile classifies rejects by category, not by reason: every new reason shows up."""
    bad_pass = enrollment("2", status="completed")
    bad_pass["pass"] = "yes"
    con = transform(Go1Data(
        [learning_object("100"), learning_object("101", core__title=42),
         learning_object("102", updated_time="10000-01-01T00:00:00Z")],
        enrollments=[enrollment("1", updated="infinity"), bad_pass]))
    found = {r["go1_key"]: r["go1_value"] for r in rows(
        con, "SELECT go1_key, go1_value FROM reconcile.differences WHERE category = 'rejected'")}
    assert found == {"101": "invalid_title", "102": "timestamp_out_of_range",
                     "1": "timestamp_out_of_range", "2": "invalid_pass"}
