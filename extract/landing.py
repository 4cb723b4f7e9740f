"""Landing raw pages in DuckDB, set-based.

Response bodies go to DuckDB as text and DuckDB splits them into records (``$.hits[*]``), hashes
and keys them: no Python loop over records, which keeps landing far above 50,000 records/s.
Rows go straight into the raw table inside the stream's transaction (so memory does not grow
with the stream); :func:`settle` then removes what is not new: a second copy of a key read twice
in this run (overlapping windows) and a version identical to the one already stored.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
from sqlglot import exp, parse_one


@dataclass(frozen=True)
class RawTable:
    """A raw landing table: where records go and which JSON field is their key."""

    name: str
    key_column: str
    key_path: str
    order_path: str | None = None  # within a run, the version with the largest value wins

    def sql(self, template: str) -> str:
        """Fill the table and key names into a query, quoted by sqlglot (once per query)."""
        return _render(self, template)


@functools.cache
def _render(table: RawTable, template: str) -> str:
    name = exp.to_table(table.name).sql("duckdb")
    key = exp.to_identifier(table.key_column).sql("duckdb")
    rendered = template.replace("{table}", name).replace("{key}", key)
    return parse_one(rendered, read="duckdb").sql("duckdb")


LEARNING_OBJECTS = RawTable("raw.go1_learning_objects", "lo_id", "$.lo_id", "$.updated_time")
ENROLLMENTS = RawTable("raw.go1_enrollments", "enrollment_id", "$.id", "$.updated_time")
USER_ACCOUNTS = RawTable("raw.go1_user_accounts", "user_account_id", "$.id")

HITS = "$.hits[*]"
HITS_WITH_EMAIL = "$.hits[*] with user.email"
WHOLE_BODY = "$"
_RECORDS = {
    HITS: "json_extract(json(body), '$.hits[*]')",  # a list page: one record per hit
    # the user-account list: only hits that carry an email are accounts worth a version
    HITS_WITH_EMAIL: "[h FOR h IN CAST(json_extract(json(body), '$.hits[*]') AS JSON[]) "
                     "IF nullif(trim(h ->> '$.user.email'), '') IS NOT NULL]",
    WHOLE_BODY: "[json(body)]",  # a single-object response: the body is the record
}

_INSERT = """
INSERT INTO {table} (_run_id, _extracted_at, _record_hash, {key}, record)
SELECT $run_id, $extracted_at, md5(CAST(h AS VARCHAR)), json_extract_string(h, $key_path), h
FROM (
    SELECT unnest({records}) AS h
    FROM (SELECT unnest($bodies) AS body)
)
"""

_SETTLE = """
DELETE FROM {table} WHERE rowid IN (
    WITH current_run AS (
        SELECT rowid AS rid, coalesce({key}, _record_hash) AS k, {key} AS key_value,
               _record_hash, _extracted_at
        FROM {table} WHERE _run_id = $run_id
    ),
    read_twice AS (
        SELECT k FROM current_run GROUP BY k HAVING count(*) > 1
    ),
    later_copies AS (
        -- Only keys read more than once this run need their records' timestamps: reading
        -- every record's JSON here would cost memory in proportion to the whole run.
        SELECT c.rid,
               row_number() OVER (
                   PARTITION BY c.k
                   ORDER BY try_cast(json_extract_string(t.record, $order_path) AS TIMESTAMPTZ)
                            DESC NULLS LAST,
                            c._extracted_at DESC) AS copy
        FROM current_run AS c
        JOIN read_twice USING (k)
        JOIN {table} AS t ON t.rowid = c.rid
    ),
    before_run AS (
        SELECT {key} AS key_value, arg_max(_record_hash, (_run_id, _extracted_at)) AS hash
        FROM {table}
        WHERE _run_id < $run_id AND {key} IS NOT NULL
        GROUP BY {key}
    )
    SELECT rid FROM later_copies WHERE copy > 1
    UNION
    SELECT c.rid FROM current_run AS c
    JOIN before_run AS b ON b.key_value = c.key_value AND b.hash = c._record_hash
)
"""


_COUNT = "SELECT count(*) FROM {table} WHERE _run_id = $run_id"

# The keys of the records one body holds, by the same expression the insert lands them with.
_KEYS = """
SELECT list(json_extract_string(h, $key_path))
FROM (SELECT unnest({records}) AS h FROM (SELECT $body AS body))
"""


def prepare_statements() -> None:
    """Render every landing statement now, before requests are in flight.

    The first render imports sqlglot's DuckDB dialect and parses (about 40 ms, holding the
    GIL); done lazily, that happened at a stream's first landing, while the worker threads
    had pages waiting to be read. Rendered statements are cached for the process.
    """
    for table in (LEARNING_OBJECTS, ENROLLMENTS, USER_ACCOUNTS):
        for records in _RECORDS.values():
            table.sql(_INSERT.replace("{records}", records))
            table.sql(_KEYS.replace("{records}", records))
        table.sql(_SETTLE)
        table.sql(_COUNT)


def land_bodies(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int,
                extracted_at: datetime, bodies: Sequence[str], hits_path: str = HITS) -> int:
    """Insert every record of the given response bodies; return how many were inserted.

    ``hits_path`` is :data:`HITS` for list pages, :data:`WHOLE_BODY` for one-object responses.
    """
    if not bodies:
        return 0
    row = con.execute(  # DuckDB answers an INSERT with the count of rows it inserted
        table.sql(_INSERT.replace("{records}", _RECORDS[hits_path])),
        {"run_id": run_id, "extracted_at": extracted_at, "key_path": table.key_path,
         "bodies": list(bodies)},
    ).fetchone()
    return int(row[0]) if row else 0


def record_keys(con: duckdb.DuckDBPyConnection, table: RawTable, body: str,
                hits_path: str = HITS) -> list[str | None]:
    """The key of each record :func:`land_bodies` would land from ``body`` (None for a record
    without one), read by DuckDB with the same expression, so which records count is decided
    in one place: the user-account list tells from its hits with an email whether it carries
    emails at all, and which accounts it saves reading one by one."""
    row = con.execute(table.sql(_KEYS.replace("{records}", _RECORDS[hits_path])),
                      {"key_path": table.key_path, "body": body}).fetchone()
    return list(row[0]) if row and row[0] else []


def settle(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int) -> int:
    """Drop this run's duplicate and unchanged rows; return the rows the run really landed."""
    con.execute(table.sql(_SETTLE),
                {"run_id": run_id, "order_path": table.order_path or "$.__none__"})
    row = con.execute(table.sql(_COUNT), {"run_id": run_id}).fetchone()
    return int(row[0]) if row else 0
