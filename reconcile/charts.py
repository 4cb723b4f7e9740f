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
from reconcile.report import (
    EXCLUDED,
    EXCLUDED_NOTE,
    HISTORY_RUNS,
    KIND_TITLES,
    NEEDS_ACTION,
    Category,
    HistoryPoint,
    Report,
    by_severity,
)

#: Colours for the categories that need action (CSS classes ``k0``..``k8``), the same in both
#: charts, so a category can be followed from today's bar to its share in past runs: Paul Tol's
#: "muted" scheme, nine colours told apart with every common colour-vision deficiency. The
#: categories excluded by design are all one neutral grey (``kx``): they are not drift.
PALETTE_SIZE = 9
EXCLUDED_COLOUR = "kx"

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
    colour: str  # a CSS class: k0..k8, or kx for a category excluded by design


@dataclass
class BarHeading:
    """The heading above one kind's bars: what they are, and how they are scaled."""

    y: float
    text: str


@dataclass
class BarChart:
    """The by-category chart: what needs action, then apart what is excluded by design, each
    kind scaled to its own largest count (a few hundred excluded rows would otherwise flatten
    the drift that matters to one-pixel bars); every bar is labelled with its count."""

    width: int
    height: int
    label_x: int
    bar_x: int
    bar_height: int
    bars: list[Bar]
    headings: list[BarHeading]


@dataclass
class Segment:
    """One category's share of one past run, stacked in that run's column."""

    y: float
    height: float
    colour: str
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

    colour: str
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


def palette(categories: Iterable[Category], history: Iterable[HistoryPoint]) -> dict[str, str]:
    """A colour class per category key: the categories that need action, most severe first,
    then keys only past runs knew, get the palette's colours in turn; those excluded by design
    get the neutral one."""
    keys: dict[str, bool] = {c.key: c.needs_action for c in by_severity(categories)}
    for point in history:
        for key in point.counts:
            keys.setdefault(key, True)
    colours, turn = {}, 0
    for key, needs_action in keys.items():
        if needs_action:
            colours[key] = f"k{turn % PALETTE_SIZE}"
            turn += 1
        else:
            colours[key] = EXCLUDED_COLOUR
    return colours


def _shorten(text: str, limit: int = _TITLE_CHARS) -> str:
    """A label that fits its room in a chart; the full text stays in the SVG ``<title>``."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def bar_chart(report: Report, colours: dict[str, str]) -> BarChart | None:
    """Bars, needs action first, each kind scaled to its own largest count; ``None`` when
    nothing differs (nothing to compare)."""
    if not any(c.rows for c in report.categories):
        return None
    width, label_x, bar_x, row_h, bar_h, head_h = CHART_WIDTH, 330, 342, 30, 18, 26
    room = width - bar_x - 70  # space left for the count after the longest bar
    bars: list[Bar] = []
    headings: list[BarHeading] = []
    y = 4.0
    for kind, categories in ((NEEDS_ACTION, report.needs_action), (EXCLUDED, report.excluded)):
        with_rows = [c for c in categories if c.rows]
        if kind == EXCLUDED and not with_rows:
            continue
        title = KIND_TITLES[kind].capitalize()
        if not with_rows:
            text = f"{title}: none"
        elif kind == EXCLUDED:
            text = f"{title} ({EXCLUDED_NOTE}; scaled apart)"
        else:
            text = title
        headings.append(BarHeading(y=y + 14, text=text))
        y += head_h
        biggest = max((c.count for c in with_rows), default=1)
        for c in with_rows:
            bars.append(Bar(
                y=y,
                width=max(2.0, round(room * c.count / biggest, 1)),
                label=_shorten(c.title),
                full_title=f"{c.title}: {grouped(c.count)}",
                count=c.count,
                colour=colours[c.key],
            ))
            y += row_h
        y += 8
    return BarChart(
        width=width,
        height=int(y - 8 - (row_h - bar_h) + 8),
        label_x=label_x,
        bar_x=bar_x,
        bar_height=bar_h,
        bars=bars,
        headings=headings,
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
    report: Report, colours: dict[str, str], titles: dict[str, str]
) -> HistoryChart | None:
    """Stacked columns of what needed action, one per past run (oldest left); ``None`` below
    two runs (no trend). What was excluded by design is left out of the columns (a steady few
    hundred would dwarf the drift) and told in each column's tooltip."""
    points: Sequence[HistoryPoint] = sorted(report.history, key=lambda p: (utc(p.at), p.run_id))
    if len(points) < 2:
        return None
    runs_total = len(points)
    points = points[-HISTORY_RUNS:]
    width, height, left, right, top, bottom = CHART_WIDTH, 280, 52, 16, 22, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    baseline = top + plot_h
    def drift(key: str) -> bool:
        return colours.get(key) != EXCLUDED_COLOUR  # a key only past runs knew counts

    totals = [sum(max(0, n) for k, n in p.counts.items() if drift(k)) for p in points]
    excluded = [sum(max(0, n) for k, n in p.counts.items() if not drift(k)) for p in points]
    step = _tick_step(max(totals))
    y_max = step * max(1, math.ceil(max(totals) / step))
    slot = plot_w / len(points)
    bar_w = min(46.0, slot * 0.62)
    every = math.ceil(len(points) / 14)  # label at most ~14 runs so labels never overlap
    order = list(colours)
    columns = []
    for i, (point, total, left_out) in enumerate(zip(points, totals, excluded, strict=True)):
        centre = left + slot * (i + 0.5)
        y: float = baseline
        segments = []
        for key in sorted(point.counts, key=lambda k: order.index(k) if k in order else len(order)):
            n = max(0, point.counts[key]) if drift(key) else 0
            if n == 0:
                continue
            h = plot_h * n / y_max
            y -= h
            segments.append(
                Segment(
                    y=round(y, 2),
                    height=round(h, 2),
                    colour=colours.get(key, "k0"),
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
                tooltip=(f"Run {point.run_id}, {at:%Y-%m-%d %H:%M} UTC: {grouped(total)} "
                         f"needing action, {grouped(left_out)} excluded by design"),
            )
        )
    ticks = [
        Tick(y=round(baseline - plot_h * v / y_max, 2), label=grouped(v))
        for v in range(0, y_max + 1, step)
    ]
    used = {key for p in points for key, n in p.counts.items() if n > 0 and drift(key)}
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
