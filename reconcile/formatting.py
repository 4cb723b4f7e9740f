"""How values read on the report page: cells, counts and times, the same way everywhere.

Shared by the page (:mod:`reconcile.html`) and its charts (:mod:`reconcile.charts`), so a count
or a time reads the same in a table, a bar label and a tooltip.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

#: Counts at or above this are red rather than amber: a handful of differences is a follow-up,
#: this many is usually one systematic cause (a setting, a failed run) worth looking at first.
RED_FROM = 50


def format_cell(value: Any) -> str:
    """One cell as text: the same value always reads the same, and times read as UTC.

    Numbers are not grouped with thousands separators: many are identifiers (Go1 ids), which
    people copy and search for.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def is_number(value: Any) -> bool:
    """Whether a value is a number, so its column is right-aligned (bools are not numbers)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive datetime is taken as already UTC (the warehouse runs in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def grouped(n: int) -> str:
    """A count with thousands separators, as people read it (1,234)."""
    return f"{n:,}"


def level(count: int) -> str:
    """The accent of a count: green when nothing differs, amber for a few, red for many."""
    if count == 0:
        return "ok"
    return "warn" if count < RED_FROM else "bad"


def count_text(count: int) -> str:
    """A category's count as the summary shows it: "none" reads as the all-clear it is."""
    return "none" if count == 0 else grouped(count)
