"""What a batch of Go1 webhook events names, read from Go1 and landed as new raw versions.

A delivery is thin (``{event_type, data: {id, lo_id, …}}``), so its details are read here, as
the contract README says: ``GET /enrollments/{id}`` and the learner's ``GET
/user-accounts/{id}`` for an enrollment event, ``GET /learning-objects/{id}`` for a content
event. An object joins or leaves My Library with ``content.add`` and ``content.remove``: then
the listing, filtered to the object's id and its lifecycle state, says whether it is there
now (``raw.go1_library_checks``). A learner's account is read when the warehouse has none
with an email (a new learner, say): the attempt about to be pushed needs it. An email changed
since is the scheduled statistics run's to find, as it reads every learner active in its run;
reading each event's learner again would double a burst's requests to Go1.

Everything lands in the caller's transaction, with the same landing (and the same "drop what is
not new") as the streams, so an event Go1 repeats, or one about a record a scheduled run has
already landed, adds nothing. What was landed is returned as the keys each incremental model
rebuilds (``touched``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import duckdb

from apiclient.paths import segment
from extract.client import Page
from extract.landing import ENROLLMENTS, LEARNING_OBJECTS, USER_ACCOUNTS, WHOLE_BODY, RawTable
from extract.streams.context import Lander, StreamContext, StreamStats, hits_of, pooled
from extract.streams.learning_objects import INCLUDES
from extract.streams.learning_objects import PATH as LO_PATH

ENROLLMENT_EVENTS = frozenset({"enrollment.create", "enrollment.complete"})
CONTENT_EVENTS = frozenset({"content.add", "content.remove", "content.decommission",
                            "content.decommission.pending"})
#: content events after which the object's place in My Library is read again
MEMBERSHIP_EVENTS = frozenset({"content.add", "content.remove"})
LISTED_STATES = ("published", "retired", "removed")  # the states the full listing asks for
STREAM = "webhook_events"  # its row in meta.stream_runs (never a stream the models read)


@dataclass(frozen=True)
class EventRef:
    """What this stage needs of one stored event."""

    key: str
    event_type: str
    object_id: str | None  # data.id
    lo_id: str | None  # data.lo_id
    sent: str | None = None  # Go1's sent, as it came
    received_at: datetime | None = None  # when the receiver stored it (UTC)


@dataclass
class EventsLanded:
    stats: StreamStats
    outcomes: dict[str, str] = field(default_factory=dict)  # event key -> landed | …


def land_events(ctx: StreamContext, events: Sequence[EventRef]) -> EventsLanded:
    stats = StreamStats(STREAM)
    landed = EventsLanded(stats)
    enrollment_ids = {e.object_id for e in events
                      if e.event_type in ENROLLMENT_EVENTS and e.object_id}
    content = [e for e in events if e.event_type in CONTENT_EVENTS and (e.lo_id or e.object_id)]
    stats.expected = len(enrollment_ids) + len(content)
    missing_enrollments = _enrollments(ctx, stats, enrollment_ids)
    _accounts(ctx, stats)
    missing_objects = _learning_objects(ctx, stats, content)
    _checks(ctx, stats, content, missing_objects)
    # each lander set the count of its own table: the stream's is all of them
    stats.records_landed = sum(_landed(ctx, table) for _, table, _ in _TOUCHED)
    for event in events:
        if event.event_type in ENROLLMENT_EVENTS and event.object_id:
            gone = event.object_id in missing_enrollments
        elif event in content:
            gone = (event.lo_id or event.object_id) in missing_objects
        else:
            landed.outcomes[event.key] = "ignored"
            continue
        landed.outcomes[event.key] = "not_found" if gone else "landed"
    return landed


def _landed(ctx: StreamContext, table: str) -> int:
    row = ctx.con.execute(f"SELECT count(*) FROM {table} WHERE _run_id = ?",
                          [ctx.run_id]).fetchone()
    return int(row[0]) if row else 0


def _land_each(ctx: StreamContext, stats: StreamStats, table: RawTable, path: str,
               ids: Iterable[str], params: Sequence[tuple[str, str]] = ()) -> set[str]:
    """``GET path/{id}`` for each id, through the client's pool, each answer landed in
    ``table`` as one record; return the ids Go1 answered 404."""
    lander = Lander(ctx, table, stats, hits_path=WHOLE_BODY)
    missing: set[str] = set()

    def on_page(page: Page) -> None:
        stats.requests += 1
        lander.add(page, 1)

    def on_missing(missed: str) -> None:
        stats.requests += 1
        missing.add(unquote(missed.rsplit("/", 1)[-1]))

    pooled(ctx, ((f"{path}/{segment(i)}", list(params)) for i in ids), on_page, on_missing)
    lander.finish()
    return missing


def _enrollments(ctx: StreamContext, stats: StreamStats, ids: Iterable[str]) -> set[str]:
    """Land each enrollment; return the ids Go1 no longer knows (archived, deleted)."""
    missing = _land_each(ctx, stats, ENROLLMENTS, "/enrollments", sorted(ids))
    if missing:
        stats.notes.append(f"{len(missing)} enrollment(s) unknown to Go1, e.g. "
                           f"{sorted(missing)[0]}")
    return missing


# The learners of the enrollments a micro-run landed whose account the warehouse lacks, or
# holds without an email: those a micro-run reads ("if needed", issue 13). A learner's new
# email is the scheduled statistics run's to find (it reads every learner active in its run).
_ACCOUNTS_NEEDED = """
SELECT DISTINCT e.record ->> '$.user_account_id' AS id
FROM raw.go1_enrollments AS e
LEFT JOIN raw.go1_user_accounts_latest AS a
       ON a.user_account_id = e.record ->> '$.user_account_id'
WHERE e._run_id = $run_id AND id IS NOT NULL
  AND (a.user_account_id IS NULL OR nullif(trim(a.record ->> '$.user.email'), '') IS NULL)
ORDER BY id
"""


def _accounts(ctx: StreamContext, stats: StreamStats) -> None:
    """The learners of the enrollments just landed whose email the warehouse lacks."""
    ids = [str(r[0]) for r in ctx.con.execute(_ACCOUNTS_NEEDED,
                                              {"run_id": ctx.run_id}).fetchall()]
    _land_each(ctx, stats, USER_ACCOUNTS, "/user-accounts", ids)


def _learning_objects(ctx: StreamContext, stats: StreamStats,
                      events: Sequence[EventRef]) -> set[str]:
    """Land each object (by lo_id, else data.id); return the references Go1 answered 404."""
    refs = sorted({str(e.lo_id or e.object_id) for e in events})
    return _land_each(ctx, stats, LEARNING_OBJECTS, LO_PATH, refs,
                      [("include[]", i) for i in INCLUDES])


def _checks(ctx: StreamContext, stats: StreamStats, events: Sequence[EventRef],
            missing: set[str]) -> None:
    """For an object that joined or left My Library: is it listed there now?"""
    con, run_id = ctx.con, ctx.run_id
    wanted = {str(e.lo_id or e.object_id) for e in events if e.event_type in MEMBERSHIP_EVENTS}
    rows: list[tuple[str, str, bool]] = []
    for ref in sorted(wanted):
        record = _latest_object(ctx, ref)
        if record is None:  # never landed: nothing in the warehouse to place
            continue
        lo_id = str(record.get("lo_id") or ref)
        if ref in missing:  # Go1 no longer serves it: it is in no listing either
            rows.append((lo_id, "removed", False))
            continue
        state = _state(record)
        page = ctx.client.get(LO_PATH, [("collection", "library"),
                                        ("id[]", str(record.get("id") or lo_id)),
                                        ("state[]", state), ("limit", "1")])
        stats.requests += 1
        listed = any(isinstance(h, dict) and str(h.get("lo_id")) == lo_id
                     for h in hits_of(page))
        rows.append((lo_id, state, listed))
    if rows:  # one set-based insert: executemany runs row by row
        con.execute(
            "INSERT INTO raw.go1_library_checks SELECT $run, $at, unnest($ids), "
            "unnest($states), unnest($listed)",
            {"run": run_id, "at": datetime.now(UTC), "ids": [r[0] for r in rows],
             "states": [r[1] for r in rows], "listed": [r[2] for r in rows]})


def _latest_object(ctx: StreamContext, ref: str) -> dict[str, Any] | None:
    row = ctx.con.execute(
        "SELECT record FROM raw.go1_learning_objects WHERE lo_id = ? OR record ->> '$.id' = ? "
        "ORDER BY _run_id DESC, _extracted_at DESC LIMIT 1", [ref, ref]).fetchone()
    if row is None:
        return None
    value = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return value if isinstance(value, dict) else None


def _state(record: dict[str, Any]) -> str:
    """The lifecycle state to ask the listing for: the object's own, when it is one the full
    listing asks for (Go1 lists published unless told; retired and removed alone)."""
    lifecycle = record.get("lifecycle")
    state = lifecycle.get("state") if isinstance(lifecycle, dict) else None
    state = str(state).strip().lower() if state else "published"
    return state if state in LISTED_STATES else "published"


def record_events(con: duckdb.DuckDBPyConnection, run_id: int, events: Sequence[EventRef],
                  outcomes: Mapping[str, str]) -> None:
    """The events this micro-run processed, in its transaction: never processed again."""
    if not events:
        return
    now = datetime.now(UTC)
    # one set-based insert: executemany runs row by row (5,000 events took 37 s)
    con.execute(
        "INSERT OR IGNORE INTO meta.webhook_events SELECT unnest($keys), $run, unnest($types), "
        "unnest($objects), unnest($los), unnest($sent), unnest($received), $now, "
        "unnest($outcomes)",
        {"keys": [e.key for e in events], "run": run_id,
         "types": [e.event_type for e in events], "objects": [e.object_id for e in events],
         "los": [e.lo_id for e in events], "sent": [e.sent for e in events],
         "received": [e.received_at or now for e in events], "now": now,
         "outcomes": [outcomes.get(e.key, "ignored") for e in events]})


def processed(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` a micro-run has already processed."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    return {str(r[0]) for r in con.execute(
        "SELECT event_key FROM meta.webhook_events WHERE event_key IN (SELECT unnest(?))",
        [wanted]).fetchall()}


_TOUCHED = (("enrollment", "raw.go1_enrollments", "enrollment_id"),
            ("learning_object", "raw.go1_learning_objects", "lo_id"),
            ("user_account", "raw.go1_user_accounts", "user_account_id"))


def touched_by(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> dict[str, set[str]]:
    """The keys of each kind that the micro-runs which processed these events landed: what
    the incremental models rebuild (warehouse.models, ``touched()``). Read from the raw rows,
    not kept in memory, so a micro-run that landed and then failed is mapped by the next."""
    runs = "(SELECT run_id FROM meta.webhook_events WHERE event_key IN (SELECT unnest($keys)))"
    wanted = {"keys": sorted(set(keys))}
    touched: dict[str, set[str]] = {}
    for kind, table, column in _TOUCHED:
        touched[kind] = {str(r[0]) for r in con.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE _run_id IN {runs} "
            f"AND {column} IS NOT NULL", wanted).fetchall()}
    touched["learning_object"] |= {str(r[0]) for r in con.execute(
        f"SELECT lo_id FROM raw.go1_library_checks WHERE _run_id IN {runs}", wanted).fetchall()}
    return touched
