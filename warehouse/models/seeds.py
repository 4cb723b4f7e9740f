"""Seeds: small CSV tables kept with the models (language map, type map), typed by their header.

A header cell is ``name`` (VARCHAR) or ``name:TYPE``. The table is loaded with ``read_csv``
and explicit columns, never auto-detected, so a code like ``001`` or ``en`` keeps its text
and a file edit cannot silently change a column's type.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp
from sqlglot.errors import ParseError

from warehouse.models.errors import ModelError
from warehouse.models.sql import DIALECT, literal, quoted_table

SEED_SCHEMA = "seeds"


@dataclass(frozen=True)
class SeedColumn:
    name: str
    type: str


def read_header(data: bytes, where: str) -> list[SeedColumn]:
    """The seed's columns from its CSV header, types checked by sqlglot's DuckDB dialect."""
    text = data.decode("utf-8-sig", errors="replace")
    header = next(csv.reader(io.StringIO(text)), None)
    if not header:
        raise ModelError(f"{where}: a seed needs a header line (name,name:TYPE,...)")
    columns: list[SeedColumn] = []
    for cell in header:
        name, sep, type_name = cell.strip().partition(":")
        name = name.strip()
        if not name:
            raise ModelError(f"{where}: a header cell has no column name ({cell!r})")
        if any(c.name.lower() == name.lower() for c in columns):
            raise ModelError(f"{where}: column {name!r} appears twice in the header")
        columns.append(SeedColumn(name, _type(type_name.strip(), where, name) if sep
                                  else "VARCHAR"))
    return columns


def _type(type_name: str, where: str, column: str) -> str:
    try:
        return exp.DataType.build(type_name, dialect=DIALECT).sql(dialect=DIALECT)
    except (ParseError, ValueError):
        raise ModelError(f"{where}: column {column!r} has an unknown type {type_name!r}") from None


def load_statement(name: str, path: Path, columns: list[SeedColumn]) -> str:
    """``CREATE OR REPLACE TABLE "seeds"."name" AS SELECT * FROM read_csv(...)``."""
    spec = ", ".join(f"{literal(c.name)}: {literal(c.type)}" for c in columns)
    return (
        f"CREATE OR REPLACE TABLE {quoted_table(SEED_SCHEMA, name)} AS SELECT * FROM read_csv("
        f"{literal(str(path.resolve()))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', columns = {{{spec}}})"
    )
