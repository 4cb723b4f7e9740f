"""The schedule: Paris wall times to UTC instants across DST, cron/systemd text, the Scheduler.

No test sleeps for real: the Scheduler gets a fake clock that its fake sleep moves forward.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from go1sync.schedule import (
    DEFAULT_JOBS,
    PARIS,
    Firing,
    Job,
    ScheduleError,
    Scheduler,
    crontab_lines,
    next_firings,
    systemd_units,
)
from go1sync.settings import parse_times

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
        second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def instants(firings: list[Firing]) -> list[tuple[str, datetime]]:
    return [(f.job, f.at_utc) for f in firings]


def offsets(firings: list[Firing]) -> list[timedelta | None]:
    return [f.at_paris.utcoffset() for f in firings]


# --- next_firings --------------------------------------------------------------------------------


def test_defaults_in_winter_are_one_hour_ahead_of_utc() -> None:
    firings = next_firings(DEFAULT_JOBS, utc(2026, 1, 15), 5)
    assert instants(firings) == [
        ("catalog", utc(2026, 1, 15, 6, 40)),
        ("stats", utc(2026, 1, 15, 7, 0)),
        ("stats", utc(2026, 1, 15, 12, 0)),
        ("stats", utc(2026, 1, 15, 19, 0)),
        ("catalog", utc(2026, 1, 16, 6, 40)),
    ]
    assert firings[0].at_paris == datetime(2026, 1, 15, 7, 40, tzinfo=CET)
    assert firings[0].at_paris.tzinfo is PARIS
    assert all(f.at_utc.tzinfo is UTC for f in firings)


def test_defaults_in_summer_are_two_hours_ahead_of_utc() -> None:
    firings = next_firings(DEFAULT_JOBS, utc(2026, 7, 15), 4)
    assert instants(firings) == [
        ("catalog", utc(2026, 7, 15, 5, 40)),
        ("stats", utc(2026, 7, 15, 6, 0)),
        ("stats", utc(2026, 7, 15, 11, 0)),
        ("stats", utc(2026, 7, 15, 18, 0)),
    ]
    assert [f.at_paris.time() for f in firings] == [time(7, 40), time(8), time(13), time(20)]


def test_spring_forward_moves_utc_times_one_hour_earlier() -> None:
    firings = next_firings(DEFAULT_JOBS, utc(2026, 3, 28), 8)
    assert offsets(firings) == [timedelta(hours=1)] * 4 + [timedelta(hours=2)] * 4
    assert instants(firings)[3:5] == [("stats", utc(2026, 3, 28, 19)),
                                      ("catalog", utc(2026, 3, 29, 5, 40))]
    assert [f.at_paris.time() for f in firings] == [time(7, 40), time(8), time(13), time(20)] * 2


def test_fall_back_moves_utc_times_one_hour_later() -> None:
    firings = next_firings(DEFAULT_JOBS, utc(2026, 10, 24), 8)
    assert offsets(firings) == [timedelta(hours=2)] * 4 + [timedelta(hours=1)] * 4
    assert instants(firings)[4:6] == [("catalog", utc(2026, 10, 25, 6, 40)),
                                      ("stats", utc(2026, 10, 25, 7, 0))]
    assert firings[5].at_paris == datetime(2026, 10, 25, 8, 0, tzinfo=CET)


def test_time_in_the_spring_gap_fires_once_at_the_end_of_the_gap() -> None:
    job = Job("night", (time(2, 30),))
    firings = next_firings([job], utc(2026, 3, 28, 12), 2)
    assert instants(firings) == [("night", utc(2026, 3, 29, 1, 0)),
                                 ("night", utc(2026, 3, 30, 0, 30))]
    assert firings[0].at_paris == datetime(2026, 3, 29, 3, 0, tzinfo=CEST)


def test_two_times_in_the_spring_gap_fire_once() -> None:
    job = Job("night", (time(2, 0), time(2, 30), time(3, 0)))
    firings = next_firings([job], utc(2026, 3, 28, 12), 2)
    assert instants(firings) == [("night", utc(2026, 3, 29, 1, 0)),
                                 ("night", utc(2026, 3, 30, 0, 0))]


def test_time_in_the_repeated_autumn_hour_fires_once_at_the_first_occurrence() -> None:
    job = Job("night", (time(2, 30),))
    firings = next_firings([job], utc(2026, 10, 24, 12), 2)
    assert instants(firings) == [("night", utc(2026, 10, 25, 0, 30)),
                                 ("night", utc(2026, 10, 26, 1, 30))]
    assert firings[0].at_paris.utcoffset() == timedelta(hours=2)
    assert firings[0].at_paris.fold == 0
    # Just after the first 02:30, the second one (01:30 UTC) is not a firing.
    assert instants(next_firings([job], utc(2026, 10, 25, 0, 30), 1)) == [
        ("night", utc(2026, 10, 26, 1, 30))]


def test_firings_are_strictly_after_and_accept_any_offset() -> None:
    after = datetime(2026, 1, 15, 7, 40, tzinfo=PARIS)  # the catalog firing itself
    assert instants(next_firings(DEFAULT_JOBS, after, 1)) == [("stats", utc(2026, 1, 15, 7))]
    just_before = datetime(2026, 1, 15, 8, 39, 59, tzinfo=timezone(timedelta(hours=2)))
    assert next_firings(DEFAULT_JOBS, just_before, 1)[0].at_utc == utc(2026, 1, 15, 6, 40)


def test_same_instant_keeps_job_order_and_late_evening_rolls_to_next_day() -> None:
    jobs = [Job("b", (time(8, 0),)), Job("a", (time(8, 0),))]
    assert [f.job for f in next_firings(jobs, utc(2026, 1, 15), 2)] == ["b", "a"]
    assert instants(next_firings(DEFAULT_JOBS, utc(2026, 1, 15, 22, 30), 1)) == [
        ("catalog", utc(2026, 1, 16, 6, 40))]


def test_naive_after_and_bad_count_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_firings(DEFAULT_JOBS, datetime(2026, 1, 15), 1)
    with pytest.raises(ValueError):
        next_firings(DEFAULT_JOBS, utc(2026, 1, 15), -1)
    assert next_firings(DEFAULT_JOBS, utc(2026, 1, 15), 0) == []


# --- parse_times and Job -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("07:40", (time(7, 40),)),
    ("08:00,13:00,20:00", (time(8), time(13), time(20))),
    (" 20:00 , 08:00 ", (time(8), time(20))),
    ("7:40", (time(7, 40),)),
    ("00:00,23:59", (time(0), time(23, 59))),
])
def test_parse_times_accepts(text: str, expected: tuple[time, ...]) -> None:
    assert parse_times(text) == expected


@pytest.mark.parametrize("text", [
    "7h40", "25:00", "24:00", "08:60", "", " ", "08:00,", ",08:00", "0800", "08:00:00",
    "8", "08:00;13:00", "08:00,08:00", "٠٨:٠٠", "-1:00", "07:40 PM",
])
def test_parse_times_refuses_with_one_line(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_times(text)
    assert "\n" not in str(caught.value)


def test_job_checks_and_sorts_its_times() -> None:
    assert Job("stats", (time(20), time(8), time(8))).times == (time(8), time(20))
    with pytest.raises(ScheduleError):
        Job("stats", ())
    with pytest.raises(ScheduleError):
        Job("Stats; rm -rf /", (time(8),))
    with pytest.raises(ScheduleError):
        Job("stats", (time(8, 0, 30),))
    with pytest.raises(ScheduleError):
        Job("stats", (time(8, tzinfo=UTC),))


# --- cron and systemd ----------------------------------------------------------------------------


def command(name: str) -> str:
    return f"cd /srv/go1sync && .venv/bin/python cli.py run --only {name}"


HEADER = (
    "# Debian's cron ignores CRON_TZ and reads these lines in the system's time zone, which\n"
    "# must be UTC (timedatectl); cronie reads them in UTC through CRON_TZ=UTC. Each\n"
    "# Europe/Paris time has a line at its winter (CET) and its summer (CEST) UTC time, and a\n"
    "# guard that lets the job through only when it is that time in Paris (one run a day).\n"
    "# Install as the go1sync user: sudo crontab -u go1sync -e\n"
    "CRON_TZ=UTC\n"
)
GUARD = '[ "$(TZ=Europe/Paris date +\\%H:\\%M)" = "{}" ] && '


def test_crontab_lines_for_the_defaults_are_in_utc_with_a_paris_guard() -> None:
    run = "cd /srv/go1sync && .venv/bin/python cli.py run --only"
    assert crontab_lines(DEFAULT_JOBS, command) == HEADER + (
        "# catalog at 07:40 Europe/Paris: 06:40 UTC in winter (CET), 05:40 UTC in summer (CEST)\n"
        f"40 5,6 * * * {GUARD.format('07:40')}{run} catalog\n"
        "# stats at 08:00 Europe/Paris: 07:00 UTC in winter (CET), 06:00 UTC in summer (CEST)\n"
        f"0 6,7 * * * {GUARD.format('08:00')}{run} stats\n"
        "# stats at 13:00 Europe/Paris: 12:00 UTC in winter (CET), 11:00 UTC in summer (CEST)\n"
        f"0 11,12 * * * {GUARD.format('13:00')}{run} stats\n"
        "# stats at 20:00 Europe/Paris: 19:00 UTC in winter (CET), 18:00 UTC in summer (CEST)\n"
        f"0 18,19 * * * {GUARD.format('20:00')}{run} stats\n"
    )


def test_crontab_escapes_percent_and_names_the_user() -> None:
    jobs = [Job("stats", (time(13, 30),))]
    text = crontab_lines(jobs, lambda name: f"run {name} > log-$(date +%F)", user="sync")
    assert "# Install as the sync user: sudo crontab -u sync -e\n" in text
    assert text.endswith(f"30 11,12 * * * {GUARD.format('13:30')}run stats > log-$(date +\\%F)\n")
    with pytest.raises(ScheduleError, match="invalid user name"):
        crontab_lines(jobs, command, user="root\nx")


# --- cron, simulated minute by minute across both clock changes ---------------------------------


def cron_entries(crontab: str) -> list[tuple[int, set[int], str]]:
    """(minute, hours, command) per job line, the command as cron hands it to /bin/sh: an
    unescaped ``%`` would end the command (cron makes it a newline), ``\\%`` is a ``%``."""
    entries: list[tuple[int, set[int], str]] = []
    settings: list[str] = []
    for line in crontab.splitlines():
        if not line or line.startswith("#"):
            continue
        if "=" in line.split()[0]:
            settings.append(line)
            continue
        minute, hours, day, month, weekday, job_line = line.split(" ", 5)
        assert (day, month, weekday) == ("*", "*", "*")
        assert re.search(r"(?<!\\)%", job_line) is None, job_line
        entries.append((int(minute), {int(h) for h in hours.split(",")},
                        job_line.replace("\\%", "%")))
    assert settings == ["CRON_TZ=UTC"]
    return entries


@pytest.fixture
def fake_date(tmp_path: Path) -> Callable[[str, datetime], str]:
    """Runs a crontab command in ``sh`` at a simulated instant: ``date`` without ``-d`` tells
    that instant (GNU date, as on Debian, with the system's zone database)."""
    real = shutil.which("date")
    probe = subprocess.run([real or "date", "-d", "@1792890000", "+%H:%M%z"], env={
        "TZ": "Europe/Paris"}, capture_output=True, text=True)
    if real is None or probe.stdout.strip() != "02:00+0100":  # 2026-10-25 01:00 UTC
        pytest.skip("needs GNU date and the Europe/Paris zone")
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "date"
    script.write_text(f'#!/bin/sh\ncase "$1" in -d) exec {real} "$@";; '
                      f'*) exec {real} -d "@$FAKE_NOW" "$@";; esac\n')
    script.chmod(0o755)

    def run(job_line: str, at: datetime) -> str:
        env = {"PATH": f"{folder}:{os.environ['PATH']}", "FAKE_NOW": str(int(at.timestamp()))}
        return subprocess.run(["sh", "-c", job_line], env=env, capture_output=True,
                              text=True).stdout

    return run


# Three days around each clock change (29 March and 25 October 2026), and a day of each season.
SIMULATED = [(utc(2026, 3, 28), 3), (utc(2026, 10, 24), 3), (utc(2026, 1, 15), 1),
             (utc(2026, 7, 15), 1)]


def simulate_cron(jobs: list[Job], fake_date: Callable[[str, datetime], str]
                  ) -> list[tuple[str, datetime]]:
    """Every (job, UTC minute) that cron in UTC runs past its guard in the simulated days."""
    entries = cron_entries(crontab_lines(jobs, lambda name: f"echo {name}", year=2026))
    fired: list[tuple[str, datetime]] = []
    for start, days in SIMULATED:
        for step in range(days * 24 * 60):
            at = start + timedelta(minutes=step)
            for minute, hours, job_line in entries:
                if at.minute == minute and at.hour in hours:
                    fired.extend((name, at) for name in fake_date(job_line, at).split())
    return sorted(fired, key=lambda f: (f[1], f[0]))


def expected_firings(jobs: list[Job]) -> list[tuple[str, datetime]]:
    found: list[tuple[str, datetime]] = []
    for start, days in SIMULATED:
        found.extend((f.job, f.at_utc) for f in next_firings(jobs, start - timedelta(seconds=1),
                                                             8 * days * len(jobs))
                     if f.at_utc < start + timedelta(days=days))
    return sorted(found, key=lambda f: (f[1], f[0]))


def test_cron_in_utc_fires_each_default_job_once_at_its_paris_times_all_year(
        fake_date: Callable[[str, datetime], str]) -> None:
    fired = simulate_cron(list(DEFAULT_JOBS), fake_date)
    assert fired == expected_firings(list(DEFAULT_JOBS))
    by_day: dict[str, list[str]] = {}
    for name, at in fired:
        paris = at.astimezone(PARIS)
        by_day.setdefault(f"{paris:%Y-%m-%d}", []).append(f"{name} {paris:%H:%M %Z}")
    day = ["catalog 07:40 {0}", "stats 08:00 {0}", "stats 13:00 {0}", "stats 20:00 {0}"]
    assert by_day == {
        "2026-01-15": [t.format("CET") for t in day],
        "2026-03-28": [t.format("CET") for t in day],
        "2026-03-29": [t.format("CEST") for t in day],  # spring forward
        "2026-03-30": [t.format("CEST") for t in day],
        "2026-07-15": [t.format("CEST") for t in day],
        "2026-10-24": [t.format("CEST") for t in day],
        "2026-10-25": [t.format("CET") for t in day],  # fall back
        "2026-10-26": [t.format("CET") for t in day],
    }


def test_cron_fires_times_in_the_changing_hour_as_the_scheduler_does(
        fake_date: Callable[[str, datetime], str]) -> None:
    jobs = [Job("catalog", (time(2, 30),)), Job("stats", (time(2, 0), time(2, 45), time(3, 0))),
            Job("late", (time(0, 30), time(1, 59), time(23, 59)))]
    fired = simulate_cron(jobs, fake_date)
    assert fired == expected_firings(jobs)
    spring = [(name, f"{at.astimezone(PARIS):%H:%M %Z}") for name, at in fired
              if at.astimezone(PARIS).date() == date(2026, 3, 29)]
    assert spring == [("late", "00:30 CET"), ("late", "01:59 CET"), ("catalog", "03:00 CEST"),
                      ("stats", "03:00 CEST"), ("late", "23:59 CEST")]
    autumn = [(name, f"{at.astimezone(PARIS):%H:%M %Z}") for name, at in fired
              if at.astimezone(PARIS).date() == date(2026, 10, 25)]
    assert autumn == [("late", "00:30 CEST"), ("late", "01:59 CEST"), ("stats", "02:00 CEST"),
                      ("catalog", "02:30 CEST"), ("stats", "02:45 CEST"), ("stats", "03:00 CET"),
                      ("late", "23:59 CET")]


def test_crontab_refuses_multi_line_commands_and_repeated_jobs() -> None:
    with pytest.raises(ScheduleError):
        crontab_lines(DEFAULT_JOBS, lambda name: "one\ntwo")
    with pytest.raises(ScheduleError, match="twice"):
        crontab_lines([*DEFAULT_JOBS, Job("stats", (time(9),))], command)


def split_files(text: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for chunk in text.split("# file: ")[1:]:
        name, _, body = chunk.partition("\n")
        files[name] = body
    return files


def test_systemd_units_for_the_defaults() -> None:
    files = split_files(systemd_units(DEFAULT_JOBS, command, "/srv/go1sync"))
    assert sorted(files) == ["go1sync-catalog.service", "go1sync-catalog.timer",
                             "go1sync-stats.service", "go1sync-stats.timer"]
    assert "OnCalendar=*-*-* 07:40:00 Europe/Paris\n" in files["go1sync-catalog.timer"]
    stats_timer = files["go1sync-stats.timer"]
    for wall in ("08:00", "13:00", "20:00"):
        assert f"OnCalendar=*-*-* {wall}:00 Europe/Paris\n" in stats_timer
    assert all("Persistent=true\n" in files[f"go1sync-{j}.timer"] for j in ("catalog", "stats"))
    assert "Unit=go1sync-stats.service\n" in stats_timer
    service = files["go1sync-catalog.service"]
    assert "WorkingDirectory=/srv/go1sync\n" in service
    assert "Type=oneshot\n" in service
    assert "User=go1sync\n" in service
    assert ('ExecStart=/bin/sh -c "cd /srv/go1sync && .venv/bin/python cli.py run --only '
            'catalog"\n') in service


def test_systemd_quotes_commands_and_checks_workdir() -> None:
    text = systemd_units([Job("stats", (time(8),))],
                         lambda name: 'echo "$HOME" 100% \\ done', "/srv/go1sync")
    assert 'ExecStart=/bin/sh -c "echo \\"$$HOME\\" 100%% \\\\ done"\n' in text
    with pytest.raises(ScheduleError, match="absolute"):
        systemd_units(DEFAULT_JOBS, command, "srv/go1sync")


def test_systemd_units_run_as_the_given_user() -> None:
    files = split_files(systemd_units(DEFAULT_JOBS, command, "/srv/go1sync", user="sync"))
    assert "[Service]\nType=oneshot\n" in files["go1sync-stats.service"]
    assert "\nUser=sync\n" in files["go1sync-stats.service"]
    with pytest.raises(ScheduleError, match="invalid user name"):
        systemd_units(DEFAULT_JOBS, command, "/srv/go1sync", user="Root")


# --- Scheduler -----------------------------------------------------------------------------------


class FakeTime:
    """A clock that only moves when the scheduler sleeps; ``at`` hooks run when it passes them."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []
        self.hooks: list[tuple[datetime, Callable[[], None]]] = []

    def clock(self) -> datetime:
        return self.now

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        self.hooks.append((moment, action))

    def sleep(self, seconds: float) -> None:
        assert 0 < seconds <= 1.0  # small steps, so that a stop is noticed within a second
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        for moment, action in list(self.hooks):
            if self.now >= moment:
                self.hooks.remove((moment, action))
                action()


def join_workers() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("go1sync-"):
            thread.join(5)


class Recorder:
    def __init__(self, fake: FakeTime) -> None:
        self.fake = fake
        self.lines: list[str] = []
        self.at: list[tuple[str, datetime]] = []
        self.lock = threading.Lock()

    def log(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)
            if threading.current_thread() is threading.main_thread():
                self.at.append((line, self.fake.now))


def test_scheduler_fires_each_job_at_its_instant() -> None:
    fake = FakeTime(utc(2026, 1, 15, 6, 39))  # 07:39 in Paris
    recorder = Recorder(fake)
    runs: list[str] = []

    def run_job(name: str) -> int:
        runs.append(name)
        return 0

    def sleep(seconds: float) -> None:
        join_workers()  # each run is over before the fake time moves on
        fake.sleep(seconds)

    scheduler = Scheduler(DEFAULT_JOBS, run_job, clock=fake.clock, sleep=sleep, log=recorder.log)
    fake.at(utc(2026, 1, 15, 19, 0, 30), scheduler.stop)
    scheduler.run_forever()

    assert runs == ["catalog", "stats", "stats", "stats"]
    started = [(line, at) for line, at in recorder.at if line.startswith("started")]
    assert started == [
        ("started catalog at 2026-01-15 07:40 CET (06:40 UTC)", utc(2026, 1, 15, 6, 40)),
        ("started stats at 2026-01-15 08:00 CET (07:00 UTC)", utc(2026, 1, 15, 7, 0)),
        ("started stats at 2026-01-15 13:00 CET (12:00 UTC)", utc(2026, 1, 15, 12, 0)),
        ("started stats at 2026-01-15 20:00 CET (19:00 UTC)", utc(2026, 1, 15, 19, 0)),
    ]
    assert recorder.lines[0].startswith("scheduler started: catalog at 07:40; stats at 08:00, "
                                        "13:00, 20:00 (Europe/Paris); next: catalog at")
    assert sum("finished" in line and "exit code 0" in line for line in recorder.lines) == 4
    assert recorder.lines[-1] == "scheduler stopped"
    assert max(fake.slept) <= 1.0


def test_firing_while_the_previous_run_goes_on_is_skipped_and_logged() -> None:
    fake = FakeTime(utc(2026, 7, 15, 5, 59, 50))  # 07:59:50 in Paris, summer
    recorder = Recorder(fake)
    release = threading.Event()
    runs: list[str] = []

    def run_job(name: str) -> int:
        runs.append(name)
        assert release.wait(5)
        return 0

    jobs = [Job("stats", (time(8, 0), time(8, 1)))]
    scheduler = Scheduler(jobs, run_job, clock=fake.clock, sleep=fake.sleep, log=recorder.log)

    def finish() -> None:
        scheduler.stop()
        release.set()

    fake.at(utc(2026, 7, 15, 6, 1, 10), finish)
    scheduler.run_forever()

    assert runs == ["stats"]
    assert ("skipped stats at 2026-07-15 08:01 CEST (06:01 UTC): the previous run is still going",
            utc(2026, 7, 15, 6, 1)) in recorder.at
    assert any(line.startswith("finished stats") for line in recorder.lines)


def test_stop_ends_run_forever_and_waits_for_the_running_job() -> None:
    fake = FakeTime(utc(2026, 1, 15, 6, 39, 58))
    recorder = Recorder(fake)
    running = threading.Event()
    release = threading.Event()
    finished: list[str] = []

    def run_job(name: str) -> int:
        running.set()
        assert release.wait(5)
        finished.append(name)
        return 0

    scheduler = Scheduler(DEFAULT_JOBS, run_job, clock=fake.clock, sleep=fake.sleep,
                          log=recorder.log)

    def stop_during_the_run() -> None:
        assert running.wait(5)
        scheduler.stop()
        threading.Timer(0.05, release.set).start()

    fake.at(utc(2026, 1, 15, 6, 40, 1), stop_during_the_run)
    scheduler.run_forever()

    assert finished == ["catalog"]  # run_forever returned only after the job ended
    assert "waiting for the running catalog job to finish" in recorder.lines
    assert fake.now < utc(2026, 1, 15, 6, 40, 3)


def test_stop_from_another_thread_interrupts_the_default_sleep() -> None:
    lines: list[str] = []
    scheduler = Scheduler(DEFAULT_JOBS, lambda name: 0, log=lines.append)
    thread = threading.Thread(target=scheduler.run_forever)
    thread.start()
    scheduler.stop()
    thread.join(2)
    assert not thread.is_alive()
    assert lines[-1] == "scheduler stopped"


def test_sigterm_stops_the_scheduler_and_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    fake = FakeTime(utc(2026, 1, 15, 6, 39, 55))
    lines: list[str] = []
    scheduler = Scheduler(DEFAULT_JOBS, lambda name: 0, clock=fake.clock, sleep=fake.sleep,
                          log=lines.append)
    fake.at(utc(2026, 1, 15, 6, 39, 57), lambda: os.kill(os.getpid(), signal.SIGTERM))
    scheduler.run_forever()
    assert "received SIGTERM: stopping" in lines
    assert fake.now < utc(2026, 1, 15, 6, 40)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_clock_jump_runs_a_job_once_and_a_failing_run_does_not_stop_the_schedule() -> None:
    fake = FakeTime(utc(2026, 1, 15, 6, 39, 59))
    recorder = Recorder(fake)
    runs: list[str] = []

    def run_job(name: str) -> int:
        runs.append(name)
        if name == "catalog":
            raise RuntimeError("Go1 said no")
        return 0

    jumped = False

    def sleep(seconds: float) -> None:
        nonlocal jumped
        join_workers()
        if not jumped and fake.now >= utc(2026, 1, 15, 6, 40):
            jumped = True
            fake.now = utc(2026, 1, 15, 19, 30)  # suspended over all three stats firings
        else:
            fake.sleep(seconds)

    scheduler = Scheduler(DEFAULT_JOBS, run_job, clock=fake.clock, sleep=sleep,
                          log=recorder.log)
    fake.at(utc(2026, 1, 15, 19, 30, 5), scheduler.stop)
    scheduler.run_forever()

    assert runs == ["catalog", "stats"]
    assert any(line.startswith("failed catalog") and "RuntimeError: Go1 said no" in line
               for line in recorder.lines)
    assert any("2 earlier firing(s)" in line for line in recorder.lines)
    assert "started stats at 2026-01-15 20:00 CET (19:00 UTC)" in recorder.lines


def test_scheduler_refuses_a_naive_clock_and_no_jobs() -> None:
    with pytest.raises(ScheduleError):
        Scheduler([], lambda name: 0)
    scheduler = Scheduler(DEFAULT_JOBS, lambda name: 0, clock=lambda: datetime(2026, 1, 15),
                          log=lambda line: None)
    with pytest.raises(ValueError, match="timezone-aware"):
        scheduler.run_forever()
