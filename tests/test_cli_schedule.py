"""`schedule` and `serve` as a user runs them."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path

import urllib3

from tests.helpers import INSTALLED, ROOT, clean_env


def env(**extra: str) -> dict[str, str]:
    return clean_env(extra)


def schedule(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "cli.py", "schedule", *args], cwd=ROOT,
                          env=env(**{"TZ": "UTC", **extra}), capture_output=True, text=True,
                          timeout=60)


def test_schedule_prints_paris_and_utc_firings_and_crontab_lines() -> None:
    result = schedule("--count", "4")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # a machine in UTC: no warning
    firings = [line.split() for line in result.stdout.splitlines()[1:5]]
    assert sorted({f[0] for f in firings}) == ["catalog", "stats"]
    assert all(f[3] in ("CET", "CEST") and f[-1] == "UTC)" for f in firings)
    lines = result.stdout.splitlines()
    assert "CRON_TZ=Europe/Paris" not in lines  # Debian's cron ignores it
    crontab = lines[lines.index("crontab (in UTC, guarded by the Paris time)") + 1:]
    assert crontab[:6] == [
        "# Debian's cron ignores CRON_TZ and reads these lines in the system's time zone, which",
        "# must be UTC (timedatectl); cronie reads them in UTC through CRON_TZ=UTC. Each",
        "# Europe/Paris time has a line at its winter (CET) and its summer (CEST) UTC time, and a",
        "# guard that lets the job through only when it is that time in Paris (one run a day).",
        "# Install as the go1sync user: sudo crontab -u go1sync -e",
        "CRON_TZ=UTC",
    ]
    # from a checkout its shim; installed, the package, from where the schedule was asked
    program = "-m go1sync" if INSTALLED else "cli.py"
    run = (f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} {program} run --only "
           "{} --wait-for-lock 3600")
    guard = '[ "$(TZ=Europe/Paris date +\\%H:\\%M)" = "{}" ] && '
    assert crontab[6:14] == [
        "# catalog at 07:40 Europe/Paris: 06:40 UTC in winter (CET), 05:40 UTC in summer (CEST)",
        "40 5,6 * * * " + guard.format("07:40") + run.format("catalog"),
        "# stats at 08:00 Europe/Paris: 07:00 UTC in winter (CET), 06:00 UTC in summer (CEST)",
        "0 6,7 * * * " + guard.format("08:00") + run.format("stats"),  # 08:00 waits for 07:40
        "# stats at 13:00 Europe/Paris: 12:00 UTC in winter (CET), 11:00 UTC in summer (CEST)",
        "0 11,12 * * * " + guard.format("13:00") + run.format("stats"),
        "# stats at 20:00 Europe/Paris: 19:00 UTC in winter (CET), 18:00 UTC in summer (CEST)",
        "0 18,19 * * * " + guard.format("20:00") + run.format("stats"),
    ]
    assert lines.count("User=go1sync") == 2
    for wall in ("07:40", "08:00", "13:00", "20:00"):
        assert f"OnCalendar=*-*-* {wall}:00 Europe/Paris" in lines


def test_schedule_runs_the_units_as_the_given_user_and_checks_it() -> None:
    result = schedule("--user", "sync")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines().count("User=sync") == 2
    assert "# Install as the sync user: sudo crontab -u sync -e" in result.stdout
    bad = schedule("--user", "Sync Admin")
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1] == (
        "Error: Invalid value for --user: invalid user name 'Sync Admin': expected lower-case "
        "letters, digits, - or _, starting with a letter or _, at most 32 characters")


def test_schedule_warns_when_the_machine_is_not_in_utc() -> None:
    result = schedule(TZ="Europe/Paris")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: this machine's time zone is CET/CEST, not UTC: Debian's cron reads the "
        "crontab lines in the system's zone, where they would miss the Paris times; set it to "
        "UTC (timedatectl set-timezone Etc/UTC) or use the systemd timers"]


def test_schedule_times_are_configurable_and_checked() -> None:
    ok = schedule(GO1SYNC_STATS_TIMES="09:15")
    assert "\n15 7,8 * * * [ \"$(TZ=Europe/Paris date +\\%H:\\%M)\" = \"09:15\" ] && " in ok.stdout
    assert "\nOnCalendar=*-*-* 09:15:00 Europe/Paris\n" in ok.stdout
    bad = schedule(GO1SYNC_CATALOG_TIMES="7h40")
    assert bad.returncode == 2
    assert "invalid setting GO1SYNC_CATALOG_TIMES" in bad.stderr


def test_serve_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    settings = env(GO1_CLIENT_ID="x", GO1_CLIENT_SECRET="y", L360_CLIENT_ID="x",
                   L360_CLIENT_SECRET="y", L360_GROUP_IDS="a" * 24,
                   L360_ADMIN_EMAIL="admin@acme.com", GO1_PORTAL_URL="https://acme.mygo1.com",
                   GO1SYNC_WAREHOUSE=str(tmp_path / "w.duckdb"))
    server = subprocess.Popen([sys.executable, "cli.py", "serve"], cwd=ROOT, env=settings,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    seen: list[str] = []
    # the scheduler logs that it started once its signal handlers are in place
    while not seen or ("scheduler started" not in seen[-1] and seen[-1]):
        seen.append(server.stderr.readline())
    assert server.poll() is None, "".join(seen)  # waiting for the next firing
    server.send_signal(signal.SIGTERM)
    out, err = server.communicate(timeout=20)
    err = "".join(seen) + err
    assert server.returncode == 0, err
    assert "serving the schedule" in err


def test_serve_with_a_webhook_secret_runs_the_receiver_too_and_stops_both(
        tmp_path: Path) -> None:
    settings = env(GO1_CLIENT_ID="x", GO1_CLIENT_SECRET="y", L360_CLIENT_ID="x",
                   L360_CLIENT_SECRET="y", L360_GROUP_IDS="a" * 24,
                   L360_ADMIN_EMAIL="admin@acme.com", GO1_PORTAL_URL="https://acme.mygo1.com",
                   GO1SYNC_WAREHOUSE=str(tmp_path / "w.duckdb"),
                   GO1_WEBHOOK_SECRET="serve-test-secret", GO1SYNC_WEBHOOK_LISTEN="127.0.0.1:0")
    server = subprocess.Popen([sys.executable, "cli.py", "serve"], cwd=ROOT, env=settings,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        seen: list[str] = []
        while not seen or ("scheduler started" not in seen[-1] and seen[-1]):
            seen.append(server.stderr.readline())
        seen.append(server.stderr.readline())  # the receiver's, once the handlers are in place
        url = next(line.split(" on ", 1)[1].strip() for line in seen
                   if line.startswith("receiving Go1 webhooks on "))
        health = urllib3.request("GET", url.replace("/go1/webhooks", "/healthz"), timeout=5)
        assert health.status == 200 and health.json() == {"status": "ok", "pending": 0}
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    err = "".join(seen) + err
    assert server.returncode == 0, err
    assert err.rstrip().splitlines()[-1] == "webhook receiver stopped"
    assert "serve-test-secret" not in out + err


def test_serve_refuses_to_start_without_its_settings(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "cli.py", "serve"], cwd=ROOT,
                            env=env(GO1SYNC_WAREHOUSE=str(tmp_path / "w.duckdb")),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "missing setting GO1_CLIENT_ID" in result.stderr
