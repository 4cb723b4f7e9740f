"""Learners' emails: 360Learning matches learners by email, Go1 enrollments carry only an id.

An account is read when it is not in the warehouse yet, when it was read without an email, and
when one of its learner's enrollments changed in this run: an email can change in Go1, and the
attempts about to be pushed must go to the learner's current address. Accounts of learners with
nothing new are not read again, so the cost follows the activity, not the portal's size. One by
one costs a request per account; the list costs a request per 50 accounts of the whole portal,
so when many are to be read (a first run) the list is read instead, as far as offset paging
reaches, and the rest fetched one by one. An account read again unchanged is not landed again.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait

from extract.client import Page
from extract.errors import ExtractError
from extract.landing import USER_ACCOUNTS, WHOLE_BODY
from extract.streams.context import Lander, StreamContext, StreamStats, hits_of
from extract.streams.windows import MAX_REACHABLE, PAGE_SIZE

NAME = "user_accounts"
PATH = "/user-accounts"
LIST_WHEN_UNKNOWN_OVER = 200

_IDS_TO_READ = """
SELECT DISTINCT e.record ->> '$.user_account_id' AS id
FROM raw.go1_enrollments_latest AS e
LEFT JOIN raw.go1_user_accounts_latest AS a
       ON a.user_account_id = e.record ->> '$.user_account_id'
WHERE id IS NOT NULL
  AND (a.user_account_id IS NULL                                 -- never read
       OR nullif(trim(a.record ->> '$.user.email'), '') IS NULL  -- read without an email
       OR e._run_id = $run_id)                                   -- learner active in this run
ORDER BY id
"""


def _pooled(ctx: StreamContext, requests: Iterable[tuple[str, list[tuple[str, str]]]],
            on_page: Callable[[Page], None], on_missing: Callable[[str], None]) -> None:
    """Send requests through the client's pool, a bounded number pending at a time."""
    waiting = deque(requests)
    pending: dict[Future[Page], str] = {}
    most_pending = 2 * ctx.settings.max_in_flight
    try:
        while waiting or pending:
            while waiting and len(pending) < most_pending:
                path, params = waiting.popleft()
                pending[ctx.client.submit(path, params)] = path
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                path = pending.pop(future)
                try:
                    page = future.result()
                except ExtractError as exc:
                    if exc.status != 404:
                        raise
                    on_missing(path)
                    continue
                on_page(page)
    finally:
        for future in pending:
            future.cancel()


def extract_user_accounts(ctx: StreamContext) -> StreamStats:
    stats = StreamStats(NAME)
    unknown = {row[0] for row in
               ctx.con.execute(_IDS_TO_READ, {"run_id": ctx.run_id}).fetchall()}
    if len(unknown) > LIST_WHEN_UNKNOWN_OVER:
        unknown -= _list_all(ctx, stats, len(unknown))
    single = Lander(ctx, USER_ACCOUNTS, stats, hits_path=WHOLE_BODY)
    missing: list[str] = []

    def on_page(page: Page) -> None:
        stats.requests += 1
        single.add(page, 1)

    def on_missing(path: str) -> None:
        stats.requests += 1
        missing.append(path.rsplit("/", 1)[-1])

    _pooled(ctx, ((f"{PATH}/{uid}", []) for uid in sorted(unknown)), on_page, on_missing)
    single.finish()
    if missing:
        stats.notes.append(f"{len(missing)} account(s) unknown to Go1, e.g. {missing[0]}")
    return stats


def _list_all(ctx: StreamContext, stats: StreamStats, unknown: int) -> set[str]:
    """List the portal's accounts if that is cheaper; return the ids it landed."""
    listed: set[str] = set()
    lander = Lander(ctx, USER_ACCOUNTS, stats)

    def on_page(page: Page) -> None:
        stats.requests += 1
        hits = hits_of(page)
        listed.update(str(h["id"]) for h in hits if h.get("id") is not None)
        lander.add(page, len(hits))

    first = ctx.client.get(PATH, [("limit", str(PAGE_SIZE)), ("offset", "0")])
    total = first.data.get("total") if isinstance(first.data, dict) else None
    if not isinstance(total, int):
        raise ExtractError(f"GET {first.url}: the response has no integer 'total'")
    on_page(first)
    if math.ceil(min(total, MAX_REACHABLE) / PAGE_SIZE) < unknown:
        offsets = range(PAGE_SIZE, min(total, MAX_REACHABLE), PAGE_SIZE)
        requests = ((PATH, [("limit", str(PAGE_SIZE)), ("offset", str(o))]) for o in offsets)
        _pooled(ctx, requests, on_page, lambda path: None)
    lander.finish()
    return listed
