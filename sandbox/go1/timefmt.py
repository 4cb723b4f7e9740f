"""Instants as integer microseconds, and the four ways Go1 writes them.

The sandbox keeps every timestamp as whole microseconds since the Unix epoch (UTC) so that
window filters compare true instants exactly, with no float rounding at the edges. What it
serves is one of the spellings real Go1 responses use (the contract says clients must parse all
of them); each record has one fixed spelling, chosen from its id, so the output is deterministic.
A record's stored instant is always truncated to what its spelling can say, so the served string
and the instant used for filtering never disagree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

US_PER_SECOND = 1_000_000

#: the four spellings: 0 ``…Z``, 1 ``…+00:00``, 2 ``…+0000``, 3 ``….123Z`` (milliseconds)
STYLE_Z, STYLE_COLON, STYLE_NOCOLON, STYLE_MILLIS = 0, 1, 2, 3
STYLES = (STYLE_Z, STYLE_COLON, STYLE_NOCOLON, STYLE_MILLIS)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_CACHE: dict[int, str] = {}

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


def style_for(key: int) -> int:
    """The spelling of a record, from its numeric id: stable, and well mixed between neighbours."""
    return ((key * 2654435761) >> 5) % 4


def to_us(moment: datetime) -> int:
    """A timezone-aware datetime as microseconds since the epoch (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(us: int) -> datetime:
    """The inverse of :func:`to_us`."""
    seconds, micros = divmod(us, US_PER_SECOND)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def truncate(us: int, style: int) -> int:
    """The instant a spelling can say: milliseconds for STYLE_MILLIS, else whole seconds."""
    if style == STYLE_MILLIS:
        return us - us % 1000
    return us - us % US_PER_SECOND


def _date(day: int) -> str:
    text = _DAY_CACHE.get(day)
    if text is None:
        text = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")
        _DAY_CACHE[day] = text
    return text


def _clock() -> list[str]:
    """Every clock reading of a day, each with its date separator: ``T00:00:00`` … ``T23:59:59``."""
    return [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]


_CLOCK = _clock()
#: what follows the clock, by style; STYLE_MILLIS's depends on the instant (``_MILLIS``)
_OFFSETS = {STYLE_Z: "Z", STYLE_COLON: "+00:00", STYLE_NOCOLON: "+0000"}
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))


def format_us(us: int, style: int) -> str:
    """Spell an instant. Table-driven (dates cached, all 86,400 clock readings and 1,000
    millisecond endings precomputed) because this was the bottleneck of generating 500k
    enrollments, and then of serving them."""
    seconds = us // US_PER_SECOND
    day = seconds // 86_400
    date = _DAY_CACHE.get(day) or _date(day)
    offset = _OFFSETS.get(style)
    if offset is None:
        offset = _MILLIS[us % US_PER_SECOND // 1000]
    return f"{date}{_CLOCK[seconds - day * 86_400]}{offset}"


def json_us(us: int | None, style: int) -> str:
    """An optional instant as a JSON value: ``null``, or :func:`format_us`'s spelling quoted
    (digits and ``-:.TZ+`` only, so it needs no escaping)."""
    return "null" if us is None else f'"{format_us(us, style)}"'


def parse_us(text: str) -> int:
    """Parse an ISO 8601 date or date-time (``Z``, ``±hh:mm``, ``±hhmm``, fractions) to µs, UTC.

    A value without an offset is taken as UTC (the API says every time is UTC). Raises
    ``ValueError`` on anything else, which the routes turn into a 400.
    """
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    moment = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
        tzinfo=UTC,
    )
    us = to_us(moment)
    if fraction:
        us += int((fraction + "000000")[:6])
    if offset and offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        us -= sign * (int(digits[:2]) * 3600 + int(digits[2:])) * US_PER_SECOND
    return us
