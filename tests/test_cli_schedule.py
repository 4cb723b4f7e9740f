"""`schedule` and `serve` as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
    return {**clean, **extra}


def test_schedule_prints_paris_and_utc_firings_and_crontab_lines() -> None:
    result = subprocess.run([sys.executable, "cli.py", "schedule", "--count", "4"], cwd=ROOT,
                            env=env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    firings = [line.split() for line in result.stdout.splitlines()[1:5]]
    assert sorted({f[0] for f in firings}) == ["catalog", "stats"]
    assert all(f[3] in ("CET", "CEST") and f[-1] == "UTC)" for f in firings)
    assert "CRON_TZ=Europe/Paris" in result.stdout
    assert "40 7 * * *" in result.stdout and "0 8,13,20 * * *" in result.stdout
    assert "run --only catalog --wait-for-lock 3600" in result.stdout
    assert "run --only stats --wait-for-lock 3600" in result.stdout  # 08:00 follows 07:40
    assert "OnCalendar=" in result.stdout


def test_schedule_times_are_configurable_and_checked() -> None:
    ok = subprocess.run([sys.executable, "cli.py", "schedule"], cwd=ROOT,
                        env=env(GO1SYNC_STATS_TIMES="09:15"), capture_output=True, text=True,
                        timeout=60)
    assert "15 9 * * *" in ok.stdout
    bad = subprocess.run([sys.executable, "cli.py", "schedule"], cwd=ROOT,
                         env=env(GO1SYNC_CATALOG_TIMES="7h40"), capture_output=True, text=True,
                         timeout=60)
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


def test_serve_refuses_to_start_without_its_settings(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "cli.py", "serve"], cwd=ROOT,
                            env=env(GO1SYNC_WAREHOUSE=str(tmp_path / "w.duckdb")),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "missing setting GO1_CLIENT_ID" in result.stderr
