"""Every timestamp form Go1 writes parses to the same UTC instant; naive ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extract.timestamps import TimestampError, go1_param, parse_instant, parse_since


@pytest.mark.parametrize("text", [
    "2025-03-01T10:00:00Z", "2025-03-01T10:00:00+00:00", "2025-03-01T10:00:00+0000",
    "2025-03-01T11:00:00+01:00", "2025-03-01T05:00:00-0500",
])
def test_go1_forms_parse_to_one_utc_instant(text: str) -> None:
    assert parse_instant(text) == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_fractional_seconds_are_kept() -> None:
    assert parse_instant("2025-03-01T10:00:00.123Z").microsecond == 123000


@pytest.mark.parametrize("text", ["2025-03-01T10:00:00", "yesterday", "2025-13-01T00:00:00Z"])
def test_naive_or_malformed_values_are_refused(text: str) -> None:
    with pytest.raises(TimestampError):
        parse_instant(text)


def test_since_takes_a_date_or_an_instant_with_offset() -> None:
    assert parse_since("2026-03-29") == datetime(2026, 3, 29, tzinfo=UTC)
    assert parse_since("2026-03-29T02:30:00+02:00") == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    with pytest.raises(TimestampError, match="write 2026-11-01 or 2026-11-01T08:00:00"):
        parse_since("2026-03-29 02:30")


def test_go1_filter_format_is_whole_seconds_in_utc() -> None:
    instant = parse_instant("2025-03-01T11:00:00.999+01:00")
    assert go1_param(instant) == "2025-03-01T10:00:00Z"
