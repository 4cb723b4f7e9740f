"""go1sync's command line: parse options, call one function per command, print.

The CLI's one error boundary is :class:`Go1SyncGroup`: go1sync's known errors (one root,
:class:`go1sync.errors.Go1SyncError`) end here as one red line and their exit code (2 for bad
usage or configuration, 1 for work that failed); an operating-system error (a folder that
cannot be written, a port in use) as one line naming the path; a local fault DuckDB met (a
corrupt file, a full disk) as one line naming the warehouse; Ctrl-C, DuckDB's interrupted
query included, as exit 130, saying what was kept. ``--debug`` (or ``GO1SYNC_DEBUG=1``) lets
any of them through with its traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

import console
from console import fail as _fail
from extract.streams import STREAMS
from extract.timestamps import TimestampError, parse_since
from go1sync import __version__
from go1sync.errors import EXIT_FAILED, EXIT_USAGE, Go1SyncError
from settings import Config, load_config

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
DEBUG_ENV = "GO1SYNC_DEBUG"
# A scheduled run waits this long (seconds) for a run in progress to end: the 08:00 statistics
# run then follows a 07:40 catalog run that is still going, instead of being refused.
SCHEDULED_LOCK_WAIT = 3600
INTERRUPTED = ("interrupted: what was committed is kept (each stream lands in its own "
               "transaction with its cursor; every row sent is in the push ledger), and the "
               "next run settles what this one left open")


def os_error_line(exc: OSError) -> str:
    """An operating-system error in one line that names the path (or paths) it concerns."""
    reason = exc.strerror or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' -> '.join(paths)}" if paths else f"{reason} ({exc})"


def interrupted(exc: BaseException) -> bool:
    """Whether Ctrl-C is behind an error: DuckDB reports it as its own error (an
    ``InterruptException``, or a bare ``RuntimeError('Query interrupted')`` when the signal
    comes while its Python client waits for a query, which loses the KeyboardInterrupt), which
    a stage may have wrapped in one of go1sync's. By name: the CLI does not import DuckDB."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt) or type(seen).__name__ == "InterruptException":
            return True
        if type(seen) is RuntimeError and str(seen) == "Query interrupted":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def local_fault_line(ctx: click.Context, exc: Exception) -> str | None:
    """The one line for a local fault DuckDB met outside a session (a corrupt block read by
    ``plan`` or ``models``, say), naming the configured warehouse; ``None`` for anything
    else, which is a bug and keeps its traceback."""
    if "duckdb" not in sys.modules:
        return None
    from contextlib import suppress

    from warehouse.errors import fault_error

    path = None
    if ctx.obj is not None:
        with suppress(Go1SyncError):  # else the line names the file DuckDB's message names
            path = _config(ctx).warehouse_path()
    known = fault_error(path, exc)
    return None if known is None else str(known)


class Go1SyncGroup(click.Group):
    """The one boundary: known errors become one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug")) or os.environ.get(DEBUG_ENV, "") not in ("", "0")
        try:
            return super().invoke(ctx)
        except Go1SyncError as exc:
            if debug:
                raise
            if interrupted(exc):
                click.secho(INTERRUPTED, fg="yellow", err=True)
                sys.exit(EXIT_INTERRUPTED)
            _fail(str(exc), exc.exit_code)
        except OSError as exc:
            if debug:
                raise
            _fail(os_error_line(exc), EXIT_FAILED)
        except KeyboardInterrupt:
            if debug:
                raise
            click.secho(INTERRUPTED, fg="yellow", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if debug:
                raise
            if interrupted(exc):
                click.secho(INTERRUPTED, fg="yellow", err=True)
                sys.exit(EXIT_INTERRUPTED)
            line = local_fault_line(ctx, exc)
            if line is None:
                raise
            _fail(line, EXIT_FAILED)


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
@click.version_option(__version__, "--version", prog_name="go1sync",
                      message="%(prog)s %(version)s")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML settings file (default: $GO1SYNC_CONFIG, else the environment alone).")
@click.option("--profile", help="A [profiles.NAME] of the config file (say test or production), "
                                "with its own URLs, credentials and warehouse "
                                "(default: $GO1SYNC_PROFILE, else none).")
@click.option("-v", "--verbose", is_flag=True, help="Log retries and other details to stderr.")
@click.option("--debug", is_flag=True,
              help=f"Show the traceback of an error instead of one line (or ${DEBUG_ENV}=1).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, profile: str | None,
         verbose: bool, debug: bool) -> None:
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


@main.command()
@click.option("--since", type=SinceType(),
              help="Re-read enrollments updated since this instant (2026-11-01 or "
                   "2026-11-01T08:00:00+01:00) instead of from the stored cursor.")
@click.option("--stream", "streams", multiple=True, type=click.Choice(list(STREAMS)),
              help="Extract only this stream (repeatable). Default: all three.")
@click.pass_context
def extract(ctx: click.Context, since: datetime | None, streams: Sequence[str]) -> None:
    """Land Go1's catalog, enrollments and learners' emails in the warehouse (raw.*).

    Exit 0 when every stream succeeded, 1 when one failed (its cursor is kept), 2 for bad
    usage or configuration.
    """
    from commands.extract import run_extract

    with console.StreamProgress() as progress:
        report = run_extract(_config(ctx), list(streams) or list(STREAMS), since,
                             progress.update)
    console.streams(report.streams)
    console.footer(report)
    if not report.ok:
        _fail(f"stream(s) failed: {', '.join(report.failed_streams)}; their cursors were kept",
              EXIT_FAILED)


@main.command()
@click.pass_context
def transform(ctx: click.Context) -> None:
    """Run the SQL models (models/) and their audits: raw.* -> staging.* -> marts.* ->
    outbound.* (the payloads and change sets push sends).

    Prints rows and time per model. A failing blocking audit stops the run before anything is
    materialised (exit 1, naming the model, the audit and offending rows); failing
    non-blocking audits are listed as warnings.
    """
    from commands.transform import run_transform

    report = run_transform(_config(ctx))
    assert report.models is not None
    console.models(report.models)
    console.transform_footer(report)


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
    from commands.run import run_pipeline

    report = run_pipeline(_config(ctx), only, since, dry_run, lock_wait)
    console.heading("extract")
    console.streams(report.streams)
    console.heading("transform")
    if report.models is not None:
        click.echo("  " + ", ".join(f"{m.name} {m.rows:,}" for m in report.models.models
                                    if m.kind != "seed"))
        console.audit_warnings(report.models)
    if report.plan is not None:
        console.heading("plan")
        console.plan_summary(report.plan)
    if report.pushed is not None:
        console.heading("push")
        console.pushed(report.pushed, indent="  ")
    elif dry_run:
        click.echo("dry run: nothing pushed")
    console.footer(report)
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

    from schedule import crontab_lines, jobs, next_firings, systemd_units

    config = _scheduled(_config(ctx))
    scheduled = jobs(config)
    click.secho("next firings", bold=True)
    for firing in next_firings(scheduled, datetime.now(UTC), count):
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
    click.echo(crontab_lines(scheduled, command_for).rstrip())
    click.secho("\nsystemd (one service and one timer per job)", bold=True)
    click.echo(systemd_units(scheduled, command_for, workdir).rstrip())


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Fire the scheduled jobs in the foreground, in Europe/Paris time, until SIGTERM or Ctrl-C.

    A firing that comes while the same job's previous run is still going is skipped (and
    logged); one that comes while the other job runs waits for it (up to an hour); a failed
    run is logged and the schedule goes on.
    """
    from commands.run import run_pipeline
    from schedule import Scheduler, jobs

    config = _scheduled(_config(ctx))
    config.go1()
    config.l360()  # fail now, not at the first firing, on a missing setting

    def run_job(job: str) -> int:
        report = run_pipeline(config, only=job, lock_wait=SCHEDULED_LOCK_WAIT)
        click.echo(f"{job}: run {report.run_id} " + ("ok" if report.ok else "with failures"))
        return 0 if report.ok else 1

    click.echo("serving the schedule; Ctrl-C or SIGTERM stops it", err=True)
    Scheduler(jobs(config), run_job, log=lambda line: click.echo(line, err=True)).run_forever()


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

    from commands.reconcile import run_reconcile
    from reconcile.files import write_files
    from reconcile.report import text_summary

    report, requeued = run_reconcile(_config(ctx), requeue)
    click.echo(text_summary(report))
    if fmt == "html":
        from reconcile.html import render_html

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
    from commands.check import run_checks

    results = run_checks(_config(ctx))
    console.checks(results)
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
    from commands.status import run_status

    console.status(run_status(_config(ctx), runs))


@main.command()
@click.pass_context
def plan(ctx: click.Context) -> None:
    """Show what `push` would send to 360Learning now (counts and examples); sends nothing."""
    from commands.push import run_plan

    console.plan(run_plan(_config(ctx)))


@main.command("push")
@click.pass_context
def push_command(ctx: click.Context) -> None:
    """Send the changes to 360Learning: courses, archives, sharing, statistics.

    Settles first any bulk operation an interrupted run left unconfirmed. Exit 0 when every
    row went through, 1 when some failed (they are sent again next run; see meta.push_ledger).
    """
    from commands.push import run_push

    report = run_push(_config(ctx), console.push_progress)
    console.end_push_progress()
    assert report.pushed is not None
    result = report.pushed
    console.pushed(result)
    console.push_errors(result)
    console.footer(report)
    if result.failed:
        _fail(f"{result.failed} row(s) failed and will be sent again next run; "
              "SELECT * FROM meta.push_ledger WHERE status <> 'success' shows them",
              EXIT_FAILED)


@main.command("rebuild-snapshot")
@click.option("--replace", is_flag=True,
              help="Rebuild even though this warehouse's snapshot holds rows.")
@click.pass_context
def rebuild_snapshot_command(ctx: click.Context, replace: bool) -> None:
    """Rebuild what was pushed (meta.pushed_*) from 360Learning, for a lost or restored
    warehouse: extracts Go1, maps it, then reads the integration's courses (archived or not)
    and attempts back, so the next run sends nothing twice and misses no archive.

    One GET per Go1 learning object (360Learning lists no integration's courses), at its
    rate limit: about 20 minutes for 50,000.
    """
    from commands.rebuild import run_rebuild

    report, rebuilt = run_rebuild(_config(ctx), replace, console.count_progress("courses read"))
    console.end_count_progress()
    console.streams(report.streams)
    if rebuilt is None:
        _fail(f"stream(s) failed: {', '.join(report.failed_streams)}; nothing was rebuilt",
              EXIT_FAILED)
        return
    console.rebuilt(rebuilt)
    console.footer(report)


@main.group()
def models() -> None:
    """Inspect the SQL models: their versions, compiled SQL and lineage."""


@models.command("list")
@click.pass_context
def models_list(ctx: click.Context) -> None:
    """Name, materialisation, fingerprint, and whether it changed since the last transform."""
    from commands.models import list_models
    from warehouse.models import short_fingerprint

    click.echo(f"{'model':<34} {'kind':<6} {'fingerprint':<13} changed since last run")
    for info in list_models(_config(ctx)):
        changed = {None: "never run", True: "yes", False: "no"}[info.changed_since_last_run]
        click.echo(f"{info.name:<34} {info.kind:<6} {short_fingerprint(info.fingerprint):<13} "
                   f"{changed}")


@models.command("show")
@click.argument("name")
@click.pass_context
def models_show(ctx: click.Context, name: str) -> None:
    """Print the compiled SQL of one model (what transform runs for it)."""
    from commands.models import show_model

    model = show_model(_config(ctx), name)
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

    from commands.models import lineage

    text = lineage(_config(ctx), fmt)
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

    from commands.demo import run_demo

    report = run_demo(Path(warehouse_path), click.echo)
    for number, demo_run in enumerate(report.runs, start=1):
        click.secho(f"\nRun {number} (run id {demo_run.run.run_id})", bold=True)
        if number == 2:
            click.echo("after these changes in Go1: " + "; ".join(report.changes))
        console.streams(demo_run.run.streams)
        marts = demo_run.marts
        click.echo(f"mapped: {marts.live_courses:,} live courses, {marts.archived_courses:,} "
                   f"archived courses, {marts.open_attempts:,} open attempts, "
                   f"{marts.closed_attempts:,} closed attempts, {marts.rejects:,} rejects")
        pushed = demo_run.run.pushed.counts if demo_run.run.pushed else {}
        click.echo("pushed to 360Learning: " + (", ".join(
            f"{c.succeeded:,} {kind}" + (f" ({c.failed:,} failed)" if c.failed else "")
            for kind, c in pushed.items()) or "nothing new"))
    click.secho("\nLook at the warehouse:", bold=True)
    click.echo(f"  duckdb {report.warehouse}")
    for title, sql in DEMO_QUERIES:
        click.echo(f"  -- {title}\n  {sql}")
    if not all(demo_run.run.ok for demo_run in report.runs):
        _fail("a demo run failed", EXIT_FAILED)


DEMO_QUERIES = (
    ("courses for 360Learning, by type and whether archived",
     "SELECT content_type, archived, archived_reason, count(*) FROM marts.content_360 "
     "GROUP BY ALL ORDER BY ALL;"),
    ("learners with open attempts",
     "SELECT user_email, count(*) AS open_attempts FROM marts.attempts_360 "
     "WHERE attempt_state = 'open' GROUP BY 1 ORDER BY 2 DESC LIMIT 10;"),
    ("why records were not mapped",
     "SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL ORDER BY 3 DESC;"),
    ("what the next push would send",
     "SELECT operation, count(*) FROM outbound.attempt_changes WHERE planned GROUP BY 1;"),
)


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
    from commands.sandbox import serve_sandboxes, wait_until_stopped
    from sandbox.go1 import Go1Seed

    seed_spec = Go1Seed(seed=seed, learning_objects=learning_objects, users=users,
                        enrollments=enrollments)
    served = serve_sandboxes(host, go1_port, l360_port, seed_spec, latency_ms)
    click.echo(f"# Go1 sandbox on {served.go1.url} ({learning_objects} learning objects, "
               f"{users} users, {enrollments} enrollments), 360Learning sandbox on "
               f"{served.l360.url}; ready in {served.seconds:.1f}s")
    for name, value in served.env().items():
        click.echo(f"export {name}={value}")
    click.echo("# Ctrl-C (or SIGTERM) stops them.", err=True)
    wait_until_stopped(served)


if __name__ == "__main__":
    main()
