"""When the syncs run: the Paris wall-clock schedule, its UTC instants, and three ways to fire it.

The integration description fixes the times in Paris time (CET/CEST): the catalog at 07:40, the
statistics at 08:00, 13:00 and 20:00. Everything else in go1sync works in UTC (architecture
invariant 9), so this module is the one place that speaks Europe/Paris: it turns wall-clock times
into UTC instants (:func:`next_firings`), writes them out for cron (:func:`crontab_lines`) or
systemd (:func:`systemd_units`), or fires them itself in the foreground (:class:`Scheduler`, for
``python cli.py serve``).

Daylight saving time, decided once here so that every path agrees:

* a wall time that does not exist (spring forward, 02:00-03:00 on the last Sunday of March) fires
  at the first instant after the gap, 03:00 CEST; a run skipped for a whole day would be worse
  than one half an hour late;
* a wall time that happens twice (fall back, 02:00-03:00 on the last Sunday of October) fires
  once, at the first occurrence (``fold=0``, still CEST); a second run an hour later would only
  repeat the first.

The crontab lines are in UTC with a guard that reads the Paris clock, built so that cron fires
the jobs by these same two rules (the tests simulate it minute by minute across both changes).
systemd's ``OnCalendar`` applies its own rules in those two hours; the default times are outside
them.
"""

from __future__ import annotations

import re
import signal
import threading
import time as monotonic_time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from go1sync.settings import Config

PARIS = ZoneInfo("Europe/Paris")
PARIS_NAME = "Europe/Paris"

_JOB_NAME = re.compile(r"[a-z][a-z0-9_-]*")


class ScheduleError(ValueError):
    """A schedule (times, job names, commands) is invalid; the message is one line."""


@dataclass(frozen=True)
class Job:
    """A sync that runs at fixed Paris wall-clock times every day.

    ``times`` are naive wall-clock times in Europe/Paris, whole minutes (cron has nothing finer);
    they are kept sorted and without repeats. The name becomes a unit file name and a command
    argument, so it is restricted to lower-case letters, digits, ``-`` and ``_``.
    """

    name: str
    times: tuple[time, ...]

    def __post_init__(self) -> None:
        if not _JOB_NAME.fullmatch(self.name):
            raise ScheduleError(f"invalid job name {self.name!r}: expected lower-case letters, "
                                "digits, - or _, starting with a letter")
        if not self.times:
            raise ScheduleError(f"job {self.name!r} has no times")
        for wall in self.times:
            if not isinstance(wall, time) or wall.tzinfo is not None:
                raise ScheduleError(f"job {self.name!r}: times are naive Paris wall-clock times, "
                                    f"got {wall!r}")
            if wall.second or wall.microsecond:
                raise ScheduleError(f"job {self.name!r}: {wall.isoformat()} is not a whole "
                                    "minute")
        object.__setattr__(self, "times", tuple(sorted(set(self.times))))


def jobs(config: Config) -> tuple[Job, ...]:
    """The scheduled jobs at their configured Paris times (GO1SYNC_CATALOG_TIMES and
    GO1SYNC_STATS_TIMES; the settings own the description's defaults)."""
    return (Job("catalog", config.get("schedule.catalog_times")),
            Job("stats", config.get("schedule.stats_times")))


#: The description's schedule: the settings' defaults.
DEFAULT_JOBS: tuple[Job, ...] = jobs(Config({}, {}, None))


@dataclass(frozen=True)
class Firing:
    """One run of one job, in UTC (what the code uses) and in Paris time (what people read)."""

    job: str
    at_utc: datetime
    at_paris: datetime


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _offset(instant: datetime) -> timedelta | None:
    return instant.astimezone(PARIS).utcoffset()


def _gap_end(local: datetime) -> datetime:
    """The first UTC instant after the spring-forward gap that swallowed ``local``.

    In a gap the two folds read the wall time with the offsets before and after the change, so
    the change lies between the two readings; halving the interval finds it to the microsecond.
    """
    first, second = local.replace(fold=0).astimezone(UTC), local.replace(fold=1).astimezone(UTC)
    low, high = min(first, second), max(first, second)
    after_change = _offset(high)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if _offset(middle) == after_change:
            high = middle
        else:
            low = middle
    return high


def _instant(day: date, wall: time) -> datetime:
    """The UTC instant at which the Paris wall time ``wall`` of ``day`` fires (see module doc)."""
    local = datetime.combine(day, wall, tzinfo=PARIS)  # fold=0: the first of a repeated hour
    instant = local.astimezone(UTC)
    if instant.astimezone(PARIS).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    return _gap_end(local)


def _firings_of_day(jobs: Sequence[Job], day: date) -> list[Firing]:
    found: list[tuple[datetime, int, str]] = []
    for order, job in enumerate(jobs):
        # Two times inside the same gap land on the same instant: one run is enough.
        for instant in sorted({_instant(day, wall) for wall in job.times}):
            found.append((instant, order, job.name))
    found.sort()
    return [Firing(name, instant, instant.astimezone(PARIS)) for instant, _, name in found]


def next_firings(jobs: Sequence[Job], after: datetime, count: int) -> list[Firing]:
    """The next ``count`` firings strictly after the aware instant ``after``, in time order.

    Firings at the same instant keep the order of ``jobs``. A naive ``after`` raises
    ``ValueError``: guessing its zone is how a run ends up an hour off twice a year.
    """
    start = _aware(after, "after")
    if count < 0:
        raise ValueError(f"count must be at least 0, got {count}")
    if count == 0 or not any(job.times for job in jobs):
        return []
    firings: list[Firing] = []
    # A day's firings all come before the next day's, since the gap moves a time within its day.
    day = start.astimezone(PARIS).date() - timedelta(days=1)
    while len(firings) < count:
        firings.extend(f for f in _firings_of_day(jobs, day) if f.at_utc > start)
        day += timedelta(days=1)
    return firings[:count]


def _firings_between(jobs: Sequence[Job], after: datetime, until: datetime) -> list[Firing]:
    """Every firing in ``(after, until]``."""
    found: list[Firing] = []
    cursor = after
    while True:
        batch = next_firings(jobs, cursor, 32)
        found.extend(f for f in batch if f.at_utc <= until)
        if not batch or batch[-1].at_utc > until:
            return found
        cursor = batch[-1].at_utc


def _check_jobs(jobs: Sequence[Job]) -> None:
    names = [job.name for job in jobs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ScheduleError(f"job {repeated[0]!r} is listed twice")


def _one_line(command: str, job: str) -> str:
    if not command.strip() or "\n" in command or "\r" in command:
        raise ScheduleError(f"the command for {job!r} must be one non-empty line")
    return command


#: The account that runs the jobs: the systemd units' ``User=`` and the crontab's owner, unless
#: ``schedule --user`` names another. It needs to read the checkout and write the warehouse.
DEFAULT_USER = "go1sync"
_USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")

#: What the crontab guard reads: the Paris wall clock, and its UTC offset an hour ago (GNU
#: ``date -d @SECONDS``, as Debian has). Written with plain ``%``: :func:`crontab_lines` escapes.
_PARIS_DATE = f"TZ={PARIS_NAME} date"
_OFFSET_AN_HOUR_AGO = "-d @$(($(date +%s) - 3600))"


def check_user(name: str) -> str:
    """A user name as ``useradd`` takes it (so it cannot smuggle a line into a unit file)."""
    if not _USER_NAME.fullmatch(name):
        raise ScheduleError(f"invalid user name {name!r}: expected lower-case letters, digits, "
                            "- or _, starting with a letter or _, at most 32 characters")
    return name


@dataclass(frozen=True)
class _CronRule:
    """Crontab lines (UTC ``(hour, minute)``) that run a job when their shell guard agrees."""

    comment: str
    at_utc: tuple[tuple[int, int], ...]
    guard: str


def _clock_changes(year: int) -> tuple[date | None, date | None]:
    """The days Paris moves its clocks forward (the gap) and back (the repeated hour); ``None``
    for a change the year does not have (the EU has weighed ending them: then every time
    simply has one UTC time)."""
    forward = back = None
    day = date(year, 1, 1)
    while day.year == year:
        before = _offset(datetime.combine(day, time(), tzinfo=PARIS))
        after = _offset(datetime.combine(day + timedelta(days=1), time(), tzinfo=PARIS))
        if before is not None and after is not None and after != before:
            if after > before:
                forward = day
            else:
                back = day
        day += timedelta(days=1)
    return forward, back


def _skipped(wall: time, forward: date | None) -> bool:
    """Whether ``wall`` does not exist on the day the clocks go forward."""
    return forward is not None and _instant(forward, wall).astimezone(PARIS).time() != wall


def _repeated(wall: time, back: date | None) -> bool:
    """Whether ``wall`` happens twice on the day the clocks go back."""
    if back is None:
        return False
    local = datetime.combine(back, wall, tzinfo=PARIS)
    return local.utcoffset() != local.replace(fold=1).utcoffset()


def _utc_times(wall: time, year: int) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Where ``wall`` lands in UTC in winter and in summer, said and as cron fields."""
    said: list[str] = []
    found: list[tuple[int, int]] = []
    for day, season in ((date(year, 1, 15), "winter"), (date(year, 7, 15), "summer")):
        instant = _instant(day, wall)
        said.append(f"{instant:%H:%M} UTC in {season} ({instant.astimezone(PARIS):%Z})")
        found.append((instant.hour, instant.minute))
    return ", ".join(said), tuple(sorted(set(found)))


def _cron_rules(job: Job, year: int) -> list[_CronRule]:
    """The crontab rules of one job: per Paris time, a line at each of its UTC times and a
    guard that passes at that Paris time only, so that cron in UTC fires it as
    :func:`next_firings` does, the two clock-change days included.

    A time outside the changing hour (02:00-03:00) exists once a day: the guard compares the
    Paris clock with it. One inside also compares the UTC offset with the offset an hour
    before, so that the October repeat (the offset went from +02:00 to +01:00 in that hour)
    does not run it a second time; and on the March day that skips it, one more line runs the
    job once at the end of the gap (unless one of its times is the end of the gap already).
    """
    forward, back = _clock_changes(year)
    rules: list[_CronRule] = []
    in_gap: list[time] = []
    for wall in job.times:
        said, at_utc = _utc_times(wall, year)
        comment = f"{job.name} at {wall:%H:%M} {PARIS_NAME}: {said}"
        if not (_skipped(wall, forward) or _repeated(wall, back)):
            guard = f'[ "$({_PARIS_DATE} +%H:%M)" = "{wall:%H:%M}" ]'
        else:
            comment += "; once on the day the clocks go back, when it comes twice"
            guard = (f'[ "$({_PARIS_DATE} +%H:%M%z)" = '
                     f'"$({_PARIS_DATE} {_OFFSET_AN_HOUR_AGO} +{wall:%H:%M}%z)" ]')
            if _skipped(wall, forward):
                in_gap.append(wall)
        rules.append(_CronRule(comment, at_utc, guard))
    if in_gap and forward is not None:
        gap_end = _instant(forward, in_gap[0])
        end_wall = gap_end.astimezone(PARIS).time()
        if end_wall not in job.times:
            rules.append(_CronRule(
                f"{job.name} on the day the clocks go forward, which skips "
                f"{', '.join(f'{w:%H:%M}' for w in in_gap)}: once at {end_wall:%H:%M} "
                f"{PARIS_NAME}, the end of the gap ({gap_end:%H:%M} UTC)",
                ((gap_end.hour, gap_end.minute),),
                f'[ "$({_PARIS_DATE} +%H:%M)" = "{end_wall:%H:%M}" ] && '
                f'[ "$({_PARIS_DATE} +%z)" != "$({_PARIS_DATE} {_OFFSET_AN_HOUR_AGO} +%z)" ]'))
    return rules


def crontab_lines(jobs: Sequence[Job], command_for: Callable[[str], str],
                  user: str = DEFAULT_USER, year: int | None = None) -> str:
    """A crontab fragment that fires the jobs at their Paris times on Debian's cron.

    Debian's cron ignores ``CRON_TZ`` and reads every line in the system's time zone, so a
    ``CRON_TZ=Europe/Paris`` crontab fires an hour or two off on a server in UTC. These lines
    are in UTC instead (``CRON_TZ=UTC`` makes cronie read them so too, whatever the system's
    zone): each Paris time gets a line at its winter and its summer UTC time, and the job
    command starts with a guard that lets it through only when it is that time in Paris, so
    exactly one of the two runs it on any day (see :func:`_cron_rules` for the two days the
    clocks change). ``%`` is escaped, as cron would turn it into a newline. Two runs may
    overlap under cron; the warehouse run lock is what keeps them apart. ``year`` (default:
    this one) is where the clock changes are looked up; they fall on the same rule each year.
    """
    _check_jobs(jobs)
    check_user(user)
    year = year or datetime.now(UTC).year
    lines = [
        "# Debian's cron ignores CRON_TZ and reads these lines in the system's time zone, which",
        "# must be UTC (timedatectl); cronie reads them in UTC through CRON_TZ=UTC. Each",
        f"# {PARIS_NAME} time has a line at its winter (CET) and its summer (CEST) UTC time, and a",
        "# guard that lets the job through only when it is that time in Paris (one run a day).",
        f"# Install as the {user} user: sudo crontab -u {user} -e",
        "CRON_TZ=UTC",
    ]
    for job in jobs:
        command = _one_line(command_for(job.name), job.name)
        for rule in _cron_rules(job, year):
            lines.append(f"# {rule.comment}")
            job_line = f"{rule.guard} && {command}".replace("%", "\\%")
            for minute in sorted({m for _, m in rule.at_utc}):
                hours = ",".join(str(h) for h, m in rule.at_utc if m == minute)
                lines.append(f"{minute} {hours} * * * {job_line}")
    return "\n".join(lines) + "\n"


def _systemd_quote(text: str) -> str:
    """One double-quoted systemd word: backslash and quote escaped, ``%`` and ``$`` literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("%", "%%").replace("$", "$$") + '"'


def _service(job: Job, command: str, workdir: str, user: str) -> str:
    return "\n".join([
        "[Unit]",
        f"Description=go1sync {job.name} synchronization",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        "# the account that runs go1sync (schedule --user): it reads the checkout and writes "
        "the warehouse",
        f"User={user}",
        f"WorkingDirectory={workdir.replace('%', '%%')}",
        "# Credentials, if not in the config file: EnvironmentFile=/etc/go1sync/env",
        f"ExecStart=/bin/sh -c {_systemd_quote(command)}",
        "",
    ])


def _timer(job: Job) -> str:
    return "\n".join([
        "[Unit]",
        f"Description=go1sync {job.name} at "
        f"{', '.join(f'{wall:%H:%M}' for wall in job.times)} {PARIS_NAME}",
        "",
        "[Timer]",
        *(f"OnCalendar=*-*-* {wall:%H:%M}:00 {PARIS_NAME}" for wall in job.times),
        "Persistent=true",
        f"Unit=go1sync-{job.name}.service",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ])


def systemd_units(jobs: Sequence[Job], command_for: Callable[[str], str], workdir: str,
                  user: str = DEFAULT_USER) -> str:
    """A ``go1sync-<job>.service`` and ``go1sync-<job>.timer`` per job, as one text.

    Each file starts with a ``# file: <name>`` line. Install them in /etc/systemd/system, then
    ``systemctl daemon-reload`` and ``systemctl enable --now go1sync-<job>.timer``. The
    service runs as ``user`` (``User=``, default :data:`DEFAULT_USER`) rather than root. The time
    zone in ``OnCalendar`` (``*-*-* 07:40:00 Europe/Paris``) needs systemd 235 or later; systemd
    then follows Paris's clock changes itself, whatever the system's zone. ``Persistent=true``
    runs a firing missed while the machine was off at the next boot; a oneshot service that is
    still running is not started twice, so an overlapping firing is dropped, as
    :class:`Scheduler` does.
    """
    _check_jobs(jobs)
    check_user(user)
    if not workdir.startswith("/") or "\n" in workdir:
        raise ScheduleError(f"the working directory must be an absolute path, got {workdir!r}")
    files: list[str] = []
    for job in jobs:
        command = _one_line(command_for(job.name), job.name)
        files.append(f"# file: go1sync-{job.name}.service\n{_service(job, command, workdir, user)}")
        files.append(f"# file: go1sync-{job.name}.timer\n{_timer(job)}")
    return "\n".join(files)


def _stamp(firing: Firing) -> str:
    """``2026-01-15 07:40 CET (06:40 UTC)``: the zone tells the two 02:30 of October apart."""
    return f"{firing.at_paris:%Y-%m-%d %H:%M %Z} ({firing.at_utc:%H:%M} UTC)"


def _describe(jobs: Iterable[Job]) -> str:
    return "; ".join(
        f"{job.name} at {', '.join(f'{wall:%H:%M}' for wall in job.times)}" for job in jobs
    ) + f" ({PARIS_NAME})"


class Scheduler:
    """Fires the jobs in the foreground, for ``python cli.py serve``.

    It sleeps until the next firing in steps of at most :attr:`POLL_SECONDS`, so a stop request
    or a clock change is noticed within about a second, then runs ``run_job(name)`` in a worker
    thread. A job whose previous run is still going skips that firing (and says so) rather than
    piling up runs. If the clock jumps past several firings of a job (suspend, clock change), the
    job runs once. A failing run is logged and the schedule goes on.

    ``stop()`` or SIGTERM/SIGINT (handled only when ``run_forever`` runs in the main thread) ends
    ``run_forever`` after the running jobs finish: a sync cut in the middle would only be redone.
    While it waits, the previous handlers are back, so a second Ctrl-C interrupts. A stopped
    scheduler stays stopped. ``clock`` must return aware datetimes; ``sleep`` defaults to a wait
    that ``stop()`` interrupts at once.
    """

    POLL_SECONDS = 1.0

    def __init__(
        self,
        jobs: Sequence[Job],
        run_job: Callable[[str], int],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] | None = None,
        log: Callable[[str], None] = print,
        started: Sequence[str] = (),
    ) -> None:
        _check_jobs(jobs)
        if not jobs:
            raise ScheduleError("there are no jobs to schedule")
        self._jobs = tuple(jobs)
        self._run_job = run_job
        self._clock = clock
        self._sleep = sleep
        self._log = log
        self._started = tuple(started)  # lines logged after "scheduler started"
        self._stopping = threading.Event()
        self._signal: str | None = None
        self._workers: dict[str, threading.Thread] = {}

    def stop(self) -> None:
        """Ask ``run_forever`` to return once the running jobs are done; safe from any thread."""
        self._stopping.set()

    def run_forever(self) -> None:
        previous = self._install_signal_handlers()
        try:
            self._loop()
        finally:
            self._restore_signal_handlers(previous)
            if self._signal:
                self._log(f"received {self._signal}: stopping")
            self._wait_for_workers()
            self._log("scheduler stopped")

    def _loop(self) -> None:
        last = self._now()
        upcoming = next_firings(self._jobs, last, 1)[0]
        self._log(f"scheduler started: {_describe(self._jobs)}; next: {upcoming.job} at "
                  f"{_stamp(upcoming)}")
        for line in self._started:
            self._log(line)
        while not self._stopping.is_set():
            upcoming = next_firings(self._jobs, last, 1)[0]
            if not self._wait_until(upcoming.at_utc):
                return
            due = _firings_between(self._jobs, last, self._now())
            if not due:  # the clock stepped back after the wait
                continue
            latest: dict[str, Firing] = {}
            missed: dict[str, int] = {}
            for firing in due:
                missed[firing.job] = missed.get(firing.job, -1) + 1
                latest[firing.job] = firing
            for name, firing in latest.items():
                self._fire(firing, missed[name])
            last = due[-1].at_utc

    def _now(self) -> datetime:
        return _aware(self._clock(), "the scheduler clock")

    def _wait_until(self, target: datetime) -> bool:
        """Sleep until ``target``; False if a stop was asked first."""
        while not self._stopping.is_set():
            remaining = (target - self._now()).total_seconds()
            if remaining <= 0:
                return True
            step = min(remaining, self.POLL_SECONDS)
            if self._sleep is None:
                self._stopping.wait(step)
            else:
                self._sleep(step)
        return False

    def _fire(self, firing: Firing, missed: int) -> None:
        if missed:
            self._log(f"{firing.job}: {missed} earlier firing(s) passed while the scheduler was "
                      "not looking (suspend or clock change); running it once")
        worker = self._workers.get(firing.job)
        if worker is not None and worker.is_alive():
            self._log(f"skipped {firing.job} at {_stamp(firing)}: the previous run is still going")
            return
        self._log(f"started {firing.job} at {_stamp(firing)}")
        worker = threading.Thread(target=self._run, args=(firing,), name=f"go1sync-{firing.job}")
        self._workers[firing.job] = worker
        worker.start()

    def _run(self, firing: Firing) -> None:
        started = monotonic_time.monotonic()
        try:
            code: Any = self._run_job(firing.job)
        except SystemExit as exc:  # a click command ends with sys.exit(code)
            code = exc.code
        except Exception as exc:  # a failing run must not end the schedule
            self._log(f"failed {firing.job} (run of {_stamp(firing)}): "
                      f"{type(exc).__name__}: {exc}")
            return
        elapsed = monotonic_time.monotonic() - started
        self._log(f"finished {firing.job} (run of {_stamp(firing)}) with exit code {code} "
                  f"in {elapsed:.1f} s")

    def _wait_for_workers(self) -> None:
        for name, worker in self._workers.items():
            if worker.is_alive():
                self._log(f"waiting for the running {name} job to finish")
            while worker.is_alive():
                worker.join(self.POLL_SECONDS)

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {sig: signal.signal(sig, self._on_signal)
                for sig in (signal.SIGTERM, signal.SIGINT)}

    def _restore_signal_handlers(self, previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only note it: printing here could re-enter a print the main thread is in the middle of.
        self._signal = signal.Signals(signum).name
        self.stop()
