"""The My Library catalog, listed in full on every run.

A full listing (not an incremental one) is what lets the models notice content that left
My Library: it is simply absent from the latest listing. Go1 lists ``published`` by default and
wants ``retired`` and ``removed`` asked for in separate requests, so there are three scrolls.
"""

from __future__ import annotations

from extract.errors import ExtractError, ScrollExpired
from extract.landing import LEARNING_OBJECTS
from extract.streams.context import Lander, StreamContext, StreamStats, hits_of
from warehouse.transform import synced_types

NAME = "learning_objects"
PATH = "/learning-objects"
SYNCED_TYPES = synced_types()  # the seed content_type_map owns the list
INCLUDES = ("core", "relevance", "lifecycle", "provider", "topics")
STATES = ("published", "retired", "removed")
SCROLL_LIMIT = 5000
SCROLL_RESTARTS = 3


def listing_params(state: str) -> list[tuple[str, str]]:
    return [
        ("collection", "library"),
        *(("type[]", t) for t in SYNCED_TYPES),
        *(("include[]", i) for i in INCLUDES),
        ("state[]", state),
        ("use_scroll", "true"),
        ("limit", str(SCROLL_LIMIT)),
    ]


class _ScrollShort(Exception):
    """A scroll ended with fewer hits than its total: a retried request skipped a page."""


def _scroll(ctx: StreamContext, lander: Lander, stats: StreamStats, state: str) -> set[str]:
    """Read one state's listing to its end; return the lo_ids it holds.

    A scroll id moves forward on the server: if a request went through but its answer was
    lost, the retry returns the next page. Counting hits against ``total`` catches that.
    """
    listed: set[str] = set()
    page = ctx.client.get(PATH, listing_params(state))
    stats.requests += 1
    total = page.data.get("total") if isinstance(page.data, dict) else None
    if isinstance(total, int):  # what is left to read: landed so far plus this listing
        stats.expected = stats.records_read + total
    seen = 0
    while True:
        hits = hits_of(page)
        if hits:
            seen += len(hits)
            # A hit that is no object has no lo_id to list (landing sets it aside); one DuckDB
            # cannot read is still listed: it has not left My Library, and the version landed
            # before stays the course's.
            listed.update(str(h["lo_id"]) for h in hits
                          if isinstance(h, dict) and h.get("lo_id") is not None)
            lander.add(page, len(hits))
        scroll_id = page.data.get("next_scroll_id")
        if isinstance(total, int) and len(listed) >= total and hits:
            # every object, by distinct lo_id (a page served twice cannot pass for a missed
            # one): the empty page after it would only cost a request
            return listed
        if not hits or not scroll_id:
            if isinstance(total, int) and seen < total:
                raise _ScrollShort(f"{seen} of {total}")
            return listed
        page = ctx.client.get(PATH, [("use_scroll", "true"), ("scroll_id", str(scroll_id))])
        stats.requests += 1


def extract_learning_objects(ctx: StreamContext) -> StreamStats:
    stats = StreamStats(NAME)
    lander = Lander(ctx, LEARNING_OBJECTS, stats)
    for state in STATES:
        for attempt in range(1, SCROLL_RESTARTS + 1):
            try:
                listed = _scroll(ctx, lander, stats, state)
                break
            except (ScrollExpired, _ScrollShort) as exc:
                # Pages already landed stay; settle() drops their second copy.
                why = "scroll expired" if isinstance(exc, ScrollExpired) else f"short: {exc}"
                stats.notes.append(f"{state} listing restarted ({why})")
                if attempt == SCROLL_RESTARTS:
                    raise ExtractError(
                        f"the {state} listing could not be read whole in {SCROLL_RESTARTS} "
                        f"tries ({why}); Go1 may be slow, try again later"
                    ) from None
        ctx.con.execute(
            "INSERT INTO raw.go1_library_listings SELECT $run_id, unnest($ids), $state",
            {"run_id": ctx.run_id, "ids": sorted(listed), "state": state},
        )
    lander.finish()
    return stats
