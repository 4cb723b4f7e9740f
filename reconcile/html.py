"""The reconciliation report as one self-contained HTML page.

The text, CSV and JSON renderings are for scripts and terminals; this page is for the person who
has to explain why 360Learning shows something else than Go1. It must open from disk, offline,
from an e-mail attachment or a CI artifact: so everything is inline (CSS, a little vanilla JS,
SVG charts laid out in :mod:`reconcile.charts`) and nothing is fetched. A
Content-Security-Policy with ``default-src 'none'`` and hashes of our own style and script makes
the browser enforce that, and refuses any script that would slip in with the data.

The page is ``templates/report.html.j2``; its style and script are ``templates/report.css`` and
``templates/report.js``, read from the package (so they are found after ``pip install`` too) and
inlined. The CSP hashes are computed here from the very text inlined, so editing either file
cannot leave a stale hash behind.

Go1 titles and 360Learning values are data from outside: every piece of it goes through jinja2
with autoescaping on, never through string concatenation, and the JS reads the table's DOM rather
than having any value written into it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from reconcile.charts import bar_chart, history_chart, palette
from reconcile.formatting import count_text, format_cell, grouped, is_number, level, utc
from reconcile.report import Category, Report

#: Rows rendered per category: beyond this a browser gets slow to filter and sort, and a person
#: reads the exports anyway (they hold every row).
MAX_ROWS = 2000

TEMPLATES = "templates"
PAGE, STYLE, SCRIPT = "report.html.j2", "report.css", "report.js"

_ENV = Environment(
    loader=PackageLoader("reconcile", TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Assets:
    """The page's own style and script, as inlined, and the policy that allows exactly them."""

    css: str
    js: str
    csp: str


def _sha256(source: str) -> str:
    """A CSP source for exactly this inline code: the browser runs nothing else."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _read(name: str, closing: str) -> str:
    """A template file's text; it is inlined unescaped, so it must not end its own element."""
    text = (files("reconcile") / TEMPLATES / name).read_text(encoding="utf-8")
    if closing in text.lower():
        raise ValueError(f"reconcile/{TEMPLATES}/{name} contains {closing!r}: inlined, it "
                         "would end its element early")
    return text


@cache
def assets() -> Assets:
    """Read the style and script once per process and hash what was read."""
    css, js = _read(STYLE, "</style"), _read(SCRIPT, "</script")
    csp = (
        "default-src 'none'; "
        f"style-src {_sha256(css)}; "
        f"script-src {_sha256(js)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return Assets(css, js, csp)


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
            any(is_number(row.get(c)) for row in shown)
            and all(row.get(c) is None or is_number(row.get(c)) for row in shown)
            for c in columns
        ]
        sections.append(
            Section(
                anchor=f"cat-{index + 1}",
                table_id=f"rows-{index + 1}",
                title=category.title,
                cause_and_fix=category.cause_and_fix,
                count=category.count,
                level=level(category.count),
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
            level=level(c.count),
            cause_and_fix=c.cause_and_fix,
            anchor=f"cat-{i + 1}" if c.rows else "",
        )
        for i, c in enumerate(report.categories)
    ]


def render_html(report: Report) -> str:
    """The report as one HTML page that opens from disk and fetches nothing.

    All data reaches the page through the autoescaping template; the CSS and JS are our own
    files, marked safe and pinned by hash in the page's Content-Security-Policy.
    """
    own = assets()
    colours = palette(report.categories, report.history)
    titles = {c.key: c.title for c in report.categories}
    return _ENV.get_template(PAGE).render(
        report=report,
        generated_at=utc(report.generated_at).strftime("%Y-%m-%d %H:%M UTC"),
        total_level=level(report.total),
        summary=_summary(report),
        bars=bar_chart(report, colours),
        history=history_chart(report, colours, titles),
        history_points=len(report.history),
        sections=_sections(report, colours),
        grouped=grouped,
        count_text=count_text,
        csp=own.csp,
        css=Markup(own.css),
        js=Markup(own.js),
    )
