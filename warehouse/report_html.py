"""The reconciliation report as one self-contained HTML page.

The text, CSV and JSON renderings (``warehouse/report.py``) are for scripts and terminals; this
page is for the person who has to explain why 360Learning shows something else than Go1. It must
open from disk, offline, from an e-mail attachment or a CI artifact: so everything is inline (CSS,
a little vanilla JS, SVG charts drawn here in Python) and nothing is fetched. A
Content-Security-Policy with ``default-src 'none'`` and hashes of our own style and script makes
the browser enforce that, and refuses any script that would slip in with the data.

Go1 titles and 360Learning values are data from outside: every piece of it goes through jinja2
with autoescaping on, never through string concatenation, and the JS reads the table's DOM rather
than having any value written into it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from warehouse.report import Category, HistoryPoint, Report

#: Rows rendered per category: beyond this a browser gets slow to filter and sort, and a person
#: reads the exports anyway (they hold every row).
MAX_ROWS = 2000

#: Runs drawn in the history chart: more would make bars thinner than their labels.
HISTORY_MAX_RUNS = 30

#: Counts at or above this are red rather than amber: a handful of differences is a follow-up,
#: this many is usually one systematic cause (a setting, a failed run) worth looking at first.
RED_FROM = 50

#: Colours for categories (CSS classes ``k0``..``k9``), the same in both charts, so a category
#: can be followed from today's bar to its share in past runs. Blues, teals and mauves only: red,
#: amber and green are kept for counts, where they mean "many", "a few" and "none".
PALETTE_SIZE = 10

#: Width of the charts in SVG units: the card's inner width at the page's max width, so text in
#: the charts is drawn at the page's size; narrower windows scale the charts down.
CHART_WIDTH = 1030

_TITLE_CHARS = 46  # longest category label drawn in the bar chart before it is shortened


# --- Values shown in cells --------------------------------------------------------------------


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
        return _utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _is_number(value: Any) -> bool:
    """Whether a value is a number, so its column is right-aligned (bools are not numbers)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive datetime is taken as already UTC (the warehouse runs in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _grouped(n: int) -> str:
    """A count with thousands separators, as people read it (1,234)."""
    return f"{n:,}"


def _level(count: int) -> str:
    """The accent of a count: green when nothing differs, amber for a few, red for many."""
    if count == 0:
        return "ok"
    return "warn" if count < RED_FROM else "bad"


def _count_text(count: int) -> str:
    """A category's count as the summary shows it: "none" reads as the all-clear it is."""
    return "none" if count == 0 else _grouped(count)


def _shorten(text: str, limit: int = _TITLE_CHARS) -> str:
    """A label that fits its room in a chart; the full text stays in the SVG ``<title>``."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


# --- What the template receives ---------------------------------------------------------------


@dataclass
class Section:
    """A category with rows, ready to draw: its table, and how many rows were left out."""

    anchor: str
    table_id: str
    title: str
    cause_and_fix: str
    count: int
    level: str
    colour: int
    columns: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    left_out: int


@dataclass
class SummaryLine:
    """One line of the summary table; ``anchor`` is empty when there is no section to go to."""

    title: str
    count: int
    level: str
    cause_and_fix: str
    anchor: str


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


# --- Layout, done here so the page needs no charting library ----------------------------------


def _columns_of(category: Category) -> list[str]:
    """The category's declared columns, or, when it declares none, the keys its rows use."""
    if category.columns:
        return list(category.columns)
    seen: dict[str, None] = {}
    for row in category.rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _sections(report: Report, colours: dict[str, int]) -> list[Section]:
    """One section per category with rows; the first ``MAX_ROWS`` rows are rendered."""
    sections = []
    for index, category in enumerate(report.categories):
        if not category.rows:
            continue
        columns = _columns_of(category)
        shown = category.rows[:MAX_ROWS]
        numeric = [
            any(_is_number(row.get(c)) for row in shown)
            and all(row.get(c) is None or _is_number(row.get(c)) for row in shown)
            for c in columns
        ]
        sections.append(
            Section(
                anchor=f"cat-{index + 1}",
                table_id=f"rows-{index + 1}",
                title=category.title,
                cause_and_fix=category.cause_and_fix,
                count=category.count,
                level=_level(category.count),
                colour=colours[category.key],
                columns=columns,
                numeric=numeric,
                rows=[[format_cell(row.get(c)) for c in columns] for row in shown],
                left_out=category.count - len(shown),
            )
        )
    return sections


def _summary(report: Report) -> list[SummaryLine]:
    """Every category, rows or not: a clean category reads "none", which is the good news."""
    return [
        SummaryLine(
            title=c.title,
            count=c.count,
            level=_level(c.count),
            cause_and_fix=c.cause_and_fix,
            anchor=f"cat-{i + 1}" if c.rows else "",
        )
        for i, c in enumerate(report.categories)
    ]


def _bar_chart(report: Report, colours: dict[str, int]) -> BarChart | None:
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
            full_title=f"{c.title}: {_grouped(c.count)}",
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


def _history_chart(
    report: Report, colours: dict[str, int], titles: dict[str, str]
) -> HistoryChart | None:
    """Stacked columns, one per past run (oldest left); ``None`` below two runs (no trend)."""
    points: Sequence[HistoryPoint] = sorted(report.history, key=lambda p: (_utc(p.at), p.run_id))
    if len(points) < 2:
        return None
    runs_total = len(points)
    points = points[-HISTORY_MAX_RUNS:]
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
                    title=f"{titles.get(key, key)}: {_grouped(n)}",
                )
            )
        at = _utc(point.at)
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
                tooltip=f"Run {point.run_id}, {at:%Y-%m-%d %H:%M} UTC: {_grouped(total)}",
            )
        )
    ticks = [
        Tick(y=round(baseline - plot_h * v / y_max, 2), label=_grouped(v))
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


def _colours(categories: Iterable[Category], history: Iterable[HistoryPoint]) -> dict[str, int]:
    """A palette index per category key, in report order, then keys only past runs knew."""
    keys: dict[str, None] = {c.key: None for c in categories}
    for point in history:
        for key in point.counts:
            keys.setdefault(key, None)
    return {key: i % PALETTE_SIZE for i, key in enumerate(keys)}


# --- The page ---------------------------------------------------------------------------------

_CSS = """
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --stripe: #f5f7fa; --paper: #fff;
  --accent: #2f6690; --ok: #1e7b4b; --ok-bg: #e3f5ea; --warn: #9a5b00; --warn-bg: #fff3d6;
  --bad: #b42318; --bad-bg: #fde8e6;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: #f0f3f7; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "Liberation Sans", sans-serif;
}
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 64px; }
header.page { margin-bottom: 20px; }
h1 { font-size: 26px; line-height: 1.2; margin: 0 0 6px; letter-spacing: -0.01em; }
h2 { font-size: 18px; line-height: 1.3; margin: 0; }
.meta { color: var(--muted); margin: 0; display: flex; flex-wrap: wrap; gap: 4px 22px; }
.meta b { color: var(--ink); font-weight: 600; }
.card {
  background: var(--paper); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin: 0 0 18px;
}
.card > h2 { margin-bottom: 10px; }
.lead { margin: 0 0 12px; color: var(--muted); }
.clean { border-left: 4px solid var(--ok); }
.pill {
  display: inline-block; min-width: 2.6em; padding: 1px 9px; border-radius: 999px;
  font-weight: 600; font-variant-numeric: tabular-nums; text-align: center; white-space: nowrap;
}
.pill.ok { color: var(--ok); background: var(--ok-bg); font-weight: 500; }
.pill.warn { color: var(--warn); background: var(--warn-bg); }
.pill.bad { color: var(--bad); background: var(--bad-bg); }
.pill.big { font-size: 15px; padding: 2px 12px; }
table { border-collapse: collapse; width: 100%; }
th, td {
  text-align: left; vertical-align: top; padding: 7px 10px;
  border-bottom: 1px solid var(--line);
}
thead th {
  font-size: 13px; font-weight: 600; color: var(--muted); background: var(--paper);
  border-bottom: 2px solid var(--line); white-space: nowrap;
}
tbody tr.z td { background: var(--stripe); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary td:first-child { font-weight: 500; width: 34%; }
table.summary td.count { width: 90px; text-align: right; }
table.summary td.fix { color: #3e4c59; }
table.summary tr.none td:first-child, table.summary tr.none td.fix { color: var(--muted); }
table.summary tfoot td { border-bottom: 0; font-weight: 600; padding-top: 10px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
svg { display: block; width: 100%; height: auto; font-family: inherit; }
svg text { fill: var(--ink); font-size: 13px; }
svg .count, svg .total { font-weight: 600; font-variant-numeric: tabular-nums; }
svg .axis text, svg text.axis { fill: var(--muted); font-size: 12px; }
svg line.grid { stroke: #e4e9f0; stroke-width: 1; }
svg line.base { stroke: #9aa5b1; stroke-width: 1; }
.k0 { fill: #4e79a7; background: #4e79a7; } .k1 { fill: #76b7b2; background: #76b7b2; }
.k2 { fill: #b07aa1; background: #b07aa1; } .k3 { fill: #9c755f; background: #9c755f; }
.k4 { fill: #a0cbe8; background: #a0cbe8; } .k5 { fill: #6b6ecf; background: #6b6ecf; }
.k6 { fill: #d4a6c8; background: #d4a6c8; } .k7 { fill: #5d6d7e; background: #5d6d7e; }
.k8 { fill: #86bcb6; background: #86bcb6; } .k9 { fill: #bab0ac; background: #bab0ac; }
.legend { list-style: none; margin: 10px 0 0; padding: 0; display: flex; flex-wrap: wrap;
  gap: 4px 18px; font-size: 13px; color: var(--muted); }
.legend .sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
.note { color: var(--muted); font-size: 14px; margin: 8px 0 0; }
section.category .head { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
section.category .head .sw { width: 12px; height: 12px; border-radius: 3px; flex: none; }
section.category .cause { margin: 6px 0 12px; color: #3e4c59; }
.tools { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; margin: 0 0 10px; }
.tools input[type=search] {
  font: inherit; font-size: 14px; padding: 6px 10px; width: 320px; max-width: 100%;
  border: 1px solid #bcccdc; border-radius: 6px; background: #fff; color: var(--ink);
}
.tools input[type=search]:focus { outline: 2px solid #9fb3c8; outline-offset: 1px; }
.tools output { color: var(--muted); font-size: 14px; font-variant-numeric: tabular-nums; }
.tools .top { margin-left: auto; font-size: 14px; }
.scroll { overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; }
.scroll thead th { position: sticky; top: 0; z-index: 1; }
table.rows { font-size: 14px; }
table.rows td { overflow-wrap: break-word; }
table.rows tbody tr:last-child td { border-bottom: 0; }
th button.sort {
  all: unset; cursor: pointer; display: inline-flex; gap: 4px; align-items: center;
}
th button.sort:focus-visible { outline: 2px solid #9fb3c8; outline-offset: 2px; }
th button.sort::after { content: "\\2195"; color: #bcccdc; font-size: 12px; }
th[aria-sort=ascending] button.sort::after { content: "\\25B2"; }
th[aria-sort=descending] button.sort::after { content: "\\25BC"; }
th[aria-sort=ascending] button.sort::after, th[aria-sort=descending] button.sort::after {
  color: var(--accent); font-size: 10px;
}
th[aria-sort=ascending], th[aria-sort=descending] { color: var(--ink); }
.truncated {
  margin: 0 0 10px; padding: 8px 12px; background: var(--warn-bg); color: #6b4100;
  border-radius: 6px; font-size: 14px;
}
footer { color: var(--muted); font-size: 13px; margin-top: 28px; }
@media print {
  body { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .card { border: 0; padding: 0; margin: 0 0 14pt; break-inside: auto; }
  .tools input, .tools output, .tools .top, th button.sort::after { display: none; }
  .scroll { overflow: visible; max-height: none; border: 0; }
  .scroll thead th { position: static; }
  tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_JS = """
(function () {
  "use strict";
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var fmt = new Intl.NumberFormat("en-US");

  function bodyRows(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }

  function restripe(table) {
    var n = 0;
    bodyRows(table).forEach(function (row) {
      if (!row.hidden) { row.classList.toggle("z", n % 2 === 1); n += 1; }
    });
    return n;
  }

  function recount(table) {
    var shown = restripe(table);
    var out = document.querySelector('output[data-count-for="' + table.id + '"]');
    if (out) {
      var all = table.tBodies[0].rows.length;
      out.textContent = shown === all ? fmt.format(all) + " rows"
        : fmt.format(shown) + " of " + fmt.format(all) + " rows match";
    }
  }

  function asNumber(text) {
    if (text === "") { return NaN; }
    var n = Number(text.replace(/,/g, ""));
    return isFinite(n) ? n : NaN;
  }

  function compare(a, b) {
    if (a === b) { return 0; }
    if (a === "") { return 1; }
    if (b === "") { return -1; }
    var x = asNumber(a), y = asNumber(b);
    if (!isNaN(x) && !isNaN(y)) { return x - y; }
    if (!isNaN(x)) { return -1; }
    if (!isNaN(y)) { return 1; }
    return collator.compare(a, b);
  }

  function sortBy(table, th) {
    var col = Number(th.getAttribute("data-col"));
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    table.querySelectorAll("th[data-col]").forEach(function (other) {
      other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var keyed = bodyRows(table).map(function (row, i) {
      var cell = row.cells[col];
      return { row: row, key: cell ? cell.textContent.trim() : "", i: i };
    });
    keyed.sort(function (p, q) {
      if (p.key === "" || q.key === "") { return compare(p.key, q.key) || p.i - q.i; }
      return sign * compare(p.key, q.key) || p.i - q.i;
    });
    var body = table.tBodies[0];
    keyed.forEach(function (k) { body.appendChild(k.row); });
    recount(table);
  }

  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    table.querySelectorAll("th[data-col] button.sort").forEach(function (button) {
      button.addEventListener("click", function () { sortBy(table, button.parentNode); });
    });
  });

  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    var texts = null;
    input.addEventListener("input", function () {
      if (texts === null) {
        texts = new Map();
        bodyRows(table).forEach(function (row) {
          texts.set(row, row.textContent.toLowerCase());
        });
      }
      var q = input.value.trim().toLowerCase();
      bodyRows(table).forEach(function (row) {
        row.hidden = q !== "" && texts.get(row).indexOf(q) === -1;
      });
      recount(table);
    });
  });
})();
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<title>go1sync reconciliation \u2014 run {{ report.run_id }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<header class="page">
  <h1>go1sync reconciliation</h1>
  <p class="meta">
    <span>Run <b>{{ report.run_id }}</b></span>
    <span>Generated <b>{{ generated_at }}</b></span>
    <span>Total differences
      <span class="pill big {{ total_level }}" data-total="{{ report.total }}">
        {{- count_text(report.total) -}}
      </span></span>
  </p>
</header>

<section class="card{% if report.total == 0 %} clean{% endif %}" id="summary">
  <h2>Summary</h2>
  {% if report.total == 0 %}
  <p class="lead">No differences: 360Learning shows what Go1 has. Nothing to do.</p>
  {% else %}
  <p class="lead">Why 360Learning shows something else than Go1, by kind of difference,
    with its likely cause and what to do. Times are UTC.</p>
  {% endif %}
  <table class="summary">
    <thead><tr><th scope="col">Category</th><th scope="col" class="num">Count</th>
      <th scope="col">Likely cause and fix</th></tr></thead>
    <tbody>
    {% for line in summary %}
    <tr class="{{ 'none' if line.count == 0 else 'some' }}{% if loop.index is even %} z{% endif %}">
      <td>
        {%- if line.anchor %}<a href="#{{ line.anchor }}">{{ line.title }}</a>
        {%- else %}{{ line.title }}{% endif -%}
      </td>
      <td class="count" data-count="{{ line.count }}">
        <span class="pill {{ line.level }}">{{ count_text(line.count) }}</span></td>
      <td class="fix">{{ line.cause_and_fix }}</td>
    </tr>
    {% endfor %}
    </tbody>
    <tfoot><tr><td>Total</td><td class="count">
      <span class="pill {{ total_level }}">{{ count_text(report.total) }}</span></td>
      <td></td></tr></tfoot>
  </table>
</section>

{% if bars %}
<section class="card" id="by-category">
  <h2>Differences by category</h2>
  <svg class="chart bars" viewBox="0 0 {{ bars.width }} {{ bars.height }}"
       width="{{ bars.width }}" height="{{ bars.height }}" role="img"
       aria-label="Differences by category">
    {% for bar in bars.bars %}
    <g class="bar">
      <title>{{ bar.full_title }}</title>
      <text x="{{ bars.label_x }}" y="{{ bar.y + bars.bar_height / 2 }}" text-anchor="end"
            dominant-baseline="central">{{ bar.label }}</text>
      <rect class="k{{ bar.colour }}" x="{{ bars.bar_x }}" y="{{ bar.y }}"
            width="{{ bar.width }}" height="{{ bars.bar_height }}" rx="3"
            data-count="{{ bar.count }}"></rect>
      <text class="count" x="{{ bars.bar_x + bar.width + 8 }}"
            y="{{ bar.y + bars.bar_height / 2 }}"
            dominant-baseline="central">{{ grouped(bar.count) }}</text>
    </g>
    {% endfor %}
  </svg>
</section>
{% endif %}

<section class="card" id="history">
  <h2>Differences over past runs</h2>
  {% if history %}
  <svg class="chart history" viewBox="0 0 {{ history.width }} {{ history.height }}"
       width="{{ history.width }}" height="{{ history.height }}" role="img"
       aria-label="Differences found by each past reconcile run">
    <g class="axis">
      {% for tick in history.ticks %}
      <line class="grid" x1="{{ history.left }}" x2="{{ history.right }}"
            y1="{{ tick.y }}" y2="{{ tick.y }}"></line>
      <text x="{{ history.left - 8 }}" y="{{ tick.y }}" text-anchor="end"
            dominant-baseline="central">{{ tick.label }}</text>
      {% endfor %}
    </g>
    {% for col in history.columns %}
    <g class="run" data-run="{{ col.run_label }}">
      <title>{{ col.tooltip }}</title>
      {% for seg in col.segments %}
      <rect class="k{{ seg.colour }}" x="{{ col.x }}" y="{{ seg.y }}"
            width="{{ col.width }}" height="{{ seg.height }}"><title>{{ seg.title }}</title></rect>
      {% endfor %}
      {% if col.show_total %}
      <text class="total" x="{{ col.centre }}" y="{{ col.total_y }}"
            text-anchor="middle">{{ grouped(col.total) }}</text>
      {% endif %}
      {% if col.show_label %}
      <text class="axis" x="{{ col.centre }}" y="{{ history.baseline + 18 }}"
            text-anchor="middle">{{ col.run_label }}</text>
      <text class="axis" x="{{ col.centre }}" y="{{ history.baseline + 34 }}"
            text-anchor="middle">{{ col.date_label }}</text>
      {% endif %}
    </g>
    {% endfor %}
    <line class="base" x1="{{ history.left }}" x2="{{ history.right }}"
          y1="{{ history.baseline }}" y2="{{ history.baseline }}"></line>
  </svg>
  {% if history.legend %}
  <ul class="legend">
    {% for item in history.legend %}
    <li><span class="sw k{{ item.colour }}"></span>{{ item.title }}</li>
    {% endfor %}
  </ul>
  {% endif %}
  {% if history.runs_total > history.columns|length %}
  <p class="note">The last {{ history.columns|length }} of
    {{ grouped(history.runs_total) }} runs.</p>
  {% endif %}
  {% else %}
  <p class="note" id="history-none">Not enough history yet: a chart over past runs needs
    at least two reconcile runs, and there {{ "is" if history_points == 1 else "are" }}
    {{ history_points }}.</p>
  {% endif %}
</section>

{% for s in sections %}
<section class="card category" id="{{ s.anchor }}">
  <div class="head">
    <span class="sw k{{ s.colour }}"></span>
    <h2>{{ s.title }}</h2>
    <span class="pill {{ s.level }}">{{ grouped(s.count) }}</span>
  </div>
  <p class="cause">{{ s.cause_and_fix }}</p>
  <div class="tools">
    <input type="search" data-filter="{{ s.table_id }}" placeholder="Search these rows\u2026"
           aria-label="Search the rows of {{ s.title }}" autocomplete="off" spellcheck="false">
    <output data-count-for="{{ s.table_id }}">
      {%- if s.left_out %}{{ grouped(s.rows|length) }} of {{ grouped(s.count) }} rows shown
      {%- else %}{{ grouped(s.count) }} rows{% endif -%}
    </output>
    <a class="top" href="#summary">Back to summary</a>
  </div>
  {% if s.left_out %}
  <p class="truncated" data-left-out="{{ s.left_out }}">Showing the first
    {{ grouped(s.rows|length) }} of {{ grouped(s.count) }} rows:
    {{ grouped(s.left_out) }} rows left out here, and search and sort see only those shown.
    The CSV and JSON exports have all of them.</p>
  {% endif %}
  <div class="scroll">
  <table class="rows" id="{{ s.table_id }}" data-sortable>
    <thead><tr>
      {% for col in s.columns %}
      <th scope="col" data-col="{{ loop.index0 }}" aria-sort="none"
          {%- if s.numeric[loop.index0] %} class="num"{% endif %}>
        <button type="button" class="sort" title="Sort by {{ col }}">{{ col }}</button></th>
      {% endfor %}
    </tr></thead>
    <tbody>
    {% for row in s.rows %}
    <tr{% if loop.index is even %} class="z"{% endif %}>
      {%- for cell in row %}<td{% if s.numeric[loop.index0] %} class="num"{% endif %}>
      {{- cell }}</td>{% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  </div>
</section>
{% endfor %}

<footer>go1sync reconciliation report, run {{ report.run_id }}, generated {{ generated_at }}.
  Self-contained: this file loads nothing from the network.</footer>
</main>
<script>{{ js }}</script>
</body>
</html>
"""

_ENV = Environment(
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_PAGE = _ENV.from_string(_TEMPLATE)


def _sha256(source: str) -> str:
    """A CSP source for exactly this inline code: the browser runs nothing else."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_CSP = (
    "default-src 'none'; "
    f"style-src {_sha256(_CSS)}; "
    f"script-src {_sha256(_JS)}; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def render_html(report: Report) -> str:
    """The report as one HTML page that opens from disk and fetches nothing.

    All data reaches the page through the autoescaping template; the CSS and JS are our own
    constants, marked safe and pinned by hash in the page's Content-Security-Policy.
    """
    colours = _colours(report.categories, report.history)
    titles = {c.key: c.title for c in report.categories}
    return _PAGE.render(
        report=report,
        generated_at=_utc(report.generated_at).strftime("%Y-%m-%d %H:%M UTC"),
        total_level=_level(report.total),
        summary=_summary(report),
        bars=_bar_chart(report, colours),
        history=_history_chart(report, colours, titles),
        history_points=len(report.history),
        sections=_sections(report, colours),
        grouped=_grouped,
        count_text=_count_text,
        csp=_CSP,
        css=Markup(_CSS),
        js=Markup(_JS),
    )
