"""Progress on stderr: bars on a terminal, a plain line now and then in a log."""

from __future__ import annotations

import io

from go1sync.progress import PLAIN_EVERY, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_plain_line_per_task_now_and_then() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress(out, live=False, clock=clock) as progress:
        progress.update("enrollments", 50, 1_000, "records")
        clock.now = PLAIN_EVERY / 2
        progress.update("enrollments", 400, 1_000, "records")
        progress.update("learning_objects", 10, None, "records", "3 requests")
        clock.now = PLAIN_EVERY + 1
        progress.update("enrollments", 900, 1_000, "records")
        progress.update("learning_objects", 20, None, "records", "5 requests")
    assert out.getvalue().splitlines() == [
        "enrollments: 900 of 1,000 records",
        # learning_objects was first counted later: PLAIN_EVERY has not passed for it yet
    ]


def test_a_terminal_gets_a_bar_per_task_with_its_total() -> None:
    out = io.StringIO()
    with Progress(out, live=True) as progress:
        progress.update("learning_objects", 250, 1_000, "records", "12 requests")
        progress.update("enrollments", 40, None, "records")
    shown = out.getvalue()
    assert "learning_objects" in shown and "250/1000" in shown and "12 requests" in shown
    assert "enrollments" in shown
