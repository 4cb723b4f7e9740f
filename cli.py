"""go1sync's command line: parse options, call one function per command, print.

Known errors of every package end here as one red line and an exit code: 2 for bad usage or
configuration, 1 for a run that failed. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

import click

from extract.errors import ExtractError
from extract.runner import StreamOutcome
from extract.streams import StreamStats
from extract.timestamps import TimestampError, parse_since
from load.errors import LoadError
from load.result import PushResult
from settings import Config, SettingsError, load_config
from warehouse.errors import WarehouseError

EXIT_FAILED = 1
EXIT_USAGE = 2
# A scheduled run waits this long (seconds) for a run in progress to end: the 08:00 statistics
# run then follows a 07:40 catalog run that is still going, instead of being refused.
SCHEDULED_LOCK_WAIT = 3600


def _fail(message: str, code: int) -> NoReturn:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(code)


class Go1SyncGroup(click.Group):
    """Turns the packages' errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            _fail(str(exc), EXIT_USAGE)
        except (ExtractError, WarehouseError, LoadError) as exc:
            _fail(str(exc), EXIT_FAILED)


class SinceType(click.ParamType):
    """``--since``: a date or a date-time with an offset, parsed to UTC on arrival."""

    name = "ISO-8601"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            since = parse_since(str(value))
        except TimestampError as exc:
            self.fail(str(exc).removeprefix("--since "), param, ctx)
        if since > datetime.now(UTC):
            self.fail(f"{value!r} is in the future", param, ctx)
        return since


@click.group(cls=Go1SyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML settings file (default: $GO1SYNC_CONFIG, else the environment alone).")
@click.option("--profile", help="A [profiles.NAME] of the config file (say test or production), "
                                "with its own URLs, credentials and warehouse "
                                "(default: $GO1SYNC_PROFILE, else none).")
@click.option("-v", "--verbose", is_flag=True, help="Log retries and other details to stderr.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, profile: str | None,
         verbose: bool) -> None:
    """go1sync: copies a Go1 My Library catalog and its enrollments into 360Learning.

    Settings come from a TOML file and environment variables (the environment wins); see the
    README for the list. To try it without credentials, start `python cli.py sandbox` and
    paste the variables it prints.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = (config_path, profile)


def _config(ctx: click.Context) -> Config:
    config_path, profile = ctx.obj
    return load_config(config_path, profile=profile)


def _scheduled(config: Config) -> Config:
    if not config.scheduled:
        _fail(f"profile {config.profile!r} runs by hand only (scheduled = false in its "
              "[profiles] table): use `python cli.py run`", EXIT_USAGE)
    return config


class StreamProgress:
    """One live line per stream on a terminal (pages, records); silent when piped."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self._last = 0.0
        self._stream: str | None = None

    def update(self, stats: StreamStats) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if stats.stream == self._stream and now - self._last < 0.1:
            return
        if self._stream not in (None, stats.stream):
            click.echo(err=True)
        self._stream, self._last = stats.stream, now
        line = f"{stats.stream:<17} {stats.pages:>8,} pages {stats.records_read:>11,} records"
        click.echo("\r" + line, nl=False, err=True)

    def __enter__(self) -> StreamProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live and self._stream is not None:
            click.echo(err=True)


def warn_learners_without_account(result: PushResult) -> None:
    """Once per run, not once per attempt: these are waiting, not failing."""
    if result.learners_without_account:
        click.secho(f"warning: {result.learners_without_account:,} learner(s) have no "
                    f"360Learning account ({result.attempts_without_account:,} attempt(s) wait "
                    "for one); see `python cli.py status`", fg="yellow", err=True)


def print_stream_summary(outcomes: Sequence[StreamOutcome]) -> None:
    header = f"{'stream':<17} {'status':<8} {'requests':>9} {'pages':>8} {'read':>10} " \
             f"{'landed':>10} {'seconds':>8}"
    click.echo(header)
    for o in outcomes:
        s = o.stats
        status = click.style(f"{'ok' if o.ok else 'FAILED':<8}", fg="green" if o.ok else "red")
        click.echo(f"{s.stream:<17} {status} {s.requests:>9,} {s.pages:>8,} "
                   f"{s.records_read:>10,} {s.records_landed:>10,} {o.seconds:>8.1f}")
        for note in s.notes:
            click.echo(f"  {s.stream}: {note}")
        if o.error:
            click.secho(f"  {s.stream}: {o.error}", fg="red")


@main.command()
@click.option("--since", type=SinceType(),
              help="Re-read enrollments updated since this instant (2026-11-01 or "
                   "2026-11-01T08:00:00+01:00) instead of from the stored cursor.")
@click.option("--stream", "streams", multiple=True,
              type=click.Choice(["learning_objects", "enrollments", "user_accounts"]),
              help="Extract only this stream (repeatable). Default: all three.")
@click.pass_context
def extract(ctx: click.Context, since: datetime | None, streams: Sequence[str]) -> None:
    """Land Go1's catalog, enrollments and learners' emails in the warehouse (raw.*).

    Exit 0 when every stream succeeded, 1 when one failed (its cursor is kept), 2 for bad
    usage or configuration.
    """
    from extract.job import run_extract

    config = _config(ctx)
    chosen = list(streams) or ["learning_objects", "enrollments", "user_accounts"]
    with StreamProgress() as progress:
        report = run_extract(config, chosen, since, progress.update)
    print_stream_summary(report.outcomes)
    click.echo(f"run {report.run_id} · warehouse {report.warehouse}")
    if not report.ok:
        failed = ", ".join(o.stats.stream for o in report.outcomes if not o.ok)
        _fail(f"stream(s) failed: {failed}; their cursors were kept", EXIT_FAILED)


@main.command()
@click.pass_context
def transform(ctx: click.Context) -> None:
    """Run the SQL models (models/) and their audits: raw.* -> staging.* -> marts.*.

    Prints rows and time per model. A failing blocking audit stops the run before anything is
    materialised (exit 1, naming the model, the audit and offending rows); failing
    non-blocking audits are listed as warnings.
    """
    from warehouse.transform import run_transform

    report = run_transform(_config(ctx))
    click.echo(f"{'model':<34} {'kind':<6} {'rows':>10} {'seconds':>8}  fingerprint")
    for m in report.result.models:
        changed = click.style(" (changed)", fg="yellow") if m.changed else ""
        click.echo(f"{m.name:<34} {m.kind:<6} {m.rows:>10,} {m.seconds:>8.2f}  "
                   f"{m.fingerprint[:12]}{changed}")
    for a in report.result.audits:
        if a.failing_rows:
            click.secho(f"warning: audit {a.model}.{a.audit} found {a.failing_rows} row(s)",
                        fg="yellow", err=True)
    passed = sum(1 for a in report.result.audits if not a.failing_rows)
    click.echo(f"{passed} of {len(report.result.audits)} audits passed · run {report.run_id} · "
               f"warehouse {report.warehouse}")


@main.command()
@click.option("--since", type=SinceType(),
              help="Re-read enrollments updated since this instant (2026-11-01 or "
                   "2026-11-01T08:00:00+01:00) instead of from the stored cursor.")
@click.option("--only", type=click.Choice(["catalog", "stats"]),
              help="Only the catalog job (learning objects, courses) or the statistics job "
                   "(enrollments, learners, attempts), as the schedule runs them.")
@click.option("--dry-run", is_flag=True, help="Stop after the plan: nothing is pushed.")
@click.option("--wait-for-lock", "lock_wait", default=0, show_default=True, metavar="SECONDS",
              type=click.IntRange(0),
              help="If another run holds the warehouse, wait up to this long for it to finish "
                   f"instead of failing at once (the scheduled runs wait {SCHEDULED_LOCK_WAIT}).")
@click.pass_context
def run(ctx: click.Context, since: datetime | None, only: str | None, dry_run: bool,
        lock_wait: int) -> None:
    """Extract, transform (with audits), plan and push: the whole sync, as one run.

    Exit 0 when everything went through, 1 when a stream failed or rows were not pushed
    (`python cli.py status` and meta.push_ledger show them) or another run held the warehouse,
    2 for bad usage or configuration.
    """
    from pipeline import run_pipeline

    report = run_pipeline(_config(ctx), only, since, dry_run, lock_wait)
    click.secho("extract", bold=True)
    print_stream_summary(report.streams)
    click.secho("transform", bold=True)
    click.echo("  " + ", ".join(f"{m.name} {m.rows:,}" for m in report.models
                                if m.kind != "seed"))
    if report.plan is not None:
        click.secho("plan", bold=True)
        click.echo(f"  courses {report.plan.courses}, attempts {report.plan.attempts}")
    if report.pushed is not None:
        click.secho("push", bold=True)
        for kind, c in report.pushed.counts.items():
            click.echo(f"  {kind:<15} {c.sent:>9,} sent {c.succeeded:>9,} ok "
                       f"{c.failed:>7,} failed {c.rejected:>6,} rejected")
        if not report.pushed.counts:
            click.echo("  nothing new to push")
        warn_learners_without_account(report.pushed)
    elif dry_run:
        click.echo("dry run: nothing pushed")
    click.echo(f"run {report.run_id} · warehouse {report.warehouse}")
    if not report.ok:
        problems = [f"stream(s) failed: {', '.join(report.failed_streams)}"] \
            if report.failed_streams else []
        if report.pushed and report.pushed.failed:
            problems.append(f"{report.pushed.failed} row(s) not pushed (sent again next run; "
                            "`python cli.py status` shows them)")
        _fail("; ".join(problems), EXIT_FAILED)


@main.command("schedule")
@click.option("--count", default=8, show_default=True, type=click.IntRange(1, 100),
              help="How many upcoming firings to list.")
@click.pass_context
def schedule_command(ctx: click.Context, count: int) -> None:
    """The next firings (Europe/Paris and UTC), and ready-to-use crontab lines and systemd
    units that run them. The jobs' times come from GO1SYNC_CATALOG_TIMES and
    GO1SYNC_STATS_TIMES (defaults: catalog 07:40, statistics 08:00, 13:00, 20:00)."""
    import shlex
    from pathlib import Path

    from schedule import crontab_lines, next_firings, systemd_units

    config = _scheduled(_config(ctx))
    jobs = config.jobs()
    click.secho("next firings", bold=True)
    for firing in next_firings(jobs, datetime.now(UTC), count):
        click.echo(f"  {firing.job:<8} {firing.at_paris:%Y-%m-%d %H:%M %Z} "
                   f"({firing.at_utc:%Y-%m-%d %H:%M} UTC)")
    workdir = str(Path(__file__).resolve().parent)
    config_path, _ = ctx.obj
    config_arg = (f" --config {shlex.quote(str(Path(config_path).resolve()))}"
                  if config_path else "")
    if config.profile:
        config_arg += f" --profile {shlex.quote(config.profile)}"

    def command_for(job: str) -> str:
        return (f"cd {shlex.quote(workdir)} && {shlex.quote(sys.executable)} cli.py"
                f"{config_arg} run --only {job} --wait-for-lock {SCHEDULED_LOCK_WAIT}")

    click.secho("\ncrontab (crontab -e)", bold=True)
    click.echo(crontab_lines(jobs, command_for).rstrip())
    click.secho("\nsystemd (one service and one timer per job)", bold=True)
    click.echo(systemd_units(jobs, command_for, workdir).rstrip())


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Fire the scheduled jobs in the foreground, in Europe/Paris time, until SIGTERM or Ctrl-C.

    A firing that comes while the same job's previous run is still going is skipped (and
    logged); one that comes while the other job runs waits for it (up to an hour); a failed
    run is logged and the schedule goes on.
    """
    from pipeline import run_pipeline
    from schedule import Scheduler

    config = _scheduled(_config(ctx))
    config.go1()
    config.l360()  # fail now, not at the first firing, on a missing setting

    def run_job(job: str) -> int:
        report = run_pipeline(config, only=job, lock_wait=SCHEDULED_LOCK_WAIT)
        click.echo(f"{job}: run {report.run_id} " + ("ok" if report.ok else "with failures"))
        return 0 if report.ok else 1

    click.echo("serving the schedule; Ctrl-C or SIGTERM stops it", err=True)
    Scheduler(config.jobs(), run_job, log=lambda line: click.echo(line, err=True)).run_forever()


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "html", "csv", "json"]),
              default="text", show_default=True,
              help="A summary on the terminal, a self-contained HTML report, or one CSV or "
                   "JSON file per category.")
@click.option("--out", type=click.Path(), help="Where to write: the HTML file, or the folder "
                                               "of CSV/JSON files (default: reports/).")
@click.option("--requeue", is_flag=True,
              help="Mark the differing courses and attempts so the next push sends them again.")
@click.pass_context
def reconcile(ctx: click.Context, fmt: str, out: str | None, requeue: bool) -> None:
    """Why does 360Learning show something else than Go1? Reads 360Learning back, compares it
    with Go1 (the marts) and with what go1sync pushed, and explains every difference."""
    from pathlib import Path

    from load.reconcile import run_reconcile
    from warehouse.report import text_summary, write_files

    report, requeued = run_reconcile(_config(ctx), requeue)
    click.echo(text_summary(report))
    if fmt == "html":
        from warehouse.report_html import render_html

        target = Path(out or f"reports/reconcile-{report.run_id}.html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_html(report), encoding="utf-8")
        click.echo(f"wrote {target}")
    elif fmt in ("csv", "json"):
        written = write_files(report, Path(out or "reports"), fmt)
        click.echo(f"wrote {len(written)} {fmt.upper()} file(s) in {written[0].parent}")
    if requeue:
        click.echo(f"requeued {requeued:,} row(s): the next push sends them again")


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Verify the API information is correct, changing nothing: both credentials, the scopes a
    run needs, the 360Learning groups, the connector admin and the integration name."""
    from checks import run_checks

    results = run_checks(_config(ctx))
    for c in results:
        mark = (click.style("note", fg="yellow") if c.info else
                click.style("ok  ", fg="green") if c.ok else click.style("FAIL", fg="red"))
        click.echo(f"{mark} {c.name}: {c.detail}")
    failed = [c.name for c in results if not c.ok]
    if failed:
        _fail(f"{len(failed)} check(s) failed: {', '.join(failed)}", EXIT_FAILED)
    click.echo("everything a run needs is in place")


@main.command()
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1),
              help="How many recent runs to list.")
@click.pass_context
def status(ctx: click.Context, runs: int) -> None:
    """Recent runs with their outcome and counts, cursors, bulk operations still unconfirmed,
    rejects by reason, and rows the last push could not send. Changes nothing."""
    import json

    from warehouse.status import read_status, summarize

    found = read_status(_config(ctx).warehouse_path(), runs)
    click.secho("runs", bold=True)
    for r in found.runs:
        colour = {"success": "green", "running": "yellow"}.get(r["status"], "red")
        took = (f"{(r['finished_at'] - r['started_at']).total_seconds():.1f}s"
                if r["finished_at"] else "-")
        summary = summarize(r["command"], json.loads(r["counts"]) if r["counts"] else {})
        click.echo(f"  {r['run_id']:>5} {r['command']:<10} "
                   + click.style(f"{r['status']:<8}", fg=colour)
                   + f" {r['started_at']:%Y-%m-%d %H:%M:%S}Z {took:>8}  {summary}")
        if r["error"]:
            click.secho(f"        {r['error'][:160]}", fg="red")
    click.secho("cursors", bold=True)
    for stream, value in found.cursors or [("(none yet)", "")]:
        click.echo(f"  {stream:<17} {value}")
    click.secho("bulk operations not yet confirmed", bold=True)
    for op, kind, items, at in found.unconfirmed:
        click.echo(f"  {op} {kind} {items:,} items, submitted {at} (settled by the next push)")
    if not found.unconfirmed:
        click.echo("  none")
    click.secho("rejects by reason", bold=True)
    for entity, reason, n in found.rejects:
        click.echo(f"  {entity:<16} {reason:<38} {n:>8,}")
    if found.unpushed:
        click.secho("not pushed in the last push (sent again next run)", bold=True)
        for kind, why, n in found.unpushed:
            click.echo(f"  {kind:<15} {n:>7,}  {why[:90]}")
    if found.without_account_total:
        click.secho(f"learners without a 360Learning account ({found.without_account_total:,};"
                    " their attempts are sent once a user with their email exists)", bold=True)
        for email, attempts, since in found.without_account:
            click.echo(f"  {email:<40} {attempts:>5,} attempt(s), since {since:%Y-%m-%d}")
        if found.without_account_total > len(found.without_account):
            click.echo("  … SELECT * FROM meta.learners_without_account lists them all")
    click.secho("API readings (what the platforms answered where the documents leave a choice)",
                bold=True)
    for reading in found.readings:
        click.echo(f"  {reading.api:<5} {reading.reading:<25} {reading.value:<36} "
                   f"{reading.detail or ''} ({reading.checked_at:%Y-%m-%d})")
    if not found.readings:
        click.echo("  none yet")


@main.command()
@click.pass_context
def plan(ctx: click.Context) -> None:
    """Show what `push` would send to 360Learning now (counts and examples); sends nothing."""
    from load.job import run_plan

    result = run_plan(_config(ctx))
    click.echo(f"{'kind':<10} {'operation':<13} {'rows':>9}  examples")
    for kind, counts in (("course", result.courses), ("attempt", result.attempts)):
        for op in sorted(counts):
            sample = ", ".join(result.samples.get(f"{kind} {op}", []))
            click.echo(f"{kind:<10} {op:<13} {counts[op]:>9,}  {sample}")
    if result.rejected_courses:
        click.echo(f"{result.rejected_courses:,} course(s) cannot make a valid payload "
                   "(rejected when pushed, see meta.push_ledger)")
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
    closed = result.attempts.get("closed_in_360", 0)
    if closed:
        click.echo(f"{closed:,} attempt(s) changed in Go1 after 360Learning closed them: not "
                   "sent (360Learning never updates a completed attempt)")
    click.echo(f"{result.writes:,} row(s) would be written")


@main.command("push")
@click.pass_context
def push_command(ctx: click.Context) -> None:
    """Send the changes to 360Learning: courses, archives, sharing, statistics.

    Settles first any bulk operation an interrupted run left unconfirmed. Exit 0 when every
    row went through, 1 when some failed (they are sent again next run; see meta.push_ledger).
    """
    from load.job import run_push

    def progress(kind: str, count: Any) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{kind:<15} {count.succeeded:>9,} ok {count.failed:>7,} failed",
                       nl=False, err=True)

    report = run_push(_config(ctx), progress)
    if sys.stderr.isatty():
        click.echo(err=True)
    result = report.result
    if result.settled_operations:
        click.echo(f"settled {result.settled_operations} operation(s) left by an earlier run")
    click.echo(f"{'kind':<15} {'sent':>9} {'ok':>9} {'failed':>7} {'rejected':>8}")
    for kind, c in result.counts.items():
        click.echo(f"{kind:<15} {c.sent:>9,} {c.succeeded:>9,} {c.failed:>7,} {c.rejected:>8,}")
    if not result.counts:
        click.echo("nothing new to push")
    warn_learners_without_account(result)
    for kind, key, error in result.errors[:10]:
        click.secho(f"  {kind} {key}: {error}", fg="red")
    click.echo(f"run {report.run_id} · warehouse {report.warehouse}")
    if result.failed:
        _fail(f"{result.failed} row(s) failed and will be sent again next run; "
              "SELECT * FROM meta.push_ledger WHERE status <> 'success' shows them",
              EXIT_FAILED)


@main.group()
def models() -> None:
    """Inspect the SQL models: their versions, compiled SQL and lineage."""


def _project(ctx: click.Context) -> Any:
    from warehouse.models import load_project
    from warehouse.transform import MODELS_DIR

    return load_project(MODELS_DIR, variables=_config(ctx).model_variables())


@models.command("list")
@click.pass_context
def models_list(ctx: click.Context) -> None:
    """Name, materialisation, fingerprint, and whether it changed since the last transform."""
    from warehouse.connection import connect
    from warehouse.models import describe

    project = _project(ctx)
    path = _config(ctx).warehouse_path()
    if path.exists():
        con = connect(path, read_only=True)
        try:
            infos = describe(con, project)
        finally:
            con.close()
    else:
        infos = describe(_memory_warehouse(), project)
    click.echo(f"{'model':<34} {'kind':<6} {'fingerprint':<13} changed since last run")
    for info in infos:
        changed = {None: "never run", True: "yes", False: "no"}[info.changed_since_last_run]
        click.echo(f"{info.name:<34} {info.kind:<6} {info.fingerprint[:12]:<13} {changed}")


def _memory_warehouse() -> Any:
    import duckdb

    return duckdb.connect()


@models.command("show")
@click.argument("name")
@click.pass_context
def models_show(ctx: click.Context, name: str) -> None:
    """Print the compiled SQL of one model (what transform runs for it)."""
    project = _project(ctx)
    if name not in project.models:
        _fail(f"no model named {name!r}; `python cli.py models list` lists them", EXIT_USAGE)
    model = project.models[name]
    click.echo(f"-- {model.qualified} ({model.kind}) from {model.path}")
    click.echo(f"-- fingerprint {model.fingerprint}")
    click.echo(model.sql.strip())


@models.command("lineage")
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid", "dot"]), default="text",
              show_default=True, help="Text on the terminal, or a Mermaid or Graphviz graph.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead.")
@click.pass_context
def models_lineage(ctx: click.Context, fmt: str, out: str | None) -> None:
    """The graph of sources, seeds and models."""
    from pathlib import Path

    from warehouse.models import lineage_dot, lineage_mermaid, lineage_text

    render = {"text": lineage_text, "mermaid": lineage_mermaid, "dot": lineage_dot}[fmt]
    text = render(_project(ctx))
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text)


@main.command()
@click.option("--warehouse", "warehouse_path", default="warehouse/demo.duckdb", show_default=True,
              type=click.Path(dir_okay=False), help="Where the demo's warehouse goes (replaced).")
def demo(warehouse_path: str) -> None:
    """Run go1sync end to end on a built-in sandbox: no credentials, no network.

    Extracts from a seeded Go1 stand-in and maps it (transform), changes Go1 (a course
    finished, a course retired, a title edited), does both again, and prints what each run
    landed and mapped, and how to look at it.
    """
    from pathlib import Path

    from sandbox.demo import QUERIES, run_demo

    report = run_demo(Path(warehouse_path), click.echo)
    for number, run in enumerate(report.runs, start=1):
        click.secho(f"\nRun {number} (run id {run.extract.run_id})", bold=True)
        if number == 2:
            click.echo("after these changes in Go1: " + "; ".join(report.changes))
        print_stream_summary(run.extract.outcomes)
        click.echo("mapped: " + ", ".join(f"{n:,} {what}" for what, n in run.marts.items()))
        pushed = run.push.result.counts
        click.echo("pushed to 360Learning: " + (", ".join(
            f"{c.succeeded:,} {kind}" + (f" ({c.failed:,} failed)" if c.failed else "")
            for kind, c in pushed.items()) or "nothing new"))
    click.secho("\nLook at the warehouse:", bold=True)
    click.echo(f"  duckdb {report.warehouse}")
    for title, sql in QUERIES:
        click.echo(f"  -- {title}\n  {sql}")
    if not all(run.extract.ok for run in report.runs):
        _fail("a demo run failed", EXIT_FAILED)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--go1-port", default=8701, show_default=True, type=int,
              help="Port of the Go1 sandbox (0: any free port).")
@click.option("--l360-port", default=8702, show_default=True, type=int,
              help="Port of the 360Learning sandbox (0: any free port).")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the sandbox data.")
@click.option("--learning-objects", default=300, show_default=True, type=click.IntRange(0))
@click.option("--users", default=80, show_default=True, type=click.IntRange(1))
@click.option("--enrollments", default=2000, show_default=True, type=click.IntRange(0))
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0),
              help="Delay every sandbox answer by this much.")
def sandbox(host: str, go1_port: int, l360_port: int, seed: int, learning_objects: int,
            users: int, enrollments: int, latency_ms: int) -> None:
    """Serve the local Go1 and 360Learning stand-ins on loopback until Ctrl-C.

    Prints the environment variables that point go1sync at them: paste them in another shell,
    then run `python cli.py extract`, `transform`, `plan`, `push`. The 360Learning sandbox
    knows the Go1 sandbox's learners by email, as the integration requires.
    """
    from sandbox.demo import learner_emails
    from sandbox.go1 import Go1Sandbox, Go1Seed
    from sandbox.l360 import L360Sandbox

    if host not in ("127.0.0.1", "localhost", "::1"):
        _fail("the sandbox serves loopback only (--host 127.0.0.1)", EXIT_USAGE)
    began = time.monotonic()
    seed_spec = Go1Seed(seed=seed, learning_objects=learning_objects, users=users,
                        enrollments=enrollments)
    go1 = Go1Sandbox(seed_spec)
    go1.faults.latency_ms = latency_ms
    go1.serve(host=host, port=go1_port)
    l360 = L360Sandbox(learner_emails=learner_emails(go1)).serve(host=host, port=l360_port)
    click.echo(f"# Go1 sandbox on {go1.url} ({learning_objects} learning objects, {users} users,"
               f" {enrollments} enrollments), 360Learning sandbox on {l360.url}; ready in "
               f"{time.monotonic() - began:.1f}s")
    for name, value in {**go1.env(), **l360.env()}.items():
        click.echo(f"export {name}={value}")
    click.echo("# Ctrl-C (or SIGTERM) stops them.", err=True)

    def stop(signum: int, frame: object) -> None:
        go1.stop()  # wait() below returns once the server has stopped

    signal.signal(signal.SIGTERM, stop)  # a service manager or a script stops it this way
    try:
        go1.wait()
    except KeyboardInterrupt:
        pass
    finally:
        go1.stop()
        l360.stop()


if __name__ == "__main__":
    main()
