"""Audits: queries that return a model's bad rows, dbt-style; zero rows means the audit passes.

The built-in kinds (unique, not_null, accepted_values, relationships) are written here once,
as SQL built with quoted identifiers and literals; a custom audit is the analyst's own query
from an ``audit_query`` block. They run after every model of a run is materialised, inside
the run's transaction, so a blocking failure can still undo the whole run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlglot import exp

from warehouse.models.results import AuditResult
from warehouse.models.sql import DIALECT, literal, parse_query, quoted_column

SAMPLE_ROWS = 3


@dataclass(frozen=True)
class Audit:
    """An audit of one model: ``query`` selects the offending rows."""

    name: str
    kind: str  # unique | not_null | accepted_values | relationships | query
    blocking: bool
    query: exp.Query


_TAKES = {
    "unique": {"columns", "column"},
    "not_null": {"columns", "column"},
    "accepted_values": {"column", "values"},
    "relationships": {"column", "to", "field"},
}
BUILTIN_KINDS = tuple(_TAKES)


def builtin_audit(kind: object, options: Mapping[str, Any], this: str,
                  resolve: Callable[[str], str], where: str) -> Audit:
    """Validate an ``audit(kind, …)`` call and build its query against ``this`` (quoted).

    ``resolve`` turns a model name into its quoted table and raises for an unknown one.
    """
    if kind not in _TAKES:
        raise ValueError(f"audit({kind!r}) is not one of {', '.join(BUILTIN_KINDS)} "
                         "(write a custom one with {% call audit_query('name') %})")
    assert isinstance(kind, str)
    extra = set(options) - _TAKES[kind] - {"blocking", "name"}
    if extra:
        raise ValueError(f"audit({kind!r}) does not take {', '.join(sorted(extra))}")
    blocking = options.get("blocking", True)
    if not isinstance(blocking, bool):
        raise ValueError(f"audit({kind!r}): blocking must be True or False")
    if kind in ("unique", "not_null"):
        columns = _columns(kind, options)
        cols = [quoted_column(c) for c in columns]
        default_name = f"{kind}_{'_'.join(columns)}"
        if kind == "unique":
            present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
            sql = (f"SELECT * FROM {this} WHERE {present} "
                   f"QUALIFY count(*) OVER (PARTITION BY {', '.join(cols)}) > 1")
        else:
            missing = " OR ".join(f"{c} IS NULL" for c in cols)
            sql = f"SELECT * FROM {this} WHERE {missing}"
    elif kind == "accepted_values":
        column = _text(kind, options, "column")
        values = options.get("values")
        if not isinstance(values, list | tuple) or not values or not all(
                isinstance(v, str | int | float) for v in values):
            raise ValueError(f"audit({kind!r}) needs values=[...] (strings or numbers)")
        col = quoted_column(column)
        listed = ", ".join(literal(v) for v in values)
        default_name = f"{kind}_{column}"
        sql = f"SELECT * FROM {this} WHERE {col} IS NOT NULL AND {col} NOT IN ({listed})"
    else:
        column = _text(kind, options, "column")
        target = _text(kind, options, "to")
        field = _text(kind, options, "field")
        parent = resolve(target)
        default_name = f"{kind}_{column}"
        sql = (f"SELECT _child.* FROM {this} AS _child "
               f"WHERE _child.{quoted_column(column)} IS NOT NULL AND NOT EXISTS ("
               f"SELECT 1 FROM {parent} AS _parent "
               f"WHERE _parent.{quoted_column(field)} = _child.{quoted_column(column)})")
    name = options.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise ValueError(f"audit({kind!r}): name must be a non-empty string")
    return Audit(name, kind, blocking, parse_query(sql, where, what="an audit"))


def _columns(kind: str, options: Mapping[str, Any]) -> list[str]:
    columns = options.get("columns", [options["column"]] if "column" in options else None)
    if (not isinstance(columns, list | tuple) or not columns
            or not all(isinstance(c, str) and c for c in columns)):
        raise ValueError(f"audit({kind!r}) needs columns=['...']")
    return list(columns)


def _text(kind: str, options: Mapping[str, Any], key: str) -> str:
    value = options.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"audit({kind!r}) needs {key}='...'")
    return value


def run_audit(con: duckdb.DuckDBPyConnection, model: str, audit: Audit) -> AuditResult:
    """Count the audit's rows and keep a few of them (as JSON-safe dicts) to show."""
    bad = audit.query.subquery("audit_rows")
    count_sql = exp.select("count(*)").from_(bad).sql(dialect=DIALECT)
    row = con.execute(count_sql).fetchone()
    failing = int(row[0]) if row else 0
    sample: list[dict[str, Any]] = []
    if failing:
        cursor = con.execute(
            exp.select("*").from_(bad.copy()).limit(SAMPLE_ROWS).sql(dialect=DIALECT))
        names = [d[0] for d in cursor.description or []]
        sample = [json.loads(json.dumps(dict(zip(names, r, strict=True)), default=str))
                  for r in cursor.fetchall()]
    return AuditResult(model, audit.name, audit.blocking, failing, sample)


def describe_failure(result: AuditResult) -> str:
    """``model x, audit unique_id: 2 bad rows, e.g. {...}; {...}`` on one line."""
    rows = "; ".join(json.dumps(r, default=str, ensure_ascii=False) for r in result.sample)
    plural = "row" if result.failing_rows == 1 else "rows"
    return (f"model {result.model}, audit {result.audit}: {result.failing_rows} bad {plural}"
            + (f", e.g. {rows}" if rows else ""))
