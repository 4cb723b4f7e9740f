"""sqlglot helpers: parse one query with source line numbers, normalise it, build statements.

Every statement the runner executes is built from sqlglot trees, and every identifier or
literal it adds is quoted by sqlglot, so a model or a comment text can never break out of
the statement it is placed in.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from warehouse.models.errors import ModelError

DIALECT = "duckdb"


def parse_query(sql: str, where: str, line_map: Sequence[int] = (),
                what: str = "a model") -> exp.Query:
    """Parse ``sql`` as exactly one query, or raise a one-line error at the source line.

    ``line_map[i]`` is the source line of rendered line ``i + 1`` (see ``rendering``); with
    no map the rendered line is reported as is.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line = _source_line(int(first.get("line") or 1), line_map)
        description = first.get("description") or str(exc).splitlines()[0]
        near = str(first.get("highlight") or "").strip()
        hint = f" (near '{near}')" if near else ""
        raise ModelError(f"{where} line {line}: {description}{hint}") from None
    except TokenError as exc:
        line = _source_line(_token_error_line(sql, str(exc)), line_map)
        raise ModelError(f"{where} line {line}: {' '.join(str(exc).split())}") from None
    if not statements:
        raise ModelError(f"{where}: {what} must be one query (SELECT/WITH), found nothing")
    if len(statements) > 1:
        kinds = ", ".join(type(s).__name__ for s in statements)
        raise ModelError(
            f"{where}: {what} must be one query (SELECT/WITH), "
            f"found {len(statements)} statements ({kinds})")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise ModelError(
            f"{where}: {what} must be one query (SELECT/WITH), found {type(statement).__name__}")
    return statement


def _source_line(rendered_line: int, line_map: Sequence[int]) -> int:
    if 1 <= rendered_line <= len(line_map):
        return line_map[rendered_line - 1]
    return rendered_line


def _token_error_line(sql: str, message: str) -> int:
    """sqlglot's tokenizer names the text around the error but no line: find that text."""
    start, end = message.find("'"), message.rfind("'")
    context = message[start + 1:end] if 0 <= start < end else ""
    at = sql.find(context) if context else -1
    return sql[:at + len(context)].count("\n") + 1 if at >= 0 else 1


def normalised(query: exp.Query) -> str:
    """The query's canonical text: no comments, one line, keyword and identifier case folded.

    This is what a fingerprint hashes, so reformatting a model does not make it a new
    version while any change to what it computes does.
    """
    return query.sql(dialect=DIALECT, normalize=True, comments=False, pretty=False)


def table(schema: str, name: str) -> exp.Table:
    return exp.table_(name, db=schema, quoted=True)


def quoted_table(schema: str, name: str) -> str:
    """``"schema"."name"``, what ``ref()``, ``source()`` and ``this`` render to."""
    return table(schema, name).sql(dialect=DIALECT)


def quoted_column(name: str) -> str:
    return exp.column(name, quoted=True).sql(dialect=DIALECT)


def literal(value: object) -> str:
    """A Python value as a SQL literal: strings quoted and escaped, numbers as numbers."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return exp.Literal.number(value).sql(dialect=DIALECT)
    return exp.Literal.string(str(value)).sql(dialect=DIALECT)


def create_statement(schema: str, name: str, kind: str, query: exp.Query) -> str:
    """``CREATE OR REPLACE VIEW|TABLE "schema"."name" AS <query>``, built from the tree."""
    create = exp.Create(this=table(schema, name), kind=kind.upper(),
                        expression=query.copy(), replace=True)
    return create.sql(dialect=DIALECT, pretty=True)


def increment_statements(schema: str, name: str, key: str, kind: str, query: exp.Query,
                         touched: str) -> list[str]:
    """An incremental model's delete+insert, built from the tree: the new rows into a temp
    table, out with the touched keys' rows and those the new rows replace, in with the new
    rows, their keys added to the touched ones of ``kind``."""
    target = table(schema, name).sql(dialect=DIALECT)
    batch = exp.to_identifier(f"_increment_{name}", quoted=True).sql(dialect=DIALECT)
    column = exp.to_identifier(key, quoted=True).sql(dialect=DIALECT)
    kind_literal = exp.Literal.string(kind).sql(dialect=DIALECT)
    return [
        f"CREATE OR REPLACE TEMP TABLE {batch} AS {query.sql(dialect=DIALECT)}",
        f"DELETE FROM {target} WHERE {column} IN (SELECT touched_key FROM {touched} "
        f"WHERE kind = {kind_literal}) OR {column} IN (SELECT {column} FROM {batch})",
        f"INSERT INTO {target} BY NAME SELECT * FROM {batch}",
        f"INSERT INTO {touched} SELECT DISTINCT {kind_literal}, CAST({column} AS VARCHAR) "
        f"FROM {batch} WHERE {column} IS NOT NULL",
        f"DROP TABLE {batch}",
    ]


def comment_column_statement(schema: str, name: str, column: str, text: str) -> str:
    target = exp.column(column, table=name, db=schema, quoted=True)
    comment = exp.Comment(this=target, kind="COLUMN", expression=exp.Literal.string(text))
    return comment.sql(dialect=DIALECT)


def comment_relation_statement(schema: str, name: str, kind: str, text: str) -> str:
    comment = exp.Comment(this=table(schema, name), kind=kind.upper(),
                          expression=exp.Literal.string(text))
    return comment.sql(dialect=DIALECT)


def output_columns(query: exp.Query) -> list[str] | None:
    """The column names a query produces, or None when only the warehouse can tell (``*``)."""
    while isinstance(query, exp.SetOperation):
        left = query.left
        if not isinstance(left, exp.Query):
            return None
        query = left
    if isinstance(query, exp.Subquery):
        inner = query.this
        return output_columns(inner) if isinstance(inner, exp.Query) else None
    selects = query.selects
    if not selects or any(s.is_star or not s.output_name for s in selects):
        return None
    return [s.output_name for s in selects]
