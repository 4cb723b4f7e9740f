"""Model runner, running: one transaction, materialisation, comments, audits, records, select."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.test_models_project import BASE, VARIABLES, write_project
from warehouse import open_warehouse
from warehouse.models import (
    AuditFailure,
    ModelError,
    Project,
    describe,
    load_project,
    run_project,
)

OBJECTS = [("1", "course", "Onboarding"), ("2", "video", "Safety"), ("3", "course", "GDPR")]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_warehouse(tmp_path / "w.duckdb")
    add_objects(connection, OBJECTS)
    connection.execute(
        "INSERT INTO raw.go1_user_accounts VALUES (1, now(), 'u1', '7', '{\"email\": \"a@b.c\"}')")
    yield connection
    connection.close()


def add_objects(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str]],
                run_id: int = 1) -> None:
    for lo_id, kind, title in rows:
        con.execute("INSERT INTO raw.go1_learning_objects VALUES (?, now(), ?, ?, ?)",
                    [run_id, f"h{lo_id}{run_id}", lo_id,
                     json.dumps({"type": kind, "title": title})])


def project_of(root: Path, files: dict[str, str]) -> Project:
    return load_project(write_project(root, files), variables=VARIABLES)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def test_a_run_materialises_views_tables_and_typed_seeds(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path, BASE)
    result = run_project(con, project, run_id=1)
    assert [(m.name, m.kind, m.rows, m.changed) for m in result.models] == [
        ("type_map", "seed", 2, True), ("stg_objects", "view", 3, True),
        ("stg_users", "view", 1, True), ("content", "table", 3, True)]
    assert all((m.fingerprint, m.metadata_fingerprint) == (
        project.model(m.name).fingerprint, project.model(m.name).metadata_fingerprint)
        for m in result.models)
    views = {r[0] for r in con.execute(
        "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    tables = {r[0] for r in con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
    assert {"staging.stg_objects", "staging.stg_users"} <= views
    assert {"marts.content", "seeds.type_map"} <= tables and "marts.content" not in views
    assert con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                       "WHERE schema_name = 'seeds' ORDER BY column_index").fetchall() == [
        ("go1_type", "VARCHAR"), ("content_type", "VARCHAR"), ("rank", "INTEGER")]
    assert con.execute("SELECT external_id, launch_url FROM marts.content "
                       "ORDER BY 1").fetchall()[0] == ("1", "https://acme.mygo1.com/play/1")
    assert all(a.passed for a in result.audits) and len(result.audits) == 3


def test_the_run_is_recorded_with_versions_and_sql(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path, BASE)
    run_project(con, project, run_id=5)
    rows = con.execute("SELECT model, kind, fingerprint, metadata_fingerprint, parents, "
                       "compiled_sql, rows FROM meta.model_runs WHERE run_id = 5 "
                       "ORDER BY model").fetchall()
    content = rows[0]
    model = project.model("content")
    assert content[:4] == ("content", "table", model.fingerprint, model.metadata_fingerprint)
    assert json.loads(content[4]) == ["staging.stg_objects", "seeds.type_map"]
    assert content[5].startswith('CREATE OR REPLACE TABLE "marts"."content" AS')
    assert content[6] == 3
    assert scalar(con, "SELECT count(*) FROM meta.audit_results WHERE run_id = 5") == 3


def test_column_rules_and_descriptions_are_comments(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    files = dict(BASE)
    files["staging/stg_objects.sql"] = (
        "{{ column('title', 'Spec: the title as Go1 sends it, \"quotes\" and it\\'s kept') }}\n"
        + BASE["staging/stg_objects.sql"])
    run_project(con, project_of(tmp_path, files), run_id=1)
    comments = dict(con.execute(
        "SELECT table_name || '.' || column_name, comment FROM duckdb_columns() "
        "WHERE comment IS NOT NULL").fetchall())
    assert comments == {
        "content.launch_url": "Spec: the portal URL, then /play/ and the object's id",
        "stg_objects.title": "Spec: the title as Go1 sends it, \"quotes\" and it's kept"}
    assert scalar(con, "SELECT comment FROM duckdb_views() WHERE view_name = 'stg_objects'") == (
        "One row per Go1 learning object")


def test_a_described_column_missing_behind_a_star_fails_at_run(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path, {"marts/x.sql": (
        "{{ column('progress', 'Spec: 100 when completed') }}\n"
        "SELECT * FROM {{ source('raw', 'go1_user_accounts_latest') }}\n")})
    with pytest.raises(ModelError, match=r"^models/marts/x.sql: column\('progress'\) is not a"):
        run_project(con, project, run_id=1)


def test_an_unknown_source_fails_before_anything_runs(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path, {
        "staging/ok.sql": "SELECT 1 AS a\n",
        "staging/x.sql": "SELECT * FROM {{ source('raw', 'go1_nothing') }}\n"})
    with pytest.raises(ModelError) as info:
        run_project(con, project, run_id=1)
    assert str(info.value) == ("models/staging/x.sql: source('raw', 'go1_nothing') is not a "
                               "table or view of the warehouse")
    assert scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'ok'") == 0


def test_a_duckdb_error_names_the_file_and_rolls_back(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path, {
        "staging/ok.sql": "SELECT 1 AS a\n",
        "marts/x.sql": "SELECT nope FROM {{ ref('ok') }}\n"})
    with pytest.raises(ModelError) as info:
        run_project(con, project, run_id=1)
    message = str(info.value)
    assert message.startswith("models/marts/x.sql: Binder Error: ") and "nope" in message
    assert "\n" not in message
    assert scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'ok'") == 0
    assert scalar(con, "SELECT count(*) FROM meta.model_runs") == 0


def test_a_model_can_change_from_view_to_table(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    run_project(con, project_of(tmp_path / "a", {"staging/s.sql": "SELECT 1 AS a\n"}), 1)
    run_project(con, project_of(tmp_path / "b", {
        "staging/s.sql": "{{ config(materialized='table') }}\nSELECT 2 AS a\n"}), 2)
    assert scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 's'") == 0
    assert scalar(con, "SELECT a FROM staging.s") == 2


AUDITED = "SELECT * FROM (VALUES ('1', 'course', 'A'), ('2', 'video', NULL)) t(id, type, name)\n"


@pytest.mark.parametrize(("audit", "bad_row"), [
    ("{{ audit('unique', columns=['id']) }}", "('2', 'video', 'B')"),
    ("{{ audit('not_null', columns=['id', 'type']) }}", "(NULL, 'video', 'B')"),
    ("{{ audit('accepted_values', column='type', values=['course', 'video']) }}",
     "('3', 'podcast', 'B')"),
    ("{{ audit('relationships', column='type', to='types', field='code') }}",
     "('3', 'podcast', 'B')"),
    ("{% call audit_query('named_rows', blocking=True) %}\n"
     "SELECT * FROM {{ this }} WHERE id = '3' AND name IS NULL\n{% endcall %}",
     "('3', 'course', NULL)"),
])
def test_each_audit_kind_passes_and_fails(tmp_path: Path, con: duckdb.DuckDBPyConnection,
                                          audit: str, bad_row: str) -> None:
    types = {"seeds/types.csv": "code\ncourse\nvideo\n"}
    good = {**types, "marts/m.sql": f"{audit}\n{AUDITED}"}
    result = run_project(con, project_of(tmp_path / "good", good), run_id=1)
    assert [(a.model, a.failing_rows) for a in result.audits] == [("m", 0)]
    bad_sql = AUDITED.replace("('2', 'video', NULL)", f"('2', 'video', NULL), {bad_row}")
    bad = {**types, "marts/m.sql": f"{audit}\n{bad_sql}"}
    with pytest.raises(AuditFailure) as info:
        run_project(con, project_of(tmp_path / "bad", bad), run_id=2)
    [failure] = info.value.failures
    assert failure.model == "m" and failure.blocking and failure.failing_rows >= 1
    assert str(info.value).startswith(
        f"a blocking audit failed, the run was rolled back: model m, audit {failure.audit}: ")


def test_a_blocking_failure_keeps_the_previous_run(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path / "a", BASE)
    run_project(con, project, run_id=1)
    before = con.execute("SELECT * FROM marts.content ORDER BY ALL").fetchall()
    add_objects(con, [("1", "podcast", "Renamed"), ("4", "podcast", "New"),
                      ("5", "podcast", "Newer"), ("6", "podcast", "Newest")], run_id=2)
    podcasts = dict(BASE)
    podcasts["seeds/type_map.csv"] = BASE["seeds/type_map.csv"] + "podcast,podcast,3\n"
    podcasts["marts/content.sql"] = BASE["marts/content.sql"].replace(
        "{{ audit('unique'", "{{ audit('not_null', columns=['launch_url'], blocking=False) }}\n"
        "{{ audit('unique'")
    with pytest.raises(AuditFailure) as info:
        run_project(con, project_of(tmp_path / "b", podcasts), run_id=2)
    message = str(info.value)
    assert "model content, audit accepted_values_content_type: 4 bad rows, e.g. " in message
    assert message.count('"content_type": "podcast"') == 3 and "\n" not in message
    assert [f.audit for f in info.value.failures] == ["accepted_values_content_type"]
    assert con.execute("SELECT * FROM marts.content ORDER BY ALL").fetchall() == before
    assert scalar(con, "SELECT count(*) FROM seeds.type_map") == 2
    assert scalar(con, "SELECT count(*) FROM meta.model_runs WHERE run_id = 2") == 0
    recorded = con.execute("SELECT model, audit, blocking, failing_rows, sample "
                           "FROM meta.audit_results WHERE run_id = 2").fetchall()
    assert [r[:4] for r in recorded] == [("content", "accepted_values_content_type", True, 4)]
    assert len(json.loads(recorded[0][4])) == 3


def test_a_non_blocking_failure_is_returned_and_the_run_commits(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    files = dict(BASE)
    files["marts/content.sql"] = BASE["marts/content.sql"].replace(
        "values=['course', 'video'])", "values=['course'], blocking=False)")
    result = run_project(con, project_of(tmp_path, files), run_id=1)
    [failure] = result.failed_audits
    assert (failure.audit, failure.blocking, failure.failing_rows) == (
        "accepted_values_content_type", False, 1)
    assert failure.sample[0]["content_type"] == "video"
    assert scalar(con, "SELECT count(*) FROM marts.content") == 3
    assert scalar(con, "SELECT failing_rows FROM meta.audit_results WHERE run_id = 1 "
                       "AND audit = 'accepted_values_content_type'") == 1


def test_describe_reports_changes_since_the_last_run(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path / "a", BASE)
    assert {i.changed_since_last_run for i in describe(con, project)} == {None}
    run_project(con, project, run_id=1)
    assert {i.changed_since_last_run for i in describe(con, project)} == {False}
    edited = dict(BASE)
    edited["staging/stg_users.sql"] = BASE["staging/stg_users.sql"].replace(
        "record->>'email'", "lower(record->>'email')")
    info = {i.name: i for i in describe(con, project_of(tmp_path / "b", edited))}
    assert info["stg_users"].changed_since_last_run is True
    assert info["content"].changed_since_last_run is False
    assert (info["content"].kind, info["content"].fingerprint) == (
        "table", project.model("content").fingerprint)
    second = run_project(con, project_of(tmp_path / "b", edited), run_id=2)
    assert {m.name for m in second.models if m.changed} == {"stg_users"}


def test_a_docs_and_audits_edit_is_recorded_but_not_a_change(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Docs and audits are the metadata version: the next transform reports nothing changed,
    ``describe`` agrees, and ``meta.model_runs`` keeps both versions of each run."""
    first = project_of(tmp_path / "a", BASE)
    run_project(con, first, run_id=1)
    edited = dict(BASE)
    edited["staging/stg_objects.sql"] = BASE["staging/stg_objects.sql"].replace(
        "One row per Go1 learning object", "Each Go1 learning object, its latest version")
    edited["marts/content.sql"] = (
        "{{ column('name', 'Spec: title -> name') }}\n"
        "{{ audit('not_null', columns=['launch_url'], blocking=False) }}\n"
        "{{ audit('relationships', column='external_id', to='stg_users', field='id', "
        "blocking=False) }}\n"
        + BASE["marts/content.sql"].replace("/play/ and the object's id", "/play/, then the id"))
    second = project_of(tmp_path / "b", edited)
    assert {i.changed_since_last_run for i in describe(con, second)} == {False}
    result = run_project(con, second, run_id=2)
    assert [m.name for m in result.models if m.changed] == []
    [unknown] = result.failed_audits  # the new audits ran: no object id is a user id
    assert (unknown.audit, unknown.failing_rows) == ("relationships_external_id", 3)
    runs = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT run_id, model, fingerprint, metadata_fingerprint FROM meta.model_runs").fetchall()}
    for name in ("type_map", "stg_objects", "stg_users", "content"):
        assert runs[1, name][0] == runs[2, name][0] == second.model(name).fingerprint, name
        assert runs[1, name][1] == first.model(name).metadata_fingerprint, name
        assert runs[2, name][1] == second.model(name).metadata_fingerprint, name
    moved = {name for name in ("type_map", "stg_objects", "stg_users", "content")
             if runs[1, name][1] != runs[2, name][1]}
    assert moved == {"stg_objects", "content"}
    assert scalar(con, "SELECT comment FROM duckdb_columns() WHERE table_name = 'content' "
                       "AND column_name = 'name'") == "Spec: title -> name"


def test_a_sql_edit_is_a_change_of_the_model_and_its_descendants(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    run_project(con, project_of(tmp_path / "a", BASE), run_id=1)
    edited = dict(BASE)
    edited["staging/stg_objects.sql"] = BASE["staging/stg_objects.sql"].replace(
        "record->>'title'", "trim(record->>'title')")
    result = run_project(con, project_of(tmp_path / "b", edited), run_id=2)
    assert [m.name for m in result.models if m.changed] == ["stg_objects", "content"]
    assert scalar(con, "SELECT count(DISTINCT fingerprint) FROM meta.model_runs "
                       "WHERE model = 'content'") == 2
    assert scalar(con, "SELECT count(DISTINCT metadata_fingerprint) FROM meta.model_runs "
                       "WHERE model = 'content'") == 1


def test_select_runs_a_model_and_its_upstream_only(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    project = project_of(tmp_path, BASE)
    result = run_project(con, project, run_id=1, select={"stg_objects"})
    assert [m.name for m in result.models] == ["stg_objects"]
    assert result.audits == []
    result = run_project(con, project, run_id=2, select={"content"})
    assert [m.name for m in result.models] == ["type_map", "stg_objects", "content"]
    assert scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'stg_users'") == 0
    with pytest.raises(ModelError, match="'nope' names no model or seed"):
        run_project(con, project, run_id=3, select={"nope"})
