"""Whether a run may stop after its extract: nothing new since a run that left nothing to send.

A scheduled statistics run on a quiet day reads one enrollment page and lands nothing, yet
rebuilding the models and diffing them against the snapshot costs seconds per 100,000
enrollments. That work is skipped only when its outcome is known: the models would rebuild
the same tables from the same rows, and the diff would find what it found when the last push
ended, nothing. So a run skips its transform, plan and push when all of these hold:

- the latest ``meta.settled`` row covers the parts it pushes, and its stamp (the digest of the
  models' sources, the platform, the integration's groups) is today's;
- no other run has been recorded since that one (a micro-run, a ``push`` or ``transform``
  alone, a reconcile, a failed run: any of them may have changed the warehouse);
- this run landed nothing: no row of any ``raw`` table carries its run id, except a library
  listing identical to the one before it (the catalog lands its full listing every run).

A run records itself settled (:func:`record_settled`) when its push ended with nothing left to
send or settle for its parts. SQLMesh skips a model whose fingerprint and intervals are done;
this is the same idea for the whole run, with the raw tables' run ids as the intervals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence

import duckdb

from warehouse.run_rows import holds_rows, tables_with_run_ids

LISTINGS = "go1_library_listings"  # landed whole by every catalog run: compared, not counted

_LATEST = "SELECT run_id, parts, stamp FROM meta.settled ORDER BY run_id DESC LIMIT 1"
_RUNS_BETWEEN = "SELECT count(*) FROM meta.runs WHERE run_id > $settled AND run_id <> $run"
# This run's listing against the one before it (the previous successful catalog run), both
# ways; and that run's catalog rejects, which marts.rejects shows only while it is the latest.
_LISTING_CHANGED = f"""
WITH before AS (
    SELECT max(run_id) AS run_id FROM meta.stream_runs
    WHERE stream = 'learning_objects' AND status = 'success' AND run_id < $run
),
now_listed AS (SELECT lo_id, listed_state FROM raw.{LISTINGS} WHERE _run_id = $run),
then_listed AS (
    SELECT lo_id, listed_state FROM raw.{LISTINGS} WHERE _run_id = (SELECT run_id FROM before)
)
SELECT EXISTS (FROM now_listed EXCEPT ALL FROM then_listed)
    OR EXISTS (FROM then_listed EXCEPT ALL FROM now_listed)
    OR EXISTS (SELECT 1 FROM raw.go1_rejects
               WHERE stream = 'learning_objects' AND _run_id = (SELECT run_id FROM before))
"""


def settled_stamp(models: str, platform: str, groups: Sequence[str]) -> str:
    """What a settled run's nothing depends on besides the data: the models' version (their
    sources' digest, ``warehouse.transform.models_digest``), the 360Learning platform pushed
    to and the groups its courses are shared with."""
    text = json.dumps({"models": models, "platform": platform, "groups": list(groups)},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def last_stamp(con: duckdb.DuckDBPyConnection) -> str | None:
    """The stamp of the latest settled run: a run whose stamp is this one runs models that
    loaded and ran cleanly before, so it may leave loading them until it needs them."""
    latest = con.execute(_LATEST).fetchone()
    return None if latest is None else str(latest[2])


def record_settled(con: duckdb.DuckDBPyConnection, run_id: int, parts: Collection[str],
                   stamp: str) -> None:
    con.execute("INSERT INTO meta.settled VALUES (?, ?, ?, now())",
                [run_id, sorted(parts), stamp])


def unchanged_since(con: duckdb.DuckDBPyConnection, run_id: int, parts: Collection[str],
                    stamp: str) -> int | None:
    """The settled run this run (its extract done) changes nothing against, or None."""
    latest = con.execute(_LATEST).fetchone()
    if latest is None:
        return None
    settled, settled_parts, settled_stamp_ = int(latest[0]), set(latest[1]), str(latest[2])
    if settled_stamp_ != stamp or not set(parts) <= settled_parts:
        return None
    between = con.execute(_RUNS_BETWEEN, {"settled": settled, "run": run_id}).fetchone()
    if between is None or between[0]:
        return None
    tables = [table for schema, table in tables_with_run_ids(con) if schema == "raw"]
    if any(holds_rows(con, "raw", table, run_id) for table in tables if table != LISTINGS):
        return None
    if LISTINGS in tables and holds_rows(con, "raw", LISTINGS, run_id):
        changed = con.execute(_LISTING_CHANGED, {"run": run_id}).fetchone()
        if changed is None or changed[0]:
            return None
    return settled

