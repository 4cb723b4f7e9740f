"""Learners' emails: 360Learning matches learners by email, Go1 enrollments carry only an id.

An account is read when one of its learner's enrollments changed in this run (an email can
change in Go1, and the attempts about to be pushed must go to the learner's current address),
when its latest version has no email, and when a run that landed its learner's enrollments did
not read accounts, or failed to (and it still has no email). An account Go1 answered 404 for is
asked again only when its learner is active again. Accounts of learners with nothing new are
not read again, so the cost follows the activity, not the portal's size.

The email comes from ``GET /user-accounts/{id}``. The list ``GET /user-accounts`` is not in the
OpenAPI file, and public client fixtures show its hits as ``{id, status}``, without
``user.email``; other readings give whole accounts. So the list is a source of emails only
where its hits carry one: when many accounts are to be read (a first run), the first list page
tells which reading this portal follows, and go1sync remembers it (``meta.api_readings``).
Hits with an email are landed, saving a request each; a hit without one is never landed, so it
can never replace a version that has an email. Every other account is read one by one.
An account read again unchanged is not landed again.
"""

from __future__ import annotations

import math
from urllib.parse import unquote

from apiclient.paths import segment
from extract.client import Page
from extract.errors import ExtractError
from extract.landing import HITS_WITH_EMAIL, USER_ACCOUNTS, WHOLE_BODY, record_keys
from extract.streams.context import Lander, StreamContext, StreamStats, hits_of, pooled
from extract.streams.windows import MAX_REACHABLE, PAGE_SIZE
from warehouse.readings import get_reading, set_reading

NAME = "user_accounts"
PATH = "/user-accounts"
LIST_WHEN_UNKNOWN_OVER = 200
LIST_READING = "user_list_has_emails"  # meta.api_readings: "true" or "false"

# Runs hold the warehouse one at a time, and an accounts stream that succeeds reads every
# learner the query below names: so once it succeeded in run W, every enrollment landed by run
# W or before has had its learner read. Only later enrollments are looked at (a failed or
# interrupted accounts stream, an enrollments-only extract, webhook micro-runs): those of this
# run, all read, and the others' learners still without an account with an email. Plus every
# account held without one. The filter is on the integer ``_run_id`` against one number, so
# DuckDB skips the older row groups instead of reading each enrollment's JSON (at 2,000,000
# enrollments: 6 s for the join over every latest enrollment, some milliseconds now). A
# learner Go1 answered 404 for is asked again only once active again: asking for it every run
# would cost a request a run, forever.
_IDS_TO_READ = """
WITH recent AS (
    SELECT DISTINCT e.record ->> '$.user_account_id' AS id, e._run_id = $run_id AS active
    FROM raw.go1_enrollments AS e
    WHERE e._run_id > (SELECT coalesce(max(run_id), -1) FROM meta.stream_runs
                       WHERE stream = 'user_accounts' AND status = 'success')
),
accounts AS (
    SELECT user_account_id AS id,
           nullif(trim(record ->> '$.user.email'), '') IS NOT NULL AS has_email
    FROM raw.go1_user_accounts_latest
)
SELECT id FROM recent WHERE id IS NOT NULL
  AND (active OR id NOT IN (SELECT id FROM accounts WHERE has_email AND id IS NOT NULL))
UNION
SELECT id FROM accounts WHERE NOT has_email AND id IS NOT NULL
ORDER BY id
"""


def extract_user_accounts(ctx: StreamContext) -> StreamStats:
    stats = StreamStats(NAME)
    unknown = {row[0] for row in
               ctx.con.execute(_IDS_TO_READ, {"run_id": ctx.run_id}).fetchall()}
    if len(unknown) > LIST_WHEN_UNKNOWN_OVER:
        unknown -= _list_all(ctx, stats, len(unknown))
    single = Lander(ctx, USER_ACCOUNTS, stats, hits_path=WHOLE_BODY)
    missing: list[str] = []
    stats.expected = stats.records_read + len(unknown)

    def on_page(page: Page) -> None:
        stats.requests += 1
        single.add(page, 1)

    def on_missing(path: str) -> None:
        stats.requests += 1
        missing.append(unquote(path.rsplit("/", 1)[-1]))

    # The id comes from Go1's data: one encoded segment, so that no id can name another path
    # or add a query ("7?status=x" would read account 7).
    pooled(ctx, ((f"{PATH}/{segment(uid)}", []) for uid in sorted(unknown)), on_page,
            on_missing)
    single.finish()
    if missing:
        stats.notes.append(f"{len(missing)} account(s) unknown to Go1, e.g. {missing[0]}")
    return stats


def _list_all(ctx: StreamContext, stats: StreamStats, unknown: int) -> set[str]:
    """List the portal's accounts if its hits carry emails and that is cheaper; return the
    ids whose email it landed (none when the list answers short hits)."""
    api = ctx.settings.api_url
    if get_reading(ctx.con, "go1", api, LIST_READING) == "false":
        return set()
    landed: set[str] = set()
    lander = Lander(ctx, USER_ACCOUNTS, stats, hits_path=HITS_WITH_EMAIL)

    def emails(page: Page) -> list[str | None]:
        """The ids of the page's hits that carry an email: the records the list lands."""
        hits_of(page)  # a page without a hits list is a contract breach, not empty
        return record_keys(ctx.con, USER_ACCOUNTS, page.text, HITS_WITH_EMAIL)

    def on_page(page: Page) -> None:
        stats.requests += 1
        keys = emails(page)
        landed.update(k for k in keys if k is not None)
        lander.add(page, len(keys))

    first = ctx.client.get(PATH, [("limit", str(PAGE_SIZE)), ("offset", "0")])
    total = first.data.get("total") if isinstance(first.data, dict) else None
    if not isinstance(total, int):
        raise ExtractError(f"GET {first.url}: the response has no integer 'total'")
    if hits_of(first):
        carries = bool(emails(first))
        set_reading(ctx.con, "go1", api, LIST_READING, str(carries).lower(),
                    "list hits carry user.email" if carries
                    else "list hits are {id, status}: emails come from each account",
                    ctx.run_id)
        if not carries:
            stats.requests += 1
            stats.notes.append("the account list carries no emails: accounts read one by one")
            return set()
    on_page(first)
    if math.ceil(min(total, MAX_REACHABLE) / PAGE_SIZE) < unknown:
        offsets = range(PAGE_SIZE, min(total, MAX_REACHABLE), PAGE_SIZE)
        requests = ((PATH, [("limit", str(PAGE_SIZE)), ("offset", str(o))]) for o in offsets)
        pooled(ctx, requests, on_page, lambda path: None)
    lander.finish()
    return landed
