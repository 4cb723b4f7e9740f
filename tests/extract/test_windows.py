"""Window cutting for offset paging: pieces cover the window, share boundaries, stop at 1 s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from extract.streams.windows import Window, WindowTooDense, needs_split, page_offsets, split

START = datetime(2025, 1, 1, tzinfo=UTC)


def test_only_totals_past_ten_thousand_are_cut() -> None:
    assert not needs_split(10_000)
    assert needs_split(10_001)


def test_pieces_cover_the_window_with_shared_boundaries() -> None:
    window = Window(START, START + timedelta(days=30))
    pieces = split(window, 50_000)
    assert len(pieces) == 7  # ceil(50,000 / 8,000)
    assert pieces[0].start == window.start and pieces[-1].end == window.end
    assert all(a.end == b.start for a, b in zip(pieces, pieces[1:], strict=False))


def test_a_short_window_is_cut_at_most_into_seconds() -> None:
    pieces = split(Window(START, START + timedelta(seconds=3)), 100_000)
    assert [(p.start.second, p.end.second) for p in pieces] == [(0, 1), (1, 2), (2, 3)]


def test_a_window_of_one_second_cannot_be_cut() -> None:
    with pytest.raises(WindowTooDense, match="cannot be cut further"):
        split(Window(START, START + timedelta(seconds=1)), 10_001)


def test_offsets_stop_where_offset_paging_stops() -> None:
    assert list(page_offsets(120)) == [50, 100]
    assert page_offsets(10_000)[-1] == 9_950
    assert len(page_offsets(50)) == 0
