"""Enrollments, read incrementally on ``updated_time`` in time windows.

The run reads ``[cursor - overlap, run start]`` (or ``[--since, run start]``), sorted ascending.
Requests go out through the client's pool, so up to ``max_in_flight`` pages are in flight: a
window's first page (the probe) tells its total; a window too large for offset paging is cut,
the others are paged. Offsets shift when a record leaves a window while it is being paged (a
re-enrolment, an update), which could skip a record: every page repeats the window's total, and
a window whose total changed is read again. So is a window one of whose pages held fewer hits
than its total promised (``min(limit, total - offset)``) with the same total: the missing
records would otherwise be lost for good, as the cursor moves past them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from extract.client import Page
from extract.endpoints import ENROLLMENTS_OPENAPI_SERVER_PATH, ENROLLMENTS_PATH
from extract.errors import ExtractError
from extract.landing import ENROLLMENTS
from extract.streams.context import Lander, StreamContext, StreamStats, hits_of
from extract.streams.windows import PAGE_SIZE, Window, needs_split, page_offsets, split
from extract.timestamps import floor_second, go1_param
from warehouse.cursors import get_cursor
from warehouse.readings import get_reading, set_reading

NAME = "enrollments"
PATH_READING = "enrollments_path"  # meta.api_readings: where the gateway answers the list
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # first run: Go1 holds nothing older
MAX_REREADS = 3


@dataclass(eq=False)
class _WindowRead:
    window: Window
    rereads: int = 0
    total: int | None = None
    pages_left: int = 0
    changed: bool = False
    short: bool = False  # a page answered fewer hits than the total promised


def plan_bounds(ctx: StreamContext) -> tuple[Window, datetime]:
    """The window this run reads, and the cursor to store if it succeeds.

    The cursor moves to the run's start only when the run read everything after the old
    cursor: a ``--since`` later than the old cursor leaves it where it was, so the gap is
    read by the next ordinary run.
    """
    upper = floor_second(ctx.started_at)
    stored = get_cursor(ctx.con, NAME)
    if ctx.since is not None:
        lower = ctx.since
        advance = stored is None or ctx.since <= stored
    elif stored is not None:
        lower = stored - timedelta(minutes=ctx.settings.enrollment_overlap_minutes)
        advance = True
    else:
        lower, advance = EARLIEST, True
    lower = min(floor_second(lower), upper)
    cursor = upper if advance or stored is None else stored
    return Window(lower, upper), cursor


def _params(window: Window, offset: int) -> list[tuple[str, str]]:
    return [
        ("update_time_gte", go1_param(window.start)),
        ("update_time_lte", go1_param(window.end)),
        ("sort", "updated_time"),
        ("order", "asc"),
        ("limit", str(PAGE_SIZE)),
        ("offset", str(offset)),
    ]


def _total(page: Page) -> int:
    total = page.data.get("total") if isinstance(page.data, dict) else None
    if not isinstance(total, int):
        raise ExtractError(f"GET {page.url}: the response has no integer 'total'")
    return total


def path_candidates(configured: str | None, remembered: str | None) -> list[str]:
    """The paths to try, in order: the setting alone when set; else the one Go1 answered last
    time (or the gateway's /enrollments), then the other form once."""
    if configured:
        return [configured]
    first = remembered or ENROLLMENTS_PATH
    other = ENROLLMENTS_OPENAPI_SERVER_PATH if first == ENROLLMENTS_PATH else ENROLLMENTS_PATH
    return [first, other]


def first_page(get: Callable[[str], Page], candidates: list[str]) -> tuple[str, Page]:
    """The first answer from the first candidate path Go1 does not answer 404 on.

    ``get`` asks one path; 404 on every candidate is an error naming them all.
    """
    last: ExtractError | None = None
    for path in candidates:
        try:
            return path, get(path)
        except ExtractError as exc:
            if exc.status != 404 or len(candidates) == 1:
                raise
            last = exc
    tried = " and ".join(f"GET {p}" for p in candidates)
    raise ExtractError(f"Go1 answered 404 to both {tried}: check GO1_API_URL, or set "
                       f"GO1_ENROLLMENTS_PATH to the enrollment list's path ({last})",
                       status=404)


def _resolve_path(ctx: StreamContext, window: Window) -> tuple[str, Page]:
    """Ask for the run's first page where Go1 answers it, and remember where that was."""
    api = ctx.settings.api_url
    remembered = get_reading(ctx.con, "go1", api, PATH_READING)
    candidates = path_candidates(ctx.settings.enrollments_path, remembered)
    path, page = first_page(lambda p: ctx.client.get(p, _params(window, 0)), candidates)
    if ctx.settings.enrollments_path is None and path != remembered:
        detail = ("answered by the gateway" if path == candidates[0]
                  else f"GET {candidates[0]} answered 404")
        set_reading(ctx.con, "go1", api, PATH_READING, path, detail, ctx.run_id)
    return path, page


def extract_enrollments(ctx: StreamContext) -> StreamStats:
    window, cursor = plan_bounds(ctx)
    stats = StreamStats(NAME, window_from=window.start, window_to=window.end, cursor=cursor)
    lander = Lander(ctx, ENROLLMENTS, stats)
    # The run's first page comes alone: it tells which path Go1 answers on, and the first
    # window's total, before any other page can be asked for.
    path, probe = _resolve_path(ctx, window)
    if path != ENROLLMENTS_PATH:
        stats.notes.append(f"read from GET {path}")
    waiting: deque[tuple[_WindowRead, int]] = deque()
    pending: dict[Future[Page], tuple[_WindowRead, int]] = {}
    # Pages queued beyond those in flight keep the workers busy while this thread lands a
    # batch (25-80 ms for 5,000 records on 2 busy cores, several round trips at 20 ms); with
    # only one round queued the pool ran dry during each landing. At 4 in flight that is 32
    # pages of 50 records held at most, about 600 KB.
    most_pending = 8 * ctx.settings.max_in_flight

    def take(read: _WindowRead, offset: int, page: Page) -> None:
        """Land one page, and plan what it makes necessary: pieces, pages or a re-read."""
        stats.requests += 1
        total = _total(page)
        if stats.expected is None:  # the run's first window: the whole of what is to read
            stats.expected = total
        hits = hits_of(page)
        lander.add(page, len(hits))
        if offset == 0:
            if needs_split(total):
                pieces = split(read.window, total)
                stats.notes.append(f"window of {total} cut in {len(pieces)}")
                waiting.extend((_WindowRead(p), 0) for p in pieces)
                return
            read.total = total
            offsets = page_offsets(total)
            read.pages_left = len(offsets)
            waiting.extend((read, o) for o in offsets)
        else:
            read.pages_left -= 1
            read.changed |= total != read.total
        read.short |= len(hits) < min(PAGE_SIZE, total - offset)
        if read.pages_left == 0 and (read.changed or read.short):
            if read.rereads < MAX_REREADS:
                waiting.append((_WindowRead(read.window, read.rereads + 1), 0))
            else:  # a record may have been skipped: fail, keep the cursor
                between = (f"enrollments updated between {go1_param(read.window.start)} and "
                           f"{go1_param(read.window.end)}")
                how = ("kept changing while they were paged" if read.changed else
                       "kept coming in pages with fewer records than their total")
                raise ExtractError(f"{between} {how} ({MAX_REREADS + 1} reads); run the "
                                   "extract again")

    try:
        take(_WindowRead(window), 0, probe)
        while waiting or pending:
            while waiting and len(pending) < most_pending:
                read, offset = waiting.popleft()
                pending[ctx.client.submit(path, _params(read.window, offset))] = (read, offset)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                read, offset = pending.pop(future)
                take(read, offset, future.result())
    finally:
        for future in pending:
            future.cancel()
    lander.finish()
    return stats
