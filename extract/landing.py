"""Landing raw pages in DuckDB, set-based, and setting aside what DuckDB cannot land.

The fast path, nearly every page: response bodies go to DuckDB as text and DuckDB splits them
into records (``$.hits[*]``), hashes and keys them: no Python loop over records, which keeps
landing far above 50,000 records/s. Rows go straight into the raw table inside the stream's
transaction (so memory does not grow with the stream); :func:`settle` then removes what is not
new: a second copy of a key read twice in this run (overlapping windows) and a version
identical to the one already stored.

Two kinds of body take the per-hit path instead, found before anything is inserted (a failed
statement would abort the stream's whole transaction, and DuckDB has no savepoints):

- a body DuckDB's JSON reader refuses although Python's accepted it: one record holding a lone
  UTF-16 surrogate escape (``"\\ud83d"``, an emoji cut in half) would otherwise fail the whole
  page, every run;
- a body larger than a statement's share of the memory limit (:func:`piece_bytes`): a
  5,000-object catalog page of long descriptions is tens of MB, and DuckDB needs a few times a
  statement's input in memory.

Such a body is cut into the texts of its hits by Python's JSON scanner, slices of the body
itself, so each hit lands byte for byte as the fast path would land it (same hash, so settling
works across both paths); they land in pieces of at most :func:`piece_bytes`, and a hit DuckDB
cannot read becomes a row of ``raw.go1_rejects``, with its text and why, while the rest lands.
A hit that is not a JSON object (a number, a string, null, a list) lands like any other, cheaply,
and :func:`settle` moves it to ``raw.go1_rejects``: the raw tables hold objects only.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
from sqlglot import exp

from go1sync.settings import memory_bytes


@dataclass(frozen=True)
class RawTable:
    """A raw landing table: where records go, which JSON field is their key, and the stream
    named on its rejects."""

    name: str
    key_column: str
    key_path: str
    stream: str
    order_path: str | None = None  # within a run, the version with the largest value wins
    # keep every distinct record of a key read in one run (the catalog: two different records
    # of one lo_id are a duplicate the models reject, the newest going on), not the newest
    keep_versions: bool = False

    def sql(self, template: str) -> str:
        """Fill the table and key names, quoted by sqlglot, into one of this module's
        constant queries (once per query)."""
        return _render(self, template)

    @property
    def key_field(self) -> str:
        """The top-level field ``key_path`` names (``$.lo_id`` -> ``lo_id``)."""
        return self.key_path.removeprefix("$.")


@functools.cache
def _render(table: RawTable, template: str) -> str:
    name = exp.to_table(table.name).sql("duckdb")
    key = exp.to_identifier(table.key_column).sql("duckdb")
    rendered = template.replace(
        "{before_run}", _BEFORE_RUN_VERSIONS if table.keep_versions else _BEFORE_RUN).replace(
        "{table}", name).replace("{key}", key).replace(
        "{copy_of}", "c.k, c._record_hash" if table.keep_versions else "c.k").replace(
        "{versions}", "HAVING count(DISTINCT _record_hash) > 1" if table.keep_versions
        else "HAVING false")
    return rendered


LEARNING_OBJECTS = RawTable("raw.go1_learning_objects", "lo_id", "$.lo_id", "learning_objects",
                            "$.updated_time", keep_versions=True)
ENROLLMENTS = RawTable("raw.go1_enrollments", "enrollment_id", "$.id", "enrollments",
                       "$.updated_time")
USER_ACCOUNTS = RawTable("raw.go1_user_accounts", "user_account_id", "$.id", "user_accounts")

HITS = "$.hits[*]"
HITS_WITH_EMAIL = "$.hits[*] with user.email"
WHOLE_BODY = "$"
# The user-account list: only hits that carry an email are accounts worth a version. Its hits
# that cannot be read, or are no objects, are not rejects: that account is read by id instead.
_HAS_EMAIL = "nullif(trim(h ->> '$.user.email'), '') IS NOT NULL"
# The records of one body. No json(body) around a list page: json_extract reads the text
# itself, and json() of a large body in a subquery needed many times its size in memory.
_RECORDS = {
    HITS: "json_extract(body, '$.hits[*]')",  # a list page: one record per hit
    HITS_WITH_EMAIL: "[h FOR h IN CAST(json_extract(body, '$.hits[*]') AS JSON[]) "
                     f"IF {_HAS_EMAIL}]",
    WHOLE_BODY: "[json(body)]",  # a single-object response: the body is the record
}
# The same choice, for one record already cut out of its body (the per-hit path).
_KEEP = {HITS: "true", HITS_WITH_EMAIL: _HAS_EMAIL, WHOLE_BODY: "true"}

_INSERT = """
INSERT INTO {table} (_run_id, _extracted_at, _record_hash, {key}, record)
SELECT $run_id, $extracted_at, md5(CAST(h AS VARCHAR)), json_extract_string(h, $key_path), h
FROM (
    SELECT unnest({records}) AS h
    FROM (SELECT unnest($bodies) AS body)
)
"""

# One record per text: texts cut from a body, each one DuckDB reads (checked before).
_INSERT_HITS = """
INSERT INTO {table} (_run_id, _extracted_at, _record_hash, {key}, record)
SELECT $run_id, $extracted_at, md5(CAST(h AS VARCHAR)), json_extract_string(h, $key_path), h
FROM (SELECT json(t) AS h FROM (SELECT unnest($texts) AS t))
WHERE {keep}
"""

# Whether DuckDB's JSON reader takes each text, in order (json_valid reads as json() does).
_READABLE = "SELECT [json_valid(t) FOR t IN $texts]"

_INSERT_REJECTS = """
INSERT INTO raw.go1_rejects (_run_id, _extracted_at, stream, go1_key, reason, raw_text)
SELECT $run_id, $extracted_at, $stream, unnest($keys), unnest($reasons), unnest($texts)
"""

# Records that are no objects have no key: only those rows need their JSON read to tell.
_NOT_OBJECTS = ("_run_id = $run_id AND {key} IS NULL "
                "AND json_type(record) IS DISTINCT FROM 'OBJECT'")
_MOVE_NOT_OBJECTS = f"""
INSERT INTO raw.go1_rejects (_run_id, _extracted_at, stream, go1_key, reason, raw_text)
SELECT _run_id, _extracted_at, $stream, NULL,
       CASE json_type(record)
           WHEN 'ARRAY' THEN 'a list'
           WHEN 'VARCHAR' THEN 'a string'
           WHEN 'NULL' THEN 'null'
           WHEN 'BOOLEAN' THEN 'true or false'
           ELSE 'a number'
       END || ', not a JSON object',
       CAST(record AS VARCHAR)
FROM {{table}} WHERE {_NOT_OBJECTS}
"""
_DROP_NOT_OBJECTS = f"DELETE FROM {{table}} WHERE {_NOT_OBJECTS}"

# A page read twice in a run (a re-read window, a restarted scroll) rejects its record twice.
_SETTLE_REJECTS = """
DELETE FROM raw.go1_rejects WHERE rowid IN (
    SELECT rowid FROM (
        SELECT rowid, row_number() OVER (PARTITION BY raw_text ORDER BY rowid) AS copy
        FROM raw.go1_rejects WHERE _run_id = $run_id AND stream = $stream
    ) WHERE copy > 1
)
"""
_COUNT_REJECTS = "SELECT count(*) FROM raw.go1_rejects WHERE _run_id = $run_id AND stream = $stream"

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
    versions AS (  -- keys with several distinct records this run, when each is kept
        SELECT k FROM current_run GROUP BY k {versions}
    ),
    later_copies AS (
        -- Only keys read more than once this run need their records' timestamps: reading
        -- every record's JSON here would cost memory in proportion to the whole run.
        SELECT c.rid,
               row_number() OVER (
                   PARTITION BY {copy_of}
                   ORDER BY try_cast(json_extract_string(t.record, $order_path) AS TIMESTAMPTZ)
                            DESC NULLS LAST,
                            c._extracted_at DESC) AS copy
        FROM current_run AS c
        JOIN read_twice USING (k)
        JOIN {table} AS t ON t.rowid = c.rid
    ),
    before_run AS ({before_run}
    )
    SELECT rid FROM later_copies WHERE copy > 1
    UNION
    SELECT c.rid FROM current_run AS c
    JOIN before_run AS b ON b.key_value = c.key_value AND b.hash = c._record_hash
    WHERE c.k NOT IN (SELECT k FROM versions)
)
"""


# The version each key had before this run: the record of the latest run that landed it.
# Only the keys this run read are looked up: a run of a few changes next to millions of
# earlier records reads their keys, not their whole history grouped.
_BEFORE_RUN = """
        SELECT {key} AS key_value, arg_max(_record_hash, (_run_id, _extracted_at)) AS hash
        FROM {table}
        WHERE _run_id < $run_id AND {key} IN (SELECT key_value FROM current_run)
        GROUP BY {key}"""
# Where a run may keep several records of a key: only a key whose latest landing held one
# record has a version to compare with (two records that became one are a change).
_BEFORE_RUN_VERSIONS = """
        SELECT key_value, any_value(_record_hash) AS hash
        FROM (SELECT {key} AS key_value, _record_hash, _run_id,
                     max(_run_id) OVER (PARTITION BY {key}) AS last_run
              FROM {table}
              WHERE _run_id < $run_id AND {key} IN (SELECT key_value FROM current_run))
        WHERE _run_id = last_run
        GROUP BY key_value
        HAVING count(DISTINCT _record_hash) = 1"""

_COUNT = "SELECT count(*) FROM {table} WHERE _run_id = $run_id"

# The keys of the records one body holds, by the same expression the insert lands them with.
_KEYS = """
SELECT list(json_extract_string(h, $key_path))
FROM (SELECT unnest({records}) AS h FROM (SELECT $body AS body))
"""
_KEYS_OF_HITS = """
SELECT list(json_extract_string(h, $key_path))
FROM (SELECT json(t) AS h FROM (SELECT unnest($texts) AS t))
WHERE {keep}
"""

_ALL_STATEMENTS = (_SETTLE, _COUNT, _MOVE_NOT_OBJECTS, _DROP_NOT_OBJECTS)

# -- how much one statement may take ---------------------------------------------------------

MEMORY_SHARE = 16  # one statement takes at most 1/16 of the memory limit as input
_DEFAULT_PIECE = 16 * 1024 * 1024


def piece_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The most JSON text one landing statement takes: a sixteenth of the connection's memory
    limit (15 MiB under the default 256MB), between 256 KiB and 64 MiB.

    DuckDB holds a few times a statement's input while it splits, hashes and stores it (and
    grows a buffer by doubling it): a 26 MB page ran out of memory under 256MB, and an 80 MB one
    would under any share. Pieces sized from the limit stay well under it whatever Go1 sends.
    """
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    try:
        limit = memory_bytes(str(row[0]) if row else "")
    except ValueError:
        return _DEFAULT_PIECE
    return int(min(max(limit / MEMORY_SHARE, 256 * 1024), 64 * 1024 * 1024))


# -- cutting a body into its hits ------------------------------------------------------------

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, at: int) -> int:
    """Where the whitespace at ``at`` ends."""
    found = _SPACE.match(text, at)
    return found.end() if found else at


def hit_texts(body: str) -> list[str]:
    """The text of each element of the body's top-level ``hits`` array (the last such key,
    as Python's parser reads it), cut from the body as it came.

    Python's scanner reads what DuckDB's refuses (a lone surrogate), and each slice is the
    record's own text, so it hashes as the fast path would hash it. Raises ``ValueError`` for
    a body that is not JSON to Python either.
    """
    scan = _DECODER.raw_decode
    at = _skip(body, 0)
    if not body.startswith("{", at):
        return []
    at = _skip(body, at + 1)
    found: list[str] = []
    if body.startswith("}", at):
        return found
    while True:
        key, at = scan(body, at)
        at = _skip(body, at)
        if not body.startswith(":", at):
            raise ValueError(f"expected ':' at {at}")
        at = _skip(body, at + 1)
        if key == "hits" and body.startswith("[", at):
            found, at = _elements(body, at)
        else:
            _, at = scan(body, at)
        at = _skip(body, at)
        if body.startswith(",", at):
            at = _skip(body, at + 1)
        elif body.startswith("}", at):
            return found
        else:
            raise ValueError(f"expected ',' or '}}' at {at}")


def _elements(body: str, at: int) -> tuple[list[str], int]:
    """The element texts of the array opening at ``at``, and where the array ends."""
    texts: list[str] = []
    at = _skip(body, at + 1)
    if body.startswith("]", at):
        return texts, at + 1
    while True:
        _, end = _DECODER.raw_decode(body, at)
        texts.append(body[at:end])
        at = _skip(body, end)
        if body.startswith(",", at):
            at = _skip(body, at + 1)
        elif body.startswith("]", at):
            return texts, at + 1
        else:
            raise ValueError(f"expected ',' or ']' at {at}")


def _pieces(texts: Sequence[str], budget: int) -> Iterator[list[str]]:
    """Consecutive runs of ``texts`` of at most ``budget`` characters (a longer text alone)."""
    piece: list[str] = []
    size = 0
    for text in texts:
        if piece and size + len(text) > budget:
            yield piece
            piece, size = [], 0
        piece.append(text)
        size += len(text)
    if piece:
        yield piece


# -- landing ---------------------------------------------------------------------------------

def prepare_statements() -> None:
    """Render every landing statement now, before requests are in flight.

    The first render imports sqlglot's DuckDB dialect (holding the GIL); done lazily, that
    happened at a stream's first landing, while the worker threads had pages waiting to be
    read. Rendered statements are cached for the process. (Each was once parsed and printed
    again by sqlglot as well: 0.2 s of every run's start, for text that is constant but for
    the names.)
    """
    for table in (LEARNING_OBJECTS, ENROLLMENTS, USER_ACCOUNTS):
        for hits_path, records in _RECORDS.items():
            table.sql(_INSERT.replace("{records}", records))
            table.sql(_KEYS.replace("{records}", records))
            table.sql(_INSERT_HITS.replace("{keep}", _KEEP[hits_path]))
            table.sql(_KEYS_OF_HITS.replace("{keep}", _KEEP[hits_path]))
        for statement in _ALL_STATEMENTS:
            table.sql(statement)


def _readable(con: duckdb.DuckDBPyConnection, texts: Sequence[str]) -> list[bool]:
    if not texts:
        return []
    row = con.execute(_READABLE, {"texts": list(texts)}).fetchone()
    return list(row[0]) if row and row[0] else []


def land_bodies(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int,
                extracted_at: datetime, bodies: Sequence[str], hits_path: str = HITS,
                budget: int | None = None) -> int:
    """Insert every record of the given response bodies; return how many were inserted.

    ``hits_path`` is :data:`HITS` for list pages, :data:`WHOLE_BODY` for one-object responses.
    ``budget`` is :func:`piece_bytes` (read from the connection when not given): bodies land
    together up to it, a larger one or one DuckDB cannot read lands hit by hit.
    """
    if not bodies:
        return 0
    budget = budget or piece_bytes(con)
    small = [i for i, body in enumerate(bodies) if len(body) <= budget]
    fast = [False] * len(bodies)
    for i, ok in zip(small, _readable(con, [bodies[i] for i in small]), strict=True):
        fast[i] = ok
    landed = 0
    for piece in _pieces([body for body, ok in zip(bodies, fast, strict=True) if ok], budget):
        row = con.execute(  # DuckDB answers an INSERT with the count of rows it inserted
            table.sql(_INSERT.replace("{records}", _RECORDS[hits_path])),
            {"run_id": run_id, "extracted_at": extracted_at, "key_path": table.key_path,
             "bodies": piece},
        ).fetchone()
        landed += int(row[0]) if row else 0
    for body, ok in zip(bodies, fast, strict=True):
        if not ok:
            landed += _land_hits(con, table, run_id, extracted_at, body, hits_path, budget)
    return landed


def _texts_of(body: str, hits_path: str) -> list[str] | None:
    """The records' texts of one body, or None when Python cannot read it either."""
    if hits_path == WHOLE_BODY:
        return [body]
    try:
        return hit_texts(body)
    except ValueError:
        return None


def _land_hits(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int,
               extracted_at: datetime, body: str, hits_path: str, budget: int) -> int:
    """The per-hit path for one body: land what DuckDB reads, in pieces; reject the rest."""
    rejecting = hits_path != HITS_WITH_EMAIL
    texts = _texts_of(body, hits_path)
    if texts is None:  # not JSON at all: the whole body is the reject
        if rejecting:
            _reject(con, table, run_id, extracted_at, [(None, "not JSON", body)])
        return 0
    landed = 0
    for piece in _pieces(texts, budget):
        flags = _readable(con, piece)
        good = [text for text, ok in zip(piece, flags, strict=True) if ok]
        if good:
            row = con.execute(
                table.sql(_INSERT_HITS.replace("{keep}", _KEEP[hits_path])),
                {"run_id": run_id, "extracted_at": extracted_at, "key_path": table.key_path,
                 "texts": good},
            ).fetchone()
            landed += int(row[0]) if row else 0
        bad = [text for text, ok in zip(piece, flags, strict=True) if not ok]
        if bad and rejecting:
            _reject(con, table, run_id, extracted_at, [_unreadable(table, t) for t in bad])
    return landed


def _unreadable(table: RawTable, text: str) -> tuple[str | None, str, str]:
    """``(key, reason, text)`` of a record DuckDB's JSON reader refused (Python read it)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None, "not JSON", text
    key = value.get(table.key_field) if isinstance(value, dict) else None
    key_text = key if isinstance(key, str) or key is None else json.dumps(key)
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return (key_text, "holds a lone UTF-16 surrogate escape (a character cut in half, "
                "such as \\ud83d without its pair), which DuckDB cannot read", text)
    return key_text, "JSON that DuckDB's reader refuses", text


def _reject(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int,
            extracted_at: datetime, rows: Sequence[tuple[str | None, str, str]]) -> None:
    con.execute(_INSERT_REJECTS, {
        "run_id": run_id, "extracted_at": extracted_at, "stream": table.stream,
        "keys": [key for key, _, _ in rows], "reasons": [why for _, why, _ in rows],
        "texts": [text for _, _, text in rows]})


def record_keys(con: duckdb.DuckDBPyConnection, table: RawTable, body: str,
                hits_path: str = HITS, budget: int | None = None) -> list[str | None]:
    """The key of each record :func:`land_bodies` would land from ``body`` (None for a record
    without one), read by DuckDB with the same expression, so which records count is decided
    in one place: the user-account list tells from its hits with an email whether it carries
    emails at all, and which accounts it saves reading one by one."""
    budget = budget or piece_bytes(con)
    if len(body) <= budget and all(_readable(con, [body])):
        row = con.execute(table.sql(_KEYS.replace("{records}", _RECORDS[hits_path])),
                          {"key_path": table.key_path, "body": body}).fetchone()
        return list(row[0]) if row and row[0] else []
    keys: list[str | None] = []
    for piece in _pieces(_texts_of(body, hits_path) or [], budget):
        good = [text for text, ok in zip(piece, _readable(con, piece), strict=True) if ok]
        if good:
            row = con.execute(table.sql(_KEYS_OF_HITS.replace("{keep}", _KEEP[hits_path])),
                              {"key_path": table.key_path, "texts": good}).fetchone()
            keys += list(row[0]) if row and row[0] else []
    return keys


def settle(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int) -> int:
    """Move this run's records that are no objects to the rejects, drop its duplicate and
    unchanged rows and its duplicate rejects; return the rows the run really landed."""
    stream = {"run_id": run_id, "stream": table.stream}
    landed = _count(con, table, run_id)
    if landed:  # a quiet run lands nothing: then there is nothing to compare
        con.execute(table.sql(_MOVE_NOT_OBJECTS), stream)
        con.execute(table.sql(_DROP_NOT_OBJECTS), {"run_id": run_id})
        con.execute(table.sql(_SETTLE),
                    {"run_id": run_id, "order_path": table.order_path or "$.__none__"})
        landed = _count(con, table, run_id)
    con.execute(_SETTLE_REJECTS, stream)
    return landed


def _count(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int) -> int:
    row = con.execute(table.sql(_COUNT), {"run_id": run_id}).fetchone()
    return int(row[0]) if row else 0


def rejects_count(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: int) -> int:
    """How many records of this run the stream set aside in ``raw.go1_rejects``."""
    row = con.execute(_COUNT_REJECTS, {"run_id": run_id, "stream": table.stream}).fetchone()
    return int(row[0]) if row else 0
