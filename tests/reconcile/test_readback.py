"""Reading 360Learning back: what lands in raw.l360_* after a push."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commands.reconcile import run_reconcile
from go1sync.settings import load_config
from load.client import L360Client
from load.errors import LoadError
from reconcile.readback import pushed_integration, read_back
from reconcile.report import text_summary
from sandbox.l360 import L360Sandbox
from tests.helpers import sync
from warehouse import open_warehouse
from warehouse.models import run_project
from warehouse.session import run_session
from warehouse.transform import project_for


def test_read_back_lands_courses_attempts_and_users(sync_env: dict[str, str],
                                                    l360: L360Sandbox) -> None:
    config = load_config(env=sync_env)
    assert sync(config).failed == 0

    con = open_warehouse(config.warehouse_path())
    row = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
    assert row is not None
    # a course the snapshot believes in but 360Learning does not know
    con.execute("INSERT INTO meta.pushed_courses BY NAME SELECT '999999' AS external_id, "
                "'x' AS payload_hash, false AS archived, 1 AS run_id, ? AS confirmed_at",
                [datetime.now(UTC)])
    with L360Client(config.l360()) as client:
        result = read_back(con, client, str(row[0]), run_id=99)

    found = dict(con.execute("SELECT found, count(*) FROM raw.l360_integration_courses "
                             "GROUP BY 1").fetchall())
    assert found == {True: len(l360.courses), False: 1}
    assert con.execute("SELECT count(*) FROM raw.l360_course_stats").fetchone() == (
        len(l360.attempts),)
    assert result.counts["users"] == len(l360.users)
    assert con.execute("SELECT count(*) FROM raw.l360_courses").fetchone() == (
        len(l360.courses),)
    mails = {m for (m,) in con.execute("SELECT mail FROM raw.l360_users").fetchall()}
    assert set(l360.users) <= mails


def test_an_unknown_integration_is_an_error_not_missing_courses(
        sync_env: dict[str, str], l360: L360Sandbox) -> None:
    """The read-back's only documented 404 is integrationNotFound: every course "missing"
    would be a false report."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    con = open_warehouse(config.warehouse_path())
    with L360Client(config.l360()) as client, pytest.raises(LoadError) as raised:
        read_back(con, client, "aaaaaaaaaaaaaaaaaaaaaaaa", run_id=99)
    assert "does not know the integration aaaaaaaaaaaaaaaaaaaaaaaa" in str(raised.value)
    assert "integrationNotFound" in str(raised.value)
    assert con.execute("SELECT count(*) FROM raw.l360_integration_courses").fetchone() == (0,)


def test_an_external_id_with_path_characters_is_read_as_one_segment(
        sync_env: dict[str, str], l360: L360Sandbox) -> None:
    """An id pasted raw once sent authenticated GETs to /api/v2/users?mail[eq]=… and stored
    the answers as courses."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    con = open_warehouse(config.warehouse_path())
    row = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
    assert row is not None
    tricky = "../../users?mail[eq]=a@b.c#x"
    con.execute("INSERT INTO meta.pushed_courses BY NAME SELECT ? AS external_id, "
                "'x' AS payload_hash, false AS archived, 1 AS run_id, ? AS confirmed_at",
                [tricky, datetime.now(UTC)])
    l360.clear_requests()
    with L360Client(config.l360()) as client:
        read_back(con, client, str(row[0]), run_id=99)
    asked = [r.path for r in l360.requests if r.method == "GET"]
    assert f"/api/v2/integrations/{row[0]}/courses/{tricky}" in asked  # one segment, decoded
    assert not [r for r in l360.requests if r.path == "/api/v2/users" and r.query]
    assert con.execute("SELECT found FROM raw.l360_integration_courses WHERE external_id = ?",
                       [tricky]).fetchall() == [(False,)]


def test_the_paged_read_back_finds_what_reading_every_course_finds(
        sync_env: dict[str, str], l360: L360Sandbox) -> None:
    """The listing checks the listed fields of every course; one-by-one reads go to those
    that differ, those missing and a sample, so a drifted catalog reports the same rows."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    live = sorted({e for (_, e), c in l360.courses.items() if not c["archived"]})
    l360.delete_course(live[0])
    l360.archive_course(live[1])
    l360.edit_course(live[2], name="Renamed in 360Learning")
    l360.edit_course(live[3], description="Edited there")
    l360.edit_course(live[4], duration=999)
    lang = l360.courses[next(k for k in l360.courses if k[1] == live[5])]["defaultLang"]
    l360.edit_course(live[5], defaultLang="de" if lang != "de" else "fr",
                     launchUrl="https://elsewhere.example/x")

    def differences(sample: int) -> tuple[set[tuple[str, str]], int]:
        with run_session(config.warehouse_path(), "reconcile", {}) as session, \
                L360Client(config.l360()) as client:
            integration = pushed_integration(session.con)
            l360.clear_requests()
            read_back(session.con, client, integration, session.run_id, sample=sample)
            run_project(session.con, project_for(config), session.run_id)
            rows = session.con.execute(
                "SELECT category, row_key FROM reconcile.differences "
                "WHERE category LIKE 'course%' OR category LIKE '%_in_360%'").fetchall()
        one_by_one = {r.path for r in l360.requests if "/courses/" in r.path  # 429s aside
                      and r.path.startswith("/api/v2/integrations/")}
        return {(str(c), str(k)) for c, k in rows}, len(one_by_one)

    every, all_reads = differences(sample=10**6)
    paged, few_reads = differences(sample=0)
    assert paged == every
    assert {c for c, _ in every} >= {"course_missing", "archived_in_360_published_in_go1",
                                     "course_fields_differ"}
    fields = {k.split(" ")[1] for c, k in every if c == "course_fields_differ"}
    assert fields == {"name", "description", "duration", "defaultLang", "launchUrl"}
    # read one by one: the missing course and the four whose listed fields differ, not all
    con = open_warehouse(config.warehouse_path())
    try:
        pushed = con.execute("SELECT count(*) FROM meta.pushed_courses").fetchone()
    finally:
        con.close()
    assert pushed is not None and all_reads == pushed[0] > 5
    assert few_reads == 5
    # the report says which fields were checked for every course, which for some
    report, _ = run_reconcile(config)
    assert report.context is not None and report.context.courses_read is not None
    line = next(x for x in text_summary(report).splitlines() if "course fields checked" in x)
    assert (f"name, description, duration, language, archived state for all "
            f"{report.context.courses_listed:,} listed; launch URL for the "
            f"{report.context.courses_read:,} read one by one") in line


def test_read_back_shows_each_list_against_what_the_snapshot_expects(
        sync_env: dict[str, str], l360: L360Sandbox) -> None:
    """Progress of a read-back: a bar per list, its total what go1sync pushed (users: not
    known), each ending at what 360Learning answered, then the courses read one by one."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    con = open_warehouse(config.warehouse_path())
    row = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
    assert row is not None
    pushed = con.execute("SELECT (SELECT count(*) FROM meta.pushed_courses), "
                         "(SELECT count(*) FROM meta.pushed_attempts)").fetchone()
    assert pushed is not None
    heard: dict[str, list[tuple[int, int | None]]] = {}
    with L360Client(config.l360()) as client:
        read_back(con, client, str(row[0]), run_id=99,
                  progress=lambda what, done, total: heard.setdefault(what, []).append(
                      (done, total)))
    assert list(heard) == ["360Learning courses", "360Learning SCORM imports",
                           "360Learning statistics", "360Learning users",
                           "courses read one by one"]
    assert heard["360Learning courses"][0] == (0, pushed[0])
    assert heard["360Learning courses"][-1] == (len(l360.courses), pushed[0])
    assert heard["360Learning statistics"][-1] == (len(l360.attempts), pushed[1])
    assert heard["360Learning users"][-1] == (len(l360.users), None)
    done, total = heard["courses read one by one"][-1]
    assert done == total and total == len(heard["courses read one by one"])


def test_the_lists_are_read_side_by_side(sync_env: dict[str, str], l360: L360Sandbox) -> None:
    """A paged list follows its Link page after page; the read-back's lists run beside each
    other, so the statistics are asked for before the course list has ended."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    con = open_warehouse(config.warehouse_path())
    integration = pushed_integration(con)
    for kind in ("courses", "courseStats", "users"):
        l360.page_sizes[kind] = 1
    l360.faults.latency_ms = 5
    l360.clear_requests()
    with L360Client(config.l360()) as client:
        result = read_back(con, client, integration, run_id=99, sample=0)

    asked = [r.path for r in l360.requests if r.method == "GET" and r.status == 200]
    courses = [i for i, path in enumerate(asked) if path == "/api/v2/courses"]
    stats = [i for i, path in enumerate(asked) if path == "/api/v2/courses/stats"]
    assert len(stats) == len(l360.attempts) > 3 and len(courses) > 3
    assert stats[0] < courses[-1] and courses[0] < stats[-1]
    # each list whole all the same
    assert result.counts["course_stats"] == len(l360.attempts)
    assert con.execute("SELECT count(*) FROM raw.l360_course_stats WHERE _run_id = 99"
                       ).fetchone() == (len(l360.attempts),)


def test_a_list_that_fails_leaves_the_previous_read_back(sync_env: dict[str, str],
                                                        l360: L360Sandbox) -> None:
    """One list refused half-way: the error is that list's, the others stop, and nothing of
    this read lands beside the previous one."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    con = open_warehouse(config.warehouse_path())
    integration = pushed_integration(con)
    with L360Client(config.l360()) as client:
        read_back(con, client, integration, run_id=98, sample=0)
    for kind in ("courses", "courseStats", "users"):
        l360.page_sizes[kind] = 1
    l360.faults.add("403", "/api/v2/courses/stats", times=None)
    with L360Client(config.l360()) as client, pytest.raises(LoadError) as raised:
        read_back(con, client, integration, run_id=99, sample=0)
    assert "GET /api/v2/courses/stats" in str(raised.value)
    assert "courseStats:read" in str(raised.value)
    for table in ("l360_courses", "l360_users", "l360_course_stats"):
        runs = con.execute(f"SELECT DISTINCT _run_id FROM raw.{table} WHERE _run_id >= 98"
                           ).fetchall()
        assert runs == [(98,)], table
