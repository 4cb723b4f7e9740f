"""Model runner, loading: refs and cycles, syntax errors at source lines, vars, fingerprints.

Each model has a data fingerprint (``Model.fingerprint``: what it computes, and whether it
changed) and a metadata fingerprint (its description, column docs and audits).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.models import (
    ModelError,
    Project,
    lineage_dot,
    lineage_mermaid,
    lineage_text,
    load_project,
    short_fingerprint,
)

VARIABLES = {"portal_url": "https://acme.mygo1.com", "fallback_language": "en"}

BASE = {
    "seeds/type_map.csv": "go1_type,content_type,rank:INTEGER\ncourse,course,1\nvideo,video,2\n",
    "staging/stg_objects.sql": """\
{{ config(materialized='view', description='One row per Go1 learning object') }}
-- the latest version of each object
SELECT lo_id AS id,
       record->>'type' AS go1_type,
       record->>'title' AS title
FROM {{ source('raw', 'go1_learning_objects_latest') }}
""",
    "staging/stg_users.sql": """\
SELECT user_account_id AS id, record->>'email' AS email
FROM {{ source('raw', 'go1_user_accounts_latest') }}
""",
    "marts/content.sql": """\
{{ config(materialized='table') }}
{{ column('launch_url', "Spec: the portal URL, then /play/ and the object's id") }}
{{ audit('unique', columns=['external_id']) }}
{{ audit('not_null', columns=['external_id', 'name']) }}
{{ audit('accepted_values', column='content_type', values=['course', 'video']) }}
SELECT o.id AS external_id,
       o.title AS name,
       m.content_type,
       {{ var('portal_url') }} || '/play/' || o.id AS launch_url
FROM {{ ref('stg_objects') }} AS o
JOIN {{ ref('type_map') }} AS m ON m.go1_type = o.go1_type
""",
}

BASE_NAMES = ("type_map", "stg_objects", "stg_users", "content")


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root/models``; return that folder."""
    models = root / "models"
    for relative, text in files.items():
        path = models / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return models


def load(root: Path, files: dict[str, str], **variables: object) -> Project:
    return load_project(write_project(root, files), variables={**VARIABLES, **variables})


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from tmp_path so messages name files as ``models/marts/x.sql``."""
    monkeypatch.chdir(tmp_path)


def error_of(root: Path, files: dict[str, str], **variables: object) -> str:
    with pytest.raises(ModelError) as info:
        load(root, files, **variables)
    return str(info.value)


def test_a_project_loads_in_dependency_order(tmp_path: Path) -> None:
    project = load(tmp_path, BASE)
    assert list(project.models) == ["type_map", "stg_objects", "stg_users", "content"]
    content = project.models["content"]
    assert (content.schema, content.kind, content.parents) == (
        "marts", "table", ("stg_objects", "type_map"))
    assert project.models["stg_objects"].kind == "view"
    assert project.models["stg_objects"].sources == ("raw.go1_learning_objects_latest",)
    assert project.models["stg_objects"].description == "One row per Go1 learning object"
    assert '"staging"."stg_objects"' in content.sql and '"seeds"."type_map"' in content.sql
    assert [a.name for a in content.audits] == [
        "unique_external_id", "not_null_external_id_name", "accepted_values_content_type"]
    assert len(content.fingerprint) == 64 and len(content.metadata_fingerprint) == 64
    assert content.fingerprint != content.metadata_fingerprint


def test_a_cycle_names_its_files(tmp_path: Path) -> None:
    message = error_of(tmp_path, {
        "staging/a.sql": "SELECT * FROM {{ ref('b') }}\n",
        "staging/b.sql": "SELECT * FROM {{ ref('a') }}\n",
        "staging/c.sql": "SELECT 1 AS x\n",
    })
    assert message.startswith("a cycle of refs: ")
    assert "models/staging/a.sql" in message and "models/staging/b.sql" in message
    assert "c.sql" not in message


def test_an_unknown_ref_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"marts/x.sql": "SELECT * FROM {{ ref('nope') }}\n"})
    assert message == "models/marts/x.sql: ref('nope') names no model or seed"


def test_a_duplicate_name_names_both_files(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"staging/x.sql": "SELECT 1 AS a\n",
                                  "marts/x.sql": "SELECT 2 AS a\n"})
    assert "models/marts/x.sql" in message and "models/staging/x.sql" in message


def test_a_syntax_error_names_the_source_line(tmp_path: Path) -> None:
    text = """\
{{ config(
    materialized='table',
    description='three lines of config render to nothing'
) }}
-- a comment
SELECT a,
       b
FROM {{ ref('base') }}
WHERE (a = 1
"""
    message = error_of(tmp_path, {"staging/base.sql": "SELECT 1 AS a, 2 AS b\n",
                                  "marts/x.sql": text})
    assert message.startswith("models/marts/x.sql line 9: Expecting )")
    assert "\n" not in message


def test_syntax_error_lines_survive_loops_and_audit_blocks(tmp_path: Path) -> None:
    text = """\
{% call audit_query('no_bad_rows') %}
SELECT *
FROM {{ this }}
WHERE bad
{% endcall %}
SELECT
{% for c in ['a', 'b', 'c'] %}
  {{ c }},
{% endfor %}
  d e f
FROM t
"""
    message = error_of(tmp_path, {"marts/x.sql": text})
    assert message.startswith("models/marts/x.sql line 10:")
    broken_audit = text.replace("WHERE bad", "WHERE (bad").replace("d e f", "d")
    message = error_of(tmp_path, {"marts/x.sql": broken_audit})
    assert message.startswith("models/marts/x.sql line 4: Expecting )")
    message = error_of(tmp_path, {"marts/x.sql": "SELECT 1 AS a,\n  'unterminated\n"})
    assert message.startswith("models/marts/x.sql line 2: Error tokenizing")
    assert "\n" not in message


def test_a_jinja_error_names_the_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"marts/x.sql": "SELECT 1 AS a\n{% if %}\n"})
    assert message.startswith("models/marts/x.sql line 2:")
    message = error_of(tmp_path, {"marts/x.sql": "SELECT {{ portal_url }} AS a\n"})
    assert message.startswith("models/marts/x.sql:") and "portal_url" in message


@pytest.mark.parametrize(("text", "found"), [
    ("CREATE TABLE marts.x AS SELECT 1 AS a", "found Create"),
    ("DELETE FROM raw.go1_enrollments", "found Delete"),
    ("SELECT 1 AS a;\nSELECT 2 AS a;", "found 2 statements (Select, Select)"),
    ("-- nothing but a comment\n", "found nothing"),
])
def test_a_model_must_be_one_query(tmp_path: Path, text: str, found: str) -> None:
    message = error_of(tmp_path, {"marts/x.sql": text})
    assert message == f"models/marts/x.sql: a model must be one query (SELECT/WITH), {found}"


def test_unions_and_ctes_are_queries(tmp_path: Path) -> None:
    project = load(tmp_path, {
        "staging/u.sql": "SELECT 1 AS a UNION ALL SELECT 2 AS a;\n",
        "staging/w.sql": "WITH t AS (SELECT 1 AS a) SELECT a FROM t\n",
        "staging/f.sql": "FROM {{ ref('w') }} SELECT a\n",
    })
    assert set(project.models) == {"u", "w", "f"}


def test_vars_render_as_quoted_literals(tmp_path: Path) -> None:
    project = load(tmp_path, {"marts/x.sql": """\
SELECT {{ var('portal_url') }} AS url,
       {{ var('title') }} AS title,
       {{ var('limit_days', 30) }} AS days,
       {{ var('missing_with_default', 'fr') }} AS lang
"""}, title="it's -- not a comment")
    sql = project.models["x"].sql
    assert "'https://acme.mygo1.com' AS url" in sql
    assert "'it''s -- not a comment' AS title" in sql
    assert "30 AS days" in sql and "'fr' AS lang" in sql


def test_a_missing_var_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"marts/x.sql": "SELECT {{ var('tenant') }} AS t\n"})
    assert message == "models/marts/x.sql: var('tenant') is not set and has no default"


def test_a_described_column_must_exist(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"marts/x.sql": """\
{{ column('progres', 'typo of progress') }}
SELECT 100 AS progress
"""})
    assert message.startswith("models/marts/x.sql: column('progres') is not a column")


def test_bad_declarations_are_refused(tmp_path: Path) -> None:
    assert "materialized='ephemeral'" in error_of(tmp_path / "a", {
        "marts/x.sql": "{{ config(materialized='ephemeral') }}\nSELECT 1 AS a\n"})
    assert "audit('primary_key')" in error_of(tmp_path / "b", {
        "marts/y.sql": "{{ audit('primary_key', columns=['a']) }}\nSELECT 1 AS a\n"})
    assert "audit('unique') does not take column_names" in error_of(tmp_path / "c", {
        "marts/y.sql": "{{ audit('unique', column_names=['a']) }}\nSELECT 1 AS a\n"})
    assert "audit('not_null') needs columns" in error_of(tmp_path / "e", {
        "marts/y.sql": "{{ audit('not_null') }}\nSELECT 1 AS a\n"})
    assert "ref('elsewhere') names no model" in error_of(tmp_path / "f", {"marts/y.sql": (
        "{{ audit('relationships', column='a', to='elsewhere', field='id') }}\n"
        "SELECT 1 AS a\n")})
    assert "source('staging', 'x')" in error_of(tmp_path / "d", {
        "marts/z.sql": "SELECT * FROM {{ source('staging', 'x') }}\n"})


def test_a_seed_header_declares_types(tmp_path: Path) -> None:
    project = load(tmp_path, {"seeds/m.csv": "code,lang,priority:INTEGER,since:DATE\n"})
    assert [(c.name, c.type) for c in project.models["m"].seed_columns] == [
        ("code", "VARCHAR"), ("lang", "VARCHAR"), ("priority", "INT"), ("since", "DATE")]
    message = error_of(tmp_path, {"seeds/m.csv": "code,priority:NUMBERISH\n"})
    assert message.startswith("models/seeds/m.csv: column 'priority' has an unknown type")


def test_fingerprint_ignores_layout_comments_and_case(tmp_path: Path) -> None:
    before = load(tmp_path / "a", BASE)
    reformatted = dict(BASE)
    reformatted["marts/content.sql"] = """\
{{ audit('unique', columns=['external_id']) }}
{{ config(materialized='table') }}
{{ column('launch_url', "Spec: the portal URL, then /play/ and the object's id") }}
/* the content catalogue, one row per object */
{{ audit('not_null', columns=['external_id', 'name']) }}
{{ audit('accepted_values', column='content_type', values=['course', 'video']) }}
select O.ID as EXTERNAL_ID, o.title as name, M.Content_Type,  -- the mapped type
  {{ var('portal_url') }} || '/play/' || o.id as launch_url
from {{ ref('stg_objects') }} as o join {{ ref('type_map') }} as m
  on m.go1_type = o.go1_type
"""
    after = load(tmp_path / "b", reformatted)
    for name in BASE_NAMES:
        assert before.model(name).fingerprint == after.model(name).fingerprint, name
        assert (before.model(name).metadata_fingerprint
                == after.model(name).metadata_fingerprint), name


def fingerprints(project: Project) -> dict[str, tuple[str, str]]:
    """Each model's (data, metadata) fingerprints."""
    return {n: (m.fingerprint, m.metadata_fingerprint) for n, m in project.models.items()}


def test_a_semantic_edit_changes_the_model_and_its_descendants_only(tmp_path: Path) -> None:
    before = fingerprints(load(tmp_path / "a", BASE))
    edited = dict(BASE)
    edited["staging/stg_objects.sql"] = BASE["staging/stg_objects.sql"].replace(
        "record->>'title'", "trim(record->>'title')")
    after = fingerprints(load(tmp_path / "b", edited))
    changed = {name for name in BASE_NAMES if after[name][0] != before[name][0]}
    assert changed == {"stg_objects", "content"}  # the model and its descendant
    assert all(after[name][1] == before[name][1] for name in BASE_NAMES)  # no docs changed


@pytest.mark.parametrize("edit", [
    pytest.param(("record->>'title' AS title", "record->>'name' AS title"), id="sql"),
    pytest.param(("materialized='view'", "materialized='table'"), id="kind"),
    pytest.param(("source('raw', 'go1_learning_objects_latest')",
                  "source('raw', 'go1_learning_objects')"), id="source"),
])
def test_what_a_model_computes_is_its_data_version(
        tmp_path: Path, edit: tuple[str, str]) -> None:
    assert edit[0] in BASE["staging/stg_objects.sql"]
    edited = {**BASE, "staging/stg_objects.sql": BASE["staging/stg_objects.sql"].replace(*edit)}
    before, after = fingerprints(load(tmp_path / "a", BASE)), fingerprints(
        load(tmp_path / "b", edited))
    for name in ("stg_objects", "content"):  # content reads stg_objects: its data is new too
        assert after[name][0] != before[name][0], name
        assert after[name][1] == before[name][1], name
    assert after["stg_users"] == before["stg_users"]


CONTENT = BASE["marts/content.sql"]
RELATIONSHIPS = "{{ audit('relationships', column='external_id', to='stg_users', field='id') }}\n"
CUSTOM_AUDIT = ("{% call audit_query('known_objects', blocking=False) %}\n"
                "SELECT c.* FROM {{ this }} AS c\n"
                "LEFT JOIN {{ ref('stg_users') }} AS u ON u.id = c.external_id\n"
                "JOIN {{ source('raw', 'go1_enrollments_latest') }} AS e\n"
                "  ON e.lo_id = c.external_id\n"
                "WHERE u.id IS NULL\n{% endcall %}\n")


@pytest.mark.parametrize("edited", [
    pytest.param(CONTENT.replace("/play/ and the object's id", "/play/, then the id"),
                 id="column-comment"),
    pytest.param("{{ column('name', 'Spec: title -> name') }}\n" + CONTENT,
                 id="column-comment-added"),
    pytest.param("{{ config(description='The catalogue, one row per object') }}\n" + CONTENT,
                 id="description"),
    pytest.param(CONTENT.replace("values=['course', 'video']",
                                 "values=['course', 'video', 'article']"), id="audit-edited"),
    pytest.param(CONTENT.replace("columns=['external_id'])",
                                 "columns=['external_id'], blocking=False)"), id="audit-blocking"),
    pytest.param("{{ audit('not_null', columns=['launch_url']) }}\n" + CONTENT,
                 id="audit-added"),
    pytest.param(RELATIONSHIPS + CONTENT, id="relationships-audit-added"),
    pytest.param(CUSTOM_AUDIT + CONTENT, id="audit-query-added"),
])
def test_docs_and_audits_change_the_metadata_version_only(
        tmp_path: Path, edited: str) -> None:
    """A doc or audit edit changes no row: no model's data version moves, only the edited
    model's metadata version does (a model only an audit reads is no parent of the data)."""
    assert edited != CONTENT
    before = fingerprints(load(tmp_path / "a", BASE))
    after = fingerprints(load(tmp_path / "b", {**BASE, "marts/content.sql": edited}))
    assert {name: data for name, (data, _) in after.items()} == {
        name: data for name, (data, _) in before.items()}
    assert after["content"][1] != before["content"][1]
    assert all(after[name][1] == before[name][1] for name in BASE_NAMES if name != "content")


def test_a_model_only_an_audit_reads_is_still_built_first(tmp_path: Path) -> None:
    project = load(tmp_path, {**BASE, "marts/content.sql": RELATIONSHIPS + CUSTOM_AUDIT + CONTENT})
    content = project.model("content")
    assert set(content.parents) == {"stg_objects", "type_map", "stg_users"}
    assert "raw.go1_enrollments_latest" in content.sources
    assert list(project.models).index("stg_users") < list(project.models).index("content")
    assert [m.name for m in project.selection({"content"})] == list(BASE_NAMES)


def test_a_parents_docs_do_not_reach_its_children(tmp_path: Path) -> None:
    before = fingerprints(load(tmp_path / "a", BASE))
    edited = {**BASE, "staging/stg_objects.sql": BASE["staging/stg_objects.sql"].replace(
        "One row per Go1 learning object", "Each Go1 learning object, latest version")}
    after = fingerprints(load(tmp_path / "b", edited))
    assert after["stg_objects"][0] == before["stg_objects"][0]
    assert after["stg_objects"][1] != before["stg_objects"][1]
    assert after["content"] == before["content"]


def test_a_seed_edit_changes_its_dependants(tmp_path: Path) -> None:
    before = load(tmp_path / "a", BASE)
    edited = dict(BASE)
    edited["seeds/type_map.csv"] = BASE["seeds/type_map.csv"] + "article,course,3\n"
    after = load(tmp_path / "b", edited)
    assert after.model("type_map").fingerprint != before.model("type_map").fingerprint
    assert after.model("content").fingerprint != before.model("content").fingerprint
    assert after.model("stg_objects").fingerprint == before.model("stg_objects").fingerprint


def test_lineage_shows_every_edge(tmp_path: Path) -> None:
    project = load(tmp_path, BASE)
    text = lineage_text(project)
    short = short_fingerprint(project.model("content").fingerprint)
    assert len(short) == 12 and project.model("content").fingerprint.startswith(short)
    assert f"marts.content (table, {short})\n" in text
    assert "  <- staging.stg_objects (view)\n  <- seeds.type_map (seed)" in text
    assert "  <- raw.go1_learning_objects_latest (source)" in text
    mermaid = lineage_mermaid(project)
    assert mermaid.startswith("flowchart LR\n")
    assert "staging__stg_objects --> marts__content" in mermaid
    assert "seeds__type_map --> marts__content" in mermaid
    assert "raw__go1_learning_objects_latest --> staging__stg_objects" in mermaid
    dot = lineage_dot(project)
    assert dot.startswith("digraph lineage {")
    assert '"seeds.type_map" -> "marts.content";' in dot
    assert '"raw.go1_user_accounts_latest" -> "staging.stg_users";' in dot
    assert '"raw.go1_user_accounts_latest" [shape=cylinder];' in dot
