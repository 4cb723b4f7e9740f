"""Numbered SQL migrations, applied once each and recorded in ``meta.schema_migrations``.

A migration is a file ``NNNN_name.sql`` beside this module. Each one runs in its own
transaction with its record, so a failed migration leaves the warehouse at the version before.
"""

from __future__ import annotations

import functools
import re
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError, fault_error

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


_SCHEMA = re.compile(r"CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)


@functools.cache
def warehouse_schemas(directory: Path = MIGRATIONS_DIR) -> frozenset[str]:
    """The schemas the migrations create (lower case): the migrations own the list. Read once
    a process: every warehouse path is checked against it."""
    return frozenset(name.lower() for m in available_migrations(directory)
                     for name in _SCHEMA.findall(m.sql))


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for file in sorted(directory.glob("*.sql")):
        match = _NAME.match(file.name)
        if not match:
            raise WarehouseError(f"migration file {file.name} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], file.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError("two migration files share a version number")
    return found


def apply_migrations(con: duckdb.DuckDBPyConnection, directory: Path = MIGRATIONS_DIR, *,
                     warehouse: Path | None = None) -> list[int]:
    """Apply the migrations not yet recorded; return the versions applied now.

    A local fault on the way (a corrupt or truncated file, which DuckDB may only notice when
    it reads the tables; a full disk) is told as such, naming ``warehouse``; the migration's
    own failure names the migration."""
    try:
        return _apply(con, directory)
    except (duckdb.Error, WarehouseError) as exc:
        known = fault_error(warehouse, exc)
        if known is None:
            raise
        raise known from exc


def _apply(con: duckdb.DuckDBPyConnection, directory: Path) -> list[int]:
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS meta.schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM meta.schema_migrations").fetchall()}
    applied = []
    for migration in available_migrations(directory):
        if migration.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO meta.schema_migrations VALUES (?, ?, now())",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with suppress(duckdb.Error):  # a COMMIT the disk refused ended the transaction
                con.execute("ROLLBACK")
            raise WarehouseError(
                f"migration {migration.version:04d}_{migration.name} failed: "
                f"{' '.join(str(exc).split())}"
            ) from exc
        applied.append(migration.version)
    return applied
