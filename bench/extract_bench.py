"""Extraction benchmark: records/s landed, requests/s, peak memory.

Runs the Go1 sandbox in its own process (so the server does not share go1sync's GIL), then
extracts from it into a fresh warehouse in a child process per scenario, so each peak-memory
figure belongs to one extraction alone. Figures are printed, never asserted.

    python bench/extract_bench.py                      # 50k LOs, 500k enrollments
    python bench/extract_bench.py --enrollments 50000  # quicker
    python bench/extract_bench.py --only latency       # requests in flight against C/L
    python bench/extract_bench.py --only bulk-day      # a day of 50,000 updates, read whole

The latency scenario runs ``--repeat`` times (a fresh sandbox each time) and reports the
median: on a small machine one run can be a few percent off either way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402


def start_sandbox(learning_objects: int, users: int, enrollments: int,
                  latency_ms: int) -> tuple[subprocess.Popen[str], dict[str, str], float]:
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.go1", "--port", "0", "--seed", "7",
         "--learning-objects", str(learning_objects), "--users", str(users),
         "--enrollments", str(enrollments), "--latency-ms", str(latency_ms)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'\"")
            if len(env) == 5:
                break
    return proc, env, time.monotonic() - began


def extract_once(env: dict[str, str], streams: list[str], max_in_flight: int,
                 warehouse: Path | None = None) -> dict:
    """Run one extraction in a child process (its own peak memory) and return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        child_env = {**os.environ, **env,
                     "GO1SYNC_WAREHOUSE": str(warehouse or Path(tmp) / "bench.duckdb"),
                     "GO1SYNC_MAX_IN_FLIGHT": str(max_in_flight)}
        out = subprocess.run(
            [sys.executable, __file__, "--child", *streams],
            cwd=ROOT, env=child_env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"extraction failed:\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def child(streams: list[str]) -> None:
    from commands.extract import run_extract
    from go1sync.settings import load_config

    began = time.monotonic()
    report = run_extract(load_config(), streams)
    total = time.monotonic() - began
    figures = {
        "seconds": total,
        "peak_rss_mb": peak_rss_mb(),
        "streams": {
            o.stats.stream: {"seconds": o.seconds, "requests": o.stats.requests,
                             "read": o.stats.records_read, "landed": o.stats.records_landed,
                             "ok": o.ok, "error": o.error}
            for o in report.streams
        },
    }
    print(json.dumps(figures))


def in_process(enrollments: int, users: int, max_in_flight: int) -> dict:
    """The enrollment stream against the sandbox's handler in this process: no HTTP at all."""
    from bench.inprocess import SandboxTransport
    from extract.client import Go1Client
    from extract.runner import run_streams
    from go1sync.settings import load_config
    from sandbox.go1 import Go1Sandbox, Go1Seed
    from warehouse import open_warehouse
    from warehouse.runs import start_run

    go1 = Go1Sandbox(Go1Seed(seed=7, learning_objects=200, users=users, enrollments=enrollments))
    env = {"GO1_AUTH_URL": "http://127.0.0.1:9/oauth/token", "GO1_API_URL": "http://127.0.0.1:9",
           "GO1_CLIENT_ID": go1.client_id, "GO1_CLIENT_SECRET": go1.client_secret,
           "GO1SYNC_MAX_IN_FLIGHT": str(max_in_flight)}
    settings = load_config(env=env).go1()
    with tempfile.TemporaryDirectory() as tmp:
        con = open_warehouse(Path(tmp) / "inproc.duckdb")
        with Go1Client(settings, transport=SandboxTransport(go1)) as client:
            outcome = run_streams(con, client, settings, start_run(con, "bench", {}),
                                  ["enrollments"])[0]
        con.close()
    s = outcome.stats
    return {"peak_rss_mb": float("nan"), "streams": {"enrollments": {
        "seconds": outcome.seconds, "requests": s.requests, "read": s.records_read,
        "landed": s.records_landed, "ok": outcome.ok, "error": outcome.error}}}


def landing_only(records: int) -> float:
    """Records/s of landing alone: pre-built pages into DuckDB, no HTTP."""
    from datetime import UTC, datetime

    from extract.landing import ENROLLMENTS, land_bodies, settle
    from warehouse import open_warehouse

    hit = {"id": "0", "lo_id": "1", "user_account_id": "2", "status": "completed", "pass": True,
           "created_time": "2025-01-01T00:00:00Z", "updated_time": "2025-02-01T10:00:00+0000"}
    pages = [json.dumps({"total": records, "hits": [{**hit, "id": str(i + j)} for j in range(50)]})
             for i in range(0, records, 50)]
    with tempfile.TemporaryDirectory() as tmp:
        con = open_warehouse(Path(tmp) / "land.duckdb")
        began = time.monotonic()
        con.execute("BEGIN")
        for i in range(0, len(pages), 100):
            land_bodies(con, ENROLLMENTS, 1, datetime.now(UTC), pages[i:i + 100])
        settle(con, ENROLLMENTS, 1)
        con.execute("COMMIT")
        return records / (time.monotonic() - began)


def report_line(name: str, figures: dict, stream: str) -> str:
    s = figures["streams"][stream]
    rate = s["read"] / s["seconds"] if s["seconds"] else 0
    rps = s["requests"] / s["seconds"] if s["seconds"] else 0
    return (f"{name:<34} {s['read']:>9,} records in {s['seconds']:6.1f}s = {rate:>9,.0f} rec/s, "
            f"{s['requests']:>6,} requests = {rps:7.1f} req/s, peak RSS "
            f"{figures['peak_rss_mb']:6.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learning-objects", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--enrollments", type=int, default=500_000)
    parser.add_argument("--latencies", type=int, nargs="+", default=[20, 50, 100],
                        help="sandbox latencies (ms) for the requests-in-flight scenario")
    parser.add_argument("--max-in-flight", type=int, default=4)
    parser.add_argument("--latency-enrollments", type=int, default=50_000,
                        help="enrollments in the latency scenario's sandbox (default 50,000)")
    parser.add_argument("--only", choices=SCENARIOS, action="append",
                        help="run only these scenarios (repeatable); default: all")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per latency, the median is reported (default 3)")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    chosen = args.only or list(SCENARIOS)

    if "landing" in chosen:
        print(f"landing alone: {landing_only(200_000):,.0f} records/s "
              "(200,000 enrollments, no HTTP)")

    if "inprocess" in chosen:
        figures = in_process(args.enrollments // 5, args.users, args.max_in_flight)
        print(report_line("enrollments, in process, no HTTP", figures, "enrollments")
              .split(", peak")[0])

    if "volume" in chosen:
        volume(args.learning_objects, args.users, args.enrollments, args.max_in_flight)

    if "latency" in chosen:
        for latency in args.latencies:
            in_flight(latency, args.max_in_flight, max(1, args.repeat),
                      args.latency_enrollments)

    if "bulk-day" in chosen:
        bulk_day(50_000)


SCENARIOS = ("landing", "inprocess", "volume", "latency", "bulk-day")


def volume(learning_objects: int, users: int, enrollments: int, max_in_flight: int) -> None:
    """Every stream with no latency, at a fifth of the enrollments and at all of them."""
    small = max(enrollments // 5, 1)
    for count in (small, enrollments):
        proc, env, ready = start_sandbox(learning_objects, users, count, 0)
        try:
            print(f"sandbox with {learning_objects:,} LOs, {users:,} users, "
                  f"{count:,} enrollments ready in {ready:.1f}s")
            with tempfile.TemporaryDirectory() as tmp:
                warehouse = Path(tmp) / "bench.duckdb"  # one warehouse, a process per stream
                for stream, label in (("learning_objects", "catalog"),
                                      ("enrollments", f"enrollments ({count:,})"),
                                      ("user_accounts", "user accounts")):
                    figures = extract_once(env, [stream], max_in_flight, warehouse)
                    print(report_line(f"  {label}, no latency", figures, stream))
        finally:
            proc.terminate()
            proc.wait()


def in_flight(latency: int, max_in_flight: int, repeat: int, enrollments: int) -> None:
    """The enrollment stream's requests/s against C/L, start to end of the stream.

    The stream's fixed costs (the token, the first window's probe before paging can start,
    the final settle and commit: about 0.1 s) are in the figure; over a short stream they weigh
    more, so the default size (50,000 enrollments, 1,000-odd requests) is a stream long enough
    to be about requests in flight.
    """
    runs: list[tuple[float, float, dict]] = []  # (requests/s, one request alone in ms, figures)
    for _ in range(repeat):
        proc, env, _ = start_sandbox(100, 2_000, enrollments, latency)
        try:
            one = single_request_ms(env)
            figures = extract_once(env, ["enrollments"], max_in_flight)
        finally:
            proc.terminate()
            proc.wait()
        s = figures["streams"]["enrollments"]
        runs.append((s["requests"] / s["seconds"], one, figures))
    runs.sort(key=lambda run: run[0])
    rps, _, figures = runs[len(runs) // 2]
    one = statistics.median(run[1] for run in runs)
    ideal = max_in_flight * 1000 / latency
    ceiling = max_in_flight * 1000 / one
    print(report_line(f"  enrollments, {latency} ms latency", figures, "enrollments"))
    spread = ", ".join(f"{100 * run[0] / ideal:.0f}%" for run in runs)
    print(f"    C/L = {max_in_flight}/{latency} ms = {ideal:.0f} req/s; reached {rps:.0f} "
          f"req/s = {100 * rps / ideal:.0f}% (target >= 80%; median of {spread}); one "
          f"request alone takes {one:.1f} ms here, so C requests can do at most "
          f"{ceiling:.0f} req/s")


def single_request_ms(env: dict[str, str]) -> float:
    """Median time of one enrollment page, one at a time: the latency plus both sides' work."""
    from extract.client import Go1Client
    from extract.endpoints import ENROLLMENTS_PATH
    from go1sync.settings import load_config

    settings = load_config(env=env).go1()
    path = settings.enrollments_path or ENROLLMENTS_PATH
    params = [("update_time_gte", "2025-01-01T00:00:00Z"),
              ("update_time_lte", "2026-01-01T00:00:00Z"), ("sort", "updated_time"),
              ("order", "asc"), ("limit", "50"), ("offset", "0")]
    with Go1Client(settings) as client:
        client.get(path, params)
        times = [client.get(path, params).elapsed for _ in range(15)]
    return sorted(times)[len(times) // 2] * 1000



def bulk_day(enrollments: int) -> None:
    """Issue 15, point 4: every enrollment updated on one day (a bulk assignment), five times
    what offset paging reaches in one window, read by the enrollment stream: how many pages it
    asked against the floor, and whether any page was asked twice. The sandbox runs in this
    process (its requests are the figure here, not its speed)."""
    from collections import Counter
    from datetime import UTC, datetime

    from commands.extract import run_extract
    from extract.streams.windows import MAX_REACHABLE, PAGE_SIZE
    from go1sync.settings import load_config
    from sandbox.go1 import Go1Sandbox, Go1Seed

    seed = Go1Seed(seed=5, learning_objects=300, users=2_000, enrollments=enrollments)
    with Go1Sandbox(seed).serve() as go1, tempfile.TemporaryDirectory() as tmp:
        go1.bulk_update_day(datetime(2026, 11, 5, tzinfo=UTC))
        served = len(go1.enrollments)
        config = load_config(env={**go1.env(), "GO1SYNC_WAREHOUSE": f"{tmp}/bench.duckdb"})
        began = time.monotonic()
        report = run_extract(config, ["enrollments"])
        seconds = time.monotonic() - began
        pages = [(r.query.get("update_time_gte", [""])[0], r.query.get("update_time_lte",
                                                                        [""])[0],
                  r.query.get("offset", [""])[0])
                 for r in go1.requests if r.path == go1.enrollments_path]
        import duckdb

        con = duckdb.connect(f"{tmp}/bench.duckdb", read_only=True)
        row = con.execute("SELECT count(DISTINCT enrollment_id) FROM raw.go1_enrollments"
                          ).fetchone()
        con.close()
    twice = sum(1 for n in Counter(pages).values() if n > 1)
    floor = -(-served // PAGE_SIZE)
    print(f"a day of {served:,} updates (offset paging reaches {MAX_REACHABLE:,} a window): "
          f"{'ok' if report.ok else 'FAILED'}, {row[0] if row else 0:,} landed of {served:,}, "
          f"{len(pages):,} pages asked against a floor of {floor:,} "
          f"({len(pages) - floor:,} for the cuts' probes), {twice} page(s) asked twice, "
          f"{seconds:.1f} s (sandbox in process)")


if __name__ == "__main__":
    main()
