"""A run's record in ``meta``: each model's version, its SQL and size, and every audit outcome.

The record is what ties a pushed row back to the SQL that produced it (``compiled_sql`` and
``fingerprint`` per run), and what ``describe`` compares the project with. ``fingerprint`` is
the data fingerprint, the one compared; ``metadata_fingerprint`` (docs and audits) is kept
beside it so a run can still be told apart from one with other docs or audits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import duckdb

from warehouse.models.project import Model, Project
from warehouse.models.results import AuditResult, ModelInfo, ModelResult
from warehouse.run_rows import holds_rows, tables_with_run_ids


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?", [schema, name]).fetchone()
    return bool(row and row[0])


def _last_builds(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int]]:
    """Each model's data fingerprint and run id in the latest committed run that built it."""
    if not _has_table(con, "meta", "model_runs"):
        return {}  # a read-only warehouse from before the models migration
    rows = con.execute(
        "SELECT model, fingerprint, run_id FROM meta.model_runs "
        "QUALIFY row_number() OVER (PARTITION BY model ORDER BY run_id DESC) = 1").fetchall()
    return {str(model): (str(fingerprint), int(run)) for model, fingerprint, run in rows}


def last_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each model's data fingerprint in the latest committed run that built it."""
    return {model: fingerprint for model, (fingerprint, _) in _last_builds(con).items()}


def up_to_date(con: duckdb.DuckDBPyConnection, models: Iterable[Model]) -> bool:
    """Whether building ``models`` now would give back the tables they hold: each one's data
    version is the one that built it last, and none of their sources with run ids (the raw
    tables) holds a row landed after the oldest of those builds. Views compute on read, so
    only their version counts. Lets a command that needs the marts current (``reconcile``)
    rebuild only its own models, not everything from the raw tables."""
    built = _last_builds(con)
    chosen = list(models)
    if any(built.get(m.name, ("", 0))[0] != m.fingerprint for m in chosen):
        return False
    tables = [m for m in chosen if m.kind != "view"]
    if not tables:
        return True
    oldest = min(built[m.name][1] for m in tables)
    sources = {tuple(source.split(".", 1)) for m in tables for source in m.sources}
    return not any(holds_rows(con, schema, table, oldest, after=True)
                   for schema, table in tables_with_run_ids(con, views=True)
                   if (schema, table) in sources)


def describe(con: duckdb.DuckDBPyConnection | None, project: Project) -> list[ModelInfo]:
    """Every model with its versions and whether its data version differs from the last run
    that built it (a docs or audits edit alone does not count); ``con`` None: no warehouse
    yet, so nothing ran."""
    previous = last_fingerprints(con) if con is not None else {}
    return [
        ModelInfo(m.name, m.kind, m.fingerprint, m.metadata_fingerprint,
                  None if m.name not in previous else previous[m.name] != m.fingerprint)
        for m in project.models.values()
    ]


def record_models(con: duckdb.DuckDBPyConnection, run_id: int, project: Project,
                  built: Iterable[tuple[Model, ModelResult, str]]) -> None:
    """Insert one ``meta.model_runs`` row per model: (model, its result, the SQL executed)."""
    con.executemany(
        "INSERT INTO meta.model_runs (run_id, model, kind, fingerprint, metadata_fingerprint, "
        "parents, compiled_sql, rows, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, m.name, m.kind, m.fingerprint, m.metadata_fingerprint,
          json.dumps(_inputs(project, m)), statement, result.rows, result.seconds]
         for m, result, statement in built],
    )


def _inputs(project: Project, model: Model) -> list[str]:
    """The model's inputs as ``schema.table``: parent models and seeds, then sources."""
    return [project.models[p].qualified for p in model.parents] + list(model.sources)


def record_audits(con: duckdb.DuckDBPyConnection, run_id: int,
                  results: Iterable[AuditResult]) -> None:
    rows = [[run_id, a.model, a.audit, a.blocking, a.failing_rows,
             json.dumps(a.sample, default=str)] for a in results]
    if rows:
        con.executemany(
            "INSERT INTO meta.audit_results (run_id, model, audit, blocking, failing_rows, "
            "sample) VALUES (?, ?, ?, ?, ?, ?)", rows)
