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
from reconcile.report import (
    EXCLUDED,
    EXCLUDED_NOTE,
    KIND_TITLES,
    NEEDS_ACTION,
    Category,
    Report,
    context_items,
    since_text,
)

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


#: How the difference fields read as table headers (the exports keep the field names).
COLUMN_TITLES = {
    "go1_key": "Go1 id",
    "external_course_id": "Course id",
    "course_title": "Course",
    "user_email": "Learner",
    "go1_value": "Go1 / pushed",
    "l360_value": "360Learning",
    "detail": "Detail",
}
#: The header of the column that marks the rows the previous reconcile did not find.
NEW_COLUMN = "Since last"


@dataclass
class Section:
    """A category with rows, ready to draw: its table, and how many rows were left out."""

    anchor: str
    table_id: str
    title: str
    cause_and_fix: str
    count: int
    level: str
    colour: str
    excluded: bool
    change: str
    change_class: str
    headers: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    new: list[bool]  # per row shown: not found by the previous reconcile
    keyed: bool
    left_out: int


@dataclass
class SummaryLine:
    """One line of the summary table; ``anchor`` is empty when there is no section to go to."""

    title: str
    count: int
    level: str
    cause_and_fix: str
    anchor: str
    change: str
    change_class: str


@dataclass
class SummaryGroup:
    """One kind's lines in the summary: what needs action, or what is excluded by design."""

    kind: str
    title: str
    note: str
    total: int
    level: str
    since: str
    lines: list[SummaryLine]


def _columns_of(category: Category) -> list[str]:
    """The category's declared columns, or, when it declares none, the keys its rows use."""
    if category.columns:
        return list(category.columns)
    seen: dict[str, None] = {}
    for row in category.rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def accent(category: Category) -> str:
    """A count's accent: by how many for what needs action, neutral for what is excluded by
    design (it is not drift, however many)."""
    return level(category.count) if category.needs_action else "neutral"


def change_class(category: Category) -> str:
    """How a change reads: "new" drift stands out, "resolved" reads as good news, the rest
    (fewer, more, unchanged) plainly, and every change of what is excluded by design too."""
    if not category.needs_action:
        return "same"
    if category.count and category.previous == 0:
        return "new"
    if category.count == 0 and category.previous:
        return "resolved"
    return "more" if category.new else "same"


def _anchors(report: Report) -> dict[str, str]:
    """The section anchor of each category with rows, numbered in the page's order."""
    return {c.key: f"cat-{i + 1}" for i, c in enumerate(report.ordered) if c.rows}


def _sections(report: Report, colours: dict[str, str]) -> list[Section]:
    """One section per category with rows, in the report's order; the first ``MAX_ROWS`` rows
    are rendered."""
    sections = []
    anchors = _anchors(report)
    for category in report.ordered:
        if not category.rows:
            continue
        columns = _columns_of(category)
        shown = category.rows[:MAX_ROWS]
        numeric = [
            any(is_number(row.get(c)) for row in shown)
            and all(row.get(c) is None or is_number(row.get(c)) for row in shown)
            for c in columns
        ]
        anchor = anchors[category.key]
        sections.append(
            Section(
                anchor=anchor,
                table_id=anchor.replace("cat-", "rows-"),
                title=category.title,
                cause_and_fix=category.cause_and_fix,
                count=category.count,
                level=accent(category),
                colour=colours[category.key],
                excluded=not category.needs_action,
                change=category.change,
                change_class=change_class(category),
                headers=[COLUMN_TITLES.get(c, c) for c in columns],
                numeric=numeric,
                rows=[[format_cell(row.get(c)) for c in columns] for row in shown],
                new=[bool(row.get("new")) for row in shown],
                keyed=category.keyed,
                left_out=category.count - len(shown),
            )
        )
    return sections


def _summary(report: Report) -> list[SummaryGroup]:
    """Every category, rows or not, by kind, those with rows first, each part by severity: a
    clean category reads "none", the good news."""
    anchors = _anchors(report)
    groups = []
    for kind, categories in ((NEEDS_ACTION, report.needs_action), (EXCLUDED, report.excluded)):
        total = sum(c.count for c in categories)
        groups.append(SummaryGroup(
            kind=kind,
            title=KIND_TITLES[kind].capitalize(),
            note="drift between Go1, what was pushed and 360Learning" if kind == NEEDS_ACTION
            else EXCLUDED_NOTE,
            total=total,
            level=level(total) if kind == NEEDS_ACTION else "neutral",
            since=since_text(report, categories),
            lines=[SummaryLine(title=c.title, count=c.count, level=accent(c),
                               cause_and_fix=c.cause_and_fix, anchor=anchors.get(c.key, ""),
                               change=c.change, change_class=change_class(c))
                   for c in sorted(categories, key=lambda c: c.count == 0)],  # stable
        ))
    return groups


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
        context=[(label[:1].upper() + label[1:], value)
                 for label, value in context_items(report.context)] if report.context else [],
        needs_action=report.needs_action_total,
        needs_action_level=level(report.needs_action_total),
        needs_action_since=since_text(report, report.needs_action),
        excluded=report.excluded_total,
        summary=_summary(report),
        bars=bar_chart(report, colours),
        history=history_chart(report, colours, titles),
        history_points=len(report.history),
        sections=_sections(report, colours),
        new_column=NEW_COLUMN,
        previous_run_id=report.previous_run_id,
        grouped=grouped,
        count_text=count_text,
        csp=own.csp,
        css=Markup(own.css),
        js=Markup(own.js),
    )
