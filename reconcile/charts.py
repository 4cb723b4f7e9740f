"""The report's two SVG charts, laid out here so the page needs no charting library.

The page must open from disk with nothing fetched, and its script only searches and sorts: so
every bar, segment, tick and label is placed here in SVG user units, and the template
(``templates/report.html.j2``) only draws what it is given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconcile.formatting import grouped, utc
from reconcile.report import HISTORY_RUNS, Category, HistoryPoint, Report

#: Colours for categories (CSS classes ``k0``..``k9``), the same in both charts, so a category
#: can be followed from today's bar to its share in past runs. Blues, teals and mauves only: red,
#: amber and green are kept for counts, where they mean "many", "a few" and "none".
PALETTE_SIZE = 10

#: Width of the charts in SVG units: the card's inner width at the page's max width, so text in
#: the charts is drawn at the page's size; narrower windows scale the charts down.
CHART_WIDTH = 1030

_TITLE_CHARS = 46  # longest category label drawn in the bar chart before it is shortened


@dataclass
class Bar:
    """One horizontal bar of the by-category chart, in SVG user units."""

    y: float
    width: float
    label: str
    full_title: str
    count: int
    colour: int


@dataclass
class BarChart:
    """The by-category chart: one bar per category that has rows, labelled with its count."""

    width: int
    height: int
    label_x: int
    bar_x: int
    bar_height: int
    bars: list[Bar]


@dataclass
class Segment:
    """One category's share of one past run, stacked in that run's column."""

    y: float
    height: float
    colour: int
    title: str


@dataclass
class Column:
    """One past run in the history chart: its stacked segments, total and axis labels."""

    x: float
    width: float
    centre: float
    total: int
    total_y: float
    segments: list[Segment]
    run_label: str
    date_label: str
    show_label: bool
    show_total: bool
    tooltip: str


@dataclass
class Tick:
    """A horizontal grid line of the history chart with its value."""

    y: float
    label: str


@dataclass
class LegendItem:
    """A colour and the category it stands for, under the history chart."""

    colour: int
    title: str


@dataclass
class HistoryChart:
    """The chart over past runs: stacked columns per run, so trends and their causes show."""

    width: int
    height: int
    left: int
    right: int
    baseline: float
    top: int
    columns: list[Column]
    ticks: list[Tick]
    legend: list[LegendItem]
    runs_total: int


def palette(categories: Iterable[Category], history: Iterable[HistoryPoint]) -> dict[str, int]:
    """A palette index per category key, in report order, then keys only past runs knew."""
    keys: dict[str, None] = {c.key: None for c in categories}
    for point in history:
        for key in point.counts:
            keys.setdefault(key, None)
    return {key: i % PALETTE_SIZE for i, key in enumerate(keys)}


def _shorten(text: str, limit: int = _TITLE_CHARS) -> str:
    """A label that fits its room in a chart; the full text stays in the SVG ``<title>``."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def bar_chart(report: Report, colours: dict[str, int]) -> BarChart | None:
    """Bars scaled to the largest count; ``None`` when nothing differs (nothing to compare)."""
    with_rows = [c for c in report.categories if c.rows]
    if not with_rows:
        return None
    width, label_x, bar_x, row_h, bar_h = CHART_WIDTH, 330, 342, 30, 18
    room = width - bar_x - 70  # space left for the count after the longest bar
    biggest = max(c.count for c in with_rows)
    bars = [
        Bar(
            y=8 + i * row_h,
            width=max(2.0, round(room * c.count / biggest, 1)),
            label=_shorten(c.title),
            full_title=f"{c.title}: {grouped(c.count)}",
            count=c.count,
            colour=colours[c.key],
        )
        for i, c in enumerate(with_rows)
    ]
    return BarChart(
        width=width,
        height=16 + len(bars) * row_h - (row_h - bar_h),
        label_x=label_x,
        bar_x=bar_x,
        bar_height=bar_h,
        bars=bars,
    )


def _tick_step(value: int) -> int:
    """A grid step of 1, 2 or 5 times a power of ten giving at most five intervals up to
    ``value``: ticks then read as round numbers (0, 500, 1,000), never 625 or 1,875."""
    raw = max(1.0, value / 5)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return int(multiple * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def history_chart(
    report: Report, colours: dict[str, int], titles: dict[str, str]
) -> HistoryChart | None:
    """Stacked columns, one per past run (oldest left); ``None`` below two runs (no trend)."""
    points: Sequence[HistoryPoint] = sorted(report.history, key=lambda p: (utc(p.at), p.run_id))
    if len(points) < 2:
        return None
    runs_total = len(points)
    points = points[-HISTORY_RUNS:]
    width, height, left, right, top, bottom = CHART_WIDTH, 280, 52, 16, 22, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    baseline = top + plot_h
    totals = [sum(max(0, n) for n in p.counts.values()) for p in points]
    step = _tick_step(max(totals))
    y_max = step * max(1, math.ceil(max(totals) / step))
    slot = plot_w / len(points)
    bar_w = min(46.0, slot * 0.62)
    every = math.ceil(len(points) / 14)  # label at most ~14 runs so labels never overlap
    order = list(colours)
    columns = []
    for i, (point, total) in enumerate(zip(points, totals, strict=True)):
        centre = left + slot * (i + 0.5)
        y: float = baseline
        segments = []
        for key in sorted(point.counts, key=lambda k: order.index(k) if k in order else len(order)):
            n = max(0, point.counts[key])
            if n == 0:
                continue
            h = plot_h * n / y_max
            y -= h
            segments.append(
                Segment(
                    y=round(y, 2),
                    height=round(h, 2),
                    colour=colours.get(key, 0),
                    title=f"{titles.get(key, key)}: {grouped(n)}",
                )
            )
        at = utc(point.at)
        labelled = (len(points) - 1 - i) % every == 0  # the latest run is always labelled
        columns.append(
            Column(
                x=round(centre - bar_w / 2, 2),
                width=round(bar_w, 2),
                centre=round(centre, 2),
                total=total,
                total_y=round(y - 5, 2),
                segments=segments,
                run_label=f"#{point.run_id}",
                date_label=at.strftime("%b %d"),
                show_label=labelled,
                show_total=labelled or slot >= 56,
                tooltip=f"Run {point.run_id}, {at:%Y-%m-%d %H:%M} UTC: {grouped(total)}",
            )
        )
    ticks = [
        Tick(y=round(baseline - plot_h * v / y_max, 2), label=grouped(v))
        for v in range(0, y_max + 1, step)
    ]
    used = {key for p in points for key, n in p.counts.items() if n > 0}
    legend = [LegendItem(colour=colours[k], title=titles.get(k, k)) for k in colours if k in used]
    return HistoryChart(
        width=width,
        height=height,
        left=left,
        right=width - right,
        baseline=baseline,
        top=top,
        columns=columns,
        ticks=ticks,
        legend=legend,
        runs_total=runs_total,
    )
