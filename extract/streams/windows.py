"""Time windows for Go1's offset paging, which cannot reach past 10,000 results.

A window whose ``total`` exceeds what offsets can reach is cut into pieces sized from that total
(assuming an even spread, then cutting again where it is not). Bounds are whole seconds and
inclusive, and neighbouring pieces share their boundary second: a record updated at 10:00:00.5
is inside ``[…, 10:00:00]`` for no server and inside ``[10:00:00, …]`` for every server, so
nothing falls between two pieces, and the copy read twice is dropped when the stream settles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from extract.errors import ExtractError

MAX_REACHABLE = 10_000  # limit + offset may not exceed this
PAGE_SIZE = 50
TARGET_PER_WINDOW = 8_000  # leaves room for records that arrive between probe and paging


@dataclass(frozen=True)
class Window:
    start: datetime  # update_time_gte, inclusive
    end: datetime  # update_time_lte, inclusive

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


class WindowTooDense(ExtractError):
    """More records than offsets can reach inside a window too short to cut."""


def needs_split(total: int) -> bool:
    return total > MAX_REACHABLE


def split(window: Window, total: int) -> list[Window]:
    """Cut a window holding ``total`` records into pieces each likely under the target."""
    if window.seconds < 2:  # a cut would give back the same window, or lose records
        raise WindowTooDense(
            f"{total} enrollments were updated between {window.start.isoformat()} and "
            f"{window.end.isoformat()}, more than the {MAX_REACHABLE} Go1's offset paging can "
            "reach, and a window this short cannot be cut further"
        )
    pieces = min(max(2, math.ceil(total / TARGET_PER_WINDOW)), window.seconds)
    step = window.seconds / pieces
    bounds = [window.start + timedelta(seconds=round(i * step)) for i in range(pieces)]
    bounds.append(window.end)
    return [Window(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a <= b]


def page_offsets(total: int) -> range:
    """Offsets after the first page, as far as offset paging reaches."""
    reachable = min(total, MAX_REACHABLE)
    return range(PAGE_SIZE, reachable, PAGE_SIZE)
