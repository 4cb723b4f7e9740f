"""The reconciliation report's data: categories of differences, each explained, with rows.

One shape for every rendering: built from the ``reconcile.*`` models by :mod:`reconcile.compare`,
written as a terminal summary (here), CSV or JSON (:mod:`reconcile.files`) and HTML
(:mod:`reconcile.html`). It holds no warehouse connection, so a report can be rendered from a
sample (``scripts/screenshot_report.py``) as well as from a run.

Every category is of one of two kinds, as the seed ``models/seeds/reconcile_categories.csv``
says (its ``kind`` column, the one owner of the split): **needs action**, drift between Go1,
what was pushed and 360Learning, which a person or a push must repair; or **excluded by
design**, what go1sync leaves out on purpose (content that is not synced, mapping rejects,
learners without an account). Every rendering leads with the first and shows the second apart:
a clean sync of a real catalog has thousands of the second, and they are not news.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Reconcile runs in a report's trend, the one it is made by included: the history chart draws
#: no more (more would make bars thinner than their labels), and no more are read.
HISTORY_RUNS = 30

#: The two kinds of the seed's ``kind`` column (the seed assigns them; its audit in
#: ``models/reconcile/differences.sql`` accepts no other).
NEEDS_ACTION = "needs_action"
EXCLUDED = "excluded"
#: How each kind reads in every rendering.
KIND_TITLES = {NEEDS_ACTION: "needs action", EXCLUDED: "excluded by design"}
#: Said once wherever the excluded kind is shown apart, so nobody mistakes it for drift.
EXCLUDED_NOTE = "not drift: go1sync leaves these out on purpose"


@dataclass
class Category:
    key: str  # e.g. "attempt_missing"
    title: str  # e.g. "Attempt missing in 360Learning"
    cause_and_fix: str  # one line: the likely cause, and what to do
    columns: list[str] = field(default_factory=list)  # the row fields worth showing
    rows: list[dict[str, Any]] = field(default_factory=list)  # with "new" when keyed
    kind: str = NEEDS_ACTION  # NEEDS_ACTION or EXCLUDED (the seed's kind column)
    severity: int = 0  # the seed's rank: 1 first
    previous: int | None = None  # rows the previous reconcile found; None: there was none
    resolved: int | None = None  # of those, how many are gone; None: not known
    resolved_keys: list[str] = field(default_factory=list)  # their row keys, when known
    keyed: bool = False  # each row says whether it is new (row["new"]) since the previous run

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def needs_action(self) -> bool:
        return self.kind != EXCLUDED

    @property
    def new(self) -> int | None:
        """Rows the previous reconcile did not find; ``None`` when that is not known."""
        if self.keyed:
            return sum(1 for row in self.rows if row.get("new"))
        return self.count if self.previous == 0 else None

    @property
    def change(self) -> str:
        """Since the previous reconcile, in words: "new", "resolved (was 3)", "2 new, 1
        resolved", "up from 4", "unchanged"; empty when there is nothing to compare with (no
        previous run, or none then and none now)."""
        if self.previous is None or (self.previous == 0 and self.count == 0):
            return ""
        if self.previous == 0:
            return "new"
        if self.count == 0:
            return f"resolved (was {self.previous:,})"
        if self.keyed and self.resolved is not None:
            parts = [f"{n:,} {word}" for n, word in ((self.new or 0, "new"),
                                                      (self.resolved, "resolved")) if n]
            return ", ".join(parts) or "unchanged"
        if self.count == self.previous:
            return "unchanged"
        return f"{'up' if self.count > self.previous else 'down'} from {self.previous:,}"


@dataclass
class HistoryPoint:
    run_id: int
    at: datetime  # UTC
    counts: dict[str, int]  # category key -> rows found by that reconcile run


@dataclass
class Context:
    """Where and when the report looked: whoever reads it must know what it compares."""

    profile: str | None  # the settings profile (Config.profile); None: the top-level settings
    platform_url: str | None  # the 360Learning API read back (L360_API_URL)
    go1_extracted_at: datetime | None  # the last successful Go1 stream (meta.stream_runs)
    read_back_at: datetime | None  # when 360Learning was read back (raw.l360_*)
    # pushed courses the platform's listing showed (their listed fields checked), and those
    # read one by one (the launch URL checked too): reconcile/readback.py
    courses_listed: int | None = None
    courses_read: int | None = None


@dataclass
class Report:
    run_id: int
    generated_at: datetime  # UTC
    categories: list[Category]
    history: list[HistoryPoint] = field(default_factory=list)
    context: Context | None = None
    previous_run_id: int | None = None  # the reconcile run the changes are counted from

    @property
    def total(self) -> int:
        """Every row, both kinds: the size of the exports, never a headline."""
        return sum(c.count for c in self.categories)

    @property
    def needs_action(self) -> list[Category]:
        """The drift, most severe first: what a person must look at."""
        return by_severity(c for c in self.categories if c.needs_action)

    @property
    def excluded(self) -> list[Category]:
        """Left out by design, most telling first."""
        return by_severity(c for c in self.categories if not c.needs_action)

    @property
    def ordered(self) -> list[Category]:
        """Every category in the order all renderings show them: needs action first."""
        return self.needs_action + self.excluded

    @property
    def needs_action_total(self) -> int:
        """The headline number, and what ``reconcile``'s exit code says (0 or 3)."""
        return sum(c.count for c in self.needs_action)

    @property
    def excluded_total(self) -> int:
        return sum(c.count for c in self.excluded)


def by_severity(categories: Iterable[Category]) -> list[Category]:
    """Most severe first (the seed's rank); equal ranks keep their order."""
    return sorted(categories, key=lambda c: c.severity)


@dataclass(frozen=True)
class Since:
    """What changed in a set of categories since the previous reconcile; ``None``: not known
    (no previous run, or its keys were not kept)."""

    run_id: int | None
    previous: int | None
    new: int | None
    resolved: int | None


def since(report: Report, categories: list[Category]) -> Since:
    """The change of ``categories`` since the previous reconcile, summed."""
    if report.previous_run_id is None:
        return Since(None, None, None, None)
    new = [c.new for c in categories if c.count]
    resolved = [c.resolved for c in categories if c.previous]
    known = None not in new and None not in resolved
    return Since(report.previous_run_id, sum(c.previous or 0 for c in categories),
                 sum(n or 0 for n in new) if known else None,
                 sum(r or 0 for r in resolved) if known else None)


def since_text(report: Report, categories: list[Category]) -> str:
    """What changed in ``categories`` since the previous reconcile, in one phrase: "since run
    5: 2 new, 1 resolved" (or "was 4" when the keys are not known); empty for a first
    reconcile."""
    found = since(report, categories)
    if found.run_id is None:
        return ""
    if found.new is None or found.resolved is None:
        now = sum(c.count for c in categories)
        told = "unchanged" if found.previous == now else f"was {found.previous:,}"
    else:
        told = f"{found.new:,} new, {found.resolved:,} resolved"
    return f"since run {found.run_id}: {told}"


def _moment(at: datetime | None) -> str:
    return "never" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def context_items(context: Context) -> list[tuple[str, str]]:
    """The context as (label, value) pairs, in the order every rendering shows them."""
    items = [
        ("profile", context.profile or "none"),
        ("platform", context.platform_url or "unknown"),
        ("Go1 extracted", _moment(context.go1_extracted_at)),
        ("360Learning read back", _moment(context.read_back_at)),
    ]
    if context.courses_listed is not None:
        items.append(("course fields checked", _coverage(context)))
    return items


LISTED_FIELDS = "name, description, duration, language, archived state"
READ_ONE_BY_ONE = "launch URL"


def _coverage(context: Context) -> str:
    """Which course fields were checked for every course, which for those read one by one."""
    return (f"{LISTED_FIELDS} for all {context.courses_listed:,} listed; {READ_ONE_BY_ONE} for "
            f"the {context.courses_read or 0:,} read one by one (those that differ, those "
            "missing, and a sample)")


def headline(report: Report) -> str:
    """The first line: the needs-action total, the excluded apart."""
    n, excluded = report.needs_action_total, report.excluded_total
    drift = "nothing needs action" if n == 0 else f"{n:,} difference(s) need action"
    return f"reconciliation, run {report.run_id}: {drift}; {excluded:,} excluded by design"


def text_summary(report: Report) -> str:
    """The terminal summary: the headline, the context, then each kind's categories, those
    with rows first by severity, each with its change since the last reconcile and its fix."""
    lines = [headline(report)]
    if report.context is not None:
        lines.append(" · ".join(f"{label}: {value}"
                                for label, value in context_items(report.context)))
    for kind, categories in ((NEEDS_ACTION, report.needs_action),
                             (EXCLUDED, report.excluded)):
        total = sum(c.count for c in categories)
        head = f"{KIND_TITLES[kind]}: {total:,}"
        extra = [since_text(report, categories)] if kind == NEEDS_ACTION else [EXCLUDED_NOTE]
        lines += ["", "; ".join([head, *[e for e in extra if e]])]
        for c in sorted(categories, key=lambda c: c.count == 0):  # stable: severity kept
            mark = f"{c.count:>7,}" if c.count else "   none"
            change = f"  [{c.change}]" if c.change else ""
            lines.append(f"{mark}  {c.title}{change}")
            if c.count:
                lines.append(f"         {c.cause_and_fix}")
    return "\n".join(lines)
