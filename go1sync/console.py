"""What the commands print: tables, progress lines, warnings and the one red error line.

``cli.py`` parses and calls a command; this module turns the command's report into text, so
the printing of a run is the same whichever command ran its stages.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from go1sync.tables import Column, echo_table

if TYPE_CHECKING:  # types only: `--help` and `--version` import none of the stages
    from commands.check import Check
    from commands.report import RunReport
    from extract.runner import StreamOutcome
    from extract.streams import StreamStats
    from go1sync.progress import Progress
    from load.changes import Plan
    from load.result import KindCount, PushResult
    from reconcile.rebuild import Rebuilt
    from warehouse.models import RunResult
    from warehouse.status import Status


CHECKOUT_PROGRAM = "python cli.py"
INSTALLED_PROGRAM = "go1sync"  # [project.scripts] and python -m go1sync


def program() -> str:
    """How the user called go1sync, for command lines to paste: ``python cli.py`` from the
    checkout, else the installed command's name (``go1sync``)."""
    ctx = click.get_current_context(silent=True)
    name = ctx.find_root().info_name if ctx is not None else None
    return INSTALLED_PROGRAM if name == INSTALLED_PROGRAM else CHECKOUT_PROGRAM


def as_invoked(text: str) -> str:
    """A message's command lines as the user calls go1sync: the layers below the CLI write
    ``python cli.py X``, which an installed user runs as ``go1sync X``."""
    called = program()
    return text if called == CHECKOUT_PROGRAM else text.replace(CHECKOUT_PROGRAM, called)


def fail(message: str, code: int) -> NoReturn:
    click.secho(f"Error: {as_invoked(message)}", fg="red", err=True)
    sys.exit(code)


def heading(text: str) -> None:
    click.secho(text, bold=True)


def footer(report: RunReport) -> None:
    click.echo(f"run {report.run_id} · warehouse {report.warehouse}")


def stream_progress(bars: Progress) -> Callable[[StreamStats], None]:
    """A stream's records against what Go1 said it holds, with its requests."""
    def show(stats: StreamStats) -> None:
        bars.update(stats.stream, stats.records_read, stats.expected, "records",
                    f"{stats.requests:,} requests")
    return show


def push_progress(bars: Progress) -> Callable[[str, KindCount], None]:
    """Each kind's rows settled against those sent."""
    def show(kind: str, count: KindCount) -> None:
        bars.update(kind, count.succeeded + count.failed + count.rejected, count.sent, "rows",
                    f"{count.failed:,} failed" if count.failed else "")
    return show


def labeled_progress(bars: Progress) -> Callable[[str, int, int | None], None]:
    """A bar for each thing read, ``done`` of ``total`` (None while not known)."""
    def show(what: str, done: int, total: int | None) -> None:
        bars.update(what, done, total)
    return show


def phase_progress(bars: Progress, phases: Sequence[str]) -> Callable[[str], None]:
    """Which phase of a run is going (extract, transform, plan, push)."""
    def show(phase: str) -> None:
        bars.update("run", phases.index(phase) if phase in phases else 0, len(phases),
                    "phases done", phase)
    return show


def rebuilt(result: Rebuilt) -> None:
    click.echo(f"integration {result.integration_id}: {result.courses:,} of {result.asked:,} "
               f"Go1 learning objects are its courses ({result.archived:,} archived); "
               f"{result.attempts:,} attempts tied to Go1 enrollments ({result.closed:,} "
               "closed)")
    if result.unmatched_attempts:
        click.secho(f"{result.unmatched_attempts:,} attempt(s) of its courses match no Go1 "
                    "enrollment (same course, learner and first activity): left as they are",
                    fg="yellow")
    click.echo("snapshot rebuilt: the next run sends only what differs")


def streams(outcomes: Sequence[StreamOutcome]) -> None:
    echo_table(
        [Column("stream"), Column("status"), Column("requests", True), Column("pages", True),
         Column("read", True), Column("landed", True), Column("seconds", True)],
        [[o.stats.stream, ("ok", "green") if o.ok else ("FAILED", "bold red"),
          f"{o.stats.requests:,}", f"{o.stats.pages:,}", f"{o.stats.records_read:,}",
          f"{o.stats.records_landed:,}", f"{o.seconds:.1f}"] for o in outcomes])
    for o in outcomes:
        for note in o.stats.notes:
            click.echo(f"  {o.stats.stream}: {note}")
        if o.error:
            click.secho(f"  {o.stats.stream}: {o.error}", fg="red")


def models(result: RunResult, schemas: Mapping[str, str] | None = None) -> None:
    """Rows and time per model, each named ``schema.name`` when ``schemas`` says (so
    ``reconcile.differences`` reads as reconcile's comparison, not as the mapping's)."""
    from warehouse.models import short_fingerprint

    schemas = schemas or {}
    echo_table(
        [Column("model"), Column("kind"), Column("rows", True), Column("seconds", True),
         Column("fingerprint")],
        [[f"{schemas[m.name]}.{m.name}" if m.name in schemas else m.name, m.kind,
          f"{m.rows:,}", f"{m.seconds:.2f}",
          (f"{short_fingerprint(m.fingerprint)} (changed)", "yellow") if m.changed
          else short_fingerprint(m.fingerprint)] for m in result.models])
    audit_warnings(result)


def _mapped(rows: Mapping[str, int]) -> str:
    """What the mapping made, from the rows per model (``meta.runs`` counts or a result)."""
    return (f"{rows.get('content_360', 0):,} courses, {rows.get('attempts_360', 0):,} attempts "
            "mapped")


def rejects(found: Sequence[tuple[str, str, int]], indent: str = "") -> None:
    """The records the mapping left out, by reason: what they are, not "differences"."""
    total = sum(n for _, _, n in found)
    if not total:
        click.echo(f"{indent}no record rejected by the mapping")
        return
    click.echo(f"{indent}{total:,} record(s) not mapped (marts.rejects), by reason:")
    for entity, reason, n in sorted(found, key=lambda r: (-r[2], r[:2])):
        click.echo(f"{indent}  {n:>9,}  {entity:<16} {reason}")


def mapped(result: RunResult, found: Sequence[tuple[str, str, int]], indent: str = "") -> None:
    """The transform of a run: what was mapped, then what was not, by reason."""
    click.echo(indent + _mapped({m.name: m.rows for m in result.models}))
    rejects(found, indent)
    audit_warnings(result)


def transform_footer(report: RunReport) -> None:
    result = report.models
    if result is None:
        return footer(report)
    click.echo(f"{len(result.audits) - len(result.failed_audits)} of {len(result.audits)} "
               f"audits passed · run {report.run_id} · warehouse {report.warehouse}")


def audit_warnings(result: RunResult) -> None:
    for a in result.failed_audits:
        click.secho(f"warning: audit {a.model}.{a.audit} found {a.failing_rows} row(s)",
                    fg="yellow", err=True)


# The operations of the outbound change sets (models/outbound/), in words and in this order:
# counts read "189 to add, 21 unchanged".
OPERATION_WORDS: dict[str, dict[str, str]] = {
    "course": {"add": "to add", "change": "to change", "restore": "to restore",
               "archive": "to archive", "unchanged": "unchanged",
               "never_pushed": "not sent (never pushed)"},
    "attempt": {"new": "new", "progress": "with progress", "close": "to close",
                "unchanged": "unchanged", "closed_in_360": "closed in 360Learning"},
    "share": {"add": "to share", "remove": "to unshare"},
}


def in_words(kind: str, counts: Mapping[str, int]) -> str:
    """``{'add': 189, 'unchanged': 21}`` as ``189 to add, 21 unchanged``."""
    words = OPERATION_WORDS.get(kind, {})
    order = [op for op in words if op in counts] + sorted(set(counts) - set(words))
    return ", ".join(f"{counts[op]:,} {words.get(op, op)}" for op in order) or "nothing"


def micro_run(report: RunReport) -> str:
    """A webhook micro-run in words, for its log line: what it sent."""
    counts = report.pushed.counts if report.pushed is not None else {}
    sent = [f"{c.succeeded:,} {kind.replace('_', ' ')}"
            + (f" ({c.failed:,} failed)" if c.failed else "")
            for kind, c in counts.items() if c.sent]
    return "sent " + ", ".join(sent) if sent else "nothing to send"


def wait_for_stop(ready: Callable[[], None] = lambda: None) -> str:
    """Block until SIGTERM or SIGINT (Ctrl-C); the signal's name. ``ready`` runs once the
    handlers are in place (it says the process can be stopped: said earlier, a SIGTERM could
    still kill it). The handlers only note the signal; the previous ones are back on
    return."""
    stop = threading.Event()
    caught: list[str] = []

    def note(signum: int, frame: object) -> None:
        caught.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        ready()
        while not stop.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)
    return caught[0]


def plan_summary(plan: Plan) -> None:
    click.echo(f"  courses: {in_words('course', plan.courses)}; attempts: "
               f"{in_words('attempt', plan.attempts)}; shares: {in_words('share', plan.shares)}; "
               f"{plan.total:,} row(s) to send")


def plan(result: Plan) -> None:
    echo_table(
        [Column("kind"), Column("operation"), Column("rows", True), Column("examples")],
        [[kind, op, f"{counts[op]:,}", ", ".join(result.samples.get(f"{kind} {op}", []))]
         for kind, counts in (("course", result.courses), ("attempt", result.attempts),
                              ("share", result.shares)) for op in sorted(counts)])
    click.echo(f"unchanged: {result.unchanged_courses:,} course(s), "
               f"{result.unchanged_attempts:,} attempt(s)")
    if result.never_pushed_courses:
        click.echo(f"not sent (never pushed): {result.never_pushed_courses:,} course(s) archived "
                   "in Go1 before they were ever pushed")
    if result.rejected_courses:
        click.echo(f"{result.rejected_courses:,} course(s) cannot make a valid payload "
                   "(not sent; marts.rejects says why)")
    if result.restores_with_upsert:
        click.echo(f"{result.restores_with_upsert:,} restored course(s) changed too: upserted, "
                   "then restored")
    if result.held_attempts:
        click.echo(f"{result.held_attempts:,} attempt(s) not sent: their course is not in "
                   "360Learning (archived in Go1 before it was ever pushed, or its upsert failed)")
    if result.learners_without_account:
        click.echo(f"{result.attempts_without_account:,} attempt(s) of "
                   f"{result.learners_without_account:,} learner(s) wait for a 360Learning "
                   "account with their email (as of the last user list; push reads it again)")
    elif not result.users_listed and result.attempts:
        click.echo("learners are matched with 360Learning's users when the push reads its user "
                   "list")
    if result.closed_in_360:
        click.echo(f"{result.closed_in_360:,} attempt(s) changed in Go1 after 360Learning closed "
                   "them: not sent (360Learning never updates a completed attempt)")
    if result.unsettled:
        click.echo(as_invoked(
            f"{result.unsettled:,} row(s) wait for a bulk operation an earlier push left "
            "unsettled (settled first by the next push; `python cli.py status` lists it)"))
    if result.shares_awaiting_ids:
        click.echo(f"{result.shares_awaiting_ids:,} of the shares are of courses this push adds: "
                   "sent once 360Learning gives their ids")
    if not result.total:
        click.echo("nothing would be sent")
        return
    click.echo(f"{result.total:,} row(s) would be sent: {result.writes:,} course and attempt "
               f"row(s), {sum(result.shares.values()):,} share(s)")


def age(since: datetime) -> str:
    """How long ago, in the two largest units (``2h 05m``, ``3d 4h``, ``40s``)."""
    seconds = max(0, int((datetime.now(UTC) - since).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def pushed(result: PushResult, indent: str = "") -> None:
    if result.settled_operations:
        confirmed = ", ".join(
            f"{c.succeeded:,} {kind} row(s) confirmed" + (f", {c.failed:,} refused" if c.failed
                                                          else "")
            for kind, c in result.settled.items()) or "no rows"
        click.echo(f"{indent}settled {result.settled_operations:,} operation(s) left by an "
                   f"earlier run: {confirmed} (sent by that run, not counted below)")
    click.echo(f"{indent}{'kind':<15} {'sent':>9} {'ok':>9} {'failed':>7} {'rejected':>8}")
    for kind, c in result.counts.items():
        click.echo(f"{indent}{kind:<15} {c.sent:>9,} {c.succeeded:>9,} {c.failed:>7,} "
                   f"{c.rejected:>8,}")
    if not result.counts:
        click.echo(f"{indent}nothing new to push")
    uncertain = sum(c.uncertain for c in result.counts.values())
    if uncertain:
        click.secho(f"{indent}{uncertain:,} row(s) submitted without an answer from 360Learning: "
                    "held, and settled from its operations list before anything is sent "
                    "again", fg="yellow")
    for operation_id, kind, since in result.stuck_operations:
        click.secho(f"{indent}bulk operation {operation_id} ({kind}, submitted {since}) is "
                    "still running: left for the next run; its rows and their courses' "
                    "statistics wait", fg="yellow")
    learners_without_account(result)


def push_errors(result: PushResult, most: int = 10) -> None:
    for kind, key, error in result.errors[:most]:
        click.secho(f"  {kind} {key}: {error}", fg="red")


def learners_without_account(result: PushResult) -> None:
    """Once per run, not once per attempt: these are waiting, not failing."""
    if result.learners_without_account:
        click.secho(as_invoked(
            f"warning: {result.learners_without_account:,} learner(s) have no 360Learning "
            f"account ({result.attempts_without_account:,} attempt(s) wait for one); see "
            "`python cli.py status`"), fg="yellow", err=True)


def unchanged(since_run: int) -> str:
    """Why a run stopped after its extract (:mod:`warehouse.settled`), in the run's output and
    in ``status`` alike."""
    return (f"nothing landed since run {since_run}, which left nothing to send: transform, "
            "plan and push skipped")


def summarize(counts: Mapping[str, Any]) -> str:
    """A run's counts in a few words: landed, mapped, pushed (counts keyed by stage)."""
    parts = []
    extracted = counts.get("extract") or {}
    if extracted:
        landed = sum(s.get("landed", 0) for s in extracted.values())
        read = sum(s.get("read", 0) for s in extracted.values())
        parts.append(f"landed {landed:,} of {read:,} read")
    rows = counts.get("transform") or {}
    if rows:
        parts.append(_mapped(rows))
    planned = counts.get("plan") or {}
    if planned and "push" not in counts:
        parts.append(f"planned: courses ({in_words('course', planned.get('courses') or {})}), "
                     f"attempts ({in_words('attempt', planned.get('attempts') or {})})")
    sent = counts.get("push") or {}
    if sent:
        ok = sum(c.get("succeeded", 0) for c in sent.values())
        failed = sum(c.get("failed", 0) + c.get("rejected", 0) for c in sent.values())
        parts.append(f"pushed {ok:,} ok" + (f", {failed:,} failed" if failed else ""))
    if counts.get("unchanged_since") is not None:
        parts.append(unchanged(int(counts["unchanged_since"])))
    return "; ".join(parts)


def status(found: Status) -> None:
    if found.inbox is not None:
        waiting, done = found.inbox
        heading("webhook inbox")
        click.echo(f"  {waiting:,} event(s) waiting for a micro-run, {done:,} processed")
    if found.in_progress is not None:
        run = found.in_progress
        heading("run in progress")
        stage = f"{run.get('stage', 'starting')}" + (f": {run['detail']}" if run.get("detail")
                                                    else "")
        click.echo(f"  run {run.get('run_id', '?')} `{run.get('command', '?')}` by pid "
                   f"{run.get('pid', '?')}, started {run.get('started', '?')}; now {stage} "
                   f"(as of {run.get('updated', run.get('started', '?'))})")
        click.echo("  the rest of the status shows once it ends: DuckDB lets no other process "
                   "read a warehouse while it is written")
        return
    heading("runs")
    for r in found.runs:
        colour = {"success": "green", "running": "yellow"}.get(r["status"], "red")
        took = (f"{(r['finished_at'] - r['started_at']).total_seconds():.1f}s"
                if r["finished_at"] else "-")
        summary = summarize(json.loads(r["counts"]) if r["counts"] else {})
        click.echo(f"  {r['run_id']:>5} {r['command']:<10} "
                   + click.style(f"{r['status']:<8}", fg=colour)
                   + f" {r['started_at']:%Y-%m-%d %H:%M:%S}Z {took:>8}  {summary}")
        if r["error"]:
            click.secho(f"        {r['error'][:160]}", fg="red")
    heading("cursors")
    for stream, value in found.cursors or [("(none yet)", "")]:
        click.echo(f"  {stream:<17} {value}")
    heading("bulk operations not yet confirmed")
    for op, kind, items, at in found.unconfirmed:
        click.echo(f"  {op} {kind} {items:,} items, submitted {at:%Y-%m-%d %H:%M}Z, "
                   f"{age(at)} ago (settled by the next push)")
    for kind, rows, since in found.uncertain:
        click.echo(f"  {kind}: {rows:,} row(s) submitted {since:%Y-%m-%d %H:%M}Z, {age(since)} "
                   "ago, answer lost (found in 360Learning's operations list by the next push; "
                   "held until then)")
    if not found.unconfirmed and not found.uncertain:
        click.echo("  none")
    heading("rejects by reason")
    for entity, reason, n in found.rejects:
        click.echo(f"  {entity:<16} {reason:<38} {n:>8,}")
    if found.unpushed:
        heading("not pushed in the last push (sent again next run)")
        for kind, why, n in found.unpushed:
            click.echo(f"  {kind:<15} {n:>7,}  {why[:90]}")
    if found.without_account_total:
        heading(f"learners without a 360Learning account ({found.without_account_total:,}; "
                "their attempts are sent once a user with their email exists)")
        for email, attempts, since in found.without_account:
            click.echo(f"  {email:<40} {attempts:>5,} attempt(s), since {since:%Y-%m-%d}")
        if found.without_account_total > len(found.without_account):
            click.echo("  … SELECT * FROM meta.learners_without_account lists them all")
    heading("API readings (what the platforms answered where the documents leave a choice)")
    for reading in found.readings:
        click.echo(f"  {reading.api:<5} {reading.reading:<25} {reading.value:<36} "
                   f"{reading.detail or ''} ({reading.checked_at:%Y-%m-%d})")
    if not found.readings:
        click.echo("  none yet")


def checks(results: Sequence[Check]) -> None:
    for c in results:
        mark = (click.style("note", fg="yellow") if c.info else
                click.style("ok  ", fg="green") if c.ok else click.style("FAIL", fg="red"))
        click.echo(f"{mark} {c.name}: {c.detail}")


QUERY_CELL_WIDTH = 80  # a text cell longer than this (a JSON payload, say) is cut with "…"


def query(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "text") -> None:
    """A query's result (``python cli.py sql``): an aligned table with its row count, or CSV
    with a header, or one JSON document (a list of objects, one per row)."""
    from commands.sql import plain

    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, (plain(v) for v in row), strict=True))
                               for row in rows], ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(v, csv=True) for v in row] for row in rows)
        click.echo(out.getvalue(), nl=False)
        return
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [bool(rows) and all(isinstance(r[i], int | float) or r[i] is None for r in rows)
               and not all(isinstance(r[i], bool) for r in rows) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    click.echo(line(columns))
    click.echo(line(["-" * w for w in widths]))
    for row in cells:
        click.echo(line(row))
    click.echo(f"({len(rows):,} row{'' if len(rows) == 1 else 's'})")


def _cell(value: Any, csv: bool = False) -> str:
    """One value as text: NULL (empty in CSV), true/false, lists and structs as JSON, and in a
    table on one line, cut at QUERY_CELL_WIDTH."""
    from commands.sql import plain

    if value is None:
        return "" if csv else "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    shown = plain(value)
    text = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
    if csv:
        return text
    text = " ".join(text.split("\n"))
    return text if len(text) <= QUERY_CELL_WIDTH else text[:QUERY_CELL_WIDTH - 1] + "…"
