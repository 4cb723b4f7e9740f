"""Running a project: seeds, models and audits in one transaction, recorded in ``meta``.

All or nothing: a DuckDB error or a failing blocking audit rolls the whole run back, so the
marts the loader reads are always the output of one complete, audited run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Iterable, Mapping
from contextlib import suppress

import duckdb
from sqlglot import exp

from warehouse.models.audits import Audit, describe_failure, run_audit
from warehouse.models.errors import AuditFailure, ModelError
from warehouse.models.history import last_fingerprints, record_audits, record_models
from warehouse.models.project import Model, Project
from warehouse.models.rendering import TOUCHED_TABLE
from warehouse.models.results import AuditResult, ModelResult, RunResult
from warehouse.models.sql import (
    comment_column_statement,
    comment_relation_statement,
    create_statement,
    increment_statements,
)


def run_project(con: duckdb.DuckDBPyConnection, project: Project, run_id: int,
                select: Iterable[str] | None = None, *,
                with_upstream: bool = True,
                touched: Mapping[str, Collection[str]] | None = None) -> RunResult:
    """Materialise the project (or ``select`` and its upstream, or ``select`` alone when not
    ``with_upstream``: a benchmark that builds the marts itself), audit it, record it, commit.

    Raises :class:`ModelError` naming the file on a DuckDB error, and :class:`AuditFailure`
    when a blocking audit finds rows; in both cases nothing of the run stays, except the
    failing audits' rows in ``meta.audit_results`` so ``status`` can say why the run stopped.
    """
    previous = last_fingerprints(con)
    if touched is not None and _can_increment(con, project, previous):
        chosen = [m for m in project.models.values() if m.incremental]
    else:
        touched = None
        chosen = project.selection(set(select) if select is not None else None,
                                   with_upstream=with_upstream)
    _check_sources(con, chosen)
    con.execute("BEGIN TRANSACTION")
    try:
        if touched is None:
            built = [_materialise(con, model, previous) for model in chosen]
            audits = [_audit(con, model, audit) for model in chosen for audit in model.audits]
        else:
            _fill_touched(con, touched)
            built = [_increment(con, model) for model in chosen]
            # the rows a micro-run replaced are audited; the others passed when they were built
            audits = [_audit(con, model, scoped_audit(audit, model)) for model in chosen
                      for audit in model.audits]
        result = RunResult(run_id, [built_one for _, built_one, _ in built], audits)
        failed = result.failed_audits
        if not any(a.blocking for a in failed):
            record_models(con, run_id, project, built)
            record_audits(con, run_id, audits)
            con.execute("COMMIT")
            return result
    except duckdb.Error as exc:
        _rollback(con)
        raise ModelError(f"cannot record the models run: {_first_lines(exc)}") from exc
    except BaseException:
        _rollback(con)
        raise
    _rollback(con)
    _record_failure(con, run_id, failed)
    blocking = [a for a in failed if a.blocking]
    raise AuditFailure(
        "a blocking audit failed, the run was rolled back: "
        + " | ".join(describe_failure(a) for a in blocking),
        sorted(failed, key=lambda a: not a.blocking),
    )


def _can_increment(con: duckdb.DuckDBPyConnection, project: Project,
                   previous: dict[str, str]) -> bool:
    """A micro-run replaces rows only where every model is the version that built the
    warehouse's tables: a model edited since, or a table missing, means a full build (the
    rows it did not touch would be the old version's)."""
    if any(previous.get(m.name) != m.fingerprint for m in project.models.values()
           if m.kind != "seed"):
        return False
    tables = {(str(s), str(t)) for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database()").fetchall()}
    return all((m.schema, m.name) in tables for m in project.models.values() if m.incremental)


def scoped_audit(audit: Audit, model: Model) -> Audit:
    """``audit`` over the rows of the keys a micro-run touched: each reference to the model's
    own table reads only those rows (its unique audits are on its key, so this is sound).
    Other tables an audit reads (a relationship's parent) stay whole."""
    assert model.unique_key and model.key_kind
    keep = exp.column(model.unique_key, quoted=True).isin(
        query=exp.select("touched_key").from_(TOUCHED_TABLE).where(
            exp.column("kind").eq(exp.Literal.string(model.key_kind))))

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == model.name and node.db == model.schema:
            rows = exp.select("*").from_(exp.table_(model.name, db=model.schema, quoted=True))
            alias = exp.TableAlias(this=exp.to_identifier(node.alias or model.name, quoted=True))
            return exp.Subquery(this=rows.where(keep), alias=alias)
        return node

    scoped = audit.query.transform(swap)
    assert isinstance(scoped, exp.Query)
    return dataclasses.replace(audit, query=scoped)


def _fill_touched(con: duckdb.DuckDBPyConnection,
                  touched: Mapping[str, Collection[str]]) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED_TABLE.split('.')[-1]} "
                "(kind VARCHAR, touched_key VARCHAR)")
    for kind, keys in touched.items():
        if keys:
            con.execute(f"INSERT INTO {TOUCHED_TABLE} SELECT ?, unnest(?)",
                        [kind, sorted(set(map(str, keys)))])


def _increment(con: duckdb.DuckDBPyConnection,
               model: Model) -> tuple[Model, ModelResult, str]:
    """Replace the rows of the keys the micro-run touched: build the model's incremental
    query, delete the touched keys' rows and those the new rows replace, insert the new rows,
    and add their keys to the touched ones, so the models downstream rebuild them too."""
    started = time.perf_counter()
    assert model.incremental_query is not None and model.unique_key and model.key_kind
    statements = increment_statements(model.schema, model.name, model.unique_key,
                                      model.key_kind, model.incremental_query, TOUCHED_TABLE)
    try:
        for statement in statements:
            con.execute(statement)
        row = con.execute(f"SELECT count(*) FROM {model.table}").fetchone()
        rows = int(row[0]) if row else 0
    except duckdb.Error as exc:
        raise ModelError(f"{model.where} (incremental): {_first_lines(exc)}") from None
    result = ModelResult(model.name, model.kind, rows, time.perf_counter() - started,
                         model.fingerprint, model.metadata_fingerprint, False)
    return model, result, ";\n".join(statements)


def _check_sources(con: duckdb.DuckDBPyConnection, chosen: list[Model]) -> None:
    present = {(str(s).lower(), str(t).lower()) for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()").fetchall()}
    for model in chosen:
        for source in model.sources:
            schema, _, table = source.partition(".")
            if (schema.lower(), table.lower()) not in present:
                raise ModelError(f"{model.where}: source({schema!r}, {table!r}) is not a table "
                                 "or view of the warehouse")


def _materialise(con: duckdb.DuckDBPyConnection, model: Model,
                 previous: dict[str, str]) -> tuple[Model, ModelResult, str]:
    """Create the model's view or table, count it, comment its columns; time all of it."""
    started = time.perf_counter()
    if model.query is None:
        statement = model.sql
    else:
        statement = create_statement(model.schema, model.name, model.kind, model.query)
    try:
        _drop_if_other_kind(con, model)
        con.execute(statement)
        row = con.execute(f"SELECT count(*) FROM {model.table}").fetchone()
        rows = int(row[0]) if row else 0
        _comment(con, model)
    except duckdb.Error as exc:
        raise ModelError(f"{model.where}: {_first_lines(exc)}") from None
    changed = previous.get(model.name) != model.fingerprint  # the data version alone
    result = ModelResult(model.name, model.kind, rows, time.perf_counter() - started,
                         model.fingerprint, model.metadata_fingerprint, changed)
    return model, result, statement


def _drop_if_other_kind(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """``CREATE OR REPLACE`` cannot turn a view into a table (or back): drop the old one."""
    row = con.execute(
        "SELECT 'view' FROM duckdb_views() WHERE database_name = current_database() "
        "AND NOT internal AND schema_name = ? AND view_name = ? UNION ALL "
        "SELECT 'table' FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?",
        [model.schema, model.name, model.schema, model.name]).fetchone()
    wanted = "view" if model.kind == "view" else "table"
    if row and row[0] != wanted:
        con.execute(f"DROP {str(row[0]).upper()} {model.table}")


def _comment(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """Put each described column's rule on the column, and the description on the relation."""
    if model.description and model.kind != "seed":
        con.execute(comment_relation_statement(model.schema, model.name, model.kind,
                                               model.description))
    if not model.columns:
        return
    actual = [str(r[0]) for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [model.schema, model.name]).fetchall()]
    by_lower = {c.lower(): c for c in actual}
    for column, text in model.columns.items():
        if column.lower() not in by_lower:
            raise ModelError(f"{model.where}: column({column!r}) is not a column of the model "
                             f"(it produces {', '.join(actual)})")
        con.execute(comment_column_statement(model.schema, model.name,
                                             by_lower[column.lower()], text))


def _audit(con: duckdb.DuckDBPyConnection, model: Model, audit: Audit) -> AuditResult:
    try:
        return run_audit(con, model.name, audit)
    except duckdb.Error as exc:
        raise ModelError(f"{model.where}: audit {audit.name!r} cannot run: "
                         f"{_first_lines(exc)}") from None


def _record_failure(con: duckdb.DuckDBPyConnection, run_id: int,
                    failed: list[AuditResult]) -> None:
    """Keep the failing audits' outcome after the rollback, in a small transaction of its own.

    Recording is best effort: the audit failure is the error to report, not this.
    """
    try:
        con.execute("BEGIN TRANSACTION")
        record_audits(con, run_id, failed)
        con.execute("COMMIT")
    except duckdb.Error:
        _rollback(con)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):  # the transaction may already be gone
        con.execute("ROLLBACK")


def _first_lines(exc: BaseException) -> str:
    """DuckDB's message up to the ``LINE n:`` excerpt of SQL, on one line."""
    lines = []
    for line in str(exc).strip().splitlines():
        if not line.strip() or line.startswith("LINE "):
            break
        lines.append(line.strip())
    return " ".join(lines) or type(exc).__name__
