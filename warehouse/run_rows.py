"""Which tables carry the run that wrote each row (``_run_id``), and whether one holds rows of
a given run or of a later one: the raw tables' run ids are what tells a skipped run
(:mod:`warehouse.settled`) and a reconcile (``history.up_to_date``) that nothing landed."""

from __future__ import annotations

import duckdb
from sqlglot import exp

_WITH_RUN_IDS = """
SELECT c.schema_name, c.table_name FROM duckdb_columns() AS c
WHERE c.database_name = current_database() AND c.column_name = '_run_id'
  AND ($views OR EXISTS (SELECT 1 FROM duckdb_tables() AS t
                         WHERE t.database_name = c.database_name
                           AND t.schema_name = c.schema_name AND t.table_name = c.table_name))
ORDER BY c.schema_name, c.table_name
"""


def tables_with_run_ids(con: duckdb.DuckDBPyConnection, *,
                        views: bool = False) -> list[tuple[str, str]]:
    """(schema, name) of every base table with a ``_run_id`` column, and with ``views`` the
    views too (``raw.go1_enrollments_latest``, which a model may read instead of its table)."""
    return [(str(s), str(t)) for s, t in
            con.execute(_WITH_RUN_IDS, {"views": views}).fetchall()]


def holds_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str, run_id: int, *,
               after: bool = False) -> bool:
    """Whether ``schema.table`` holds a row of run ``run_id`` (``after``: of a later run)."""
    run_column, run = exp.column("_run_id"), exp.Placeholder(this="run")
    query = (exp.select("1").from_(exp.table_(table, db=schema, quoted=True))
             .where(run_column > run if after else run_column.eq(run)).limit(1))
    return con.execute(query.sql("duckdb"), {"run": run_id}).fetchone() is not None
