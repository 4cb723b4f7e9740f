"""The runner's incremental mode (a micro-run): delete+insert of the touched keys' rows, the
keys handed downstream, audits over the replaced rows only, and a full build whenever a model
changed since its table was built."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.test_models_project import VARIABLES, write_project
from warehouse import open_warehouse
from warehouse.models import AuditFailure, ModelError, Project, load_project, run_project

FILES = {
    "staging/stg_objects.sql": """\
{{ config(materialized='incremental', unique_key='lo_id', key_kind='learning_object') }}
{{ audit('unique', columns=['lo_id']) }}
SELECT lo_id, record ->> '$.title' AS title, record ->> '$.type' AS go1_type
FROM {{ source('raw', 'go1_learning_objects') }}
{% if is_incremental() %}
WHERE lo_id IN {{ touched('learning_object') }}
{% endif %}
""",
    "marts/titles.sql": """\
{{ config(materialized='incremental', unique_key='lo_id', key_kind='learning_object') }}
{{ audit('not_null', columns=['title']) }}
SELECT lo_id, upper(title) AS title FROM {{ ref('stg_objects') }}
WHERE go1_type = 'course'
{% if is_incremental() %}
  AND lo_id IN {{ touched('learning_object') }}
{% endif %}
""",
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_warehouse(tmp_path / "w.duckdb")
    for lo_id, kind, title in (("1", "course", "a"), ("2", "course", "b"), ("3", "video", "c")):
        land(connection, lo_id, kind, title)
    yield connection
    connection.close()


def land(con: duckdb.DuckDBPyConnection, lo_id: str, kind: str, title: str | None) -> None:
    """A new version replaces the old: the raw table here holds one row per lo_id."""
    con.execute("DELETE FROM raw.go1_learning_objects WHERE lo_id = ?", [lo_id])
    con.execute("INSERT INTO raw.go1_learning_objects VALUES (1, now(), ?, ?, ?)",
                [f"h{lo_id}{title}", lo_id, json.dumps({"type": kind, "title": title})])


def project(root: Path, files: dict[str, str] = FILES) -> Project:
    return load_project(write_project(root, files), variables=VARIABLES)


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def touched(*lo_ids: str) -> dict[str, set[str]]:
    return {"learning_object": set(lo_ids), "enrollment": set(), "user_account": set()}


def test_a_micro_run_replaces_the_touched_rows_and_hands_them_downstream(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    models = project(tmp_path)
    run_project(con, models, run_id=1)
    land(con, "2", "video", "b")  # no longer a course: its title row must go
    land(con, "3", "course", "c")  # now a course: its title row must come
    land(con, "1", "course", "changed but untouched")
    result = run_project(con, models, run_id=2, touched=touched("2", "3"))
    assert [m.name for m in result.models] == ["stg_objects", "titles"]
    assert rows(con, "marts.titles") == [("1", "A"), ("3", "C")]  # 1 keeps its old row
    assert rows(con, "staging.stg_objects") == [("1", "a", "course"), ("2", "b", "video"),
                                                ("3", "c", "course")]


def test_a_micro_run_audits_the_rows_it_replaced(tmp_path: Path,
                                                 con: duckdb.DuckDBPyConnection) -> None:
    models = project(tmp_path)
    run_project(con, models, run_id=1)
    land(con, "2", "course", None)
    with pytest.raises(AuditFailure, match="not_null"):
        run_project(con, models, run_id=2, touched=touched("2"))
    assert rows(con, "marts.titles") == [("1", "A"), ("2", "B")]  # rolled back


def test_a_model_edited_since_its_table_was_built_makes_a_full_build(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    run_project(con, project(tmp_path), run_id=1)
    land(con, "1", "course", "untouched but changed")
    edited = {**FILES, "marts/titles.sql": FILES["marts/titles.sql"].replace("upper", "lower")}
    run_project(con, project(tmp_path, edited), run_id=2, touched=touched("2"))
    # key 1 was not touched, yet it is rebuilt with the new SQL: the whole project ran
    assert rows(con, "marts.titles") == [("1", "untouched but changed"), ("2", "b")]


def test_incremental_needs_its_key_and_kind(tmp_path: Path) -> None:
    bad = {"marts/x.sql": "{{ config(materialized='incremental') }}\nSELECT 1 AS a\n"}
    with pytest.raises(ModelError, match="needs unique_key"):
        project(tmp_path, bad)
    odd = {"marts/x.sql": "{{ config(materialized='table') }}\n"
                          "{% if is_incremental() %}{% endif %}SELECT 1 AS a\n"}
    with pytest.raises(ModelError, match="is_incremental"):
        project(tmp_path, odd)
