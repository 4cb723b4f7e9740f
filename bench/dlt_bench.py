"""go1sync's ``extract`` against dlt's ``rest_api`` source, side by side on one Go1 sandbox.

Serves the Go1 sandbox in its own process (``bench/served.py``: 9,000 enrollments, 3,000
learning objects, 20 ms latency, its learners as ``users_for`` gives them), then, each as a
child process timed from spawn to exit (process start included), in turn:

- ``python cli.py extract`` into a fresh warehouse;
- a dlt pipeline (written to a temp file, run by dlt's own venv) into a fresh DuckDB file:
  the ``rest_api`` source reading what go1sync reads, with the same calls and go1sync's
  ``Api-Version`` header: My Library's learning objects scrolled once per lifecycle state with
  go1sync's parameters (``listing_params``), the enrollments of go1sync's first-run window with
  offset paging (50 a page, ``total``), then each learner's account by id
  (``/user-accounts/{id}``, one request per distinct learner of the landed enrollments, a 404
  ignored), with a token from the sandbox's OAuth endpoint (``oauth2_client_credentials``).
  dlt's defaults otherwise: one request at a time, ``append``, no parallelized resources.

and prints the ratio go1sync wall / dlt wall (target: at most 0.1; median of ``--repeat``
alternating rounds), both sides' requests as the sandbox counted them, the records each landed,
and go1sync's start time (``python cli.py --version``, median of 5).

dlt is installed on first use, with pip, into its own venv outside the repository
(``~/.cache/go1sync-bench/dlt-venv``, or ``$GO1SYNC_BENCH_CACHE/dlt-venv``).

    python bench/dlt_bench.py
    python bench/dlt_bench.py --repeat 5 --latency-ms 50
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scale_bench import Served, total  # noqa: E402

CACHE = Path(os.environ.get("GO1SYNC_BENCH_CACHE",
                            Path.home() / ".cache" / "go1sync-bench")).expanduser()
DLT_VENV = CACHE / "dlt-venv"
DLT_REQUIREMENT = "dlt[duckdb]"
TARGET_RATIO = 0.1

PIPELINE = '''
"""dlt's rest_api source over the Go1 sandbox: the calls go1sync's extract makes."""
import json
import sys

import dlt
from dlt.sources.rest_api import rest_api_resources

cfg = json.loads(open(sys.argv[2]).read())
destination = dlt.destinations.duckdb(cfg["duckdb"])

if sys.argv[1] == "count":
    import duckdb

    con = duckdb.connect(cfg["duckdb"], read_only=True)
    ids = {"learning_objects": "lo_id", "enrollments": "id", "user_accounts": "id"}
    counts = {}
    for table, key in ids.items():
        try:
            counts[table] = con.execute(
                f"SELECT count(*), count(DISTINCT {key}) FROM go1.{table}").fetchone()
        except duckdb.Error:
            counts[table] = (0, 0)
    print(json.dumps(counts))
    sys.exit(0)

client = {
    "base_url": cfg["api_url"],
    "headers": {"Api-Version": cfg["api_version"]},
    "auth": {"type": "oauth2_client_credentials", "access_token_url": cfg["auth_url"],
             "client_id": cfg["client_id"], "client_secret": cfg["client_secret"]},
}
scroll = {"type": "cursor", "cursor_path": "next_scroll_id", "cursor_param": "scroll_id",
          "stop_after_empty_page": True}
catalog = [
    {"name": f"learning_objects_{state}", "table_name": "learning_objects",
     "primary_key": "lo_id",
     "endpoint": {"path": "/learning-objects", "params": params, "data_selector": "hits",
                  "paginator": scroll}}
    for state, params in cfg["listing_params"].items()
]
enrollments = {
    "name": "enrollments", "primary_key": "id",
    "endpoint": {"path": cfg["enrollments_path"], "params": cfg["enrollment_params"],
                 "data_selector": "hits",
                 "paginator": {"type": "offset", "limit": cfg["page_size"],
                               "offset_param": "offset", "limit_param": "limit",
                               "total_path": "total"}},
}
pipeline = dlt.pipeline("go1_dlt_bench", destination=destination, dataset_name="go1",
                        pipelines_dir=cfg["pipelines_dir"], progress=None)
pipeline.run(rest_api_resources({"client": client, "resources": [*catalog, enrollments]}))

# go1sync reads each learner once, after the enrollments landed: so here
with pipeline.sql_client() as sql:
    learners = [row[0] for row in sql.execute_sql(
        "SELECT DISTINCT user_account_id FROM enrollments WHERE user_account_id IS NOT NULL "
        "ORDER BY 1")]


@dlt.resource(name="learners", selected=False)
def learner_ids():
    yield [{"id": str(learner)} for learner in learners]


accounts = {
    "name": "user_accounts", "primary_key": "id",
    "endpoint": {"path": "/user-accounts/{id}", "data_selector": "$",
                 "params": {"id": {"type": "resolve", "resource": "learners", "field": "id"}},
                 "paginator": "single_page",
                 "response_actions": [{"status_code": 404, "action": "ignore"}]},
}
pipeline.run(rest_api_resources({"client": client, "resources": [learner_ids, accounts]}))
'''


def dlt_python() -> Path:
    """dlt's venv's interpreter, creating the venv and installing dlt on first use."""
    python = DLT_VENV / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import dlt, duckdb"],
                                          capture_output=True, check=False).returncode == 0:
        return python
    print(f"installing {DLT_REQUIREMENT} into {DLT_VENV} (first use) ...", file=sys.stderr)
    DLT_VENV.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(DLT_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", DLT_REQUIREMENT],
                   check=True)
    return python


def dlt_version(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "import dlt, duckdb; "
                          "print(dlt.__version__, duckdb.__version__)"],
                         capture_output=True, text=True, check=True)
    dlt_v, duck_v = out.stdout.split()
    return f"dlt {dlt_v}, duckdb {duck_v}"


def pipeline_config(env: dict[str, str], folder: Path) -> dict[str, Any]:
    """What the dlt pipeline asks for: go1sync's own parameters, from go1sync's code."""
    from extract.client import API_VERSION
    from extract.endpoints import ENROLLMENTS_PATH
    from extract.streams.enrollments import EARLIEST, _params
    from extract.streams.learning_objects import STATES, listing_params
    from extract.streams.windows import PAGE_SIZE, Window
    from extract.timestamps import floor_second

    def grouped(pairs: list[tuple[str, str]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            if key.endswith("[]"):
                found.setdefault(key, []).append(value)
            else:
                found[key] = value
        return found

    window = Window(EARLIEST, floor_second(datetime.now(UTC)))
    enrollment = {k: v for k, v in _params(window, 0) if k not in ("limit", "offset")}
    return {
        "api_url": env["GO1_API_URL"], "auth_url": env["GO1_AUTH_URL"],
        "client_id": env["GO1_CLIENT_ID"], "client_secret": env["GO1_CLIENT_SECRET"],
        "api_version": API_VERSION,
        "listing_params": {state: grouped(listing_params(state)) for state in STATES},
        "enrollments_path": ENROLLMENTS_PATH, "enrollment_params": enrollment,
        "page_size": PAGE_SIZE, "duckdb": str(folder / "dlt.duckdb"),
        "pipelines_dir": str(folder / "pipelines"),
    }


def timed(command: list[str], env: dict[str, str], log: Path) -> float:
    began = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(command, cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT, check=False).returncode
    seconds = time.monotonic() - began
    if code != 0:
        raise SystemExit(f"{' '.join(command[:3])} exited {code}:\n{log.read_text()[-3000:]}")
    return seconds


def go1sync_records(warehouse: Path) -> tuple[dict[str, tuple[int, int]], dict[str, float]]:
    """The records go1sync landed (rows, distinct ids), and the seconds of its run record and
    of each stream (``meta.runs``, ``meta.stream_runs``)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        records = {table: tuple(con.execute(  # type: ignore[misc]
            f"SELECT count(*), count(DISTINCT {key}) FROM raw.go1_{table}").fetchone() or (0, 0))
            for table, key in (("learning_objects", "lo_id"), ("enrollments", "enrollment_id"),
                               ("user_accounts", "user_account_id"))}
        seconds = dict(con.execute(
            "SELECT stream, epoch(finished_at) - epoch(started_at) FROM meta.stream_runs "
            "UNION ALL SELECT 'run record', epoch(finished_at) - epoch(started_at) "
            "FROM meta.runs").fetchall())
        return records, seconds
    finally:
        con.close()


def version_start_s() -> float:
    times = []
    for _ in range(5):
        began = time.monotonic()
        subprocess.run([sys.executable, "cli.py", "--version"], cwd=ROOT, capture_output=True,
                       check=True)
        times.append(time.monotonic() - began)
    return statistics.median(times)


def by_route(counts: dict[str, dict[str, int]]) -> str:
    return ", ".join(f"{route} {sum(by.values()):,}" for route, by in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enrollments", type=int, default=9_000)
    parser.add_argument("--learning-objects", type=int, default=3_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds (go1sync, then dlt), the median ratio is reported")
    args = parser.parse_args()

    python = dlt_python()
    versions = dlt_version(python)
    start_s = version_start_s()
    rounds: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="dlt-bench-") as tmp:
        folder = Path(tmp)
        script = folder / "dlt_pipeline.py"
        script.write_text(PIPELINE)
        go1 = Served(["go1", "--port", "0", "--seed", "7", "--learning-objects",
                      str(args.learning_objects), "--enrollments", str(args.enrollments),
                      "--latency-ms", str(args.latency_ms)], 5)
        try:
            base = {k: v for k, v in os.environ.items() if not k.startswith(("GO1_", "L360_"))}
            go1.counts()
            for i in range(max(1, args.repeat)):
                warehouse = folder / f"go1sync-{i}.duckdb"
                env = {**base, **go1.env, "GO1SYNC_WAREHOUSE": str(warehouse)}
                ours = timed([sys.executable, "cli.py", "extract"], env,
                             folder / f"go1sync-{i}.log")
                ours_calls = go1.counts()
                run = folder / f"dlt-{i}"
                run.mkdir()
                config = run / "config.json"
                config.write_text(json.dumps(pipeline_config(go1.env, run)))
                dlt_env = {**base, "RUNTIME__DLTHUB_TELEMETRY": "false",
                           "DLT_DATA_DIR": str(run / "data")}
                theirs = timed([str(python), str(script), "run", str(config)], dlt_env,
                               folder / f"dlt-{i}.log")
                dlt_calls = go1.counts()
                rounds.append((ours, theirs))
                print(f"round {i + 1}: go1sync extract {ours:.2f} s, dlt rest_api {theirs:.2f} s, "
                      f"ratio {ours / theirs:.3f}", flush=True)
            ours_records, ours_seconds = go1sync_records(warehouse)
            out = subprocess.run([str(python), str(script), "count", str(config)],
                                 capture_output=True, text=True, check=True)
            dlt_records = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            go1.stop()

    ours_s = statistics.median(r[0] for r in rounds)
    theirs_s = statistics.median(r[1] for r in rounds)
    ratios = sorted(r[0] / r[1] for r in rounds)
    ratio = statistics.median(ratios)
    print("\n## go1sync `extract` against dlt's `rest_api` (`python bench/dlt_bench.py`)\n")
    print(f"Go1 sandbox: {args.enrollments:,} enrollments, {args.learning_objects:,} learning "
          f"objects, {args.latency_ms:g} ms latency; {versions}; each side a child process "
          f"timed from spawn to exit, median of {len(rounds)} alternating round(s).\n")
    print("| what | go1sync `extract` | dlt `rest_api` |")
    print("| --- | --- | --- |")
    print(f"| wall (process start included) | {ours_s:.2f} s | {theirs_s:.2f} s |")
    print(f"| requests (the sandbox's count, last round) | {total(ours_calls, lambda r: True):,} "
          f"| {total(dlt_calls, lambda r: True):,} |")
    for table in ("learning_objects", "enrollments", "user_accounts"):
        o, d = ours_records[table], dlt_records[table]
        print(f"| {table} landed (rows, distinct ids) | {o[0]:,}, {o[1]:,} | {d[0]:,}, {d[1]:,} |")
    print(f"\nrequests by route, go1sync: {by_route(ours_calls)}")
    print(f"requests by route, dlt:     {by_route(dlt_calls)}")
    in_flight = int(os.environ.get("GO1SYNC_MAX_IN_FLIGHT", "4"))
    ours_n = total(ours_calls, lambda r: True)
    floor = ours_n / in_flight * args.latency_ms / 1000
    print("go1sync, last round: " + ", ".join(f"{name} {sec:.2f} s"
                                             for name, sec in ours_seconds.items())
          + f" (the catalog beside the enrollments, the accounts after them); wire floor "
          f"{ours_n:,} requests / "
          f"{in_flight} in flight x {args.latency_ms:g} ms = {floor:.2f} s; "
          f"{TARGET_RATIO} x dlt = {TARGET_RATIO * theirs_s:.2f} s")
    print(f"\nratio go1sync / dlt: {ratio:.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)}); "
          f"target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    print(f"go1sync start: `python cli.py --version` {start_s * 1000:.0f} ms (median of 5)")


if __name__ == "__main__":
    main()
