"""The ``push`` command: settle what an earlier run left open, then send only the changes.

Courses go first (upserts; then each new course's 360Learning id; restores of courses live in
Go1 again; archives), then sharing with the other groups, then statistics, since statistics of
a course 360Learning does not know yet would fail, and with each learner named by their
360Learning user id, found in the platform's user list. Up to three bulk operations run at
once; each one's results are applied (ledger + promotion) as it completes.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from apiclient.paths import segment
from load.bulk import (
    BATCH_LIMITS,
    OPERATIONS_PATH,
    BulkOperation,
    BulkOutcome,
    BulkRunner,
    api_time,
    batches,
)
from load.changes import require_outbound, share_groups
from load.client import JsonText, L360Client
from load.course_ids import external_course, settle_course_ids
from load.errors import BulkTimeout, LoadError, ScopeError, SubmitUncertain
from load.integration import Integration, ensure_integration
from load.ledger import (
    PushRow,
    abandon_pending,
    adopt,
    apply_outcome,
    known_operations,
    maybe_sent_since,
    record_pending,
    record_submitted,
    record_uncertain,
    release_uncertain,
    unconfirmed_operations,
)
from load.lists import land_users
from load.restore import restore_courses
from load.result import ProgressFn, PushResult
from warehouse.connection import transaction

COURSE_BATCH = BATCH_LIMITS["courses_upsert"]
ARCHIVE_BATCH = BATCH_LIMITS["courses_archive"]
STATS_BATCH = BATCH_LIMITS["stats"]
SHARE_BATCH = BATCH_LIMITS["groups"]
# Submits a push may spend looking for the items of a batch 360Learning refused as invalid
# (400): halving finds each bad item in about 2·log2(batch) submits.
MAX_SPLITS = 200


class Pusher:
    """Sends rows kind by kind, keeping up to three operations in flight."""

    def __init__(self, con: duckdb.DuckDBPyConnection, runner: BulkRunner, run_id: int,
                 result: PushResult, progress: ProgressFn) -> None:
        self.con, self.runner, self.run_id = con, runner, run_id
        self.result, self.progress = result, progress
        self._open: deque[tuple[str, BulkOperation]] = deque()
        self._splits_left = MAX_SPLITS

    def send(self, kind: str, method: str, path: str, batches: Iterator[list[PushRow]]) -> None:
        for batch in batches:
            self.result.count(kind).sent += len(batch)
            self._submit(kind, method, path, batch)
        self.drain()

    def _submit(self, kind: str, method: str, path: str, batch: list[PushRow]) -> None:
        if len(self._open) >= 3:
            self._finish_one()
        record_pending(self.con, self.run_id, batch)
        try:
            operation = self.runner.submit(method, path, [r.payload for r in batch])
        except SubmitUncertain as exc:
            # 360Learning may have taken it: resending now could merge old records into
            # newer open attempts. The rows wait, held, until the operations list settles them.
            record_uncertain(self.con, self.run_id, kind, [r.key for r in batch], str(exc))
            self.result.count(kind).uncertain += len(batch)
            return
        except LoadError as exc:
            if exc.status != 400 or isinstance(exc, ScopeError):
                raise
            self._split(kind, method, path, batch, exc)
            return
        record_submitted(self.con, self.run_id, kind, [r.key for r in batch], operation)
        self._open.append((kind, operation))

    def _split(self, kind: str, method: str, path: str, batch: list[PushRow],
               exc: LoadError) -> None:
        """360Learning refused the whole batch as invalid: find the guilty items by halving,
        so one bad item does not hold back the others (a bounded number of extra submits)."""
        if len(batch) == 1 or self._splits_left <= 0:
            why = "refused as invalid" if len(batch) == 1 else \
                "in a batch refused as invalid (too many to search one by one this run)"
            self._fail_unsent(kind, batch, f"{why}: {exc}",
                              status="rejected" if len(batch) == 1 else "error")
            return
        self._splits_left -= 1
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            self._submit(kind, method, path, half)

    def _fail_unsent(self, kind: str, batch: list[PushRow], error: str,
                     status: str = "error") -> None:
        record_pending(self.con, self.run_id, batch, status=status, error=error)
        count = self.result.count(kind)
        if status == "rejected":
            count.rejected += len(batch)
        else:
            count.failed += len(batch)
        self.result.errors.extend((kind, r.key, error) for r in batch[:20])

    def drain(self) -> None:
        while self._open:
            self._finish_one()

    def _finish_one(self) -> None:
        kind, operation = self._open.popleft()
        try:
            outcome = self.runner.wait(operation)
        except BulkTimeout:
            # still running: recorded as submitted, so a later push settles it; what depends
            # on it waits (operation_unsettled) and the rest goes on
            self.result.stuck_operations.append(
                (operation.id, kind, operation.submitted_at.isoformat()))
            return
        self.settle(kind, outcome)

    def settle(self, kind: str, outcome: BulkOutcome, earlier: bool = False) -> None:
        """Apply an operation's results; ``earlier``: one an earlier run submitted, whose rows
        are counted apart (``PushResult.settled``), not as sent or ok by this push."""
        ok, failed = apply_outcome(self.con, outcome)
        count = self.result.settled_count(kind) if earlier else self.result.count(kind)
        count.succeeded += ok
        count.failed += failed
        if failed:
            self.result.errors.extend(
                (kind, str(k), str(e)) for k, e in self.con.execute(
                    "SELECT key, error FROM meta.push_ledger WHERE bulk_operation_id = ? "
                    "AND status = 'error' ORDER BY key LIMIT 20", [outcome.operation.id]
                ).fetchall())
        if not earlier:
            self.progress(kind, count)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, kind: str) -> list[PushRow]:
    return [PushRow(kind, str(key), str(op), json.loads(payload), payload_hash)
            for key, op, payload, payload_hash in con.execute(sql).fetchall()]


def _outgoing_attempts(con: duckdb.DuckDBPyConnection,
                       chunk: int = 5_000) -> Iterator[tuple[Any, ...]]:
    """The attempts to send, in sending order, read a chunk at a time.

    Sorted once into a temporary table (DuckDB spills it past its memory limit), so Python
    never holds more than a chunk and a batch of payloads; each chunk is read whole before the
    caller writes the ledger on the same connection.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE outgoing_attempts AS "
        "SELECT row_number() OVER (ORDER BY external_course_id, user_email, first_activity, "
        "key) AS n, key, operation, payload, payload_hash, external_course_id, user_email "
        "FROM outbound.attempt_changes WHERE send")
    start = 1
    while rows := con.execute(
            "SELECT key, operation, payload, payload_hash, external_course_id, user_email "
            "FROM outgoing_attempts WHERE n >= ? AND n < ? ORDER BY n",
            [start, start + chunk]).fetchall():
        yield from rows
        start += chunk
    con.execute("DROP TABLE outgoing_attempts")


def _statsbatches(con: duckdb.DuckDBPyConnection, size: int) -> Iterator[list[PushRow]]:
    """Statistics, oldest first per (course, learner), never splitting one learner's records
    on one course across operations that may run at the same time (the attempt rule would
    merge an older enrollment into a newer open attempt)."""
    batch: list[PushRow] = []
    group: list[PushRow] = []
    current: tuple[str, str] | None = None
    for key, op, payload, payload_hash, course, email in _outgoing_attempts(con):
        if (course, email) != current:
            if len(batch) + len(group) > size and batch:
                yield batch
                batch = []
            batch.extend(group)
            group, current = [], (course, email)
        group.append(PushRow("attempt", str(key), str(op), JsonText(payload), payload_hash,
                             str(email)))
    if len(batch) + len(group) > size and batch:
        yield batch
        batch = []
    batch.extend(group)
    if batch:
        yield batch


ALL_PARTS = frozenset({"courses", "attempts"})


def push(con: duckdb.DuckDBPyConnection, client: L360Client, integration_settings: Any,
         run_id: int, progress: ProgressFn = lambda kind, count: None,
         runner: BulkRunner | None = None, parts: frozenset[str] = ALL_PARTS) -> PushResult:
    """Push ``parts``: ``courses`` (the catalog job) and/or ``attempts`` (the statistics job)."""
    result = _push(con, client, integration_settings, run_id, progress, runner, parts)
    stats = client.stats.snapshot()
    result.api_reads, result.api_writes = stats.reads, stats.writes
    return result


def _push(con: duckdb.DuckDBPyConnection, client: L360Client, integration_settings: Any,
          run_id: int, progress: ProgressFn, runner: BulkRunner | None,
          parts: frozenset[str]) -> PushResult:
    result = PushResult()
    _check_target(con, integration_settings.api_url)
    runner = runner or BulkRunner(client)
    pusher = Pusher(con, runner, run_id, result, progress)

    # 1. What an earlier run left open: settle it before diffing, so nothing is sent twice.
    _settle_earlier(con, runner, pusher, result, integration_settings.settle_seconds)

    require_outbound(con)
    courses, attempts = "courses" in parts, "attempts" in parts
    if courses:
        _set_share_groups(con, share_groups(integration_settings.group_ids), run_id)
        _record_rejects(con, result, run_id)
    may_go = _count(con, _ATTEMPTS_MAY_GO) if attempts else 0  # counted once: a full diff
    work = (courses and _count(con, _COURSE_WORK)) or may_go
    if not work:
        _count_held(con, result, attempts, run_id)
        result.work_left = _count(con, _UNSETTLED)
        return result  # nothing new: no write call at all

    _check_operations_readable(client)
    integration: Integration = ensure_integration(client, integration_settings)
    _refuse_foreign_courses(con, client, integration)
    remember_target(con, integration_settings.api_url, integration.id, integration.group_id,
                    run_id)
    courses_path = f"/api/v2/bulk/integrations/{segment(integration.id)}/courses"

    if courses:
        _push_courses(con, client, pusher, result, run_id, integration, courses_path)
        _sync_shares(con, runner, result, run_id)
        if any(c.succeeded for c in result.counts.values()):  # courses it created may have
            may_go = _count(con, _ATTEMPTS_MAY_GO)            # let their attempts go
    if attempts:
        if may_go:
            # Learners are matched against 360Learning's users as they are now: a user
            # created since the last push unblocks the attempts that waited for it.
            land_users(con, client, run_id)
        # Statistics, once their courses exist in 360Learning.
        stats_path = f"/api/v2/bulk/integrations/{segment(integration.id)}/stats"
        pusher.send("attempt", "POST", stats_path, _statsbatches(con, STATS_BATCH))
    _count_held(con, result, attempts, run_id)
    result.work_left = ((courses and _count(con, _COURSE_WORK))
                        + (attempts and _count(con, _ATTEMPTS_MAY_GO))
                        + _count(con, _UNSETTLED))
    return result


def _settle_earlier(con: duckdb.DuckDBPyConnection, runner: BulkRunner, pusher: Pusher,
                    result: PushResult, budget: float) -> None:
    """Settle the operations earlier runs left: those recorded, then those whose submit
    (``pending`` after a crash, ``uncertain`` after a lost answer) may have been taken without
    a recorded id, found in 360Learning's list by the inputs they echo.

    At most ``budget`` seconds of waiting in all: an operation still running is left for the
    next run (its rows, and the statistics of its courses, stay held) and the push goes on.
    Rows are released for sending again only when every candidate operation was read and none
    took them; while a candidate still runs, they wait.
    """
    deadline = time.monotonic() + budget

    def settle(operation_id: str) -> BulkOutcome | None:
        try:
            return runner.settle(operation_id, timeout=deadline - time.monotonic())
        except BulkTimeout:
            row = con.execute("SELECT kind, submitted_at FROM meta.bulk_operations "
                              "WHERE operation_id = ?", [operation_id]).fetchone()
            kind, since = (str(row[0]), str(row[1])) if row else ("unrecorded", "")
            result.stuck_operations.append((operation_id, kind, since))
            return None

    for operation_id, kind in unconfirmed_operations(con):
        outcome = settle(operation_id)
        if outcome is not None:
            pusher.settle(kind, outcome, earlier=True)
            result.settled_operations += 1
    since = maybe_sent_since(con)
    if since is None:
        return
    known, unresolved = known_operations(con), False
    for item in runner.find_operations(since=since):
        operation_id = str(item.get("_id") or "")
        if not operation_id or operation_id in known:
            continue
        outcome = settle(operation_id)
        if outcome is None:
            unresolved = True
        elif adopt(con, outcome):
            result.settled_operations += 1
            _count_adopted(con, result, operation_id)
    if not unresolved:
        abandon_pending(con)
        release_uncertain(con)


def _count_adopted(con: duckdb.DuckDBPyConnection, result: PushResult,
                   operation_id: str) -> None:
    """The rows an adopted operation settled, as the ledger now says (adoption matched them
    by their echoed inputs), counted with the other earlier runs' rows."""
    for kind, ok, failed in con.execute(
            "SELECT kind, count(*) FILTER (status = 'success'), count(*) FILTER (status = 'error') "
            "FROM meta.push_ledger WHERE bulk_operation_id = ? GROUP BY kind ORDER BY kind",
            [operation_id]).fetchall():
        count = result.settled_count(str(kind))
        count.succeeded += int(ok)
        count.failed += int(failed)


# Attempts that go out now, or would once 360Learning lists a user with the learner's email
# (the user list is read again before statistics are sent).
_ATTEMPTS_MAY_GO = ("SELECT count(*) FROM outbound.attempt_changes "
                    "WHERE send OR held_reason = 'no_360_account'")
# Courses to write or to share, or pushed courses whose 360Learning id is still to be read.
_COURSE_WORK = ("SELECT (SELECT count(*) FROM outbound.course_changes WHERE send) "
                "+ (SELECT count(*) FROM outbound.share_changes) "
                "+ (SELECT count(*) FROM meta.pushed_courses WHERE course_id IS NULL)")

_UNSETTLED = "SELECT count(*) FROM outbound.unsettled"


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] else 0


def _count_held(con: duckdb.DuckDBPyConnection, result: PushResult, attempts: bool,
                run_id: int) -> None:
    """Record the learners whose attempts wait for a 360Learning account, and count them."""
    if not attempts:
        return
    with transaction(con):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE waiting AS SELECT user_email, count(*) AS attempts "
            "FROM outbound.attempt_changes WHERE held_reason = 'no_360_account' "
            "GROUP BY user_email")
        con.execute("DELETE FROM meta.learners_without_account "
                    "WHERE user_email NOT IN (SELECT user_email FROM waiting)")
        con.execute(
            "INSERT INTO meta.learners_without_account "
            "SELECT user_email, attempts, $run, now(), $run FROM waiting "
            "ON CONFLICT (user_email) DO UPDATE SET attempts = excluded.attempts, "
            "last_seen_run = excluded.last_seen_run", {"run": run_id})
        row = con.execute("SELECT count(*), coalesce(sum(attempts), 0) FROM waiting").fetchone()
        con.execute("DROP TABLE waiting")
    result.learners_without_account, result.attempts_without_account = (
        (int(row[0]), int(row[1])) if row else (0, 0))


def _check_operations_readable(client: L360Client) -> None:
    """Before the first write, prove the token can read bulk operations (bulkOperations:read):
    a token that cannot would submit fine, never settle an operation, and send the same rows
    again on every run. A missing scope raises here, named, before anything is written."""
    client.get(OPERATIONS_PATH, [("createdAt[gte]", api_time(datetime.now(UTC)))])


def _set_share_groups(con: duckdb.DuckDBPyConnection, groups: Sequence[str],
                      run_id: int) -> None:
    """The groups to share with, as the settings say now (outbound.share_changes reads them)."""
    with transaction(con):
        con.execute("DELETE FROM meta.share_groups WHERE group_id NOT IN (SELECT unnest($g))",
                    {"g": list(groups)})
        con.execute("INSERT OR IGNORE INTO meta.share_groups SELECT unnest($g), $run, now()",
                    {"g": list(groups), "run": run_id})


def _sync_shares(con: duckdb.DuckDBPyConnection, runner: BulkRunner, result: PushResult,
                 run_id: int) -> None:
    """The other groups' catalogs and libraries hold every course, and only those groups'
    (outbound.share_changes); sharing is idempotent, so it needs no ledger: a share that
    failed or was never confirmed is simply still a difference next run. Rows of a course whose
    360Learning id is still unknown (plan counts them) wait for it."""
    changes = con.execute("SELECT course_id, group_id, target, operation "
                          "FROM outbound.share_changes WHERE course_id IS NOT NULL "
                          "ORDER BY target, operation, group_id, course_id").fetchall()
    for target in ("catalog", "library"):
        for operation, method in (("add", "POST"), ("remove", "DELETE")):
            items = [{"groupId": str(g), "contentType": "course", "contentId": str(c)}
                     for c, g, t, o in changes if t == target and o == operation]
            kind = f"{'share' if operation == 'add' else 'unshare'}_{target}"
            for chunk in batches(items, SHARE_BATCH):
                outcome = runner.run(method, f"/api/v2/bulk/groups/{target}", chunk)
                done = [(str(r.input.get("contentId")), str(r.input.get("groupId")))
                        for r in outcome.succeeded]
                if done and operation == "add":
                    con.execute(
                        "INSERT OR REPLACE INTO meta.course_shares "
                        "SELECT unnest($courses), unnest($groups), $target, $run_id, now()",
                        {"courses": [c for c, _ in done], "groups": [g for _, g in done],
                         "target": target, "run_id": run_id})
                elif done:
                    con.execute(
                        "DELETE FROM meta.course_shares WHERE target = $target AND "
                        "(course_id, group_id) IN (SELECT (unnest($courses), unnest($groups)))",
                        {"courses": [c for c, _ in done], "groups": [g for _, g in done],
                         "target": target})
                count = result.count(kind)
                count.sent += len(chunk)
                count.succeeded += len(outcome.succeeded)
                count.failed += len(outcome.failed)


def _check_target(con: duckdb.DuckDBPyConnection, api_url: str) -> None:
    """Refuse, before any call, to push this warehouse's state to another platform."""
    row = con.execute("SELECT api_url FROM meta.push_target").fetchone()
    if row is not None and row[0] != api_url:
        raise LoadError(
            f"this warehouse pushes to {row[0]}, but L360_API_URL is {api_url}: each platform "
            "(profile) needs its own warehouse (GO1SYNC_WAREHOUSE)")


def remember_target(con: duckdb.DuckDBPyConnection, api_url: str, integration_id: str,
                    group_id: str, run_id: int) -> None:
    """The platform and integration this warehouse pushes to, once and for good."""
    row = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
    if row is None:
        con.execute("INSERT INTO meta.push_target VALUES (?, ?, ?, ?, now())",
                    [api_url, integration_id, group_id, run_id])
    elif row[0] != integration_id:
        raise LoadError(
            f"this warehouse pushes to integration {row[0]}, but the settings lead to "
            f"{integration_id} (L360_GROUP_IDS or L360_PLATFORM_NAME changed): use a new "
            "warehouse for another integration")


def _refuse_foreign_courses(con: duckdb.DuckDBPyConnection, client: L360Client,
                            integration: Integration, sample: int = 5) -> None:
    """A warehouse that never pushed, facing an integration that already holds its courses,
    was lost or restored: pushing would resend every statistic (old completions merging into
    newer attempts) and never archive what Go1 retired since. A few of the courses it would
    add are asked for; one found stops the push before any write."""
    if integration.created or con.execute("SELECT 1 FROM meta.push_target").fetchone():
        return
    keys = [str(r[0]) for r in con.execute(
        "SELECT key FROM outbound.course_changes WHERE operation = 'add' ORDER BY key LIMIT ?",
        [sample]).fetchall()]
    for key in keys:
        if external_course(client, integration.id, key) is not None:
            raise LoadError(
                f"360Learning's integration {integration.id} already holds course {key}, which "
                "this warehouse never pushed (a lost or restored warehouse?): run "
                "`python cli.py rebuild-snapshot` first, so nothing is sent twice")


def _record_rejects(con: duckdb.DuckDBPyConnection, result: PushResult, run_id: int) -> None:
    """Courses that cannot make a valid payload are ledgered as rejected, each with its own
    error (one query: the row and its error cannot part), and not sent."""
    for key, operation, payload, payload_hash, error in con.execute(
            "SELECT key, operation, payload, payload_hash, payload_error "
            "FROM outbound.course_changes WHERE held_reason = 'invalid_payload' "
            "ORDER BY key").fetchall():
        row = PushRow("course_upsert", str(key), str(operation), json.loads(payload),
                      payload_hash)
        record_pending(con, run_id, [row], status="rejected", error=error)
        result.count("course_upsert").rejected += 1
        result.errors.append(("course_upsert", row.key, error))


def _push_courses(con: duckdb.DuckDBPyConnection, client: L360Client, pusher: Pusher,
                  result: PushResult, run_id: int, integration: Integration,
                  courses_path: str) -> None:
    """Upserts; the new courses' 360Learning ids; restores; archives."""
    upserts = _rows(con, "SELECT key, operation, payload, payload_hash "
                         "FROM outbound.course_changes WHERE upsert ORDER BY key",
                    "course_upsert")
    pusher.send("course_upsert", "PUT", courses_path, batches(upserts, COURSE_BATCH))
    settle_course_ids(con, client, integration.id, run_id)
    restore_courses(con, client, run_id, result)
    archives = [PushRow("course_archive", r.key, r.operation, {"externalId": r.key},
                        r.payload_hash)
                for r in _rows(con, "SELECT key, operation, '{}' AS payload, NULL FROM "
                                    "outbound.course_changes WHERE archive ORDER BY key",
                               "course_archive")]
    pusher.send("course_archive", "DELETE", courses_path, batches(archives, ARCHIVE_BATCH))
