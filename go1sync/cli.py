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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from extract.timestamps import TimestampError, parse_since
from go1sync import __version__, console, logs
from go1sync.console import fail as _fail
from go1sync.errors import EXIT_FAILED, EXIT_USAGE, Go1SyncError
from go1sync.progress import Progress
from go1sync.settings import Config, load_config

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
DEBUG_ENV = "GO1SYNC_DEBUG"
# A scheduled run waits this long (seconds) for a run in progress to end: the 08:00 statistics
# run then follows a 07:40 catalog run that is still going, instead of being refused.
SCHEDULED_LOCK_WAIT = 3600
INTERRUPTED = ("interrupted: what was committed is kept (each stream lands in its own "
               "transaction with its cursor; every row sent is in the push ledger), and the "
               "next run settles what this one left open")


def stream_names() -> list[str]:
    from extract.streams import STREAMS

    return list(STREAMS)


class StreamChoice(click.Choice):
    """The streams, read from ``extract.streams`` when the option is used or shown, not when
    the CLI starts: that import loads the HTTP client and DuckDB."""

    def __init__(self) -> None:
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> list[str]:
        return stream_names()

    @choices.setter
    def choices(self, value: object) -> None:
        pass


def os_error_line(exc: OSError) -> str:
    """An operating-system error in one line that names the path (or paths) it concerns."""
    reason = exc.strerror or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' -> '.join(paths)}" if paths else f"{reason} ({exc})"


def interrupted(exc: BaseException) -> bool:
    """Whether Ctrl-C is behind an error, along its chain (a stage may have wrapped it). DuckDB
    reports Ctrl-C as its own errors, which ``warehouse`` knows: asked only when a command
    loaded DuckDB, so the CLI imports it for no command that does not."""
    if "duckdb" in sys.modules:
        from warehouse.session import interrupted as behind

        return behind(exc)
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
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


@dataclass
class GlobalOptions:
    """``--config`` and ``--profile`` as given, before the command or after it: ``ctx.obj``
    of every context, so the later one on the line wins."""

    config_path: str | None = None
    profile: str | None = None


CONFIG_HELP = "TOML settings file (default: $GO1SYNC_CONFIG, else the environment alone)."
PROFILE_HELP = ("A [profiles.NAME] of the config file (say test or production), with its own "
                "URLs, credentials and warehouse (default: $GO1SYNC_PROFILE, else none).")
VERBOSE_HELP = "Log retries and other details to stderr."


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the command: the same value the group's option sets."""
    if value is not None and param.name is not None:
        setattr(ctx.ensure_object(GlobalOptions), param.name, value)
    return value


def _verbose(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:  # the group configured logging before this command's options were parsed
        logging.getLogger().setLevel(logging.INFO)
    return value


def _log_format(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:  # given after the command: the group set up logging already
        logs.use_format(value)
    return value


LOG_FORMAT_HELP = "Log records as text (default) or one JSON object a line, for machines."


def global_options() -> list[click.Option]:
    """``--config``, ``--profile`` and ``-v`` as every command also takes them after its name
    (``python cli.py run -v``): click reads a group's options before the command only."""
    return [
        click.Option(["--config", "config_path"], type=click.Path(dir_okay=False),
                     expose_value=False, callback=_remember, help=CONFIG_HELP),
        click.Option(["--profile"], expose_value=False, callback=_remember, help=PROFILE_HELP),
        click.Option(["-v", "--verbose"], is_flag=True, expose_value=False, callback=_verbose,
                     help=VERBOSE_HELP),
        click.Option(["--log-format"], type=click.Choice(logs.FORMATS), expose_value=False,
                     callback=_log_format, help=LOG_FORMAT_HELP),
    ]


class CommandGroup(click.Group):
    """A group whose every command (subgroups too) takes the global options after its name:
    added here, once, so no command can miss them."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        taken = {opt for param in cmd.params for opt in getattr(param, "opts", ())}
        cmd.params.extend(o for o in global_options() if not taken.intersection(o.opts))
        super().add_command(cmd, name)


class Go1SyncGroup(CommandGroup):
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
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--profile", help=PROFILE_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
@click.option("--log-format", type=click.Choice(logs.FORMATS), default="text",
              show_default=True, help=LOG_FORMAT_HELP)
@click.option("--debug", is_flag=True,
              help=f"Show the traceback of an error instead of one line (or ${DEBUG_ENV}=1).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, profile: str | None,
         verbose: bool, log_format: str, debug: bool) -> None:
    """go1sync: copies a Go1 My Library catalog and its enrollments into 360Learning.

    Settings come from a TOML file and environment variables (the environment wins); see the
    README for the list. To try it without credentials: `go1sync demo`, or start
    `go1sync sandbox` and paste the variables it prints (in a checkout, `python cli.py X` is
    the same as `go1sync X`).
    """
    logs.configure(verbose, log_format)
    ctx.obj = GlobalOptions(config_path, profile)


def _config(ctx: click.Context) -> Config:
    options = ctx.ensure_object(GlobalOptions)
    return load_config(options.config_path, profile=options.profile)


def _scheduled(config: Config) -> Config:
    if not config.scheduled:
        _fail(f"profile {config.profile!r} runs by hand only (scheduled = false in its "
              "[profiles] table): use `python cli.py run`", EXIT_USAGE)
    return config


@main.command()
@click.option("--since", type=SinceType(),
              help="Re-read enrollments updated since this instant (2026-11-01 or "
                   "2026-11-01T08:00:00+01:00) instead of from the stored cursor.")
@click.option("--stream", "streams", multiple=True, type=StreamChoice(),
              help="Extract only this stream (repeatable). Default: all three.")
@click.pass_context
def extract(ctx: click.Context, since: datetime | None, streams: Sequence[str]) -> None:
    """Land Go1's catalog, enrollments and learners' emails in the warehouse (raw.*).

    Exit 0 when every stream succeeded, 1 when one failed (its cursor is kept), 2 for bad
    usage or configuration.
    """
    from commands.extract import run_extract

    with Progress() as bars:
        report = run_extract(_config(ctx), list(streams) or stream_names(), since,
                             console.stream_progress(bars))
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

    Prints rows and time per model (schema.name), then the records the mapping left out
    (marts.rejects), by reason. A failing blocking audit stops the run before anything is
    materialised (exit 1, naming the model, the audit and offending rows); failing
    non-blocking audits are listed as warnings.
    """
    from commands.transform import read_mapped, run_transform

    report = run_transform(_config(ctx))
    assert report.models is not None
    mapped = read_mapped(report.warehouse)
    console.models(report.models, mapped.schemas)
    console.rejects(mapped.rejects)
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
    from commands.run import PHASES, run_pipeline

    with Progress() as bars:
        report = run_pipeline(_config(ctx), only, since, dry_run, lock_wait,
                              on_phase=console.phase_progress(bars, PHASES),
                              streams_progress=console.stream_progress(bars),
                              push_progress=console.push_progress(bars))
    console.heading("extract")
    console.streams(report.streams)
    console.heading("transform")
    if report.unchanged_since is not None:
        click.echo("  " + console.unchanged(report.unchanged_since))
    if report.models is not None:
        from commands.transform import read_mapped

        console.mapped(report.models, read_mapped(report.warehouse).rejects, indent="  ")
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
@click.option("--user", help="The account that runs the jobs: the units' User= and the "
                             "crontab's owner (default: go1sync).")
@click.pass_context
def schedule_command(ctx: click.Context, count: int, user: str | None) -> None:
    """The next firings (Europe/Paris and UTC), and ready-to-use crontab lines (in UTC, with a
    guard on the Paris time: Debian's cron ignores CRON_TZ) and systemd units (User=,
    OnCalendar in Europe/Paris) that run them. The jobs' times come from GO1SYNC_CATALOG_TIMES
    and GO1SYNC_STATS_TIMES (defaults: catalog 07:40, statistics 08:00, 13:00, 20:00)."""
    import shlex
    import time
    from pathlib import Path

    from go1sync.schedule import (
        DEFAULT_USER,
        ScheduleError,
        check_user,
        crontab_lines,
        jobs,
        next_firings,
        systemd_units,
    )

    try:
        user = check_user(user or DEFAULT_USER)
    except ScheduleError as exc:
        raise click.BadParameter(str(exc), param_hint="--user") from None
    config = _scheduled(_config(ctx))
    scheduled = jobs(config)
    click.secho("next firings", bold=True)
    for firing in next_firings(scheduled, datetime.now(UTC), count):
        click.echo(f"  {firing.job:<8} {firing.at_paris:%Y-%m-%d %H:%M %Z} "
                   f"({firing.at_utc:%Y-%m-%d %H:%M} UTC)")
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "cli.py").is_file():  # a checkout: its shim, from its folder
        workdir, program = str(checkout), "cli.py"
    else:  # installed: the package, from where the schedule was asked (relative paths hold)
        workdir, program = str(Path.cwd()), "-m go1sync"
    config_path = ctx.ensure_object(GlobalOptions).config_path
    config_arg = (f" --config {shlex.quote(str(Path(config_path).resolve()))}"
                  if config_path else "")
    if config.profile:
        config_arg += f" --profile {shlex.quote(config.profile)}"

    def command_for(job: str) -> str:
        return (f"cd {shlex.quote(workdir)} && {shlex.quote(sys.executable)} {program}"
                f"{config_arg} run --only {job} --wait-for-lock {SCHEDULED_LOCK_WAIT}")

    click.secho("\ncrontab (in UTC, guarded by the Paris time)", bold=True)
    click.echo(crontab_lines(scheduled, command_for, user).rstrip())
    if time.timezone or time.daylight:  # the cron daemon reads the lines in this zone
        click.secho(f"warning: this machine's time zone is {'/'.join(time.tzname)}, not UTC: "
                    "Debian's cron reads the crontab lines in the system's zone, where they "
                    "would miss the Paris times; set it to UTC (timedatectl set-timezone "
                    "Etc/UTC) or use the systemd timers", fg="yellow", err=True)
    click.secho("\nsystemd (one service and one timer per job)", bold=True)
    click.echo(systemd_units(scheduled, command_for, workdir, user).rstrip())


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Fire the scheduled jobs in the foreground, in Europe/Paris time, until SIGTERM or Ctrl-C.

    A firing that comes while the same job's previous run is still going is skipped (and
    logged); one that comes while the other job runs waits for it (up to an hour); a failed
    run is logged and the schedule goes on.
    """
    from commands.run import run_pipeline
    from go1sync.schedule import Scheduler, jobs

    config = _scheduled(_config(ctx))
    config.go1()
    config.l360()  # fail now, not at the first firing, on a missing setting

    def run_job(job: str) -> int:
        report = run_pipeline(config, only=job, lock_wait=SCHEDULED_LOCK_WAIT)
        click.echo(f"{job}: run {report.run_id} " + ("ok" if report.ok else "with failures"))
        return 0 if report.ok else 1

    receiving = None
    if config.webhook_secret() is not None:  # the receiver too, beside the schedule
        from commands.webhooks import start_receiving

        receiving = start_receiving(config, log=_log_line, describe=console.micro_run,
                                    worker_process=True)
    click.echo("serving the schedule; Ctrl-C or SIGTERM stops it", err=True)
    # said once the scheduler's signal handlers are in place, after its "started" line
    also = [f"receiving Go1 webhooks on {receiving.url}/go1/webhooks"] if receiving else []
    try:
        Scheduler(jobs(config), run_job, log=_log_line, started=also).run_forever()
    finally:
        if receiving is not None:
            receiving.stop()
            click.echo("webhook receiver stopped", err=True)


def _log_line(line: str) -> None:
    click.echo(line, err=True)


class ListenType(click.ParamType):
    name = "HOST:PORT"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, int]:
        from go1sync.settings import parse_listen

        if isinstance(value, tuple):
            return value
        try:
            return parse_listen(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


@main.group("webhooks", cls=CommandGroup)
def webhooks_group() -> None:
    """Go1 events within seconds: go1sync's webhook on the portal, and its receiver.

    `register` once (GO1SYNC_WEBHOOK_URL, GO1_WEBHOOK_SECRET), then `serve` (or `python
    cli.py serve`, which runs the receiver beside the schedule when a secret is set)."""


@webhooks_group.command("register")
@click.pass_context
def webhooks_register(ctx: click.Context) -> None:
    """Create go1sync's webhook on the Go1 portal, or update the one calling
    GO1SYNC_WEBHOOK_URL: its event types, the secret, active. Running it again is safe."""
    from commands.webhooks import register_webhook

    done = register_webhook(_config(ctx))
    hook = done.webhook
    click.echo(f"{'registered' if done.created else 'updated'} webhook {hook.id}: {hook.url}, "
               f"{hook.status}, events {', '.join(hook.event_types) or '(none listed)'}")


@webhooks_group.command("list")
@click.pass_context
def webhooks_list(ctx: click.Context) -> None:
    """The portal's webhooks, with their status (never their secrets); go1sync's is marked."""
    from commands.webhooks import portal_webhooks

    config = _config(ctx)
    hooks = portal_webhooks(config)
    ours = config.get("webhooks.public_url")
    if not hooks:
        click.echo("the portal has no webhooks")
        return
    click.echo(f"  {'id':<14} {'status':<9} {'events':>6}  url")
    for hook in hooks:
        mark = "*" if hook.calls(ours) else " "
        click.echo(f"{mark} {hook.id:<14} {hook.status:<9} {len(hook.event_types):>6}  {hook.url}")
    if ours:
        click.echo("* go1sync's (it calls GO1SYNC_WEBHOOK_URL)")


@webhooks_group.command("remove")
@click.argument("webhook_id", metavar="[ID]", required=False)
@click.pass_context
def webhooks_remove(ctx: click.Context, webhook_id: str | None) -> None:
    """Remove webhook ID, or go1sync's own (the one calling GO1SYNC_WEBHOOK_URL)."""
    from commands.webhooks import remove_webhook

    removed = remove_webhook(_config(ctx), webhook_id)
    if removed.how == "deleted":
        click.echo(f"removed webhook {removed.webhook_id}")
    else:
        click.echo(f"webhook {removed.webhook_id} set inactive (the portal refused to delete "
                   "it): Go1 sends it nothing more")


@webhooks_group.command("serve")
@click.option("--listen", type=ListenType(), default=None,
              help="Where to listen (default: GO1SYNC_WEBHOOK_LISTEN, 127.0.0.1:8787); put a "
                   "TLS proxy in front of it (see the README).")
@click.option("--batch-seconds", type=click.FloatRange(0.0, 3600.0, min_open=True),
              default=None, help="How long events gather before a micro-run processes them "
                                 "(default: GO1SYNC_WEBHOOK_BATCH_SECONDS, 5).")
@click.pass_context
def webhooks_serve(ctx: click.Context, listen: tuple[str, int] | None,
                   batch_seconds: float | None) -> None:
    """Receive Go1's webhook deliveries and process them as micro-runs, in the foreground,
    without the schedule, until SIGTERM or Ctrl-C. A run, status or plan still works
    meanwhile: the receiver stores events in an inbox beside the warehouse, and a micro-run
    takes the warehouse only while it runs."""
    from commands.webhooks import start_receiving

    receiving = start_receiving(_config(ctx), listen, batch_seconds, log=_log_line,
                                describe=console.micro_run, worker_process=True)
    try:
        signalled = console.wait_for_stop(ready=lambda: click.echo(
            f"receiving Go1 webhooks on {receiving.url}/go1/webhooks; Ctrl-C or SIGTERM "
            "stops it", err=True))
    finally:
        receiving.stop()
    click.echo(f"received {signalled}: webhook receiver stopped", err=True)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "html", "csv", "json"]),
              default="text", show_default=True,
              help="A summary on the terminal, a self-contained HTML report, or one CSV or "
                   "JSON file per category with a summary file; json without --out prints "
                   "one JSON document to stdout.")
@click.option("--out", type=click.Path(), help="Where to write: the HTML file, or the folder "
                                               "of CSV/JSON files (default: reports/).")
@click.option("--requeue", is_flag=True,
              help="Mark the differing courses and attempts so the next push sends them again.")
@click.pass_context
def reconcile(ctx: click.Context, fmt: str, out: str | None, requeue: bool) -> None:
    """Why does 360Learning show something else than Go1? Reads 360Learning back, compares it
    with Go1 (the marts) and with what go1sync pushed, and explains every difference: first
    what needs action (drift), then apart what is excluded by design (content not synced,
    mapping rejects, learners without an account).

    Exit status: 0 when nothing needs action, 3 when something does (so cron can alert on
    drift), 1 when the reconcile itself failed, 2 for bad usage or configuration.
    """
    from pathlib import Path

    from commands.reconcile import run_reconcile
    from go1sync.errors import EXIT_DRIFT
    from reconcile.files import dumps, report_document, write_files, write_summary
    from reconcile.report import text_summary

    with Progress() as bars:
        report, requeued = run_reconcile(_config(ctx), requeue,
                                         console.labeled_progress(bars))
    if fmt == "json" and out is None:  # one document on stdout, for a pipe: nothing else
        click.echo(dumps(report_document(report, requeued if requeue else None)))
    else:
        click.echo(text_summary(report))
    if fmt == "html":
        from reconcile.html import render_html

        target = Path(out or f"reports/reconcile-{report.run_id}.html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_html(report), encoding="utf-8")
        click.echo(f"wrote {target}")
    elif fmt == "csv" or (fmt == "json" and out is not None):
        folder = Path(out or "reports")
        written = write_files(report, folder, fmt)
        summary = write_summary(report, folder, fmt)
        click.echo(f"wrote {len(written)} {fmt.upper()} file(s) and {summary.name} in {folder}")
    if requeue and not (fmt == "json" and out is None):
        click.echo(f"requeued {requeued:,} row(s): the next push sends them again")
    if report.needs_action_total:
        ctx.exit(EXIT_DRIFT)


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


@main.command("init")
@click.argument("path", default="go1sync.toml", type=click.Path(dir_okay=False))
def init_command(path: str) -> None:
    """Write a commented go1sync.toml to start from (default: ./go1sync.toml): every setting
    with its help, environment variable and default, commented out; secrets left to the
    environment. An existing file is never overwritten (exit 2)."""
    import shlex
    from pathlib import Path

    from commands.init import write_skeleton

    count = write_skeleton(Path(path), console.program())
    click.echo(f"wrote {path}: {count} settings, commented out at their defaults; next: "
               f"{console.program()} --config {shlex.quote(path)} check")


@main.group("config", cls=CommandGroup)
def config_group() -> None:
    """Inspect the settings go1sync would use."""


@config_group.command("show")
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """Every effective setting and where it comes from (environment variable, the config
    file, its profile's table, the profile's own warehouse, or the default), secrets masked.
    Exit 2 when a value is invalid, after showing them all."""
    from commands.config import show_config
    from go1sync.settings import CONFIG_ENV

    config = _config(ctx)
    click.echo(f"config file: {config.source or f'none (--config or {CONFIG_ENV})'}"
               + (f", profile {config.profile}" if config.profile else ""))
    settings = show_config(config)
    rows = [(s.key, "(unset)" if s.value is None else s.value, s.source) for s in settings]
    widths = [max(len(row[i]) for row in [("setting", "value", ""), *rows]) for i in (0, 1)]
    for key, value, source in [("setting", "value", "source"), *rows]:
        click.echo(f"{key:<{widths[0]}}  {value:<{widths[1]}}  {source}")
    problems = [s for s in settings if s.problem]
    for shown in problems:
        click.echo(shown.problem)
    if problems:
        _fail(f"{len(problems)} setting(s) invalid: {', '.join(s.env for s in problems)}",
              EXIT_USAGE)


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

    with Progress() as bars:
        report = run_push(_config(ctx), console.push_progress(bars))
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

    with Progress() as bars:
        report, rebuilt = run_rebuild(_config(ctx), replace,
                                      console.labeled_progress(bars))
    console.streams(report.streams)
    if rebuilt is None:
        _fail(f"stream(s) failed: {', '.join(report.failed_streams)}; nothing was rebuilt",
              EXIT_FAILED)
        return
    console.rebuilt(rebuilt)
    console.footer(report)


@main.group(cls=CommandGroup)
def models() -> None:
    """Inspect the SQL models: their versions, compiled SQL and lineage."""


@models.command("list")
@click.pass_context
def models_list(ctx: click.Context) -> None:
    """Name, materialisation, fingerprint, and whether it changed since the last transform."""
    from commands.models import list_models
    from warehouse.models import short_fingerprint

    infos, shown = list_models(_config(ctx))
    click.echo(f"{'model':<34} {'kind':<6} {'fingerprint':<13} changed since last run")
    for info in infos:
        changed = {None: "never run", True: "yes", False: "no"}[info.changed_since_last_run]
        if info.name in shown.unreal and info.changed_since_last_run is not None:
            changed = "unknown (a setting it reads is unset)"
        qualified = shown.project.models[info.name].qualified
        click.echo(f"{qualified:<34} {info.kind:<6} {short_fingerprint(info.fingerprint):<13} "
                   f"{changed}")
    if note := shown.unset_note():
        click.echo(note)


@models.command("show")
@click.argument("name")
@click.pass_context
def models_show(ctx: click.Context, name: str) -> None:
    """Print the compiled SQL of one model (what transform runs for it). NAME is the model's
    name, bare or with its schema: content_360 or marts.content_360."""
    from commands.models import show_model

    model, shown = show_model(_config(ctx), name)
    click.echo(f"-- {model.qualified} ({model.kind}) from {model.path}")
    click.echo(f"-- fingerprint {model.fingerprint}")
    if model.name in shown.unreal and (note := shown.unset_note()):
        click.echo(f"-- {note}")
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
    landed and mapped, and how to look at it. Then a learner finishes a course with the
    webhook receiver up, and the demo prints the seconds until 360Learning shows it.
    """
    from pathlib import Path

    from commands.demo import query_hints, run_demo

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
    live = report.near_real_time
    if live is not None:
        click.secho("\nNear real time (Go1 webhooks)", bold=True)
        if live.seconds is None:
            click.echo(f"{live.change}: 360Learning did not show it within the demo's wait")
        else:
            click.echo(f"{live.change}: the attempt was closed in 360Learning {live.seconds:.1f} "
                       f"s later (signed delivery, {live.batch_seconds:g} s batch, micro-run, "
                       "push)")
    click.secho("\nLook at the warehouse (read only; --format csv or json for files):",
                bold=True)
    for title, command in query_hints(console.program(), report.warehouse):
        click.echo(f"  # {title}\n  {command}")
    if not all(demo_run.run.ok for demo_run in report.runs):
        _fail("a demo run failed", EXIT_FAILED)
    if live is not None and live.seconds is None:
        _fail("the demo's webhook step did not reach 360Learning", EXIT_FAILED)




@main.command("sql")
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text",
              show_default=True, help="An aligned table, CSV with a header, or one JSON document "
                                      "(a list of objects).")
@click.option("--warehouse", "warehouse_path", type=click.Path(dir_okay=False),
              help="The DuckDB file to query (default: the configured warehouse).")
@click.pass_context
def sql_command(ctx: click.Context, query: str, fmt: str, warehouse_path: str | None) -> None:
    """Run one SQL query on the warehouse and print the result: no DuckDB shell needed.

    The warehouse is opened read-only and without file access, so a query cannot change it or
    touch other files. QUERY is the SQL (quote it for the shell), or - to read it from stdin.
    A query DuckDB refuses ends in one line (exit 2).
    """
    from pathlib import Path

    from commands.sql import run_query

    text = sys.stdin.read() if query == "-" else query
    result = run_query(_config(ctx), text, Path(warehouse_path) if warehouse_path else None)
    console.query(result.columns, result.rows, fmt)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--go1-port", default=8701, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the Go1 sandbox (0: any free port).")
@click.option("--l360-port", default=8702, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the 360Learning sandbox (0: any free port).")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the sandbox data.")
@click.option("--learning-objects", default=300, show_default=True, type=click.IntRange(1))
@click.option("--users", type=click.IntRange(1),
              help="Learners in Go1 (default: 80, or one per 25 enrollments if more).")
@click.option("--enrollments", default=2000, show_default=True, type=click.IntRange(0))
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(0),
              help="Delay every sandbox answer by this much.")
@click.option("--warehouse", "warehouse_path", default="warehouse/sandbox.duckdb",
              show_default=True, type=click.Path(dir_okay=False),
              help="The sandbox's own warehouse, exported as GO1SYNC_WAREHOUSE; emptied at "
                   "each start, as the sandboxes start empty.")
def sandbox(host: str, go1_port: int, l360_port: int, seed: int, learning_objects: int,
            users: int | None, enrollments: int, latency_ms: int, warehouse_path: str) -> None:
    """Serve the local Go1 and 360Learning stand-ins on loopback until Ctrl-C.

    Prints the environment variables that point go1sync at them and at the sandbox's own
    warehouse: paste them in another shell, then run `python cli.py extract`, `transform`,
    `plan`, `push`. The 360Learning sandbox knows the Go1 sandbox's learners by email, as the
    integration requires.
    """
    import shlex
    from pathlib import Path

    from commands.sandbox import serve_sandboxes, wait_until_stopped
    from sandbox import users_for
    from sandbox.go1 import Go1Seed

    users = users or users_for(enrollments)
    seed_spec = Go1Seed(seed=seed, learning_objects=learning_objects, users=users,
                        enrollments=enrollments)
    served = serve_sandboxes(host, go1_port, l360_port, seed_spec, latency_ms,
                             Path(warehouse_path))
    def ready() -> None:
        click.echo(f"# Go1 sandbox on {served.go1.url} ({learning_objects:,} learning objects, "
                   f"{users:,} users, {enrollments:,} enrollments), 360Learning sandbox on "
                   f"{served.l360.url}, warehouse {served.warehouse} (emptied); ready in "
                   f"{served.seconds:.1f}s")
        for name, value in served.env().items():
            click.echo(f"export {name}={shlex.quote(value)}")
        click.echo("# Ctrl-C (or SIGTERM) stops them.", err=True)

    wait_until_stopped(served, ready)


if __name__ == "__main__":
    main()
