"""Timestamps in and out of Go1: every one is parsed to an aware UTC datetime on arrival.

Go1 writes ``…Z``, ``…+00:00`` and ``…+0000``, with or without fractional seconds; its filters
take ISO 8601 in UTC. A naive value (no offset) is refused rather than guessed at.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from extract.errors import ExtractError

_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


class TimestampError(ExtractError, ValueError):
    """A value that is not an ISO 8601 instant with an offset."""


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 instant with an offset (``Z``, ``+00:00``, ``+0000``) to UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _COMPACT_OFFSET.sub(r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise TimestampError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise TimestampError(f"{value!r} has no UTC offset (write it as 2026-11-01T08:00:00Z)")
    return parsed.astimezone(UTC)


def parse_since(value: str) -> datetime:
    """``--since``: a date (midnight UTC) or a date-time with an offset."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    try:
        return parse_instant(text)
    except TimestampError:
        raise TimestampError(
            f"--since {value!r} is neither a date nor a date-time with an offset; "
            "write 2026-11-01 or 2026-11-01T08:00:00+01:00"
        ) from None


def go1_param(instant: datetime) -> str:
    """Format for Go1's ``update_time_gte/lte``: whole seconds, UTC, ``Z``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_second(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(microsecond=0)
